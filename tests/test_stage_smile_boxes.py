"""The cheeks' flattening works over boxes, not the whole image: :func:`faceedit.stage.smile.wing_lines`
over the band's box grown by its kernels' reach gives the whole image's values (checked against
the whole-image computation it replaced), at a face inside the image and at one cut by its edge,
and ``in_place`` writes those values into the array given."""

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
        assert np.array_equal(got, want)
        mine = img.copy()
        assert wing_lines(mine, lm, 0.8, tn, in_place=True) is mine and np.array_equal(mine, want)
