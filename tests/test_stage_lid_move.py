"""An eye opened wide (faceedit.stage.lid_move): its upper margin moved as a line at its own
thickness over the eyeball, not stretched with the opening into a thick dark band."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceedit.pixels import luma
from faceedit.stage.eye_open import _Frame
from faceedit.stage.lid_move import margin_band, move_lid_margin, narrow_weight, open_weight
from faceedit.stage.tuning import EyesTuning

SKIN = np.array([0.85, 0.68, 0.55], np.float32)
LASH = np.array([0.2, 0.14, 0.1], np.float32)
WHITE = np.array([0.8, 0.78, 0.76], np.float32)
IRIS = np.array([0.3, 0.25, 0.2], np.float32)


def _eye(top: float, bottom: float, x0: float = 20.0, width: float = 18.0, y: float = 30.0) -> np.ndarray:
    """6 68-point contour points: outer corner, upper two, inner corner, lower two."""
    return np.array([[x0, y], [x0 + width / 3, y - top], [x0 + 2 * width / 3, y - top], [x0 + width, y],
                     [x0 + 2 * width / 3, y + bottom], [x0 + width / 3, y + bottom]], np.float64)


def _photo(eye: np.ndarray, size: int = 60, band: float = 2.0) -> np.ndarray:
    """Skin with an eye: between its lids the white, an iris of radius 3 at (29, 29), the upper
    margin ``band`` px thick below the upper lid's line (and half a pixel above it)."""
    fr = _Frame(eye)
    yy, xx = np.mgrid[0:size, 0:size]
    f = fr.to_frame(np.stack([xx, yy], -1).astype(np.float64))
    x, y = f[..., 0], f[..., 1]
    img = np.tile(SKIN, (size, size, 1))
    opening = (x > 0) & (x < fr.width) & (y > fr.up(x)) & (y < fr.low(x))
    img[opening] = WHITE
    img[opening & (np.hypot(xx - 29.0, yy - 29.0) <= 3.0)] = IRIS
    img[(x > 0) & (x < fr.width) & (y > fr.up(x) - 0.5) & (y < fr.up(x) + band)] = LASH
    return img


def _stretch(src_eye: np.ndarray, dst_eye: np.ndarray):
    """The warp's map from an edited box back to the source: each column's opening stretched
    from the source's lids to the edited ones, above and below translated with the lid there."""
    fs, fd = _Frame(src_eye), _Frame(dst_eye)

    def source_points(box):
        x0, y0, x1, y1 = box
        yy, xx = np.mgrid[y0:y1, x0:x1]
        f = fd.to_frame(np.stack([xx, yy], -1).astype(np.float64))
        x, y = f[..., 0], f[..., 1]
        xs = x / fd.width * fs.width
        ud, ld, us, ls = fd.up(x), fd.low(x), fs.up(xs), fs.low(xs)
        ys = np.where(y < ud, us + (y - ud), np.where(y > ld, ls + (y - ld),
                                                        us + (y - ud) * (ls - us) / np.maximum(ld - ud, 1e-6)))
        return fs.to_photo(xs, ys).astype(np.float32)
    return source_points


def _dark_run(column: np.ndarray, start: int) -> int:
    """Rows from ``start`` down while darker than half-way from the lash to the skin."""
    cut = 0.5 * (float(luma(LASH)) + float(luma(SKIN)))
    n = 0
    while start + n < len(column) and column[start + n] < cut:
        n += 1
    return n


def test_the_margin_moves_as_a_line_over_the_white():
    src_eye, dst_eye = _eye(2.5, 2.0), _eye(6.5, 3.0)
    src = _photo(src_eye)
    sp = _stretch(src_eye, dst_eye)
    warped = cv2.remap(src, *np.moveaxis(sp((0, 0, 60, 60)), -1, 0), cv2.INTER_LINEAR)
    assert margin_band(src, _Frame(src_eye), EyesTuning()) is not None
    c_d = np.array([29.0, 29.0]) + (dst_eye[[0, 3]] - src_eye[[0, 3]]).mean(0)
    got = move_lid_margin(src, warped, src_eye, dst_eye, sp, (np.array([29.0, 29.0]), c_d, 3.0, True))
    assert got is not None
    (x0, y0, x1, y1), px = got
    top = int(np.ceil(30.0 + float(_Frame(dst_eye).up(np.array(4.0)))))  # column x 24: beside the iris
    before = _dark_run(luma(warped[:, 24]), top)
    after = _dark_run(luma(px[:, 24 - x0]), top - y0)
    assert before >= 4 and after <= 3  # the warp stretched the 2-px margin; moved, it keeps its width
    # below it the eye's white, in the lid's shadow
    assert float(luma(px[top - y0 + 3, 24 - x0])) > 0.5
    # the iris drawn at its size is left as it is
    c = np.round(c_d).astype(int)
    assert np.allclose(px[c[1] - y0, c[0] - x0], warped[c[1], c[0]], atol=0.02)


