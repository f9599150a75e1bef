"""Shading relief taken off the skin: the band of scales between a fine and a broad blur.

An expression bunches the skin into bulges and folds that the warp carries along as shading (a
laugh's raised cheeks, a frown's knit between the brows); a move that takes the expression away
moves the landmarks but leaves that relief where the warp put it. :func:`relief_band` is each
channel's band between two blurs (finer is the skin's own grain, broader is its colour and the
face's light: both stay when the band is taken off); :func:`faceedit.stage.smile.flatten_cheeks`
takes it off the cheeks by the smile taken away, :func:`flatten_knit` off the glabella and the
brows' heads by the frown taken away (AU4's fall, :func:`faceedit.stage.folds.fold_removal`'s
``glabella``), the brows' hairs kept out of both blurs and left as they are, and
:func:`flatten_chin` off the chin's bunched skin by the frown the photo shows that a target
without one releases.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.faces.align import crop_footprint
from faceedit.pixels import LUMA_WEIGHTS, pixel_max
from faceedit.stage.brows import browness
from faceedit.stage.moves import face_frame
from faceedit.stage.precision import is_exact
from faceedit.stage.tuning_face import BrowsTuning
from faceedit.stage.tuning_folds import FoldsTuning

#: The fast render's broad blurs: a Gaussian of at least this many px is taken on the image
#: shrunk by a whole factor that leaves it at least ``COARSE_BLUR_PX`` / 2 px there (area
#: average), then enlarged back bilinearly; the exact render blurs at full resolution.
COARSE_BLUR_PX = 16.0


def _gaussian(x: np.ndarray, sigma: float) -> np.ndarray:
    """``x`` blurred with a Gaussian of ``sigma`` px: at full resolution, or in the fast render
    from :data:`COARSE_BLUR_PX` up on a grid ``f`` times coarser (the area average's and the
    bilinear enlargement's own spread, about ``f`` / 2 px together, taken off the Gaussian's)."""
    f = int(sigma // (COARSE_BLUR_PX / 2))
    h, w = x.shape[:2]
    if f < 2 or is_exact() or min(h, w) < 4 * f:
        return cv2.GaussianBlur(x, (0, 0), sigma)
    small = cv2.resize(x, (-(-w // f), -(-h // f)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), float(np.sqrt(sigma * sigma - 0.25 * f * f)) / f)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR).reshape(x.shape)


def _blur(x: np.ndarray, sigma: float, weight: np.ndarray | None) -> np.ndarray:
    """``x`` blurred with a Gaussian of ``sigma`` px (:func:`_gaussian`); with ``weight`` ((H, W)
    0..1), a normalised blur of the weighted pixels alone (what has no weight lends no colour)."""
    if weight is None:
        return _gaussian(x, sigma)
    w = weight[..., None] if x.ndim == 3 else weight
    num = _gaussian(x * w, sigma)
    den = _gaussian(weight, sigma)
    if x.ndim == 3:
        den = den[..., None]
    return num / np.maximum(den, 1e-3)


def box_around(points: np.ndarray, margin: float, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1): the box of ``points`` ((N, 2) x, y) grown by ``margin`` px on every side,
    inside an image of ``shape`` ((H, W, ...)); None where it is under 4 px either way."""
    h, w = shape[:2]
    x0, y0 = (int(max(np.floor(v - margin), 0)) for v in points.min(0))
    x1, y1 = int(min(np.ceil(points[:, 0].max() + margin), w)), int(min(np.ceil(points[:, 1].max() + margin), h))
    return None if x1 - x0 < 4 or y1 - y0 < 4 else (x0, y0, x1, y1)


def relief_band(crop: np.ndarray, fine: float, broad: float, weight: np.ndarray | None = None) -> np.ndarray:
    """(H, W[, C]) float32: ``crop``'s band between a Gaussian blur of ``fine`` px and one of
    ``broad`` px (each at least 0.5): its shading relief at those scales. ``weight`` ((H, W)
    0..1): blurs of the weighted pixels alone (:func:`_blur`), so a dark feature with no weight
    (a brow's hairs) darkens neither blur round it."""
    return blurred(crop, fine, weight) - blurred(crop, broad, weight)


def blurred(crop: np.ndarray, sigma: float, weight: np.ndarray | None = None) -> np.ndarray:
    """(H, W[, C]) float32: one of :func:`relief_band`'s blurs, of ``sigma`` px (at least 0.5):
    two bands that share a scale take it once."""
    return _blur(np.asarray(crop, np.float32), max(sigma, 0.5), weight)


