"""How dark, and in what colour, a small mouth's closed seam goes: the photo's own lips' dark and
colour, read before the warp (:func:`own_lips_dark`), which :func:`faceedit.stage.mouth.paint_seam`
takes as a small mouth's floor and the seam's colour (:func:`small_floor`; the field is
:class:`~faceedit.stage.tuning_lips.LipsTuning`'s ``seam_small_depth``).

A smile's warp closes the lips over the teeth it stretched them across; read after it, a small
mouth's lips hold few dark pixels and a greyer colour (their edges blurred into the carried teeth
and lip), and a floor read there holds the seam as light as a pink band, with no line where the
lips meet.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from faceedit.faces.landmarks import eye_distance
from faceedit.pixels import LUMA_WEIGHTS, pixel_max
from faceedit.stage.lips import box_around

_LUMA = np.asarray(LUMA_WEIGHTS, np.float32)
#: The percentile of the lips' luma taken as their own dark (as :data:`faceedit.stage.mouth.SEAM_DARK_PERCENTILE`).
DARK_PERCENTILE = 10.0


class OwnLips(NamedTuple):
    """The photo's own lips, read before the warp: their ``dark`` (luma, the pixels' scale) and
    the median CIE a*, b* of their darker pixels (``ab``, float L*a*b*; None on a grey photo)."""

    dark: float
    ab: np.ndarray | None


def own_lips_dark(pixels: np.ndarray, landmarks: np.ndarray, seam_width: float,
                  colour_percentile: float = 100.0) -> OwnLips | None:
    """The photo's own lips' dark (the pixels' scale): the :data:`DARK_PERCENTILE`-th percentile of
    the luma of ``pixels`` between the 68 points' outer (48-59) and inner (60-67) lips of
    ``landmarks``, leaving out a seam's width (``seam_width`` eye distances)
    about the inner lips (the dark between a smile's lips and its teeth, or a closed mouth's own
    line, is not lip), and the median a*, b* of those of the same pixels at or under the
    ``colour_percentile``-th percentile of their luma (100: all). None where the lips hold too
    few pixels (under 8)."""
    lm = np.asarray(landmarks, np.float64)
    if lm.shape != (68, 2):
        return None
    eye_dist = eye_distance(lm)
    outer, inner = lm[48:60], lm[60:68]
    x0, y0, x1, y1 = box_around(outer, 2, pixels.shape)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    size = (y1 - y0, x1 - x0)
    lips = np.zeros(size, np.uint8)
    cv2.fillPoly(lips, [np.round((outer - (x0, y0)) * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    cv2.fillPoly(lips, [np.round((inner - (x0, y0)) * 16).astype(np.int32)], 0, cv2.LINE_8, 4)
    edge = np.full(size, 255, np.uint8)
    cv2.polylines(edge, [np.round((inner - (x0, y0)) * 16).astype(np.int32)], True, 0, 1, cv2.LINE_8,
                  shift=4)
    away = cv2.distanceTransform(edge, cv2.DIST_L2, 3)
    keep = (lips > 0) & (away > 0.5 * seam_width * eye_dist)
    if int(keep.sum()) < 8:
        return None
    crop = pixels[y0:y1, x0:x1].astype(np.float32)
    grey = crop if crop.ndim == 2 else crop[..., :3] @ _LUMA
    dark = float(np.percentile(grey[keep], DARK_PERCENTILE))
    if crop.ndim != 3 or crop.shape[2] < 3:
        return OwnLips(dark, None)
    lab = cv2.cvtColor(np.ascontiguousarray(crop[..., :3] / pixel_max(pixels.dtype)), cv2.COLOR_RGB2LAB)
    darker = keep & (grey <= np.percentile(grey[keep], colour_percentile))
    return OwnLips(dark, np.median(lab[darker][:, 1:], 0).astype(np.float64))


def small_floor(small: float, own: OwnLips | None, dark: float, share: float) -> float | None:
    """A seam's floor (the pixels' scale) given a small mouth's share ``small`` of it: the
    photo's own lips' dark (``own``, :func:`own_lips_dark`) by that share, ``share`` (the
    larger mouth's ``seam_floor``) of ``dark`` (the lips' dark read where they now lie) by the
    rest; None without an own dark or a small share (the caller's floor stands)."""
    if own is None or small <= 0 or own.dark <= 0:
        return None
    return small * own.dark + (1.0 - small) * share * dark