def test_an_eye_opened_a_little_or_a_large_one_whose_white_shows_is_left():
    """An eye opened by under ``moved_lid_opens``' first factor is left as warped; one opened wide
    has its margin moved where it is small (at the photo's own pixels) or nearly shut at any size
    (a laughing portrait's eye 108 px wide, its lids 0.19 of that apart, made surprised: its margin
    12 px thick stays about that thick, where stretched it is as tall as the opening); a large eye
    whose white shows (0.35) is left to the kept iris's white."""
    assert open_weight(1.4) == 0.0 and open_weight(1.8) == 1.0  # a London face cut small; a group photo's
    assert open_weight(1.4, EyesTuning(moved_lid_opens=(1.0, 1.2))) == 1.0  # the record reaches it
    assert narrow_weight(0.2) == 1.0 and narrow_weight(0.3) == 0.0
    src_eye = _eye(2.5, 2.0)
    src = _photo(src_eye)
    little = _eye(3.0, 2.2)
    assert move_lid_margin(src, src, src_eye, little, _stretch(src_eye, little)) is None
    wide = _eye(6.5, 3.0)
    # a preview scaled down from a large photo: the eye's size read at the photo's own pixels
    assert move_lid_margin(src, src, src_eye, wide, _stretch(src_eye, wide), photo_scale=6.0) is None
    assert move_lid_margin(src, src, src_eye, wide, _stretch(src_eye, wide)) is not None
    big_src, big_dst = _eye(11.0, 9.5, 120.0, 108.0, 180.0), _eye(35.0, 16.0, 120.0, 108.0, 180.0)
    big = _photo(big_src, 360, 12.0)
    sp = _stretch(big_src, big_dst)
    warped = cv2.remap(big, *np.moveaxis(sp((0, 0, 360, 360)), -1, 0), cv2.INTER_LINEAR)
    got = move_lid_margin(big, warped, big_src, big_dst, sp)
    assert got is not None
    (x0, y0, _, _), px = got
    x = 156  # a third of the way along, under the upper lid's middle points
    top = int(np.ceil(180.0 + float(_Frame(big_dst).up(np.array(36.0)))))
    before, after = _dark_run(luma(warped[:, x]), top), _dark_run(luma(px[:, x - x0]), top - y0)
    assert after <= 14 < 20 <= before, (before, after)
    open_src, open_dst = _eye(20.0, 18.0, 120.0, 108.0, 180.0), _eye(44.0, 24.0, 120.0, 108.0, 180.0)
    assert move_lid_margin(_photo(open_src, 360, 12.0), warped, open_src, open_dst, _stretch(open_src, open_dst)) is None


def test_a_kept_iris_s_top_is_not_carried_with_the_margin():
    """Where the upper lid lies on the iris (a laughing eye) the margin read runs into it; with the
    iris kept, what the margin carries up with the lid is not the iris (its catchlight drawn a
    second time, above the kept iris, in the lid's dark band)."""
    src_eye, dst_eye = _eye(2.5, 2.0), _eye(6.5, 3.0)
    plain = _photo(src_eye)
    src = plain.copy()
    src[27:29, 29:31] = 0.98  # a catchlight in the iris's top, under the lid's margin
    sp = _stretch(src_eye, dst_eye)
    # the edit as the kept iris leaves it: the stretched iris and its catchlight painted over
    warped = cv2.remap(plain, *np.moveaxis(sp((0, 0, 60, 60)), -1, 0), cv2.INTER_LINEAR)
    c_d = np.array([29.0, 29.0]) + (dst_eye[[0, 3]] - src_eye[[0, 3]]).mean(0)
    got = move_lid_margin(src, warped, src_eye, dst_eye, sp, (np.array([29.0, 29.0]), c_d, 3.0, True))
    assert got is not None
    (x0, y0, x1, y1), px = got
    fd = _Frame(dst_eye)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    f = fd.to_frame(np.stack([xx, yy], -1).astype(np.float64))
    depth = f[..., 1] - fd.up(f[..., 0])
    band = (depth > -1.0) & (depth < 2.5) & (np.hypot(xx - c_d[0], yy - c_d[1]) > 3.5)  # the moved margin, off the kept iris
    assert float(luma(px[band]).max()) < 0.9, float(luma(px[band]).max())


