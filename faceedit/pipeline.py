"""The streaming batch engine behind ``faceedit apply``.

inputs -> plan output names (main thread, cheap)
       -> decode + detect, then the flow's per-photo half: select, align once, stage
                                            (worker threads, photos in groups: batched
                                             detection; bounded prefetch window)
       -> the flow's batch half: the network on crops gathered across photos (main thread)
       -> paste-back + atomic encode/write   (worker threads)
       -> one Record per output, yielded in input order

The editing steps are :mod:`faceedit.flow`'s, the same :meth:`faceedit.api.Editor.edit` and the
Ray actors run; this module schedules them.

Memory stays flat on a folder of any size: at most ``prefetch`` photos are being prepared, a
batch's worth of faces wait for the model, and at most ``max_pending`` finished photos wait to be
written. A bad input becomes an error record; it never stops the batch and never leaves a file.
"""

from __future__ import annotations

import os
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from faceedit.apply_options import ApplyOptions, Record, mask_path
from faceedit.errors import FaceEditError, NoFaceError
from faceedit.faces.types import AlignedFace
from faceedit.io.decode import LoadedImage, read_image
from faceedit.io.encode import write_image
from faceedit.io.inputs import InputItem, expand_inputs
from faceedit.io.naming import OutputNamer
from faceedit.log import logger, mark, timed
from faceedit.signals import StopSignals, signal_name

if TYPE_CHECKING:
    from faceedit.api import Editor

# faceedit.flow (torch) is imported where it is used: a command that stops at a usage error
# (ApplyOptions.check) never imports torch (2-3 s of a command's start).

#: Photos one worker decodes and detects together: the detector runs each of its networks once
#: over all of them (``detect_batch``), which on a CPU is ~1.5x the throughput of one by one.
DETECT_GROUP = 8


