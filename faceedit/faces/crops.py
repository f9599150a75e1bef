"""The crops MediaPipe's networks see, in numpy and OpenCV: a photo's square crop through an
affine matrix (:func:`warp_crop`), the matrix of a rotated ROI (:func:`roi_matrix`) and crop points
mapped back to the photo (:func:`crop_to_image`). Read by the face pipeline
(:mod:`faceedit.faces.mediapipe_common`) and the iris model (:mod:`faceedit.faces.iris`) alike."""

from __future__ import annotations

import cv2
import numpy as np

MESH_SIZE = 192  # input side of the Face Mesh network


def warp_crop(img: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """The ``size`` crop that ``matrix`` (image -> crop) describes, black outside the photo.
    When the crop is more than 2x smaller, the part of the photo it covers is first halved
    (INTER_AREA; its 2x case is several times faster than any other factor) until less than 2x
    is left, which the bilinear warp does without aliasing."""
    k = np.sqrt(abs(np.linalg.det(matrix[:, :2])))
    if k < 0.5:
        inv = cv2.invertAffineTransform(matrix)
        corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], float) @ inv.T
        h, w = img.shape[:2]
        m = int(np.ceil(1 / k))  # room for the last kernels
        x0, y0 = (max(0, int(np.floor(v)) - m) for v in corners.min(0))
        x1, y1 = min(w, int(np.ceil(corners[:, 0].max())) + m), min(h, int(np.ceil(corners[:, 1].max())) + m)
        part, f = img[y0:y1, x0:x1], 1
        while k * f < 0.5 and min(part.shape[:2]) >= 4:
            nh, nw = part.shape[0] // 2, part.shape[1] // 2
            part = cv2.resize(part[: 2 * nh, : 2 * nw], (nw, nh), interpolation=cv2.INTER_AREA)
            f *= 2
        if f > 1:
            # small pixel u <-> image pixel (u + 0.5) * f - 0.5 + x0
            matrix = matrix @ np.array([[f, 0, x0 + 0.5 * f - 0.5], [0, f, y0 + 0.5 * f - 0.5], [0, 0, 1]])
            img = part
    return cv2.warpAffine(img, matrix, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT)  # black: better than replicate at photo edges


def roi_matrix(centre: np.ndarray, side: float, angle: float, size: int = MESH_SIZE) -> np.ndarray:
    """(2,3) affine image pixel -> crop pixel (pixel centres at integers) of a ``size`` crop."""
    k = size / side
    c, s = np.cos(angle) * k, np.sin(angle) * k
    m = np.array([[c, s, 0.0], [-s, c, 0.0]])
    m[:, 2] = (size - 1) / 2 - m[:, :2] @ centre
    return m


def crop_to_image(pts: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """(K,3) crop points -> image points; z is scaled like x and y."""
    a = matrix[:, :2]
    inv = np.linalg.inv(a)
    out = pts.astype(np.float64).copy()
    out[:, :2] = (pts[:, :2] - matrix[:, 2]) @ inv.T
    out[:, 2] = pts[:, 2] / np.sqrt(abs(np.linalg.det(a)))
    return out
