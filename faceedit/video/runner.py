"""One video through the editor: decode -> track -> edit -> encode, streamed.

Three threads joined by bounded queues (``queue`` items each): the reader demuxes and decodes
in file order, the caller's thread tracks and edits each frame, the writer encodes and muxes.
Memory is therefore flat in the clip's length: at most ``2 * queue + 2`` frames are alive.
Audio (and subtitle) packets travel through the same queues in file order and are muxed as
they are. The output is written to a temporary file beside it and renamed when complete; an
error, a stop request (:func:`edit_video`'s ``stop``) or an exception leaves no file.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from faceedit.errors import NoFaceError, UsageError
from faceedit.files import atomic_path
from faceedit.log import logger
from faceedit.models.request import EditRequest
from faceedit.video.container import VIDEO_EXTS, Frame, VideoReader, VideoWriter
from faceedit.video.edit import ExpressionHold
from faceedit.video.frame_edit import FrameEdit, plan_frame, select_tracks
from faceedit.video.reuse import KeyFrames
from faceedit.video.settings import FaceSamples, VideoResult, VideoSettings
from faceedit.video.smooth import FrameClock
from faceedit.video.track import FaceTracker


class Stopped(Exception):
    """The run was asked to stop (Ctrl-C, SIGTERM) before the video was finished."""


class NoFaceInClip(NoFaceError):
    """No frame of a clip had a face to edit (none found, or not the ``face`` asked for);
    ``tracks``: the people tracked in it."""

    def __init__(self, reason: str, path: str, tracks: int):
        super().__init__(reason, path)
        self.tracks = tracks


def no_face_reason(face: str, tracks: int, frames: int) -> str:
    """Why no frame was edited, as a photo says it (:func:`faceedit.flow.select_faces`)."""
    if tracks == 0:
        return f"no face found in any of its {frames} frames"
    if face.isdigit():
        return f"`face` {face}: only {tracks} people tracked"
    return f"no face to edit in any of its {frames} frames"


class Progress:
    """Frames done / total with fps and ETA: a line redrawn in place on a terminal, else a log
    line every ``every`` seconds. Under a live display that takes stderr over (rich's progress
    bar of ``faceedit apply``, which prints what is written to stderr above the bar), a whole
    line every ``live_every`` seconds."""

    def __init__(self, name: str, total: int, stream=None, every: float = 10.0,
                 live_every: float = 2.0):
        self.name, self.total, self.every = name, total, every
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.live = type(self.stream).__module__.split(".")[0] == "rich"
        if self.live:
            self.every = live_every
        self.start = time.perf_counter()
        self._shown = self.start

    def text(self, done: int) -> str:
        took = time.perf_counter() - self.start
        fps = done / took if took > 0 else 0.0
        if self.total:
            left = max(self.total - done, 0) / fps if fps > 0 else 0.0
            return (f"{self.name}: {done}/{self.total} frames, {fps:.1f} fps, "
                    f"ETA {int(left // 60)}:{int(left % 60):02d}")
        return f"{self.name}: {done} frames, {fps:.1f} fps"

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if self.live:
            if now - self._shown >= self.every:
                self.stream.write(self.text(done) + "\n")
                self._shown = now
        elif self.tty:
            if now - self._shown >= 0.2:
                self.stream.write("\r" + self.text(done) + "\x1b[K")
                self.stream.flush()
                self._shown = now
        elif now - self._shown >= self.every:
            logger.info("%s", self.text(done))
            self._shown = now

    def close(self, done: int) -> None:
        if self.live:
            self.stream.write(self.text(done) + "\n")
        elif self.tty:
            self.stream.write("\r" + self.text(done) + "\x1b[K\n")
            self.stream.flush()


_END = object()


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


def _put(q: queue.Queue, item, halt: threading.Event) -> bool:
    """Put ``item`` unless ``halt`` is set first (the other side stopped reading)."""
    while not halt.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _get(q: queue.Queue, halt: threading.Event):
    while True:
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            if halt.is_set():
                return _END


def edit_video(editor, src: str, dst: str, request: EditRequest, settings: VideoSettings = VideoSettings(), *,
               stop: Callable[[], bool] | None = None, progress: bool | Progress = True,
               tracker: FaceTracker | None = None, samples: FaceSamples | None = None,
               record: dict | None = None) -> VideoResult:
    """Edit every frame of ``src`` into ``dst`` (written atomically, same container as its
    extension says) as ``request`` asks (:meth:`faceedit.api.Editor.edit`'s fields; ``face`` and
    ``max_faces`` choose the tracks: :func:`select_tracks`, :func:`check_people`, more people
    than ``max_faces`` a :class:`TooManyFacesError` with no file), run as ``settings`` says.
    ``editor``: a :class:`faceedit.api.Editor`; ``stop``: polled once a frame, True ends the run
    with :class:`Stopped` (no file); ``samples``: fed each edited frame (a few kept per person,
    :class:`FaceSamples`, for reading the output); ``record``: faceedit's record of the output
    (:mod:`faceedit.io.outputs`), kept in the container's metadata. A clip whose faces are all
    declined is written unedited. Raises :class:`FaceEditError` subclasses naming the file."""
    request = request.at(editor.check_target(request.target), request.strength)
    select_tracks([], request.face, request.max_faces)  # a bad --face is a usage error before any work
    ext = os.path.splitext(dst)[1].lower()
    if ext not in VIDEO_EXTS:
        raise UsageError(f"{dst}: not a video extension ({', '.join(sorted(VIDEO_EXTS))})")
    if tracker is None:
        tracker = default_tracker(editor)
    result = VideoResult(src, dst)
    start = time.perf_counter()
    with VideoReader(src) as reader:
        result.total, result.audio = reader.info.frames, len(reader.info.copied)
        result.rate = float(reader.info.rate) if reader.info.rate else None
        result.clock = FrameClock(result.rate)
        bar = progress if isinstance(progress, Progress) else (
            Progress(os.path.basename(src), reader.info.frames)
            if progress else None)
        made = _missing_folders(dst)
        try:
            with atomic_path(dst) as temp:
                writer = VideoWriter(temp, reader, settings.encode, format=VIDEO_EXTS[ext], record=record)
                try:
                    _stream(editor, reader, writer, tracker, request, settings, stop, bar, result, samples)
                    if not result.edited and not result.declined and settings.on_no_face != "copy":
                        raise NoFaceInClip(no_face_reason(request.face, tracker.next_id, result.frames), src,
                                           tracker.next_id)
                    writer.close()
                except BaseException:
                    writer.abort()
                    raise
                finally:
                    if bar is not None:
                        bar.close(result.frames)
        except BaseException:
            for folder in made:  # no output: the folders made for it go too, where still empty
                try:
                    os.rmdir(folder)
                except OSError:
                    break
            raise
    result.seconds = time.perf_counter() - start
    result.fps = result.frames / result.seconds if result.seconds > 0 else 0.0
    result.tracks, result.detections, result.cuts = tracker.next_id, tracker.detections, tracker.cuts
    return result


def _missing_folders(path: str) -> list[str]:
    """The folders above ``path`` that do not exist yet, deepest first."""
    missing = []
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        missing.append(folder)
        folder = os.path.dirname(folder)
    return missing


def default_tracker(editor) -> FaceTracker:
    """A :class:`FaceTracker` on the MediaPipe detector (whatever detector the editor uses for
    photos: tracking needs the Face Mesh), the editor's stage and the identity network."""
    from faceedit.faces.detectors import get_detector
    from faceedit.faces.detectors.mediapipe import MediaPipeDetector

    det = get_detector("mediapipe", device=str(editor.device))
    assert isinstance(det, MediaPipeDetector)
    return FaceTracker(det._faces, editor.stage, identity=_identity_net())


