"""A coloured lip's red left outside the moved lips, painted over by the skin around the mouth.

A laugh's lips reach wider than the mouth an edit makes of them (a laugh made surprised narrows to
an O; made neutral, to a closed mouth at rest). The warp carries the lips with their outline, but
the red of a laugh's stretched ends and rims lies in the old outline's place, a pixel or a few
outside the new one: on bare lips, a trace a shade redder than the skin; on a red lipstick,
red flecks and wings beside the new corners and a pink haze along the rims (web img43, img42,
img28: smiles made surprised). :func:`clear_lip_spill` paints what is as red as lips outside the
moved lips' outline with the skin round it.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.faces.landmarks import eye_distance
from faceedit.pixels import pixel_max
from faceedit.stage.lips import redness
from faceedit.stage.tuning_lips import LipsTuning


def clear_lip_spill(pixels: np.ndarray, moved: np.ndarray, amount: float = 1.0,
                    tuning: LipsTuning | None = None, *, in_place: bool = False) -> np.ndarray:
    """``pixels`` (H, W, C) with the lips' red outside the outer lips of the moved 68 landmarks
    ``moved`` (48-59) painted over by the skin round it (OpenCV's Telea inpainting, the lips no
    source), ``amount`` (0..1) of it. Only on lips redder than the skin by ``spill_contrast`` (CIE
    a*, OpenCV's 8-bit scale: the lips' median inside their outline, the opening left out, against
    the skin's from ``spill_reach[1]`` to ``spill_reach[2]`` eye distances out); there, from
    ``spill_reach[0]`` eye distances (at least a pixel and a half) off the outline to
    ``spill_reach[1]``, each pixel as far as its redness goes from the skin's toward the lips'
    (none under the first of ``spill_share``, all from the second), fading in over the first gap
    beyond the near one (the lips' own soft edge kept soft). Returns ``pixels`` themselves
    where nothing is painted, else a new array (written over with ``in_place``)."""
    tn = tuning if tuning is not None else LipsTuning()
    if pixels.ndim != 3 or pixels.shape[2] < 3 or amount <= 0:
        return pixels
    moved = np.asarray(moved, np.float64)
    ed = eye_distance(moved)
    gap, reach, skin_to = (f * ed for f in tn.spill_reach)
    h, w = pixels.shape[:2]
    lo = moved[48:60].min(0) - skin_to - 2
    hi = moved[48:60].max(0) + skin_to + 3
    x0, y0 = max(int(lo[0]), 0), max(int(lo[1]), 0)
    x1, y1 = min(int(hi[0]), w), min(int(hi[1]), h)
    if x1 - x0 < 8 or y1 - y0 < 8 or reach < 2:
        return pixels
    crop = pixels[y0:y1, x0:x1, :3]
    red = redness(crop)
    lips = np.zeros(red.shape, np.uint8)
    cv2.fillPoly(lips, [np.round((moved[48:60] - (x0, y0)) * 8).astype(np.int32)], 1, cv2.LINE_8, 3)
    inside = np.zeros_like(lips)
    cv2.fillPoly(inside, [np.round((moved[60:68] - (x0, y0)) * 8).astype(np.int32)], 1, cv2.LINE_8, 3)
    square = np.ones((3, 3), np.uint8)  # (a mask grown by a pixel)
    own = (lips > 0) & (cv2.dilate(inside, square) == 0)
    gap = max(gap, 1.5)
    off = cv2.distanceTransform((1 - lips).astype(np.uint8), cv2.DIST_L2, 3)  # (px off the outline)
    near = off <= gap
    ring = (off <= reach) & ~near
    skin_band = (off > reach) & (off <= skin_to)
    if int(own.sum()) < 8 or int(skin_band.sum()) < 16:
        return pixels
    lip_red, skin_red = float(np.median(red[own])), float(np.median(red[skin_band]))
    contrast = lip_red - skin_red
    if contrast < tn.spill_contrast:
        return pixels
    a, b = tn.spill_share
    share = np.clip(((red - skin_red) / contrast - a) / max(b - a, 1e-6), 0.0, 1.0) * ring
    if float(share.max()) <= 0:
        return pixels
    unknown = ((cv2.dilate((share > 0.05).astype(np.uint8), square) > 0) | near).astype(np.uint8) * 255
    src = np.ascontiguousarray(crop.astype(np.float32))
    fill = np.stack([cv2.inpaint(np.ascontiguousarray(src[..., c]), unknown, 3, cv2.INPAINT_TELEA)
                     for c in range(3)], -1)
    weight = np.clip(cv2.GaussianBlur(share.astype(np.float32), (0, 0), 0.7) * 1.5, 0.0, 1.0)
    # (from none at ``gap`` off the outline to all a gap further: the lips' own soft edge stays soft)
    weight = (weight * np.clip(off / gap - 1.0, 0.0, 1.0) * float(min(amount, 1.0)))[..., None]
    out = pixels if in_place else pixels.copy()
    mixed = src * (1.0 - weight) + fill * weight
    out[y0:y1, x0:x1, :3] = np.clip(mixed + 0.5, 0, pixel_max(pixels.dtype)).astype(pixels.dtype)
    return out
