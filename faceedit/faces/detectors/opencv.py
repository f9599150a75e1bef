"""The ``opencv`` backend: OpenCV Haar cascades; the eye cascade for the eye centres, nose and
mouth estimated from the mean face shape: 5 landmarks in ``MEAN_FIVE_POINTS`` order. Needs nothing
but OpenCV (imported when the backend is checked or created, not with this module)."""

from __future__ import annotations

import os
import threading

import numpy as np

from faceedit.faces.detectors.base import (
    Detector,
    as_rgb8,
    downscale_max_side,
    map_box,
    resize_to,
    set_params,
    sort_faces,
)
from faceedit.faces.detectors.registry import register
from faceedit.faces.types import MEAN_FIVE_POINTS, Face


def five_from_eyes(left_eye, right_eye) -> np.ndarray:
    """Mean 5-point shape placed by the two eye centres (similarity, no reflection)."""
    le, re = np.asarray(left_eye, float), np.asarray(right_eye, float)
    mid, d = (le + re) / 2, re - le
    # MEAN_FIVE_POINTS is in eye-distance units with the eyes at (-0.5,0), (0.5,0): x axis along d,
    # y axis = d rotated by +90 degrees in image coordinates (y down) = (-d_y, d_x).
    ex, ey = d, np.array([-d[1], d[0]])
    return mid + MEAN_FIVE_POINTS[:, :1] * ex + MEAN_FIVE_POINTS[:, 1:2] * ey


def _iou(a, b) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


