"""The lower lip's outer edge as the photo shows it under a wide-open mouth. A face mesh fitted
to a mouth opened wide (surprise) puts the lower lip's outer points inside the lip, above the
shadow the lip casts on the chin; a warp closing that mouth then takes the lip's lower part and
its shadow for skin and carries them below the planned outer lip, a thick lip over a dark band.
:func:`found_lower_lip` moves the outer lower-lip points (55-59) down onto the edge the pixels
show: where, below a point and within a share of the lip's thickness, a shadow darker than the
lip lies, the edge is where the lip's brightness falls halfway to the shadow's. The edge is taken
only where the lip's brightness holds below the point for longer than its fall to the shadow
takes: a point already on the lip's edge, or an edge blurred into a ramp (the lip fading into
darker skin over the whole search), shows no place the lip ends, only where the search stops."""

from __future__ import annotations

import numpy as np

from faceedit.pixels import LUMA_WEIGHTS, pixel_max
from faceedit.stage.cut_curves import face_up

#: The outer lower-lip points and, for each, the outer and inner points whose distance is the
#: lip's thickness there (the ends' that of their neighbour's).
_THICK = {55: (56, 65), 56: (56, 65), 57: (57, 66), 58: (58, 67), 59: (58, 67)}


def _luma(pixels: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """The luma (0..1) of ``pixels`` at ``pts`` (n, 2), nearest pixel, clamped to the photo."""
    h, w = pixels.shape[:2]
    x = np.clip(np.rint(pts[:, 0]).astype(int), 0, w - 1)
    y = np.clip(np.rint(pts[:, 1]).astype(int), 0, h - 1)
    v = pixels[y, x].astype(np.float64) / pixel_max(pixels.dtype)
    return v @ np.asarray(LUMA_WEIGHTS) if v.ndim == 2 else v


def found_lower_lip(pixels: np.ndarray, lm: np.ndarray, reach: float, dark: float, most: float,
                    opening: tuple[float, float], fall: float) -> np.ndarray:
    """``lm`` (68, 2) with the outer lower lip (55-59) moved down the face onto the lip's edge
    the photo shows: below each point, within ``reach`` of the lip's thickness there (outer to
    inner point), the darkest place, where it is under ``dark`` of the lip's brightness (the
    median over the third of the thickness above the point), is the lip's shadow; the edge is
    the lowest place above it still brighter than halfway from the shadow to the lip; at most
    ``most`` of the thickness down; only where the fall (from a quarter of the way from the lip's
    brightness to the shadow's to three quarters) spans at most ``fall`` times the steps below
    the point that hold the lip's brightness (within that first quarter). The ends (55, 59) move
    at least half as far as their neighbour (56, 58). Only as far as the mouth is open (the inner lips' gap in the middle,
    62 to 66, in shares of its corner-to-corner width): none to ``opening``'s first, wholly from
    its second (a closed mouth's points lie on its edge)."""
    out = np.array(lm, np.float64)
    up = face_up(out)
    gap = float((out[62] - out[66]) @ up) / max(float(np.linalg.norm(out[54] - out[48])), 1e-6)
    wide = float(np.clip((gap - opening[0]) / (opening[1] - opening[0]), 0.0, 1.0))
    if wide <= 0:
        return out
    shifts = {}
    for o, (a, i) in _THICK.items():
        thick = float((out[i] - out[a]) @ up)
        if thick < 2.0:
            shifts[o] = 0.0
            continue
        steps = np.arange(1, int(np.ceil(reach * thick)) + 1, dtype=np.float64)
        lip = float(np.median(_luma(pixels, out[o] + np.arange(0, int(thick / 3) + 1)[:, None] * up)))
        below = _luma(pixels, out[o] - steps[:, None] * up)
        k = int(np.argmin(below))
        bright = np.flatnonzero(below[:k] >= (lip + below[k]) / 2)
        found = below[k] < dark * lip and bright.size > 0
        if found:  # the lip held below the point, then a fall to the shadow no longer than that
            held = int(np.argmax(below[:k + 1] < lip - (lip - below[k]) / 4))
            ramp = int(np.argmax(below[held:k + 1] <= below[k] + (lip - below[k]) / 4))
            found = ramp <= fall * held
        shifts[o] = min(float(steps[bright[-1]]), most * thick) if found else 0.0
    shifts[55] = max(shifts[55], 0.5 * shifts[56])
    shifts[59] = max(shifts[59], 0.5 * shifts[58])
    for o, s in shifts.items():
        out[o] -= wide * s * up
    return out
