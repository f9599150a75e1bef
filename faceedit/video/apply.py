"""``faceedit apply`` over photos and videos together: :class:`MixedApplier`.

The photo engine (:class:`faceedit.pipeline.BatchApplier`, passed in) lists the inputs and
names every output (``{stem}_{target}{ext}``, ``-r``, ``--name``, skip-existing,
``--overwrite``: the same rules for a video as for a photo; a video keeps its own container
unless ``--ext`` names another video container). Then, in input order, each photo's outputs
come from the photo engine (:meth:`BatchApplier.run_planned`, streamed) and each video's from
:class:`faceedit.video.batch.VideoApplier`, one video at a time. The records keep the photo
engine's shape (``status``, ``input``, ``target``, ``error``, ``to_json()``), a video's with
its frames, tracks and fps.

Ctrl-C and SIGTERM are taken here for the whole run (:class:`faceedit.signals.StopSignals`):
the video in progress is dropped without a file, the photos in progress are finished (the photo
engine is asked to stop), and :attr:`interrupted`, :attr:`stop_signal` and :attr:`unfinished`
tell the caller, as the photo engine's own do.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from faceedit.errors import UsageError
from faceedit.signals import StopSignals
from faceedit.video.batch import VideoApplier, VideoJob
from faceedit.video.container import VIDEO_EXTS, EncodeOptions, require_av, video_format

VIDEO = "video"  # the input kind of a video file (faceedit.io.formats)


@dataclass
class VideoRecord:
    """A video output's record, shaped as the photo engine's :class:`Record` for the CLI."""

    data: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.__dict__["data"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        """A field set (the command line rewords ``error``, the Ray engine renames the paths)
        is set in :attr:`data`, so that :meth:`to_json` gives what was set."""
        if name == "data":
            object.__setattr__(self, name, value)
        else:
            self.data[name] = value

    def to_json(self) -> dict:
        return dict(self.data)


def is_video_item(item) -> bool:
    """An input listed as a video (its extension), or a file named directly whose bytes are a
    video container's (any name)."""
    if getattr(item, "kind", None) == VIDEO:
        return True
    return item.error is None and not item.listed and video_format(item.path) is not None


def video_output(item, path: str) -> str:
    """The planned output path of a video: its extension kept when it names a video container,
    else the input's own (``--ext .png`` is for the photos of a mixed run)."""
    root, ext = os.path.splitext(path)
    if ext.lower() in VIDEO_EXTS:
        return path
    own = os.path.splitext(item.path)[1].lower()
    return root + (own if own in VIDEO_EXTS else ".mp4")


def check_video_outputs(jobs: list, encode: EncodeOptions) -> None:
    """Before a run: UsageError for the first planned video whose output container cannot hold
    the encoder's video (:meth:`EncodeOptions.check_output`); nothing where PyAV is missing
    (each video is then an error record naming the extra)."""
    try:
        require_av()
    except UsageError:
        return
    for job in jobs:
        if is_video_item(job.item):
            for o in job.outputs:
                encode.check_output(video_output(job.item, o.path), job.item.path)


class MixedApplier:
    """Photos through ``photos`` (a :class:`BatchApplier`), videos through ``videos`` (a
    :class:`VideoApplier`), records in input order; see the module doc."""

    def __init__(self, photos, videos: VideoApplier):
        self.photos, self.videos = photos, videos
        self.interrupted = False
        self.unfinished = 0
        self._stop = StopSignals()

    @property
    def input_paths(self) -> set[str]:
        return self.photos.input_paths

    @property
    def stop_signal(self) -> int:
        return self._stop.signum

    def run(self, specs: Iterable[str], stdin=None) -> Iterator:
        self.interrupted, self.unfinished = False, 0
        listing = True
        self._stop = StopSignals(raise_while=lambda: listing).take()
        try:
            try:
                jobs = self.photos.plan(specs, stdin)
            except KeyboardInterrupt:
                self.interrupted = True
                return
            listing = False
            check_video_outputs(jobs, self.videos.encode)
            yield from self._run(jobs)
        finally:
            self._stop.restore()

    def _run(self, jobs: list) -> Iterator:
        kinds = [is_video_item(j.item) for j in jobs]
        planned = [(j.item, [(o.target, o.strength, o.path) for o in j.outputs])
                   for j, video in zip(jobs, kinds) if not video and j.outputs]
        photo_records = self.photos.run_planned(planned) if planned else iter(())
        self.videos.stop = lambda: self._stop.requested
        done = 0
        try:
            for job, video in zip(jobs, kinds):
                if self._stop.requested:
                    self.photos.stop(self._stop.signum)  # the photos in progress are finished, no other started
                    if video or not job.outputs:
                        continue  # not started
                if video:
                    records = list(job.records)
                    records += self._video(job)  # one video at a time: its records at its end
                    complete = len(records) == len(job.records) + len(job.outputs)
                    if complete or not self._stop.requested:
                        yield from records
                else:
                    records, complete = list(job.records), True
                    for _ in job.outputs:
                        rec = next(photo_records, None)
                        if rec is None:  # the photo engine stopped before this photo
                            complete = False
                            break
                        records.append(rec)
                    if complete:
                        yield from records
                done += complete
        finally:
            if self._stop.requested:
                self.photos.stop(self._stop.signum)
                self.interrupted = True
            if hasattr(photo_records, "close"):
                photo_records.close()
        if self.interrupted:
            self.unfinished = len(jobs) - done

    def _video(self, job) -> list[VideoRecord]:
        return edit_one_video(self.videos, job.item.path,
                              [(o.target, o.strength, video_output(job.item, o.path)) for o in job.outputs])


def edit_one_video(videos: VideoApplier, path: str, outputs: list[tuple[str, float, str]]
                   ) -> list[VideoRecord]:
    """The outputs of the video at ``path`` planned by the photo engine (``(target, strength,
    output path)`` each, the path a video's: :func:`video_output`) edited by ``videos``: a
    record per output, fewer where a stop request ended the video (its output not written).
    Without PyAV each output is an error record naming the extra (the photos go on). The
    local engine (:class:`MixedApplier`) and each Ray actor of ``--engine ray`` run a video
    through this."""
    if not outputs:
        return []
    try:
        videos.check()
    except UsageError as e:  # PyAV missing: this video fails, the photos go on
        return [VideoRecord(videos.record(path, out, "error", target, strength, error=e.reason))
                for target, strength, out in outputs]
    job = VideoJob(path, [(out, target, strength) for target, strength, out in outputs])
    return [VideoRecord(rec) for rec in videos.run_one(job)]
