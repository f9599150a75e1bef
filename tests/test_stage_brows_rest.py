"""A neutral edit leaves the brows no more oblique and the mouth's corners no lower than at rest
(:func:`faceedit.stage.rest.at_rest`: :func:`~faceedit.stage.moves.brows_at_rest`,
:func:`~faceedit.stage.moves.mouth_at_rest`); brows set low rise from where they are
(:func:`faceedit.stage.rest.low_brows_kept`)."""

import numpy as np
import pytest

from faceedit.stage.moves import BROW_EYES, brow_slope, brows_at_rest, face_frame, mouth_at_rest
from faceedit.stage.rest import at_rest, brows_unknit, frown_shown, inner_brows, low_brows_kept
from faceedit.stage.tuning_face import BrowsTuning, RestTuning


@pytest.fixture(scope="module")
def face():
    """The stage's mean face, 200 px between the eyes, tilted 10 degrees."""
    from faceedit.models.loading import load_model

    lm = load_model("stage").model._a("mean_shape").reshape(68, 2).astype(np.float64)
    lm = (lm - lm.mean(0)) * 200.0 / face_frame(lm)[2]
    t = np.deg2rad(10.0)
    return lm @ np.array([[np.cos(t), np.sin(t)], [-np.sin(t), np.cos(t)]]) + 400.0


def test_a_brow_left_steeper_than_at_rest_has_its_inner_end_lowered_to_it(face):
    rest = BrowsTuning().rest_slope
    _, n, eye = face_frame(face)
    own = brow_slope(face)
    goal = face.copy()
    for brow, _ in BROW_EYES:  # the inner ends raised past the rest and the photo's slope
        goal[list(brow)] -= (max(rest, max(own)) + 0.05 - np.array(own).min()) * eye * np.linspace(0, 1, 5)[:, None] * n
    assert min(brow_slope(goal)) > max(rest, max(own)) + 0.04
    out = brows_at_rest(face, goal, 1.0)
    assert brow_slope(out) == pytest.approx((max(rest, own[0]), max(rest, own[1])), abs=1e-9)
    outer = [b[0] for b, _ in BROW_EYES]
    assert np.array_equal(out[outer], goal[outer])  # the outer ends kept
    assert np.array_equal(np.delete(out, np.r_[17:27], 0), np.delete(goal, np.r_[17:27], 0))  # no other point moves
    moved = (out - goal) @ n
    assert all(np.all(np.diff(moved[list(b)]) > 0) for b, _ in BROW_EYES)  # down, most at the inner end
    half = brows_at_rest(face, goal, 0.5)
    assert np.allclose(half - goal, 0.5 * (out - goal))


def test_a_brow_at_rest_or_flatter_is_left_as_it_is(face):
    _, n, eye = face_frame(face)
    goal = face.copy()
    for brow, _ in BROW_EYES:  # a frown: the inner ends lowered
        goal[list(brow)] += 0.05 * eye * np.linspace(0, 1, 5)[:, None] * n
    assert np.array_equal(brows_at_rest(face, goal, 1.0), goal)
    assert np.array_equal(brows_at_rest(face, face, 1.0), face)
    steep = face.copy()
    steep[21] -= 0.2 * eye * n
    assert np.array_equal(brows_at_rest(face, steep, 0.0), steep)  # strength 0: nothing
    assert np.array_equal(brows_at_rest(steep, steep, 1.0), steep)  # no steeper than the photo's own


def test_only_a_neutral_edit_without_a_reference_brings_the_brows_to_rest(astronaut, monkeypatch):
    from faceedit.faces.detectors import get_detector
    from faceedit.models.loading import load_model
    from faceedit.models.request import EditRequest
    from faceedit.stage import records, steps

    stage = load_model("stage").model
    found = max(get_detector("mediapipe").detect(astronaut), key=lambda f: f.area)
    asked = []
    mouths = []
    monkeypatch.setattr(steps, "at_rest", lambda lm, goal, amount, tuning=None, mouth=True, target="neutral",
                        furrowed=0.0: asked.append((amount, target)) or mouths.append(mouth) or goal)
    for target, strength in (("neutral", 0.6), ("happy", 1.0), ("surprised", 1.0)):
        face = records.FaceEdit(stage.request(EditRequest.of(target, strength)), np.asarray(found.landmarks),
                                records.mesh_points(found.dense))
        steps.plan_move(stage, face)
    assert asked == [(pytest.approx(0.6), "neutral"), (1.0, "happy"), (1.0, "surprised")]
    assert mouths == [True, True, True]  # a frontal face's mouth is brought to rest (a turned one's is not)
    # only a neutral edit brings a steep brow and a low mouth corner to rest
    tuning = stage.tuning
    lm = np.asarray(found.landmarks, np.float64)
    _, n, eye = face_frame(lm)
    steep = lm.copy()
    steep[21] -= 0.2 * eye * n
    steep[48] += 0.2 * eye * n
    assert np.array_equal(at_rest(lm, steep, 1.0, tuning, target="happy"), steep)
    assert not np.array_equal(at_rest(lm, steep, 1.0, tuning, target="neutral"), steep)


