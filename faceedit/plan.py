"""Where ``faceedit apply`` names its outputs: every input listed, told photo or video, and each
output planned once, before any engine edits anything.

:class:`Planner` turns the inputs (files, folders, globs, ``-`` for stdin) into one :class:`Job`
per input, in input order. For each input and each target and strength it names the output
(``{stem}_{target}{ext}``, ``--name``, ``-r``; a video keeps its own container), then decides
it under the one output check of every command (:class:`faceedit.io.outputs.OutputCheck`):

* the name cannot be made (a bad template field): an error record;
* the name is an input of this run: an error record (an input is never written over);
* with ``--overwrite``, the name is a photo or video in the folder of an input that carries no
  faceedit record: an error record (it may be an original photo), whether the inputs were
  named as files or as folders;
* the file exists and ``--overwrite`` is off: the conditions of this run (:meth:`Planner.conditions`:
  model, target, strength, face, phase, settings, quality, detector...) are compared with those
  the file's record holds (:func:`faceedit.io.outputs.read_record`): the same, a ``skipped``
  record (a re-run goes on where the last one stopped); another, an error record naming the
  difference; no record (not written by faceedit, or a format that holds none: BMP, 16-bit
  TIFF), a ``skipped`` record that says so;
* ``--save-masks``: a mask file the output would have (``OUTPUT_face<N>_<mask>.png``) that is an
  input, or that exists (without ``--overwrite``, or an original in an input's folder): an error
  record;
* else an output to write (:class:`PlannedOutput`, with the record its file is to carry),
  handed to an engine.

A file of an input folder that bears the output name of another input (an earlier run's
output in the same folder) is not edited (:meth:`Planner._take_inputs`): it gets a ``skipped``
record that says why. Repeated targets and strengths are planned once (``ApplyOptions.validate``,
which gives the checked options the engines edit with: :attr:`Planner.opts`).

The engines (:mod:`faceedit.pipeline` for photos, :mod:`faceedit.video` for videos,
:mod:`faceedit.ray_engine` on Ray actors) write exactly the outputs planned here; the records they
make come from the same :class:`RecordMaker`.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from faceedit.apply_options import ApplyOptions, CheckedOptions, Record, mask_pattern
from faceedit.edits.keyed import keyed_json
from faceedit.errors import FaceEditError, UsageError
from faceedit.files import InputFiles
from faceedit.io.formats import (
    FORMAT_BY_EXT,
    SUPPORTED_EXTS,
    VIDEO,
    VIDEO_EXTS_TEXT,
    VIDEO_FORMAT_BY_EXT,
    ext_kind,
)
from faceedit.io.inputs import InputItem, expand_inputs
from faceedit.io.naming import OutputNamer
from faceedit.io.outputs import CONDITIONS_KEY, EXISTS, INPUT, ORIGINAL, OutputCheck, condition_difference, read_record
from faceedit.log import logger

if TYPE_CHECKING:
    from faceedit.api import Editor
    from faceedit.models.request import EditRequest

PHOTO = "photo"


def video_format(path: str | os.PathLike[str]) -> str | None:
    """The container of a video file told by its first bytes: ``mp4`` (MOV, MP4 and 3GP share
    the ISO base media signature), ``matroska`` (WebM too), ``avi``, ``mpeg`` (MPEG-1/2 program
    stream), ``mpegts`` (a transport stream, Blu-ray's 192-byte packets too), ``flv``, ``asf``
    (WMV) or ``ogg``; else None. Never raises for an unreadable file (None)."""
    try:
        with open(path, "rb") as f:
            head = f.read(200)
    except OSError:
        return None
    if len(head) >= 12 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):  # a pack header, a bare sequence
        return "mpeg"
    if len(head) > 196 and (head[0] == head[188] == 0x47 or head[4] == head[196] == 0x47):
        return "mpegts"
    if head[:3] == b"FLV":
        return "flv"
    if head[:16] == bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c"):
        return "asf"
    if head[:4] == b"OggS":
        return "ogg"
    return None


def input_kind(item: InputItem) -> str:
    """``video`` for an input listed as a video (its extension) or a file named directly whose
    bytes are a video container's (any name); else ``photo``."""
    if item.kind == VIDEO or (item.error is None and not item.listed and video_format(item.path)):
        return VIDEO
    return PHOTO


def video_output(item: InputItem, path: str) -> str:
    """A video's output path: its extension kept where it names a container faceedit writes
    (``--ext .mkv``), else the input's own where faceedit writes it, else ``.mp4`` for an MP4
    file under another name and ``.mkv`` for a container only read (MPEG-PS, ASF, Ogg...:
    Matroska holds whatever sound they carry)."""
    root, ext = os.path.splitext(path)
    if ext.lower() in VIDEO_FORMAT_BY_EXT:
        return path
    own = os.path.splitext(item.path)[1].lower()
    if own in VIDEO_FORMAT_BY_EXT:
        return root + own
    return root + (".mp4" if video_format(item.path) == "mp4" else ".mkv")


@dataclass
class PlannedOutput:
    """One output to write: the edit (``target``, ``strength``), the file (``path``) and the
    record it carries in its metadata (``record``: :mod:`faceedit.io.outputs`)."""

    target: str
    strength: float
    path: str
    record: dict | None = None


@dataclass
class Job:
    """One input as planned: ``pos`` its place in the run, ``kind`` photo or video, ``records``
    the records decided without editing (skipped outputs, name errors, the input's own error),
    ``outputs`` what an engine is to write, in order."""

    pos: int
    item: InputItem
    kind: str = PHOTO
    outputs: list[PlannedOutput] = field(default_factory=list)
    records: list = field(default_factory=list)


class RecordMaker:
    """The records of one run (:class:`faceedit.apply_options.Record`): the input, output,
    status and edit, with the run's model and its conditions (lighting, AUs, attributes,
    controls, ``like``) read once from the edit request."""

    def __init__(self, opts: ApplyOptions, model: str | None):
        self.model = model
        self.conditions = opts.record_fields()

    def __call__(self, input: str, output: str | None, status: str, target: str | None = None,
                 strength: float | None = None, faces: int | None = None,
                 error: str | None = None, reason: str | None = None) -> Record:
        return Record(input, output, status, target, strength, faces, error, model=self.model,
                      reason=reason, **self.conditions)


def output_conditions(model: str, request: EditRequest, detector: str, path: str, kind: str, *,
                      quality: int, key_frames: int, force: bool = False) -> dict:
    """What makes the output ``path`` (a ``kind``) what it is, as its record keeps it and a
    re-run compares it: the model, the edit (target, strength, the request's conditions, phase,
    settings, the face choice), the detector, the quality of a lossy photo, a video's key frames,
    ``force`` where given (faces the reading declines edited: ``apply --force``).
    ``apply``'s planner and the page's downloads record the same (a download is the bytes of the
    command the page shows)."""
    out = {"model": model, "target": request.target, "strength": keyed_json(request.strength),
           **request.record_fields(), "phase": request.phase,
           "settings": dict(request.settings) or None, "face": request.face,
           "max_faces": request.max_faces, "detector": detector}
    if kind == VIDEO:
        out["key_frames"] = key_frames
    elif FORMAT_BY_EXT.get(os.path.splitext(path)[1].lower()) in ("JPEG", "WEBP"):
        out["quality"] = quality
    if force:
        out["force"] = True
    return out


def output_record(model: str, request: EditRequest, detector: str, path: str, kind: str, *,
                  quality: int, key_frames: int) -> dict:
    """The record an output of ``apply`` carries in its metadata (:mod:`faceedit.io.outputs`)."""
    return {CONDITIONS_KEY: output_conditions(model, request, detector, path, kind, quality=quality,
                                              key_frames=key_frames)}


class Planner:
    """Plans the outputs of ``opts`` for :meth:`plan`'s inputs: :attr:`opts` are the options
    checked against ``editor`` (:meth:`ApplyOptions.validate`: canonical targets, the name
    template bound), what the engines edit with; :attr:`input_paths` are the real paths of the
    inputs of the last plan."""

    def __init__(self, editor: Editor, opts: ApplyOptions):
        self.opts: CheckedOptions = opts.validate(editor)
        opts = self.opts
        self.records = RecordMaker(opts, editor.spec.name)
        self.namer = OutputNamer(opts.out_dir, opts.name_template or opts.default_name_template(), opts.ext)
        self.model = editor.spec.name
        self.detector = editor.detector.name
        # the masks the model can save (--save-masks), and those this run writes
        self.model_masks: tuple[str, ...] = editor.loaded.model.mask_names if editor.has_network else ()
        self.mask_names = self.model_masks if opts.save_masks else ()
        self.input_paths: set[str] = set()
        self.check = OutputCheck((), overwrite=opts.overwrite)
        self._listed: dict[str, list[str]] = {}  # output folder -> its files' names (masks)

    def conditions(self, target: str, strength: float, path: str, kind: str) -> dict:
        """What makes the output ``path`` (a ``kind``) what it is: :func:`output_record`'s
        conditions for this run's request of ``target`` at ``strength``."""
        return output_conditions(self.model, self.opts.request_for(target, strength), self.detector, path, kind,
                                 quality=self.opts.quality, key_frames=self.opts.key_frames,
                                 force=self.opts.force)

    def plan(self, specs: list[str], stdin=None) -> list[Job]:
        """One :class:`Job` per input of ``specs`` (files, folders, globs, ``-``: paths read from
        ``stdin``), in input order."""
        self.input_paths, self._listed = set(), {}
        items = list(expand_inputs(list(specs), recursive=self.opts.recursive, stdin=stdin))
        aside = self._take_inputs(items)
        self.check = OutputCheck(InputFiles(self.input_paths, near=[it.path for it in items]),
                                 overwrite=self.opts.overwrite)
        jobs = [self._set_aside(pos, item, aside[id(item)]) if id(item) in aside else self._plan(pos, item)
                for pos, item in enumerate(items)]
        self._check_ext(jobs)
        return jobs

    def _check_ext(self, jobs: list[Job]) -> None:
        """UsageError, before any work, where ``--ext`` names a format of the other kind than
        an input (a photo's for a video, a video container for a photo)."""
        ext = self.namer.ext
        kinds = {job.kind for job in jobs if job.item.error is None}
        mixed = "; edit the photos and the videos in two runs" if len(kinds) > 1 else ""
        for job in jobs:
            if ext is None or job.item.error is not None or ext_kind(ext) == job.kind:
                continue
            if job.kind == VIDEO:
                raise UsageError(f"{job.item.path}: a video; `ext` {ext} is a photo format (videos take "
                                 f"{VIDEO_EXTS_TEXT}){mixed}")
            raise UsageError(f"{job.item.path}: a photo; `ext` {ext} is a video container (photos take "
                             f"{', '.join(SUPPORTED_EXTS)}){mixed}")

    def _take_inputs(self, items: list[InputItem]) -> dict[int, InputItem]:
        """Learn every input before the first output is planned, so no output replaces an input
        met later; return the inputs set aside (by ``id``), each with the input whose output
        name it bears.

        A file found by listing a folder or matching a glob (not one named explicitly) whose path
        is this run's output path for *another* input (same template, targets and strengths) is
        taken as an earlier output of that input, as when the output folder is the input
        folder: it is not edited (a ``skipped`` record says so), so a second run does not edit
        its own outputs (``john_happy_happy.jpg``). It may also be an original photo that
        happens to bear that name: it is replaced only under the one output check
        (with ``--overwrite``, only where it carries faceedit's record). Any other input file is
        never an output, with or without ``--overwrite``.
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
        # an earlier output's masks (--save-masks: OUTPUT_face<N>_<mask>.png) are its, too
        masks = {os.path.splitext(p)[0]: m for p, m in makers.items()}
        mask_name = mask_pattern("(?P<output>.*)", self.model_masks, literal=False) if self.model_masks else None
        aside: dict[int, InputItem] = {}
        for it in items:
            if it.error is None:
                found = makers.get(real[id(it)], [])
                named = mask_name.fullmatch(os.path.basename(real[id(it)])) if mask_name else None
                if named is not None:
                    found = [*found, *masks.get(os.path.join(os.path.dirname(real[id(it)]), named["output"]), [])]
                others = [m for m in found if real[id(m)] != real[id(it)]]
                if it.listed and others:
                    aside[id(it)] = others[0]
                    continue
                self.input_paths.add(real[id(it)])
        return aside

    def _set_aside(self, pos: int, item: InputItem, maker: InputItem) -> Job:
        """The job of an input taken for an earlier output of ``maker``: a ``skipped`` record."""
        job = Job(pos, item, input_kind(item))
        reason = (f"not edited: it bears the output name of {maker.path} (an earlier output?); "
                  "rename it, or write to another folder (`out_dir`), to edit it")
        logger.info("%s: %s", item.path, reason)
        job.records.append(self.records(item.path, None, "skipped", reason=reason))
        return job

    def _plan(self, pos: int, item: InputItem) -> Job:
        job = Job(pos, item, input_kind(item))
        if item.error:
            job.records.append(self.records(item.path, None, "error", error=item.error))
            return job
        for target in self.opts.targets:
            for strength in self.opts.strengths:
                try:
                    path = self.namer.path_for(item, target, strength)
                except FaceEditError as e:
                    job.records.append(self.records(item.path, None, "error", target, strength, error=e.reason))
                    continue
                if job.kind == VIDEO:
                    path = video_output(item, path)
                elif keyed := self.opts.request_for(target, strength).keyed():
                    job.records.append(self.records(item.path, None, "error", target, strength, error=(
                        f"{', '.join(keyed)} given as key frames: a photo takes one value (give a number), "
                        "key frames are for a video")))
                    continue
                job.records.extend(self._decide(job, target, strength, path))
        return job

    def _decide(self, job: Job, target: str, strength: float, path: str) -> list[Record]:
        """The record of an output decided here (refused or skipped); none where it is to be
        written (it joins ``job.outputs``)."""
        conditions = self.conditions(target, strength, path, job.kind)
        refusal = self.check.refusal(path)

        def rec(status: str, output: str | None = None, error: str | None = None,
                reason: str | None = None) -> list[Record]:
            return [self.records(job.item.path, output, status, target, strength, error=error, reason=reason)]

        if refusal is None:
            mask = self._mask_refusal(path) if job.kind != VIDEO else None
            if mask is not None:
                return rec("error", error=mask)
            job.outputs.append(PlannedOutput(target, strength, path, {CONDITIONS_KEY: conditions}))
            return []
        if refusal.kind == EXISTS:
            earlier = read_record(path)
            if earlier is None:
                return rec("skipped", output=path, reason=(
                    "exists, without faceedit's record of how it was made (not written by faceedit, or "
                    "a BMP or 16-bit TIFF, which hold none): not compared; `overwrite` replaces it"))
            difference = condition_difference(earlier.get(CONDITIONS_KEY) or {}, conditions)
            if difference is None:
                return rec("skipped", output=path, reason="exists, made under the same conditions")
            return rec("error", error=(f"{path} exists, made under other conditions: {difference}; give "
                                       "`overwrite` to replace it, or write to another folder (`out_dir`)"))
        if refusal.kind == INPUT:
            return rec("error", error=f"refusing to overwrite an input file: {path}")
        if refusal.kind == ORIGINAL:
            return rec("error", error=(
                f"refusing to overwrite {path}: it is a photo or video in the folder of an input, and "
                "carries no faceedit record: maybe an original photo rather than an earlier output; "
                "delete it or write to another folder (`out_dir`)"))
        return rec("error", error=f"{path}: {refusal.reason}")

    def _mask_refusal(self, output: str) -> str | None:
        """Why the masks of ``output`` (``--save-masks``: ``OUTPUT_face<N>_<mask>.png``, N not
        known before the photo is read) may not be written: a file of that pattern that is an
        input, or that the output check refuses (exists without ``--overwrite``; an original).
        None where they may."""
        if not self.mask_names:
            return None
        folder = os.path.dirname(os.path.abspath(output))
        pattern = mask_pattern(output, self.mask_names)
        if folder not in self._listed:
            try:
                self._listed[folder] = sorted(os.listdir(folder))
            except OSError:
                self._listed[folder] = []
        inputs = [os.path.basename(p) for p in self.input_paths if os.path.dirname(p) == os.path.realpath(folder)]
        for name in sorted({*self._listed[folder], *inputs}):
            if pattern.fullmatch(name):
                mask = os.path.join(folder, name)
                refusal = self.check.refusal(mask)
                if refusal is not None:
                    return f"`save_masks`: mask file {mask} {refusal.reason}"
        return None
