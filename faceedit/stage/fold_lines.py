"""A laugh's fold lines carried in round a new mouth, lifted out of the skin (:func:`faceedit.stage.smile.flatten_cheeks`).

A laugh made surprised (or another open mouth) carries the folds beside its corners in round the
narrower mouth. The cheeks' relief taken away, their crisp core stays: a dark line a pixel or two
wide that brackets the opened mouth as a snarl's folds (web img50, img43) or rings the upper lip as a
muzzle's outline (London 031, 001, 064 smiling). Blurred away with the rest of the band, the skin's
pores go too (a plastic muzzle). :func:`lift_lines` lifts only long, thin, lone and faint lines: the
second derivative across each of :data:`ANGLES` directions averaged along it over ``fold_line_length``
(a pore, a freckle, the grain: short, and of either sign, averaged out; a line: the same all along
it), where that stands over the skin's own and its piece is long; there each channel goes to its grey
closing (a dark core) or opening (the lit shoulder beside it). A moustache's or stubble's strands are
lines too: deep, many together, and read as hair (:func:`faceedit.stage.beard.hair_strands`) by the
caller, they stay.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import luma
from faceedit.stage.tuning import EditTuning

#: The directions a line is sought along (numerical: a half turn in this many steps).
ANGLES = 8


def _along(img: np.ndarray, theta: float, length: float) -> np.ndarray:
    """``img`` averaged along direction ``theta`` (radians) by a Gaussian of sigma ``length`` / 2 px."""
    sigma = max(length / 2.0, 1.0)
    half = int(np.ceil(2.5 * sigma))
    k = np.zeros((2 * half + 1, 2 * half + 1), np.float32)
    t = np.linspace(-half, half, 8 * half + 1)
    xs = np.round(half + t * np.cos(theta)).astype(int)
    ys = np.round(half + t * np.sin(theta)).astype(int)
    np.add.at(k, (ys, xs), np.exp(-0.5 * (t / sigma) ** 2).astype(np.float32))
    return cv2.filter2D(img.astype(np.float32, copy=False), cv2.CV_32F, k / k.sum(), borderType=cv2.BORDER_REFLECT)


def line_strengths(lum: np.ndarray, width: float, length: float) -> tuple[np.ndarray, np.ndarray]:
    """(dark, light), each (h, w) float32: the strongest, over :data:`ANGLES` directions, of the luma's second
    derivative across the direction (at a Gaussian scale of ``width`` / 2 px) averaged along it over
    ``length`` px, and of its negative: over 0 along a dark valley (a light ridge) that long."""
    g = cv2.GaussianBlur(lum.astype(np.float32), (0, 0), max(width / 2.0, 0.7))
    dxx = cv2.Sobel(g, cv2.CV_32F, 2, 0, ksize=3)
    dyy = cv2.Sobel(g, cv2.CV_32F, 0, 2, ksize=3)
    dxy = cv2.Sobel(g, cv2.CV_32F, 1, 1, ksize=3)
    dark = np.full(lum.shape, -np.inf, np.float32)
    light = np.full(lum.shape, -np.inf, np.float32)
    for theta in np.arange(ANGLES) * np.pi / ANGLES:
        s, c = float(np.sin(theta)), float(np.cos(theta))
        across = _along(s * s * dxx - 2 * s * c * dxy + c * c * dyy, theta, length)  # along the normal (-sin, cos)
        np.maximum(dark, across, out=dark)
        np.maximum(light, -across, out=light)
    return dark, light


def lift_lines(flat: np.ndarray, region: np.ndarray, ed: float, tuning: EditTuning) -> np.ndarray:
    """``flat`` ((h, w, 3) or (h, w) float, the photo's scale) with the long dark lines inside ``region``
    ((h, w) 0..1) lifted to the skin beside them (each channel's grey closing over ``fold_line_width`` eye
    distances ``ed``) and their lit shoulders lowered to it (the grey opening), as far as the region is. The
    lines are where :func:`line_strengths` (``fold_line_width``, ``fold_line_length``) of the luma (the cores)
    or of its negative (the shoulders) stands over ``fold_line_grain`` times its median magnitude over the
    region, in pieces at least ``fold_line_length`` long. ``flat`` itself where the region is empty or holds
    none."""
    inside = region > 0.5
    if int(inside.sum()) < 50:
        return flat
    width, length = max(tuning.fold_line_width * ed, 1.0), tuning.fold_line_length * ed
    # within the region's box, margined for the filters
    ys, xs = np.nonzero(region > 0.01)
    pad = int(np.ceil(length + 2 * width)) + 2
    y0, y1 = max(int(ys.min()) - pad, 0), min(int(ys.max()) + pad + 1, region.shape[0])
    x0, x1 = max(int(xs.min()) - pad, 0), min(int(xs.max()) + pad + 1, region.shape[1])
    part, reg, inside = flat[y0:y1, x0:x1].astype(np.float32), region[y0:y1, x0:x1], inside[y0:y1, x0:x1]
    lum = luma(part) if part.ndim == 3 else part
    half = max(1, int(round(width)))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * half + 1, 2 * half + 1))
    lifted = part
    for strength, op in zip(line_strengths(lum, width, length), (cv2.MORPH_CLOSE, cv2.MORPH_OPEN)):
        # a dark core lifted, its lit shoulder lowered
        lines = _long(strength, inside, length, width, tuning.fold_line_grain, tuning.fold_line_alone)
        if lines is not None:  # toward the skin beside it, in its colour (a gain on the dark core reddened it)
            beside = cv2.morphologyEx(part, op, disc)
            # a fold's core is faint; a hair's strand (a moustache, stubble) is deep
            b_lum = luma(beside) if part.ndim == 3 else beside
            depth = np.abs(b_lum - lum) / np.maximum(np.maximum(b_lum, lum), 1e-3)
            lo, hi = tuning.fold_line_depth
            w = cv2.GaussianBlur(lines, (0, 0), 0.7) * reg * np.clip((hi - depth) / (hi - lo), 0.0, 1.0)
            lifted = lifted + (w if part.ndim == 2 else w[..., None]) * (beside - part)
    if lifted is part:
        return flat
    out = flat.copy()
    out[y0:y1, x0:x1] = lifted
    return out


def _long(strength: np.ndarray, inside: np.ndarray, length: float, width: float, grain: float,
          alone: float) -> np.ndarray | None:
    """(h, w) float32 1 on the pieces where ``strength`` stands over ``grain`` times its median magnitude
    inside ``inside`` that reach ``length`` px (their box's diagonal), are thin (their area over that under 3
    ``width``) and alone (such pixels under ``alone`` of those within about ``length`` of them: a fold's line
    in smooth skin; a moustache's or stubble's strands stand in a field of them), dilated a pixel; None where
    none."""
    level = float(np.median(np.abs(strength[inside])))
    strong = (strength > grain * max(level, 1e-6)) & inside
    n, labels, stats, _ = cv2.connectedComponentsWithStats(strong.astype(np.uint8), connectivity=8)
    reach = np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    keep = (reach >= length) & (stats[:, cv2.CC_STAT_AREA] < 3.0 * width * reach)
    keep[0] = False
    if keep.any():
        density = cv2.GaussianBlur(strong.astype(np.float32), (0, 0), max(length / 2.0, 1.0))
        crowd = np.bincount(labels.ravel(), weights=density.ravel(), minlength=n) / np.maximum(
            stats[:, cv2.CC_STAT_AREA], 1)
        keep &= crowd < alone
    if not keep.any():
        return None
    return cv2.dilate(keep[labels].astype(np.uint8), np.ones((3, 3), np.uint8)).astype(np.float32)
