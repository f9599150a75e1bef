"""A smile's nasolabial folds, made neutral, eased into the person's resting folds.

A smile taken away leaves its nasolabial folds where the warp carried them: in round the
narrower mouth, squeezed finer than the cheeks' flattening reaches
(:func:`faceedit.stage.smile.flatten_cheeks`), as thin, sharp lines from the nose wings past
the mouth corners. A face at rest has a softer fold there: on London's 1350-px pairs the
smiles made neutral kept a valley about as deep as the person's own neutral photo's but half
as wide (``bench/measure_rest_folds.py``). Here the valley is not erased but spread: over a
band round each fold's course (from above the nose wing, out round the cheek, past the mouth
corner to below it), what of the skin's luma lies under its grey closing (darker than the skin
on both sides of it within the closing's width) is taken out and put back blurred, a share of
its darkness kept, so the fold's shade, lit as the photo lights it, becomes a wider, shallower
valley. How wide, how much is kept and where: ``rest_fold_*`` of
:class:`~faceedit.stage.tuning.EditTuning`.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.faces.landmarks import eye_distance
from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.moves import face_frame
from faceedit.stage.tuning import EditTuning


def fold_band(shape: tuple[int, ...], lm: np.ndarray, reach: float) -> np.ndarray:
    """(H, W) float32 0..1: within ``reach`` eye distances of each nasolabial fold's course of
    the face at 68 landmarks ``lm`` (px of an image of ``shape``): from above and beside the nose
    wing (0.04 out, 0.09 up from 31 or 35) out round the cheek (0.13 out, 0.08 down) to beside
    the mouth corner (0.09 out, 0.03 up from 48 or 54) and on below it (0.1 out, 0.15 down); off
    the outer lips and the nose's base (their hulls), feathered over 0.3 of ``reach``."""
    u, n, ed = face_frame(lm)
    return course_band(shape, lm, [np.array([lm[wing] + ed * (side * 0.04 * u - 0.09 * n),
                                             lm[wing] + ed * (side * 0.13 * u + 0.08 * n),
                                             lm[corner] + ed * (side * 0.09 * u - 0.03 * n),
                                             lm[corner] + ed * (side * 0.1 * u + 0.15 * n)])
                                   for side, wing, corner in ((-1.0, 31, 48), (1.0, 35, 54))], reach, ed)


def course_band(shape: tuple[int, ...], lm: np.ndarray, courses: list[np.ndarray], reach: float,
                ed: float) -> np.ndarray:
    """(H, W) float32 0..1: within ``reach`` eye distances (``ed`` px) of each polyline of
    ``courses`` (px of an image of ``shape``), off the outer lips and the nose's base of the face
    at 68 landmarks ``lm`` (their hulls), feathered over 0.3 of ``reach``."""
    m = np.zeros(shape[:2], np.float32)
    for pts in courses:
        cv2.polylines(m, [np.round(pts).astype(np.int32)], False, 1.0, max(int(round(2 * reach * ed)), 1),
                      cv2.LINE_AA)
    off = np.zeros(shape[:2], np.uint8)
    for idx in (list(range(48, 60)), [31, 32, 33, 34, 35]):
        cv2.fillConvexPoly(off, cv2.convexHull(np.round(lm[idx]).astype(np.int32)), 1)
    m[off > 0] = 0.0
    return cv2.GaussianBlur(m, (0, 0), max(0.3 * reach * ed, 0.5))


def sparse(relief: np.ndarray, dense: float, sigma: float) -> np.ndarray:
    """``relief`` (>= 0) less ``dense`` times its blur of ``sigma`` px, at least 0: a lone line
    (a fold) stays, most of it, where a dense texture of lines and dots (stubble, pores) whose
    blur is near its own level goes."""
    if dense <= 0:
        return relief
    return np.maximum(relief - dense * cv2.GaussianBlur(relief, (0, 0), max(sigma, 0.5)), 0.0)


def lines(relief: np.ndarray, length: float) -> np.ndarray:
    """``relief`` (>= 0) kept where it runs as a line at least ``length`` px long: the largest of
    its grey openings by 8 line segments that long (0 to 157.5 degrees); a dot (a pore, a
    speck) goes. ``relief`` itself under 3 px."""
    n = int(round(length)) | 1
    if n < 3:
        return relief
    out = np.zeros_like(relief)
    c = n // 2
    for k in range(8):
        a = np.pi * k / 8
        seg = np.zeros((n, n), np.uint8)
        d = np.array([np.cos(a), np.sin(a)]) * c
        cv2.line(seg, (int(round(c - d[0])), int(round(c - d[1]))), (int(round(c + d[0])), int(round(c + d[1]))), 1)
        np.maximum(out, cv2.morphologyEx(relief, cv2.MORPH_OPEN, seg), out=out)
    return out


