"""The run driver of ``faceedit apply``: plan once, schedule on an engine, report in input order.

    inputs -> faceedit.plan.Planner: every input listed and told photo or video, every output
              named and decided (skip-existing, --overwrite, inputs never written over)
           -> engine.check(jobs): what is known bad before anything runs (a usage error)
           -> engine.schedule(jobs, stop): the planned outputs written, a job's records as it
              is done
           -> one record per output, in input order (:meth:`ApplyRun.run`)

The engines only schedule planned jobs: :class:`LocalEngine` (this process: photos through
:mod:`faceedit.pipeline`'s threads, videos through :mod:`faceedit.video` one at a time) and
:class:`faceedit.ray_engine.RayEngine` (Ray actors, each running a :class:`LocalEngine` on its
share).

Stopping is here alone: Ctrl-C (SIGINT) and SIGTERM are taken for the whole run
(:class:`faceedit.signals.StopSignals`) and become a flag that the engines look at between
their steps. Once it is raised, no new input is started, the photos in progress are finished (a
video in progress is dropped without a file), the records of every input done are given,
:attr:`ApplyRun.interrupted` is set and :attr:`ApplyRun.unfinished` counts the inputs not done.
A second signal is ignored while stopping. While the inputs are being listed (nothing started
yet, stdin may be a terminal) the first signal ends the run at once. Where the signals cannot be
taken (not the main thread, handlers of the caller's own), a KeyboardInterrupt raised into the
iteration stops the run the same way.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Protocol

from faceedit.apply_options import ApplyOptions, CheckedOptions
from faceedit.log import logger
from faceedit.plan import VIDEO, Job, Planner, RecordMaker
from faceedit.signals import StopSignals, signal_name

if TYPE_CHECKING:
    from faceedit.api import Editor
    from faceedit.head_start import HeadStart
    from faceedit.pipeline import PhotoEngine
    from faceedit.video.batch import VideoEngine


class Engine(Protocol):
    """What the driver asks of an engine."""

    #: How the engine stops, for the message logged when a stop is requested.
    stopping: str

    def check(self, jobs: list[Job]) -> None:
        """A UsageError for what is known bad before the run (nothing written yet)."""

    def schedule(self, jobs: list[Job], stop: StopSignals) -> Generator[tuple[Job, list], None, None]:
        """Each job (all of them have outputs to write) with a record per planned output, in any
        order, as it is done; ends early, giving the jobs finished, once ``stop`` is requested."""
        ...

    def stop(self) -> None:
        """Called once a stop is requested, from another thread (the flag is also polled)."""


def opencv_threads(workers: int) -> None:
    """Set OpenCV's threads a call to the cores over ``workers`` (at least 1), unless
    ``OPENCV_FOR_THREADS_NUM`` sets them. The photo engine's workers (and the head start's
    thread) each edit a photo at a time, so OpenCV splitting each call across the cores as well
    only adds its threads' hand-offs (docs/benchmarks.md, issue 57). OpenCV's results do not
    depend on its thread count."""
    if os.environ.get("OPENCV_FOR_THREADS_NUM"):
        return
    import cv2

    cv2.setNumThreads(max(1, (os.cpu_count() or 1) // max(1, workers)))


class ApplyRun:
    """One ``faceedit apply``: iterate :meth:`run` for one record per output, in input order.
    ``planner`` names the outputs, ``engine`` writes them."""

    def __init__(self, planner: Planner, engine: Engine):
        self.planner, self.engine = planner, engine
        self.interrupted = False  # stopped by Ctrl-C, SIGTERM or a KeyboardInterrupt
        self.unfinished = 0  # inputs whose records were not given because of it
        self._stop = StopSignals()

    @classmethod
    def local(cls, editor: Editor, opts: ApplyOptions, *, encode: dict | None = None,
              progress: bool = True, head_start: HeadStart | None = None) -> ApplyRun:
        """A run of ``opts`` in this process with ``editor`` (:class:`LocalEngine`); ``head_start``:
        its first photos decoded and detected while the model loaded (:meth:`load_local`)."""
        planner = Planner(editor, opts)
        engine = LocalEngine(editor, planner.opts, planner.records, encode=encode, progress=progress)
        engine.photos.head_start = head_start
        return cls(planner, engine)

    @classmethod
    def load_local(cls, model: str, opts: ApplyOptions, specs: list[str], *, device: str = "auto",
                   precision: str = "auto", detector: str = "auto", encode: dict | None = None) -> ApplyRun:
        """:meth:`local` with the model ``model`` loaded here, the command's way: the photos of
        ``specs`` decoded and detected from the start, while torch is imported and the model
        loads (:class:`faceedit.head_start.HeadStart`, where that cannot change what is found),
        and the model loaded on one torch thread unless ``OMP_NUM_THREADS`` says otherwise (the
        head start's thread runs meanwhile; torch's default, every core, cost 1.66 s of CPU
        against 0.42 s on one thread in loading RegGAN on 2 cores: its OpenMP threads spin while
        they wait for a core); the run itself keeps torch's own count. OpenCV runs each call on
        one thread where the run's workers already fill the cores (:func:`opencv_threads`)."""
        from faceedit.head_start import HeadStart
        from faceedit.pipeline import DETECT_GROUP, PhotoEngine

        opencv_threads(opts.workers)
        group = max(1, min(DETECT_GROUP, opts.batch_size))
        head = HeadStart.begin(specs, detector, device, max_pixels=opts.max_pixels, recursive=opts.recursive,
                               group=group, keep=PhotoEngine.prefetch_for(opts))
        try:
            import torch

            from faceedit.api import Editor

            threads = torch.get_num_threads()
            if not os.environ.get("OMP_NUM_THREADS"):
                torch.set_num_threads(1)  # loading: see the docstring
            try:
                editor = Editor.from_pretrained(model, device=device, precision=precision, detector=detector)
            finally:
                torch.set_num_threads(threads)
            return cls.local(editor, opts, encode=encode, head_start=head)
        except BaseException:
            if head is not None:
                head.close()
            raise

    @property
    def opts(self) -> CheckedOptions:
        """The run's options, checked against its model (targets canonical and once each)."""
        return self.planner.opts

    @property
    def input_paths(self) -> set[str]:
        """The inputs' real paths, all known once the first record comes."""
        return self.planner.input_paths

    @property
    def stop_signal(self) -> int:
        """The signal that stopped the run (SIGINT where none came: a KeyboardInterrupt)."""
        return self._stop.signum

    def run(self, specs: list[str], stdin=None) -> Generator:
        """Plan ``specs`` (files, folders, globs, ``-``: paths read from ``stdin``), then edit;
        see the module doc for stopping."""
        self.interrupted, self.unfinished = False, 0
        listing = True
        self._stop = StopSignals(raise_while=lambda: listing).take()
        try:
            try:
                jobs = self.planner.plan(specs, stdin)
            except KeyboardInterrupt:
                self.interrupted = True
                return
            listing = False
            self.engine.check(jobs)
            yield from self._schedule(jobs)
        finally:
            self._stop.restore()

    def _schedule(self, jobs: list[Job]) -> Iterator:
        stop = self._stop
        work = [job for job in jobs if job.outputs]
        done: dict[int, list] = {}
        sent = 0  # jobs[:sent] given
        ended = threading.Event()  # the engine is closed (set here, never in a signal handler)

        def announce() -> None:  # once a stop is requested, while the engine runs
            if stop.wait(until=ended):
                logger.warning("interrupted (%s): %s%s", signal_name(stop.signum), self.engine.stopping,
                               " (another Ctrl-C or SIGTERM is ignored)" if stop.sigint_taken else "")
                self.engine.stop()

        watcher = threading.Thread(target=announce, daemon=True, name="faceedit-stop")
        watcher.start()
        results = self.engine.schedule(work, stop) if work else _nothing()
        try:
            while True:
                while sent < len(jobs) and (not jobs[sent].outputs or jobs[sent].pos in done):
                    for rec in [*jobs[sent].records, *done.pop(jobs[sent].pos, [])]:
                        try:
                            yield rec
                        except KeyboardInterrupt:  # where the signals could not be taken
                            stop.request()
                    sent += 1
                if sent == len(jobs):
                    break
                try:
                    job, records = next(results)
                except StopIteration:
                    break
                except KeyboardInterrupt:  # raised in the engine: it is closed, stop now
                    stop.request()
                    break
                done[job.pos] = records
        finally:
            results.close()  # the engine joins its threads (a consumer that stops iterating too)
            ended.set()  # the watcher ends, without announcing a stop that came after the end
            watcher.join()
            self.interrupted = stop.requested
        for job in jobs[sent:]:  # only after a stop: the inputs done, and those decided up front
            if not job.outputs or job.pos in done:
                yield from [*job.records, *done.pop(job.pos, [])]
            else:
                self.unfinished += 1


