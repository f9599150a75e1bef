"""Folds and furrows (faceedit.stage.folds): laid out on the landmarks, drawn sharp on one side at
the photo's resolution, kept off the mouth, scaled by the AUs that make them, nothing for a
zero edit."""

from __future__ import annotations

import numpy as np
import pytest

from faceedit.faces.au import AU_IDS
from faceedit.models.request import EditRequest
from faceedit.stage import folds, relief, steps
from faceedit.stage.folds import (
    KINDS,
    PARAMS,
    FoldStats,
    fold_amounts,
    fold_curves,
    fold_ratio,
    paint_folds,
    shipped_stats,
)
from faceedit.stage.model import Stage
from faceedit.stage.tuning_folds import FoldsTuning


@pytest.fixture(scope="module")
def stage() -> Stage:
    return Stage.from_pretrained("stage")


@pytest.fixture(scope="module")
def face(stage) -> np.ndarray:
    """The stage's mean neutral face at 4x its 256-px frame (an eye distance near 250 px, as a
    1350-px portrait's)."""
    return stage._a("mean_shape").astype(np.float64) * 4.0


def _params(depth: float = 0.2) -> dict[str, dict[str, float]]:
    p = {"depth": depth, "soft": 0.03, "sharp_side": 1.0, "light": 0.0, "light_at": 0.04, "light_width": 0.02,
         "offset": 0.0}
    return {k: dict(p) for k in KINDS}


def test_curves_every_kind_mirrored(face):
    curves = fold_curves(face)
    assert {c.kind for c in curves} == set(KINDS)
    mid = float(face[27, 0])
    for c in curves:
        assert c.points.shape[1] == 2 and len(c.weight) == len(c.points)
        assert c.weight[0] < 0.2 and c.weight[-1] < 0.2  # tapered ends
    glab = [c for c in curves if c.kind == "glabella"]
    assert len(glab) == 2
    # the lines straddle the midline, each one's positive side lateral
    for c in glab:
        side = np.sign(c.points[:, 0].mean() - mid)
        tangent = c.points[len(c.points) // 2 + 1] - c.points[len(c.points) // 2 - 1]
        normal = np.array([-tangent[1], tangent[0]])
        assert np.sign(normal[0]) == side


def test_curves_move_with_landmarks(face):
    moved = face + np.array([30.0, -12.0])
    for a, b in zip(fold_curves(face), fold_curves(moved), strict=True):
        np.testing.assert_allclose(b.points, a.points + [30.0, -12.0], atol=1e-6)


def test_fold_is_sharp_on_one_side(face):
    shape = (1100, 1100, 3)
    roi, ratio = fold_ratio(shape, face, {"forehead": 1.0}, _params())
    x0, y0, _, _ = roi
    line = [c for c in fold_curves(face) if c.kind == "forehead"][0]
    k = len(line.points) // 2
    x, y = np.round(line.points[k]).astype(int)
    column = ratio[:, x - x0]
    i = y - y0 + int(np.argmin(column[y - y0 - 6:y - y0 + 7])) - 6
    assert column[i] < 0.9  # a groove
    # sharp side (positive: below the line) back to near 1 within 3 px, soft side not
    assert column[i + 3] > 1.0 - 0.25 * (1.0 - column[i])
    assert column[i - 3] < 1.0 - 0.5 * (1.0 - column[i])


def test_paint_keeps_colour_and_zero_is_exact(face):
    rng = np.random.default_rng(0)
    img = (rng.uniform(80, 200, (1100, 1100, 3))).astype(np.uint8)
    img[..., 0] = np.minimum(img[..., 0].astype(int) + 40, 255)  # a warm skin
    assert paint_folds(img, face, {k: 0.0 for k in KINDS}, _params()) is img
    out = paint_folds(img, face, {"glabella": 1.0}, _params())
    changed = np.any(out != img, axis=-1)
    assert changed.any()
    ys, xs = np.nonzero(changed)
    assert abs(float(xs.mean()) - float(face[27, 0])) < 0.1 * (face[45, 0] - face[36, 0])  # between the brows
    # darker in every channel, least in red (a crease's warm shade, not a grey stroke), each
    # channel by the one ratio to its power (FoldsTuning.shade_tint)
    a, b = img[changed].astype(float), out[changed].astype(float)
    dark = b.sum(1) < a.sum(1) - 15
    r = b[dark] / np.maximum(a[dark], 1)
    m = r.mean(0)
    assert np.all(r < 1.0) and m[0] > m[1] > m[2]
    # the one ratio each channel's power was taken of (in full where the skin is saturated)
    sat = (a[dark].max(1) - a[dark].min(1)) / a[dark].max(1) >= FoldsTuning().tint_chroma
    base = np.exp(np.log(r[sat]) / np.array(FoldsTuning().shade_tint))
    assert sat.mean() > 0.5 and np.all(np.ptp(base, axis=1) < 0.05)
    # a grey photo's lines stay grey
    grey = np.repeat(img[..., 1:2], 3, axis=2)
    out = paint_folds(grey, face, {"glabella": 1.0}, _params())
    assert np.any(out != grey) and np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2])