def _knit_masks(rgb: np.ndarray, lm: np.ndarray, ed: float, tn: FoldsTuning,
                brows: BrowsTuning | None) -> tuple[np.ndarray, np.ndarray]:
    """(H, W) float32 0..1 each for the face at 68 landmarks ``lm`` (px of the box ``rgb``):
    where a frown knits the skin (within ``tn.knit_reach`` eye distances of a line over the
    brows' inner halves, 19-21 and 22-24, through the glabella halfway down to the nose's top,
    27), feathered over ``tn.knit_feather``; and the skin off the brows' hairs: 1 less each
    pixel's :func:`~faceedit.stage.brows.browness` about the brows' lines (17-21, 22-26; of
    ``rgb``, the box's float RGB 0..1) times ``tn.knit_brow``."""
    mid = 0.5 * (0.5 * (lm[21] + lm[22])) + 0.5 * lm[27]
    line = np.vstack([lm[19:22], mid[None], lm[22:25]])
    knit = np.zeros(rgb.shape[:2], np.float32)
    cv2.polylines(knit, [np.round(line).astype(np.int32)], False, 1.0,
                  thickness=max(1, int(round(2 * tn.knit_reach * ed))), lineType=cv2.LINE_AA)
    knit = np.clip(cv2.GaussianBlur(knit, (0, 0), max(tn.knit_feather * ed, 0.5)), 0.0, 1.0)
    hairs = np.zeros(rgb.shape[:2], np.float32)
    for idx in (slice(17, 22), slice(22, 27)):
        np.maximum(hairs, browness(rgb, lm[idx], ed, brows), out=hairs)
    skin = 1.0 - np.clip(hairs * tn.knit_brow, 0.0, 1.0)
    return knit, skin


def flatten_knit(pixels: np.ndarray, lm: np.ndarray, amount: float, tuning: FoldsTuning | None = None, *,
                 brows: BrowsTuning | None = None, in_place: bool = False) -> np.ndarray:
    """``pixels`` ((H, W[, C])) with the shading relief of a frown's knit taken away, ``amount``
    (0..1, the frown taken: :func:`faceedit.stage.folds.fold_removal`'s ``glabella``) of
    ``tuning.knit_flatten`` of it: over the glabella and the brows' heads of the face at ``lm``
    (68 photo landmarks, moved; :func:`_knit_masks`), each channel's skin less its band between
    blurs of ``knit_fine`` and ``knit_broad`` eye distances of the skin alone
    (:func:`relief_band`; the bunched brows' heads and the furrows' broad shade go, the skin's
    grain, colour and light stay), the brows' hairs (read with ``brows``) left as they are. ``pixels`` themselves at
    ``amount`` 0; else a new array, or ``pixels`` written over with ``in_place``."""
    tn = tuning if tuning is not None else FoldsTuning()
    share = float(amount) * tn.knit_flatten
    if share <= 0:
        return pixels
    lm = np.asarray(lm, np.float64)
    ed = face_frame(lm)[2]
    pts = lm[17:28]
    box = box_around(pts, (tn.knit_reach + 3.0 * tn.knit_broad) * ed, pixels.shape)
    if box is None:
        return pixels
    x0, y0, x1, y1 = box
    crop = pixels[y0:y1, x0:x1].astype(np.float32)
    rgb = crop[..., :3] / pixel_max(pixels.dtype) if crop.ndim == 3 else np.repeat(crop[..., None] / pixel_max(pixels.dtype), 3, -1)
    knit, skin = _knit_masks(rgb, lm - (x0, y0), ed, tn, brows)
    mask = knit * skin
    if crop.ndim == 3:
        mask = mask[..., None]
    flat = crop - share * mask * relief_band(crop, tn.knit_fine * ed, tn.knit_broad * ed, skin)
    out = pixels if in_place else pixels.copy()
    out[y0:y1, x0:x1] = np.clip(flat + 0.5, 0, pixel_max(pixels.dtype)).astype(pixels.dtype)
    return out


