"""What one ``faceedit apply`` run is asked to do (:class:`ApplyOptions`: targets, strengths,
output naming, face choice, the edit's other fields as an
:class:`~faceedit.models.request.EditRequest`, checked against the model before any input is
read) and what it reports per output (:class:`Record`, a ``--json`` line). The engines that carry a
run out: :mod:`faceedit.pipeline` (threads) and :mod:`faceedit.ray_engine` (Ray actors).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from faceedit.analysis.measure import MIN_IDENTITY, MIN_PROB
from faceedit.conditions import canonical_target
from faceedit.errors import UsageError
from faceedit.files import check_output_folder
from faceedit.io.decode import DEFAULT_MAX_PIXELS
from faceedit.io.naming import OutputNamer
from faceedit.log import logger
from faceedit.models.request import FIELD, EditRequest, attr_word

if TYPE_CHECKING:
    from faceedit.api import Editor

# faceedit.api and faceedit.models (torch) are imported where they are used, so that
# ApplyOptions.check answers a usage error without importing torch (2-3 s of a command's start).

ON_NO_FACE = ("error", "skip", "copy")


def _once(values, option: str) -> list:
    """``values`` without repeats, in their first order; a repeat is logged (a repeated target or
    strength would write the same output again, as a repeated input would)."""
    out: list = []
    for v in values:
        if v in out:
            logger.info("%s %s given more than once: its outputs are written once", option,
                        f"{v:g}" if isinstance(v, float) else v)
        else:
            out.append(v)
    return out


@dataclass
class ApplyOptions:
    targets: list[str]
    out_dir: str
    strengths: list[float] = field(default_factory=lambda: [1.0])
    name_template: str | None = None  # None: default_name_template()
    ext: str | None = None
    quality: int = 95
    overwrite: bool = False
    recursive: bool = False
    batch_size: int = 8
    face: str = FIELD["face"].default
    max_faces: int = FIELD["max_faces"].default
    on_no_face: str = "error"
    max_pixels: int = DEFAULT_MAX_PIXELS
    workers: int = 2
    # the edit's conditions (light, AUs, attributes, controls, like, phase, settings); each
    # output's is this request at its target and strength (:meth:`request_for`)
    request: EditRequest = field(default_factory=EditRequest)
    save_masks: bool = False  # also write the model's intermediate masks (LEGAN) per face
    # read each edited face of each output (Record.measured: expression, identity to the input)
    measure: bool = False
    # mark an output whose target did not read, or whose person changed, "unverified" (measures)
    verify: bool = False
    verify_min_prob: float = MIN_PROB  # the target's least classifier probability
    verify_min_identity: float = MIN_IDENTITY  # the least identity cosine of input and output
    # edit the faces the edit would decline (faceedit.faces.reading.decline_reason: a profile, a tiny face)
    force: bool = False
    # videos: a frame edited in full at least every this many frames; between them, while the
    # faces hold still, the last key frame's edit moved onto each frame (1: every frame in full)
    key_frames: int = 8
    # whether the edit has a stage (set by validate; the stage draws the named lights)
    _stage = True

    def request_for(self, target: str, strength: float) -> EditRequest:
        """The edit of one output: :attr:`request` at ``target`` and ``strength``, with this run's
        face choice."""
        return dataclasses.replace(self.request, target=target, strength=strength, face=self.face,
                                   max_faces=self.max_faces)


    def default_name_template(self) -> str:
        """``{stem}_{target}{ext}``, plus every condition this run sets (``{lighting}``,
        ``{au}``, ``{attr}``, ``{strength}`` unless it is 1), so that runs under other
        conditions into the same folder never take each other's outputs for their own; under
        ``recursive`` in the input's folder (``{relparent}/``), so that same-named photos of
        different folders do not collide."""
        parts = ["{stem}", "{target}"]
        parts += [f"{{{f}}}" for f, text in self.name_conditions().items() if text]
        if any(s != 1.0 for s in self.strengths):
            parts.append("{strength}")
        return ("{relparent}/" if self.recursive else "") + "_".join(parts) + "{ext}"

    def name_conditions(self) -> dict[str, str]:
        """The text of the ``{lighting}`` ``{au}`` ``{attr}`` ``{control}`` ``{like}`` name
        fields for this run ('' when the condition is not set)."""
        r = self.request
        lighting = r.lighting if r.light is None else f"light{r.light}"
        if lighting is not None and r.light_strength is not None:
            lighting = f"{lighting}-{r.light_strength:g}"
        return {
            "lighting": "" if lighting is None else lighting.strip().lower(),
            "au": "_".join(f"au{k}-{v:g}" for k, v in (r.aus or {}).items()),
            "attr": "_".join(f"{k}-{attr_word(v)}" for k, v in (r.attrs or {}).items()),
            "control": "_".join(f"{k}-{v:g}" for k, v in (r.controls or {}).items()),
            "like": f"like-{os.path.splitext(os.path.basename(str(r.like)))[0]}" if isinstance(
                r.like, (str, os.PathLike)) else "",
        }

    def check(self) -> None:
        """The checks that need no model (run them before loading one): UsageError naming the
        option."""
        import math

        for s in self.strengths:
            if not math.isfinite(s):
                raise UsageError(f"`strengths` {s:g}: must be a finite number, 0 or more")
            if s < 0.0:
                raise UsageError(f"`strengths` {s:g}: must be 0 or more")
        for t in self.targets or [FIELD["target"].default]:  # the request's own checks: the face
            self.request_for(t, 1.0)  # choice, a target it cannot serve (au without AUs to set)
        if self.on_no_face not in ON_NO_FACE:
            raise UsageError(f"`on_no_face` {self.on_no_face!r}; valid: {', '.join(ON_NO_FACE)}")
        if self.batch_size < 1:
            raise UsageError(f"`batch_size` {self.batch_size}: must be at least 1")
        if self.workers < 1:
            raise UsageError(f"`workers` {self.workers}: must be at least 1")
        if self.key_frames < 1:
            raise UsageError(f"`key_frames` {self.key_frames}: must be at least 1 (1: every frame edited in full)")
        if self.quality < 1 or self.quality > 100:
            raise UsageError(f"`quality` {self.quality}: must be between 1 and 100")
        if self.max_pixels < 1:
            raise UsageError(f"`max_pixels` {self.max_pixels}: must be at least 1 "
                             f"(default {DEFAULT_MAX_PIXELS})")
        if not 0.0 <= self.verify_min_prob <= 1.0:
            raise UsageError(f"`verify_min_prob` {self.verify_min_prob:g}: must be between 0 and 1 "
                             f"(the target's probability; default {MIN_PROB:g})")
        if not -1.0 <= self.verify_min_identity <= 1.0:
            raise UsageError(f"`verify_min_identity` {self.verify_min_identity:g}: must be between -1 "
                             f"and 1 (a cosine similarity; default {MIN_IDENTITY:g})")
        check_output_folder(self.out_dir, option="out_dir", what="output folder")
        OutputNamer(self.out_dir, self.name_template or self.default_name_template(), self.ext)

    def validate(self, editor: Editor) -> None:
        """:meth:`check`, then what needs the model: targets, a face detector with the landmarks
        the edit needs (:meth:`faceedit.api.Editor.check_detector`), strengths up to the editor's
        limit, the request's fields (:meth:`faceedit.flow.Flow.accepts`: lighting classes, AUs,
        attributes, phases, settings; then one forward on a blank crop, so that a bad value is
        a usage error before any input is read). Binds the name template's condition fields to
        this run's values."""
        self.check()
        if not self.targets:
            raise UsageError("no `targets` given; valid targets: " + ", ".join(editor.targets()))
        editor.check_detector()
        self.targets = _once((canonical_target(t) for t in self.targets), "`targets`")  # smile -> happy
        self.strengths = _once((float(s) for s in self.strengths), "`strengths`")
        for t in self.targets:
            editor.check_target(t)
        top = editor.max_strength
        for s in self.strengths:
            if not 0.0 <= s <= top:
                raise UsageError(f"`strengths` {s:g}: must be between 0 and {top:g}")
        if self.save_masks and not (editor.has_network and editor.loaded.model.mask_names):
            raise UsageError(f"`save_masks`: model {editor.spec.name} has no intermediate masks "
                             "(LEGAN has expression and lighting masks)")
        editor.accepts().check(self.request)
        if self.request.like is not None:  # once, before the batch: a usage error
            editor.reference_landmarks(self.request.like, max_pixels=self.max_pixels)
        self._dry_run(editor)
        self._stage = editor.stage is not None
        self.name_template = OutputNamer.bind(self.name_template or self.default_name_template(),
                                              {**self.name_conditions(), "model": editor.spec.name})

    def record_fields(self) -> dict[str, Any]:
        """The conditions every record of this run carries (the request's, the light as the
        run's stage applies it, the face choice: :meth:`EditRequest.record_fields`)."""
        return dataclasses.replace(self.request, face=self.face).record_fields(stage=self._stage)

    def check_model(self, model: str) -> None:
        """The checks of ``--target`` / ``--lighting`` / ``--au`` / ``--attr`` / ``--set`` /
        ``--phase`` against what ``model`` (a registered name or a checkpoint path) declares
        and its checkpoint headers list, before any weights load (:func:`model_options`); the
        same rule :meth:`validate` applies again to the loaded model. Nothing is checked where
        that cannot be told before loading (e.g. weights not on this machine)."""
        from faceedit.models.options import model_options

        known = model_options(model)
        if known is None:
            return
        known.check_targets([canonical_target(t) for t in self.targets])
        known.check(self.request)

    def _dry_run(self, editor: Editor) -> None:
        """One forward per target on a blank crop, so that an option value the network refuses
        (``--phase bogus``, ``--set mode=x``) is a usage error before any input is read."""
        if not editor.has_network:
            return
        size = editor.spec.template.size
        crop = np.full((1, size, size, 3), 128, np.uint8)
        for target in self.targets:
            if not editor.uses_network(target):
                continue
            try:
                editor.edit_crops(crop, self.request.at(target, 1.0))
            except UsageError:
                raise
            except Exception:  # not a usage problem: the batch reports it on the photos
                logger.debug("trial forward on a blank crop failed", exc_info=True)
                return


