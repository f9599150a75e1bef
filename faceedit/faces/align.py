"""Alignment of faces to a model's crop template, face masks, and paste-back at full resolution.

Coordinates: x right, y down, pixel centres at integers (as OpenCV). ``AlignedFace.matrix`` maps
image pixel coordinates to crop pixel coordinates.

Memory: everything works on the face's region of interest (ROI) in the photo, never on the whole
image: aligning reads only the pixels under the crop's footprint; pasting back converts to float
and writes only the footprint, in bands of :data:`PASTE_BAND_ROWS` rows.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.faces.landmarks import BROWS, CHIN, JAW, eye_centres
from faceedit.faces.mesh68 import face_oval
from faceedit.faces.types import AlignedFace, CropTemplate, Face
from faceedit.pixels import luma, pixel_max, to_uint8, to_unit

#: Rows processed at once when pasting back (bounds the float working memory).
PASTE_BAND_ROWS = 1024

# Luminance-only paste-back adds the BT.601 luma change (faceedit.pixels.luma, the weights behind
# JPEG's YCbCr) to R, G and B alike: Cb and Cr have weights summing to zero, so adding the same
# value to R, G and B changes Y by that value and leaves Cb/Cr unchanged.


# --------------------------------------------------------------------------------------------
# transforms


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation + uniform scale + translation, no reflection) mapping
    ``src`` (N,2) onto ``dst`` (N,2), N >= 2 (Umeyama 1991). Returns the (2,3) float64 matrix
    ``M`` with ``dst ~ M[:, :2] @ p + M[:, 2]``."""
    src = np.asarray(src, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
    if src.shape != dst.shape or src.shape[0] < 2:
        raise ValueError(f"need matching (N,2) point sets with N >= 2, got {src.shape}, {dst.shape}")
    if not (np.isfinite(src).all() and np.isfinite(dst).all()):
        raise ValueError("landmarks are not finite")
    mu_s, mu_d = src.mean(0), dst.mean(0)
    xs, xd = src - mu_s, dst - mu_d
    var_s = (xs**2).sum() / len(src)
    if var_s <= 1e-12:
        raise ValueError("degenerate landmarks (all points coincide)")
    cov = xd.T @ xs / len(src)
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[1] = -1.0
    r = u @ np.diag(d) @ vt
    scale = float((sig * d).sum() / var_s)
    t = mu_d - scale * r @ mu_s
    return np.hstack([scale * r, t[:, None]])


def _h(m: np.ndarray) -> np.ndarray:
    """(2,3) -> (3,3)."""
    return np.vstack([np.asarray(m, dtype=np.float64), [0.0, 0.0, 1.0]])


def invert_affine(m: np.ndarray) -> np.ndarray:
    """Inverse of a (2,3) affine matrix."""
    return np.linalg.inv(_h(m))[:2]


def apply_affine(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Apply a (2,3) affine to (N,2) points."""
    pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    return pts @ np.asarray(m, dtype=np.float64)[:, :2].T + np.asarray(m, dtype=np.float64)[:, 2]


def _affine_scale(m: np.ndarray) -> float:
    return float(np.sqrt(abs(np.linalg.det(np.asarray(m, dtype=np.float64)[:, :2]))))


def _resize_affine(rx: float, ry: float) -> np.ndarray:
    """The (3,3) map from a pixel of an image to the same point in a copy resized by (rx, ry)
    (cv2.resize's pixel-centre convention)."""
    return np.array([[rx, 0.0, 0.5 * (rx - 1)], [0.0, ry, 0.5 * (ry - 1)], [0.0, 0.0, 1.0]])


def _translate(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def crop_footprint(matrix: np.ndarray, size: int, shape: tuple[int, ...], margin: float = 0.0):
    """Integer ROI (x0, y0, x1, y1) of the image (clipped to ``shape``) covering the square crop
    of ``size`` px that ``matrix`` (image -> crop) defines, grown by ``margin`` image px."""
    h, w = shape[:2]
    s = size - 0.5
    corners = apply_affine(invert_affine(matrix), [[-0.5, -0.5], [s, -0.5], [s, s], [-0.5, s]])
    x0 = int(np.floor(corners[:, 0].min() - margin))
    y0 = int(np.floor(corners[:, 1].min() - margin))
    x1 = int(np.ceil(corners[:, 0].max() + margin)) + 1
    y1 = int(np.ceil(corners[:, 1].max() + margin)) + 1
    x0, x1 = min(max(x0, 0), w - 1), min(max(x1, 1), w)
    y0, y1 = min(max(y0, 0), h - 1), min(max(y1, 1), h)
    return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)


def _check_pixels(pixels: np.ndarray) -> None:
    if not isinstance(pixels, np.ndarray) or pixels.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"expected a uint8 or uint16 numpy image, got {getattr(pixels, 'dtype', type(pixels))}")
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"expected an (H,W,3) image, got shape {pixels.shape}")


# --------------------------------------------------------------------------------------------
# align


BORDERS = {"reflect": cv2.BORDER_REFLECT, "replicate": cv2.BORDER_REPLICATE}


def align_face(
    pixels: np.ndarray, face: Face, template: CropTemplate, size: int | None = None,
    border: str = "reflect",
) -> AlignedFace:
    """Warp ``face`` into ``template``'s square crop (``size`` px, default ``template.size``).

    ``pixels``: (H,W,3) uint8 or uint16 RGB (uint16 is scaled to 8 bits by /257 with rounding).
    The similarity is fitted from ``face.five`` to ``template.points(size)``. Only the crop's
    footprint in the photo is read. When the face is larger than the crop (the usual case with a
    128-px model and a photo), that region is first shrunk with INTER_AREA to about the crop's
    scale so the final bilinear warp does not alias; face smaller than the crop: bicubic. Pixels
    the crop needs beyond the image edge are mirrored (``border="reflect"``, the default: for
    editing, where only the face is pasted back and mirrored context reads most like a photo to
    the model) or repeat the edge pixel (``"replicate"``: for training crops, see
    ``faceedit.train.prepare``, where a mirror would add second eyes and mouths to tightly
    cropped sources such as Extended Yale B).

    ``extra``: ``scale`` (crop px per image px), ``roi`` (x0, y0, x1, y1 of the footprint).
    """
    _check_pixels(pixels)
    size = int(template.size if size is None else size)
    dst = template.points(size)
    m = similarity_transform(face.five, dst)  # image -> crop
    crop, s, footprint = warp_crop(pixels, m, size, border)
    return AlignedFace(
        crop=crop,
        matrix=m,
        landmarks=apply_affine(m, face.landmarks),
        face=face,
        template=template,
        extra={"scale": s, "roi": footprint},
    )


def warp_crop(pixels: np.ndarray, m: np.ndarray, size: int, border: str = "reflect",
              ) -> tuple[np.ndarray, float, tuple[int, int, int, int]]:
    """The (size, size) uint8 crop that the similarity ``m`` (image -> crop) cuts from ``pixels``:
    only the crop's footprint is read, shrunk with INTER_AREA first when the crop is smaller than
    the face (a bilinear warp alone would alias; ``cv2.warpAffine`` has no area filter), bicubic
    when it enlarges. Every crop of the project (editing, training sources and their registered
    targets) is cut here. Returns (crop, scale, footprint (x0, y0, x1, y1))."""
    s = _affine_scale(m)
    # Footprint of the crop in the image, with room for the interpolation kernels.
    x0, y0, x1, y1 = crop_footprint(m, size, pixels.shape, margin=2.0 / min(s, 1.0) + 2.0)
    roi = pixels[y0:y1, x0:x1]
    to_work = _translate(-x0, -y0)  # image -> roi
    if s < 0.8:
        rw, rh = roi.shape[1], roi.shape[0]
        nw, nh = max(1, int(round(rw * s))), max(1, int(round(rh * s)))
        roi = cv2.resize(roi, (nw, nh), interpolation=cv2.INTER_AREA)
        to_work = _resize_affine(nw / rw, nh / rh) @ to_work
        interp = cv2.INTER_LINEAR
    else:
        interp = cv2.INTER_CUBIC if s > 1.05 else cv2.INTER_LINEAR
    m_work = (_h(m) @ np.linalg.inv(to_work))[:2]  # work -> crop
    crop = cv2.warpAffine(
        np.ascontiguousarray(roi), m_work, (size, size), flags=interp, borderMode=BORDERS[border],
    )
    return to_uint8(crop), s, (x0, y0, x1, y1)


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
    if dense is not None and len(dense) == 468:
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
) -> None:
    """Add the model's change to the photo, in place, at the photo's full resolution.

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
    changes Y and leaves Cb/Cr untouched (up to rounding and clipping).

    ``mask``: (S,S) weights in [0,1] (default :func:`face_mask`). For several faces, call once per
    face; each call reads the current pixels.
    """
    _check_pixels(pixels)
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
        return
    w = face_mask(aligned) if mask is None else np.clip(np.asarray(mask, np.float32), 0.0, 1.0)
    if w.shape != (size, size):
        raise ValueError(f"mask must be ({size},{size}), got {w.shape}")
    crop_f = crop.astype(np.float32)

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

    unit = pixel_max(pixels.dtype) / 255.0  # one 8-bit level in the photo's levels: 1 or 257
    maxval = pixel_max(pixels.dtype)
    m = np.asarray(aligned.matrix, dtype=np.float64)  # image -> crop
    s = _affine_scale(m)
    src = delta
    to_src = np.eye(3)  # crop -> src
    if s > 1.25:  # the face is smaller in the photo than in the crop: shrink delta first
        q = 1.0 / s
        n = max(1, int(round(size * q)))
        src = cv2.resize(delta, (n, n), interpolation=cv2.INTER_AREA)
        to_src = _resize_affine(n / size, n / size)
    img_to_src = to_src @ _h(m)
    x0, y0, x1, y1 = crop_footprint(m, size, pixels.shape, margin=2.0)
    for by in range(y0, y1, PASTE_BAND_ROWS):
        by1 = min(by + PASTE_BAND_ROWS, y1)
        band_to_src = (img_to_src @ _translate(x0, by))[:2]  # band pixel -> src pixel
        d = cv2.warpAffine(
            src, band_to_src, (x1 - x0, by1 - by),
            flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT, borderValue=0,
        )
        if d.ndim == 2:
            d = d[:, :, None]
        region = pixels[by:by1, x0:x1]
        out = region.astype(np.float32)
        out += d * unit
        np.clip(np.rint(out, out=out), 0.0, maxval, out=out)
        region[...] = out.astype(pixels.dtype)

