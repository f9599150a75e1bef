"""Many videos, one after the other, as ``faceedit apply`` runs them: one record per output.

:class:`VideoApplier` takes planned jobs (an input video and its outputs, one per target and
strength, named by the caller as for photos) and yields a JSON-ready record per output: ``ok``
(written), ``skipped`` (the output exists and ``overwrite`` is off: a re-run goes on where the
last one stopped) or ``error`` (the input cannot be read, an output cannot be written: the
error names the file and the batch goes on). A stop request (Ctrl-C, SIGTERM) ends the video in
progress without a file and stops the batch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from faceedit.errors import FaceEditError, UsageError
from faceedit.log import logger
from faceedit.video.container import EncodeOptions, require_av, video_format
from faceedit.video.runner import NoFaceInClip, Stopped, VideoResult, default_tracker, edit_video


@dataclass
class VideoJob:
    """One input video and its outputs: ``(output path, target, strength)`` each."""

    input: str
    outputs: list[tuple[str, str, float]]


@dataclass
class VideoApplier:
    """Edit videos with ``editor`` (a :class:`faceedit.api.Editor`): ``options`` are the model
    options as for photos (``lighting``, ``aus``, ``controls``, ``like``...), ``face`` /
    ``max_faces`` choose tracks (:func:`faceedit.video.runner.select_tracks`; a clip with more
    people than ``max_faces`` is an error record, as a photo with more faces), ``encode`` the
    output's encoding, ``stop`` is polled once a frame, ``progress`` shows frames / total, fps
    and ETA (a redrawn line on a terminal, log lines otherwise)."""

    editor: object
    options: dict = field(default_factory=dict)
    face: str = "all"
    max_faces: int = 10
    overwrite: bool = False
    on_no_face: str = "error"
    encode: EncodeOptions = field(default_factory=EncodeOptions)
    stop: Callable[[], bool] | None = None
    progress: bool = True
    model: str | None = None
    stopped: bool = False

    def check(self) -> None:
        """UsageError for a missing PyAV or bad encoding options."""
        require_av()
        self.encode.check()

    def check_options(self) -> None:
        """Before a run that may hold videos: a UsageError for bad encoding options where PyAV is
        installed (where it is not, each video gets an error record naming the extra)."""
        try:
            require_av()
        except UsageError:
            return
        self.encode.check()

    def run(self, jobs: Iterable[VideoJob]) -> Iterator[dict]:
        for job in jobs:
            if self.stopped:
                return
            yield from self.run_one(job)

    def run_one(self, job: VideoJob) -> Iterator[dict]:
        for output, target, strength in job.outputs:
            if self.stop is not None and self.stop():
                self.stopped = True
                return
            if os.path.exists(output) and not self.overwrite:
                yield self.record(job.input, output, "skipped", target, strength)
                continue
            try:
                if video_format(job.input) is None:
                    raise FaceEditError("not a video file (no MP4/MOV, Matroska/WebM or AVI "
                                        "signature)", job.input)
                result = edit_video(self.editor, job.input, output, target, strength,
                                    face=self.face, max_faces=self.max_faces, encode=self.encode,
                                    stop=self.stop, progress=self.progress,
                                    tracker=default_tracker(self.editor),
                                    on_no_face=self.on_no_face, **self.options)
            except Stopped:
                self.stopped = True
                logger.info("%s: stopped, no output written", job.input)
                return
            except UsageError:
                raise
            except NoFaceInClip as e:
                status = "no_face" if self.on_no_face == "skip" else "error"
                rec = self.record(job.input, output, status, target, strength, error=e.reason)
                rec["faces"] = e.tracks
                yield rec
                continue
            except FaceEditError as e:
                yield self.record(job.input, output, "error", target, strength,
                                  error=e.reason if e.path else str(e))
                continue
            except Exception as e:  # a decoder, encoder or editing bug fails this video alone
                logger.debug("unexpected error on %s", job.input, exc_info=True)
                yield self.record(job.input, output, "error", target, strength,
                                  error=f"{type(e).__name__}: {e}")
                continue
            status = "copied" if result.edited == 0 else "ok"
            yield self.record(job.input, output, status, target, strength, result=result)

    def record(self, input: str, output: str, status: str, target: str, strength: float, *,
               error: str | None = None, result: VideoResult | None = None) -> dict:
        """The photo record's keys (input, output, model, target, strength, conditions, faces,
        status, error) plus ``kind: video`` and, for a written video, frames, edited frames,
        tracks, detector runs, scene cuts, fps achieved and seconds."""
        o = self.options
        written = status in ("ok", "copied", "skipped")
        rec = {"input": input, "output": output if written else None, "kind": "video",
               "model": self.model, "target": target, "strength": strength,
               "lighting": o.get("lighting"),
               "aus": None if o.get("aus") is None else {str(k): v for k, v in o["aus"].items()},
               "attrs": o.get("attrs"),
               "controls": o.get("controls"), "like": None if o.get("like") is None else str(o["like"]),
               "faces": None, "status": status, "error": error}
        if result is not None:
            rec.update({k: v for k, v in result.to_json().items() if k not in ("input", "output")})
        return rec
