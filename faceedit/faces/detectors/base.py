"""What every face detector backend shares: the :class:`Detector` interface and the image
helpers that validate a photo, resize it and map points and boxes back to its pixels.

OpenCV is imported where it resizes, not here, so that importing the detectors (to list them, in
the command line's start-up) stays cheap."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from faceedit.faces.types import Face


class Detector(ABC):
    """A face detector. ``detect(rgb)`` returns faces largest first, landmarks in image pixels."""

    name: str = ""

    @abstractmethod
    def detect(self, rgb: np.ndarray) -> list[Face]:
        """(H,W,3) uint8 RGB -> faces sorted by box area, largest first."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def set_params(detector: Detector, params: dict) -> None:
    """Override a backend's tuning class attributes (``max_side=...``); an unknown name is a
    TypeError naming the backend's class."""
    for k, v in params.items():
        if not hasattr(type(detector), k):
            raise TypeError(f"unknown {type(detector).__name__} parameter {k!r}")
        setattr(detector, k, v)


def as_rgb8(rgb: np.ndarray) -> np.ndarray:
    """Validate the input: (H,W,3) uint8 RGB (greyscale (H,W) and RGBA are accepted too)."""
    a = np.asarray(rgb)
    if a.dtype != np.uint8:
        raise ValueError(f"detect() expects uint8 pixels, got {a.dtype}")
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    elif a.ndim == 3 and a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    elif a.ndim == 3 and a.shape[2] == 4:
        a = a[:, :, :3]
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"detect() expects an (H,W,3) image, got shape {a.shape}")
    return np.ascontiguousarray(a)


def resize_to(img: np.ndarray, scale: float) -> tuple[np.ndarray, float, float]:
    """Resize by ``scale``; returns the image and the exact x/y factors actually applied."""
    h, w = img.shape[:2]
    nw, nh = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    if (nw, nh) == (w, h):
        return img, 1.0, 1.0
    import cv2

    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(img, (nw, nh), interpolation=interp), nw / w, nh / h


def downscale_max_side(img: np.ndarray, max_side: int) -> tuple[np.ndarray, float, float]:
    """A copy at most ``max_side`` px on its long side (the image itself when it is no larger)
    and the x/y factors applied."""
    h, w = img.shape[:2]
    if max(h, w) <= max_side:
        return img, 1.0, 1.0
    return resize_to(img, max_side / max(h, w))


def map_points(pts: np.ndarray, sx: float, sy: float, ox: float = 0.0, oy: float = 0.0):
    """Points in a resized copy (factors sx, sy; pixel-centre convention) -> original coords,
    then shifted by (ox, oy)."""
    pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2).copy()
    pts[:, 0] = (pts[:, 0] + 0.5) / sx - 0.5 + ox
    pts[:, 1] = (pts[:, 1] + 0.5) / sy - 0.5 + oy
    return pts


def map_box(box, sx: float, sy: float, ox: float = 0.0, oy: float = 0.0) -> np.ndarray:
    """A box (x0, y0, x1, y1) in a resized copy -> original coords, then shifted by (ox, oy)."""
    x0, y0, x1, y1 = [float(v) for v in box[:4]]
    return np.array([x0 / sx + ox, y0 / sy + oy, x1 / sx + ox, y1 / sy + oy], dtype=np.float64)


def sort_faces(faces: list[Face]) -> list[Face]:
    """Largest box first."""
    return sorted(faces, key=lambda f: -f.area)
