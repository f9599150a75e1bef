"""The closed lid's lash line: a dark band with the grain of the photo's own lashes.

A closed eye's lash line in a photograph is the lashes pressed together along the lid's edge: a
dark band, but not an even one. Along the eye it is streaked strand by strand (darker where the
lashes lie thick, a little lighter between them, its colour shifting with them), the strands
hang down and out towards the outer corner, and its edges are not a clean curve. Drawn as one
smooth colour it reads as mascara. :func:`draw_lash_line` draws the band (``line`` eye heights
half thick, centred ``0.3 roots`` above the edge, as dark as the photo's own lash line per
column) with the photo's lash pixels' own variation on it: :func:`lash_grain` reads that off
the photo (each pixel over its blur along the image's rows, ``line_grain_along`` eye heights),
:func:`strands_at` lays it on the band mirrored at the edge (the open eye's lashes from their
roots up, read ``line_grain_up`` px per px from the edge, so a strand is drawn out down the face,
and slanted ``line_slant`` px outwards per px down), clipped to ``line_grain_clip`` and raised
to ``line_grain``: streaks darker and lighter than the band's colour, its gaps still dark. The
band's upper half (above its middle, ``0.3 roots`` over the edge) takes ``line_core`` of it, its
upper side the curve it was; from the edge down the band is the hanging lashes, all of the
grain, its lower side following the strands (its half thickness up to ``line_ragged`` of it more
where the lashes are thick, half that less where they are thin). Its dark mass under the edge
stays, its colour varied, not cut away (an eye's reader, dlib's 68 points, finds the lids
meeting there; the lashes' strands alone, the band kept only where they are dark, read as an
eye part-open). The lower-case names are fields of :class:`~faceedit.stage.tuning_lids.LidsTuning`.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from faceedit.stage.tuning_lids import LidsTuning


def lash_grain(crop: np.ndarray, tall: float, tn: LidsTuning) -> np.ndarray:
    """``crop`` ((h, w[, C]) unit float, the photo round the eye, ``tall`` px the eye's tallest
    opening) over its blur along the image's rows (``line_grain_along`` eye heights, half a pixel
    across them): 1 where a pixel is as dark as the pixels beside it, under 1 on a lash, over
    between lashes."""
    sigma = max(tn.line_grain_along * tall, 1.0)
    blur = cv2.GaussianBlur(crop, (0, 0), sigmaX=sigma, sigmaY=0.5, borderType=cv2.BORDER_REFLECT)
    return (crop / np.maximum(blur, 1e-3)).astype(np.float32)


def strands_at(grain: np.ndarray, to_photo: Callable[[np.ndarray, np.ndarray], np.ndarray], origin: tuple[int, int], X: np.ndarray, Y: np.ndarray,
               U: np.ndarray, E: np.ndarray, outward: float, tall: float, tn: LidsTuning) -> np.ndarray:
    """The photo's lash grain (``grain``, :func:`lash_grain` of the crop whose top-left photo pixel
    is ``origin``; ``to_photo`` maps frame x, y to photo points) for the closed lid's lash line at
    frame pixels ``X``, ``Y``: mirrored at the lid's edge ``E`` (read ``line_grain_up`` px up from
    the open eye's margin ``U`` per px away from the edge, above it or below) and slanted
    ``line_slant`` px towards the outer corner (``outward``: +1 or -1 along the frame's x) per px
    down."""
    dy = Y - E
    q = (to_photo(X - outward * tn.line_slant * dy, U - tn.line_grain_up * np.abs(dy))
         - np.asarray(origin, np.float64)).astype(np.float32)
    r = cv2.remap(grain, q[..., 0], q[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return r.reshape(r.shape[:2] + grain.shape[2:])


def draw_lash_line(new: np.ndarray, Y: np.ndarray, E: np.ndarray, weight: np.ndarray, colour: np.ndarray,
                   grain: np.ndarray, width: float, tall: float, roots: float, tn: LidsTuning) -> np.ndarray:
    """``new`` (unit levels, frame pixels ``Y`` rows down the face) with the lash line drawn
    along the lid's edge ``E``: ``weight`` per pixel (how far the lashes have turned down,
    inside the eye), ``colour`` the photo's lash line's per pixel, ``grain`` the photo's lash
    pixels' variation per pixel (:func:`strands_at`), ``width`` the band's half thickness in eye
    heights, ``tall`` px the eye's tallest opening, ``roots`` px the lash roots' band."""
    chans = (lambda v: v[..., None]) if new.ndim == 3 else (lambda v: v)  # noqa: E731
    lo, hi = tn.line_grain_clip
    g = np.clip(grain, lo, hi) ** np.float32(tn.line_grain)
    mid = E - 0.3 * roots
    # line_core of the grain on the band's upper half, all of it from the edge down
    k = tn.line_core + (1 - tn.line_core) * np.clip((Y - mid) / max(0.3 * roots, 1e-6), 0.0, 1.0)
    g = 1 + (g - 1) * chans(k.astype(np.float32))  # grain has new's channels
    g_lum = (g.mean(-1) if g.ndim == 3 else g).astype(np.float32)
    # below its middle the band's half thickness follows the strands: fuller where the lashes
    # are thick, thinner between them
    ragged = 1.0 + tn.line_ragged * np.clip((1.0 - g_lum) / max(1.0 - lo, 1e-6), -0.5, 1.0)
    half = width * tall * np.where(Y > mid, ragged, 1.0)
    band = np.clip(1.0 - np.abs(Y - mid) / np.maximum(half, 1e-6), 0.0, 1.0)
    line = (weight * band * band * (3 - 2 * band)).astype(np.float32)
    dark = np.minimum(new, (colour * g).astype(np.float32))
    return (new * chans(1 - line) + dark * chans(line)).astype(np.float32)
