"""Face detection backends: boxes + landmarks in full-image pixel coordinates, largest face first.

Every backend implements :class:`Detector` in a module of its own and registers itself
(:func:`faceedit.faces.detectors.registry.register`); :func:`get_detector` picks one by name
(``auto`` = the best that can run here) and caches it, :func:`available_detectors` says which can
run and why not. The backends, in the order ``auto`` tries them:

``fan`` (:mod:`.fan`)
    face-alignment's S3FD + 2D-FAN 68-point landmarks, the most accurate; needs the ``fan`` extra
    and its weights in the torch hub cache.
``mediapipe`` (:mod:`.mediapipe`)
    BlazeFace + Face Mesh, MediaPipe's .tflite files on LiteRT on the CPU (no torch), their torch
    ports on CUDA/MPS; weights shipped in ``weights/``; 68 points from the mesh.
``dlib`` (:mod:`.dlib`, the offline default)
    HOG + dlib's 68-point shape predictor, low-score boxes confirmed by dlib's CNN.
``dlib-cnn`` (:mod:`.dlib_cnn`, never picked by ``auto``)
    dlib's CNN detector, same predictor: slower, more robust to pose and light.
``opencv`` (:mod:`.opencv`)
    Haar cascades, 5 landmarks; needs nothing but OpenCV.

Importing this package imports none of dlib, OpenCV, torch, LiteRT or face-alignment: a backend
imports its library when it is checked or created.
"""

from faceedit.faces.detectors.base import Detector
from faceedit.faces.detectors.registry import (
                                               AUTO,
                                               auto_order,
                                               available_detectors,
                                               clear_detector_cache,
                                               detector_names,
                                               get_detector,
                                               landmark_points,
                                               register,
                                               require_points,
)

# The backends register themselves when imported, in this order (the order ``auto`` tries them in).
# isort: off
from faceedit.faces.detectors import fan  # noqa: F401
from faceedit.faces.detectors import mediapipe  # noqa: F401
from faceedit.faces.detectors import dlib  # noqa: F401
from faceedit.faces.detectors import dlib_cnn  # noqa: F401
from faceedit.faces.detectors import opencv  # noqa: F401
# isort: on

__all__ = ["AUTO", "Detector", "auto_order", "available_detectors", "clear_detector_cache",
           "detector_names", "get_detector", "landmark_points", "register", "require_points"]
