"""The ``dlib`` backend (the offline default): dlib's HOG frontal-face detector + the 68-point
shape predictor shipped inside the ``face-recognition-models`` wheel. Low-confidence HOG boxes are
confirmed by dlib's CNN (mmod) detector run on a small crop around each, which removes HOG's
typical false positives (round badges, textures) without dropping dim or side-lit faces.

Also what both dlib backends share (``dlib-cnn`` is :mod:`faceedit.faces.detectors.dlib_cnn`):
the model files, the per-thread dlib objects and the landmark predictor."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np

from faceedit.faces.detectors.base import (
    Detector,
    as_rgb8,
    downscale_max_side,
    map_box,
    map_points,
    resize_to,
    set_params,
    sort_faces,
)
from faceedit.faces.detectors.registry import register
from faceedit.faces.types import Face
from faceedit.log import timed

SHAPE68 = "shape_predictor_68_face_landmarks.dat"
MMOD = "mmod_human_face_detector.dat"


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


def dlib_model(name: str) -> Path:
    """The path of one of the wheel's model files; FileNotFoundError when it is not there."""
    d = _frm_models_dir()
    if d is None:
        raise FileNotFoundError("face-recognition-models is not installed")
    p = d / name
    if not p.is_file():
        raise FileNotFoundError(f"{p} is missing")
    return p


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
def load_shape_predictor():
    import dlib

    return dlib.shape_predictor(str(dlib_model(SHAPE68)))


@_per_thread
def load_hog():
    import dlib

    return dlib.get_frontal_face_detector()


@_per_thread
def load_mmod():
    import dlib

    return dlib.cnn_face_detection_model_v1(str(dlib_model(MMOD)))


def dlib_status(allow_download: bool = False) -> str | None:
    """Why the dlib backends cannot run here, or None. Both need both files: ``dlib`` confirms
    its low-score HOG boxes with the CNN. (Nothing is downloaded: ``allow_download`` is unused.)"""
    if importlib.util.find_spec("dlib") is None:
        return "dlib is not installed (pip install dlib-bin)"
    try:
        import dlib  # noqa: F401
    except Exception as e:  # pragma: no cover - broken binary wheel
        return f"dlib failed to import: {type(e).__name__}: {e}"
    for name in (SHAPE68, MMOD):
        try:
            dlib_model(name)
        except FileNotFoundError as e:
            return f"{e} (pip install face-recognition-models)"
    return None


class DlibLandmarks:
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
        patch, sx, sy = resize_to(patch, self.landmark_box / bw)
        patch = np.ascontiguousarray(patch)
        rect = dlib.rectangle(
            int(round((x0 - rx0) * sx)), int(round((y0 - ry0) * sy)),
            int(round((x1 - rx0) * sx)), int(round((y1 - ry0) * sy)),
        )
        shape = load_shape_predictor()(patch, rect)
        pts = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
        return map_points(pts, sx, sy, rx0, ry0)


def dlib_68(rgb: np.ndarray, box: np.ndarray) -> np.ndarray:
    """dlib's 68 points of the face in ``box`` (x0, y0, x1, y1, as its HOG detector draws it) on
    ``rgb``: the predictor alone, at the scale it was trained for (:class:`DlibLandmarks`)."""
    return DlibLandmarks()._landmarks(as_rgb8(rgb), np.asarray(box, np.float64))


class DlibDetector(DlibLandmarks, Detector):
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
        set_params(self, params)
        load_hog()
        load_shape_predictor()

    def _hog_candidates(self, rgb: np.ndarray) -> list[tuple[np.ndarray, float]]:
        h, w = rgb.shape[:2]
        if max(h, w) <= self.upsample_max_side:
            work, sx, sy, up = rgb, 1.0, 1.0, 1
        else:
            work, sx, sy = downscale_max_side(rgb, self.max_side)
            up = 0
        rects, scores, _ = load_hog().run(np.ascontiguousarray(work), up, self.candidate_score)
        out = []
        for r, s in zip(rects, scores):
            box = map_box((r.left(), r.top(), r.right() + 1, r.bottom() + 1), sx, sy)
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
        patch, sx, sy = resize_to(rgb[ry0:ry1, rx0:rx1], self.verify_face_px / bw)
        dets = load_mmod()(np.ascontiguousarray(patch), 0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        for d in dets:
            r = d.rect
            b = map_box((r.left(), r.top(), r.right() + 1, r.bottom() + 1), sx, sy, rx0, ry0)
            dw = b[2] - b[0]
            dcx, dcy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
            if np.hypot(dcx - cx, dcy - cy) < 0.35 * bw and 0.6 < dw / bw < 1.7:
                return True
        return False

    def detect(self, rgb: np.ndarray) -> list[Face]:
        rgb = as_rgb8(rgb)
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
        return sort_faces(faces)


register("dlib", lambda device, allow_download: DlibDetector(), dlib_status)
