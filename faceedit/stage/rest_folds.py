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
from faceedit.stage import ellipse_morph
from faceedit.stage.moves import face_frame
from faceedit.stage.tuning import EditTuning


def fold_band(shape: tuple[int, ...], lm: np.ndarray, reach: float) -> np.ndarray:
    """(H, W) float32 0..1: within ``reach`` eye distances of each nasolabial fold's course of
    the face at 68 landmarks ``lm`` (px of an image of ``shape``): from above and beside the nose
    wing (0.04 out, 0.09 up from 31 or 35) out round the cheek (0.13 out, 0.08 down) to beside
    the mouth corner (0.09 out, 0.03 up from 48 or 54) and on below it (0.1 out, 0.15 down); off
    the outer lips and the nose's base (their hulls), feathered over 0.3 of ``reach``."""
    return _whole(shape, *fold_band_box(shape, lm, reach))


def fold_band_box(shape: tuple[int, ...], lm: np.ndarray,
                  reach: float) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """:func:`fold_band` over the box (x0, y0, x1, y1) outside which it is 0, and that box."""
    u, n, ed = face_frame(lm)
    return course_band_box(shape, lm, [np.array([lm[wing] + ed * (side * 0.04 * u - 0.09 * n),
                                                 lm[wing] + ed * (side * 0.13 * u + 0.08 * n),
                                                 lm[corner] + ed * (side * 0.09 * u - 0.03 * n),
                                                 lm[corner] + ed * (side * 0.1 * u + 0.15 * n)])
                                       for side, wing, corner in ((-1.0, 31, 48), (1.0, 35, 54))], reach, ed)


def course_band(shape: tuple[int, ...], lm: np.ndarray, courses: list[np.ndarray], reach: float,
                ed: float) -> np.ndarray:
    """(H, W) float32 0..1: within ``reach`` eye distances (``ed`` px) of each polyline of
    ``courses`` (px of an image of ``shape``), off the outer lips and the nose's base of the face
    at 68 landmarks ``lm`` (their hulls), feathered over 0.3 of ``reach``."""
    return _whole(shape, *course_band_box(shape, lm, courses, reach, ed))


def course_band_box(shape: tuple[int, ...], lm: np.ndarray, courses: list[np.ndarray], reach: float,
                    ed: float) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """:func:`course_band` over the box (x0, y0, x1, y1) outside which it is 0 (the courses'
    bounds grown by the lines' half width, their smoothing and the feather's kernel, inside the
    image), and that box: the whole image's values there (OpenCV's Gaussian may round its far
    tails, ~1e-12, apart at another size)."""
    thick = max(int(round(2 * reach * ed)), 1)
    sigma = max(0.3 * reach * ed, 0.5)
    lines_px = [np.round(pts).astype(np.int32) for pts in courses]
    # OpenCV's Gaussian kernel for float32 reaches round(4 sigma) px; the lines' ends and edges
    # (round caps, antialiased) reach half their width and a pixel more
    g = thick // 2 + (int(round(sigma * 8 + 1)) | 1) // 2 + 4
    every = np.vstack(lines_px)
    h, w = shape[:2]
    x0, y0 = max(int(every[:, 0].min()) - g, 0), max(int(every[:, 1].min()) - g, 0)
    x1, y1 = min(int(every[:, 0].max()) + g + 1, w), min(int(every[:, 1].max()) + g + 1, h)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((0, 0), np.float32), (0, 0, 0, 0)
    m = np.zeros((y1 - y0, x1 - x0), np.float32)
    for pts in lines_px:
        cv2.polylines(m, [pts - (x0, y0)], False, 1.0, thick, cv2.LINE_AA)
    off = np.zeros(m.shape, np.uint8)
    for idx in (list(range(48, 60)), [31, 32, 33, 34, 35]):
        cv2.fillConvexPoly(off, cv2.convexHull(np.round(lm[idx]).astype(np.int32)) - (x0, y0), 1)
    m[off > 0] = 0.0
    return cv2.GaussianBlur(m, (0, 0), sigma), (x0, y0, x1, y1)


