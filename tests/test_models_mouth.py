"""The mouth-interior filler (faceedit.stage.mouth_bank) with the shipped bank, on drawn faces."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from _imgs import EYES, drawn_face

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.cut_curves import opening_polygon
from faceedit.stage.lips import opening_aspect
from faceedit.stage.mouth import DESCRIPTORS, paint_seam
from faceedit.stage.mouth_bank import MouthBank
from faceedit.stage.tuning import MouthTuning

LUMA = np.asarray(LUMA_WEIGHTS)


@pytest.fixture(scope="module")
def bank() -> MouthBank:
    return MouthBank.load()


def face_landmarks() -> np.ndarray:
    """68 points of the drawn face: the eye contours (36-47) around :data:`EYES` (the only points
    the filler reads: eye distance and eye whites), the rest at the face's centre."""
    lm = np.tile([240.0, 160.0], (68, 1))
    a = np.deg2rad([180, 135, 45, 0, -45, -135])  # iBUG order: outer corner, upper lid, inner corner, lower lid
    for i, (cx, cy) in zip((36, 42), EYES):
        lm[i:i + 6] = np.c_[cx + 28 * np.cos(a), cy - 11 * np.sin(a)]
    return lm


def mouth(height: float, width: float = 180.0, cx: float = 240.0, cy: float = 200.0):
    """Inner-lip curves (left corner first) of an opening ``height`` px tall at its middle."""
    t = np.linspace(0.0, 1.0, 15)
    x = cx - width / 2 + width * t
    bump = np.sin(np.pi * t)
    upper = np.c_[x, cy - 0.15 * height * bump]
    lower = np.c_[x, cy + 0.85 * height * bump]
    return upper, lower


