"""The closed eye's corners: where the raised lower lid's glint cap eases out.

Raised under the closed lid, the lower lid's wet rim and the caruncle's glints read as the eye's
white: :func:`cap_glints` darkens them to no lighter than the skin under the eye (or, above where
the lids meet, than their own light around them, ``cap_reach`` eye heights across: a broad light
patch of skin keeps its grain). Towards the corners the cap eases out (:func:`near_corner`, over
``cap_corner`` of the eye's width), so the closed eye meets the photo's own skin there with no
straight side. Towards the inner corner the raised lower lid and what the cap darkened (the eye's
white, the wet rim, the caruncle's glints, and where the cap eases out the glints it leaves) take
the colour of the skin next to the corner, their own luma kept (:func:`close_corner`): darkened
with the white's tint they read as a grey-blue patch where a closed inner corner's skin is warm.
The lower-case names are fields of :class:`~faceedit.stage.tuning_lids.LidsTuning`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from faceedit.pixels import luma, pixel_max
from faceedit.stage.tuning_lids import LidsTuning

if TYPE_CHECKING:
    from faceedit.stage.lid_skin import _Eye


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


def _inner(eye: _Eye, x: np.ndarray, reach: float) -> np.ndarray:
    """How near the eye's inner corner the columns ``x`` (frame px) are: 1 at it, 0 from
    ``reach`` of the eye's width in (smoothly)."""
    xa, xb = float(eye.xs[0]), float(eye.xs[-1])
    v = np.clip((xb - x if eye.side == 0 else x - xa) / max(reach * (xb - xa), 1.0), 0.0, 1.0)
    return (1 - v * v * (3 - 2 * v)).astype(np.float32)


def corner_skin(src: np.ndarray, eye: _Eye, tn: LidsTuning) -> np.ndarray | None:
    """The colour (unit RGB) of the skin next to the eye's inner corner: the photo's median,
    channel by channel, ``corner_skin`` (from, to) of the eye's width beyond the corner, within
    half an eye height of the corner's middle. None for a grey photo or off the photo."""
    if src.ndim != 3:
        return None
    i, s = (len(eye.xs) - 1, 1.0) if eye.side == 0 else (0, -1.0)
    wide = float(eye.xs[-1] - eye.xs[0])
    dx, dy = np.meshgrid(np.arange(tn.corner_skin[0] * wide, tn.corner_skin[1] * wide),
                         np.arange(-0.5 * eye.tall, 0.5 * eye.tall + 1))
    p = np.rint(eye.to_photo(eye.xs[i] + s * dx, (eye.upper[i] + eye.lower[i]) / 2 + dy)).astype(int).reshape(-1, 2)
    p = p[(p[:, 0] >= 0) & (p[:, 1] >= 0) & (p[:, 0] < src.shape[1]) & (p[:, 1] < src.shape[0])]
    if len(p) < 8:
        return None
    return (np.median(src[p[:, 1], p[:, 0]].astype(np.float32), 0) / float(pixel_max(src.dtype))).astype(np.float32)


def close_corner(new: np.ndarray, src: np.ndarray, eye: _Eye, X: np.ndarray, w: np.ndarray,
                 caps: tuple[float, float], met: np.ndarray, tn: LidsTuning) -> np.ndarray:
    """``new`` ((h, w[, C]) unit float, the closed eye over frame columns ``X``) with the raised
    lower lid's glints capped (:func:`cap_glints`, ``w`` of the way: ``caps`` its cap and reach,
    ``met`` above the lids' meeting), easing out to the corners (:func:`near_corner`); the
    raised lower lid (``w``, the cap's reach up to the corner) and what the caps darkened
    (wholly where darkened ``corner_warm`` of its light and more) take the colour of the skin
    next to the inner corner (:func:`corner_skin`), keeping their luma, easing out over
    ``corner_reach`` of the eye's width from the inner corner, softened (``corner_soft``)."""
    cap, reach = caps
    corner = near_corner(X, (float(eye.xs[0]), float(eye.xs[-1])), tn)
    inner = _inner(eye, X, tn.corner_reach)
    out = cap_glints(new, cap, w * (1 - corner), met, reach)
    skin = corner_skin(src, eye, tn)
    if skin is None or new.ndim != 3:
        return out
    lum = luma(out)
    darker = 1 - lum / np.maximum(luma(new), 1e-6)
    # softened over corner_soft eye heights, and eased in from the corner itself over twice that:
    # the photo's own skin beyond the corner runs on into it with no straight side
    soft = max(tn.corner_soft * eye.tall, 0.5)
    k = cv2.GaussianBlur(np.maximum(np.clip(darker / max(tn.corner_warm, 1e-6), 0.0, 1.0), w).astype(np.float32), (0, 0), soft)
    k = (k * inner * (1 - _inner(eye, X, 2 * soft / max(float(eye.xs[-1] - eye.xs[0]), 1.0))))[..., None]
    return (out * (1 - k) + lum[..., None] * (skin / max(float(luma(skin)), 1e-6)) * k).astype(np.float32)
