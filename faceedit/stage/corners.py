"""The dark pockets at the corners of a smile an edit has closed or reshaped.

A laughing mouth's corners are dark wedges (the inside of the mouth beside the teeth, the deep
crease where the lips meet the cheeks). The warp that closes the mouth carries them into the new
corners, where they stay as dark upturned dimples that read as a smile still there (FER reads
laughing faces made neutral as happy through them, bench/bench_world.py --fer); a mouth a
laugh made surprised opens keeps them beside its new corners as the laugh's creases.
:func:`lift_corner_pockets` paints those pockets with the skin around them; :func:`lift_pockets`
is the edit's step that decides whether and how much.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS, pixel_max
from faceedit.stage.beard import beard_hair
from faceedit.stage.corner_flecks import lift_corner_flecks
from faceedit.stage.corner_teeth import lift_corner_teeth
from faceedit.stage.lip_spill import clear_lip_spill
from faceedit.stage.records import FaceEdit, Statistics
from faceedit.stage.state import lip_gap
from faceedit.stage.tuning_lips import LipsTuning

_LUMA = np.asarray(LUMA_WEIGHTS, np.float32)


def pocket_amount(taken: float, tuning: LipsTuning | None = None) -> float:
    """How much (0..1) of the pockets to paint for an edit that takes ``taken`` of a smile away:
    none under the first of ``pocket_smile`` (``tuning``, :class:`faceedit.stage.tuning_lips.LipsTuning`;
    default its defaults; the stretched lips of a surprised face read about half a smile: its mouth
    made neutral keeps its corners), all from the second."""
    lo, hi = (tuning if tuning is not None else LipsTuning()).pocket_smile
    return float(np.clip((taken - lo) / (hi - lo), 0.0, 1.0))


def lift_corner_pockets(pixels: np.ndarray, moved: np.ndarray, amount: float,
                        tuning: LipsTuning | None = None, *, in_place: bool = False,
                        hair: Callable[[tuple[int, int, int, int]], np.ndarray | None] | None = None) -> np.ndarray:
    """``pixels`` (H, W[, C]) with the dark pockets round the outer lip corners of the moved
    68 landmarks ``moved`` painted over by the skin around them (OpenCV's Telea inpainting,
    feathered, fading out towards ``pocket_reach`` off the corner), ``amount`` (0..1) of it:
    pixels within the reach darker than ``pocket_dark`` of the skin's luma around the
    corner, outside the outer lips (landmarks 48-59); ``tuning``: :class:`faceedit.stage.tuning_lips.LipsTuning`
    (default its defaults). ``hair``: a box (x0, y0, x1, y1) -> how far each of its pixels is a
    beard's hair (0..1; :func:`faceedit.stage.beard.beard_hair`), or None: hair stays as it is (a
    moustache's ends beside the corners are not a laugh's pockets).
    Returns ``pixels`` themselves where nothing is dark (or ``amount`` is 0), else a new array
    (written over with ``in_place``)."""
    tn = tuning if tuning is not None else LipsTuning()
    moved = np.asarray(moved, np.float64)
    eye = float(np.linalg.norm(moved[36] - moved[45]))
    reach = tn.pocket_reach * eye
    if amount <= 0 or reach < 1:
        return pixels
    out = pixels if in_place else pixels.copy()
    h, w = out.shape[:2]
    top = float(pixel_max(out.dtype))
    for i in (48, 54):
        cx, cy = moved[i]
        x0, y0 = int(max(cx - 2 * reach, 0)), int(max(cy - 2 * reach, 0))
        x1, y1 = int(min(cx + 2 * reach + 1, w)), int(min(cy + 2 * reach + 1, h))
        if x1 - x0 < 3 or y1 - y0 < 3:
            continue
        crop = out[y0:y1, x0:x1].astype(np.float32)
        grey = crop if crop.ndim == 2 else crop @ _LUMA
        lips = np.zeros(grey.shape, np.uint8)
        cv2.fillPoly(lips, [np.round(moved[48:60] - (x0, y0)).astype(np.int32)], 1)
        yy, xx = np.mgrid[y0:y1, x0:x1]
        d = np.hypot(xx - cx, yy - cy)
        ring = (d > 1.2 * reach) & (d < 2 * reach) & (lips == 0)
        if ring.sum() < 8:
            continue
        skin = float(np.median(grey[ring]))
        near = (d < reach) & (lips == 0)  # the lips themselves, their line to the corner included, stay
        strands = None if hair is None else hair((x0, y0, x1, y1))
        dark = near & (grey < tn.pocket_dark * skin)
        if strands is not None:
            dark &= strands < 0.5
        mask = dark.astype(np.uint8) * 255
        if not mask.any():
            continue
        mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
        planes = [crop] if crop.ndim == 2 else [crop[..., c] for c in range(crop.shape[2])]
        # filled from the skin round them: the lips and what they hold are no source (the lower teeth beside
        # a laugh's corner made surprised filled its pockets as pale wedges cut into the corners, web img41)
        unknown = np.maximum(mask, lips * 255)
        fill = np.stack([cv2.inpaint(np.ascontiguousarray(p), unknown, 3, cv2.INPAINT_TELEA) for p in planes], -1)
        weight = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), max(reach / 6, 0.7))
        # (on the lips, the pocket's own pixels alone: the skin's fill blurred onto a lip's corner)
        weight = np.clip(weight * np.clip(1.5 - d / reach, 0.0, 1.0) * amount, 0.0, 1.0) * ((lips == 0) | (mask > 0))
        if strands is not None:
            weight *= 1.0 - strands
        weight = weight[..., None]
        mixed = crop.reshape(*grey.shape, -1) * (1 - weight) + fill * weight
        out[y0:y1, x0:x1] = np.clip(mixed + 0.5, 0, top).astype(out.dtype).reshape(crop.shape)
    return out


def lift_pockets(stage: Statistics, face: FaceEdit, pixels: np.ndarray) -> np.ndarray:
    """The dark pockets a smile the move takes away leaves beside the mouth's corners, painted with
    the skin around them (:func:`lift_corner_pockets`; ``pixels`` drawn over) where its lips close
    or a target other than neutral reshapes it (a laugh made surprised), and there a coloured lip's red
    left outside the moved lips (:func:`faceedit.stage.lip_spill.clear_lip_spill`); on a smile's mouth (as
    much of one as the pockets take) the move closes for neutral, first the dark flecks at its corners
    (:func:`faceedit.stage.corner_flecks.lift_corner_flecks`); on any mouth the move closes for
    neutral, the tooth light at its corners (:func:`faceedit.stage.corner_teeth.lift_corner_teeth`)."""
    if face.warped is None or face.goal is None:
        return pixels
    # (the warp closes lips the move closes whole, whatever gap the goal's points keep)
    closed = face.closing >= 1.0 or lip_gap(face.goal) < stage.tuning.edit.lips_closed
    pockets = pocket_amount(face.smile_taken, stage.tuning.lips)
    if face.request.target == "neutral" and closed and face.closing > 0:
        if pockets > 0:
            # what the cut leaves of the laugh's dark corners, carried between the new corners
            pixels = lift_corner_flecks(pixels, face.warped.landmarks, stage.tuning.lips, in_place=True,
                                        deepened=face.seam_deepened)
        # and of the teeth shown to the corners (a closed smile's too: London 006)
        pixels = lift_corner_teeth(pixels, face.warped.landmarks, stage.tuning.lips, in_place=True)
    if pockets <= 0 or (not closed and face.request.target == "neutral"):
        return pixels
    moved = face.warped.landmarks
    pixels = lift_corner_pockets(pixels, moved, pockets, stage.tuning.lips, in_place=True,
                                 hair=functools.partial(beard_hair, pixels, moved, tuning=stage.tuning.edit))
    return clear_lip_spill(pixels, moved, pockets, stage.tuning.lips, in_place=True)
