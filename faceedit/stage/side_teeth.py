"""A smile's upper row carried into an opening, taken out to the side teeth in the mouth's shade.

:func:`faceedit.stage.lips.upper_teeth_share` finds the upper teeth down each column of a shown
interior as samples lighter than half-way from the lower lip to the bright front teeth, then
smooths the shares with a 5-column median. The side teeth of a smile stand in the mouth's shade:
lighter than the lip, darker than that half-way mark (the astronaut's 0.31-0.39 of the way, her
front teeth 0.8-1.4), so the row carried into a new opening was the front teeth alone, cut short
by two more columns at each end by the median, and a mouth made surprised showed a short block of
teeth with the cavity's black on both sides. :func:`with_side_teeth` carries the row on outward
from its ends, column by column, while each column's top holds a run of samples past the
``side_teeth_light`` share of the way from the lip to the bright teeth (a tooth in shade); it
stops at the first column without one: the dark of a laugh's corners, darker than the lip, stays
behind (carried, it stood as dark flanges beside the new opening). Where colour found no
interior, :func:`faceedit.stage.lower_margin.loop_teeth_share` reads the row down the Face Mesh's
loop, a column at a time, 0 where a column shows no teeth; :func:`bridged` takes a row's inner
columns at 0 as the dark between two teeth, so the row is carried whole rather than in spikes.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import pixel_max
from faceedit.stage.lips import TEETH_SAMPLES, box_around, sample_points
from faceedit.stage.tuning_lips import LipsTuning


def _lightness(rgb: np.ndarray, pts: np.ndarray) -> np.ndarray | None:
    """CIE L (0..255) of ``rgb`` at ``pts`` ((..., 2) photo coordinates), bilinear; None where
    the points' box is under 2 px."""
    x0, y0, x1, y1 = box_around(pts.reshape(-1, 2), 2, rgb.shape)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    patch = rgb[y0:y1, x0:x1]
    patch = patch[..., :3] if patch.ndim == 3 else np.dstack([patch] * 3)
    if patch.dtype != np.uint8:
        patch = (patch.astype(np.float32) * (255.0 / pixel_max(patch.dtype)) + 0.5).astype(np.uint8)
    light = cv2.cvtColor(np.ascontiguousarray(patch), cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    flat = pts.reshape(-1, 2)
    return sample_points(light, flat[:, 0] - x0, flat[:, 1] - y0).reshape(pts.shape[:-1])


def _run(teeth: np.ndarray, start: int) -> float:
    """The share of the column ``teeth`` (bool samples, top first) its first run of teeth
    covers, from the top: 0 where none starts within the first ``start`` samples (the run may
    skip a single sample, as :func:`~faceedit.stage.lips.upper_teeth_share`'s does)."""
    first = np.flatnonzero(teeth[:start])
    if len(first) == 0:
        return 0.0
    k = int(first[0])
    while k + 1 < len(teeth) and (teeth[k + 1] or (k + 2 < len(teeth) and teeth[k + 2])):
        k += 1
    return (k + 1) / len(teeth)


def with_side_teeth(rgb: np.ndarray, upper: np.ndarray, lower: np.ndarray, share: np.ndarray,
                    tuning: LipsTuning | None = None) -> np.ndarray:
    """``share`` ((N,), :func:`~faceedit.stage.lips.upper_teeth_share`'s for the interior
    between ``upper`` and ``lower``, (N, 2) photo coordinates, left corner first) carried on
    outward from the row's first and last columns through the side teeth in the mouth's shade:
    each next column whose first run of samples lighter than the lower lip's lightness plus
    ``tuning.side_teeth_light`` of the way to the bright teeth (the interior's 85th percentile)
    starts within ``teeth_start`` of its height takes that run's share, at most its inner
    neighbour's; the first column without one ends the row. ``share`` itself where it has no
    row, where every column is teeth already, or where ``side_teeth_light`` is 0 or more than
    half (no lower a mark than the front teeth's)."""
    tuning = tuning or LipsTuning()
    share = np.asarray(share, np.float64)
    frac = tuning.side_teeth_light
    row = np.flatnonzero(share > 0)
    if not 0 < frac < 0.5 or len(row) == 0 or (row[0] == 0 and row[-1] == len(share) - 1):
        return share
    up, lo = np.asarray(upper, np.float64), np.asarray(lower, np.float64)
    w = float(np.linalg.norm(up[-1] - up[0]))
    if w < 8:
        return share
    t = (np.arange(TEETH_SAMPLES) + 0.5) / TEETH_SAMPLES
    # (as upper_teeth_share reads them: the column's samples and the lower lip below the curve)
    down = np.array([-(lo[-1] - lo[0])[1], (lo[-1] - lo[0])[0]]) / w
    if down @ (lo.mean(0) - up.mean(0)) < 0:
        down = -down
    inner = _lightness(rgb, up[:, None, :] + t[None, :, None] * (lo - up)[:, None, :])
    lip_l = _lightness(rgb, lo[:, None, :] + np.linspace(0.05, 0.25, 5)[None, :, None] * w * down)
    if inner is None or lip_l is None:
        return share
    lip, bright = float(np.median(lip_l)), float(np.percentile(inner, 85))
    if bright < lip + tuning.min_teeth_lightness:
        return share
    teeth = inner >= lip + frac * (bright - lip)
    start = int(np.ceil(tuning.teeth_start * TEETH_SAMPLES))
    out = share.copy()
    for first, step in ((int(row[0]), -1), (int(row[-1]), 1)):
        i = first + step
        while 0 <= i < len(out) and out[i] <= 0:
            run = _run(teeth[i], start)
            if run <= 0:
                break
            out[i] = min(run, out[i - step])
            i += step
    return out


def bridged(share: np.ndarray | None) -> np.ndarray | None:
    """``share`` ((N,) per column of a carried row, or None) with every run of columns at 0
    between two columns with teeth raised to the lower of the two: a column without teeth inside
    the row is the dark between two teeth, not the row's end (left at 0, the carried row fell
    into pieces, each a spike of the loop's full height standing into the dark: a small face's
    mouth made surprised showed fangs). None stays None."""
    if share is None:
        return None
    out = np.asarray(share, np.float64).copy()
    row = np.flatnonzero(out > 0)
    for a, b in zip(row[:-1], row[1:]):
        if b - a > 1:
            out[a + 1:b] = min(out[a], out[b])
    return out
