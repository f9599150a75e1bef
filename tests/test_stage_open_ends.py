"""The ends of an opening a smile's teeth were carried into, narrowed into its corners
(faceedit.stage.open_ends), on drawn pixels: a flat pill-shaped opening thins into a wedge at
each end, its middle and a tall opening's round ends stay as they are."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from faceedit.stage.open_ends import end_excess, taper_ends
from faceedit.stage.tuning import MouthTuning

LIP = (150, 80, 90)
DARK = (10, 8, 8)


def pill(height: int, width: int = 120):
    """(pixels, whole): a lip-coloured crop with a dark stadium-shaped opening ``width`` columns
    wide and ``height`` rows high (round ends), its coverage 1 inside."""
    h, w = height + 40, width + 40
    mask = np.zeros((h, w), np.uint8)
    r = height // 2
    cv2.rectangle(mask, (20 + r, 20), (20 + width - 1 - r, 20 + height - 1), 1, -1)
    for cx in (20 + r, 20 + width - 1 - r):
        cv2.circle(mask, (cx, 20 + r), r, 1, -1)
    pixels = np.empty((h, w, 3), np.uint8)
    pixels[:] = LIP
    pixels[mask > 0] = DARK
    return pixels, mask.astype(np.float32)


def thickness(pixels: np.ndarray) -> np.ndarray:
    """Dark rows per column."""
    return (pixels.astype(np.float64).mean(2) < 40).sum(0)


def test_a_flat_pill_opening_thins_into_a_wedge_at_its_ends():
    tn = MouthTuning()
    pixels, whole = pill(24)
    before = thickness(pixels)
    out = pixels.copy()
    taper_ends(out, (0, 0, whole.shape[1], whole.shape[0]), whole, tn)
    after = thickness(out)
    first = int(np.flatnonzero(before)[0])
    wedge = 2 * np.tan(np.radians(tn.carried_end_angle) / 2)
    for s in (3, 6, 9):  # near each end no thicker than the wedge (and a pixel or two)
        for x in (first + s, first + 119 - s):
            assert before[x] > wedge * (s + 0.5) + 3
            assert after[x] <= wedge * (s + 0.5) + 2.5, (s, before[x], after[x])
    # the middle stays as it was
    assert np.array_equal(after[first + 45:first + 75], before[first + 45:first + 75])
    # what covers the ends is the lip's colour, brought down from above (its edge against the
    # opening a blend of the two)
    covered = (pixels.mean(2) < 40) & (out.astype(np.float64).mean(2) >= 40)
    assert covered.sum() > 20
    off = np.abs(out[covered].astype(np.float64) - LIP).max(1)
    assert np.median(off) < 5 and np.mean(off < 30) > 0.8, (np.median(off), np.mean(off < 30))


def test_a_tall_opening_keeps_its_round_ends_and_none_is_moved_without_reach():
    tn = MouthTuning()
    pixels, whole = pill(60)  # half as tall as wide: a surprised mouth's opening
    out = pixels.copy()
    taper_ends(out, (0, 0, whole.shape[1], whole.shape[0]), whole, tn)
    assert np.array_equal(out, pixels)
    excess, _, _ = end_excess(whole, tn.carried_end_angle, tn.carried_end_reach, tn.carried_end_flat)
    assert excess.max() == 0
    pixels, whole = pill(24)
    out = pixels.copy()
    taper_ends(out, (0, 0, whole.shape[1], whole.shape[0]), whole, replace(tn, carried_end_reach=0.0))
    assert np.array_equal(out, pixels)


def test_a_pale_margin_over_the_opening_is_not_carried_down_lighter_than_the_lip():
    """A smile's pale inner lip margin just above the opening, stretched down over the ends,
    stood as a light wedge at each corner: what covers them is no lighter than the lip above."""
    pixels, whole = pill(24)
    top = np.argmax(whole > 0.5, axis=0)
    for x in np.flatnonzero((whole > 0.5).any(0)):
        pixels[max(top[x] - 3, 0):top[x], x] = (235, 215, 200)  # the pale margin, 3 rows
    out = pixels.copy()
    taper_ends(out, (0, 0, whole.shape[1], whole.shape[0]), whole, MouthTuning())
    covered = (pixels.mean(2) < 40) & (out.astype(np.float64).mean(2) >= 40)
    assert covered.sum() > 20
    lum = out.astype(np.float64) @ np.asarray((0.299, 0.587, 0.114))
    lip = float(np.dot(LIP, (0.299, 0.587, 0.114)))
    # (a pixel the new edge crosses mixes the lip with the dark; the pale margin was 218)
    assert np.percentile(lum[covered], 90) <= lip + 2.0 and lum[covered].max() < lip + 20, lum[covered].max()