def rest_folds(pixels: np.ndarray, lm: np.ndarray, amount: float, tuning: EditTuning) -> np.ndarray:
    """``pixels`` ((H, W[, C]) float32, any range) with the nasolabial folds of the face at 68
    landmarks ``lm`` (moved, px of ``pixels``) eased ``amount`` (0..1) of the way to resting
    folds, over :func:`fold_band` (``tuning.rest_fold_reach``): per pixel and channel the
    valley, what the channel blurred by ``rest_fold_grain`` eye distances lies under that blur's
    grey closing ``rest_fold_close`` eye distances wide, less ``rest_fold_ridge`` of what it
    lies over that blur's grey opening (the lit edge beside a squeezed fold), each kept by the share of
    the luma's that runs as a line ``rest_fold_length`` eye distances long (:func:`lines`: pores
    go) less ``rest_fold_dense`` times its blur of ``rest_fold_texture`` eye distances
    (:func:`sparse`: stubble goes), is lifted, and ``rest_fold_keep`` of it laid back blurred by
    ``rest_fold_soft`` eye distances, at least ``rest_fold_soft_px`` px (the valley wider and
    shallower; its darkness spread, not lost; a fold's colour with it). Computed over the
    band's box grown by the operations' reach. ``pixels`` themselves where there is nothing
    to do."""
    t = tuning
    ed = eye_distance(lm)
    size = int(round(t.rest_fold_close * ed)) | 1
    if amount <= 0 or size < 3 or t.rest_fold_reach <= 0:
        return pixels
    band = fold_band(pixels.shape, lm, t.rest_fold_reach) * float(amount)
    ys, xs = np.nonzero(band > 1e-4)
    if ys.size == 0:
        return pixels
    soft = max(t.rest_fold_soft * ed, t.rest_fold_soft_px)
    m = size + int(np.ceil(3.0 * max(soft, t.rest_fold_texture * ed, 1.0))) + 2
    h, w = pixels.shape[:2]
    x0, y0, x1, y1 = max(xs.min() - m, 0), max(ys.min() - m, 0), min(xs.max() + m + 1, w), min(ys.max() + m + 1, h)
    band = band[y0:y1, x0:x1]
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    grain = max(t.rest_fold_grain * ed, 0.5)

    def valley_and_ridge(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # the valley, and the ridge a squeezed fold's edge catches the light on (brighter than both sides)
        smooth = cv2.GaussianBlur(x, (0, 0), grain)
        dark = cv2.GaussianBlur(cv2.morphologyEx(smooth, cv2.MORPH_CLOSE, kernel), (0, 0), 1.0) - smooth
        lit = smooth - cv2.GaussianBlur(cv2.morphologyEx(smooth, cv2.MORPH_OPEN, kernel), (0, 0), 1.0)
        return np.maximum(dark, 0.0), np.maximum(lit, 0.0)

    out = pixels.copy()
    block = np.ascontiguousarray(out[y0:y1, x0:x1], np.float32)
    channels = [block] if block.ndim == 2 else [np.ascontiguousarray(block[..., c]) for c in range(min(block.shape[2], 3))]
    # which of the luma's valley and ridge run as lines, and not as a dense texture: each channel's kept as much
    luma = channels[0] if block.ndim == 2 else block[..., :3] @ np.asarray(LUMA_WEIGHTS, np.float32)
    shares = [np.clip(sparse(lines(v, t.rest_fold_length * ed), t.rest_fold_dense, t.rest_fold_texture * ed)
                      / np.maximum(v, 1e-3), 0.0, 1.0) for v in valley_and_ridge(np.ascontiguousarray(luma))]
    for c, x in enumerate(channels):
        dark, lit = valley_and_ridge(x)
        relief = (dark * shares[0] - t.rest_fold_ridge * lit * shares[1]) * band
        x += relief - t.rest_fold_keep * cv2.GaussianBlur(relief, (0, 0), soft)
        if block.ndim == 2:
            out[y0:y1, x0:x1] = x
        else:
            out[y0:y1, x0:x1, c] = x
    return out
