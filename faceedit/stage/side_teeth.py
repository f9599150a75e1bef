"""A shown interior's upper row of teeth: read down its columns, carried out to the side teeth in shade.

:func:`upper_teeth_share` finds the upper teeth down each column of a shown
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
from faceedit.stage.lips import box_around, sample_points
from faceedit.stage.tuning_lips import LipsTuning

#: Where a shown interior's upper teeth end, per column (:func:`upper_teeth_share`): samples
#: down each column.
TEETH_SAMPLES = 25


def upper_teeth_share(rgb: np.ndarray, upper: np.ndarray, lower: np.ndarray,
                      tuning: LipsTuning | None = None) -> np.ndarray:
    """(N,) for each point of the interior's curves (``upper``/``lower``: (N, 2) photo coordinates,
    left corner first, e.g. :func:`find_interior`'s), the share (0..1] of the interior's height, from
    the upper curve down, that its upper teeth fill: the first run of teeth-light samples (lightness
    above half-way from the lower lip's to the interior's bright teeth) starting in the top
    ``teeth_start``, to its end. Below it lies what goes with the jaw (the lower teeth, the lower
    lip's inner edge that colour found above the lip line, the dark gap). Columns with no such run
    keep 0 (a laugh's dark corners beside its teeth, carried, stood as dark flanges and hooks beside
    the new opening); smoothed over 5 columns. An interior with no teeth at all keeps 1 throughout.
    Lower teeth touching the upper ones with no darker line between read as upper teeth."""
    tuning = tuning or LipsTuning()
    n = len(upper)
    found = teeth_lightness(rgb, upper, lower)
    if found is None:
        return np.ones(n)
    inner, lip, bright = found
    if bright < lip + tuning.min_teeth_lightness:
        return np.ones(n)
    teeth = inner >= (bright + lip) / 2
    start = int(np.ceil(tuning.teeth_start * TEETH_SAMPLES))
    share = np.array([first_run_share(col, start) for col in teeth])
    padded = np.pad(share, 2, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, 5), 1)


def teeth_lightness(rgb: np.ndarray, upper: np.ndarray, lower: np.ndarray
                    ) -> tuple[np.ndarray, float, float] | None:
    """CIE L (0..255) of ``rgb`` down each column of the interior between ``upper`` and ``lower``
    ((N, 2) photo coordinates, left corner first): (the columns' samples, (N, :data:`TEETH_SAMPLES`),
    top first; the lower lip's median, 5-25 % of the mouth's width below the lower curve down
    its normal; the samples' 85th percentile, the bright teeth). None where the mouth is under 8
    px wide or its box under 2 px."""
    up, lo = np.asarray(upper, np.float64), np.asarray(lower, np.float64)
    n = len(up)
    w = float(np.linalg.norm(up[-1] - up[0]))
    if w < 8:
        return None
    t = (np.arange(TEETH_SAMPLES) + 0.5) / TEETH_SAMPLES
    down = np.array([-(lo[-1] - lo[0])[1], (lo[-1] - lo[0])[0]]) / w
    if down @ (lo.mean(0) - up.mean(0)) < 0:
        down = -down
    pts = up[:, None, :] + t[None, :, None] * (lo - up)[:, None, :]
    lip_pts = lo[:, None, :] + np.linspace(0.05, 0.25, 5)[None, :, None] * w * down
    allp = np.vstack([pts.reshape(-1, 2), lip_pts.reshape(-1, 2)])
    x0, y0, x1, y1 = box_around(allp, 2, rgb.shape)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    patch = rgb[y0:y1, x0:x1]
    patch = patch[..., :3] if patch.ndim == 3 else np.dstack([patch] * 3)
    if patch.dtype != np.uint8:
        patch = (patch.astype(np.float32) * (255.0 / pixel_max(patch.dtype)) + 0.5).astype(np.uint8)
    light = cv2.cvtColor(np.ascontiguousarray(patch), cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    inner = sample_points(light, pts[..., 0].ravel() - x0, pts[..., 1].ravel() - y0).reshape(n, -1)
    lip = float(np.median(sample_points(light, lip_pts[..., 0].ravel() - x0, lip_pts[..., 1].ravel() - y0)))
    return inner, lip, float(np.percentile(inner, 85))


def first_run_share(teeth: np.ndarray, start: int) -> float:
    """The share of a column ``teeth`` (bool samples, top first) its first run of teeth covers
    from the top: 0 where none starts within the first ``start`` samples; the run may skip a
    single sample."""
    first = np.flatnonzero(teeth[:start])
    if len(first) == 0:
        return 0.0
    k = int(first[0])
    while k + 1 < len(teeth) and (teeth[k + 1] or (k + 2 < len(teeth) and teeth[k + 2])):
        k += 1
    return (k + 1) / len(teeth)


def with_side_teeth(rgb: np.ndarray, upper: np.ndarray, lower: np.ndarray, share: np.ndarray,
                    tuning: LipsTuning | None = None) -> np.ndarray:
    """``share`` ((N,), :func:`upper_teeth_share`'s for the interior
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
    found = teeth_lightness(rgb, upper, lower)
    if found is None:
        return share
    inner, lip, bright = found
    if bright < lip + tuning.min_teeth_lightness:
        return share
    teeth = inner >= lip + frac * (bright - lip)
    start = int(np.ceil(tuning.teeth_start * TEETH_SAMPLES))
    out = share.copy()
    for first, step in ((int(row[0]), -1), (int(row[-1]), 1)):
        i = first + step
        while 0 <= i < len(out) and out[i] <= 0:
            run = first_run_share(teeth[i], start)
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
