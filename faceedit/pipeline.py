"""The photo engine of ``faceedit apply``: the outputs planned for photos (:mod:`faceedit.plan`)
edited and written, streamed.

planned photo jobs, in input order
       -> decode + detect, then the flow's per-photo half: select, align once, stage
                                            (worker threads, photos in groups: batched
                                             detection; bounded prefetch window)
       -> the flow's batch half: the network on crops gathered across photos (main thread)
       -> paste-back + atomic encode/write   (worker threads)
       -> each photo's records (one per planned output), in input order

``faceedit apply`` on the CPU has its first photos decoded and detected while torch is imported
and the model loads (:mod:`faceedit.head_start`); the workers take those results
(:attr:`PhotoEngine.head_start`) instead of redoing them.

The editing steps are :mod:`faceedit.flow`'s, the same
:meth:`faceedit.api.Editor.edit` runs; this module schedules them. The run driver
(:mod:`faceedit.run`) plans the outputs, takes the stop signals and reports; the Ray actors
(:mod:`faceedit.ray_engine`) run this engine on their share of the photos.

Memory stays flat on a folder of any size: at most ``prefetch`` photos are being prepared, a
batch's worth of faces wait for the model, and at most ``max_pending`` finished photos wait to be
written. A bad input becomes an error record; it never stops the batch and never leaves a file.
"""

from __future__ import annotations

import os
from collections import defaultdict, deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from faceedit.apply_options import ApplyOptions, CheckedOptions, Record, mask_path
from faceedit.errors import FaceEditError, NoFaceError, OutputError
from faceedit.faces.types import AlignedFace
from faceedit.head_start import HeadStart
from faceedit.io.decode import LoadedImage, read_image
from faceedit.io.encode import write_image, write_unedited
from faceedit.log import logger, mark, timed
from faceedit.plan import Job, PlannedOutput, RecordMaker
from faceedit.signals import StopSignals

if TYPE_CHECKING:
    from faceedit.api import Editor

# faceedit.flow (torch) is imported where it is used: a command that stops at a usage error
# (ApplyOptions.check) never imports torch (2-3 s of a command's start).

#: Photos one worker decodes and detects together: the detector runs each of its networks once
#: over all of them (``detect_batch``), which on a CPU is ~1.5x the throughput of one by one.
DETECT_GROUP = 8


def _row_words(pixels: np.ndarray) -> np.ndarray:
    """``pixels``' rows as (H, n) of the widest unsigned words (8, 4, 2 or 1 bytes) that a row's
    bytes divide into: two photos' rows differ where their words do, in an eighth of the
    comparisons of their elements (a photo's rows: H x W x C bytes of uint8)."""
    rows = np.ascontiguousarray(pixels).reshape(pixels.shape[0], -1)
    size = rows.shape[1] * rows.itemsize
    word = next(k for k in (8, 4, 2, 1) if size % k == 0)
    return rows.view(f"u{word}")


def _changed_patch(before: np.ndarray, after: np.ndarray):
    """The bounding box of the pixels ``after`` changed and their values there, or None: a
    waiting photo keeps one face-sized patch per output, not a full-size copy."""
    w = before.shape[1]
    rows = np.flatnonzero((_row_words(before) != _row_words(after)).any(1))
    if rows.size == 0:
        return None
    # the columns over the changed rows alone, element by element
    changed = (before[rows[0]:rows[-1] + 1] != after[rows[0]:rows[-1] + 1]).reshape(rows[-1] + 1 - rows[0], -1)
    cols = np.flatnonzero(changed.any(0).reshape(w, -1).any(1))
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    return (y0, y1, x0, x1), after[y0:y1, x0:x1].copy()


