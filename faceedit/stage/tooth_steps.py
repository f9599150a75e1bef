"""The upper teeth seen in a thin open mouth (fear's wide, narrow opening) as separate teeth
(:func:`tooth_steps`): the row the bank paints, or the smile's own carried row, darkened toward
the corners by a smooth ramp, read at the photo's pixels as one smooth metallic band, bright
in the middle and fading evenly to grey at both ends, with no joints and an edge sharper than
the photo's. Here the ramp is stepped tooth by tooth from the middle (the front pair brightest,
each tooth its own light, a little darker at its sides), a darker joint lies between
neighbouring teeth, the row's lower edge is as soft as a photo's and the teeth take a little
yellow and grain."""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS, from_unit, pixel_max
from faceedit.stage.teeth_tone import thin_weight

_LUMA = np.asarray(LUMA_WEIGHTS, np.float32)

#: The visible widths of the upper teeth from the middle outward (central incisor, lateral,
#: canine, premolars) as shares of the inner corner distance: about 8.5, 6.5, 7.5 and 7 mm teeth
#: seen round the arch (foreshortened outward) in an opening about 50 mm wide.
TOOTH_WIDTHS = (0.16, 0.11, 0.085, 0.065, 0.055)
#: A joint between neighbouring teeth: this much darker at its line, over this share of the
#: corner distance (Gaussian sigma, at least 0.6 px), at the row's top (under the lip, where
#: teeth touch) only this share of it, all of it at the lower edge (the embrasure opens toward
#: the teeth's tips).
JOINT_DARK, JOINT_SIGMA, JOINT_TIP = 0.3, 0.007, 0.3
#: A line between teeth moves onto the row's own joint (a column this much darker than the row's
#: smooth ramp) within this share of the corner distance.
SNAP_DIP, SNAP_REACH = 0.93, 0.06
#: Each tooth's level: this percentile of the smooth ramp over its columns (at the median the
#: columns under it were lifted and Face Mesh's loop round the teeth read London 131's fearful
#: opening 0.136 -> 0.170 of the cheek).
STEP_LEVEL = 25.0
#: Each tooth is this much darker at its sides than at its middle (its own rounded light).
TOOTH_ROUND = 0.1
#: The row's lower edge is blurred by a Gaussian of this sigma (px at the photo's scale of 1).
EDGE_SOFT = 0.8
#: The teeth's blue is this share under their luma's (a little yellow), and they take grain of
#: this standard deviation (0..1 luma).
TOOTH_YELLOW, TOOTH_GRAIN = 0.03, 0.012


def tooth_bounds(mid: float, wd: float) -> np.ndarray:
    """(2k+1,) the x of the lines between the upper teeth, left to right, the middle line at
    ``mid``, each tooth :data:`TOOTH_WIDTHS` times the corner distance ``wd`` wide."""
    side = np.cumsum(np.asarray(TOOTH_WIDTHS, np.float64)) * wd
    return np.concatenate([mid - side[::-1], [mid], mid + side])


def snap_bounds(bounds: np.ndarray, xs: np.ndarray, dip: np.ndarray, wd: float) -> np.ndarray:
    """``bounds`` each moved onto the row's own joint nearby: the column at ``xs`` within
    :data:`SNAP_REACH` of the corner distance ``wd`` where ``dip`` (the columns' brightness over
    the row's smooth ramp) is least, where that is under :data:`SNAP_DIP` (the teeth painted or
    carried have their own joints; a second line beside one read as two teeth's edges)."""
    out = np.asarray(bounds, np.float64).copy()
    reach = SNAP_REACH * wd
    for i, b in enumerate(out):
        on = np.abs(xs - b) <= reach
        if not on.any():
            continue
        j = int(np.argmin(np.where(on, dip, np.inf)))
        if dip[j] < SNAP_DIP:
            out[i] = xs[j]
    return out