def knitted(face: np.ndarray, down: float, together: float) -> np.ndarray:
    """``face`` with each brow's inner end lowered ``down`` and drawn in ``together`` eye distances,
    the points between in proportion to their place along the brow."""
    u, n, eye = face_frame(face)
    out = face.copy()
    for (brow, _), side in zip(BROW_EYES, (-1.0, 1.0)):
        out[list(brow)] += np.linspace(0, 1, 5)[:, None] * eye * (down * n - side * together * u)
    return out


def _released(lm: np.ndarray, goal: np.ndarray, tn: BrowsTuning) -> float:
    """How much (0..1) of the frown the brows at ``lm`` show the move to ``goal`` releases: each
    frowning brow's inner end's rise over its way up to a resting brow's, the brows' mean."""
    frame = face_frame(lm)
    own, now = inner_brows(lm, frame)[0], inner_brows(goal, frame)[0]
    return float(np.mean(frown_shown(lm, tn) * np.clip((now - own) / np.maximum(tn.rest_inner - own, 1e-6), 0, 1)))


def test_a_furrowed_frown_is_released_toward_a_resting_brow_by_a_target_without_one(face):
    tn = BrowsTuning()
    heights, gap = inner_brows(face, face_frame(face))
    frown = knitted(face, float(heights.max()) - tn.knit_from + tn.knit_full + 0.01, 0.03)
    assert np.all(frown_shown(frown, tn) == 1.0)
    out = at_rest(frown, frown, 1.0, target="happy", furrowed=1.0)
    up, apart = inner_brows(out, face_frame(frown))
    assert np.allclose(up, tn.rest_inner) and apart == pytest.approx(max(tn.rest_gap, inner_brows(frown, face_frame(frown))[1]))
    assert 0.99 < _released(frown, out, tn) <= 1.0
    outer = [b[0] for b, _ in BROW_EYES]
    assert np.array_equal(out[outer], frown[outer])  # the outer ends stay
    half = at_rest(frown, frown, 1.0, target="happy", furrowed=0.5)
    assert 0.4 < _released(frown, half, tn) < 0.6
    # no furrow, a target with a frown of its own, or brows at rest: nothing
    assert np.array_equal(at_rest(frown, frown, 1.0, target="happy", furrowed=0.0), frown)
    assert np.array_equal(at_rest(frown, frown, 1.0, target="angry", furrowed=1.0), frown)
    assert np.array_equal(brows_unknit(face, face, 1.0, tn), face) and _released(face, face, tn) == 0.0


def corner_drops(lm: np.ndarray) -> tuple[float, float]:
    """How far each mouth corner (48, 54) stands below where the lips meet at the middle, eye distances."""
    _, n, eye = face_frame(lm)
    mid = (lm[62] + lm[66]) / 2
    return float((lm[48] - mid) @ n) / eye, float((lm[54] - mid) @ n) / eye


def test_mouth_corners_left_lower_than_at_rest_are_raised_to_it(face):
    rest = RestTuning().corner_drop
    u, n, eye = face_frame(face)
    goal = face.copy()
    mid = (goal[62] + goal[66]) / 2
    reach = np.abs((goal[48:68] - mid) @ u) / abs(float((goal[54] - goal[48]) @ u) / 2)
    goal[48:68] += (0.06 * eye * np.clip(reach, 0, 1) ** 2)[:, None] * n  # an arched line: the corners down
    assert min(corner_drops(goal)) > rest + 0.03
    out = mouth_at_rest(face, goal, 1.0)
    assert corner_drops(out) == pytest.approx((rest, rest), abs=1e-3)  # (the middle points beside 62 and 66 move a hair)
    assert np.array_equal(np.delete(out, np.r_[48:68], 0), np.delete(goal, np.r_[48:68], 0))  # only the mouth
    assert np.allclose(out[[51, 57, 62, 66]], goal[[51, 57, 62, 66]])  # the middle stays
    lifted = (goal - out)[48:68] @ n
    assert np.all(lifted >= -1e-9) and lifted[[0, 6, 12, 16]].min() > np.delete(lifted, [0, 6, 12, 16]).max()  # most at the corners
    half = mouth_at_rest(face, goal, 0.5)
    assert np.allclose(half - goal, 0.5 * (out - goal))


def test_a_mouth_at_rest_or_with_raised_corners_is_left_as_it_is(face):
    rest = RestTuning().corner_drop
    _, n, eye = face_frame(face)
    goal = face.copy()
    mid = (goal[62] + goal[66]) / 2
    for corner in (48, 54):  # the corners at the rest or above it
        goal[corner] -= (float((goal[corner] - mid) @ n) / eye - rest + 0.01) * eye * n
    assert max(corner_drops(goal)) < rest
    assert np.array_equal(mouth_at_rest(face, goal, 1.0), goal)
    assert np.array_equal(mouth_at_rest(face, goal + 0.06 * eye * n * (np.arange(68) == 48)[:, None], 0.0),
                          goal + 0.06 * eye * n * (np.arange(68) == 48)[:, None])  # strength 0: nothing


