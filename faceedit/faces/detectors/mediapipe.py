"""The ``mediapipe`` backend: MediaPipe's BlazeFace detectors (full and short range) and 468-point
Face Mesh, ``auto``'s choice after ``fan``. Landmarks: the 68 iBUG points mapped from the mesh
(:mod:`faceedit.faces.mesh68`); the mesh itself is kept in ``Face.dense``.

Two runtimes run the same pipeline (:mod:`faceedit.faces.mediapipe_common`), chosen by
:func:`pick_runtime`:

* ``litert``, wherever LiteRT can run, on the CPU whatever device the edit runs on: MediaPipe's
  own .tflite files (shipped in ``weights/``) on LiteRT (``ai-edge-litert``, XNNPACK), one photo
  at a time, an interpreter per calling thread; no torch is imported
  (:mod:`faceedit.faces.litert_faces`);
* ``torch`` where LiteRT cannot be imported (on the CPU one INFO line says so), on the asked
  device: the networks as torch modules with weights converted to safetensors, batched across
  photos by :meth:`MediaPipeDetector.detect_batch` (:mod:`faceedit.faces.mediapipe_faces`).

These networks are small: on a GPU their torch ports pay CUDA's first calls of every kernel and
shape in each process (an H200 machine, 16 cores, 8 photos of 512 px, ``faceedit apply -m reggan
-t happy --device cuda``: 14.6 s against 5.8 s with ``--device cpu``, both on the torch ports;
the profile puts 8.6 s in BlazeFace's and Face Mesh's first CUDA calls), so a GPU edit reads its
faces on the CPU.

Both give the same faces within a stated tolerance (weights/facemesh.md; the torch modules hold
fp16 copies of the files' weights). No TensorFlow or mediapipe package is needed.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import TYPE_CHECKING

import numpy as np

from faceedit.faces.detectors.base import Detector, as_rgb8, sort_faces
from faceedit.faces.detectors.registry import register
from faceedit.faces.types import Face
from faceedit.weights import shipped_file, weights_dir

if TYPE_CHECKING:  # the runtimes are imported when the detector is created (torch's imports torch)
    from faceedit.faces.litert_faces import LiteRTFaces
    from faceedit.faces.mediapipe_faces import MediaPipeFaces

log = logging.getLogger("faceedit")

RUNTIMES = ("litert", "torch")
MEDIAPIPE_WEIGHTS = ("blazeface_full.safetensors", "blazeface_short.safetensors",
                     "facemesh.safetensors")
# weights/manifest.json's names of MediaPipe's .tflite files (the LiteRT runtime's), per network
TFLITE_NAMES = {"full": "blazeface_full_tflite", "short": "blazeface_short_tflite",
                "mesh": "facemesh_tflite", "iris": "iris_tflite"}


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def tflite_files() -> dict:
    """network ("full", "short", "mesh", "iris") -> path of its .tflite file in the weights folder."""
    return {k: shipped_file(n) for k, n in TFLITE_NAMES.items()}


def litert_status() -> str | None:
    """Why the LiteRT runtime cannot run here, or None."""
    if not _importable("ai_edge_litert"):
        return "ai-edge-litert is not installed (pip install ai-edge-litert)"
    missing = [p.name for p in tflite_files().values() if not p.is_file()]
    if missing:
        return (f"MediaPipe's {', '.join(missing)} are missing from {weights_dir()} "
                "(python -m faceedit.faces.convert_mediapipe writes them)")
    return None


def torch_status() -> str | None:
    """Why the torch runtime cannot run here, or None."""
    if not _importable("torch"):
        return "torch is not installed"
    d = weights_dir()
    missing = [f for f in MEDIAPIPE_WEIGHTS if not (d / f).is_file()]
    if missing:
        return (f"MediaPipe weights {', '.join(missing)} are missing from {d} "
                "(python -m faceedit.faces.convert_mediapipe writes them)")
    return None


def mediapipe_status(allow_download: bool = False) -> str | None:
    """Why the MediaPipe backend cannot run here, or None (its weights ship: nothing to
    download): it runs when either runtime can."""
    lite = litert_status()
    if lite is None:
        return None
    ported = torch_status()
    if ported is None:
        return None
    return f"neither runtime can run: LiteRT: {lite}; torch: {ported}"


def _on_cpu(device: str) -> bool:
    return not str(device).startswith(("cuda", "mps"))


def pick_runtime(device: str) -> str:
    """``litert`` (on the CPU, whatever ``device``) when LiteRT and the .tflite files are there,
    else ``torch`` on ``device`` (on the CPU with one INFO line saying why)."""
    why = litert_status()
    if why is None:
        return "litert"
    if _on_cpu(device):
        log.info("face detector mediapipe: torch on the CPU, not LiteRT (%s; LiteRT runs it 2-3x "
                 "faster)", why)
    return "torch"


class MediaPipeDetector(Detector):
    """MediaPipe's BlazeFace + Face Mesh (see :mod:`faceedit.faces.mediapipe_common`), on LiteRT
    or torch (``runtime``; default :func:`pick_runtime` for ``device``). LiteRT runs on the CPU:
    picked for a GPU ``device``, the detector's :attr:`device` is ``cpu``; asked for by name with a
    GPU device, it is an error.

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
    (468,3) mesh. With ``iris`` (default) the mesh's lids are MediaPipe's iris model's
    (:mod:`faceedit.faces.iris`, run on LiteRT by both runtimes where it can be imported), which
    follow a raised or lowered lid where the Face Mesh's barely move, and its irises' points
    follow the mesh's 468 (``Face.dense`` (478,3)). Nothing heavy is imported
    before the detector is created; the LiteRT runtime never imports torch. :meth:`detect_batch` runs many photos through each torch network at
    once (LiteRT: one after the other; ``num_threads`` CPU threads per interpreter, one
    interpreter per calling thread).
    """

    name = "mediapipe"

    def __init__(self, device: str = "cpu", runtime: str | None = None, num_threads: int = 1,
                 iris: bool = True, **params):
        asked = self.device = str(device)
        self.runtime = runtime or pick_runtime(asked)
        if self.runtime not in RUNTIMES:
            raise ValueError(f"unknown MediaPipe runtime {self.runtime!r}; choose one of {', '.join(RUNTIMES)}")
        self._faces: LiteRTFaces | MediaPipeFaces
        if self.runtime == "litert":
            if runtime is not None and not _on_cpu(asked):
                raise ValueError(f"the LiteRT runtime runs on the CPU, not {asked}")
            self.device = "cpu"
            try:
                from faceedit.faces.litert_faces import LiteRTFaces

                files = {k: p for k, p in tflite_files().items() if iris or k != "iris"}
                self._faces = LiteRTFaces(files, num_threads=num_threads, **params)
                return
            except (ImportError, OSError) as e:  # installed but cannot load (its native library)
                if runtime is not None or torch_status() is not None:
                    raise
                log.info("face detector mediapipe: torch on %s, not LiteRT (it failed to "
                         "load: %s: %s)", asked, type(e).__name__, e)
                self.runtime, self.device = "torch", asked
        from faceedit.faces.mediapipe_faces import MediaPipeFaces

        lids = tflite_files()["iris"] if iris and litert_status() is None else None
        self._faces = MediaPipeFaces(weights_dir(), device=self.device, iris=lids, **params)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.runtime} on {self.device}>"

    def detect(self, rgb: np.ndarray) -> list[Face]:
        return self.detect_batch([rgb])[0]

    def detect_batch(self, images: list[np.ndarray]) -> list[list[Face]]:
        """Several photos at once (any sizes): faces per photo, each list largest first."""
        return [sort_faces(f) for f in self._faces([as_rgb8(im) for im in images])]


register("mediapipe", lambda device, allow_download: MediaPipeDetector(device=device), mediapipe_status,
         keyed_by=("device",))
