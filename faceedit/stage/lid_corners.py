"""The closed eye's corners: where the raised lower lid's glint cap eases out.

Raised under the closed lid, the lower lid's wet rim and the caruncle's glints read as the eye's
white: :func:`cap_glints` darkens them to no lighter than the skin under the eye (or, above where
the lids meet, than their own light around them, ``cap_reach`` eye heights across: a broad light
patch of skin keeps its grain). Towards the corners the cap eases out (:func:`near_corner`, over
``cap_corner`` of the eye's width), so the closed eye meets the photo's own skin there with no
straight side. The lower-case names are fields of :class:`~faceedit.stage.tuning_lids.LidsTuning`.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import luma
from faceedit.stage.tuning_lids import LidsTuning


def cap_glints(new: np.ndarray, cap: float, w: np.ndarray, met: np.ndarray, reach: float) -> np.ndarray:
    """``new`` ((h, w[, C]) unit float) darkened ``w`` of the way to no lighter than ``cap`` (a
    luma), or, where ``met`` (above the lids' meeting, at the corners), than its own light blurred
    over ``reach`` px: a glint stands out of its surroundings' light, a broad light patch of skin
    (the inner corner's, by the nose) does not and keeps its grain (capped, a flat grey block)."""
    v = np.maximum(luma(new) if new.ndim == 3 else new, 1e-6).astype(np.float32)
    around = cv2.GaussianBlur(v, (0, 0), max(1.0, reach))
    gain = 1 - w * (1 - np.minimum(np.where(met, np.maximum(cap, around), cap) / v, 1.0))
    gain = gain.astype(np.float32)
    return (new * (gain[..., None] if new.ndim == 3 else gain)).astype(np.float32)


def near_corner(x: np.ndarray, ends: tuple[float, float], tn: LidsTuning) -> np.ndarray:
    """How near the eye's corners (``ends``, frame px) the columns ``x`` are: 1 at a corner, 0 from
    ``cap_corner`` of the eye's width in (smoothly): the raised lower lid's glint cap eases out
    towards the corners over it, so that it meets the photo's own skin there (the inner corner's
    light skin runs on past the corner: capped up to it, it ends in a flat block with a straight side)."""
    reach = max(tn.cap_corner * (ends[1] - ends[0]), 1.0)
    v = np.clip(np.minimum(x - ends[0], ends[1] - x) / reach, 0.0, 1.0)
    return (1 - v * v * (3 - 2 * v)).astype(np.float32)
