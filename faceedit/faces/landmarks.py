"""The project's one landmark convention, and landmark heatmaps / side images for the models.

Convention: the **iBUG 300-W 68-point** mark-up, as dlib's shape predictor and face-alignment's
FAN both output it. Coordinates are ``(x, y)`` pixels, x right, y down, pixel centres at
integers (the convention of :mod:`faceedit.faces.types`). "Left" and "right" are as seen in the
image (smaller x = left), i.e. the *opposite* of the subject's own side: ``L_EYE`` (36..41) is
the subject's right eye. Index groups (0-based)::

    JAW          0..16   ear (left) -> chin (8) -> ear (right)
    L_BROW      17..21   R_BROW     22..26
    NOSE_BRIDGE 27..30   NOSE_LOWER 31..35  (nostrils; 33 = below the tip); NOSE = 27..35
    L_EYE       36..41   R_EYE      42..47  (each from its leftmost corner, clockwise as seen)
    LIPS_OUTER  48..59   (48 / 54 = mouth corners, 51 = top of the upper lip, 57 = bottom)
    LIPS_INNER  60..67   (60 / 64 = inner corners; 61..63 upper, 65..67 lower)
    INNER       17..67   everything but the jaw line (brows, nose, eyes, lips)
    STABLE      27..47   nose and eyes: the points an expression leaves in place
    CHIN 8, NOSE_TIP 30, MOUTH_LEFT 48, MOUTH_RIGHT 54

Heatmaps: one 2-D Gaussian per landmark, ``exp(-d^2 / (2 sigma^2))`` (so exactly 1 on a point
that falls on a pixel centre, ``exp(-1/2)`` at ``sigma`` away). Landmarks given in the
coordinates of a ``crop_size`` crop are rescaled to the ``size`` map with the pixel-centre
convention ``x' = (x + 0.5) * size / crop_size - 0.5``. Non-finite points give an all-zero map.

LSSL's *side conditional image* (lssl.txt, sec. 3.1 and 5.3): "the face landmark heatmap contains
2D Gaussians centered at the landmarks' locations, which are then concatenated with the input
image". The paper gives neither the number of channels nor sigma nor the points. Here the side
image is **one channel**, the pixel-wise *maximum* over the Gaussians of the inner points (brows,
nose, eyes, lips): one channel keeps it an image that the generator can translate alongside the
photo (LSSL outputs a side image ``s'`` too), the maximum (not the sum) keeps it in [0, 1] where
points crowd together, and the jaw line is left out because it carries head shape and pose
rather than expression and is the least reliable part of a landmark fit. ``sigma`` defaults to
``size / 64`` (2 px at 128), so the 20-odd lip and eye points stay distinguishable.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported by the tensor functions: the index groups stay light
    import torch

N_POINTS = 68

JAW = list(range(0, 17))
L_BROW = list(range(17, 22))
R_BROW = list(range(22, 27))
BROWS = L_BROW + R_BROW
NOSE_BRIDGE = list(range(27, 31))
NOSE_LOWER = list(range(31, 36))
NOSE = NOSE_BRIDGE + NOSE_LOWER
L_EYE = list(range(36, 42))  # eye_centres takes them as slices
R_EYE = list(range(42, 48))
EYES = L_EYE + R_EYE
LIPS_OUTER = list(range(48, 60))
LIPS_INNER = list(range(60, 68))
LIPS = LIPS_OUTER + LIPS_INNER
INNER = list(range(17, 68))
ALL = list(range(0, 68))
STABLE = NOSE + EYES  # nose and eye contours: what an expression leaves in place
CHIN = 8
NOSE_TIP = 30
MOUTH_LEFT, MOUTH_RIGHT = 48, 54  # the mouth corners

GROUPS: dict[str, list[int]] = {
    "jaw": JAW, "l_brow": L_BROW, "r_brow": R_BROW, "nose_bridge": NOSE_BRIDGE,
    "nose_lower": NOSE_LOWER, "l_eye": L_EYE, "r_eye": R_EYE, "lips_outer": LIPS_OUTER,
    "lips_inner": LIPS_INNER,
}

# Horizontal mirror of the mark-up: index i of a flipped face is point FLIP[i] of the original.
FLIP = (
    list(range(16, -1, -1))  # jaw
    + list(range(26, 21, -1)) + list(range(21, 16, -1))  # brows
    + [27, 28, 29, 30] + [35, 34, 33, 32, 31]  # nose
    + [45, 44, 43, 42, 47, 46] + [39, 38, 37, 36, 41, 40]  # eyes
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]  # outer lips
    + [64, 63, 62, 61, 60, 67, 66, 65]  # inner lips
)

DEFAULT_SIGMA_FRACTION = 1.0 / 64.0


def as_landmark_batch(landmarks, *, device=None, dtype=None) -> torch.Tensor:
    """``(68,2)`` or ``(B,68,2)`` numpy array / tensor / nested list -> float tensor (B,68,2)
    (``dtype`` default float32)."""
    import torch

    dtype = torch.float32 if dtype is None else dtype
    lm = torch.as_tensor(np.asarray(landmarks) if not torch.is_tensor(landmarks) else landmarks)
    lm = lm.to(device=device if device is not None else lm.device, dtype=dtype)
    if lm.ndim == 2:
        lm = lm.unsqueeze(0)
    if lm.ndim != 3 or lm.shape[1:] != (N_POINTS, 2):
        raise ValueError(f"expected iBUG-68 landmarks of shape (68,2) or (B,68,2), got {tuple(lm.shape)}")
    return lm


def rescale_landmarks(lm: torch.Tensor, size: int, crop_size: int | None) -> torch.Tensor:
    """Landmarks in pixels of a ``crop_size`` crop -> pixels of a ``size`` crop (pixel centres)."""
    if crop_size is None or crop_size == size:
        return lm
    return (lm + 0.5) * (float(size) / float(crop_size)) - 0.5


def landmark_heatmaps(
    landmarks,
    size: int,
    *,
    crop_size: int | None = None,
    sigma: float | None = None,
    points: list[int] | None = None,
    device=None,
) -> torch.Tensor:
    """One Gaussian map per selected landmark: float tensor (B, K, size, size) in [0, 1].

    ``landmarks``: (68,2) or (B,68,2) in pixels of a ``crop_size`` crop (default: ``size``).
    ``sigma`` in pixels of the output map (default ``size / 64``); ``points`` the indices to
    draw (default :data:`INNER`, K = 51). Differentiable with respect to tensor landmarks.
    """
    import torch

    size = int(size)
    if size < 1:
        raise ValueError(f"heatmap size must be positive, got {size}")
    lm = as_landmark_batch(landmarks, device=device)
    lm = rescale_landmarks(lm, size, crop_size)[:, INNER if points is None else list(points)]
    s = float(sigma) if sigma is not None else DEFAULT_SIGMA_FRACTION * size
    if not s > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    grid = torch.arange(size, dtype=lm.dtype, device=lm.device)
    finite = torch.isfinite(lm).all(-1, keepdim=True)  # (B,K,1)
    lm = torch.where(finite, lm, torch.zeros_like(lm))
    # separable Gaussian: (B,K,size) along x and along y, outer product per point
    gx = torch.exp(-((grid - lm[..., 0:1]) ** 2) / (2 * s * s)) * finite
    gy = torch.exp(-((grid - lm[..., 1:2]) ** 2) / (2 * s * s))
    return gy.unsqueeze(-1) * gx.unsqueeze(-2)


def landmark_side_image(
    landmarks,
    size: int,
    *,
    crop_size: int | None = None,
    sigma: float | None = None,
    points: list[int] | None = None,
    device=None,
) -> torch.Tensor:
    """LSSL's landmark side image: (B, 1, size, size) in [0, 1], the pixel-wise maximum of the
    Gaussians of :func:`landmark_heatmaps` (inner points by default; see the module notes)."""
    h = landmark_heatmaps(landmarks, size, crop_size=crop_size, sigma=sigma, points=points,
                          device=device)
    return h.amax(1, keepdim=True)


def eye_centres(landmarks) -> np.ndarray:
    """(2, 2) float64: the mean of :data:`L_EYE` and of :data:`R_EYE` of (68, 2) landmarks."""
    lm = np.asarray(landmarks, np.float64)
    # (rows 36-47 as two groups of six, L_EYE's then R_EYE's: one sum, then a division by 6,
    # the same rounding as each group's mean, without index arrays or a stack on every call)
    return lm[36:48].reshape(2, 6, -1).sum(1) / 6


def eye_distance(landmarks) -> float:
    """Distance between the two eye centres of (68, 2) landmarks (the inter-ocular distance)."""
    left, right = eye_centres(landmarks)
    d = right - left
    return math.sqrt(d.dot(d))  # np.linalg.norm's own sum for a vector, correctly rounded


def flip_landmarks(landmarks: np.ndarray, width: int) -> np.ndarray:
    """Landmarks of the horizontally mirrored ``width``-px image, re-indexed so the result is a
    valid iBUG-68 shape again (left eye stays 36..41)."""
    lm = np.asarray(landmarks, dtype=np.float64)
    out = lm[..., FLIP, :].copy()
    out[..., 0] = (width - 1) - out[..., 0]
    return out