@dataclass
class _Photo:
    """A planned photo job (:class:`faceedit.plan.Job`) while the engine has it."""

    job: Job
    records: list[Record] = field(default_factory=list)  # one per planned output, once done
    image: LoadedImage | None = None
    aligned: list[AlignedFace] = field(default_factory=list)
    found: int | None = None  # faces the detector found (None: not looked for)
    numbers: list[int] = field(default_factory=list)  # each aligned face's number (`face` N)
    declined: list[dict] = field(default_factory=list)  # the faces left as they are (Record.declined)
    # key -> {aligned face index: reason}: faces whose planned move that output leaves undone
    move_declined: dict = field(default_factory=dict)
    read: list[dict] = field(default_factory=list)  # each chosen face's reading (Record.read)
    error: FaceEditError | None = None
    edited: dict = field(default_factory=dict)  # key -> list of per-face edited crops
    # key -> (the stage's change as a patch, see _changed_patch; the faces re-cut after it)
    prepared: dict = field(default_factory=dict)
    masks: dict = field(default_factory=dict)  # key -> list of per-face {name: mask} (--save-masks)
    remaining: int = 0
    failure: str | None = None  # the model forward failed on a batch holding this photo's faces
    done: Future = field(default_factory=Future)

    @property
    def path(self) -> str:
        return self.job.item.path

    @property
    def outputs(self) -> list[PlannedOutput]:
        return self.job.outputs


