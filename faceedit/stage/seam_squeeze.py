"""The dark band a laugh made neutral carries into closed lips' line, squeezed into a thin core
(:func:`squeeze_band`) before :func:`faceedit.stage.mouth.paint_seam` draws the seam on it.

A laugh's squeezed interior (the dark between lip and teeth, the teeth's shade) lies where the
lips now meet as a blurred band: on London training smiles made neutral at 1350 px, 8-12 rows at
half its depth across the mouth's middle, where the same people's own closed lips meet in 5-6
(001, 002, 004, 006, 007; their own lips' texture runs right up to a thin dark line). The band's
rows outside a thin core are the lips': each side of the line is resampled across it so the
band's half depth lands ``squeeze_core`` from the line, and the lip beside the band stretches
in over the rest (its own colour and grain, the upper lip's above the line, the lower's below).
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS, pixel_max
from faceedit.stage.lips import box_around
from faceedit.stage.tuning_mouth import MouthTuning

_LUMA = np.asarray(LUMA_WEIGHTS, np.float32)


def _half_reach(prof: np.ndarray, centre: int, step: int) -> float:
    """How far (rows, fractional) from ``centre`` the profile ``prof`` first climbs, stepping by
    ``step`` (-1 up, +1 down), halfway from its value at ``centre`` to the highest it reaches on
    that side; the side's length where it never does."""
    side = prof[centre::step] if step > 0 else prof[centre::-1]
    top, low = float(side.max()), float(side[0])
    half = low + 0.5 * (top - low)
    above = np.nonzero(side >= half)[0]
    if len(above) == 0 or top - low <= 0:
        return float(len(side) - 1)
    j = int(above[0])
    if j == 0:
        return 0.0
    return j - 1 + (half - side[j - 1]) / max(float(side[j] - side[j - 1]), 1e-6)


def squeeze_band(pixels: np.ndarray, line: np.ndarray, eye_dist: float, amount: float,
                 weight_at: np.ndarray, tuning: MouthTuning | None = None) -> np.ndarray:
    """Closed lips' carried band squeezed into a thin core: ``line`` (N, 2, left corner first)
    where the lips meet; the luma profile across it (rows a pixel apart within ``squeeze_reach``
    eye distances, the mean over the middle half of the mouth) gives the band's reach to half
    its depth above and below the line; a side reaching past ``squeeze_core`` is resampled so
    that its half depth lands there, the rows out to twice the reach stretching in over the rest
    (the lip beside the band, its texture kept). ``weight_at`` (N,) 0..1 at the line's points
    (the seam's own fade at the corners and where the lips lie apart) times ``amount`` is how far
    each place moves. ``tuning``'s fields, :class:`~faceedit.stage.tuning_mouth.MouthTuning`.
    A band shallower than ``squeeze_depth`` (unit luma under the lighter lip) stays. Returns
    a new array, or ``pixels`` itself where nothing moves."""
    tuning = tuning if tuning is not None else MouthTuning()
    line = np.asarray(line, np.float64)
    axis = line[-1] - line[0]
    width = float(np.linalg.norm(axis))
    core = tuning.squeeze_core * eye_dist
    if amount <= 0 or width < 8 or eye_dist <= 0 or tuning.squeeze_core <= 0:
        return pixels
    axis = axis / width
    normal = np.array([-axis[1], axis[0]])
    reach = int(np.ceil(max(tuning.squeeze_reach * eye_dist, 3.0)))
    x0, y0, x1, y1 = box_around(line, 2 * reach + 3, pixels.shape)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return pixels
    crop = pixels[y0:y1, x0:x1].astype(np.float32)
    grey = (crop if crop.ndim == 2 else crop[..., :3] @ _LUMA) / pixel_max(pixels.dtype)
    rel = line - line[0]
    at, off = rel @ axis, rel @ normal
    order = np.argsort(at)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    s = (xx - line[0][0]) * axis[0] + (yy - line[0][1]) * axis[1]
    h = (xx - line[0][0]) * normal[0] + (yy - line[0][1]) * normal[1] - np.interp(s, at[order], off[order])
    # the profile across the line over the mouth's middle half, a row per pixel
    mid = (s > 0.25 * width) & (s < 0.75 * width) & (np.abs(h) < reach + 0.5)
    rows = np.round(h[mid]).astype(np.int64) + reach
    count = np.bincount(rows, minlength=2 * reach + 1)
    if (count == 0).any():
        return pixels
    prof = np.bincount(rows, grey[mid], minlength=2 * reach + 1) / count
    lo = reach - reach // 2  # the darkest row looked for within half the reach of the line
    centre = lo + int(np.argmin(prof[lo: reach + reach // 2 + 1]))
    depth = min(float(prof[:centre + 1].max()), float(prof[centre:].max())) - float(prof[centre])
    if depth < tuning.squeeze_depth:
        return pixels
    c = centre - reach  # the band's darkest row (px from the line)
    up, down = _half_reach(prof, centre, -1) - c, _half_reach(prof, centre, 1) + c
    # each side: output offset u from the line samples the input at f(u), piecewise linear
    # through (0, 0), (core, reach to half depth), (2 * that, itself)
    src = h.copy()
    for sign, half in ((-1.0, up), (1.0, down)):
        half = min(half, float(reach))
        if half <= core:
            continue
        u = h * sign
        far = 2.0 * half
        f = np.where(u <= core, u * half / core, half + (u - core) * (far - half) / (far - core))
        side = (u > 0) & (u < far)
        src = np.where(side, sign * f, src)
    weight = np.interp(s, at[order], np.asarray(weight_at, np.float64)[order]) * amount
    weight *= (s >= 0) & (s <= width)
    d = (src - h) * np.clip(weight, 0.0, 1.0)
    if float(np.abs(d).max()) < 0.05:
        return pixels
    mx = (xx + d * normal[0] - x0).astype(np.float32)
    my = (yy + d * normal[1] - y0).astype(np.float32)
    moved = cv2.remap(crop, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    out = pixels.copy()
    out[y0:y1, x0:x1] = np.clip(np.round(moved), 0, pixel_max(pixels.dtype)).astype(pixels.dtype).reshape(
        out[y0:y1, x0:x1].shape)
    return out