def _whole(shape: tuple[int, ...], part: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """(H, W) float32 of an image of ``shape``: ``part`` over ``box`` (x0, y0, x1, y1), 0 elsewhere."""
    out = np.zeros(shape[:2], np.float32)
    x0, y0, x1, y1 = box
    out[y0:y1, x0:x1] = part
    return out


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


def _reached(given: tuple[np.ndarray, tuple[int, int, int, int]] | None) -> tuple[int, int, int, int] | None:
    """The first and last columns and rows (x0, y0, x1, y1, inclusive, of the image) where a band
    (0..1 over its own box) is over 1e-4; None where nowhere."""
    if given is None:
        return None
    part, (bx0, by0, _, _) = given
    ys, xs = np.nonzero(part > 1e-4)
    if ys.size == 0:
        return None
    return int(xs.min()) + bx0, int(ys.min()) + by0, int(xs.max()) + bx0, int(ys.max()) + by0


def _placed(given: tuple[np.ndarray, tuple[int, int, int, int]] | None,
            box: tuple[int, int, int, int]) -> np.ndarray | None:
    """A band (0..1 over its own box (x0, y0, x1, y1)) over ``box`` instead, 0 outside its own."""
    if given is None:
        return None
    part, (bx0, by0, bx1, by1) = given
    x0, y0, x1, y1 = box
    out = np.zeros((y1 - y0, x1 - x0), np.float32)
    ix0, iy0, ix1, iy1 = max(x0, bx0), max(y0, by0), min(x1, bx1), min(y1, by1)
    if ix1 > ix0 and iy1 > iy0:
        out[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0] = part[iy0 - by0:iy1 - by0, ix0 - bx0:ix1 - bx0]
    return out


def rest_folds(pixels: np.ndarray, lm: np.ndarray, amount: float, tuning: EditTuning, *,
               in_place: bool = False, rest: bool = True,
               lifted: tuple[np.ndarray, tuple[int, int, int, int]] | None = None) -> np.ndarray:
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
    shallower; its darkness spread, not lost; a fold's colour with it). ``rest`` False: not
    over :func:`fold_band`. ``lifted``: another band (0..1 over its box (x0, y0, x1, y1) of
    ``pixels``) where the same valleys and ridges are lifted and none laid back (where it
    overlaps :func:`fold_band`, lifted), in the same pass. Computed over the bands' box grown by
    the operations' reach. ``pixels`` themselves where there is nothing to do; ``in_place``:
    ``pixels`` changed and returned."""
    t = tuning
    ed = eye_distance(lm)
    size = int(round(t.rest_fold_close * ed)) | 1
    bands = [fold_band_box(pixels.shape, lm, t.rest_fold_reach) if rest and t.rest_fold_reach > 0 else None, lifted]
    if amount <= 0 or size < 3 or all(b is None for b in bands):
        return pixels
    bands = [None if b is None else (b[0] * float(amount), b[1]) for b in bands]
    reached = [r for r in (_reached(b) for b in bands) if r is not None]
    if not reached:
        return pixels
    soft = max(t.rest_fold_soft * ed, t.rest_fold_soft_px)
    m = size + int(np.ceil(3.0 * max(soft, t.rest_fold_texture * ed, 1.0))) + 2
    h, w = pixels.shape[:2]
    x0, y0 = max(min(r[0] for r in reached) - m, 0), max(min(r[1] for r in reached) - m, 0)
    x1, y1 = min(max(r[2] for r in reached) + m + 1, w), min(max(r[3] for r in reached) + m + 1, h)
    band, lift = (_placed(b, (x0, y0, x1, y1)) for b in bands)  # (0 outside each band's own box)
    if lift is not None and band is not None:  # (where both, lifted)
        band = band * (1.0 - lift)
    grain = max(t.rest_fold_grain * ed, 0.5)

    def valley_and_ridge(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # the valley, and the ridge a squeezed fold's edge catches the light on (brighter than both sides)
        smooth = cv2.GaussianBlur(x, (0, 0), grain)
        dark = cv2.GaussianBlur(ellipse_morph.close(smooth, size), (0, 0), 1.0) - smooth
        lit = smooth - cv2.GaussianBlur(ellipse_morph.open_(smooth, size), (0, 0), 1.0)
        return np.maximum(dark, 0.0), np.maximum(lit, 0.0)

    out = pixels if in_place else pixels.copy()
    block = np.ascontiguousarray(out[y0:y1, x0:x1], np.float32)
    channels = [block] if block.ndim == 2 else [np.ascontiguousarray(block[..., c]) for c in range(min(block.shape[2], 3))]
    # which of the luma's valley and ridge run as lines, and not as a dense texture: each channel's kept as much
    luma = channels[0] if block.ndim == 2 else block[..., :3] @ np.asarray(LUMA_WEIGHTS, np.float32)
    shares = [np.clip(sparse(lines(v, t.rest_fold_length * ed), t.rest_fold_dense, t.rest_fold_texture * ed)
                      / np.maximum(v, 1e-3), 0.0, 1.0) for v in valley_and_ridge(np.ascontiguousarray(luma))]
    for c, x in enumerate(channels):
        dark, lit = valley_and_ridge(x)
        relief = dark * shares[0] - t.rest_fold_ridge * lit * shares[1]
        if band is not None:
            eased = relief * band
            x += eased - t.rest_fold_keep * cv2.GaussianBlur(eased, (0, 0), soft)
        if lift is not None:
            x += relief * lift
        if block.ndim == 2:
            out[y0:y1, x0:x1] = x
        else:
            out[y0:y1, x0:x1, c] = x
    return out
