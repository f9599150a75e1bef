"""The ends of an open mouth a smile's teeth were carried into, narrowed into its corners.

A smile's own row carried into an opening that a fearful or surprised edit draws keeps the
smile's opening's height almost to its ends: the whole opening (the carried row and the painted
cavity under it) there ends round, a pill rather than a slit that thins into the corners as a
relaxed mouth's does. :func:`taper_ends` brings the upper lip down over each end until the
opening is no thicker than a wedge from its end point.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.tuning import MouthTuning

_LUMA = np.asarray(LUMA_WEIGHTS + (0.0,), np.float32)


def end_excess(whole: np.ndarray, angle: float, reach: float,
               flat: tuple[float, float] = (0.32, 0.37)) -> tuple[np.ndarray, np.ndarray, int]:
    """For the opening ``whole`` ((h, w) coverage 0..1, over 0.5 inside): (excess, top, first)
    over its columns from ``first`` (its leftmost) to its rightmost: ``excess`` (px) how much
    thicker each column is than a wedge of full ``angle`` (degrees) from the nearer end point,
    none from ``reach`` of the width from each end (easing to none over the half of it nearer the
    middle), and where the opening's greatest height is over ``flat``'s shares of its width
    (none from the second); ``top`` each column's top edge (its first covered row, less the
    share of the part-covered pixel above it). Empty arrays where the opening has under 8
    columns."""
    cov = np.asarray(whole) > 0.5
    cols = np.flatnonzero(cov.any(0))
    if cols.size < 8:
        return np.zeros(0), np.zeros(0), 0
    a, b = int(cols[0]), int(cols[-1])
    sub = cov[:, a:b + 1]
    has = sub.any(0)
    w = np.clip(np.asarray(whole, np.float64)[:, a:b + 1], 0.0, 1.0)
    first, last = sub.argmax(0), sub.shape[0] - 1 - sub[::-1].argmax(0)
    cols_ = np.arange(b - a + 1)
    # a part-covered pixel beside the first and last covered ones counts its share
    above = np.where(first > 0, w[np.maximum(first - 1, 0), cols_], 0.0)
    below = np.where(last < sub.shape[0] - 1, w[np.minimum(last + 1, sub.shape[0] - 1), cols_], 0.0)
    top = np.where(has, first - above, 0.0)
    bottom = np.where(has, last + 1 + below, 0.0)
    s = np.minimum(np.arange(b - a + 1), np.arange(b - a, -1, -1)) + 0.5
    wedge = 2.0 * s * np.tan(np.radians(angle) / 2.0)
    span = max(reach * (b - a), 1.0)
    fade = np.clip((span - s) / (0.5 * span), 0.0, 1.0)
    fade = fade * fade * (3.0 - 2.0 * fade)
    # a tall opening (a surprised mouth's round one) keeps its round ends
    tall = np.clip((float((bottom - top).max()) / max(b - a, 1) - flat[0]) / max(flat[1] - flat[0], 1e-6), 0.0, 1.0)
    excess = np.maximum((bottom - top) - wedge, 0.0) * fade * has * (1.0 - tall * tall * (3.0 - 2.0 * tall))
    # smoothed twice over a twentieth of the width (at least 5 columns): where the wedge met
    # the opening's own top it left a kink
    k = max(int(round(0.05 * (b - a))) // 2 * 2 + 1, 5)
    for _ in range(2):
        excess = np.convolve(np.pad(excess, k // 2, mode="edge"), np.ones(k) / k, mode="valid")
    return excess, top, a


def taper_ends(pixels: np.ndarray, roi, whole: np.ndarray, tn: MouthTuning) -> None:
    """``pixels`` written over, in place: within ``carried_end_reach`` of the opening's width
    from each end (``whole``, coverage 0..1 over ``roi`` = (x0, y0, x1, y1)), each column's
    opening top moves down by how much the column is thicker than a wedge of full
    ``carried_end_angle`` degrees from the nearer end (:func:`end_excess`): the upper lip's
    band above it, 1.5 times that deep and 2 px more, is stretched down over it (its edge
    against the opening kept, the lip's colour and grain from the same column), no lighter
    there than the darker quarter of the lip within twice that band above the edge."""
    if tn.carried_end_reach <= 0:
        return
    excess, top, first = end_excess(whole, tn.carried_end_angle, tn.carried_end_reach, tn.carried_end_flat)
    moved = np.flatnonzero(excess > 0.25)
    if moved.size == 0:
        return
    x0, y0 = int(roi[0]), int(roi[1])
    band = 1.5 * excess + 2.0
    r0 = max(int(np.floor((top[moved] - band[moved]).min())) + y0 - 1, 0)
    r1 = min(int(np.ceil((top[moved] + excess[moved]).max())) + y0 + 2, pixels.shape[0])
    c0, c1 = first + int(moved[0]) + x0, first + int(moved[-1]) + x0 + 1
    if r1 - r0 < 2 or c1 <= c0:
        return
    rows = np.arange(r0, r1, dtype=np.float32)[:, None]
    t = (top[moved[0]:moved[-1] + 1] + y0).astype(np.float32)[None, :]
    e = excess[moved[0]:moved[-1] + 1].astype(np.float32)[None, :]
    e = np.where(e > 0.25, e, 0.0)  # (the columns between the two ends stay as they are)
    bb = band[moved[0]:moved[-1] + 1].astype(np.float32)[None, :]
    start = t - bb
    # rows from ``start`` down to the new edge (t + e) read from ``start`` to the old edge
    inside = (rows >= start) & (rows <= t + e)
    src = np.where(inside, start + (rows - start) * bb / (bb + e), rows)
    map_y = (src - r0).astype(np.float32)
    map_x = np.broadcast_to(np.arange(c1 - c0, dtype=np.float32)[None, :], map_y.shape).copy()
    crop = np.ascontiguousarray(pixels[r0:r1, c0:c1])
    out = cv2.remap(crop, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    # what now covers the opening is no lighter than the darker quarter of the lip above the
    # edge (the pale inner margin a smile's lip shows over its teeth, stretched down, stood as a
    # light wedge at each corner)
    lum = out @ _LUMA[:out.shape[2]] if out.ndim == 3 else out
    lip = (rows >= start - bb) & (rows < t) & (e > 0)
    if lip.sum() >= 4:
        cap = float(np.percentile((crop.astype(np.float32) @ _LUMA[:out.shape[2]] if crop.ndim == 3
                                   else crop.astype(np.float32))[lip], 25))
        # each pixel's share of the rows the lip now covers, [t, t + e)
        share = np.clip(np.minimum(rows + 1.0, t + e) - np.maximum(rows, t), 0.0, 1.0) * (e > 0)
        gain = 1.0 - share * (1.0 - np.minimum(cap / np.maximum(lum, 1e-6), 1.0))
        if out.ndim == 3:
            out[..., :3] *= gain[..., None]
        else:
            out *= gain
    if pixels.dtype.kind in "ui":
        out = np.clip(np.round(out), 0, np.iinfo(pixels.dtype).max)
    pixels[r0:r1, c0:c1] = out.astype(pixels.dtype)
