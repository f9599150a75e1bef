"""The ``mediapipe`` backend: MediaPipe's BlazeFace detectors (full and short range) and 468-point
Face Mesh, as torch modules (:mod:`faceedit.faces.mediapipe_faces`) with weights converted from
MediaPipe's models and shipped in ``weights/``; CPU or CUDA (``device``), batched across photos by
:meth:`MediaPipeDetector.detect_batch`. Landmarks: the 68 iBUG points mapped from the mesh
(:mod:`faceedit.faces.mesh68`); the mesh itself is kept in ``Face.dense``. ``auto``'s choice after
``fan``. Needs torch and the three ``.safetensors`` files, nothing else (no TensorFlow)."""

from __future__ import annotations

import importlib.util

import numpy as np

from faceedit.faces.detectors.base import Detector, as_rgb8, sort_faces
from faceedit.faces.detectors.registry import register
from faceedit.faces.types import Face
from faceedit.weights import weights_dir

MEDIAPIPE_WEIGHTS = ("blazeface_full.safetensors", "blazeface_short.safetensors",
                     "facemesh.safetensors")


def mediapipe_status(allow_download: bool = False) -> str | None:
    """Why the MediaPipe backend cannot run here, or None (its weights ship: nothing to download)."""
    if importlib.util.find_spec("torch") is None:
        return "torch is not installed"
    d = weights_dir()
    missing = [f for f in MEDIAPIPE_WEIGHTS if not (d / f).is_file()]
    if missing:
        return (f"MediaPipe weights {', '.join(missing)} are missing from {d} "
                "(python -m faceedit.faces.convert_mediapipe writes them)")
    return None


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
        self._faces = MediaPipeFaces(weights_dir(), device=device, **params)

    def detect(self, rgb: np.ndarray) -> list[Face]:
        return self.detect_batch([rgb])[0]

    def detect_batch(self, images: list[np.ndarray]) -> list[list[Face]]:
        """Several photos at once (any sizes): faces per photo, each list largest first."""
        return [sort_faces(f) for f in self._faces([as_rgb8(im) for im in images])]


register("mediapipe", lambda device, allow_download: MediaPipeDetector(device=device), mediapipe_status,
         keyed_by=("device",))