class PhotoEngine:
    """Edits and writes the outputs planned for photos (:mod:`faceedit.plan`) with ``editor``
    under ``opts`` (checked: :attr:`faceedit.plan.Planner.opts`); ``records`` makes the records. :meth:`schedule` is the engine."""

    def __init__(self, editor: Editor, opts: CheckedOptions, records: RecordMaker):
        self.editor = editor
        self.opts = opts
        self.records = records
        # the stage scales its edit by strength, so each strength is its own edit
        self.own_strength = editor.stage is not None or editor.loaded.model.handles_strength
        # one forward per target, or per (target, strength) when the model interprets strength
        self.keys: list[tuple[str, float | None]]
        if self.own_strength:
            self.keys = [(t, s) for t in opts.targets for s in opts.strengths]
        else:
            self.keys = [(t, None) for t in opts.targets]
        self.pending: dict[tuple, list[tuple[_Photo, int]]] = defaultdict(list)
        workers = max(1, opts.workers)
        # photos decoded and detected together by one worker (batched detection)
        self.group = max(1, min(DETECT_GROUP, opts.batch_size))
        self.prefetch = self.prefetch_for(opts)
        self.max_pending = self.prefetch + workers * 2
        self.reader = _face_reader(editor, opts)  # None: outputs are not measured
        #: the first photos decoded and detected while the model loaded (:mod:`faceedit.head_start`)
        self.head_start: HeadStart | None = None

    @staticmethod
    def prefetch_for(opts: ApplyOptions) -> int:
        """The photos at most being decoded, detected and staged at once under ``opts``."""
        workers = max(1, opts.workers)
        return max(opts.batch_size * 2, workers * 2, max(1, min(DETECT_GROUP, opts.batch_size)) * workers)

    # -- scheduling (the steps below run the flow, in the data's order) ------------------------
    def schedule(self, jobs: Iterable[Job], stop: StopSignals) -> Generator[tuple[Job, list[Record]], None, None]:
        """Each job with one record per planned output, in input order, as it is done. Once
        ``stop`` is requested no new photo is started, the queued ones are dropped, the photos
        being decoded/detected and the writes under way (one per worker thread at most) are
        finished and given, and the iteration ends. Every worker thread is joined before it
        returns (so no torch or dlib thread is left running when the interpreter exits, and no
        temporary file is left behind), also where the caller stops iterating."""
        workers = max(1, self.opts.workers)
        outbox: deque[_Photo] = deque()
        prep = ThreadPoolExecutor(workers, thread_name_prefix="faceedit-prep")
        writer = ThreadPoolExecutor(workers, thread_name_prefix="faceedit-write")
        if self.head_start is not None:
            self.head_start.stop()  # the photos it has not taken are the workers'
        try:
            for photo in self._stream((_Photo(job) for job in jobs), prep, writer, outbox, stop):
                yield photo.job, photo.records
            if stop.requested:
                _stop_executors(prep, writer)
                self.pending.clear()
                for photo in outbox:  # in input order; a photo whose write was dropped is not done
                    if photo.done.done():
                        yield photo.job, photo.records
        finally:
            _stop_executors(prep, writer)
            self.pending.clear()
            if self.head_start is not None:
                self.head_start.close()
                self.head_start = None

    def _stream(self, photos: Iterator[_Photo], prep: ThreadPoolExecutor, writer: ThreadPoolExecutor,
                outbox: deque[_Photo], stop: StopSignals) -> Iterator[_Photo]:
        """The photos as they are done, in input order; returns early when a stop is requested
        (leaving in ``outbox`` the photos taken but not given)."""
        preparing: deque[list] = deque()  # [photo, its group's Future], input order
        group: list[list] = []

        def submit() -> None:
            fut = prep.submit(self._prepare_group, [entry[0] for entry in group])
            for entry in group:
                entry[1] = fut
            group.clear()

        exhausted = False
        while not stop.requested:
            # refill a group at a time, so that the detector sees several photos at once
            if len(preparing) <= self.prefetch - self.group:
                while not exhausted and len(preparing) < self.prefetch:
                    photo = next(photos, None)
                    if photo is None:
                        exhausted = True
                        break
                    entry = [photo, None]
                    preparing.append(entry)
                    outbox.append(photo)
                    group.append(entry)
                    if len(group) >= self.group:
                        submit()
                if group:
                    submit()
            if not preparing:
                break
            photo, fut = preparing.popleft()
            fut.result()
            if stop.requested:
                return
            if photo.error is not None or not photo.aligned:
                self._finish_without_model(photo, writer)
            else:
                photo.remaining = sum(len(photo.aligned) - len(photo.move_declined.get(key, ())) for key in self.keys)
                if photo.remaining == 0:  # every face's move declined for every output
                    writer.submit(self._write, photo)
                for key in self.keys:
                    skip = photo.move_declined.get(key, {})
                    self.pending[key].extend((photo, i) for i in range(len(photo.aligned)) if i not in skip)
                    while len(self.pending[key]) >= self.opts.batch_size:
                        self._flush(key, writer, self.opts.batch_size)
            if len(outbox) > self.max_pending and not outbox[0].done.done():
                self._flush_all(writer)
                outbox[0].done.result()
            while outbox and outbox[0].done.done() and not stop.requested:
                yield outbox.popleft()
        if stop.requested:
            return
        self._flush_all(writer)
        while outbox and not stop.requested:
            outbox[0].done.result()
            yield outbox.popleft()

    # -- records -------------------------------------------------------------------------------
    def _rec(self, photo: _Photo, output, status, target=None, strength=None, error=None) -> Record:
        faces = photo.found  # the faces found, whichever were edited (None: not looked for)
        if faces is None and (status in ("copied", "no_face") or isinstance(photo.error, NoFaceError)):
            faces = 0  # looked for, none found
        rec = self.records(photo.path, output, status, target, strength, faces, error)
        moved = photo.move_declined.get((target, strength if self.own_strength else None), {})
        declined = photo.declined + [{"face": photo.numbers[i], "declined": why} for i, why in moved.items()]
        rec.declined, rec.read = declined or None, photo.read or None
        return rec

    # -- decode, detect, select, align, stage (worker threads) ---------------------------------
    def _prepare_group(self, jobs: list[_Photo]) -> None:
        """Worker thread: decode, detect, then :meth:`_prepare_faces`, on a group of photos,
        detected in one batched call where the detector can (``detect_batch``: each network
        runs once over every photo of the group), except what :attr:`head_start` has done. A
        photo that fails fails alone."""
        decoded: list[tuple[_Photo, LoadedImage]] = []
        found: list = []  # per decoded photo: its faces, None where not yet detected
        for photo in jobs:
            early = self.head_start.take(photo.path, self.editor.detector) if self.head_start is not None else None
            try:
                if early is not None and early.error is not None:
                    raise early.error
                if early is not None and early.image is not None:
                    photo.image = early.image
                else:
                    with timed("decode"):
                        photo.image = read_image(photo.path, max_pixels=self.opts.max_pixels)
                decoded.append((photo, photo.image))
                found.append(early.faces if early is not None else None)
            except Exception as e:
                self._prepare_failed(photo, e)
        if not decoded:
            return
        detector = self.editor.detector
        todo = [k for k, faces in enumerate(found) if faces is None]
        if len(todo) > 1 and hasattr(detector, "detect_batch"):
            try:
                with timed("detect"):
                    batch = detector.detect_batch([decoded[k][1].rgb8() for k in todo])
                for k, faces in zip(todo, batch):
                    found[k] = faces
            except Exception:  # one bad photo: find it by detecting them one by one below
                logger.debug("batched detection failed; detecting one by one", exc_info=True)
        for (photo, image), faces in zip(decoded, found):
            try:
                if faces is None:
                    with timed("detect"):
                        faces = detector.detect(image.rgb8())
                self._prepare_faces(photo, image, faces)
            except Exception as e:
                self._prepare_failed(photo, e)

    def _prepare_faces(self, photo: _Photo, image: LoadedImage, faces: list) -> None:
        """The flow's per-photo half on one decoded photo (``photo.image``): choose the faces,
        align them once, and stage them once per target and strength (full-resolution
        geometry, mouth, shading)."""
        from faceedit.faces.reading import split_declined
        from faceedit.flow import align_faces, face_numbers, planned_moves, select_faces, stage_faces

        if faces:
            mark("first face")
        photo.found = len(faces)
        chosen = select_faces(faces, self.opts.face, self.opts.max_faces, photo.path)
        numbers = face_numbers(faces, chosen)
        chosen, declined, readings = split_declined(image.pixels, chosen, force=self.opts.force)
        photo.declined = [{"face": numbers[i], "declined": why} for i, why in declined]
        photo.read = [{"face": n, **r.to_json()} for n, r in zip(numbers, readings) if r is not None]
        photo.numbers = face_numbers(faces, chosen)
        photo.aligned = align_faces(self.editor, image.pixels, chosen)
        if self.editor.stage is not None:
            for target, strength in self.keys:
                assert strength is not None  # with a stage, each strength is its own key
                request = self.opts.request_for(target, strength)
                plans, whys = (None, [None] * len(photo.aligned)) if self.opts.force else \
                    planned_moves(self.editor, image.pixels, [a.face for a in photo.aligned], request)
                if any(whys):  # left as they are in this output (Record.declined)
                    photo.move_declined[(target, strength)] = {i: why for i, why in enumerate(whys) if why}
                held = [i for i, why in enumerate(whys) if why is None]
                prepared = stage_faces(self.editor, image.pixels, [photo.aligned[i] for i in held], request,
                                       plans=None if plans is None else [plans[i] for i in held])
                faces = list(photo.aligned)
                for i, f in zip(held, prepared.faces):
                    faces[i] = f
                photo.prepared[(target, strength)] = (_changed_patch(image.pixels, prepared.pixels), faces)

    def _prepare_failed(self, photo: _Photo, e: Exception) -> None:
        """What an exception while preparing ``photo`` means for it."""
        if isinstance(e, NoFaceError):
            # --on-no-face skip / copy are carried out in _finish_without_model (aligned == [])
            photo.aligned = []
            if self.opts.on_no_face == "error":
                photo.error = e
        elif isinstance(e, FaceEditError):
            photo.error = e if e.path else type(e)(e.reason, photo.path)
        else:  # a decoder or detector bug must not stop the batch
            logger.debug("unexpected error on %s", photo.path, exc_info=True)
            photo.error = FaceEditError(f"{type(e).__name__}: {e}", photo.path)

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
        faces = [photo.prepared[key][1][i] if key in photo.prepared else photo.aligned[i] for photo, i in take]
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
            for photo, _ in take:
                photo.failure = f"model forward failed: {type(e).__name__}: {e}"
        for j, ((photo, i), crop) in enumerate(zip(take, edited)):
            photo.edited.setdefault(key, [None] * len(photo.aligned))[i] = crop
            if masks:
                photo.masks.setdefault(key, [None] * len(photo.aligned))[i] = {k: m[j] for k, m in masks.items()}
            photo.remaining -= 1
            if photo.remaining == 0:
                if photo.failure:
                    photo.error = FaceEditError(photo.failure, photo.path)
                    self._finish_without_model(photo, writer)
                else:
                    writer.submit(self._write, photo)

    def _flush_all(self, writer: ThreadPoolExecutor) -> None:
        for key in list(self.pending):
            while self.pending[key]:
                self._flush(key, writer, self.opts.batch_size)

    # -- paste back, encode (worker threads) ---------------------------------------------------
    def _finish_without_model(self, photo: _Photo, writer: ThreadPoolExecutor | None) -> None:
        """Records for a photo that the network does not edit: its error, no output to write,
        no face found (``--on-no-face skip``; ``copy`` goes to ``writer``), or every face declined
        (written unedited by ``writer``, ``copied``)."""
        if photo.error is not None:
            outs: list[PlannedOutput | None] = [*photo.outputs] or [None]
            for out in outs:
                photo.records.append(
                    self._rec(photo, None, "error", out and out.target, out and out.strength,
                              photo.error.reason)
                )
            photo.image, photo.aligned, photo.edited = None, [], {}
            photo.done.set_result(None)
        elif not photo.outputs:
            photo.done.set_result(None)
        elif not photo.aligned and self.opts.on_no_face == "skip" and not photo.declined:
            for out in photo.outputs:
                photo.records.append(self._rec(photo, None, "no_face", out.target, out.strength,
                                             "no face found"))
            photo.done.set_result(None)
        else:  # copy
            assert writer is not None, "an input to copy needs the writer threads"
            writer.submit(self._write, photo)

    def _write(self, photo: _Photo) -> None:
        """Worker thread: paste the edited faces back and encode every output of one photo."""
        from faceedit.flow import paste_faces

        img = photo.image
        # each output's faces to read, once all are written: (record, target, crops)
        reads: list[tuple[Record, str, list[np.ndarray]]] = []
        try:
            assert img is not None, "a photo is written once decoded"
            inputs = self._reading_inputs(img.pixels, photo.aligned) if self.reader is not None else None
            for out in photo.outputs:
                try:
                    key = (out.target, out.strength if self.own_strength else None)
                    if len(photo.move_declined.get(key, ())) == len(photo.aligned):
                        # no face (--on-no-face copy) or all declined: the input's bytes
                        with timed("encode"):
                            write_unedited(out.path, img, quality=self.opts.quality, protected=(photo.path,),
                                           record=out.record)
                        rec = self._rec(photo, out.path, "copied", out.target, out.strength)
                        rec.network = False
                        photo.records.append(rec)
                        continue
                    patch, aligned = photo.prepared.get(key, (None, photo.aligned))
                    pixels = img.pixels.copy()
                    if patch is not None:  # the stage's change
                        (y0, y1, x0, x1), values = patch
                        pixels[y0:y1, x0:x1] = values
                    network = paste_faces(self.editor, pixels, aligned, photo.edited.get(key, [None] * len(aligned)),
                                          out.strength)
                    # masks first: a failed mask write leaves no output, so a re-run redoes both
                    masks = self._write_masks(photo, key, out) if self.opts.save_masks else None
                    with timed("encode"):
                        write_image(out.path, pixels, img.alpha, like=img,
                                    quality=self.opts.quality, protected=(photo.path,), record=out.record)
                    rec = self._rec(photo, out.path, "ok", out.target, out.strength)
                    rec.masks, rec.network = masks, network
                    photo.records.append(rec)
                    if inputs is not None:
                        self._cut_reading(reads, rec, out.target, pixels, inputs)
                except FaceEditError as e:
                    photo.records.append(self._rec(photo, out.path, "error", out.target, out.strength,
                                                 e.reason))
                except Exception as e:
                    logger.debug("unexpected error writing %s", out.path, exc_info=True)
                    photo.records.append(self._rec(photo, out.path, "error", out.target, out.strength,
                                                 f"{type(e).__name__}: {e}"))
            if inputs is not None:
                self._measure([c for c, _ in inputs], reads, photo.numbers)
            elif self.reader is not None and self.opts.verify:  # faces there, none to read
                for rec in photo.records:
                    if rec.status == "ok" and photo.aligned:
                        rec.status, rec.error = "unverified", "could not be measured (-v says why)"
        finally:
            photo.image = None
            photo.aligned = []
            photo.edited = {}
            photo.prepared = {}
            photo.masks = {}
            photo.done.set_result(None)

    def _reading_inputs(self, pixels: np.ndarray, aligned: list[AlignedFace]):
        """The input's faces as the reading networks take them, (crop, matrix) per face; None
        where there is no face or they cannot be cut (logged at -v)."""
        from faceedit.analysis.measure import analysis_alignment

        if not aligned:
            return None
        try:
            return [analysis_alignment(pixels, a) for a in aligned]
        except Exception:
            logger.debug("cutting the faces to read failed", exc_info=True)
            return None

    def _cut_reading(self, reads: list, rec: Record, target: str, pixels: np.ndarray, inputs: list) -> None:
        """Queue the faces of one written output (``pixels``) for reading, cut as the input's
        were; a failure leaves the output unread (unverified under ``verify``), never failed."""
        from faceedit.analysis.measure import output_crop

        try:
            reads.append((rec, target, [output_crop(pixels, m, len(c)) for c, m in inputs]))
        except Exception as e:
            logger.debug("cutting the faces of %s to read failed", rec.output, exc_info=True)
            if self.opts.verify:
                rec.status, rec.error = "unverified", f"could not be measured: {type(e).__name__}: {e}"

    def _measure(self, inputs: list[np.ndarray], reads: list[tuple[Record, str, list[np.ndarray]]],
                 numbers: list[int]) -> None:
        """Each written output's ``measured`` (its faces read beside the input's, one batch per
        photo, each face by its number as ``face`` N names it: ``numbers``) and, under
        ``verify``, its status: ``unverified`` with the reason where its target did not read on
        the faces it edited or its person changed (or it could not be read)."""
        from faceedit.analysis.measure import verdict

        assert self.reader is not None
        if not reads:
            return
        try:
            with timed("measure"):
                readings = self.reader.read(inputs, [crops for _, _, crops in reads],
                                            [target for _, target, _ in reads])
        except Exception as e:  # a reading never fails the output it reads
            logger.debug("measuring failed", exc_info=True)
            if self.opts.verify:
                for rec, _, _ in reads:
                    rec.status, rec.error = "unverified", f"could not be measured: {type(e).__name__}: {e}"
            return
        for (rec, target, _), faces in zip(reads, readings):
            rec.measured = [{**r.to_json(), "face": n} for r, n in zip(faces, numbers)]
            if self.opts.verify:  # the faces this output edited (not those it declined)
                left = {d["face"] for d in rec.declined or []}
                held = [r for r, n in zip(faces, numbers) if n not in left]
                why = verdict(held, target, self.opts.verify_min_prob, self.opts.verify_min_identity)
                if why is not None:
                    rec.status, rec.error = "unverified", why

    def _write_masks(self, photo: _Photo, key: tuple, out: PlannedOutput) -> list[str]:
        """Write the masks of the planned output ``out`` (each with its record); the plan has
        checked every mask file of its pattern, and a file that has appeared since is not
        replaced without ``overwrite`` (OutputError)."""
        paths = []
        for i, masks in enumerate(photo.masks.get(key, [])):
            for name, m in (masks or {}).items():
                path = mask_path(out.path, i, name)
                if not self.opts.overwrite and os.path.lexists(path):
                    raise OutputError(f"`save_masks`: mask file {path} exists; give `overwrite` to replace it",
                                      path)
                m8 = np.clip(np.rint(m), 0, 255).astype(np.uint8)
                write_image(path, np.repeat(m8, 3, axis=2) if m8.shape[2] == 1 else m8,
                            protected=(photo.path,), record={**(out.record or {}), "mask_of": out.path})
                paths.append(path)
        return paths


def _face_reader(editor: Editor, opts: ApplyOptions):
    """The networks that read the outputs (:func:`faceedit.analysis.measure.load_reader`) where
    ``opts`` measures or verifies, else None."""
    if not (opts.measure or opts.verify):
        return None
    from faceedit.analysis.measure import load_reader

    return load_reader(editor.device, opts.verify)


def _stop_executors(*executors: ThreadPoolExecutor | None) -> None:
    """Cancel the tasks not started and join every thread of ``executors`` (the tasks under
    way run to their end: a photo's write completes or leaves no file); None: not started."""
    started = [ex for ex in executors if ex is not None]
    for ex in started:
        ex.shutdown(wait=False, cancel_futures=True)
    for ex in started:
        ex.shutdown(wait=True)