_IDENTITY: list = []


def _identity_net():
    """The shipped identity network, loaded once (None where it cannot be: a face that leaves
    and comes back is then a new track)."""
    if not _IDENTITY:
        try:
            from faceedit.analysis.identity import load_identity

            _IDENTITY.append(load_identity())
        except Exception as e:  # noqa: BLE001 (any failure: track without re-identification)
            logger.warning("identity network not loaded (%s): a face that leaves and comes back "
                           "will be a new track", e)
            _IDENTITY.append(None)
    return _IDENTITY[0]


def _stream(editor, reader, writer, tracker, request: EditRequest, settings: VideoSettings, stop, bar,
            result: VideoResult, samples: FaceSamples | None = None) -> None:
    """Reader thread -> (this thread: track, plan) -> ``settings.workers`` edit threads -> writer
    thread, in file order; every queue bounded."""
    inbox: queue.Queue = queue.Queue(settings.queue_size)
    outbox: queue.Queue = queue.Queue(settings.queue_size)
    halt = threading.Event()
    written: list = []
    pool = ThreadPoolExecutor(max(1, settings.workers), thread_name_prefix="video-edit")

    def read() -> None:
        try:
            for item in reader:
                if not _put(inbox, item, halt):
                    return
            _put(inbox, _END, halt)
        except BaseException as e:  # noqa: BLE001 (handed to the main thread)
            _put(inbox, _Failed(e), halt)

    def write() -> None:
        try:
            while True:
                item = _get(outbox, halt)
                if item is _END:
                    return
                writer.write(item.result() if isinstance(item, FrameEdit) else item)
        except BaseException as e:  # noqa: BLE001
            written.append(e)
            halt.set()

    threads = [threading.Thread(target=read, name="video-read", daemon=True),
               threading.Thread(target=write, name="video-write", daemon=True)]
    for t in threads:
        t.start()
    holds: dict[int, tuple[int, ExpressionHold]] = {}  # track -> (its segment, hold)
    keys = KeyFrames(settings.reuse)
    try:
        while True:
            item = _get(inbox, halt)
            if written:
                raise written[0]
            if item is _END:
                break
            if isinstance(item, _Failed):
                raise item.error
            if isinstance(item, Frame):
                if stop is not None and stop():
                    raise Stopped(reader.path)
                item = plan_frame(editor, pool, item, tracker, holds, request, settings, result, keys, samples)
                result.keys = keys.keys
                result.frames += 1
                if bar is not None:
                    bar.update(result.frames)
            if not _put(outbox, item, halt):
                break
        _put(outbox, _END, halt)
        threads[1].join()
        if written:
            raise written[0]
    finally:
        halt.set()
        for t in threads:
            t.join()
        pool.shutdown(wait=True, cancel_futures=True)