@dataclass
class Record:
    """The result for one output file (or for an input that produced none)."""

    input: str
    output: str | None
    status: str  # ok | unverified | skipped | copied | no_face | error
    target: str | None = None
    strength: float | None = None
    faces: int | None = None  # faces edited; None where none were counted (skipped, failed)
    error: str | None = None
    masks: list[str] | None = None  # mask files written beside the output (--save-masks only)
    model: str | None = None
    # whether the output carries the change of the model's network: False where the model leaves
    # the target to its stage or the network's change rounded to nothing (the stage's edit alone);
    # None where nothing was written
    network: bool | None = None
    lighting: str | None = None
    # the direction the stage relit the face to, [azimuth, elevation] degrees ("ambient": even
    # light), for --light and a --lighting class alike (EditRequest.applied_light)
    light: list[float] | str | None = None
    light_strength: float | None = None  # how much the light replaced the photo's own (--light-strength)
    aus: dict | None = None  # {AU number: intensity}
    attrs: dict | None = None  # {attribute: on | off | value}
    controls: dict | None = None  # {control: value} (--control)
    like: str | None = None  # the reference photo (--like), as given
    face: str | None = None  # the face choice (--face): all, largest or a face number
    phase: str | None = None  # the model's phase (--phase)
    settings: dict | None = None  # the model's own settings (--set)
    # per edited face what it reads as (faceedit.analysis.measure.Reading.to_json); None: not
    # measured (no output written, or measuring off); a video's: per person (track), frames_read added
    measured: list[dict] | None = None
    # why an input or output was skipped (an earlier output's name, the same conditions...)
    reason: str | None = None
    # the faces left as they are, [{"face": N, "declined": reason}] (faceedit.faces.reading; --force edits them)
    declined: list[dict] | None = None
    # per chosen face what it is before the edit, {"face": N, **FaceReading.to_json()}
    read: list[dict] | None = None

    def __post_init__(self) -> None:
        if self.status == "error":  # an error record names no output: none was written
            self.output = None

    def to_json(self) -> dict:
        rec: dict[str, Any] = {
            "input": self.input,
            "output": self.output,
            "model": self.model,
            "network": self.network,
            "target": self.target,
            "strength": self.strength,
            "lighting": self.lighting,
            "light": self.light,
            "light_strength": self.light_strength,
            "aus": None if self.aus is None else {str(k): v for k, v in self.aus.items()},
            "attrs": self.attrs,
            "controls": self.controls,
            "like": self.like,
            "face": self.face,
            "phase": self.phase,
            "settings": self.settings,
            "faces": self.faces,
            "status": self.status,
            "error": self.error,
            "measured": self.measured,
        }
        if self.masks is not None:
            rec["masks"] = self.masks
        if self.reason is not None:
            rec["reason"] = self.reason
        if self.declined:
            rec["declined"] = self.declined
        if self.read:
            rec["read"] = self.read
        return rec


def mask_path(output: str, face: int, name: str) -> str:
    """Where ``--save-masks`` writes face ``face``'s mask ``name`` of ``output``: beside it, as
    ``<output stem>_face<face>_<name>.png`` (crop-sized greyscale or RGB)."""
    root, _ = os.path.splitext(output)
    return f"{root}_face{face}_{name}.png"


def mask_pattern(output: str, names: Iterable[str], literal: bool = True) -> re.Pattern[str]:
    """The file names (in ``output``'s folder) of every mask :func:`mask_path` may give
    ``output``, whatever the face number, for the mask ``names``; ``literal=False``: ``output``
    is a pattern of output stems itself."""
    stem = os.path.splitext(os.path.basename(output))[0] if literal else output
    return re.compile((re.escape(stem) if literal else stem) + r"_face[0-9]+_("
                      + "|".join(map(re.escape, names)) + r")\.png")