def test_a_nearly_shut_eye_opened_wide_is_one_eyeball_in_a_white_it_did_not_show():
    """A laughing portrait's eye nearly shut (its "white" the lids' shadow, 0.3 grey) opened wide
    with its iris kept: all of the opening below the moved margin is one eyeball, as light as open
    eyes' whites are against the cheek (``narrow_white_over_cheek`` of its luma, less the lid's
    shadow and the corners'), not the shadow stretched; an eye whose white shows keeps its own."""
    t = EyesTuning()
    src_eye, dst_eye = _eye(11.0, 9.5, 120.0, 108.0, 180.0), _eye(35.0, 16.0, 120.0, 108.0, 180.0)
    src = _photo(src_eye, 360, 12.0)
    shadowed = np.all(np.isclose(src, WHITE), axis=-1)
    src[shadowed] = 0.3
    sp = _stretch(src_eye, dst_eye)
    warped = cv2.remap(src, *np.moveaxis(sp((0, 0, 360, 360)), -1, 0), cv2.INTER_LINEAR)
    c_d = np.array([174.0, 168.0])
    got = move_lid_margin(src, warped, src_eye, dst_eye, sp, (np.array([29.0, 29.0]), c_d, 3.0, True), t)
    assert got is not None
    (x0, y0, x1, y1), px = got
    fd = _Frame(dst_eye)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    f = fd.to_frame(np.stack([xx, yy], -1).astype(np.float64))
    x, y = f[..., 0], f[..., 1]
    ball = (x > 0.3 * fd.width) & (x < 0.7 * fd.width) & (y > fd.up(x) + 12.0 + 0.25 * fd.width) & (y < fd.low(x) - 2)
    assert ball.sum() > 100
    lit = float(np.median(luma(px[ball])))
    assert lit >= 0.9 * t.narrow_white_over_cheek * float(luma(SKIN)), lit
    assert float(np.median(luma(warped[y0:y1, x0:x1][ball]))) < 0.35  # the shadow, stretched


def test_a_redrawn_iris_hidden_under_a_squint_is_drawn_from_its_rings():
    """A squinting eye opened wide whose iris is redrawn (found, too little of it seen to keep): where the
    source hides the iris (under the upper lid's margin) the drawing takes the colour of the iris's ring at
    that distance from its centre (``rings``, centre to rim: the pupil, the iris, the limbus), not the
    median of the strip the squint shows. Filled with that median, a light iris was a pale disc crossed by the
    strip of its pupil (a web portrait's squint made surprised)."""
    t = EyesTuning()
    src_eye, dst_eye = _eye(11.0, 9.5, 120.0, 108.0, 180.0), _eye(35.0, 16.0, 120.0, 108.0, 180.0)
    src = _photo(src_eye, 360, 12.0)
    c_s, c_d, r = np.array([174.0, 185.0]), np.array([174.0, 172.0]), 14.0
    yy, xx = np.mgrid[0:360, 0:360]
    strip = np.all(np.isclose(src, WHITE), axis=-1) & (np.hypot(xx - c_s[0], yy - c_s[1]) <= r)
    src[strip] = 0.65  # the strip of a light iris the squint shows
    sp = _stretch(src_eye, dst_eye)
    warped = cv2.remap(src, *np.moveaxis(sp((0, 0, 360, 360)), -1, 0), cv2.INTER_LINEAR)
    rings = np.array([[0.05] * 3] * 4 + [[0.3] * 3] * 5 + [[0.2] * 3] * 2, np.float32)  # 11 rings, a dark iris
    hidden = (c_d + [0.0, -0.7 * r]).astype(int)  # an iris pixel the source hides under its margin
    seen = (c_d + [0.0, 0.0]).astype(int)  # the strip's middle, which the source shows
    got = {}
    for name, given in (("rings", rings), ("median", None)):
        out = move_lid_margin(src, warped, src_eye, dst_eye, sp, (c_s, c_d, r, False), t, rings=given)
        assert out is not None
        (x0, y0, _, _), px = out
        got[name] = (float(luma(px[hidden[1] - y0, hidden[0] - x0])), float(luma(px[seen[1] - y0, seen[0] - x0])))
    assert got["rings"][0] < 0.35 < 0.5 < got["median"][0], got  # the ring's colour, not the strip's
    assert got["rings"][1] == pytest.approx(got["median"][1], abs=1e-6)  # what the source shows stays its own