def test_keep_out_leaves_the_mouth(face):
    img = np.full((1100, 1100, 3), 150, np.uint8)
    amounts = {"nasolabial": 1.0}
    out = paint_folds(img, face, amounts, _params(0.3))
    ys, xs = np.nonzero(np.any(out != img, -1))
    roi = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    mask = np.ones((roi[3] - roi[1], roi[2] - roi[0]), np.float32)
    kept = paint_folds(img, face, amounts, _params(0.3), keep_out=(roi, mask))
    assert np.array_equal(kept, img)


def test_amounts_follow_the_aus():
    stats = FoldStats({k: dict.fromkeys(PARAMS, 0.1) for k in KINDS}, dict.fromkeys(KINDS, 2.0),
                      {"disgusted": {"nose": 0.8, "nasolabial": 0.8}})
    zero = np.zeros(len(AU_IDS))
    au4 = zero.copy()
    au4[AU_IDS.index(4)] = 2.0
    a = fold_amounts(stats, zero, au4, "angry", 1.0)
    assert a["glabella"] == pytest.approx(1.0) and a["nose"] == 0.0 and a["forehead"] == 0.0
    assert fold_amounts(stats, au4, au4, "angry", 1.0)["glabella"] == 0.0  # a frown already there
    d = fold_amounts(stats, zero, zero, "disgusted", 0.5)
    assert d["nose"] == pytest.approx(0.4) and d["nasolabial"] == pytest.approx(0.4)
    assert fold_amounts(stats, zero, zero, "happy", 1.0)["nose"] == 0.0
    # the forehead's lines by each AU's own rise: the outer brows lowered as the inner rise (the
    # stage's fear) leave the inner brows' lines
    fear = zero.copy()
    fear[AU_IDS.index(1)], fear[AU_IDS.index(2)] = 1.5, -1.2
    assert fold_amounts(stats, zero, fear, "fearful", 1.0)["forehead"] == pytest.approx(0.75)
    assert fold_amounts(stats, fear, zero, "neutral", 1.0)["forehead"] == pytest.approx(0.6)


def test_stats_round_trip(tmp_path):
    stats = FoldStats({k: {p: float(i + j) / 10 for j, p in enumerate(PARAMS)} for i, k in enumerate(KINDS)},
                      {k: 1.5 for k in KINDS}, {"angry": {"nose": 0.0, "nasolabial": 0.5}})
    stats.save(tmp_path / "f.safetensors", {"data": "test"})
    back = FoldStats.load(tmp_path / "f.safetensors")
    assert back.params["nose"] == pytest.approx(stats.params["nose"])
    assert back.levels["angry"]["nasolabial"] == pytest.approx(0.5)


def test_shipped_stats_draw_each_target_its_folds():
    stats = shipped_stats()
    assert stats is not None
    assert stats.levels["disgusted"]["nose"] > 0 and stats.levels["disgusted"]["nasolabial"] > 0
    assert stats.levels["fearful"]["nose"] == 0 and stats.levels["happy"]["nasolabial"] == 0
    assert all(0 < stats.params[k]["depth"] < 0.45 for k in KINDS)


def _astronaut_face(stage):
    from skimage.data import astronaut

    from faceedit.faces.detectors import get_detector

    img = astronaut()
    faces = get_detector("auto").detect(img)
    lm = np.asarray(max(faces, key=lambda f: f.area).landmarks, np.float64)
    return img, lm


@pytest.mark.parametrize("target, region", [("angry", "brows"), ("disgusted", "nose"), ("fearful", "forehead")])
def test_targets_draw_their_folds(stage, target, region):
    img, lm = _astronaut_face(stage)
    from faceedit.stage import folds

    calls = []
    real = folds.paint_folds

    def spy(pixels, moved, amounts, params, keep_out=None, **kw):
        calls.append(dict(amounts))
        return real(pixels, moved, amounts, params, keep_out, **kw)

    folds.paint_folds = spy
    try:
        stage.edit_photo(img, [lm], EditRequest.of(target, 1.0))
    finally:
        folds.paint_folds = real
    kind = {"brows": "glabella", "nose": "nose", "forehead": "forehead"}[region]
    assert calls and calls[0][kind] > 0.3


