"""A small smile's upper lip where the edit closes the mouth (issue 55): a band of lip colour of
a closed lip's height above the seam, not the smile's thin dark lip carried down; a large mouth
keeps its pixels."""

from __future__ import annotations

import numpy as np

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.mouth import paint_seam
from faceedit.stage.tuning import MouthTuning
from faceedit.stage.upper_lip import closed_upper_lip

LUMA = np.asarray(LUMA_WEIGHTS)
SKIN, LIP, DARK = (200, 150, 130), (180, 100, 100), (80, 50, 45)


def _small_mouth(scale: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """A closed small mouth (corners 40 px apart times ``scale``, eyes 40 px apart): skin, a
    lower lip 5 px deep, and over the seam a smile's upper lip carried down, 2 px of dark; the
    image, the seam line, the 68 points' outer lip (48-59) and the eye distance."""
    side = int(120 * scale)
    img = np.zeros((side, side, 3), np.uint8)
    img[:] = SKIN
    left, right, seam = 40.0 * scale, 80.0 * scale, 60.0 * scale
    x = np.linspace(left, right, 21)
    line = np.stack([x, np.full_like(x, seam)], 1)
    xi = np.arange(int(left) + 1, int(right))
    for c in xi:
        img[int(seam) + 1:int(seam + 5 * scale), c] = LIP
        img[int(seam) - 1:int(seam) + 1, c] = DARK
    up = np.stack([np.linspace(left, right, 7), seam - np.array([0, 1.5, 2, 2, 2, 1.5, 0]) * scale], 1)
    down = np.stack([np.linspace(right, left, 7)[1:], seam + np.array([2, 4, 5, 4, 2, 0])[:6] * scale], 1)
    lips = np.concatenate([up, down[:5]])
    return img, line, lips, 40.0 * scale


def test_a_small_closing_mouths_upper_lip_is_a_lip_not_a_dark_line():
    """Over the middle of the mouth, up to a tenth of the eye distance above the seam, the
    carried dark line and the skin above it become lip: redder than the skin, lighter than the
    dark line, near the lower lip's luma; the skin well above stays as it was."""
    img, line, lips, eye = _small_mouth()
    out = closed_upper_lip(img, line, lips, eye, 1.0, MouthTuning())
    middle = slice(55, 66)
    band = out[57:60, middle].reshape(-1, 3).astype(float)  # 1-3 px above the seam at y = 60
    assert (band[:, 0] - band[:, 1] > (SKIN[0] - SKIN[1]) + 10).all()  # redder than the skin
    assert (band @ LUMA > np.dot(DARK, LUMA) + 30).all()  # no dark line
    assert abs(float(np.median(band @ LUMA)) - np.dot(LIP, LUMA)) < 0.2 * np.dot(LIP, LUMA)
    assert np.array_equal(out[45:50], img[45:50])  # the skin a closed lip's height above is kept
    assert np.array_equal(out[62:], img[62:])  # the lower lip is kept


def test_the_upper_lip_thins_into_the_corners():
    """Near a corner the band is lower than down the middle."""
    img, line, lips, eye = _small_mouth()
    out = closed_upper_lip(img, line, lips, eye, 1.0, MouthTuning())
    changed = np.abs(out.astype(int) - img.astype(int)).sum(2) > 10
    high = [int(changed[:61, c].sum()) for c in (42, 60)]
    assert high[0] < high[1]


def test_a_large_mouth_keeps_its_upper_lip():
    """A mouth whose corners lie 200 px apart (a full-size portrait: no small mouth) keeps its
    upper lip's pixels through the seam: only the line's own rows change."""
    img, line, lips, eye = _small_mouth(5.0)
    out = paint_seam(img, line, line, eye, 1.0, MouthTuning(), lips=lips)
    assert np.array_equal(out[:280], img[:280])  # from 20 px above the seam up


def test_a_full_upper_lip_is_left_to_the_photo():
    """An upper lip already a closed lip's height down the middle (5 px over a 4-px closed lip:
    the smile left it full) is not drawn over: its pixels are the photo's."""
    img, line, lips, eye = _small_mouth()
    full = lips.copy()
    full[1:6, 1] = 60.0 - np.array([4.0, 5.0, 5.0, 5.0, 4.0])
    assert closed_upper_lip(img, line, full, eye, 1.0, MouthTuning()) is img
    assert closed_upper_lip(img, line, lips, eye, 1.0, MouthTuning()) is not img  # the thin one is drawn
