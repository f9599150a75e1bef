"""The raised lower lid under a closed one (faceedit.stage.lid_below): a dark wrinkle carried up
under the lash line is levelled into the skin around it; nothing outside the band changes, and
an open eye (closure 0) or ``below_lift`` 0 changes nothing."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from faceedit.stage.lid_below import smooth_below
from faceedit.stage.tuning_lids import LidsTuning

TN = LidsTuning()
TALL = 20.0


def _lid() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A flat skin patch (0.6) in an eye frame 100 px wide, the lids meeting at y 30, a dark
    wrinkle (0.35) 4 px wide at y 36-39, 0.3 eye heights under the meeting line."""
    Y, X = np.mgrid[0:80, -10:110].astype(np.float64)
    img = np.full(Y.shape + (3,), 0.6, np.float32)
    img[(Y >= 36) & (Y < 40) & (X > 5) & (X < 95)] = 0.35
    meet = np.full_like(Y, 30.0)
    return img, X, Y, meet, meet.copy()


def test_wrinkle_under_the_closed_lid_is_levelled() -> None:
    img, X, Y, E, Lp = _lid()
    out = smooth_below(img, X, Y, E, Lp, (0.0, 100.0), TALL, 1.0, TN)
    wrinkle = (Y >= 36) & (Y < 40) & (X > 40) & (X < 60)
    before, after = float(img[wrinkle].mean()), float(out[wrinkle].mean())
    # near the band's top, at the eye's middle, most of below_lift of the way back to the skin's 0.6
    assert after - before > 0.6 * TN.below_lift * (0.6 - before), (before, after)
    full = smooth_below(img, X, Y, E, Lp, (0.0, 100.0), TALL, 1.0, replace(TN, below_lift=1.0))
    assert float(full[wrinkle].mean()) - before > 0.6 * (0.6 - before)
    assert out[wrinkle].max() <= 0.6 + 1e-4  # levelled, not lit above the skin round it


def test_outside_the_band_and_open_eyes_unchanged() -> None:
    img, X, Y, E, Lp = _lid()
    out = smooth_below(img, X, Y, E, Lp, (0.0, 100.0), TALL, 1.0, TN)
    band = (X > 0) & (X < 100) & (Y >= 30 + TN.below_from * TALL) & (Y < 30 + TN.below_smooth * TALL)
    assert np.array_equal(out[~band], img[~band])
    # at the corners the wrinkle stays (the lid hardly moves there)
    corner = (Y >= 36) & (Y < 40) & (X > 5) & (X < 7)
    assert float(out[corner].mean()) < 0.45
    assert smooth_below(img, X, Y, E, Lp, (0.0, 100.0), TALL, 0.0, TN) is img
    assert smooth_below(img, X, Y, E, Lp, (0.0, 100.0), TALL, 1.0, replace(TN, below_lift=0.0)) is img


def test_partial_closure_levels_in_proportion() -> None:
    img, X, Y, E, Lp = _lid()
    wrinkle = (Y >= 36) & (Y < 40) & (X > 40) & (X < 60)
    half = smooth_below(img, X, Y, E, Lp, (0.0, 100.0), TALL, 0.5, TN)[wrinkle].mean()
    full = smooth_below(img, X, Y, E, Lp, (0.0, 100.0), TALL, 1.0, TN)[wrinkle].mean()
    assert img[wrinkle].mean() < half < full