def test_the_furrow_between_the_brows_is_read_off_the_lines_across_the_face(face):
    import cv2

    from faceedit.stage.relief import furrow_shown

    u, n, eye = face_frame(face)
    yy, xx = np.mgrid[0:800, 0:800].astype(np.float64)
    down = (np.stack([xx, yy], -1) - face[27]) @ n  # skin shaded smoothly down the face
    plain = np.repeat(np.clip(150 + 0.08 * down, 0, 255)[..., None], 3, -1).astype(np.uint8)
    assert furrow_shown(plain, face) == 0.0
    furrowed = plain.copy()
    mid = (face[21] + face[22]) / 2
    for k in (-0.06, 0.06):  # two vertical lines of a knit, from under the brows' heads up the glabella
        a, b = mid + k * eye * u + 0.03 * eye * n, mid + k * eye * u - 0.3 * eye * n
        cv2.line(furrowed, tuple(int(v) for v in a), tuple(int(v) for v in b), (90, 90, 90), 4, cv2.LINE_AA)
    assert furrow_shown(furrowed, face) == 1.0
    across = plain.copy()  # lines down the face's width (a raised forehead's) are no furrow
    for k in (-0.1, -0.2):
        a, b = mid - 0.12 * eye * u + k * eye * n, mid + 0.12 * eye * u + k * eye * n
        cv2.line(across, tuple(int(v) for v in a), tuple(int(v) for v in b), (90, 90, 90), 4, cv2.LINE_AA)
    assert furrow_shown(across, face) == 0.0


def _brows_up(lm: np.ndarray, by: float) -> np.ndarray:
    """``lm`` with its brows raised ``by`` eye distances."""
    _, n, eye = face_frame(lm)
    out = lm.copy()
    out[17:27] -= by * eye * n
    return out


def test_brows_the_state_reads_lowered_rise_only_by_a_raising_targets_own_move(face):
    _, n, eye = face_frame(face)
    rest, aim = _brows_up(face, 0.05), _brows_up(face, 0.13)  # (a frown read, then the target's rise)
    goal = aim.copy()
    out = low_brows_kept(face, goal, rest, aim, 1.0)
    rise = -((out - face)[17:27] @ n) / eye
    assert np.allclose(rise, 0.08)  # the target's own rise from the photo's brows
    assert np.array_equal(np.delete(out, np.r_[17:27], 0), np.delete(goal, np.r_[17:27], 0))
    half = low_brows_kept(face, goal, rest, aim, 0.5)
    assert np.allclose(-((half - face)[17:27] @ n) / eye, 0.105)
    # a target that does not raise the brows (an edit to neutral releases what the state reads),
    # brows the state reads raised, or none of it: the goal as it is
    assert np.array_equal(low_brows_kept(face, rest, rest, rest, 1.0), rest)
    assert np.array_equal(low_brows_kept(face, goal, rest, _brows_up(face, 0.055), 1.0), goal)  # (a wink's 0.0004)
    assert np.array_equal(low_brows_kept(face, goal, _brows_up(face, -0.05), aim, 1.0), goal)
    assert np.array_equal(low_brows_kept(face, goal, rest, aim, 0.0), goal)


@pytest.mark.shared_data
def test_low_set_brows_made_surprised_rise_about_as_much_as_brows_set_higher(shared_data):
    """London's training faces whose brows the state reads lowered with no furrow between them (037, 068,
    101, 139: made neutral, their brows rose 0.04-0.05 eye distances) made surprised: their brows rise by
    under 0.11 eye distances (from the state's reading 0.13-0.14), as the faces with brows set higher
    (001's 0.07, 097's 0.08)."""
    from PIL import Image

    from faceedit.api import Editor
    from faceedit.models.request import EditRequest
    from faceedit.stage.records import StageFace
    from faceedit.stage.steps import planned

    ed = Editor.from_pretrained("stage", device="cpu")
    rises = {}
    for name in ("037", "068", "101", "139"):
        rgb = np.asarray(Image.open(shared_data / "london" / "neutral" / f"{name}.jpg").convert("RGB"))
        f = max(ed.detector.detect(rgb), key=lambda f: f.area)
        plan = planned(ed.stage, StageFace(f.landmarks, dense=f.dense), ed.stage.request(EditRequest.of("surprised")), rgb)
        assert plan is not None and plan.furrowed < 0.2
        _, n, eye = face_frame(plan.landmarks)
        rises[name] = float(-((plan.goal - plan.landmarks)[17:27] @ n).mean()) / eye
    assert all(0.07 < r < 0.11 for r in rises.values()), rises