def test_zero_strength_is_bit_exact(stage):
    img, lm = _astronaut_face(stage)
    for t in ("angry", "disgusted", "fearful"):
        out, _ = stage.edit_photo(img, [lm], EditRequest.of(t, 0.0))
        assert np.array_equal(out, img)


def test_target_moves(face):
    from faceedit.stage.moves import target_moves

    assert target_moves(face, face, "fearful", 0.0) is face
    assert target_moves(face, face, "sad", 1.0) is face
    fear = target_moves(face, face, "fearful", 1.0)
    # lips stretched sideways and not lifted: the corners out and down, the inner brows up and in
    assert fear[48, 0] < face[48, 0] and fear[54, 0] > face[54, 0]
    assert fear[48, 1] > face[48, 1] and fear[54, 1] > face[54, 1]
    assert fear[21, 1] < face[21, 1] and fear[21, 0] > face[21, 0] and fear[22, 0] < face[22, 0]
    disgust = target_moves(face, face, "disgusted", 1.0)
    assert disgust[51, 1] < face[51, 1] and disgust[62, 1] < face[62, 1]  # the upper lip raised,
    rise = face[:, 1] - disgust[:, 1]
    assert rise[50] > rise[51] and rise[52] > rise[51]  # most beside its middle,
    # over a lower lip pulled down (JAFFE's posed disgust lowers it)
    assert disgust[57, 1] > face[57, 1] and disgust[8, 1] > face[8, 1]
    angry = target_moves(face, face, "angry", 1.0)
    lip = lambda p: float(p[57, 1] - p[51, 1])  # noqa: E731
    assert lip(angry) < lip(face)  # pressed thinner
    assert angry[21, 1] > face[21, 1] and angry[21, 0] > face[21, 0]  # the inner brows down and in
    assert angry[62, 1] > face[62, 1]  # the mouth pressed where it is, not lifted
    # mirrored in the face's frame: a left point's move is its right twin's mirrored
    from faceedit.stage.moves import face_frame

    u, n, _ = face_frame(face)
    d = fear - face
    assert d[48] @ u == pytest.approx(-(d[54] @ u)) and d[48] @ n == pytest.approx(d[54] @ n)


@pytest.mark.parametrize("budget", [folds.TILE_BUDGET, 1])
def test_nearest_matches_every_segment_measured(face, monkeypatch, budget):
    """The tiled distance to a fold line is, within its margin, exactly an argmin over every
    segment at every pixel (the first segment at the least distance), whether the segments go in
    one stack or one at a time; beyond the margin it is never inside."""
    monkeypatch.setattr(folds, "TILE_BUDGET", budget)
    rng = np.random.default_rng(3)
    for c in fold_curves(face)[::3]:
        pts = c.points + rng.normal(0, 0.3, c.points.shape)
        pts[5] = pts[6]  # a segment of no length
        margin = 17.5
        lo = np.floor(pts.min(0) - 30).astype(int)
        hi = np.ceil(pts.max(0) + 24).astype(int)
        box = (int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1]))
        dist, where = folds._nearest(box, pts, margin)
        gy, gx = np.mgrid[box[1]:box[3], box[0]:box[2]].astype(np.float64)
        a, b = pts[:-1], pts[1:]
        ab = b - a
        l2 = np.maximum(ab[:, 0] * ab[:, 0] + ab[:, 1] * ab[:, 1], 1e-12)[:, None, None]
        rx, ry = gx - a[:, 0, None, None], gy - a[:, 1, None, None]
        t = np.clip((rx * ab[:, 0, None, None] + ry * ab[:, 1, None, None]) / l2, 0.0, 1.0)
        dx = gx - (a[:, 0, None, None] + t * ab[:, 0, None, None])
        dy = gy - (a[:, 1, None, None] + t * ab[:, 1, None, None])
        d2 = dx * dx + dy * dy
        j = d2.argmin(0)
        pick = lambda v: np.take_along_axis(v, j[None], 0)[0]  # noqa: E731
        cross = pick(ab[:, 0, None, None] * ry - ab[:, 1, None, None] * rx)
        want = np.sqrt(pick(d2)) * np.where(cross > 0, 1.0, -1.0)
        near = np.abs(want) <= margin
        assert near.sum() > 1000 and (~near).sum() > 100
        np.testing.assert_array_equal(dist[near], want[near])
        np.testing.assert_array_equal(where[near], (j + pick(t))[near])
        assert (np.abs(dist[~near]) > margin).all()


