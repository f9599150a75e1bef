"""Where ``faceedit apply`` names its outputs: every input listed, told photo or video, and each
output planned once, before any engine edits anything.

:class:`Planner` turns the inputs (files, folders, globs, ``-`` for stdin) into one :class:`Job`
per input, in input order. For each input and each target and strength it names the output
(``{stem}_{target}{ext}``, ``--name``, ``-r``; a video keeps a video container), then decides:

* the name cannot be made (a bad template field): an error record;
* the name is an input of this run: an error record (an input is never written over);
* the name is a file of an input folder taken for an earlier output, with ``--overwrite``: an
  error record (it may be an original photo);
* the file exists and ``--overwrite`` is off: a ``skipped`` record (a re-run goes on where the
  last one stopped);
* else an output to write (:class:`PlannedOutput`), handed to an engine.

A file of an input folder that bears the output name of another input (an earlier run's
output in the same folder) is not taken as an input (:meth:`Planner._take_inputs`). Repeated
targets and strengths are planned once (``ApplyOptions.validate``).

The engines (:mod:`faceedit.pipeline` for photos, :mod:`faceedit.video` for videos,
:mod:`faceedit.ray_engine` on Ray actors) write exactly the outputs planned here; the records they
make come from the same :class:`RecordMaker`.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from faceedit.apply_options import ApplyOptions, Record
from faceedit.errors import FaceEditError, UsageError
from faceedit.io.formats import SUPPORTED_EXTS, VIDEO, VIDEO_EXTS_TEXT, VIDEO_FORMAT_BY_EXT, ext_kind
from faceedit.io.inputs import InputItem, expand_inputs
from faceedit.io.naming import OutputNamer
from faceedit.log import logger

if TYPE_CHECKING:
    from faceedit.api import Editor

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
    """One output to write: the edit (``target``, ``strength``) and the file (``path``)."""

    target: str
    strength: float
    path: str


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
                 error: str | None = None) -> Record:
        return Record(input, output, status, target, strength, faces, error, model=self.model,
                      **self.conditions)


class Planner:
    """Plans the outputs of ``opts`` (checked against ``editor``: :meth:`ApplyOptions.validate`,
    which binds the name template) for :meth:`plan`'s inputs; :attr:`input_paths` are the real
    paths of the inputs of the last plan."""

    def __init__(self, editor: Editor, opts: ApplyOptions):
        opts.validate(editor)
        self.opts = opts
        self.records = RecordMaker(opts, editor.spec.name)
        self.namer = OutputNamer(opts.out_dir, opts.name_template or opts.default_name_template(), opts.ext)
        self.input_paths: set[str] = set()
        self.earlier_outputs: set[str] = set()  # listed files set aside as earlier outputs

    def plan(self, specs: list[str], stdin=None) -> list[Job]:
        """One :class:`Job` per input of ``specs`` (files, folders, globs, ``-``: paths read from
        ``stdin``), in input order."""
        self.input_paths, self.earlier_outputs = set(), set()
        items = list(expand_inputs(list(specs), recursive=self.opts.recursive, stdin=stdin))
        jobs = [self._plan(pos, item) for pos, item in enumerate(self._take_inputs(items))]
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
                job.records.extend(self._decide(job, target, strength, path))
        return job

    def _decide(self, job: Job, target: str, strength: float, path: str) -> list[Record]:
        """The record of an output decided here (refused or skipped); none where it is to be
        written (it joins ``job.outputs``)."""
        real = os.path.realpath(path)
        refuse = None
        if real in self.input_paths:
            refuse = f"refusing to overwrite an input file: {path}"
        elif real in self.earlier_outputs and self.opts.overwrite and os.path.exists(path):
            refuse = (f"refusing to overwrite {path}: it is a file of an input folder, maybe an "
                      "original photo rather than an earlier output; delete it or write to "
                      "another folder (`out_dir`)")
        elif os.path.exists(path) and not self.opts.overwrite:
            return [self.records(job.item.path, path, "skipped", target, strength)]
        if refuse is not None:
            return [self.records(job.item.path, None, "error", target, strength, error=refuse)]
        job.outputs.append(PlannedOutput(target, strength, path))
        return []
