"""``faceedit apply --job FILE``: one edit per person in each photo, the job's faces each with its
own request (:func:`faceedit.preset_file.job_requests`), through
:meth:`faceedit.api.Editor.edit_each`: the faces detected once, numbered as ``--face N`` numbers
them (largest first, from 0), each face's pixels its own edit's.

One output per input, named by the run's ``--name`` template with ``{target}`` the job file's
stem (default ``{stem}_{target}{ext}``: ``group.jpg`` with ``edits.json`` writes
``group_edits.jpg``); its record (``--json``) gives per face its edit (``edits``). Photos only,
on this process: a video is an error record; an output that exists is an error record unless
``--overwrite``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator
from typing import IO

from faceedit.api import Editor
from faceedit.apply_options import ApplyOptions, Record
from faceedit.errors import FaceEditError, NoFaceError, UsageError
from faceedit.io.decode import read_image
from faceedit.io.encode import write_image
from faceedit.io.formats import PHOTO, VIDEO
from faceedit.io.inputs import InputItem, expand_inputs
from faceedit.io.naming import OutputNamer
from faceedit.models.request import EditRequest
from faceedit.plan import input_kind, output_record


def edits_json(edits: dict[int, EditRequest], stage: bool = True) -> list[dict]:
    """A job's edits as its record lists them: per face its number, target, strength and the
    conditions set (``stage``: the edit has a stage, which draws the named lights)."""
    return [{"face": n, "target": r.target, "strength": r.strength,
             **{k: v for k, v in r.record_fields(stage=stage).items() if v is not None and k != "face"}}
            for n, r in edits.items()]


def job_record(editor: Editor, edits: dict[int, EditRequest], path: str, *, quality: int, key_frames: int) -> dict:
    """The record a job's output carries in its metadata: the first face's conditions as
    :func:`faceedit.plan.output_record` gives an output's, with ``job``: every face's edit."""
    record = output_record(editor.spec.name, next(iter(edits.values())), editor.detector.name, path, PHOTO,
                           quality=quality, key_frames=key_frames)
    record[next(iter(record))]["job"] = edits_json(edits, editor.stage is not None)
    return record


class JobRun:
    """A job's run over inputs, as :class:`faceedit.run.ApplyRun` is a run's (what the command's
    report reads: :meth:`run`'s records, :attr:`input_paths`, :attr:`opts`, whether it was
    interrupted). ``edits``: face number -> request, checked against the editor's model here
    (UsageError naming the field); ``name``: the ``{target}`` of the output names."""

    def __init__(self, editor: Editor, opts: ApplyOptions, edits: dict[int, EditRequest], name: str):
        if not edits:
            raise UsageError("a job names no face: give faces, one edit per face")
        opts.check()
        editor.check_detector()
        self.editor = editor
        self.edits = {n: editor.check_request(r) for n, r in edits.items()}
        self.opts = dataclasses.replace(opts, targets=(name,), strengths=(1.0,))
        self.name = name
        template = opts.name_template or ("{relparent}/" if opts.recursive else "") + "{stem}_{target}{ext}"
        self.namer = OutputNamer(opts.out_dir, template, opts.ext)
        self.input_paths: set[str] = set()
        self.interrupted = False
        self.unfinished = 0
        self.stop_signal = 0

    def run(self, inputs: Iterable[str], stdin: IO[str] | None = None) -> Iterator[Record]:
        """The record of each input, in order."""
        for item in expand_inputs(inputs, self.opts.recursive, stdin):
            self.input_paths.add(item.path)
            yield self._one(item)

    def _record(self, item: InputItem, output: str | None, status: str, error: str | None = None,
                faces: int | None = None) -> Record:
        rec = Record(input=item.path, output=output, status=status, target=self.name, strength=1.0,
                     faces=faces, error=error, model=self.editor.spec.name)
        rec.edits = edits_json(self.edits, self.editor.stage is not None)
        if self.editor.declined:
            rec.declined = list(self.editor.declined)
        return rec

    def _one(self, item: InputItem) -> Record:
        self.editor.declined = []
        if item.error is not None:
            return self._record(item, None, "error", item.error)
        if input_kind(item) == VIDEO:
            return self._record(item, None, "error", "a video: --job edits photos")
        try:
            path = self.namer.path_for(item, self.name, 1.0)
            if os.path.exists(path) and not self.opts.overwrite:
                return self._record(item, path, "skipped", "exists (--overwrite replaces it)")
            image = read_image(item.path, max_pixels=self.opts.max_pixels)
            pixels = self.editor.edit_each(image.pixels, self.edits, force=self.opts.force)
            record = job_record(self.editor, self.edits, path, quality=self.opts.quality,
                                key_frames=self.opts.key_frames)
            write_image(path, pixels, image.alpha, like=image, quality=self.opts.quality,
                        protected=(item.path,), record=record)
        except NoFaceError as e:  # none at all, or fewer than the job numbers
            return self._record(item, None, "no_face" if self.editor.declined == [] and "no face" in e.reason
                                else "error", e.reason)
        except FaceEditError as e:
            return self._record(item, None, "error", e.reason)
        return self._record(item, path, "ok", faces=len(self.edits) - len(self.editor.declined))
