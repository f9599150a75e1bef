"""A smile's teeth on small faces look like the photo's own: on held-out London faces shrunk
until the eyes are 25-40 px apart (one also blurred by 2.5 px), the stage's happy edit's teeth
are no brighter over the photo's eye whites than real smiles' teeth are at that size, and no
sharper than the blurred photo round them.

Read as the benches read them: Face Mesh on the photo upscaled 4x (the face too small
for it at its own pixels), the inner-lip polygon (bench/bench_mouth_luma.py's ``opening_mask``),
teeth = its 75th-percentile luma, eye whites = :func:`faceedit.stage.mouth.sclera_colour`'s
luma on the neutral photo (the photo's exposure: the edit's happy lower lids narrow a 25-px
eye's white to a few pixels, whose reading then darkens 0.86x). Real smiles of London HD 008 022
061 shrunk alike read teeth over the same person's neutral photo's eye whites 1.21, 1.53, 1.28
(blurred by 2.5 px: 1.95, 1.50, 1.50; over the smiling photo's own whites 1.28, 1.77, 1.25 and
1.84, 1.37, 1.48); the stage's edits of 022 at 25 px and 014 at 40 px blurred read 1.52 and 1.52
(bench/bench_small_teeth.py reads them over the edit's own whites)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from _bench import load_bench
from conftest import SHARED_DATA
from PIL import Image

#: The brightest teeth over the neutral photo's eye whites of the real smiles shrunk (022 at eyes
#: 25 px apart), and of those blurred by 2.5 px as well (008 at 30 px; 022 and 061: 1.50, 1.50).
REAL_MAX, REAL_MAX_BLURRED = 1.53, 1.95
_LUMA = np.array([0.299, 0.587, 0.114])
_UP = 4


def _bench():
    return load_bench("bench_mouth_luma")


@pytest.fixture(scope="module")
def editor():
    from faceedit.api import Editor

    return Editor.from_pretrained("stage", device="cpu")


def _face(det, img):
    big = cv2.resize(img, None, fx=_UP, fy=_UP, interpolation=cv2.INTER_CUBIC)
    f = max(det.detect(big), key=lambda f: f.area)
    return np.asarray(f.landmarks, np.float64) / _UP, np.asarray(f.dense, np.float64)[:, :2] / _UP


@pytest.mark.shared_data
@pytest.mark.parametrize(("name", "eyes", "blur"), [("022", 25.0, 0.0), ("014", 40.0, 2.5)])
def test_a_small_face_s_happy_teeth_are_no_brighter_over_its_eye_whites_than_real_ones(editor, name, eyes, blur):
    from faceedit.faces.detectors import get_detector
    from faceedit.faces.landmarks import eye_distance
    from faceedit.stage.mouth import sclera_colour

    path = SHARED_DATA / "london_hd" / "neutral" / f"{name}.jpg"
    if not path.exists():
        pytest.skip(f"{path} is not there (../shared/data)")
    det = get_detector("mediapipe")
    img = np.asarray(Image.open(path).convert("RGB"))
    k = eyes / eye_distance(np.asarray(max(det.detect(img), key=lambda f: f.area).landmarks))
    small = cv2.resize(img, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    if blur:
        small = cv2.GaussianBlur(small, (0, 0), blur)
    out = editor.edit(small, "happy", face="largest")
    lm, dense = _face(det, out)
    inside, _ = _bench().opening_mask(out.shape, dense)
    assert inside.sum() >= 10, "the happy edit shows no opening"
    y = out.astype(np.float64) @ _LUMA / 255
    teeth = float(np.percentile(y[inside], 75))
    sclera = sclera_colour(small, _face(det, small)[0])
    assert sclera is not None
    ratio = teeth / float(sclera @ _LUMA)
    most = REAL_MAX_BLURRED if blur else REAL_MAX
    assert ratio <= most, f"teeth {teeth:.3f} are {ratio:.2f} x the photo's eye whites (real smiles: at most {most})"
    if blur:
        # as soft as the photo: the teeth's fine detail no more than the blurred skin's round
        # the mouth (the sharp fill read 0.037, the photo's lips and skin 0.004)
        hp = y - cv2.GaussianBlur(y, (0, 0), 1.0)
        ring = cv2.dilate(inside.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
        around = float(hp[ring & ~inside].std())
        assert float(hp[inside].std()) <= 3 * around + 0.002, (float(hp[inside].std()), around)


def test_a_warm_cast_s_small_drop_in_green_reaches_the_teeth():
    """A photo with a warm cast whose green drops by less than the bank's dead zone (red x 1,
    green x 0.96, blue x 0.8; green's log ratio over the luma's 0.007, red's 0.047) gets teeth
    whose green over red follows the cast within 0.01 (0.959 for the cast's 0.96; the dead zone
    taken off each channel alone left green at the luma's: 0.979, the teeth greener than the
    cast, the yellow-green row of insightface's group photo)."""
    from test_models_mouth import face_landmarks, mouth, opening_of, teeth_colour

    from faceedit.stage.mouth_bank import MouthBank

    bank = MouthBank.load()
    tint = np.array([1.0, 0.96, 0.8])
    plain = _drawn()
    warm = np.clip(np.rint(plain * tint), 0, 255).astype(np.uint8)
    lm = face_landmarks()
    up, lo = mouth(30)
    roi, op = opening_of(up, lo, plain.shape)
    filled, ex = bank.fill(plain, roi, op, up, lo, face_lm=lm)
    t_plain = teeth_colour(filled, roi, op)
    t_warm = teeth_colour(bank.fill(warm, roi, op, up, lo, face_lm=lm, exemplar=ex)[0], roi, op)
    follows = (t_warm[1] / t_warm[0]) / (t_plain[1] / t_plain[0])
    assert abs(follows - tint[1] / tint[0]) < 0.01, follows
    assert t_warm[2] / t_warm[1] < 0.95 * t_plain[2] / t_plain[1]  # and the blue drops


def test_the_eye_whites_given_to_the_fill_are_the_ones_it_uses():
    """``sclera`` (the eye whites read before the warp) stands for the pixels' own: a face whose
    eyes were painted yellow after them fills its mouth as the unpainted face does with them,
    and otherwise not."""
    from test_models_mouth import face_landmarks, mouth, opening_of

    from faceedit.stage.mouth import sclera_colour
    from faceedit.stage.mouth_bank import MouthBank

    bank = MouthBank.load()
    plain = _drawn()
    lm = face_landmarks()
    painted = plain.copy()
    for eye in (lm[36:42], lm[42:48]):
        x0, y0 = np.floor(eye.min(0)).astype(int) - 2
        x1, y1 = np.ceil(eye.max(0)).astype(int) + 3
        painted[y0:y1, x0:x1] = (painted[y0:y1, x0:x1] * np.array([1.0, 0.95, 0.6])).astype(np.uint8)
    up, lo = mouth(30)
    roi, op = opening_of(up, lo, plain.shape)
    want, ex = bank.fill(plain, roi, op, up, lo, face_lm=lm)
    given = bank.fill(painted, roi, op, up, lo, face_lm=lm, exemplar=ex, sclera=sclera_colour(plain, lm))[0]
    read = bank.fill(painted, roi, op, up, lo, face_lm=lm, exemplar=ex)[0]
    x0, y0, x1, y1 = roi
    np.testing.assert_array_equal(given[y0:y1, x0:x1], want[y0:y1, x0:x1])
    assert not np.array_equal(read[y0:y1, x0:x1], want[y0:y1, x0:x1])


def _drawn() -> np.ndarray:
    from _imgs import drawn_face

    return drawn_face()


def _lower_over_teeth(out, up, lo):
    """The middle columns' (within 0.12 of the corner distance of the middle) lowest third's
    median luma over the opening's 75th percentile: a plate reads about 1."""
    from test_models_mouth import opening_of

    roi, op = opening_of(up, lo, out.shape, pad=0)
    x0, y0, x1, y1 = roi
    y = out[y0:y1, x0:x1].astype(np.float64) @ _LUMA / 255
    inside = op > 0.99
    cx, w = (up[0, 0] + up[-1, 0]) / 2 - x0, up[-1, 0] - up[0, 0]
    low = []
    for x in range(int(cx - 0.12 * w), int(cx + 0.12 * w) + 1):
        col = np.nonzero(inside[:, x])[0]
        low += list(y[col[col >= col.min() + 2 * (col.max() - col.min()) / 3], x])
    return float(np.median(low)) / float(np.percentile(y[inside], 75))


def _fill_drawn(width: float, height: float):
    """(the bank's fill of a smile ``width`` x ``height`` px on :func:`_drawn`'s face, its upper and
    lower lip curves); module constants are read at the call, so a monkeypatch before it counts."""
    from test_models_mouth import face_landmarks, mouth, opening_of

    from faceedit.stage.mouth_bank import MouthBank

    plain = _drawn()
    up, lo = mouth(height, width=width)
    roi, op = opening_of(up, lo, plain.shape)
    return MouthBank.load().fill(plain, roi, op, up, lo, face_lm=face_landmarks())[0], up, lo


def test_a_small_smile_s_lower_row_lies_in_shade_and_a_large_one_s_is_unchanged(monkeypatch):
    """The bank's studio rows, both lit, filled into a small face's smile read as one flat plate
    (the middle's lowest third as bright as the teeth); with the small face's shade
    (:func:`faceedit.stage.teeth_look.small_teeth_shade`) the lower row is darker, as real smiles'
    at that size (0.65-0.87 of their teeth on insightface's group_five, single_smile,
    posed_laugh: bench/bench_small_teeth.py --photos). An opening 180 px wide is filled
    byte for byte as without it."""
    from faceedit.stage import teeth_look

    fill = _fill_drawn
    small, up, lo = fill(40.0, 9.0)
    large = fill(180.0, 36.0)[0]
    monkeypatch.setattr(teeth_look, "SMALL_MOUTH_PX", (0.0, 1.0))  # the shade off
    plate = fill(40.0, 9.0)[0]
    np.testing.assert_array_equal(fill(180.0, 36.0)[0], large)
    shaded, flat = _lower_over_teeth(small, up, lo), _lower_over_teeth(plate, up, lo)
    assert shaded <= flat - 0.08, (shaded, flat)
    assert shaded <= 0.9, shaded


def test_the_small_face_shade_is_one_on_a_large_face_and_darkens_under_the_teeth():
    from faceedit.stage.teeth_look import small_teeth_shade

    t = np.linspace(0.0, 20.0, 41)
    lip = np.array([0.6, 0.35, 0.35])
    np.testing.assert_array_equal(small_teeth_shade(t, 120.0, np.full_like(t, 8.0), lip, 1.0), 1.0)
    s = small_teeth_shade(t, 40.0, np.full_like(t, 8.0), lip, 1.0) @ _LUMA
    assert s[0] < 0.8 and s[-1] < 0.8 and s[(t > 2.5) & (t < 3.5)].min() > 0.97  # the lip's shadow, the lower row
    s3 = small_teeth_shade(t, 40.0, np.full_like(t, 8.0), lip, 1.0)
    assert s3[-1, 0] > s3[-1, 1]  # the shade is warm, the lips' red


def _drawn_line():
    """A synthetic small mouth: lips (luma about 0.55, their darkest 0.45) round an opening
    40 px wide filled with teeth (0.8) and a black 1-px line along its lower edge."""
    rng = np.random.default_rng(0)
    img = np.clip(0.55 + 0.05 * rng.standard_normal((60, 80, 3)), 0, 1)
    img[..., 0] += 0.1
    op = np.zeros((60, 80), np.float32)
    op[25:35, 20:60] = 1.0
    img[op > 0] = 0.8
    img[34, 20:60] = 0.02
    return (np.clip(img, 0, 1) * 255).round().astype(np.uint8), op


def test_a_studio_mouth_s_edge_is_left_as_it_is():
    from faceedit.stage.teeth_look import SMALL_MOUTH_PX, small_edge

    img, op = _drawn_line()
    out = img.copy()
    small_edge(out, (0, 0, 80, 60), op, SMALL_MOUTH_PX[1])
    assert np.array_equal(out, img)


def test_a_small_mouth_s_edge_is_no_darker_than_its_lips_own_dark():
    """A black line drawn along a small opening's lower edge is lifted to the lips' own dark
    (:data:`~faceedit.stage.teeth_look.SMALL_EDGE_DARK_SHARE` of their 10th percentile: real
    small smiles' darkest), the teeth above it and the lips round it left as they are."""
    from faceedit.stage.teeth_look import SMALL_EDGE_DARK_PERCENTILE, SMALL_EDGE_DARK_SHARE, small_edge

    img, op = _drawn_line()
    out = img.copy()
    small_edge(out, (0, 0, 80, 60), op, 40.0)
    y0, y1 = img.astype(np.float64) @ _LUMA, out.astype(np.float64) @ _LUMA
    ring = (cv2.dilate((op > 0).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0) & (op <= 0)
    dark = SMALL_EDGE_DARK_SHARE * np.percentile(y0[ring], SMALL_EDGE_DARK_PERCENTILE)
    line = y1[34, 24:56]
    assert y0[34, 24:56].max() < 0.2 * dark  # drawn black
    assert line.min() >= dark - 2.0  # no darker than the lips' own dark (a rounding's margin)
    assert line.max() <= dark + 2.0  # lifted to it, not to the lips: the opening keeps its dark
    assert np.array_equal(out[25:34, 20:60], img[25:34, 20:60])  # the teeth as they were
    assert np.array_equal(out[op <= 0], img[op <= 0])  # the lips stay as they are


def test_a_small_mouth_s_part_covered_rim_is_softened_never_darkened():
    """The opening's outer pixels that it covers under half (its anti-aliased rim), drawn dark,
    are lightened toward the photo's blur there; nothing inside is darkened."""
    from faceedit.stage.teeth_look import small_edge

    img, op = _drawn_line()
    op[24, 20:60] = 0.4
    img[24, 20:60] = 105  # darker than the lips and teeth about it, not than the lips' own dark
    out = img.copy()
    small_edge(out, (0, 0, 80, 60), op, 40.0)
    y0, y1 = img.astype(np.float64) @ _LUMA, out.astype(np.float64) @ _LUMA
    assert (y1[24, 24:56] > y0[24, 24:56] + 10).all()
    assert (y1 >= y0 - 0.5).all()
    assert np.array_equal(out[op <= 0], img[op <= 0])


def test_the_small_face_shade_falls_toward_the_corners_and_warms_the_lower_row():
    from faceedit.stage.teeth_look import SMALL_SIDE_SHADE, small_teeth_shade

    u = np.linspace(0.0, 1.0, 41)
    t, edge = np.full_like(u, 3.0), np.full_like(u, 8.0)  # the upper teeth, out of the lip's shadow
    lip = np.array([0.6, 0.35, 0.35])
    np.testing.assert_array_equal(small_teeth_shade(t, 120.0, edge, lip, 1.0, u), 1.0)
    s = small_teeth_shade(t, 40.0, edge, lip, 1.0, u) @ _LUMA
    flat = small_teeth_shade(t, 40.0, edge, lip, 1.0) @ _LUMA
    mid = (u > 0.45) & (u < 0.55)
    np.testing.assert_allclose(s[mid], flat[mid], atol=0.02)  # the front teeth lit
    assert s[0] < 0.8 * s[20] and s[-1] < 0.8 * s[20]  # the corners in shadow
    assert abs(s[0] / flat[0] - SMALL_SIDE_SHADE) < 0.1
    assert np.all(np.diff(s[:21]) >= -1e-9) and np.all(np.diff(s[20:]) <= 1e-9)  # falling evenly both ways
    # the lip's shadow on the side teeth only: the front ones lit up to the lip
    top = small_teeth_shade(np.zeros_like(u), 40.0, edge, lip, 1.0, u) @ _LUMA
    np.testing.assert_allclose(top[mid], s[mid], atol=0.02)
    assert top[4] < 0.9 * s[4] and top[-5] < 0.9 * s[-5]
    # the lower row's shade is nearer the lips' colour than the bounce of its depth alone
    lower = small_teeth_shade(np.array([20.0]), 40.0, np.array([8.0]), lip, 1.0)[0]
    c = lower / float(lower @ _LUMA)
    lip_c = lip / float(lip @ _LUMA)
    assert c[0] > lip_c[0] ** (1.0 - float(lower @ _LUMA)) + 0.05 and c[2] < 1.0


def _side_over_front(out, up, lo, band=(0.15, 0.3)):
    """The opening's luma (75th percentile) in its columns ``band`` of the corner distance from
    its middle (0.15-0.3: bench/bench_small_teeth.py's side) over its middle fifth's."""
    from test_models_mouth import opening_of

    roi, op = opening_of(up, lo, out.shape, pad=0)
    x0, y0, x1, y1 = roi
    y = out[y0:y1, x0:x1].astype(np.float64) @ _LUMA / 255
    ys, xs = np.nonzero(op > 0.99)
    off = np.abs((xs + x0 - up[0, 0]) / (up[-1, 0] - up[0, 0]) - 0.5)
    v = y[ys, xs]
    return float(np.percentile(v[(off >= band[0]) & (off < band[1])], 75)) / float(np.percentile(v[off < 0.1], 75))


def test_a_small_smile_s_side_teeth_fall_into_shade_and_a_large_one_s_are_unchanged(monkeypatch):
    """A small face's smile filled from the bank: its side teeth darker over its front ones than
    the same fill without the side shade, within real small smiles' side over front (0.81-1.03 on
    the world photos, 0.68-0.86 on London 008 022 061 shrunk; the row even read 0.80-0.99 and
    0.77-0.90: bench/bench_small_teeth.py), and the teeth beyond them toward the corners darker
    still; an opening 180 px wide is filled byte for byte as without it."""
    from faceedit.stage import teeth_look

    fill = _fill_drawn
    small, up, lo = fill(40.0, 9.0)
    large = fill(180.0, 36.0)[0]
    monkeypatch.setattr(teeth_look, "SMALL_SIDE_SHADE", 1.0)  # the side shade off
    monkeypatch.setattr(teeth_look, "SMALL_LOWER_WARM", 0.0)
    even = fill(40.0, 9.0)[0]
    np.testing.assert_array_equal(fill(180.0, 36.0)[0], large)
    shaded, flat = _side_over_front(small, up, lo), _side_over_front(even, up, lo)
    outer, outer_flat = _side_over_front(small, up, lo, (0.3, 0.45)), _side_over_front(even, up, lo, (0.3, 0.45))
    assert shaded < flat and 0.68 <= shaded <= 1.03, (shaded, flat)  # the side teeth a little darker
    assert outer <= outer_flat - 0.08, (outer, outer_flat)  # toward the corners in shade


def _detail(out, up, lo):
    """The std of luma less its 1-px Gaussian inside the opening (bench/bench_small_teeth.py's detail)."""
    from test_models_mouth import opening_of

    roi, op = opening_of(up, lo, out.shape, pad=0)
    x0, y0, x1, y1 = roi
    y = out.astype(np.float64) @ _LUMA / 255
    hp = (y - cv2.GaussianBlur(y, (0, 0), 1.0))[y0:y1, x0:x1]
    return float(hp[op > 0.99].std())


def test_a_small_smile_keeps_its_teeth_s_separations_and_a_large_one_is_unchanged():
    """The bank's teeth area-downsampled into a 40-px smile lose the dark lines between them (real
    small smiles' detail, insightface's group_five: 0.061-0.089; the fill's 0.036); with
    ``small_teeth_sharpen`` the fill's detail rises, and an opening 180 px wide is filled byte for
    byte as without it."""
    from dataclasses import replace

    from test_models_mouth import face_landmarks, mouth, opening_of

    from faceedit.stage.mouth_bank import MouthBank
    from faceedit.stage.tuning import MouthTuning

    bank, plain = MouthBank.load(), _drawn()

    def fill(width, height, amount):
        up, lo = mouth(height, width=width)
        roi, op = opening_of(up, lo, plain.shape)
        tn = replace(MouthTuning(), small_teeth_sharpen=amount)
        return bank.fill(plain, roi, op, up, lo, face_lm=face_landmarks(), tuning=tn)[0], up, lo

    sharp, up, lo = fill(40.0, 9.0, MouthTuning().small_teeth_sharpen)
    soft = fill(40.0, 9.0, 0.0)[0]
    assert _detail(sharp, up, lo) >= 1.15 * _detail(soft, up, lo), (_detail(sharp, up, lo), _detail(soft, up, lo))
    np.testing.assert_array_equal(fill(180.0, 36.0, 2.5)[0], fill(180.0, 36.0, 0.0)[0])
