"""The hidden corners of a laugh's cut, grown over the dark beside them and feathered.

A laugh's corner wedges (:func:`~faceedit.stage.cut_curves.corner_wedges`) are polygons; the
dark corridor of the smile they hide does not end at their edges: its top runs on above the
found upper curve, and its end turns up and out past the wedge (London 097, 126 smiling). What
stays of it beside a wedge is carried out of the new corners as grey dots or a black dot, and a
hard edge between the fill and the photo reads as a notch. Here the wedges take in the dark
beside them (thin, darker than the local median of the photo's luma) and the photo fades into
their fill over a band round them (where the opening is reshaped or, with
:attr:`~faceedit.stage.tuning_face.WarpTuning.kept_corners`, keeps its width: its corners move).
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS


def _polygons_mask(polys: list[np.ndarray], box: tuple[int, int, int, int]) -> np.ndarray:
    bx0, by0, bx1, by1 = box
    mask = np.zeros((by1 - by0, bx1 - bx0), np.uint8)
    for poly in polys:
        cv2.fillPoly(mask, [np.round((np.asarray(poly, np.float64) - (bx0, by0)) * 16).astype(np.int32)], 1,
                     shift=4)
    return mask


def dark_beside(near: np.ndarray, corners: np.ndarray, opening: np.ndarray, reach: float, depth: float,
                window: int) -> np.ndarray:
    """The pixels of ``near`` (h, w, 3) within ``reach`` px of the ``corners`` mask, outside the
    ``opening`` (coverage), whose luma lies ``depth`` or more below the median of the luma over a
    ``window`` px square about them, joined to the corners (through each other): a smile's
    corridor running on past its wedge, not the lips beside it (their luma follows the median)."""
    y = np.clip(near.astype(np.float32) @ np.asarray(LUMA_WEIGHTS, np.float32), 0, 255).astype(np.uint8)
    med = cv2.medianBlur(y, max(3, window | 1)).astype(np.float32)
    dist = cv2.distanceTransform(1 - corners, cv2.DIST_L2, 5)
    dark = (y.astype(np.float32) < (1.0 - depth) * med) & (dist < reach) & (opening <= 0)
    touch = cv2.dilate(corners, np.ones((3, 3), np.uint8)) > 0
    n, labels = cv2.connectedComponents((dark | (corners > 0)).astype(np.uint8), connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[touch & (labels > 0)])] = True
    keep[0] = False
    return keep[labels] & dark


def hidden_corners(near: np.ndarray, hidden: np.ndarray, opening: np.ndarray, corners: list[np.ndarray],
                   box: tuple[int, int, int, int], feather: float, dark: tuple[float, float, float]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``hidden`` (coverage over ``box``, the photo's ``near`` pixels there) grown round the
    ``corners`` polygons: over the dark beside them (:func:`dark_beside`, ``dark`` = reach and
    window in px, depth) and then a band ``feather`` px wide; the share of the photo kept in
    that band, none at the grown corners' edge rising to all ``feather`` px out; and where the
    grown corners and their band lie (bool)."""
    inner = _polygons_mask(corners, box)
    if dark[0] > 0:
        inner = (inner | cv2.dilate(dark_beside(near, inner, opening, dark[0], dark[2], int(dark[1])).astype(np.uint8),
                                    np.ones((3, 3), np.uint8))).astype(np.uint8)
    out = cv2.distanceTransform(1 - inner, cv2.DIST_L2, 5)
    ramp = np.clip(out / max(feather, 1e-6), 0.0, 1.0).astype(np.float32)
    band = (out < max(feather, 1e-6)) & (hidden <= 0)
    shade = np.where(band & (inner == 0), ramp * ramp * (3.0 - 2.0 * ramp), 0.0).astype(np.float32)
    return np.where(band, 1.0, hidden).astype(hidden.dtype), shade, out < max(feather, 1e-6)