def opening_of(upper, lower, shape, pad=4):
    poly = opening_polygon(upper, lower)
    x0, y0 = np.floor(poly.min(0)).astype(int) - pad
    x1, y1 = np.ceil(poly.max(0)).astype(int) + pad + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, shape[1]), min(y1, shape[0])
    m = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(m, [np.round((poly - [x0, y0]) * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
    return (x0, y0, x1, y1), m.astype(np.float32) / 255.0


def filled_region(roi, op, shape, erode=3):
    """Full-image mask of the opening's solid interior (opening == 1, eroded)."""
    x0, y0, x1, y1 = roi
    m = np.zeros(shape[:2], np.uint8)
    m[y0:y1, x0:x1] = (op >= 1.0).astype(np.uint8)
    return cv2.erode(m, np.ones((2 * erode + 1, 2 * erode + 1), np.uint8)) > 0


def test_bank_loads(bank):
    assert len(bank) >= 20
    assert bank.images.dtype == np.uint8 and bank.images.shape[-1] == 3
    assert bank.descriptors.shape == (len(bank), len(DESCRIPTORS))
    assert np.isfinite(bank.descriptors).all() and np.isfinite(bank.cavity).all()
    assert all(s.startswith("london-") for s in bank.subjects)
    assert bank.meta["held_out"]  # the held-out subjects are recorded ...
    assert not set(bank.meta["held_out"].split(",")) & set(bank.subjects)  # ... and absent


def test_only_the_opening_changes(bank):
    img = drawn_face()
    up, lo = mouth(30)
    roi, op = opening_of(up, lo, img.shape)
    out, ex = bank.fill(img, roi, op, up, lo)
    assert out.shape == img.shape and out.dtype == img.dtype and 0 <= ex < len(bank)
    outside = np.ones(img.shape[:2], bool)
    x0, y0, x1, y1 = roi
    outside[y0:y1, x0:x1] = op == 0
    np.testing.assert_array_equal(out[outside], img[outside])
    inside = filled_region(roi, op, img.shape)
    assert np.abs(out[inside].astype(int) - img[inside]).mean() > 20  # the interior is painted
    # teeth: the opening's brighter half is much brighter than the lips around it
    lum = out[inside] @ LUMA
    assert np.percentile(lum, 75) > 1.3 * (img[inside] @ LUMA).mean()


def test_deterministic_and_exemplar_kept(bank):
    img = drawn_face()
    up, lo = mouth(30)
    roi, op = opening_of(up, lo, img.shape)
    a, ea = bank.fill(img, roi, op, up, lo)
    b, eb = bank.fill(img, roi, op, up, lo)
    np.testing.assert_array_equal(a, b)
    assert ea == eb
    other = (ea + 1) % len(bank)
    c, ec = bank.fill(img, roi, op, up, lo, exemplar=other)
    assert ec == other and not np.array_equal(a, c)


def teeth_colour(out, roi, op):
    px = out[filled_region(roi, op, out.shape)].astype(np.float64)
    lum = px @ LUMA
    return px[lum >= np.percentile(lum, 75)].mean(0)


def test_tinted_face_gets_tinted_teeth(bank):
    """A photo with a warm white balance (blue x 0.75, green x 0.9) gets teeth of that balance.
    With the face's landmarks (eye whites and rings): the chromaticity of the filled teeth is
    within 0.02 of the untinted fill's teeth times the tint (the filler's dead zone leaves 5 %
    of a cast alone), while the untinted teeth are 0.045 or more from it. Without landmarks
    (rings only, half-way on purpose): at least a fifth of the way there."""
    tint = np.array([1.0, 0.9, 0.75])
    plain = drawn_face()
    warm = np.clip(np.rint(plain * tint), 0, 255).astype(np.uint8)
    lm = face_landmarks()
    up, lo = mouth(30)
    roi, op = opening_of(up, lo, plain.shape)
    filled, ex = bank.fill(plain, roi, op, up, lo, face_lm=lm)
    t_plain = teeth_colour(filled, roi, op)
    t_warm = teeth_colour(bank.fill(warm, roi, op, up, lo, face_lm=lm, exemplar=ex)[0], roi, op)
    chroma = lambda c: c / c.sum()  # noqa: E731
    target = chroma(t_plain * tint)
    before = np.abs(chroma(t_plain) - target).max()
    assert before > 0.045
    assert np.abs(chroma(t_warm) - target).max() < 0.02
    t_ring = teeth_colour(bank.fill(warm, roi, op, up, lo, exemplar=ex)[0], roi, op)
    assert np.abs(chroma(t_ring) - target).max() < 0.8 * before
    # and exposure: a photo at half the brightness gets darker teeth
    dim = (plain // 2).astype(np.uint8)
    t_dim = teeth_colour(bank.fill(dim, roi, op, up, lo, exemplar=ex)[0], roi, op)
    assert t_dim @ LUMA < 0.85 * (t_plain @ LUMA)


def test_dark_skin_keeps_bright_teeth_where_the_eye_whites_are_bright(bank):
    """Darker skin and lips around the mouth are the person's tone, not the photo's exposure,
    where the eye whites are as bright as before: the teeth stay as bright (within 5 %; they
    lose a quarter or more without that check). The same dark face with the whole photo at
    half the brightness (eye whites too) gets darker teeth. The eye whites are drawn at the
    brightness :func:`sclera_colour` reads in the London photos (luma 0.42-0.66)."""
    lm = face_landmarks()
    up, lo = mouth(30)
    white = (150, 146, 143)
    light = drawn_face(white=white)
    dark = drawn_face(skin=(92, 64, 52), lip=(96, 62, 64), white=white)
    roi, op = opening_of(up, lo, light.shape)
    ex = bank.fill(light, roi, op, up, lo, face_lm=lm)[1]
    t_light = teeth_colour(bank.fill(light, roi, op, up, lo, face_lm=lm, exemplar=ex)[0], roi, op) @ LUMA
    t_dark = teeth_colour(bank.fill(dark, roi, op, up, lo, face_lm=lm, exemplar=ex)[0], roi, op) @ LUMA
    t_ring = teeth_colour(bank.fill(dark, roi, op, up, lo, exemplar=ex)[0], roi, op) @ LUMA
    assert abs(t_dark / t_light - 1) < 0.05
    assert t_ring < 0.75 * t_light  # without the eyes, the rings alone darken them
    dim = (dark // 2).astype(np.uint8)
    t_dim = teeth_colour(bank.fill(dim, roi, op, up, lo, face_lm=lm, exemplar=ex)[0], roi, op) @ LUMA
    assert t_dim < 0.8 * t_dark


def test_large_opening_has_teeth_over_a_dark_textured_cavity(bank):
    img = drawn_face()
    up, lo = mouth(110)
    assert opening_aspect(up, lo)[0] > 1.5 * float(bank.desc("aspect").max())
    roi, op = opening_of(up, lo, img.shape)
    out, _ = bank.fill(img, roi, op, up, lo)
    lum = out.astype(np.float64) @ LUMA
    x = slice(220, 261)  # the middle of the mouth
    top = up[7, 1]
    teeth = lum[int(top) + 3:int(top) + 12, x]
    cavity = lum[int(top) + 40:int(top) + 70, x]
    assert teeth.mean() > 2.0 * cavity.mean()  # bright teeth over a dark cavity
    assert cavity.mean() < 0.5 * (img[..., :3].astype(np.float64) @ LUMA)[150, 240]  # darker than skin
    assert cavity.std() > 2.0  # not a constant colour
    rows = cavity.mean(1)
    assert np.ptp(rows) > 3.0  # shaded, not flat
    inside = filled_region(roi, op, img.shape)
    assert len(np.unique(out[inside].reshape(-1, 3), axis=0)) > 200


def test_covered_teeth_lie_under_the_upper_lip(bank):
    """``teeth_cover``: that share of the upper teeth a wide-open mouth shows goes under the lip
    (a relaxed lip, surprise): the bright band under the upper lip is shorter by about that
    share of the teeth's depth, and the cavity begins higher; the hint of the lower row's tips
    above the lower lip goes (at half cover and more); 0 is the default."""
    img = drawn_face()
    up, lo = mouth(110)
    roi, op = opening_of(up, lo, img.shape)
    out0, e = bank.fill(img, roi, op, up, lo)
    np.testing.assert_array_equal(bank.fill(img, roi, op, up, lo, teeth_cover=0.0)[0], out0)
    top = int(up[7, 1])
    skin = float((img[..., :3].astype(np.float64) @ LUMA)[150, 240])

    def band(out):  # rows under the upper lip, in the middle of the mouth, brighter than skin/2
        lum = (out.astype(np.float64) @ LUMA)[top:top + 60, 220:261].mean(1)
        return int(np.argmax(lum < 0.5 * skin))  # the first dark row

    covered, _ = bank.fill(img, roi, op, up, lo, exemplar=e, teeth_cover=0.5)
    assert 3 <= band(covered) < 0.8 * band(out0), (band(covered), band(out0))
    # the relaxed lower lip covers the lower row too: no pale line of its tips along the lip
    # (above the lit part of the lower lip's rim, its margin: ``rim_lower_flat`` of ``rim_lower``)
    tn = MouthTuning()
    bottom = int(lo[7, 1]) - int(np.ceil(tn.rim_lower_flat * tn.rim_lower * 180))

    def above_lower_lip(out):  # the brightest of the rows just above the lower lip's margin, middle
        return (out.astype(np.float64) @ LUMA)[bottom - 12:bottom - 2, 220:261].mean(1).max()

    assert above_lower_lip(covered) < 0.85 * above_lower_lip(out0), (above_lower_lip(covered), above_lower_lip(out0))


@pytest.mark.parametrize("shape", ["2d", "3d"])
def test_grey_stays_grey(bank, shape):
    grey = cv2.cvtColor(drawn_face(), cv2.COLOR_RGB2GRAY)
    img = grey if shape == "2d" else np.repeat(grey[..., None], 3, 2)
    up, lo = mouth(30)
    roi, op = opening_of(up, lo, img.shape)
    out, _ = bank.fill(img, roi, op, up, lo)
    assert out.shape == img.shape
    if shape == "3d":
        assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()
    inside = filled_region(roi, op, img.shape)
    assert np.abs(out[inside].astype(int) - img[inside]).mean() > 10


def test_uint16(bank):
    img8 = drawn_face()
    img16 = img8.astype(np.uint16) * 257
    up, lo = mouth(30)
    roi, op = opening_of(up, lo, img8.shape)
    out8, e8 = bank.fill(img8, roi, op, up, lo)
    out16, e16 = bank.fill(img16, roi, op, up, lo)
    assert out16.dtype == np.uint16 and e16 == e8
    x0, y0, x1, y1 = roi
    outside = np.ones(img8.shape[:2], bool)
    outside[y0:y1, x0:x1] = op == 0
    np.testing.assert_array_equal(out16[outside], img16[outside])
    # the same picture at 16 bits (the grain is drawn the same way)
    assert np.abs(out16.astype(np.float64) / 257 - out8).max() <= 1.0
    assert len(np.unique(out16[filled_region(roi, op, img8.shape)] % 257)) > 10  # real 16-bit levels


def test_small_photo_is_area_downsampled(bank):
    """A face a quarter the size: the exemplar is shrunk by area, its teeth still have edges."""
    img = cv2.resize(drawn_face(), (120, 90), interpolation=cv2.INTER_AREA)
    up, lo = mouth(8, width=45, cx=60, cy=50)
    roi, op = opening_of(up, lo, img.shape, pad=2)
    out, _ = bank.fill(img, roi, op, up, lo)
    inside = filled_region(roi, op, img.shape, erode=1)
    assert inside.sum() > 20
    lum = out.astype(np.float64) @ LUMA
    assert lum[inside].std() > 8  # not a blurred band


@pytest.mark.parametrize("scale,sigma", [(1.0, 3.0), (1.0, 8.0), (2.5, 3.0), (0.5, 3.0)])
def test_grain_follows_the_photo(bank, scale, sigma):
    """The filled interior carries the photo's own grain, whether the bank is shrunk (scale 0.5),
    about at its size (1) or enlarged (2.5: the mouth 450 px wide): its high-pass noise (robust,
    as the filler measures it) is within 0.6-1.6x the skin's."""
    from faceedit.stage.mouth import highpass_noise

    rng = np.random.default_rng(1)
    smooth = cv2.GaussianBlur(drawn_face().astype(np.float64), (0, 0), 2.0)
    big = cv2.resize(smooth, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    img = np.clip(np.rint(big + rng.normal(0, sigma, big.shape[:2])[..., None]), 0, 255).astype(np.uint8)
    up, lo = mouth(30 * scale, 180 * scale, 240 * scale, 200 * scale)
    roi, op = opening_of(up, lo, img.shape)
    out, _ = bank.fill(img, roi, op, up, lo)
    luma = lambda a: (a.astype(np.float32) @ LUMA.astype(np.float32)) / 255  # noqa: E731
    skin = np.zeros(img.shape[:2], bool)
    skin[: int(60 * scale)] = True
    ratio = highpass_noise(luma(out), filled_region(roi, op, img.shape)) / highpass_noise(luma(img), skin)
    assert 0.6 < ratio < 1.6


@pytest.mark.parametrize("sigma", [1.0, 3.0, 8.0])
def test_a_wide_open_mouth_s_cavity_carries_the_photo_s_grain(bank, sigma):
    """The cavity of a wide-open mouth is drawn, not read from an exemplar: it gets the skin's
    grain whole, times ``cavity_grain`` (its high-pass noise within 0.6-1.6x that; at a studio
    photo's 1 level the exemplar's own noise is as large, and the cavity got a quarter of it),
    from a seed of its inputs (the same photo, the same grain)."""
    from faceedit.stage.mouth import highpass_noise

    rng = np.random.default_rng(2)
    smooth = cv2.GaussianBlur(drawn_face().astype(np.float64), (0, 0), 2.0)
    img = np.clip(np.rint(smooth + rng.normal(0, sigma, smooth.shape[:2])[..., None]), 0, 255).astype(np.uint8)
    up, lo = mouth(110)
    roi, op = opening_of(up, lo, img.shape)
    out, e = bank.fill(img, roi, op, up, lo)
    luma = lambda a: (a.astype(np.float32) @ LUMA.astype(np.float32)) / 255  # noqa: E731
    cavity = np.zeros(img.shape[:2], bool)
    top = int(up[7, 1])
    cavity[top + 40:top + 70, 200:281] = True  # below the teeth, above the tongue
    assert luma(out)[cavity].mean() < 0.35 * luma(img)[150, 240]  # it is the dark cavity
    skin = np.zeros(img.shape[:2], bool)
    skin[:60] = True
    ratio = highpass_noise(luma(out), cavity) / highpass_noise(luma(img), skin) / MouthTuning().cavity_grain
    assert 0.6 < ratio < 1.6
    again, _ = bank.fill(img, roi, op, up, lo, exemplar=e)
    np.testing.assert_array_equal(again, out)


def test_very_large_opening(bank):
    """An opening of more than 32767 pixels (OpenCV's remap limit for one row of points), as a
    dropped jaw in a large photo gives: filled everywhere, teeth over a dark cavity."""
    img = cv2.resize(drawn_face(), None, fx=3.0, fy=3.0, interpolation=cv2.INTER_LINEAR)
    up, lo = mouth(330, 540, 720, 600)
    roi, op = opening_of(up, lo, img.shape)
    assert (op > 0).sum() > 40000
    out, _ = bank.fill(img, roi, op, up, lo)
    inside = filled_region(roi, op, img.shape)
    assert (np.abs(out[inside].astype(int) - img[inside]).sum(1) > 0).mean() > 0.95
    lum = out.astype(np.float64) @ LUMA
    top = int(up[7, 1])
    assert lum[top + 10:top + 30, 690:750].mean() > 2.0 * lum[top + 120:top + 200, 690:750].mean()


def test_curve_order_and_landmark_checks(bank):
    img = drawn_face()
    up, lo = mouth(30)
    roi, op = opening_of(up, lo, img.shape)
    a, ea = bank.fill(img, roi, op, up, lo)
    b, eb = bank.fill(img, roi, op, up[::-1], lo[::-1])  # right corner first: the same mouth
    assert ea == eb
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="68"):
        bank.fill(img, roi, op, up, lo, face_lm=np.zeros((5, 2)))


def test_closed_lips_get_a_dark_seam_where_they_meet_and_nothing_else_changes():
    img = drawn_face()  # lips without any line between them
    x = np.linspace(140.0, 340.0, 21)
    line = np.stack([x, 200.0 + 0.0004 * (x - 240.0) ** 2], 1)  # a slight smile curve
    eye = 140.0
    out = paint_seam(img, line, line, eye, 1.0)
    luma = lambda a: a.astype(np.float64) @ LUMA  # noqa: E731
    mid = luma(out)[198:203, 230:250].min() / luma(img)[185:215, 230:250].mean()
    assert abs(mid - MouthTuning.seam_dark) < 0.08  # the line's middle at the measured darkness
    # beside the line and past the corners nothing changes; nothing is ever lighter
    far = np.ones(img.shape[:2], bool)
    far[180:222, 125:355] = False
    assert np.array_equal(out[far], img[far])
    assert (luma(out) <= luma(img) + 0.75).all()
    # the colour kept: chroma ratios at the line's middle as before
    a, b = img[200, 240].astype(float), out[200, 240].astype(float)
    assert np.allclose(a / a.sum(), b / b.sum(), atol=0.02)
    # near the corners the dip fades, half the amount is about half the darkening
    assert luma(out)[200, 142] > luma(out)[200, 240] + 10
    half = luma(paint_seam(img, line, line, eye, 0.5))[200, 240]
    assert abs((luma(img)[200, 240] - half) - 0.5 * (luma(img)[200, 240] - luma(out)[200, 240])) < 3
    assert paint_seam(img, line, line, eye, 0.0) is img
    # a seam already darker than the measured one is not deepened: nothing darker than its own darkest, and
    # its darkness across the line (the luma it takes from the lips, summed over the rows) about what was
    # there; the closed line's course and the squeeze of a wide carried band may move and thin it
    # (seam_course.straighten_line's course_plan, seam_squeeze.squeeze_band: 3 rows -> a row and shoulders)
    dark = img.copy()
    dark[199:202, 150:330] = (20, 10, 10)
    kept = paint_seam(dark, line, line, eye, 1.0)
    assert luma(kept)[190:212, 200:280].min() >= luma(dark)[190:212, 200:280].min() - 0.75
    taken = (luma(img) - luma(kept))[190:212, 200:280].sum(0)
    had = (luma(img) - luma(dark))[190:212, 200:280].sum(0)
    assert np.all(np.abs(taken / had - 1.0) < 0.15), (taken / had).round(2)


def test_a_relaxed_lip_covers_the_side_teeth_first(bank):
    """The upper row of a wide opening recedes into the mouth's shadow towards the corners
    (``side_teeth_*`` of MouthTuning), with ``teeth_cover`` or without: drawn to the corners at
    the front teeth's light it was a white bracket around a surprised mouth, a uniform band from
    corner to corner. Beside a corner, under the upper lip, the opening is under 0.3 of the
    front teeth's luma (0.12; 0.50 when only the cover faded the side teeth); with the cover a
    little further in it is darker still than without (0.68 of it), and the front teeth show."""
    img = drawn_face()
    up, lo = mouth(110)
    roi, op = opening_of(up, lo, img.shape)
    out0, e = bank.fill(img, roi, op, up, lo)
    covered, _ = bank.fill(img, roi, op, up, lo, exemplar=e, teeth_cover=0.4)

    def lum(out, k):  # under the upper lip at the curve's k-th point (of 15, left corner first)
        x, y = int(up[k, 0]), int(np.ceil(up[k, 1]))
        return float((out.astype(np.float64) @ LUMA)[y + 2:y + 10, x - 4:x + 5].mean())

    assert lum(out0, 2) < 0.3 * lum(out0, 7), (lum(out0, 2), lum(out0, 7))
    assert lum(covered, 3) < 0.85 * lum(out0, 3), (lum(covered, 3), lum(out0, 3))
    assert lum(covered, 7) > 1.5 * lum(covered, 2), (lum(covered, 7), lum(covered, 2))


def test_an_open_mouth_s_lips_roll_inward_as_rims_of_their_own_colour(bank):
    """A wide-open mouth meets its lips without an edge: the pixels just inside each inner-lip
    curve take the lips' own colour (the wet inner margin rolling inward), nearer to its hue than
    the dark interior drawn without rims (their widths 0), and darker than the lips. (No
    tongue here, ``tongue_top`` past the lower lip: a tongue lies behind the lower lip's rim,
    :func:`test_an_open_mouth_shows_its_tongue_without_an_outline`.)"""
    up, lo = mouth(110)
    img = drawn_face().copy()
    lip = np.array([170.0, 90.0, 95.0])  # red lips drawn round the opening
    cv2.polylines(img, [np.round(opening_polygon(up, lo) * 16).astype(np.int32)], True, lip.tolist(), 30,
                  cv2.LINE_AA, shift=4)
    roi, op = opening_of(up, lo, img.shape)
    e = bank.choose(opening_aspect(up, lo)[0])
    out, _ = bank.fill(img, roi, op, up, lo, exemplar=e, teeth_cover=0.4, tuning=MouthTuning(tongue_top=2.0))
    flat, _ = bank.fill(img, roi, op, up, lo, exemplar=e, teeth_cover=0.4,
                        tuning=MouthTuning(rim_upper=0.0, rim_lower=0.0, tongue_top=2.0))
    # the lower lip's rim (1-3 px inside its curve), the upper lip's thinner one over the teeth (1 px)
    for lower, rows in ((True, slice(int(lo[7, 1]) - 3, int(lo[7, 1]))), (False, slice(int(up[7, 1]) + 1, int(up[7, 1]) + 2))):

        def margin(o, rows=rows):  # the middle of the mouth
            return o[rows, 230:251].reshape(-1, 3).astype(np.float64).mean(0)

        rim, hole = margin(out), margin(flat)

        def hue(c):  # the colour over its luma
            return c / max(float(c @ LUMA), 1e-6)

        assert np.linalg.norm(hue(rim) - hue(lip)) < 0.8 * np.linalg.norm(hue(hole) - hue(lip)), (rim, hole, lip)
        if lower:
            assert rim[0] - rim[2] > hole[0] - hole[2] + 10, (rim, hole)  # the lip's red, not a grey ring
            assert rim @ LUMA < lip @ LUMA, (rim, lip)  # in the lip's shade


def test_parted_lips_of_a_relaxed_mouth_are_drawn_open(bank):
    """A low opening (lips parted, as surprise at half strength) whose upper lip covers the
    teeth (a target without a smile, ``teeth_cover`` above ``open_cover``) shows the upper
    teeth's edge over a dark gap, not a smile's two rows of teeth squeezed into the slit: its
    lower half is darker than with no cover."""
    img = drawn_face()
    up, lo = mouth(26)
    roi, op = opening_of(up, lo, img.shape)
    e = bank.choose(opening_aspect(up, lo)[0])
    smile, _ = bank.fill(img, roi, op, up, lo, exemplar=e, teeth_cover=0.0)
    parted, _ = bank.fill(img, roi, op, up, lo, exemplar=e, teeth_cover=0.4)
    y0, y1 = int(up[7, 1]), int(lo[7, 1])
    low = slice((y0 + y1) // 2, y1 - 3)

    def lower_half(o):
        return float((o[low, 200:281].astype(np.float64) @ LUMA).mean())

    assert lower_half(parted) < 0.7 * lower_half(smile), (lower_half(parted), lower_half(smile))


def test_the_parted_crease_s_dark_line_round_an_open_mouth_is_lifted(bank):
    """Closed lips parted by the warp keep the crease's dark line along each lip's edge: round
    an open mouth the lips within ``rim_outside`` of the opening are lifted to the lips' colour
    where darker; farther out, and lips at least as light, nothing changes."""
    img = drawn_face()
    up, lo = mouth(110)
    line = np.round(np.vstack([lo[1:-1] + [0, 2]]) * 16).astype(np.int32)
    dark = img.copy()
    cv2.polylines(dark, [line], False, (40, 20, 20), 2, cv2.LINE_8, shift=4)
    roi, op = opening_of(up, lo, img.shape)
    out, _ = bank.fill(dark, roi, op, up, lo, teeth_cover=0.4)
    x, y = 240, int(round(lo[7, 1])) + 2
    assert out[y, x] @ LUMA > dark[y, x] @ LUMA + 30, (out[y, x], dark[y, x])
    reach = MouthTuning().rim_outside * 180
    far = int(lo[7, 1] + reach + 3)
    np.testing.assert_array_equal(out[far:far + 20], dark[far:far + 20])
    assert (out[y + 3:y + 6, 230:251] >= dark[y + 3:y + 6, 230:251]).all()  # never darker


def test_an_open_mouth_shows_its_tongue_without_an_outline(bank):
    """A wide-open mouth shows the tongue's top over its lower part: at the middle, the lower
    third is lighter and redder for its luma than the cavity over it, in a red-pink (red over green and
    blue alike, not the lips' brown or an orange), darker than the lips, in the middle of the
    mouth (a fifth of the width from a corner the cavity is dark: lit to the corners, a
    tongue moved the Face Mesh's mouth corner on a surprised edit); and the lower lip's rim
    fades into it without dipping below it (a rim darker than both drew a dark outline round
    the tongue)."""
    up, lo = mouth(110)
    img = drawn_face().copy()
    lip = np.array([150.0, 95.0, 80.0])  # brownish lips: the tongue keeps its own pink
    cv2.polylines(img, [np.round(opening_polygon(up, lo) * 16).astype(np.int32)], True, lip.tolist(), 30,
                  cv2.LINE_AA, shift=4)
    roi, op = opening_of(up, lo, img.shape)
    e = bank.choose(opening_aspect(up, lo)[0])
    out, _ = bank.fill(img, roi, op, up, lo, exemplar=e, teeth_cover=0.4)
    rgb = out.astype(np.float64)
    top, bottom = float(up[7, 1]), float(lo[7, 1])
    h = bottom - top

    def band(a, b):  # mean colour of the middle columns between shares a and b of the opening's height
        return rgb[int(top + a * h):int(top + b * h), 230:251].reshape(-1, 3).mean(0)

    cavity, tongue = band(0.35, 0.5), band(0.75, 0.85)
    assert tongue @ LUMA > 1.3 * (cavity @ LUMA), (tongue, cavity)
    # redder for its luma (it lies in shade: a few levels above the cavity)
    assert (tongue[0] - tongue[1]) / (tongue @ LUMA) > (cavity[0] - cavity[1]) / (cavity @ LUMA) + 0.1, (tongue, cavity)
    assert tongue @ LUMA < lip @ LUMA, (tongue, lip)
    assert abs(tongue[1] - tongue[2]) < 0.25 * (tongue[0] - tongue[1]), tongue  # pink, not orange
    x, side_top, side_h = int(up[3, 0]), float(up[3, 1]), float(lo[3, 1] - up[3, 1])  # a fifth from the corner
    side = rgb[int(side_top + 0.75 * side_h):int(side_top + 0.85 * side_h), x - 3:x + 4].reshape(-1, 3).mean(0)
    assert side @ LUMA < 0.7 * (tongue @ LUMA), (side, tongue)
    # from the tongue down to the lower lip's curve the luma never falls below the tongue's
    rows = [rgb[y, 230:251].mean(0) @ LUMA for y in range(int(top + 0.8 * h), int(bottom))]
    assert min(rows) > 0.85 * (tongue @ LUMA), (rows, tongue @ LUMA)


def test_an_open_mouth_has_form_in_the_dark(bank):
    """A wide-open mouth is darkest at the throat under the upper teeth and the tongue low in
    it lightens towards its front (real wide-open mouths, dlib's inner mouth in bands from the
    upper lip down, JAFFE's surprise: 0.02 of the cheek's luma under the teeth, 0.24 at the
    front). In the middle of the mouth the band from 0.15 to 0.3 of the opening's height is
    under 0.4 of the tongue's front (0.8 to 0.9; 0.24 here, 0.67 without ``throat_dark``: a
    near-flat dark), and the front is over 2.3 times the tongue's back (0.6 to 0.7; 2.7 here,
    1.9 when it rose by 0.1 of the lips' luma over 0.3 of the height)."""
    up, lo = mouth(110)
    img = drawn_face()
    roi, op = opening_of(up, lo, img.shape)
    out, _ = bank.fill(img, roi, op, up, lo, exemplar=bank.choose(opening_aspect(up, lo)[0]), teeth_cover=0.4)
    rgb = out.astype(np.float64)
    top, h = float(up[7, 1]), float(lo[7, 1] - up[7, 1])

    def band(a, b):  # mean luma of the middle columns between shares a and b of the opening's height
        return float(rgb[int(top + a * h):int(top + b * h), 225:256].reshape(-1, 3).mean(0) @ LUMA)

    throat, back, front = band(0.15, 0.3), band(0.6, 0.7), band(0.8, 0.9)
    assert throat < 0.4 * front, (throat, front)
    assert front > 2.3 * back, (front, back)


@pytest.mark.parametrize("height", [110, 60])
def test_an_open_mouth_s_corners_lie_in_shade_without_a_light_wedge(bank, height):
    """Where an open mouth narrows to its corners the lips' rims meet there in the corners'
    shade: the lightest tenth of the opening within a tenth of its width from each corner is
    under 0.7 of the lips' luma (76-78 of 114 here; 82-90 on the stage of a6604a8, whose
    rims were lit there: a light wedge at the right corner of london-008's surprised mouth at
    1350 px)."""
    up, lo = mouth(height)
    img = drawn_face().copy()
    lip = np.array([170.0, 90.0, 95.0])
    cv2.polylines(img, [np.round(opening_polygon(up, lo) * 16).astype(np.int32)], True, lip.tolist(), 30,
                  cv2.LINE_AA, shift=4)
    roi, op = opening_of(up, lo, img.shape)
    out, _ = bank.fill(img, roi, op, up, lo, teeth_cover=0.4)
    x0, y0, x1, y1 = roi
    m = np.zeros(img.shape[:2], bool)
    m[y0:y1, x0:x1] = op > 0.5
    y = out.astype(np.float64) @ LUMA
    xs = np.nonzero(m)[1]
    wd, cols = xs.max() - xs.min(), np.arange(img.shape[1])
    for end, sign in ((xs.min(), 1), (xs.max(), -1)):
        near = m & ((cols - end) * sign < 0.1 * wd)[None, :]
        assert np.percentile(y[near], 90) < 0.7 * (lip @ LUMA), (end, np.percentile(y[near], 90))


def test_an_open_mouth_s_edge_has_the_focus_of_the_lips_round_it(bank):
    """The opening's edge is blurred to a photo's focus (``edge_focus`` px) from inside: across
    the upper lip's curve at the middle the steepest step in luma is under 0.8 of the step drawn
    sharp (``edge_focus`` 0; 23 against 31 levels here), and no pixel outside the opening
    differs from the sharp fill."""
    up, lo = mouth(110)
    img = drawn_face().copy()
    lip = np.array([170.0, 90.0, 95.0])
    cv2.polylines(img, [np.round(opening_polygon(up, lo) * 16).astype(np.int32)], True, lip.tolist(), 30,
                  cv2.LINE_AA, shift=4)
    roi, op = opening_of(up, lo, img.shape)
    e = bank.choose(opening_aspect(up, lo)[0])
    soft, _ = bank.fill(img, roi, op, up, lo, exemplar=e, teeth_cover=0.4)
    sharp, _ = bank.fill(img, roi, op, up, lo, exemplar=e, teeth_cover=0.4, tuning=MouthTuning(edge_focus=0.0))
    x0, y0, x1, y1 = roi
    outside = np.ones(img.shape[:2], bool)
    outside[y0:y1, x0:x1] = op <= 0
    np.testing.assert_array_equal(soft[outside], sharp[outside])
    y = int(round(up[7, 1]))

    def step(o):  # the steepest luma step down the middle columns across the upper curve
        col = o[y - 4:y + 5, 230:251].astype(np.float64) @ LUMA
        return float(np.abs(np.diff(col, axis=0)).max(0).mean())

    assert step(soft) < 0.8 * step(sharp), (step(soft), step(sharp))


def test_no_lower_lip_rim_is_drawn_against_teeth_below_the_opening(bank):
    """teeth_below: under each column of an opening, light grey pixels (a smile's lower teeth) read
    as teeth, the lips' own colour as lip; the bank then leaves the lower rim out over teeth only
    (with the face's own upper teeth shown): the cavity's last rows stay dark against them."""
    from faceedit.stage.lip_rims import teeth_below

    lip = np.array([0.63, 0.45, 0.45])
    img = np.zeros((60, 100, 3), np.uint8)
    img[:] = np.round(lip * 255).astype(np.uint8)
    img[31:34, 50:] = (205, 200, 195)  # teeth under the right half
    op = np.zeros((40, 80), np.float32)
    op[10:21, 5:75] = 1.0  # roi (10, 10, 90, 50): rows 20-30 of the photo
    t = teeth_below(img, (10, 10, 90, 50), op, lip, 70.0)
    assert t[15, 50 - 10 + 5] > 0.9 and t[15, 10] == 0.0 and t[30].max() == 0.0

    img = drawn_face()
    up, lo = mouth(30)  # no tongue: the cavity down to the lower lip's rim
    roi, op = opening_of(up, lo, img.shape)
    x0, y0, x1, y1 = roi
    bottom = (np.arange(op.shape[0])[:, None] * (op > 0.5)).max(0)  # each column's lowest row
    teeth = img.copy()
    for c in np.flatnonzero(bottom):
        teeth[y0 + bottom[c] + 1:y0 + bottom[c] + 4, x0 + c] = (210, 205, 200)
    plain, e = bank.fill(img, roi, op, up, lo, own_teeth=True)
    over, _ = bank.fill(teeth, roi, op, up, lo, own_teeth=True, exemplar=e)
    rows = np.zeros(img.shape[:2], bool)
    for c in range(220 - x0, 261 - x0):  # the middle of the mouth: its last 3 rows
        rows[y0 + bottom[c] - 2:y0 + bottom[c] + 1, x0 + c] = True
    lum = lambda a: a.astype(np.float64) @ LUMA  # noqa: E731
    assert lum(over)[rows].mean() < lum(plain)[rows].mean() - 20  # 29 against 70 over the lip