def flatten_chin(pixels: np.ndarray, lm: np.ndarray, amount: float, tuning: FoldsTuning | None = None, *,
                 in_place: bool = False) -> np.ndarray:
    """``pixels`` ((H, W[, C])) with the shading relief of a raised chin (AU17, the bunched,
    dimpled skin under the lower lip that pressed lips of anger and disgust raise) taken away,
    ``amount`` (0..1) of ``tuning.chin_flatten`` of it: over the chin of the face at ``lm`` (68
    photo landmarks, moved; between the lower lip's edge 55-59 and the jaw's chin 6-10, each
    kept clear by ``chin_clear`` eye distances, feathered over ``chin_feather``), each channel
    less its band between blurs of ``chin_fine`` and ``chin_broad`` eye distances (the skin's
    grain and stubble, finer, and the chin's own light, broader, stay). ``pixels`` themselves
    at ``amount`` 0; else a new array, or ``pixels`` written over with ``in_place``."""
    tn = tuning if tuning is not None else FoldsTuning()
    share = float(amount) * tn.chin_flatten
    if share <= 0:
        return pixels
    lm = np.asarray(lm, np.float64)
    _, n, ed = face_frame(lm)
    lip = lm[[55, 56, 57, 58, 59]] + tn.chin_clear * ed * n
    jaw = lm[[6, 7, 8, 9, 10]] - tn.chin_clear * ed * n
    poly = np.vstack([lip, jaw])
    box = box_around(poly, 3.0 * tn.chin_broad * ed, pixels.shape)
    if box is None:
        return pixels
    x0, y0, x1, y1 = box
    crop = pixels[y0:y1, x0:x1].astype(np.float32)
    mask = np.zeros(crop.shape[:2], np.float32)
    cv2.fillPoly(mask, [np.round(poly - (x0, y0)).astype(np.int32)], 1.0, lineType=cv2.LINE_AA)
    mask = np.clip(cv2.GaussianBlur(mask, (0, 0), max(tn.chin_feather * ed, 0.5)), 0.0, 1.0)
    if crop.ndim == 3:
        mask = mask[..., None]
    flat = crop - share * mask * relief_band(crop, tn.chin_fine * ed, tn.chin_broad * ed)
    out = pixels if in_place else pixels.copy()
    out[y0:y1, x0:x1] = np.clip(flat + 0.5, 0, pixel_max(pixels.dtype)).astype(pixels.dtype)
    return out


def furrow_shown(pixels: np.ndarray, lm: np.ndarray, tuning: BrowsTuning | None = None) -> float:
    """How much (0..1) of a frown's furrow the photo shows between the brows of the face at 68
    landmarks ``lm``: over the glabella (between the middle three fifths of the inner ends' gap,
    21-22, from a quarter eye distance above them to just under them, the face set upright at
    100 px per eye distance), the mean luma step across the face over the one down it, above
    ``tuning.furrow_from`` (London's neutral photos: 0.67, sd 0.27), whole ``tuning.furrow_full``
    further. The vertical lines of a knit (AU4) cross the face; a low-set brow at rest shows none,
    which its 68 points do not tell from a knit held hard."""
    tn = tuning if tuning is not None else BrowsTuning()
    lm = np.asarray(lm, np.float64)
    u, _, ed = face_frame(lm)
    c = (lm[21] + lm[22]) / 2
    turn = cv2.getRotationMatrix2D((float(c[0]), float(c[1])), float(np.degrees(np.arctan2(u[1], u[0]))), 100.0 / ed)
    turn[:, 2] += (100.0 - c[0], 100.0 - c[1])
    if not is_exact():  # the fast render: only the photo's pixels under the 200-px square, shifted there
        x0, y0, x1, y1 = crop_footprint(turn, 200, pixels.shape, margin=2.0)
        pixels = pixels[y0:y1, x0:x1]
        turn[:, 2] += turn[:, :2] @ (x0, y0)
    rgb = pixels[..., :3] if pixels.ndim == 3 else np.repeat(pixels[..., None], 3, -1)
    luma = cv2.warpAffine(np.asarray(rgb, np.float32), turn, (200, 200), flags=cv2.INTER_AREA) \
        @ np.array(LUMA_WEIGHTS, np.float32)
    half = 30.0 * float((lm[22] - lm[21]) @ u) / ed
    if half < 2:
        return 0.0
    box = cv2.GaussianBlur(luma[75:103, int(100 - half):int(100 + half)], (0, 0), 1.5)
    down = float(np.abs(np.diff(box, axis=0)).mean())
    across = float(np.abs(np.diff(box, axis=1)).mean())
    return float(np.clip((across / max(down, 1e-3) - tn.furrow_from) / tn.furrow_full, 0.0, 1.0))
