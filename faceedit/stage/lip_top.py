"""The upper lip's red top as the photo shows it in a smile a closing cut closes (issue 55).

A face mesh fitted to a smile puts the outer upper lip's points (68-point 49-53) above the lip's
red, in the skin the smile stretches over it (London's training smiles, 001 and 004 at 3x: a few
px above the red's edge). The warp carries what lies between those points and the cut as the upper
lip; from a smile's thin lip that band is part skin, and the closed mouth showed a thin red band
over the line where the lips meet (dlib: 0.084 eye distances high on London's first 30 training
smiles made neutral, against the same people's own neutral 0.099; 0.087 with it).
:func:`found_upper_lip` moves the points down onto the red's top edge, so that the warp stretches
the red itself toward where the plan puts the outer lip (the plan's points follow a share of the
move, ``WarpTuning.lip_top_goal``: the plan's outer line stands in the skin as the source's did)."""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import pixel_max
from faceedit.stage.cut_curves import face_up

#: The outer upper-lip points searched (the middle) and the inner points their thickness runs to.
_INNER = {50: 61, 51: 62, 52: 63}
#: The corner-side outer points, moved this share of their middle neighbour's move.
_SIDE = {49: (50, 0.5), 53: (52, 0.5)}


def _red(pixels: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """CIE a* (about -127..127) of ``pixels`` at ``pts`` (n, 2), bilinear, clamped to the photo."""
    if pixels.ndim != 3 or pixels.shape[2] < 3:
        return np.zeros(len(pts))
    img = pixels[..., :3]
    mx = pts[:, 0].astype(np.float32)[None]
    my = pts[:, 1].astype(np.float32)[None]
    rgb = cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    lab = cv2.cvtColor(rgb.astype(np.float32) / pixel_max(pixels.dtype), cv2.COLOR_RGB2LAB)
    return lab[0, :, 1].astype(np.float64)


def found_upper_lip(pixels: np.ndarray, lm: np.ndarray, most: float, contrast: float) -> np.ndarray:
    """``lm`` (68, 2) with the outer upper lip's middle points (50-52) moved down the face onto
    the red's top edge the photo (RGB) shows below them: where a point's a* is nearer the skin's
    (the median over the fifth to the half of the lip's thickness, outer to inner point, above
    it) than the lip's (the median over the half to four fifths of the thickness below it), and
    the lip is ``contrast`` a* redder than that skin, the point goes to the first place below it
    halfway in a* from the skin to the lip, at most ``most`` of the thickness down; 49 and 53
    half as far as 50 and 52. ``lm`` itself's copy unmoved where the photo shows no such edge."""
    out = np.array(lm, np.float64)
    up = face_up(out)
    shifts: dict[int, float] = {}
    for o, i in _INNER.items():
        thick = float((out[o] - out[i]) @ up)
        shifts[o] = 0.0
        if thick < 3.0:
            continue
        steps = np.arange(0.0, thick, 0.25)
        col = _red(pixels, out[o] - steps[:, None] * up)
        above = _red(pixels, out[o] + np.arange(0.2 * thick, 0.5 * thick, 0.25)[:, None] * up)
        skin = float(np.median(above)) if above.size else float(col[0])
        lip = float(np.median(col[(steps >= 0.5 * thick) & (steps <= 0.8 * thick)]))
        if lip - skin < contrast:
            continue
        half = 0.5 * (skin + lip)
        reached = np.flatnonzero(col >= half)
        if reached.size and reached[0] > 0:
            shifts[o] = min(float(steps[reached[0]]), most * thick)
    for side, (o, share) in _SIDE.items():
        shifts[side] = share * shifts[o]
    for o, s in shifts.items():
        out[o] -= s * up
    return out