class OpenCVDetector(Detector):
    """OpenCV Haar cascades: 5 landmarks in ``MEAN_FIVE_POINTS`` order; needs no dlib.

    Boxes: ``haarcascade_frontalface_alt2``, confirmed by ``haarcascade_frontalface_default``
    (a box is kept when the two cascades agree, IoU >= 0.5, and alt2 merged at least
    ``sure_neighbors`` (12) raw hits into it, or at least ``eye_neighbors`` (9) and the eye cascade
    finds a plausible eye pair in it; real faces of 40 px and more get 20+, Yale's side-lit ones
    9+, the cascades' false positives on smooth textures at most 8). Eyes: ``haarcascade_eye`` in the
    upper half of the box; when it finds no plausible pair (glasses, side light), the eyes are
    placed at their mean position in these boxes. Nose tip and mouth corners: the mean 5-point
    face shape placed by the eyes (estimates: alignment is coarser than with 68-point backends).

    Limits: frontal faces only; search on a copy downscaled to at most ``max_side`` (1280) px,
    faces down to ``min_face`` (30) px in that copy. ``score`` = number of raw alt2 hits merged
    into the box (not comparable with other backends).
    """

    name = "opencv"
    FACE_CASCADES = ("haarcascade_frontalface_alt2.xml", "haarcascade_frontalface_default.xml")
    EYE_CASCADE = "haarcascade_eye.xml"
    max_side = 1280
    min_face = 30
    sure_neighbors = 12
    eye_neighbors = 9
    # Eye centres relative to the alt2 box (fractions of the box width from its left/top edge),
    # measured on the London set; used when the eye cascade fails.
    eye_x = (0.30, 0.70)
    eye_y = 0.39

    def __init__(self, **params):
        import cv2

        set_params(self, params)
        root = cv2.data.haarcascades
        self._faces = [cv2.CascadeClassifier(os.path.join(root, f)) for f in self.FACE_CASCADES]
        self._eyes = cv2.CascadeClassifier(os.path.join(root, self.EYE_CASCADE))
        if any(c.empty() for c in self._faces) or self._eyes.empty():
            raise RuntimeError(f"could not load the Haar cascades from {root}")
        self._lock = threading.Lock()

    def _find_eyes(self, grey: np.ndarray, box: np.ndarray):
        """Eye centres (left, right) in ``grey`` coords, or None."""
        x0, y0, x1, y1 = box
        bw = x1 - x0
        # Normalise the face to ~160 px so the eye cascade's parameters are scale-independent.
        rx0, ry0 = int(max(0, x0)), int(max(0, y0 + 0.1 * bw))
        rx1, ry1 = int(min(grey.shape[1], x1)), int(min(grey.shape[0], y0 + 0.6 * bw))
        if rx1 - rx0 < 10 or ry1 - ry0 < 5:
            return None
        patch, sx, sy = resize_to(grey[ry0:ry1, rx0:rx1], 160.0 / bw)
        with self._lock:
            eyes = self._eyes.detectMultiScale(patch, 1.05, 3, minSize=(18, 18), maxSize=(70, 70))
        if len(eyes) < 2:
            return None
        cents = [((ex + ew / 2 - 0.5) / sx + rx0, (ey + eh / 2 - 0.5) / sy + ry0)
                 for ex, ey, ew, eh in eyes]
        exp = np.array([[x0 + self.eye_x[0] * bw, y0 + self.eye_y * bw],
                        [x0 + self.eye_x[1] * bw, y0 + self.eye_y * bw]])
        best, best_cost = None, np.inf
        for i, a in enumerate(cents):
            for b in cents[i + 1:]:
                le, re = (np.array(a), np.array(b)) if a[0] < b[0] else (np.array(b), np.array(a))
                d = np.hypot(*(re - le))
                if not (0.25 * bw < d < 0.55 * bw) or abs(re[1] - le[1]) > 0.35 * d:
                    continue
                cost = np.hypot(*(le - exp[0])) + np.hypot(*(re - exp[1]))
                if cost < best_cost:
                    best, best_cost = (le, re), cost
        if best is None or best_cost > 0.5 * bw:
            return None
        return best

    def detect(self, rgb: np.ndarray) -> list[Face]:
        import cv2

        rgb = as_rgb8(rgb)
        grey_full = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        work, sx, sy = downscale_max_side(grey_full, self.max_side)
        work = cv2.equalizeHist(work)
        hits = []
        with self._lock:
            for cascade in self._faces:
                rects, neighbours = cascade.detectMultiScale2(
                    work, scaleFactor=1.1, minNeighbors=3, minSize=(self.min_face, self.min_face))
                hits.append([(np.array([x, y, x + w, y + h], float), int(n))
                             for (x, y, w, h), n in zip(rects, np.ravel(neighbours))])
        faces = []
        for box_w, n in hits[0]:
            if max((_iou(box_w, other) for other, _ in hits[1]), default=0.0) < 0.5:
                continue
            box = map_box(box_w, sx, sy)
            if n < self.eye_neighbors:
                continue
            eyes = self._find_eyes(grey_full, box)
            if eyes is None and n < self.sure_neighbors:
                continue
            bw = box[2] - box[0]
            if eyes is None:
                le = (box[0] + self.eye_x[0] * bw - 0.5, box[1] + self.eye_y * bw - 0.5)
                re = (box[0] + self.eye_x[1] * bw - 0.5, box[1] + self.eye_y * bw - 0.5)
            else:
                le, re = eyes
            lm = five_from_eyes(le, re)
            faces.append(Face(box=box, landmarks=lm, score=float(n), detector=self.name))
        return sort_faces(faces)


def opencv_status(allow_download: bool = False) -> str | None:
    """Why the OpenCV backend cannot run here, or None (nothing to download)."""
    import cv2

    root = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if not root:
        return "this OpenCV build ships no Haar cascades (use opencv-python-headless<5)"
    for f in (OpenCVDetector.FACE_CASCADES + (OpenCVDetector.EYE_CASCADE,)):
        if not os.path.isfile(os.path.join(root, f)):
            return f"OpenCV cascade {f} is missing from {root}"
    return None


register("opencv", lambda device, allow_download: OpenCVDetector(), opencv_status, points=5)