def test_smooth_folds_takes_lines_away_and_keeps_spots(face):
    """A frown made neutral loses the glabellar line its photo shows (a dark vertical groove
    between the brows), not a mole beside it, nor the brows, nor anything away from the lines."""
    rng = np.random.default_rng(1)
    img = np.clip(rng.normal(170, 3, (1100, 1100, 3)), 0, 255)
    img[..., 0] += 30  # a warm skin
    ed = float(np.linalg.norm(face[42:48].mean(0) - face[36:42].mean(0)))
    cx, top = float(face[21:23, 0].mean()) - 0.05 * ed, float(face[21:23, 1].mean()) - 0.15 * ed
    xs, ys = np.arange(1100)[None, :], np.arange(1100)[:, None]
    groove = np.exp(-0.5 * ((xs - cx) / (0.012 * ed)) ** 2) * ((ys > top) & (ys < top + 0.15 * ed))
    mole_x, mole_y = cx + 0.07 * ed, top + 0.05 * ed
    mole = np.exp(-0.5 * (((xs - mole_x) ** 2 + (ys - mole_y) ** 2) / (0.01 * ed) ** 2))
    img *= (1.0 - 0.3 * groove - 0.4 * mole)[..., None]
    img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    assert folds.smooth_folds(img, face, {"glabella": 0.0, "forehead": 0.0}) is img
    out = folds.smooth_folds(img, face, {"glabella": 1.0, "forehead": 0.0})
    luma = lambda a: a.astype(float) @ np.array([0.299, 0.587, 0.114])  # noqa: E731
    y = int(top + 0.08 * ed)
    skin = float(luma(img)[y, int(cx - 0.15 * ed):int(cx - 0.1 * ed)].mean())
    before, after = skin - luma(img)[y, int(round(cx))], skin - luma(out)[y, int(round(cx))]
    assert before > 30 and after < 0.5 * before, (before, after)  # the groove mostly lifted
    m_before = skin - luma(img)[int(round(mole_y)), int(round(mole_x))]
    m_after = skin - luma(out)[int(round(mole_y)), int(round(mole_x))]
    assert m_after > 0.6 * m_before, (m_before, m_after)  # the mole stays
    far = np.ones(img.shape[:2], bool)
    far[int(face[17:27, 1].min() - 0.6 * ed):int(face[27, 1] + 0.3 * ed), int(face[17, 0]):int(face[26, 0])] = False
    assert np.array_equal(out[far], img[far])


def test_removal_only_of_lines_an_expression_made():
    """An edit takes away lines by the fall of their AUs from above what a neutral face's own
    state reads: none from a neutral face (its lines are the person's), all from a frown."""
    stats = FoldStats({k: dict.fromkeys(PARAMS, 0.1) for k in KINDS}, dict.fromkeys(KINDS, 1.7), {})
    i4, i1, i2 = AU_IDS.index(4), AU_IDS.index(1), AU_IDS.index(2)

    def aus(au4: float, au12: float = 0.0) -> np.ndarray:
        a = np.zeros(len(AU_IDS))
        a[i4], a[i1], a[i2] = au4, au12 / 2, au12 / 2
        return a

    assert folds.fold_removal(stats, aus(1.8, 1.5), aus(0.0)) == {"forehead": 0.0, "glabella": 0.0}
    frown = folds.fold_removal(stats, aus(4.0), aus(0.0))
    assert frown["glabella"] == 1.0 and frown["forehead"] == 0.0
    assert 0.0 < folds.fold_removal(stats, aus(3.0), aus(0.5))["glabella"] < 1.0


