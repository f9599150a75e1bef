"""The streaming batch engine behind ``faceedit apply``.

inputs -> plan output names (main thread, cheap)
       -> decode + detect + align            (worker threads, bounded prefetch window)
       -> model forward on batches of crops gathered across photos (main thread)
       -> paste-back + atomic encode/write   (worker threads)
       -> one Record per output, yielded in input order

Memory stays flat on a folder of any size: at most ``prefetch`` photos are being prepared, a
batch's worth of faces wait for the model, and at most ``max_pending`` finished photos wait to be
written. A bad input becomes an error record; it never stops the batch and never leaves a file.
"""

from __future__ import annotations

import os
from collections import defaultdict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import numpy as np

from faceedit.api import Editor, crop_landmarks, select_faces
from faceedit.conditions import canonical_target
from faceedit.errors import FaceEditError, NoFaceError, UsageError
from faceedit.faces.types import AlignedFace
from faceedit.io import (
    DEFAULT_MAX_PIXELS,
    InputItem,
    LoadedImage,
    OutputNamer,
    expand_inputs,
    read_image,
    write_image,
)
from faceedit.log import logger

ON_NO_FACE = ("error", "skip", "copy")


@dataclass
class ApplyOptions:
    targets: list[str]
    out_dir: str
    strengths: list[float] = field(default_factory=lambda: [1.0])
    name_template: str = "{stem}_{target}{ext}"
    ext: str | None = None
    quality: int = 95
    overwrite: bool = False
    recursive: bool = False
    batch_size: int = 8
    face: str = "all"
    max_faces: int = 10
    on_no_face: str = "error"
    max_pixels: int = DEFAULT_MAX_PIXELS
    workers: int = 2
    model_options: dict = field(default_factory=dict)
    save_masks: bool = False  # also write the model's intermediate masks (LEGAN) per face

    def validate(self, editor: Editor) -> None:
        if not self.targets:
            raise UsageError("no --target given; valid targets: " + ", ".join(editor.targets()))
        self.targets = [canonical_target(t) for t in self.targets]  # smile -> happy, ...
        for t in self.targets:
            editor.check_target(t)
        for s in self.strengths:
            if not 0.0 <= s <= 1.0:
                raise UsageError(f"--strength {s}: must be between 0 and 1")
        if self.on_no_face not in ON_NO_FACE:
            raise UsageError(f"--on-no-face {self.on_no_face!r}; valid: {', '.join(ON_NO_FACE)}")
        if self.batch_size < 1:
            raise UsageError("--batch-size must be at least 1")
        if self.quality < 1 or self.quality > 100:
            raise UsageError("--quality must be between 1 and 100")
        if self.face not in ("all", "largest") and not self.face.isdigit():
            raise UsageError(f"bad --face {self.face!r}; valid: all, largest, or a face number")
        if self.save_masks and not editor.loaded.model.mask_names:
            raise UsageError(f"--save-masks: model {editor.spec.name} has no intermediate masks "
                             "(LEGAN has expression and lighting masks)")


@dataclass
class Record:
    """The result for one output file (or for an input that produced none)."""

    input: str
    output: str | None
    status: str  # ok | skipped | copied | no_face | error
    target: str | None = None
    strength: float | None = None
    faces: int = 0
    error: str | None = None
    masks: list[str] | None = None  # mask files written beside the output (--save-masks only)

    def to_json(self) -> dict:
        rec = {
            "input": self.input,
            "output": self.output,
            "target": self.target,
            "strength": self.strength,
            "faces": self.faces,
            "status": self.status,
            "error": self.error,
        }
        if self.masks is not None:
            rec["masks"] = self.masks
        return rec


