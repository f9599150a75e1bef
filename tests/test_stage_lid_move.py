"""A small eye opened wide (faceedit.stage.lid_move): its upper margin moved as a line at its own
thickness over the eyeball, not stretched with the opening into a thick dark band."""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import luma
from faceedit.stage.eye_open import _Frame
from faceedit.stage.lid_move import margin_band, move_lid_margin, open_weight
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


def test_a_large_eye_or_one_opened_a_little_is_left():
    assert open_weight(1.4) == 0.0 and open_weight(1.8) == 1.0  # a London face cut small; a group photo's
    assert open_weight(1.4, EyesTuning(moved_lid_opens=(1.0, 1.2))) == 1.0  # the record reaches it
    src_eye = _eye(2.5, 2.0)
    src = _photo(src_eye)
    little = _eye(3.0, 2.2)
    assert move_lid_margin(src, src, src_eye, little, _stretch(src_eye, little)) is None
    wide = _eye(6.5, 3.0)
    # a preview scaled down from a large photo: the eye's size read at the photo's own pixels
    assert move_lid_margin(src, src, src_eye, wide, _stretch(src_eye, wide), photo_scale=6.0) is None
    assert move_lid_margin(src, src, src_eye, wide, _stretch(src_eye, wide)) is not None
