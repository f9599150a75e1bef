"""The cheeks' flattening works over boxes, not the whole image: :func:`faceedit.stage.smile.wing_lines`
over the band's box grown by its kernels' reach gives the whole image's values (checked against
the whole-image computation it replaced), at a face inside the image and at one cut by its edge,
and ``in_place`` writes those values into the array given; the cheeks' mask feathered over its
box is the whole image's within OpenCV's rounding of a Gaussian's far tails (under 1e-9)."""

from __future__ import annotations

import cv2
import numpy as np
from _imgs import astronaut_face

from faceedit.faces.landmarks import eye_distance
from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.smile import wing_band, wing_lines
from faceedit.stage.tuning import EditTuning


def _whole_image(pixels: np.ndarray, lm: np.ndarray, amount: float, tuning: EditTuning) -> np.ndarray:
    """The lines' lift computed over the whole image (as before the box)."""
    ed = eye_distance(lm)
    size = int(round(tuning.cheek_wing_close * ed)) | 1
    band = wing_band(pixels.shape, lm, ed, tuning.cheek_wing_reach) * float(amount)
    luma = pixels[..., :3] @ np.asarray(LUMA_WEIGHTS, np.float32)
    smooth = cv2.GaussianBlur(luma, (0, 0), max(tuning.cheek_wing_grain * ed, 0.5))
    closed = cv2.morphologyEx(smooth, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    lift = np.maximum(cv2.GaussianBlur(closed, (0, 0), 1.0) - smooth, 0.0)
    out = pixels.copy()
    out[..., :3] *= (1.0 + band * lift / np.maximum(luma, 1.0))[..., None]
    return out


def test_the_wing_lines_over_their_box_are_the_whole_images():
    lm0 = np.asarray(astronaut_face().landmarks, np.float64) * 4.0
    lm0 = lm0 - lm0.min(0)
    rng = np.random.default_rng(7)
    tn = EditTuning()
    # inside the image; then cut by its left edge at the left nose wing and its bottom edge just
    # under the mouth corners
    cut = np.array([12.0 - lm0[31, 0], 0.0])
    for shift, shape in ((np.array([150.0, 120.0]), (900, 850, 3)), (cut, (int(lm0[48, 1]) + 15, 700, 3))):
        lm = lm0 + shift
        img = cv2.GaussianBlur(rng.uniform(90, 210, shape).astype(np.float32), (0, 0), 1.5)
        want = _whole_image(img, lm, 0.8, tn)
        got = wing_lines(img, lm, 0.8, tn)
        assert not np.array_equal(want, img)
        assert np.abs(got - want).max() < 1e-4  # (on this machine: equal; OpenCV's far tails may round apart)
        assert np.array_equal(got[want == img], img[want == img])
        mine = img.copy()
        assert wing_lines(mine, lm, 0.8, tn, in_place=True) is mine and np.array_equal(mine, got)


def _whole_cheeks(shape: tuple[int, ...], lm: np.ndarray, reach: float, fold: float) -> np.ndarray:
    """The cheeks' mask feathered over the whole image (as before the box)."""
    from faceedit.stage.moves import face_frame
    from faceedit.stage.smile import _ellipse_dilate, _grown_box, _lips_and_nose, _near_mouth_boxed

    u, n, ed = face_frame(lm)
    m = np.zeros(shape[:2], np.float32)

    def short_of(jaw: int) -> np.ndarray:
        to = lm[33] - lm[jaw]
        return lm[jaw] + max(0.12, 0.15 * ed / max(float(np.linalg.norm(to)), 1e-9)) * to

    for side, (lid, corner, jaw_top, jaw_low, wing, mouth) in (
            (-1.0, ((40, 41), 36, 1, 4, 31, 48)), (1.0, ((47, 46), 45, 15, 12, 35, 54))):
        poly = np.array([lm[list(lid)].mean(0) + 0.1 * ed * n, lm[corner] + 0.15 * ed * n, short_of(jaw_top),
                         short_of(jaw_low), lm[mouth] + 0.15 * ed * n + side * 0.05 * ed * u,
                         lm[mouth] + side * 0.02 * ed * u, lm[wing] + side * 0.02 * ed * u])
        cv2.fillPoly(m, [np.round(poly).astype(np.int32)], 1.0)
    if fold > 0:
        g = max(int(round(fold * ed)), 1)
        near, (nx0, ny0, nx1, ny1) = _near_mouth_boxed(shape, lm, ed, 0.25)
        x0, y0, x1, y1 = _grown_box((nx0, ny0, nx1 - nx0, ny1 - ny0), g, shape)
        grown = np.zeros(shape[:2], np.float32)
        if nx1 > nx0 and ny1 > ny0:
            grown[ny0:ny1, nx0:nx1] = _ellipse_dilate(m[y0:y1, x0:x1], g)[ny0 - y0:ny1 - y0, nx0 - x0:nx1 - x0]
        m = np.maximum(m, grown * near)
    m[_lips_and_nose(shape, lm, ed)] = 0.0
    return cv2.GaussianBlur(m, (0, 0), max(reach, 0.5))


def test_the_cheeks_mask_over_its_box_is_the_whole_images():
    from faceedit.stage.smile import _cheek_mask

    lm0 = np.asarray(astronaut_face().landmarks, np.float64) * 4.0
    lm0 = lm0 - lm0.min(0)
    ed = eye_distance(lm0)
    # inside the image; cut by its left edge at the cheek and its bottom edge at the mouth
    for shift, shape in ((np.array([150.0, 120.0]), (900, 850)), (np.array([-lm0[2, 0] - 20.0, 0.0]), (int(lm0[57, 1]), 600))):
        lm = lm0 + shift
        for reach, fold in ((0.05 * ed, 0.0), (0.05 * ed, 0.1), (0.3, 0.1)):
            want = _whole_cheeks(shape, lm, reach, fold)
            got = _cheek_mask(shape, lm, reach, fold)
            # (OpenCV's Gaussian rounds a few of the far tails' ~1e-12 differently at another size)
            assert want.max() > 0.9 and np.abs(got - want).max() < 1e-9, (shape, reach, fold)
            assert not got[want == 0].any()