def stepped_gain(ramp: np.ndarray, xs: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """(n,) what each column at ``xs`` is multiplied by so that the row's smooth luma ``ramp``
    along it becomes one level per tooth (the ramp's :data:`STEP_LEVEL` percentile over the
    tooth's columns between ``bounds``), each tooth :data:`TOOTH_ROUND` darker at its sides; at
    most 1.05 (the row is stepped down, not lifted). Columns outside the bounds keep their ramp
    (gain 1)."""
    gain = np.ones(len(xs), np.float64)
    r = np.maximum(np.asarray(ramp, np.float64), 1e-6)
    for a, b in zip(bounds[:-1], bounds[1:]):
        on = (xs >= a) & (xs < b)
        if not on.any():
            continue
        t = (xs[on] - a) / max(b - a, 1e-6)
        level = float(np.percentile(r[on], STEP_LEVEL))
        gain[on] = level / r[on] * (1.0 - TOOTH_ROUND * (2.0 * t - 1.0) ** 2)
    return np.clip(gain, 0.6, 1.05)


def lit_opening(pixels: np.ndarray, roi, inside: np.ndarray) -> tuple[np.ndarray, np.ndarray, float] | None:
    """``pixels``' RGB over ``roi`` = (x0, y0, x1, y1) in 0..1 and its luma, with the 98th-percentile
    luma inside the opening ``inside`` (bool over ``roi``): (crop, luma, top); None where the top
    is under three times the median there (at least 0.02): no lit teeth in it."""
    x0, y0, x1, y1 = (int(v) for v in roi)
    crop = pixels[y0:y1, x0:x1, :3].astype(np.float32) / pixel_max(pixels.dtype)
    luma = crop @ _LUMA
    top = float(np.percentile(luma[inside], 98))
    return None if top < 3.0 * max(float(np.median(luma[inside])), 0.02) else (crop, luma, top)


def tooth_steps(pixels: np.ndarray, roi, opening: np.ndarray, mid: float, wd: float,
                photo_scale: float = 1.0, *, in_place: bool = False) -> np.ndarray:
    """The lit upper teeth inside a thin ``opening`` (float 0..1 over ``roi`` = (x0, y0, x1, y1))
    drawn as separate teeth: their column brightness along the row stepped per tooth
    (:func:`stepped_gain`, teeth from the middle line at image x ``mid``, the inner corners ``wd``
    px apart), joints darkened between them (:data:`JOINT_DARK`), the lower edge softened
    (:data:`EDGE_SOFT` times ``photo_scale``), a little yellow and grain. Lit: over 0.45 of the
    opening's 98th-percentile luma, where that is over three times its median. Unchanged where the
    opening is not thin (:func:`~faceedit.stage.teeth_tone.thin_weight`) or shows no teeth. A new array, or ``pixels`` written
    over with ``in_place``."""
    x0, y0, x1, y1 = (int(v) for v in roi)
    op = np.clip(np.asarray(opening, np.float32), 0.0, 1.0)
    inside = op > 0.5
    cols = np.flatnonzero(inside.any(0))
    if cols.size < 8 or wd <= 8 or pixels.ndim != 3:
        return pixels
    thin = thin_weight(float(np.median(inside[:, cols].sum(0))) / wd)
    if thin <= 0:
        return pixels
    found = lit_opening(pixels, roi, inside)
    if found is None:
        return pixels
    crop, luma, top = found
    # how much of each pixel is lit tooth (a soft threshold: the cavity and the lips stay)
    w = np.clip((luma - 0.35 * top) / (0.2 * top), 0.0, 1.0) * op
    lit = w > 0.5
    if lit.sum() < 8:
        return pixels
    xs = np.arange(crop.shape[1], dtype=np.float64) + x0
    seen: np.ndarray = np.asarray(lit.any(0))
    col = np.where(seen, (luma * lit).sum(0) / np.maximum(lit.sum(0), 1), 0.0)
    # the smooth ramp along the row: the columns' brightness, smoothed over a third of a front tooth
    sig = max(TOOTH_WIDTHS[0] * wd / 3.0, 1.0)
    num = cv2.GaussianBlur((col * seen)[None, :].astype(np.float64), (0, 0), sig)[0]
    den = cv2.GaussianBlur(seen[None, :].astype(np.float64), (0, 0), sig)[0]
    ramp = np.where(den > 1e-3, num / np.maximum(den, 1e-6), 1.0)
    bounds = snap_bounds(tooth_bounds(mid, wd), xs, np.where(seen, col / np.maximum(ramp, 1e-6), 1.0), wd)
    gain = stepped_gain(ramp, xs, bounds)
    # the joints: darker at each line between teeth, more toward the row's lower edge
    js = max(JOINT_SIGMA * wd, 0.6)
    near = np.exp(-0.5 * ((xs[:, None] - bounds[None, :]) / js) ** 2).max(1)
    rows = np.arange(crop.shape[0], dtype=np.float64)[:, None]
    first = np.where(seen, np.argmax(lit, 0), 0)
    last = np.where(seen, crop.shape[0] - 1 - np.argmax(lit[::-1], 0), 0)
    down = np.clip((rows - first) / np.maximum(last - first, 1), 0.0, 1.0)
    joint = 1.0 - np.clip(JOINT_DARK * near[None, :] * (JOINT_TIP + (1.0 - JOINT_TIP) * down), 0.0, 0.9)
    k = (1.0 + thin * w * (gain[None, :] * joint - 1.0))[..., None]
    shaded = crop * k
    # a little yellow: blue under the luma
    shaded[..., 2] -= thin * w * TOOTH_YELLOW * (shaded @ _LUMA)
    # grain, the same on every run (seeded by where the opening is)
    rng = np.random.default_rng(x0 * 7919 + y0)
    shaded += (thin * w * TOOTH_GRAIN * rng.standard_normal(w.shape))[..., None]
    # the lower edge as soft as a photo's: blurred where the row meets the dark below it
    s = EDGE_SOFT * max(photo_scale, 0.25)
    soft = cv2.GaussianBlur(shaded, (0, 0), s)
    edge = cv2.GaussianBlur(lit.astype(np.float32), (0, 0), s)
    band = (edge > 0.05) & (edge < 0.95) & (rows > (first + last)[None, :] / 2.0) & inside
    b = np.where(band, thin, 0.0)[..., None]
    shaded = shaded * (1.0 - b) + soft * b
    out = pixels if in_place else pixels.copy()
    out[y0:y1, x0:x1, :3] = from_unit(np.clip(shaded, 0.0, 1.0), pixels.dtype)
    return out