def _changed_patch(before: np.ndarray, after: np.ndarray):
    """The bounding box of the pixels ``after`` changed and their values there, or None: a
    waiting photo keeps one face-sized patch per output, not a full-size copy."""
    h, w = before.shape[:2]
    changed = (before != after).reshape(h, -1)  # (H, W*C): both reductions run along rows
    rows = np.flatnonzero(changed.any(1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(changed[rows[0]:rows[-1] + 1].any(0).reshape(w, -1).any(1))
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    return (y0, y1, x0, x1), after[y0:y1, x0:x1].copy()


@dataclass
class _Output:
    target: str
    strength: float
    path: str


@dataclass
class _Job:
    item: InputItem
    outputs: list[_Output] = field(default_factory=list)  # outputs still to write
    records: list[Record] = field(default_factory=list)  # already decided (skipped, name errors)
    image: LoadedImage | None = None
    aligned: list[AlignedFace] = field(default_factory=list)
    error: FaceEditError | None = None
    edited: dict = field(default_factory=dict)  # key -> list of per-face edited crops
    # key -> (the stage's change as a patch, see _changed_patch; the faces re-cut after it)
    staged: dict = field(default_factory=dict)
    masks: dict = field(default_factory=dict)  # key -> list of per-face {name: mask} (--save-masks)
    remaining: int = 0
    failure: str | None = None  # the model forward failed on a batch holding this photo's faces
    done: Future = field(default_factory=Future)


class BatchApplier:
    """Runs one ``apply`` over a stream of inputs; iterate :meth:`run` for records."""

    def __init__(self, editor: Editor, opts: ApplyOptions):
        opts.validate(editor)
        self.editor = editor
        self.opts = opts
        # validate() has bound the template (the default one where none was given)
        self.namer = OutputNamer(opts.out_dir, opts.name_template or opts.default_name_template(),
                                 opts.ext)
        # the stage scales its edit by strength, so each strength is its own edit
        self.own_strength = editor.stage is not None or editor.loaded.model.handles_strength
        # one forward per target, or per (target, strength) when the model interprets strength
        self.keys: list[tuple[str, float | None]]
        if self.own_strength:
            self.keys = [(t, s) for t in opts.targets for s in opts.strengths]
        else:
            self.keys = [(t, None) for t in opts.targets]
        self.pending: dict[tuple, list[tuple[_Job, int]]] = defaultdict(list)
        # realpaths, all known before the first output is planned (see _take_inputs)
        self.input_paths: set[str] = set()
        self.earlier_outputs: set[str] = set()  # listed files set aside as earlier outputs
        workers = max(1, opts.workers)
        # photos decoded and detected together by one worker (batched detection)
        self.group = max(1, min(DETECT_GROUP, opts.batch_size))
        self.prefetch = max(opts.batch_size * 2, workers * 2, self.group * workers)
        self.max_pending = self.prefetch + workers * 2
        self._stop = StopSignals()  # this run's stop request (a new one per run)
        self._listing = False
        self.interrupted = False  # stopped by Ctrl-C, SIGTERM or stop()
        self.unfinished = 0  # inputs whose records were not yielded because of it

    # -- entry points (the engine schedules; the steps below run the flow, in the data's order) ---
    def run(self, specs: Iterable[str], stdin=None) -> Iterator[Record]:
        """Yield one :class:`Record` per output, in input order.

        Ctrl-C (SIGINT) stops the run cleanly instead of raising: no new input is taken, the
        queued photos are dropped, the photos being decoded/detected and the writes under way
        (one per worker thread at most) are finished, every worker thread is joined (so no
        torch or dlib thread is left running when the interpreter exits, and no temporary
        file is left behind), then the records of every photo finished are yielded and the
        iteration ends with :attr:`interrupted` set and :attr:`unfinished` the number of
        inputs not done. A second Ctrl-C while stopping is ignored: stopping waits for at most
        one photo per worker. This holds where :meth:`run` is iterated in the main thread with
        Python's default SIGINT handler in place (it takes SIGINT over for the iteration and
        puts the handler back at the end); elsewhere a KeyboardInterrupt raised in the
        iteration is handled the same way, once.
        """

        def start() -> tuple[int, Iterator[_Job]]:
            taken = self._take_inputs(list(
                expand_inputs(list(specs), recursive=self.opts.recursive, stdin=stdin)))
            return len(taken), (self._plan(item) for item in taken)  # planned as they are taken

        return self._run(start)

    def plan(self, specs: Iterable[str], stdin=None) -> list[_Job]:
        """What :meth:`run` decides before it edits, for every input at once: the inputs listed
        (``specs`` and ``stdin`` as for :meth:`run`), earlier outputs set aside, and each input's
        outputs named (collisions, ``{index}``, skip-existing, ``--overwrite``, inputs never
        overwritten). One job per input, in input order: ``job.records`` holds the records
        decided without editing (skipped outputs, name errors, the input's own error) and
        ``job.outputs`` the outputs still to write (``target``, ``strength``, ``path``), for
        :meth:`run_planned` of this applier or of another one with the same options (the Ray
        engine's workers). :meth:`run` yields, per input, ``job.records`` then one record per
        output in ``job.outputs``."""
        taken = self._take_inputs(list(
            expand_inputs(list(specs), recursive=self.opts.recursive, stdin=stdin)))
        jobs = [self._plan(item) for item in taken]
        for job in jobs:
            if job.error is not None:
                self._finish_without_model(job, None)  # its error record (writes nothing)
        return jobs

    def run_planned(self, planned: Iterable[tuple[InputItem, list[tuple[str, float, str]]]]
                    ) -> Iterator[Record]:
        """Edit and write outputs named by :meth:`plan`: for each ``(input, [(target, strength,
        output path), ...])``, one record per output, in that order, as :meth:`run` gives them
        after the input's planned records. The paths are taken as they are: :meth:`plan` did
        the naming and the skip and overwrite checks. Ctrl-C as in :meth:`run`."""
        jobs = [(item, [_Output(t, s, p) for t, s, p in outputs]) for item, outputs in planned]
        return self._run(lambda: (len(jobs), (_Job(item=item, outputs=outputs)
                                              for item, outputs in jobs)))

    def stop(self) -> None:
        """Stop the run in progress (iterated in another thread) as Ctrl-C does: the photos in
        progress are finished, the rest dropped, :attr:`interrupted` is set."""
        self._stop.request()

    def fail(self, job: _Job, reason: str) -> list[Record]:
        """An error record for each output of a planned ``job`` (from :meth:`plan`) that an
        engine could not edit (a Ray worker that died), with ``reason``."""
        return [self._rec(job, None, "error", out.target, out.strength, reason) for out in job.outputs]

    @property
    def stop_signal(self) -> int:
        """The signal that stopped the run (SIGINT where none came: Ctrl-C as an exception)."""
        return self._stop.signum

    # -- scheduling ----------------------------------------------------------------------------
    def _run(self, start) -> Iterator[Record]:
        """:meth:`run` on the jobs of ``start()``: (number of inputs, their jobs in input order,
        each planned when the stream takes it)."""
        self.interrupted = False
        self.unfinished = 0
        self._listing = True  # Ctrl-C raises KeyboardInterrupt while the inputs are listed
        self._stop = StopSignals(raise_while=lambda: self._listing).take()
        prep = writer = None
        try:
            try:
                total, jobs = start()
            except KeyboardInterrupt:  # while listing the inputs (or reading them from stdin)
                self.interrupted = True
                return
            self._listing = False
            workers = max(1, self.opts.workers)
            outbox: deque[_Job] = deque()
            prep = ThreadPoolExecutor(workers, thread_name_prefix="faceedit-prep")
            writer = ThreadPoolExecutor(workers, thread_name_prefix="faceedit-write")
            finished = sent = 0
            job = None
            try:
                for job in self._stream(jobs, prep, writer, outbox):
                    for sent in range(1, len(job.records) + 1):
                        yield job.records[sent - 1]
                    finished += 1
                    job, sent = None, 0
            except KeyboardInterrupt:  # SIGINT not taken over (see the docstring)
                self._stop.request()
            if not self._stop.requested:
                return
            self.interrupted = True
            logger.warning("interrupted (%s): finishing the photos in progress, dropping the rest%s",
                           signal_name(self._stop.signum),
                           " (another Ctrl-C or SIGTERM is ignored)" if self._stop.sigint_taken else "")
            _stop_executors(prep, writer)
            self.pending.clear()
            if job is not None:  # the rest of the photo whose records were being yielded
                yield from job.records[sent:]
                finished += 1
            for job in outbox:  # in input order; a photo whose write was dropped is not done
                if job.done.done():
                    finished += 1
                    yield from job.records
            self.unfinished = total - finished
        finally:
            if prep is not None:  # an error, or the consumer stopped iterating: join them too
                _stop_executors(prep, writer)
            self._stop.restore()

    def _stream(self, jobs: Iterator[_Job], prep: ThreadPoolExecutor,
                writer: ThreadPoolExecutor, outbox: deque[_Job]) -> Iterator[_Job]:
        """The jobs of :meth:`run` as they are done, in input order; returns early when
        a stop is requested (leaving in ``outbox`` the jobs planned but not yielded)."""
        preparing: deque[list] = deque()  # [job, its group's Future or None], input order
        group: list[list] = []

        def submit() -> None:
            fut = prep.submit(self._prepare_group, [entry[0] for entry in group])
            for entry in group:
                entry[1] = fut
            group.clear()

        exhausted = False
        while not self._stop.requested:
            # refill a group at a time, so that the detector sees several photos at once
            if len(preparing) <= self.prefetch - self.group:
                while not exhausted and len(preparing) < self.prefetch:
                    job = next(jobs, None)
                    if job is None:
                        exhausted = True
                        break
                    entry = [job, None]
                    preparing.append(entry)
                    outbox.append(job)
                    if job.error is None and job.outputs:
                        group.append(entry)
                        if len(group) >= self.group:
                            submit()
                if group:
                    submit()
            if not preparing:
                break
            job, fut = preparing.popleft()
            if fut is not None:
                fut.result()
            if self._stop.requested:
                return
            if job.error is not None or not job.outputs or not job.aligned:
                self._finish_without_model(job, writer)
            else:
                job.remaining = len(job.aligned) * len(self.keys)
                for key in self.keys:
                    self.pending[key].extend((job, i) for i in range(len(job.aligned)))
                    while len(self.pending[key]) >= self.opts.batch_size:
                        self._flush(key, writer, self.opts.batch_size)
            if len(outbox) > self.max_pending and not outbox[0].done.done():
                self._flush_all(writer)
                outbox[0].done.result()
            while outbox and outbox[0].done.done() and not self._stop.requested:
                yield outbox.popleft()
        if self._stop.requested:
            return
        self._flush_all(writer)
        while outbox and not self._stop.requested:
            outbox[0].done.result()
            yield outbox.popleft()

    # -- records -------------------------------------------------------------------------------
    def _rec(self, job, output, status, target=None, strength=None, error=None, faces=None) -> Record:
        if faces is None and (status in ("copied", "no_face") or isinstance(job.error, NoFaceError)):
            faces = 0  # looked for, none found
        return Record(job.item.path, output, status, target, strength, faces, error,
                      model=self.editor.spec.name, **self.opts.request.record_fields())

    # -- inputs: list them, name the outputs ---------------------------------------------------
    def _take_inputs(self, items: list[InputItem]) -> list[InputItem]:
        """Learn every input before the first output is planned, so no output replaces an input
        met later; return the inputs to edit.

        A file found by listing a folder or matching a glob (not one named explicitly) whose path
        is this run's output path for *another* input (same template, targets and strengths) is
        taken as an earlier output of that input, as when the output folder is the input
        folder: it is not edited (logged at -v), so a second run does not edit its own outputs
        (``john_happy_happy.jpg``). It may also be an original photo that happens to bear that
        name, so it is never replaced: without ``--overwrite`` its input is skipped (the output
        exists), with ``--overwrite`` that output is an error. Any other input file is never an
        output, with or without ``--overwrite``.
        """
        real = {id(it): os.path.realpath(it.path) for it in items if it.error is None}
        makers: dict[str, list[InputItem]] = defaultdict(list)  # output realpath -> its inputs
        for it in items:
            if it.error is None:
                for target in self.opts.targets:
                    for strength in self.opts.strengths:
                        path = self.namer.predict(it, target, strength)
                        if path is not None:
                            makers[os.path.realpath(path)].append(it)
        taken = []
        for it in items:
            if it.error is None:
                others = [m for m in makers.get(real[id(it)], ()) if real[id(m)] != real[id(it)]]
                if it.listed and others:
                    self.earlier_outputs.add(real[id(it)])
                    logger.debug("%s: not edited: it bears the output name of %s (an earlier "
                                 "output?)", it.path, others[0].path)
                    continue
                self.input_paths.add(real[id(it)])
            taken.append(it)
        return taken

    def _plan(self, item: InputItem) -> _Job:
        job = _Job(item=item)
        if item.error:
            job.error = FaceEditError(item.error, item.path)
            return job
        for target in self.opts.targets:
            for strength in self.opts.strengths:
                try:
                    path = self.namer.path_for(item, target, strength)
                except FaceEditError as e:
                    job.records.append(self._rec(job, None, "error", target, strength, e.reason))
                    continue
                real = os.path.realpath(path)
                if real in self.input_paths:
                    job.records.append(self._rec(job, None, "error", target, strength,
                                                 f"refusing to overwrite an input file: {path}"))
                elif real in self.earlier_outputs and self.opts.overwrite and os.path.exists(path):
                    job.records.append(self._rec(
                        job, None, "error", target, strength,
                        f"refusing to overwrite {path}: it is a file of an input folder, maybe an "
                        "original photo rather than an earlier output; delete it or write to "
                        "another folder (`out_dir`)"))
                elif os.path.exists(path) and not self.opts.overwrite:
                    job.records.append(self._rec(job, path, "skipped", target, strength))
                else:
                    job.outputs.append(_Output(target, strength, path))
        return job

    # -- decode, detect, select, align, stage (worker threads) ---------------------------------
    def _prepare_group(self, jobs: list[_Job]) -> None:
        """Worker thread: decode, detect, then :meth:`_prepare_faces`, on a group of photos,
        detected in one batched call where the detector can (``detect_batch``: each network
        runs once over every photo of the group). A photo that fails fails alone."""
        decoded: list[tuple[_Job, LoadedImage]] = []
        for job in jobs:
            try:
                with timed("decode"):
                    job.image = read_image(job.item.path, max_pixels=self.opts.max_pixels)
                decoded.append((job, job.image))
            except Exception as e:
                self._prepare_failed(job, e)
        if not decoded:
            return
        detector = self.editor.detector
        found: list = [None] * len(decoded)
        if len(decoded) > 1 and hasattr(detector, "detect_batch"):
            try:
                with timed("detect"):
                    found = detector.detect_batch([image.rgb8() for _, image in decoded])
            except Exception:  # one bad photo: find it by detecting them one by one below
                logger.debug("batched detection failed; detecting one by one", exc_info=True)
                found = [None] * len(decoded)
        for (job, image), faces in zip(decoded, found):
            try:
                if faces is None:
                    with timed("detect"):
                        faces = detector.detect(image.rgb8())
                self._prepare_faces(job, image, faces)
            except Exception as e:
                self._prepare_failed(job, e)

    def _prepare_faces(self, job: _Job, image: LoadedImage, faces: list) -> None:
        """The flow's per-photo half on one decoded photo (``job.image``): choose the faces,
        align them once, and stage them once per target and strength (full-resolution
        geometry, mouth, shading)."""
        from faceedit.flow import align_faces, select_faces, stage_faces

        if faces:
            mark("first face")
        faces = select_faces(faces, self.opts.face, self.opts.max_faces, job.item.path)
        job.aligned = align_faces(self.editor, image.pixels, faces)
        if self.editor.stage is not None:
            for target, strength in self.keys:
                assert strength is not None  # with a stage, each strength is its own key
                photo = stage_faces(self.editor, image.pixels, job.aligned,
                                    self.opts.request_for(target, strength))
                job.staged[(target, strength)] = (_changed_patch(image.pixels, photo.pixels),
                                                  photo.faces)

    def _prepare_failed(self, job: _Job, e: Exception) -> None:
        """What an exception while preparing ``job`` means for it."""
        if isinstance(e, NoFaceError):
            # --on-no-face skip / copy are carried out in _finish_without_model (aligned == [])
            job.aligned = []
            if self.opts.on_no_face == "error":
                job.error = e
        elif isinstance(e, FaceEditError):
            job.error = e if e.path else type(e)(e.reason, job.item.path)
        else:  # a decoder or detector bug must not stop the batch
            logger.debug("unexpected error on %s", job.item.path, exc_info=True)
            job.error = FaceEditError(f"{type(e).__name__}: {e}", job.item.path)

    # -- network (main thread: batches of crops across photos) ---------------------------------
    def _flush(self, key: tuple, writer: ThreadPoolExecutor, limit: int | None = None) -> None:
        """The flow's batch half: the network on the waiting faces of ``key`` (up to ``limit``,
        from any number of photos) in one forward; a photo whose faces are all edited goes to
        be written."""
        from faceedit.flow import run_network

        queue = self.pending[key]
        take, self.pending[key] = queue[:limit], queue[len(queue[:limit]):]
        if not take:
            return
        target, strength = key
        faces = [job.staged[key][1][i] if key in job.staged else job.aligned[i] for job, i in take]
        masks: dict = {}
        try:
            edited = run_network(self.editor, faces,
                                 self.opts.request_for(target, 1.0 if strength is None else strength),
                                 with_masks=self.opts.save_masks)
            if self.opts.save_masks:
                edited, masks = edited
        except FaceEditError:
            raise  # usage problems (e.g. a bad model option) concern every input
        except Exception as e:  # e.g. out of GPU memory: fail these photos, keep going
            logger.debug("model forward failed", exc_info=True)
            edited = [None] * len(take)
            for job, _ in take:
                job.failure = f"model forward failed: {type(e).__name__}: {e}"
        for j, ((job, i), crop) in enumerate(zip(take, edited)):
            job.edited.setdefault(key, [None] * len(job.aligned))[i] = crop
            if masks:
                job.masks.setdefault(key, [None] * len(job.aligned))[i] = {k: m[j] for k, m in masks.items()}
            job.remaining -= 1
            if job.remaining == 0:
                if job.failure:
                    job.error = FaceEditError(job.failure, job.item.path)
                    self._finish_without_model(job, writer)
                else:
                    writer.submit(self._write, job)

    def _flush_all(self, writer: ThreadPoolExecutor) -> None:
        for key in list(self.pending):
            while self.pending[key]:
                self._flush(key, writer, self.opts.batch_size)

    # -- paste back, encode (worker threads) ---------------------------------------------------
    def _finish_without_model(self, job: _Job, writer: ThreadPoolExecutor | None) -> None:
        """Records for a photo that the network does not edit: its error, no output to write,
        or no face found (``--on-no-face skip``; ``copy`` goes to ``writer``)."""
        if job.error is not None:
            outs: list[_Output | None] = [*job.outputs] or [None]
            for out in outs:
                job.records.append(
                    self._rec(job, None, "error", out and out.target, out and out.strength,
                              job.error.reason)
                )
            job.outputs, job.image, job.aligned, job.edited = [], None, [], {}
            job.done.set_result(None)
        elif not job.outputs:
            job.done.set_result(None)
        elif not job.aligned and self.opts.on_no_face == "skip":
            for out in job.outputs:
                job.records.append(self._rec(job, None, "no_face", out.target, out.strength,
                                             "no face found"))
            job.done.set_result(None)
        else:  # copy
            assert writer is not None, "an input to copy needs the writer threads"
            writer.submit(self._write, job)

    def _write(self, job: _Job) -> None:
        """Worker thread: paste the edited faces back and encode every output of one photo."""
        from faceedit.flow import paste_faces

        img = job.image
        try:
            assert img is not None, "a photo is written once decoded"
            for out in job.outputs:
                try:
                    if not job.aligned:  # no face, --on-no-face copy
                        with timed("encode"):
                            write_image(out.path, img.pixels, img.alpha, like=img,
                                        quality=self.opts.quality, protected=(job.item.path,))
                        job.records.append(self._rec(job, out.path, "copied", out.target, out.strength))
                        continue
                    key = (out.target, out.strength if self.own_strength else None)
                    patch, aligned = job.staged.get(key, (None, job.aligned))
                    pixels = img.pixels.copy()
                    if patch is not None:  # the stage's change
                        (y0, y1, x0, x1), values = patch
                        pixels[y0:y1, x0:x1] = values
                    paste_faces(self.editor, pixels, aligned, job.edited[key], out.strength)
                    # masks first: a failed mask write leaves no output, so a re-run redoes both
                    masks = self._write_masks(job, key, out.path) if self.opts.save_masks else None
                    with timed("encode"):
                        write_image(out.path, pixels, img.alpha, like=img,
                                    quality=self.opts.quality, protected=(job.item.path,))
                    rec = self._rec(job, out.path, "ok", out.target, out.strength, faces=len(job.aligned))
                    rec.masks = masks
                    job.records.append(rec)
                except FaceEditError as e:
                    job.records.append(self._rec(job, out.path, "error", out.target, out.strength,
                                                 e.reason))
                except Exception as e:
                    logger.debug("unexpected error writing %s", out.path, exc_info=True)
                    job.records.append(self._rec(job, out.path, "error", out.target, out.strength,
                                                 f"{type(e).__name__}: {e}"))
        finally:
            job.image = None
            job.aligned = []
            job.edited = {}
            job.staged = {}
            job.masks = {}
            job.done.set_result(None)

    def _write_masks(self, job: _Job, key: tuple, output: str) -> list[str]:
        paths = []
        for i, masks in enumerate(job.masks[key]):
            for name, m in masks.items():
                path = mask_path(output, i, name)
                m8 = np.clip(np.rint(m), 0, 255).astype(np.uint8)
                write_image(path, np.repeat(m8, 3, axis=2) if m8.shape[2] == 1 else m8,
                            protected=(job.item.path,))
                paths.append(path)
        return paths


def _stop_executors(*executors: ThreadPoolExecutor | None) -> None:
    """Cancel the tasks not started and join every thread of ``executors`` (the tasks under
    way run to their end: a photo's write completes or leaves no file); None: not started."""
    started = [ex for ex in executors if ex is not None]
    for ex in started:
        ex.shutdown(wait=False, cancel_futures=True)
    for ex in started:
        ex.shutdown(wait=True)
