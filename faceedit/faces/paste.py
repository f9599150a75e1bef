"""Paste-back: a model's change to an aligned crop carried into the photo at its full resolution,
inside a feathered face mask.

Coordinates as in :mod:`faceedit.faces.align` (``AlignedFace.matrix`` maps image pixels to crop
pixels). Memory: pasting back converts to float and writes only the crop's footprint in the photo,
in bands of :data:`PASTE_BAND_ROWS` rows, never the whole image.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.faces.align import (
    affine_scale,
    apply_affine,
    check_pixels,
    crop_footprint,
    resize_affine,
    to_3x3,
    translate,
)
from faceedit.faces.landmarks import BROWS, CHIN, JAW, LIPS_OUTER, eye_centres
from faceedit.faces.mesh68 import face_oval
from faceedit.faces.types import AlignedFace
from faceedit.pixels import luma, pixel_max, rgb_to_ycc, to_unit, ycc_to_rgb

#: Rows processed at once when pasting back (bounds the float working memory).
PASTE_BAND_ROWS = 1024

# Luminance-only paste-back adds the BT.601 luma change (faceedit.pixels.luma, the weights behind
# JPEG's YCbCr) to R, G and B alike: Cb and Cr have weights summing to zero, so adding the same
# value to R, G and B changes Y by that value and leaves Cb/Cr unchanged.


# --------------------------------------------------------------------------------------------
# mask

# Forehead: the eyebrow points are copied upward by this many eye distances.
FOREHEAD_EYE_DISTS = 0.7
# 5-point ellipse, in eye distances relative to the template's eye midpoint (calibrated on the
# 68-point masks of the London set: mean extent of jaw + brows + forehead).
ELLIPSE_CENTRE_DY = 0.40
ELLIPSE_HALF_W = 1.10
ELLIPSE_HALF_H = 1.50


def _border_taper(size: int, width: float) -> np.ndarray:
    """(S,S) window that is exactly 0 on the outermost pixels and 1 beyond ``width`` px."""
    i = np.arange(size, dtype=np.float32)
    d = np.minimum(i, size - 1 - i)
    ramp = np.clip(d / max(width, 1.0), 0.0, 1.0)
    return np.minimum(ramp[:, None], ramp[None, :])


def face_mask(aligned: AlignedFace, feather: float = 0.05) -> np.ndarray:
    """(S,S) float32 mask in [0,1] of the face in crop coordinates.

    With a face mesh (``face.dense``, the ``mediapipe`` detector): the mesh's face oval (jaw,
    temples and forehead as they are; :data:`faceedit.faces.mesh68.FACE_OVAL`). Else with 68
    landmarks: the convex hull of the jaw line and the eyebrows, plus the eyebrows copied
    upward by ``FOREHEAD_EYE_DISTS`` eye distances to cover the forehead. With 5 landmarks: an
    ellipse placed by the template (eyes centred, ``ELLIPSE_*`` eye distances). Feathered in
    proportion to the crop: eroded by ``feather * S`` px then Gaussian-blurred (sigma half of
    that), so it falls to about 0 at the hard outline; finally tapered to exactly 0 on the crop
    border.
    """
    size = int(aligned.crop.shape[0])
    hard = np.zeros((size, size), dtype=np.uint8)
    lm = np.asarray(aligned.landmarks, dtype=np.float64)
    shift = 4
    mul = 1 << shift
    dense = getattr(aligned.face, "dense", None)
    if dense is not None and len(dense) >= 468:  # (478: the irises' points after the mesh)
        oval = apply_affine(aligned.matrix, face_oval(dense))
        cv2.fillPoly(hard, [np.round(oval * mul).astype(np.int32)], 255, cv2.LINE_AA, shift)
    elif lm.shape[0] == 68:
        eyes = eye_centres(lm)
        eye_d = float(np.linalg.norm(eyes[1] - eyes[0]))
        jaw, brows = lm[JAW], lm[BROWS]
        # "up" = from the chin towards the eyes (the crop is upright, but stay robust to roll)
        up = eyes.mean(0) - lm[CHIN]
        up = up / max(np.linalg.norm(up), 1e-6)
        forehead = brows + up * (FOREHEAD_EYE_DISTS * eye_d)
        pts = np.vstack([jaw, brows, forehead])
        hull = cv2.convexHull(np.round(pts * mul).astype(np.int32))
        cv2.fillConvexPoly(hard, hull, 255, cv2.LINE_AA, shift)
    else:
        t = aligned.template
        d = t.eye_dist * size
        cx = 0.5 * size - 0.5
        cy = t.eye_y * size - 0.5 + ELLIPSE_CENTRE_DY * d
        axes = (int(round(ELLIPSE_HALF_W * d * mul)), int(round(ELLIPSE_HALF_H * d * mul)))
        cv2.ellipse(hard, (int(round(cx * mul)), int(round(cy * mul))), axes, 0, 0, 360, 255,
                    -1, cv2.LINE_AA, shift)
    mask = to_unit(hard)
    r = float(feather) * size
    if r >= 0.5:
        k = 2 * int(round(r)) + 1
        mask = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        mask = cv2.GaussianBlur(mask, (0, 0), sigmaX=r / 2, borderType=cv2.BORDER_CONSTANT)
    mask *= _border_taper(size, max(2.0, 0.02 * size))
    return np.clip(mask, 0.0, 1.0).astype(np.float32)


# --------------------------------------------------------------------------------------------
# paste back


def _weighted_stats(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel weighted mean and std of x (S,S,C) with weights w (S,S)."""
    ws = float(w.sum())
    if ws <= 1e-6:
        w, ws = np.ones_like(w), float(w.size)
    flat = x.reshape(-1, x.shape[-1]).astype(np.float64)
    wf = w.reshape(-1, 1).astype(np.float64)
    mu = (flat * wf).sum(0) / ws
    sd = np.sqrt(np.maximum(((flat - mu) ** 2 * wf).sum(0) / ws, 0.0))
    return mu, sd


