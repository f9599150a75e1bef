"""The ``fan`` backend: face-alignment's S3FD detector + 2D-FAN 68-point landmarks (the most
accurate). Needs the ``face_alignment`` package (``pip install 'faceedit[fan]'``) and its two
checkpoints in the torch hub cache (``<torch hub dir>/checkpoints``); they are downloaded only when
the detector is created with ``allow_download=True``."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from faceedit.faces.detectors.base import (
    Detector,
    as_rgb8,
    downscale_max_side,
    map_box,
    set_params,
    sort_faces,
)
from faceedit.faces.detectors.registry import register
from faceedit.faces.types import Face

# Checkpoint files face-alignment 1.4/1.5 loads (basename of its download URLs). The names are
# read from the installed package when it imports; these are only the fallback.
FAN_CHECKPOINT_FALLBACK = {
    "2DFAN-4": "2DFAN4-11f355bf06.pth.tar",
    "s3fd": "s3fd-619a316812.pth",
}


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


def fan_status(allow_download: bool = False) -> str | None:
    """Why the FAN backend cannot run here, or None; without ``allow_download`` its weights
    must be in the torch hub cache already."""
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
        set_params(self, params)
        reason = fan_status(allow_download)
        if reason:
            raise RuntimeError(reason)
        fa = importlib.import_module("face_alignment")
        kwargs: dict[str, Any] = {"device": device, "face_detector": "sfd"}
        try:
            sig = inspect.signature(fa.FaceAlignment)
            if "compile" in sig.parameters:
                kwargs["compile"] = False  # torch.compile: minutes on a CPU, little gain here
        except (TypeError, ValueError):
            pass
        lt = fa.LandmarksType
        two_d = getattr(lt, "TWO_D", None) or lt._2D
        self.device = device
        self._fa = fa.FaceAlignment(two_d, **kwargs)
        self._lock = threading.Lock()

    def detect(self, rgb: np.ndarray) -> list[Face]:
        rgb = as_rgb8(rgb)
        with self._lock:
            work, sx, sy = downscale_max_side(rgb, self.max_side)
            if work is rgb:
                res = self._fa.get_landmarks_from_image(
                    rgb, return_bboxes=True, return_landmark_score=True)
            else:
                boxes = self._fa.face_detector.detect_from_image(work.copy())
                if boxes is None or len(boxes) == 0:
                    return []
                boxes = [np.concatenate([map_box(b, sx, sy), np.asarray(b[4:], float)])
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
        return sort_faces(faces)


register("fan", lambda device, allow_download: FanDetector(device=device, allow_download=allow_download),
         fan_status, keyed_by=("device", "allow_download"))