def mask_path(output: str, face: int, name: str) -> str:
    """Where ``--save-masks`` writes face ``face``'s mask ``name`` of ``output``: beside it, as
    ``<output stem>_face<face>_<name>.png`` (crop-sized greyscale or RGB)."""
    root, _ = os.path.splitext(output)
    return f"{root}_face{face}_{name}.png"


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
        self.namer = OutputNamer(opts.out_dir, opts.name_template, opts.ext)
        self.own_strength = editor.loaded.model.handles_strength
        # one forward per target, or per (target, strength) when the model interprets strength
        if self.own_strength:
            self.keys = [(t, s) for t in opts.targets for s in opts.strengths]
        else:
            self.keys = [(t, None) for t in opts.targets]
        self.pending: dict[tuple, list[tuple[_Job, int]]] = defaultdict(list)
        # realpaths, all known before the first output is planned (see _take_inputs)
        self.input_paths: set[str] = set()
        self.earlier_outputs: set[str] = set()  # listed files set aside as earlier outputs
        workers = max(1, opts.workers)
        self.prefetch = max(opts.batch_size * 2, workers * 2)
        self.max_pending = self.prefetch + workers * 2

    # -- stages --------------------------------------------------------------------------
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
                        "another folder (-o)"))
                elif os.path.exists(path) and not self.opts.overwrite:
                    job.records.append(self._rec(job, path, "skipped", target, strength))
                else:
                    job.outputs.append(_Output(target, strength, path))
        return job

    def _prepare(self, job: _Job) -> None:
        """Worker thread: decode, detect, choose faces, align."""
        try:
            job.image = read_image(job.item.path, max_pixels=self.opts.max_pixels)
            faces = self.editor.detector.detect(job.image.rgb8())
            faces = select_faces(faces, self.opts.face, self.opts.max_faces, job.item.path)
            job.aligned = self.editor.align(job.image.pixels, faces)
            self.editor.prepare_masks(job.aligned)
        except NoFaceError as e:
            # --on-no-face skip / copy are carried out in _finish_without_model (aligned == [])
            job.aligned = []
            if self.opts.on_no_face == "error":
                job.error = e
        except FaceEditError as e:
            job.error = e if e.path else type(e)(e.reason, job.item.path)
        except Exception as e:  # a decoder or detector bug must not stop the batch
            logger.debug("unexpected error on %s", job.item.path, exc_info=True)
            job.error = FaceEditError(f"{type(e).__name__}: {e}", job.item.path)

    def _write(self, job: _Job) -> None:
        """Worker thread: paste the edited faces and write every output of one photo."""
        img = job.image
        try:
            for out in job.outputs:
                try:
                    if not job.aligned:  # no face, --on-no-face copy
                        write_image(out.path, img.pixels, img.alpha, like=img,
                                    quality=self.opts.quality, protected=(job.item.path,))
                        job.records.append(self._rec(job, out.path, "copied", out.target, out.strength))
                        continue
                    key = (out.target, out.strength if self.own_strength else None)
                    pixels = img.pixels.copy()
                    for a, crop in zip(job.aligned, job.edited[key]):
                        self.editor.paste(pixels, a, crop, out.strength)
                    # masks first: a failed mask write leaves no output, so a re-run redoes both
                    masks = self._write_masks(job, key, out.path) if self.opts.save_masks else None
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

    # -- helpers -------------------------------------------------------------------------
    def _rec(self, job, output, status, target=None, strength=None, error=None, faces=0) -> Record:
        return Record(job.item.path, output, status, target, strength, faces, error)

    def _finish_without_model(self, job: _Job, writer: ThreadPoolExecutor) -> None:
        if job.error is not None:
            for out in job.outputs or [None]:
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
            writer.submit(self._write, job)

    def _flush(self, key: tuple, writer: ThreadPoolExecutor, limit: int | None = None) -> None:
        queue = self.pending[key]
        take, self.pending[key] = queue[:limit], queue[len(queue[:limit]):]
        if not take:
            return
        target, strength = key
        crops = np.stack([job.aligned[i].crop for job, i in take])
        masks: dict = {}
        try:
            edited = self.editor.edit_crops(
                crops, target, 1.0 if strength is None else strength,
                landmarks=crop_landmarks([job.aligned[i] for job, i in take]),
                with_masks=self.opts.save_masks, **self.opts.model_options
            )
            if self.opts.save_masks:
                edited, masks = edited
        except FaceEditError:
            raise  # usage problems (e.g. a bad model option) concern every input
        except Exception as e:  # e.g. out of GPU memory: fail these photos, keep going
            logger.debug("model forward failed", exc_info=True)
            edited = [None] * len(take)
            for job, _ in take:
                job.failure = f"model forward failed: {type(e).__name__}: {e}"
        for j, ((job, i), e) in enumerate(zip(take, edited)):
            job.edited.setdefault(key, [None] * len(job.aligned))[i] = e
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

    # -- main loop -----------------------------------------------------------------------
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

    def run(self, specs: Iterable[str], stdin=None) -> Iterator[Record]:
        items = iter(self._take_inputs(list(
            expand_inputs(list(specs), recursive=self.opts.recursive, stdin=stdin))))
        workers = max(1, self.opts.workers)
        outbox: deque[_Job] = deque()
        preparing: deque[tuple[_Job, Future | None]] = deque()
        with ThreadPoolExecutor(workers, thread_name_prefix="faceedit-prep") as prep, \
                ThreadPoolExecutor(workers, thread_name_prefix="faceedit-write") as writer:
            exhausted = False
            while True:
                while not exhausted and len(preparing) < self.prefetch:
                    item = next(items, None)
                    if item is None:
                        exhausted = True
                        break
                    job = self._plan(item)
                    needs_work = job.error is None and job.outputs
                    preparing.append((job, prep.submit(self._prepare, job) if needs_work else None))
                    outbox.append(job)
                if not preparing:
                    break
                job, fut = preparing.popleft()
                if fut is not None:
                    fut.result()
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
                while outbox and outbox[0].done.done():
                    yield from outbox.popleft().records
            self._flush_all(writer)
            while outbox:
                job = outbox.popleft()
                job.done.result()
                yield from job.records