def _nothing() -> Generator[tuple[Job, list], None, None]:
    yield from ()


class LocalEngine:
    """This process: photos through :class:`faceedit.pipeline.PhotoEngine` (streamed, threads),
    videos through :class:`faceedit.video.batch.VideoEngine` (one at a time, its frames
    streamed), in input order; ``encode``: the videos' encoding (the keywords of
    :class:`faceedit.video.container.EncodeOptions`). The video engine is loaded for the first
    video only: a run of photos does not touch :mod:`faceedit.video`."""

    stopping = "finishing the photos in progress, dropping the rest"

    def __init__(self, editor: Editor, opts: CheckedOptions, records: RecordMaker,
                 encode: dict | None = None, progress: bool = True):
        from faceedit.pipeline import PhotoEngine

        self.editor, self.opts, self.records = editor, opts, records
        self.encode, self.progress = encode, progress
        self.photos: PhotoEngine = PhotoEngine(editor, opts, records)
        self._videos: VideoEngine | None = None

    def videos(self) -> VideoEngine:
        if self._videos is None:
            from faceedit.video.batch import VideoEngine
            from faceedit.video.container import EncodeOptions

            self._videos = VideoEngine(self.editor, self.opts, self.records,
                                       EncodeOptions(**(self.encode or {})), progress=self.progress)
        return self._videos

    def check(self, jobs: list[Job]) -> None:
        if self.photos.head_start is not None:  # planned: the engine takes the photos from here
            self.photos.head_start.stop()
        if any(job.kind == VIDEO and job.outputs for job in jobs):
            from faceedit.video.batch import check_outputs

            check_outputs(jobs, self.videos().encode)

    def stop(self) -> None:
        pass  # the flag is polled between photos and between frames

    def schedule(self, jobs: list[Job], stop: StopSignals) -> Generator[tuple[Job, list], None, None]:
        photos = self.photos.schedule([job for job in jobs if job.kind != VIDEO], stop)
        try:
            for job in jobs:
                if job.kind != VIDEO:
                    done = next(photos, None)  # the photo engine gives its photos in this order
                    if done is None:  # it stopped before this photo
                        return
                    yield done
                elif not stop.requested:  # one video at a time; after a stop, none is started
                    records = self.videos().edit(job, lambda: stop.requested)
                    if records is not None:  # None: stopped, no file written
                        yield job, records
        finally:
            photos.close()
