"""A run's first photos decoded and their faces found while torch is imported and the model loads.

``faceedit apply`` on the CPU spends its first seconds on one core: importing torch (1.3-1.5 s
of CPU on this project's machine) and loading the model. The ``mediapipe`` detector on LiteRT
needs neither, and LiteRT, OpenCV and the decoders leave the GIL while they work, so a
:class:`HeadStart` thread takes the run's photos in input order, in the engine's groups
(:data:`faceedit.pipeline.DETECT_GROUP`), and decodes and detects them on the other core
meanwhile. The photo engine (:class:`faceedit.pipeline.PhotoEngine`) takes what it has done
(:meth:`HeadStart.take`) instead of doing it again; once the engine starts, the thread takes no
new group and the engine does the rest.

The faces are the ones the engine would find: the same detector object (the registry's cached
one, :func:`faceedit.faces.detectors.get_detector`; the engine uses a result only where its
editor's detector is that object), the same decode (``max_pixels``), and the LiteRT pipeline
finds each photo's faces on its own, whatever photos share its group. Memory stays bounded: the
decoded pixels are kept for the first ``keep`` photos (the engine's prefetch window), and for
the later ones while all the pixels kept beyond those stay within ``keep_bytes``
(:data:`KEEP_BYTES`: about 80 photos of 512 px, 2 of 4K); past that the faces alone are kept (a
few KB a face) and the engine decodes the file again (about a tenth of what detecting it
costs). The thread stops after ``limit`` photos.

Only where it cannot change what is found: the photos are listed from files and folders (not
``-``, stdin is the planner's), the detector is ``mediapipe`` on LiteRT, and the device is the
CPU (:func:`cpu_run`). A photo the planner does not edit (skipped, set aside) is simply not
taken; an unreadable one gives its error to the engine as it would have met it.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from faceedit.io.decode import LoadedImage, read_image
from faceedit.log import logger, timed

#: The most photos a head start decodes and detects (the faces of the later ones, a few KB each,
#: are what it keeps; the model has usually loaded long before).
LIMIT = 1024
#: The decoded pixels (bytes) a head start keeps beyond its first ``keep`` photos, at most: the
#: engine then takes them instead of decoding those files again.
KEEP_BYTES = 64 << 20


def cpu_run(device: str) -> bool:
    """Whether ``device`` is the CPU, told without importing torch: ``cpu``, or ``auto`` on a
    machine with no GPU device file (``auto`` picks CUDA, then MPS, else the CPU; a head start
    whose guess is wrong is not used: the engine checks the detector object)."""
    if device == "cpu":
        return True
    if device != "auto" or sys.platform == "darwin":
        return False
    return not any(os.path.exists(p) for p in ("/dev/nvidia0", "/dev/nvidiactl", "/dev/kfd", "/dev/dxg"))


@dataclass
class Early:
    """One photo's head start: its decoded image (None where only the faces are kept) and faces,
    or the exception decoding or detecting raised."""

    image: LoadedImage | None = None
    faces: list | None = None
    error: Exception | None = None
    ready: threading.Event = field(default_factory=threading.Event)


class HeadStart:
    """Decode and detect the photos of ``paths`` (input order) in groups of ``group`` on one
    thread with ``detector``, keeping the pixels of the first ``keep`` and then of those that fit in
    ``keep_bytes``; see the module doc."""

    def __init__(self, paths: Iterator[str], detector: Any, *, max_pixels: int, group: int, keep: int,
                 limit: int = LIMIT, keep_bytes: int = KEEP_BYTES):
        self.detector, self.max_pixels = detector, max_pixels
        self.group, self.keep, self.limit = max(1, group), keep, limit
        self.keep_bytes, self.kept_bytes = keep_bytes, 0  # (pixels kept beyond the first ``keep``)
        self._paths = paths
        self.done = 0  # photos decoded and detected
        self.used = 0  # of which handed to the engine
        self._done: dict[str, Early] = {}  # real path -> its head start (claimed, maybe not ready)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, daemon=True, name="faceedit-head-start")
        self._thread.start()

    @classmethod
    def begin(cls, specs: list[str], detector_name: str, device: str, *, max_pixels: int, recursive: bool,
              group: int, keep: int) -> HeadStart | None:
        """A head start on the photos of ``specs`` where it cannot change what the run finds
        (module doc), else None. Never raises: anything unexpected means no head start."""
        if not cpu_run(device) or "-" in specs:
            return None
        try:
            from faceedit.faces.detectors import get_detector, landmark_points
            from faceedit.faces.detectors.mediapipe import pick_runtime

            if landmark_points(detector_name)[0] != "mediapipe" or pick_runtime("cpu") != "litert":
                return None
            detector = get_detector(detector_name, device="cpu")
            return cls(_photo_paths(specs, recursive), detector, max_pixels=max_pixels, group=group, keep=keep)
        except Exception:
            logger.debug("no head start", exc_info=True)
            return None

    def _work(self) -> None:
        taken = 0
        try:
            while not self._stop.is_set() and taken < self.limit:
                paths = []
                with self._lock:  # claimed under the lock: take() then waits for them
                    if self._stop.is_set():
                        return
                    for path in self._paths:
                        real = os.path.realpath(path)
                        if real in self._done:
                            continue
                        self._done[real] = Early()
                        paths.append((path, real))
                        if len(paths) == self.group:
                            break
                if not paths:
                    return
                self._group(paths, keep=taken < self.keep)
                taken += len(paths)
                self.done = taken
        except Exception:  # listing failed: the engine does the rest
            logger.debug("head start stopped", exc_info=True)

    def _group(self, paths: list[tuple[str, str]], keep: bool) -> None:
        """Decode and detect one group (as the engine's _prepare_group does), then mark it ready."""
        entries = [self._done[real] for _, real in paths]
        decoded: list[tuple[Early, LoadedImage]] = []
        for (path, _), e in zip(paths, entries):
            try:
                with timed("decode"):
                    e.image = read_image(path, max_pixels=self.max_pixels)
                decoded.append((e, e.image))
            except Exception as err:
                e.error = err
        try:
            if len(decoded) > 1:
                with timed("detect"):
                    found = self.detector.detect_batch([image.rgb8() for _, image in decoded])
                for (e, _), faces in zip(decoded, found):
                    e.faces = faces
            else:
                for e, image in decoded:
                    with timed("detect"):
                        e.faces = self.detector.detect(image.rgb8())
        except Exception:  # the engine detects these again (one by one where it must)
            logger.debug("head start: detection failed", exc_info=True)
            for e, _ in decoded:
                e.image, e.faces = None, None
        for e in entries:
            if not keep and e.image is not None:
                size = e.image.pixels.nbytes + (0 if e.image.alpha is None else e.image.alpha.nbytes)
                if self.kept_bytes + size <= self.keep_bytes:
                    self.kept_bytes += size
                else:
                    e.image = None
            e.ready.set()

    def stop(self) -> None:
        """Take no new group (the groups under way are finished)."""
        self._stop.set()

    def take(self, path: str, detector: Any) -> Early | None:
        """``path``'s head start (waiting for it where it is under way), handed over once: None
        where it was not taken, its detection failed, or ``detector`` is not the one it used."""
        with self._lock:
            e = self._done.pop(os.path.realpath(path), None)
        if e is None:
            return None
        e.ready.wait()
        if detector is not self.detector or (e.error is None and e.faces is None):
            return None
        with self._lock:
            self.used += 1
        return e

    def close(self) -> None:
        """Stop, wait for the thread and drop what was not taken."""
        self.stop()
        self._thread.join()
        with self._lock:
            self._done.clear()
        logger.debug("head start: %d photos decoded and detected while the model loaded, %d of them used",
                     self.done, self.used)


def _photo_paths(specs: list[str], recursive: bool) -> Iterator[str]:
    """The photo files of ``specs`` in the planner's order (:func:`faceedit.io.inputs.expand_inputs`:
    files, folders, globs); videos and inputs in error are passed over."""
    from faceedit.io.inputs import expand_inputs
    from faceedit.plan import VIDEO, input_kind

    for item in expand_inputs(specs, recursive=recursive):
        if item.error is None and input_kind(item) != VIDEO:
            yield item.path
