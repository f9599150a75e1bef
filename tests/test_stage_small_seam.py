"""Closed lips' seam on small and soft faces (:func:`faceedit.stage.mouth.paint_seam`): in the
colour of the lips' own dark, and as soft as the photo's lips (issue 55: insightface's group_t1
face 1 made neutral got a grey drawn line for a mouth)."""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.mouth import paint_seam

LUMA = np.asarray(LUMA_WEIGHTS)


def _small_lips(blur: float) -> np.ndarray:
    """A small mouth (corners 40 px apart) on skin: lips with a darker, redder rim (their own
    dark), blurred by ``blur`` px."""
    img = np.empty((120, 160, 3), np.float64)
    img[:] = (196, 152, 128)
    cv2.ellipse(img, (80, 60), (22, 5), 0, 0, 360, (200, 110, 70), -1)
    cv2.ellipse(img, (80, 60), (22, 5), 0, 0, 360, (150, 60, 25), 1)
    if blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _small_line():
    x = np.linspace(60.0, 100.0, 11)
    return np.stack([x, np.full_like(x, 60.0)], 1)


def test_a_small_mouth_s_seam_is_in_its_lips_own_dark_not_grey():
    """On a small face the seam takes the colour of the lips' own dark (their darkest tenth:
    redder than the lips); darkened alike in all channels it read grey beside them (insightface's
    group_t1 face 1 made neutral)."""
    img = _small_lips(0.0)
    out = paint_seam(img, _small_line(), _small_line(), 40.0, 1.0)
    luma = lambda a: a.astype(np.float64) @ LUMA  # noqa: E731
    a, b = img[60, 80].astype(float), out[60, 80].astype(float)
    assert luma(out)[60, 80] < 0.8 * luma(img)[60, 80]  # a seam is drawn
    assert b[0] / luma(b) > a[0] / luma(a) + 0.1 and b[2] / luma(b) < a[2] / luma(a) - 0.1  # redder, as the rim


def test_a_soft_photo_s_seam_is_as_soft_as_its_lips():
    """On a soft photo the seam spreads to the lips' own blur with its darkness kept: shallower
    and wider than on the same lips drawn sharp, about as dark in all."""
    luma = lambda a: a.astype(np.float64) @ LUMA  # noqa: E731
    dips = []
    for blur in (0.0, 2.5):
        img = _small_lips(blur)
        out = paint_seam(img, _small_line(), _small_line(), 40.0, 1.0)
        dips.append(1.0 - luma(out)[50:71, 80] / luma(img)[50:71, 80])
    sharp, soft = dips
    assert soft.max() < 0.8 * sharp.max()
    assert (soft > 0.5 * soft.max()).sum() > (sharp > 0.5 * sharp.max()).sum()
    assert 0.7 < soft.sum() / sharp.sum() < 1.3
