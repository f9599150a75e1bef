"""A neutral edit leaves the brows no more oblique and the mouth's corners no lower than at rest
(:func:`faceedit.stage.moves.at_rest`: :func:`~faceedit.stage.moves.brows_at_rest`,
:func:`~faceedit.stage.moves.mouth_at_rest`)."""

import numpy as np
import pytest

from faceedit.stage.moves import BROW_EYES, brow_slope, brows_at_rest, face_frame, mouth_at_rest
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
    monkeypatch.setattr(steps, "at_rest", lambda lm, goal, amount, tuning=None, mouth=True:
                        asked.append(amount) or mouths.append(mouth) or goal)
    for target, strength in (("neutral", 0.6), ("happy", 1.0), ("surprised", 1.0)):
        face = records.FaceEdit(stage.request(EditRequest.of(target, strength)), np.asarray(found.landmarks),
                                records.mesh_points(found.dense))
        steps.plan_move(stage, face)
    assert asked == [pytest.approx(0.6), 0.0, 0.0]
    assert mouths == [True, True, True]  # a frontal face's mouth is brought to rest (a turned one's is not)


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