def match_color(edited: np.ndarray, reference: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``edited`` (S,S,C) float with each channel's weighted mean/std matched to ``reference``'s
    (weights (S,S), e.g. the face mask). The std ratio is limited to [1/4, 4]."""
    mu_e, sd_e = _weighted_stats(edited, weights)
    mu_r, sd_r = _weighted_stats(reference, weights)
    ratio = np.where(sd_e > 1e-3, sd_r / np.maximum(sd_e, 1e-3), 1.0)
    ratio = np.clip(ratio, 0.25, 4.0)
    out = (edited.astype(np.float64) - mu_e) * ratio + mu_r
    return out.astype(np.float32)


#: Channel difference (8-bit levels) under which a crop counts as grey (:func:`paste_back`).
GREY_LEVELS = 1.5

#: ``ratio`` paste-back: luma offset (8-bit levels) of the crop's luma the change is divided by
#: (a black crop pixel is not a zero light), the range of the factor, and the power of the factor
#: Cb and Cr are multiplied by (as the stage's relighting, ``faceedit.stage.shading``: the same
#: Cb, Cr on a much darker luma read as a saturated tan, on a much brighter one as grey skin).
RATIO_OFFSET = 8.0
RATIO_RANGE = (0.1, 4.0)
RATIO_CHROMA_FOLLOW = 0.2


#: How far past an invented region (the stage's open mouth) the network's change is held off, as
#: a share of the region's width: half of it is held there, none at twice that.
HOLD_GROW = 0.03


def held_weight(shape: tuple[int, ...], invented: tuple[tuple[int, int, int, int], np.ndarray],
                grow: float = HOLD_GROW) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """Where a network's change is held off the photo: ``(x0, y0, x1, y1), weight`` (float32 over
    that box of a photo of ``shape``), 1 over the invented region (``invented``: its roi and
    coverage 0..1, as :attr:`faceedit.stage.records.StageEdit.invented`), outside it falling from
    about 1 at its edge to 1/2 at ``grow`` of its width and about 0 at twice that (the region
    grown by that much, blurred by half of it); None for an empty region. The
    stage painted that region from its own model of an open mouth (a dark cavity in the photo's
    light); a network's change there is a shift of its tone it was never trained to make."""
    (x0, y0, x1, y1), cov = invented
    h, wd = int(shape[0]), int(shape[1])
    cov = np.clip(np.asarray(cov, np.float32), 0.0, 1.0)  # the part on the photo:
    cov = cov[max(-y0, 0):cov.shape[0] - max(y1 - h, 0), max(-x0, 0):cov.shape[1] - max(x1 - wd, 0)]
    x0, y0 = max(x0, 0), max(y0, 0)
    cols = np.nonzero(cov.max(0) > 0)[0] if cov.size else np.zeros(0, np.int64)
    if len(cols) == 0:
        return None
    r = max(1, int(round(grow * (cols[-1] - cols[0] + 1))))
    # only the region's own rows and columns (an invented mouth's coverage comes over the whole
    # face's box, nearly all 0): the weight beyond them, after the dilation and the blur
    # (reaching 3r), is 0 within the 4r margin as over the whole box
    rows = np.nonzero(cov.max(1) > 0)[0]
    cov = cov[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    x0, y0 = x0 + int(cols[0]), y0 + int(rows[0])
    x1, y1 = min(x0 + cov.shape[1], wd), min(y0 + cov.shape[0], h)
    bx0, by0, bx1, by1 = max(x0 - 4 * r, 0), max(y0 - 4 * r, 0), min(x1 + 4 * r, wd), min(y1 + 4 * r, h)
    w = np.zeros((by1 - by0, bx1 - bx0), np.float32)
    w[y0 - by0:y1 - by0, x0 - bx0:x1 - bx0] = cov
    grown = cv2.dilate(w, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    soft = cv2.GaussianBlur(grown, (0, 0), r / 2.0)
    return (bx0, by0, bx1, by1), np.maximum(soft, w).clip(0.0, 1.0)


#: How far past the lips round an invented open mouth the network's change is held off, as a share
#: of the lips' width: half of it is held there, none at twice that.
LIPS_HOLD_GROW = 0.12


def lips_region(shape: tuple[int, ...], landmarks: np.ndarray) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """The lips of 68 ``landmarks`` (image pixels) as a region in the form :func:`held_weight`
    takes: ``(x0, y0, x1, y1), coverage`` of their outer outline (points 48-59) filled."""
    pts = np.asarray(landmarks, np.float64)[LIPS_OUTER]
    h, wd = int(shape[0]), int(shape[1])
    x0, y0 = max(int(np.floor(pts[:, 0].min())) - 1, 0), max(int(np.floor(pts[:, 1].min())) - 1, 0)
    x1, y1 = min(int(np.ceil(pts[:, 0].max())) + 2, wd), min(int(np.ceil(pts[:, 1].max())) + 2, h)
    cov = np.zeros((max(y1 - y0, 0), max(x1 - x0, 0)), np.uint8)
    if cov.size:
        cv2.fillPoly(cov, [np.round((pts - [x0, y0]) * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
    return (x0, y0, x1, y1), to_unit(cov)


def mouth_hold(shape: tuple[int, ...], invented: tuple[tuple[int, int, int, int], np.ndarray],
               landmarks: np.ndarray | None = None) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """Where a network's change is held off an open mouth the stage invented: the larger of
    :func:`held_weight` of the invented region (``invented``) and, with the face's 68
    ``landmarks`` as the stage moved them (image pixels), of the lips round it
    (:func:`lips_region`, grown by :data:`LIPS_HOLD_GROW`). The stage drew those lips round its
    opening; a network's change over them (its own mouth, open elsewhere) moves where the lips
    read and lays its shade over the stage's. None where neither holds anything."""
    held = held_weight(shape, invented)
    lm = None if landmarks is None else np.asarray(landmarks, np.float64)
    if held is None or lm is None or lm.shape != (68, 2):
        return held
    lips = held_weight(shape, lips_region(shape, lm), LIPS_HOLD_GROW)
    if lips is None:
        return held
    boxes = [held[0], lips[0]]
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    w = np.zeros((y1 - y0, x1 - x0), np.float32)
    for (bx0, by0, bx1, by1), bw in (held, lips):
        part = w[by0 - y0:by1 - y0, bx0 - x0:bx1 - x0]
        np.maximum(part, bw, out=part)
    return (x0, y0, x1, y1), w


def _changed_footprint(src: np.ndarray, img_to_src: np.ndarray, box: tuple[int, int, int, int]
                       ) -> tuple[int, int, int, int]:
    """``box`` (x0, y0, x1, y1) cut to the image pixels whose bicubic sample of ``src`` (a change
    warped by ``img_to_src``, 3x3 image -> src) can be non-zero: those within reach of its
    non-zero pixels (the face mask's, not the whole crop's). Elsewhere the sample is exactly 0
    and the photo's own pixels stay."""
    nz = src != 0 if src.ndim == 2 else (src != 0).any(2)
    rows, cols = np.nonzero(nz.any(1))[0], np.nonzero(nz.any(0))[0]
    if len(rows) == 0:
        return box[0], box[1], box[0], box[1]
    # the cubic kernel reads 2 src pixels either side (and 1 more for the rounding of positions)
    s0, s1 = (cols[0] - 3.0, rows[0] - 3.0), (cols[-1] + 3.0, rows[-1] + 3.0)
    corners = np.array([[s0[0], s0[1], 1], [s1[0], s0[1], 1], [s1[0], s1[1], 1], [s0[0], s1[1], 1]], np.float64)
    img = corners @ np.linalg.inv(img_to_src).T
    x0, y0, x1, y1 = box
    return (max(x0, min(x1, int(np.floor(img[:, 0].min())) - 1)), max(y0, min(y1, int(np.floor(img[:, 1].min())) - 1)),
            min(x1, max(x0, int(np.ceil(img[:, 0].max())) + 2)), min(y1, max(y0, int(np.ceil(img[:, 1].max())) + 2)))


def paste_back(
    pixels: np.ndarray,
    aligned: AlignedFace,
    edited: np.ndarray,
    *,
    strength: float = 1.0,
    color_match: bool = True,
    luminance_only: bool = False,
    mask: np.ndarray | None = None,
    smooth: float = 0.0,
    ratio: bool = False,
) -> bool:
    """Add the model's change to the photo, in place, at the photo's full resolution; returns
    whether any pixel changed (a change that rounds to nothing everywhere leaves none).

    ``smooth`` > 0 low-passes the change with a Gaussian of that sigma (crop pixels) before it
    is pasted: the edit's structure (a mouth opening, a brow raised) passes, pixel-level noise of
    a small generator does not. The photo's own detail is kept either way.

    ``pixels``: the (H,W,3) uint8 or uint16 photo ``aligned`` was cut from. ``edited``: the
    model output for ``aligned.crop``, float (S,S,3) RGB or (S,S) luma, in 0..255 units (an
    (S,S) output pasted without ``luminance_only`` is used as a grey RGB image).

    The change ``delta = edited' - crop`` is computed at the crop's resolution, where
    ``edited'`` is ``edited`` after optional colour matching (``color_match``: each channel's
    mean/std inside the mask matched to the input crop's; pass False when the change of
    brightness/colour *is* the edit, e.g. relighting). ``delta * mask * strength`` is then warped
    back through the inverse affine (bicubic; INTER_AREA pre-shrink when the face is smaller in
    the photo than in the crop) into the crop's footprint only and added to the photo, clipped to
    the dtype's range (uint16: delta x 257). The photo keeps its own high-frequency detail; only
    the model's (low-frequency at the photo's scale) change is transferred.

    ``luminance_only``: the change is a luma change (``edited`` (S,S) is the edited luma, or the
    BT.601 luma of an (S,S,3) ``edited`` is used); the same value is added to R, G and B, which
    changes Y and leaves Cb/Cr untouched (up to rounding and clipping). A grey crop (R, G and B
    within :data:`GREY_LEVELS` of each other everywhere: a black-and-white photo) is always
    pasted so: a network that edits in colour adds no tint to a grey photo.

    ``ratio`` (with ``luminance_only``): the luma change is carried as a factor, not a
    difference: ``f = (Y_s + delta_s + k) / (Y_s + k)``, ``delta_s`` the weighted, low-passed
    change above and ``Y_s`` the crop's luma low-passed alike (``k`` :data:`RATIO_OFFSET`, ``f``
    within :data:`RATIO_RANGE`), warped like ``delta`` (as ``log f``); the photo's luma is
    multiplied by it, its Cb and Cr by ``f ** RATIO_CHROMA_FOLLOW``. A change of light multiplies
    the light the skin reflects: added as a difference, a darkening as deep as the skin's own
    luma crushes the darker pores, hairs, brows and lashes to black and lifts them into the
    change (its log-luminance takes the photo's texture); as a factor of the crop's resolution
    the photo's own texture is scaled as it is and the change stays as smooth as the crop.

    ``mask``: (S,S) weights in [0,1] (default :func:`face_mask`). For several faces, call once per
    face; each call reads the current pixels.
    """
    check_pixels(pixels)
    crop = np.asarray(aligned.crop)
    size = crop.shape[0]
    edited = np.asarray(edited, dtype=np.float32)
    if edited.shape[:2] != (size, size) or edited.ndim not in (2, 3) or (
        edited.ndim == 3 and edited.shape[2] not in (1, 3)
    ):
        raise ValueError(f"edited must be ({size},{size},3) or ({size},{size}), got {edited.shape}")
    if edited.ndim == 3 and edited.shape[2] == 1:
        edited = edited[:, :, 0]
    if edited.ndim == 2 and not luminance_only:
        edited = np.repeat(edited[:, :, None], 3, axis=2)  # grey output for an RGB paste
    strength = float(strength)
    if strength == 0.0:
        return False
    w = face_mask(aligned) if mask is None else np.clip(np.asarray(mask, np.float32), 0.0, 1.0)
    if w.shape != (size, size):
        raise ValueError(f"mask must be ({size},{size}), got {w.shape}")
    crop_f = crop.astype(np.float32)
    if crop_f.ndim == 3 and float(np.abs(crop_f - crop_f[:, :, :1]).max()) <= GREY_LEVELS:
        luminance_only = True  # a grey photo stays grey

    if luminance_only:
        y_crop = luma(crop_f)
        y_ed = edited if edited.ndim == 2 else luma(edited)
        if color_match:
            y_ed = match_color(y_ed[:, :, None], y_crop[:, :, None], w)[:, :, 0]
        d = (y_ed - y_crop) * (w * strength)
        delta = np.repeat(d[:, :, None], 3, axis=2)
    else:
        ed = match_color(edited, crop_f, w) if color_match else edited
        delta = (ed - crop_f) * (w * strength)[:, :, None]
    delta = np.ascontiguousarray(delta, dtype=np.float32)
    if smooth > 0:
        delta = cv2.GaussianBlur(delta, (0, 0), float(smooth))
    if ratio:
        if not luminance_only:
            raise ValueError("ratio paste-back carries a luma change: pass luminance_only=True")
        y = luma(crop_f)
        base = (cv2.GaussianBlur(y, (0, 0), float(smooth)) if smooth > 0 else y) + RATIO_OFFSET
        f = np.clip((base + delta[:, :, 0]) / base, *RATIO_RANGE)
        delta = np.ascontiguousarray(np.log(f), dtype=np.float32)  # pasted as exp(log f) below

    unit = pixel_max(pixels.dtype) / 255.0  # one 8-bit level in the photo's levels: 1 or 257
    maxval = pixel_max(pixels.dtype)
    m = np.asarray(aligned.matrix, dtype=np.float64)  # image -> crop
    s = affine_scale(m)
    src = delta
    to_src = np.eye(3)  # crop -> src
    if s > 1.25:  # the face is smaller in the photo than in the crop: shrink delta first
        q = 1.0 / s
        n = max(1, int(round(size * q)))
        src = cv2.resize(delta, (n, n), interpolation=cv2.INTER_AREA)
        to_src = resize_affine(n / size, n / size)
    img_to_src = to_src @ to_3x3(m)
    x0, y0, x1, y1 = crop_footprint(m, size, pixels.shape, margin=2.0)
    if not ratio:  # (a zero log-factor is still a round trip through Y, Cb, Cr)
        x0, y0, x1, y1 = _changed_footprint(src, img_to_src, (x0, y0, x1, y1))
    changed = False
    for by in range(y0, y1, PASTE_BAND_ROWS):
        by1 = min(by + PASTE_BAND_ROWS, y1)
        band_to_src = (img_to_src @ translate(x0, by))[:2]  # band pixel -> src pixel
        d = cv2.warpAffine(
            src, band_to_src, (x1 - x0, by1 - by),
            flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT, borderValue=0,
        )
        if d.ndim == 2:
            d = d[:, :, None]
        region = pixels[by:by1, x0:x1]
        out = region.astype(np.float32)
        if ratio:
            f = np.exp(d)
            ycc = rgb_to_ycc(out)
            ycc[..., :1] *= f
            ycc[..., 1:] *= f ** RATIO_CHROMA_FOLLOW
            out = ycc_to_rgb(ycc)
        else:
            out += d * unit
        np.clip(np.rint(out, out=out), 0.0, maxval, out=out)
        new = out.astype(pixels.dtype)
        changed = changed or not np.array_equal(new, region)
        region[...] = new
    return changed

