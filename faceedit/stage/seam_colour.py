"""The colour of the line where closed lips meet (:func:`faceedit.stage.mouth.paint_seam`).

Real closed lips meet in a shadow as red as the lips or redder: across the middle 80 % of the
line on the first 30 training London neutral photos at 1350 px its darkest sample's CIE chroma
is 1.06 of the lips' median chroma (its a* 1.5 over theirs; ``bench/measure_closed_seam.py``,
dlib's points). The lips' colour darkened alike in all channels reads less saturated (L*a*b*
chroma falls with the lightness): the seam a smile made neutral closed at that size read 0.83 of
the lips' chroma, a grey stroke over the lower lip. :func:`toward_lips` puts the seam's pixels
toward the lips' own chroma as far as they are darkened.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.lips import box_around


def lips_ab(pixels: np.ndarray, lips: np.ndarray, unit: float) -> np.ndarray | None:
    """The median CIE a*, b* (float L*a*b*: a*, b* about 0) of the pixels inside the polygon
    ``lips`` (the 68 points' outer lip, 48-59) of RGB ``pixels`` (levels up to ``unit``); None
    where it holds fewer than eight pixels or ``pixels`` has no colour."""
    lab = lips_lab(pixels, lips, unit)
    return None if lab is None else lab[1:]


def lips_lab(pixels: np.ndarray, lips: np.ndarray, unit: float) -> np.ndarray | None:
    """The median CIE L*, a*, b* of the pixels inside ``lips`` (as :func:`lips_ab`)."""
    if pixels.ndim != 3 or pixels.shape[2] < 3:
        return None
    pts = np.asarray(lips, np.float64)
    x0, y0, x1, y1 = box_around(pts, 1, pixels.shape)
    if x1 <= x0 or y1 <= y0:
        return None
    inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(inside, [np.round((pts - (x0, y0)) * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    if int(inside.sum()) < 8:
        return None
    rgb = np.ascontiguousarray(pixels[y0:y1, x0:x1, :3], np.float32) / unit
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    return np.median(lab[inside > 0], 0).astype(np.float64)


def toward_lips(rgb: np.ndarray, share: np.ndarray, ab: np.ndarray, chroma: float, unit: float,
                shade_from: float | None = None) -> np.ndarray:
    """``rgb`` (h, w, 3 float, levels up to ``unit``) with each pixel's a*, b* ``share`` (h, w,
    0..1) of the way to the lips' ``ab`` times ``chroma``, its luma kept (the seam's darkness
    stays as drawn); a pixel of no share as it was. Given ``shade_from`` (an L*), a pixel darker
    than it goes toward less of that chroma, in proportion to its L* (a shadow's colour falls
    with its light: the lips' chroma at a dark pixel's lightness is a vivid crimson stroke, not
    lips meeting in shade)."""
    s = np.clip(np.asarray(share, np.float32), 0.0, 1.0)
    if float(s.max()) <= 0.0:
        return rgb
    unit_rgb = np.clip(np.asarray(rgb, np.float32) / unit, 0.0, 1.0)
    lab = cv2.cvtColor(np.ascontiguousarray(unit_rgb), cv2.COLOR_RGB2LAB)
    goal = (np.asarray(ab, np.float32) * np.float32(chroma))[None, None]
    if shade_from is not None and shade_from > 0:
        goal = goal * np.clip(lab[..., :1] / np.float32(shade_from), 0.0, 1.0)
    lab[..., 1:] += s[..., None] * (goal - lab[..., 1:])
    back = np.clip(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB), 0.0, 1.0)
    # the pixel's own luma kept
    luma = np.asarray(LUMA_WEIGHTS, np.float32)
    gain = (unit_rgb @ luma) / np.maximum(back @ luma, 1e-6)
    moved = np.clip(back * gain[..., None], 0.0, 1.0) * unit
    return np.where(s[..., None] > 0.0, moved, rgb)  # a pixel with no share as it was
