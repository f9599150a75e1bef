"""A laugh's band carried into closed lips' line squeezed into a thin core
(:func:`faceedit.stage.seam_squeeze.squeeze_band`; issues 53, 55: a London smile made neutral met
in a blurred dark band 8-12 rows tall at half its depth where the person's own lips meet in 5-6)."""

from __future__ import annotations

import numpy as np

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.seam_squeeze import squeeze_band
from faceedit.stage.tuning_mouth import MouthTuning

LUMA = np.asarray(LUMA_WEIGHTS)
EYE = 200.0
UPPER, LOWER = (170.0, 100.0, 105.0), (200.0, 125.0, 120.0)


def _lips(band: float) -> np.ndarray:
    """Closed lips (corners at x 60 and 200, meeting at y 80): an upper lip above, a lighter lower
    lip below, each with its own furrows (noise along the line, the same down each lip's
    columns) and a little grain, and a grey-brown band ``band`` px at half depth across the line
    (0: none)."""
    rng = np.random.default_rng(3)
    img = np.empty((160, 260, 3), np.float64)
    img[:80] = UPPER
    img[80:] = LOWER
    img[:80] += rng.normal(0.0, 4.0, (1, 260, 1))
    img[80:] += rng.normal(0.0, 4.0, (1, 260, 1))
    img += rng.normal(0.0, 1.0, img.shape[:2])[..., None]
    if band > 0:
        rows = np.arange(160)[:, None, None]
        dip = np.exp(-0.5 * ((rows - 80.0) / (band / 2.355)) ** 2)
        img = img * (1 - dip) + np.array([110.0, 85.0, 80.0]) * dip
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _line() -> np.ndarray:
    x = np.linspace(60.0, 200.0, 15)
    return np.stack([x, np.full_like(x, 80.0)], 1)


def _half_rows(img: np.ndarray) -> int:
    """Rows under half the depth of the mean luma profile down columns 100-160 (rows 60-100)."""
    prof = (img[60:101, 100:161].astype(np.float64) @ LUMA).mean(1)
    lo = prof.min()
    return int((prof < lo + 0.5 * (min(prof[0], prof[-1]) - lo)).sum())


def test_a_wide_band_is_squeezed_to_a_thin_core_with_lip_beside_it():
    img = _lips(10.0)
    out = squeeze_band(img, _line(), EYE, 1.0, np.ones(15))
    assert out is not img and out.shape == img.shape
    assert _half_rows(img) >= 8
    assert _half_rows(out) <= 5
    grey, was = out.astype(np.float64) @ LUMA, img.astype(np.float64) @ LUMA
    # the line's darkest kept; 4 px above and below it now the lips' own luma (the band's edge before)
    assert abs(grey[78:83, 100:161].min() - was[78:83, 100:161].min()) < 6
    for row, lip in ((76, UPPER), (84, LOWER)):
        own = float(np.asarray(lip) @ LUMA)
        assert abs(grey[row, 100:161].mean() - own) < abs(was[row, 100:161].mean() - own) / 2
    # the lips' furrows kept over what was band: rows 4 px off the line vary along it as the lip does
    assert grey[76, 100:161].std() > 0.6 * was[60, 100:161].std()
    assert np.corrcoef(grey[76, 100:161], was[60, 100:161])[0, 1] > 0.8
    # far from the line and past the corners nothing changes
    assert np.array_equal(out[:50], img[:50]) and np.array_equal(out[110:], img[110:])
    assert np.array_equal(out[:, :55], img[:, :55]) and np.array_equal(out[:, 205:], img[:, 205:])


def test_lips_without_a_band_or_with_a_thin_line_stay():
    for img in (_lips(0.0), _lips(1.5)):  # no band, or one no wider than the core
        assert squeeze_band(img, _line(), EYE, 1.0, np.ones(15)) is img
    img = _lips(10.0)
    assert squeeze_band(img, _line(), EYE, 0.0, np.ones(15)) is img
    assert squeeze_band(img, _line(), EYE, 1.0, np.zeros(15)) is img
    assert squeeze_band(img, _line(), EYE, 1.0, np.ones(15), MouthTuning(squeeze_core=0.0)) is img


def test_half_the_amount_squeezes_about_half_as_far():
    img = _lips(10.0)
    was = (img.astype(np.float64) @ LUMA)[76, 100:161].mean()
    full = (squeeze_band(img, _line(), EYE, 1.0, np.ones(15)).astype(np.float64) @ LUMA)[76, 100:161].mean()
    half = (squeeze_band(img, _line(), EYE, 0.5, np.ones(15)).astype(np.float64) @ LUMA)[76, 100:161].mean()
    assert was < half < full
