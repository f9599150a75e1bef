"""Alignment of faces to a model's crop template: the similarity from a face's landmarks to the
template, and the crop it cuts (face masks and paste-back: :mod:`faceedit.faces.paste`).

Coordinates: x right, y down, pixel centres at integers (as OpenCV). ``AlignedFace.matrix`` maps
image pixel coordinates to crop pixel coordinates.

Memory: aligning reads only the pixels under the crop's footprint in the photo, never the whole
image.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import numpy.typing as npt

from faceedit.faces.types import AlignedFace, CropTemplate, Face
from faceedit.pixels import to_uint8

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
    # u and vt are orthonormal: their determinants are +-1, of which only the sign is read
    if (u[0, 0] * u[1, 1] - u[0, 1] * u[1, 0]) * (vt[0, 0] * vt[1, 1] - vt[0, 1] * vt[1, 0]) < 0:
        d[1] = -1.0
    r = (u * d) @ vt  # u @ diag(d) @ vt: d is +-1
    scale = float((sig * d).sum() / var_s)
    t = mu_d - scale * r @ mu_s
    out = np.empty((2, 3))
    out[:, :2], out[:, 2] = scale * r, t
    return out


def to_3x3(m: np.ndarray) -> np.ndarray:
    """(2,3) -> (3,3)."""
    return np.vstack([np.asarray(m, dtype=np.float64), [0.0, 0.0, 1.0]])


def invert_affine(m: np.ndarray) -> np.ndarray:
    """Inverse of a (2,3) affine matrix."""
    return np.linalg.inv(to_3x3(m))[:2]


def apply_affine(m: np.ndarray, pts: npt.ArrayLike) -> np.ndarray:
    """Apply a (2,3) affine to (N,2) points."""
    pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    return pts @ np.asarray(m, dtype=np.float64)[:, :2].T + np.asarray(m, dtype=np.float64)[:, 2]


def affine_scale(m: np.ndarray) -> float:
    return float(np.sqrt(abs(np.linalg.det(np.asarray(m, dtype=np.float64)[:, :2]))))


def resize_affine(rx: float, ry: float) -> np.ndarray:
    """The (3,3) map from a pixel of an image to the same point in a copy resized by (rx, ry)
    (cv2.resize's pixel-centre convention)."""
    return np.array([[rx, 0.0, 0.5 * (rx - 1)], [0.0, ry, 0.5 * (ry - 1)], [0.0, 0.0, 1.0]])


def translate(dx: float, dy: float) -> np.ndarray:
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


def check_pixels(pixels: np.ndarray) -> None:
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
    check_pixels(pixels)
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
    s = affine_scale(m)
    # Footprint of the crop in the image, with room for the interpolation kernels.
    x0, y0, x1, y1 = crop_footprint(m, size, pixels.shape, margin=2.0 / min(s, 1.0) + 2.0)
    roi = pixels[y0:y1, x0:x1]
    to_work = translate(-x0, -y0)  # image -> roi
    if s < 0.8:
        rw, rh = roi.shape[1], roi.shape[0]
        nw, nh = max(1, int(round(rw * s))), max(1, int(round(rh * s)))
        roi = cv2.resize(roi, (nw, nh), interpolation=cv2.INTER_AREA)
        to_work = resize_affine(nw / rw, nh / rh) @ to_work
        interp = cv2.INTER_LINEAR
    else:
        interp = cv2.INTER_CUBIC if s > 1.05 else cv2.INTER_LINEAR
    m_work = (to_3x3(m) @ np.linalg.inv(to_work))[:2]  # work -> crop
    crop = cv2.warpAffine(
        np.ascontiguousarray(roi), m_work, (size, size), flags=interp, borderMode=BORDERS[border],
    )
    return to_uint8(crop), s, (x0, y0, x1, y1)


def recut(aligned: AlignedFace, pixels: np.ndarray, landmarks: np.ndarray | None = None) -> AlignedFace:
    """The same alignment as ``aligned`` (matrix, template, extras such as its paste mask) with its
    crop cut from ``pixels``, another photo of the same frame (e.g. the photo after the stage's
    edit), and the face's ``landmarks`` there (image px; default: unchanged) carried into the
    crop by the same matrix. The face is aligned once; whatever edits the photo moves nothing
    the alignment was fitted from."""
    check_pixels(pixels)
    crop, _, _ = warp_crop(pixels, aligned.matrix, int(aligned.crop.shape[0]))
    lm = aligned.landmarks if landmarks is None else apply_affine(aligned.matrix, landmarks)
    return dataclasses.replace(aligned, crop=crop, landmarks=lm, extra=dict(aligned.extra))