def test_shoulder_on_the_lit_side_only(face, monkeypatch):
    """A fold is a valley with a lit rim on the side the light comes from: lit from below a
    forehead line its rise lies below the valley, lit from above it lies above (beyond the soft
    side's width), lit along the line there is none; no higher than SHOULDER of the valley's
    drop (times the line's weight along it, up to 1.4)."""
    p = _params(0.2)  # sharp below, soft above
    for k in p.values():
        k.update(light=0.06, light_at=0.04, light_width=0.02)
    line = [c for c in fold_curves(face) if c.kind == "forehead"][1]
    monkeypatch.setattr(folds, "fold_curves", lambda lm: [line])  # the middle line alone
    x, y = np.round(line.points[len(line.points) // 2]).astype(int)
    ed = folds.face_frame(face)[2]
    near, far = int(0.04 * ed), int(0.11 * ed)

    def column(light):
        roi, ratio = fold_ratio((1100, 1100, 3), face, {"forehead": 1.0}, p, np.array(light))
        col = ratio[:, x - roi[0]]
        i = y - roi[1] - 3 + int(np.argmin(col[y - roi[1] - 3:y - roi[1] + 4]))
        return col, i

    rims = []
    for light, lit_below in (((0.0, 1.0), True), ((0.0, -1.0), False)):
        col, i = column(light)
        assert col[i] < 0.9  # the valley
        lit = col[i + 1:i + far] if lit_below else col[i - far:i]
        dark = col[i - near:i] if lit_below else col[i + 1:i + near]
        assert 1.005 < lit.max() <= 1.0 + FoldsTuning().shoulder * 0.2 * 1.4, lit.max()
        assert dark.max() <= 1.0 + 1e-9, dark.max()
        rims.append(lit.max() - 1.0)
    col, i = column((1.0, 0.0))  # along the line (it wanders a little off the horizontal)
    assert col[i] < 0.9 and col[i - far:i + far].max() - 1.0 < 0.1 * min(rims)


def test_angry_glabella_is_a_valley_not_a_bright_streak(stage, monkeypatch):
    """The astronaut made angry: inside the glabellar lines' mask the folds darken a valley by
    many levels and brighten no pixel by more than 6 levels; what they brighten is the bunched
    skin between the lines, broad (at half its height wider than 0.06 eye distances in its widest
    row; a bright streak is a pixel or two, under 0.015), not a streak beside a line. (At the
    photo's own pixels: the spy's points are the photo's, not a finer copy's.)"""
    from faceedit.stage import fine

    monkeypatch.setattr(fine, "FINE_BELOW_PX", 0.0)
    img, lm = _astronaut_face(stage)
    got = {}
    real = folds.paint_folds

    def spy(pixels, moved, amounts, params, keep_out=None, **kw):
        got.update(lm=moved.copy(), amount=amounts["glabella"], params=params)
        return real(pixels, moved, amounts, params, keep_out, **kw)

    folds.paint_folds = spy
    try:
        out, _ = stage.edit_photo(img, [lm], EditRequest.of("angry", 1.0))
    finally:
        folds.paint_folds = real
    paint = steps.paint_move_folds
    steps.paint_move_folds = lambda stats, pixels, *a, **k: pixels
    try:
        plain, _ = stage.edit_photo(img, [lm], EditRequest.of("angry", 1.0))
    finally:
        steps.paint_move_folds = paint
    assert got["amount"] > 0.5
    (x0, y0, x1, y1), ratio = fold_ratio(img.shape, got["lm"], {"glabella": got["amount"]}, got["params"])
    mask = np.zeros(img.shape[:2], bool)
    mask[y0:y1, x0:x1] = np.abs(ratio - 1.0) > 1e-3
    luma = lambda a: a.astype(float) @ np.array([0.299, 0.587, 0.114])  # noqa: E731
    d = (luma(out) - luma(plain))[mask]
    assert mask.sum() > 50
    assert d.min() < -12, d.min()  # a valley
    assert d.max() <= 6.0, d.max()  # the bulge's lift, a few levels
    lift = ratio - 1.0
    broad = (lift > 0.5 * lift.max()).sum(1).max() / folds.face_frame(got["lm"])[2]
    assert broad > 0.06, broad


def test_disgust_map_stays_off_the_raised_lip(stage, monkeypatch):
    """Disgust's own moves raise the person's upper lip by the warp; its mean appearance map,
    whose lip lies where the mean face's was, stays off the lips (no second, blurred band on
    them: 77 levels at the 95th percentile on the astronaut's lips before), while angry's map
    still shades its pressed lips. The mouth is left as the warp moved it (no bank drawn over
    it, as on London's closed neutral mouths at 1350 px)."""
    import cv2

    from faceedit.stage import fine
    from faceedit.stage.steps import raises_upper_lip
    from faceedit.stage.tuning import EditTuning

    monkeypatch.setattr(steps, "fill_mouth", lambda stage, face, pixels, whites=None, seen=None: pixels)
    monkeypatch.setattr(fine, "FINE_BELOW_PX", 0.0)  # at the photo's own pixels: the spy's points are the photo's

    t = EditTuning()
    assert raises_upper_lip("disgusted", t) and not raises_upper_lip("angry", t) and not raises_upper_lip(None, t)
    img, lm = _astronaut_face(stage)
    luma = lambda a: a.astype(float) @ np.array([0.299, 0.587, 0.114])  # noqa: E731
    paint = steps.paint_target
    for target, painted in (("disgusted", False), ("angry", True)):
        got = {}

        def spy(stats, pixels, moved, *a, **k):
            got["lm"] = moved.copy()
            return paint(stats, pixels, moved, *a, **k)

        steps.paint_target = spy
        try:
            out, _ = stage.edit_photo(img, [lm], EditRequest.of(target, 1.0))
            steps.paint_target = lambda stats, pixels, *a, **k: pixels
            plain, _ = stage.edit_photo(img, [lm], EditRequest.of(target, 1.0))
        finally:
            steps.paint_target = paint
        lips = np.zeros(img.shape[:2], np.uint8)
        cv2.fillPoly(lips, [np.round(got["lm"][48:60]).astype(np.int32)], 1)
        d = np.abs(luma(out) - luma(plain))[lips > 0]
        assert lips.sum() > 100
        if painted:
            assert np.percentile(d, 95) > 3, np.percentile(d, 95)
        else:
            assert np.percentile(d, 95) <= 1.0 and d.mean() < 0.5, (np.percentile(d, 95), d.mean())  # corners feathered


def test_a_map_showing_teeth_stays_off_lips_the_move_closes(stage, monkeypatch):
    """The astronaut made neutral with a little smile (0.37): the move closes her lips while the
    happy map heads the appearance; that map's mean smile shows its teeth, which stay off her lips
    (laid there, they lighten 49 of her lip pixels by over 10 levels, 31 levels on average
    inside the lips' rim: a white band between them). The maps of lips that meet (angry's, whose
    shading of lips its move closes stays: test_disgust_map_stays_off_the_raised_lip) and
    surprise's dark opening show none."""
    import dataclasses

    import cv2
    from skimage.data import astronaut

    from faceedit.faces.detectors import get_detector
    from faceedit.stage import fine
    from faceedit.stage.appearance import shows_teeth

    monkeypatch.setattr(fine, "FINE_BELOW_PX", 0.0)  # at the photo's own pixels: the spy's points are the photo's
    assert shows_teeth(stage, "happy") and shows_teeth(stage, "fearful")
    assert not any(shows_teeth(stage, t) for t in ("angry", "disgusted", "sad", "surprised", "sleepy", "wink"))
    img = astronaut()
    lm = max(get_detector("auto").detect(img), key=lambda f: f.area)  # with its Face Mesh, as the editor's
    luma = lambda a: a.astype(float) @ np.array([0.299, 0.587, 0.114])  # noqa: E731
    request = EditRequest.of("neutral", 1.0, controls={"smile": 0.37})
    paint, appear, got = steps.paint_target, steps.paint_appearance, {}

    def spy(st, face, pixels):
        got["closing"], got["lm"] = face.closing, face.warped.landmarks.copy()
        return appear(st, face, pixels)

    monkeypatch.setattr(steps, "paint_appearance", spy)
    plain = stage.edit_photo(img, [lm], request)[0]
    monkeypatch.setattr(steps, "paint_target", lambda stats, pixels, *a, **k: pixels)
    unpainted = stage.edit_photo(img, [lm], request)[0]
    monkeypatch.setattr(steps, "paint_target", paint)
    everywhere = dataclasses.replace(stage.tuning.edit, teeth_shown=np.inf)  # no map counted as showing teeth
    monkeypatch.setattr(stage, "tuning", dataclasses.replace(stage.tuning, edit=everywhere))
    banded = stage.edit_photo(img, [lm], request)[0]
    assert got["closing"] > 0
    lips = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(lips, [np.round(got["lm"][48:60]).astype(np.int32)], 1)
    assert lips.sum() > 100
    inner = cv2.erode(lips, np.ones((3, 3), np.uint8))  # inside the lips' rim, where the keep-out is whole
    change = lambda a, m: (luma(a) - luma(unpainted))[m > 0]  # noqa: E731
    assert (change(banded, lips) > 10).sum() > 20  # the band: the map's teeth lighten the lips
    assert np.abs(change(banded, inner)).mean() > 10, np.abs(change(banded, inner)).mean()
    assert change(plain, lips).max() <= 3.0, change(plain, lips).max()  # no teeth (a band: 30 levels and more)
    assert np.abs(change(plain, inner)).mean() < 1.0, np.abs(change(plain, inner)).mean()  # corners feathered


def test_the_skin_between_the_glabellar_lines_is_a_soft_bulge(face):
    """Between the two glabellar creases the skin is bunched, not a strip cut out between two
    strokes nor a pale strip: in the row through the lines' deepest part, the middle is not
    lifted above the skin round it (within 3 % under it: its lower slope turned from a light
    from above), each valley's floor well down, and the skin rises from each floor to the middle
    without a step (no pixel's rise over a quarter of the whole)."""
    from faceedit.stage import creases

    stats = shipped_stats()
    (x0, y0, _, _), ratio = fold_ratio((1100, 1100, 3), face, {"glabella": 1.0}, stats.params)
    lines, origin, axes = creases.crease_lines(face, np.zeros(creases.CODE_SIZE))
    ed = folds.face_frame(face)[2]
    b = lines[0].top + 0.75 * (lines[0].bottom - lines[0].top)
    xl, xr = (int(round((origin + (ln.a * axes[0] + b * axes[1]) * ed)[0])) for ln in lines)
    row = ratio[int(round((origin + b * axes[1] * ed)[1])) - y0]
    seg = row[xl - x0 - 6:xr - x0 + 7]
    lo_l, lo_r = int(np.argmin(seg[:len(seg) // 2])), len(seg) // 2 + int(np.argmin(seg[len(seg) // 2:]))
    mid = float(seg[len(seg) // 2])
    assert seg[lo_l] < 0.93 and seg[lo_r] < 0.93, (seg[lo_l], seg[lo_r])
    assert 0.97 <= mid <= 1.0, mid
    rise = np.diff(seg[lo_l:lo_r + 1])
    assert np.abs(rise).max() < 0.25 * (mid - min(seg[lo_l], seg[lo_r])), np.abs(rise).max()


@pytest.mark.parametrize("kind", KINDS)
def test_a_folds_profile_fades_to_nothing_where_it_ends(kind):
    # a profile cut at its reach while its shoulder still rose left an edge along the whole line
    # (the nasolabial's lit cheek, 0.03 of a ratio at 0.12 eye distances: a ruled line at 1350 px)
    stats = shipped_stats()
    assert stats is not None
    p = stats.params[kind]
    edge = max(FoldsTuning().sharp, FoldsTuning().sharp_kind.get(kind, 0.0))
    reach = folds.reach_of(p, edge)
    d = np.linspace(-reach, reach, 4001)
    drawn = folds.profile(d, p, edge, 1.0) * folds.fade(d, reach)
    assert np.abs(drawn[np.abs(d) > 0.97 * reach]).max() < 1e-3
    outer = np.abs(d) > 0.5 * reach
    assert np.abs(np.diff(drawn))[outer[1:]].max() < 2e-4  # no step anywhere beyond the valley
    assert drawn.min() < -0.5 * p["depth"] * 0.9  # the valley itself is drawn as deep as before


def test_the_nasolabial_furrows_edge_is_not_a_cut(face):
    # its lateral edge is the cheek turning into it: falling over at least 0.014 eye distances
    stats = shipped_stats()
    assert stats is not None
    p = stats.params["nasolabial"]
    edge = max(FoldsTuning().sharp, FoldsTuning().sharp_kind["nasolabial"])
    d = np.linspace(-0.1, 0.1, 2001)
    slope = np.abs(np.gradient(folds.profile(d, p, edge, 0.0), d))
    sharp = np.abs(np.gradient(folds.profile(d, p, FoldsTuning().sharp, 0.0), d))
    assert slope.max() < 0.5 * sharp.max()


def test_a_frown_taken_flattens_the_knit_and_keeps_the_brows(face):
    """A frown made neutral loses the knit's relief (a bulge of skin over a brow's head, a broad
    shade between the brows) by the frown taken, and keeps the brows' hairs, the skin's grain
    and everything away from the brows' heads; none taken leaves the pixels themselves."""
    rng = np.random.default_rng(2)
    grain = rng.normal(0, 3, (1100, 1100))
    img = np.full((1100, 1100, 3), 170.0) + grain[..., None]
    img[..., 0] += 30
    ed = float(np.linalg.norm(face[42:48].mean(0) - face[36:42].mean(0)))
    xs, ys = np.arange(1100)[None, :], np.arange(1100)[:, None]
    bx, by = float(face[21, 0]), float(face[21, 1]) - 0.08 * ed  # over the right brow's head
    bulge = np.exp(-0.5 * ((xs - bx) ** 2 + (ys - by) ** 2) / (0.05 * ed) ** 2)
    img += 25.0 * bulge[..., None]
    hairs = np.zeros((1100, 1100), bool)
    for idx in (slice(17, 22), slice(22, 27)):
        for p in face[idx]:
            hairs |= (xs - p[0]) ** 2 + (ys - p[1]) ** 2 < (0.02 * ed) ** 2
    img[hairs] = 60.0
    img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    assert relief.flatten_knit(img, face, 0.0) is img
    out = relief.flatten_knit(img, face, 1.0)
    half = relief.flatten_knit(img, face, 0.5)
    top = (int(round(by)), int(round(bx)))
    side = (int(round(by)), int(round(bx - 0.3 * ed)))  # skin beside it, off the bulge

    def rise(a: np.ndarray) -> float:
        return float(a[top].astype(float).mean() - a[side].astype(float).mean())

    assert rise(img) > 20 and rise(out) < 0.5 * rise(img), (rise(img), rise(out))
    assert rise(out) < rise(half) < rise(img)
    assert np.array_equal(out[hairs], img[hairs])  # the brows' hairs as they were
    # the grain finer than the knit stays: the pixel-to-pixel steps round the bulge keep their size
    win = (slice(top[0] - 5, top[0] + 5), slice(top[1] - 5, top[1] + 5))
    step = lambda a: float(np.abs(np.diff(a[win][..., 1].astype(float), axis=1)).mean())  # noqa: E731
    assert step(out) > 0.7 * step(img), (step(img), step(out))
    far = np.ones(img.shape[:2], bool)
    far[int(face[17:27, 1].min() - 0.8 * ed):int(face[27, 1] + 0.5 * ed),
        int(face[19, 0] - 0.8 * ed):int(face[24, 0] + 0.8 * ed)] = False
    assert np.array_equal(out[far], img[far])


def test_a_released_frown_flattens_the_raised_chin_and_keeps_its_grain(face):
    """A frown released by a target without one (its furrow shown, relief.flatten_chin) loses the
    chin's bunched relief (a dimple under the lower lip, AU17's) by the share released, and keeps
    the skin's grain, the lips and everything off the chin; none released leaves the pixels
    themselves."""
    rng = np.random.default_rng(3)
    img = np.full((1100, 1100, 3), 170.0) + rng.normal(0, 3, (1100, 1100))[..., None]
    ed = float(np.linalg.norm(face[42:48].mean(0) - face[36:42].mean(0)))
    xs, ys = np.arange(1100)[None, :], np.arange(1100)[:, None]
    cx, cy = (face[57] + face[8]) / 2  # the chin's middle, under the lower lip
    dimple = np.exp(-0.5 * ((xs - cx) ** 2 + (ys - cy) ** 2) / (0.04 * ed) ** 2)
    img -= 25.0 * dimple[..., None]
    img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    assert relief.flatten_chin(img, face, 0.0) is img
    out, half = relief.flatten_chin(img, face, 1.0), relief.flatten_chin(img, face, 0.5)
    pit, side = (int(round(cy)), int(round(cx))), (int(round(cy)), int(round(cx - 0.25 * ed)))

    def depth(a: np.ndarray) -> float:
        return float(a[side].astype(float).mean() - a[pit].astype(float).mean())

    assert depth(img) > 20 and depth(out) < 0.5 * depth(img), (depth(img), depth(out))
    assert depth(out) < depth(half) < depth(img)
    win = (slice(pit[0] - 5, pit[0] + 5), slice(pit[1] - 5, pit[1] + 5))
    step = lambda a: float(np.abs(np.diff(a[win][..., 1].astype(float), axis=1)).mean())  # noqa: E731
    assert step(out) > 0.7 * step(img), (step(img), step(out))
    lips = (slice(int(face[50:53, 1].min()), int(face[56:59, 1].max())), slice(int(face[48, 0]), int(face[54, 0])))
    assert np.abs(out[lips].astype(int) - img[lips]).max() <= 2  # the lips (the mask's feather at most)
    far = np.ones(img.shape[:2], bool)
    far[int(face[57, 1]):int(face[8, 1] + 0.5 * ed), int(face[6, 0] - 0.5 * ed):int(face[10, 0] + 0.5 * ed)] = False
    assert np.array_equal(out[far], img[far])
