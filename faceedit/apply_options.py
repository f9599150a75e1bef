"""What one ``faceedit apply`` run is asked to do (:class:`ApplyOptions`: targets, strengths,
output naming, face choice, the edit's other fields as an
:class:`~faceedit.models.request.EditRequest`, checked against the model before any input is
read: :class:`CheckedOptions`) and what it reports per output (:class:`Record`, a ``--json``
line). Each option of the command that is a field is declared once, by its field (:func:`option`:
its flags, help and bounds, a :class:`Flag`); :mod:`faceedit.cli.apply` makes the command's
options from them. The engines that carry a run out: :mod:`faceedit.pipeline` (threads) and
:mod:`faceedit.ray_engine` (Ray actors).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from faceedit.analysis.measure import MIN_IDENTITY, MIN_PROB
from faceedit.conditions import canonical_target
from faceedit.edits.keyed import Keyed, keyed_json
from faceedit.errors import UsageError
from faceedit.files import check_output_folder
from faceedit.io.decode import DEFAULT_MAX_PIXELS
from faceedit.io.naming import OutputNamer
from faceedit.log import logger
from faceedit.models.request import FACE_CHOICES, FIELD, EditRequest, attr_word

if TYPE_CHECKING:
    from faceedit.api import Editor

# faceedit.api and faceedit.models (torch) are imported where they are used, so that
# ApplyOptions.check answers a usage error without importing torch (2-3 s of a command's start).

ON_NO_FACE = ("error", "skip", "copy")


def face_choice(value: str) -> str:
    """``face``: all, largest or a face number (faces numbered largest first, from 0), any case
    (:data:`faceedit.models.request.FACE_CHOICES`); anything else a ValueError (the command
    line's parser reports it naming the flag)."""
    face = value.strip().lower()
    if face in FACE_CHOICES or face.isdigit():
        return face
    raise ValueError(f"{value!r} is not one of all, largest, or a face number N (0 = the largest face)")


AS_FIELD: Any = object()
"""A :class:`Flag`'s ``default`` where the command line's default is the field's."""


@dataclass(frozen=True)
class Flag:
    """How an :class:`ApplyOptions` field is given to ``faceedit apply`` (the command's option is
    made from it and the field: :mod:`faceedit.cli.apply`). ``flags``: the long flag first;
    ``help``: the text, after the request field's own where ``describes`` names one
    (:data:`faceedit.models.request.FIELD`); ``kind``: ``value``, ``list`` (repeatable,
    comma-separated text) or ``numbers`` (the same, read as numbers); ``choices``: the words it
    takes; ``parse``: reads the text (a ValueError its usage error); ``min``/``max``: the
    parser's bounds; ``metavar``; ``default``: the command line's, where it is not the field's
    (:data:`AS_FIELD`: the field's); ``show_default``."""

    flags: tuple[str, ...]
    help: str = ""
    describes: str | None = None
    kind: str = "value"
    choices: tuple[str, ...] | None = None
    parse: Callable[[str], Any] | None = None
    min: float | None = None
    max: float | None = None
    metavar: str | None = None
    default: Any = AS_FIELD
    show_default: bool = True


def option(*flags: str, default: Any = dataclasses.MISSING, given: Any = AS_FIELD, **how: Any) -> Any:
    """An :class:`ApplyOptions` field (``default``) given on the command line as ``flags``
    (:class:`Flag`; ``given``: the command line's default, where it is not ``default``)."""
    return field(default=default, metadata={"flag": Flag(tuple(flags), default=given, **how)})


def flags() -> dict[str, Flag]:
    """The fields of :class:`ApplyOptions` that are command-line options, with their :class:`Flag`."""
    return {f.name: f.metadata["flag"] for f in dataclasses.fields(ApplyOptions) if "flag" in f.metadata}


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


@dataclass(frozen=True)
class ApplyOptions:
    """The options of one run, as given (frozen: a derived value is a new record,
    :func:`dataclasses.replace`); :meth:`validate` checks them against a model and gives the
    :class:`CheckedOptions` a run is planned and edited with."""

    targets: Sequence[str] = option("--target", "-t", kind="list", given=(),
                                    help="Target(s), comma-separated or repeated: happy,sad.")
    out_dir: str = option("--out", "-o", help="Output folder (created if missing).")
    strengths: Sequence[float] = option(
        "--strength", "-s", kind="numbers", default=(1.0,), given=("1",), describes="strength",
        help="Several (0,0.5,1) write a series. Videos: key frames VALUE@TIME (0@0s,1@2s; a time in seconds with "
             "s, else a frame number), interpolated smoothly, one output.")
    recursive: bool = option("--recursive", "-r", default=False, help="Descend into sub-folders.")
    # None: default_name_template()
    name_template: str | None = option("--name", default=None, show_default=False, help=(
        "Output name template; fields {stem} {name} {ext} {target} {strength} {relparent} {index} (the input's "
        "position in the input list, from 0) {lighting} {au} {attr} {control} {like} {model}. Default: "
        "{stem}_{target}{ext} with the conditions given (_{lighting}, _{au}, _{attr}, _{control}, _{like}, "
        "_{strength} unless 1), under {relparent}/ with -r."))
    ext: str | None = option("--ext", default=None, help=(
        "Output format by extension: a photo's (.png, .jpg, ...) or a video's container (.mp4, .mkv, .webm, "
        "...); default: the input's."))
    quality: int = option("--quality", default=95, help="JPEG/WebP quality 1-100.")
    overwrite: bool = option("--overwrite", default=False, help=(
        "Replace outputs that already exist (without it, an output made under other conditions, kept in its "
        "metadata, is an error naming the difference). Never an input, nor a photo beside an input that "
        "faceedit did not write."))
    face: str = option("--face", default=FIELD["face"].default, describes="face", parse=face_choice,
                       metavar=f"<{'|'.join(FACE_CHOICES)}|N>")
    max_faces: int = option("--max-faces", default=FIELD["max_faces"].default, describes="max_faces", min=0)
    on_no_face: str = option("--on-no-face", default="error", choices=ON_NO_FACE, help=(
        "What to do with a photo without a face: fail it, skip it, or copy it unedited (its bytes, re-encoded "
        "only for another --ext)."))
    batch_size: int = option("--batch-size", "-b", default=8, help="Face crops per model forward.")
    # the command line's None: 2 with the local engine; with Ray, the actors (faceedit.cli.apply)
    workers: int = option("--workers", default=2, given=None, show_default=False, help=(
        "Local engine: threads for decoding/detection and for encoding (default 2). Ray engine: Ray actors, "
        "each with its own model (default: one per GPU with GPU workers, else one per CPU of the cluster)."))
    max_pixels: int = option("--max-pixels", default=DEFAULT_MAX_PIXELS, min=1,
                             help="Refuse images with more pixels than this.")
    save_masks: bool = option("--save-masks", default=False, help=(
        "Also write the model's intermediate masks per face (LEGAN: expression and lighting mask) as "
        "OUTPUT_face<N>_<mask>.png."))
    # mark an output whose target did not read, or whose person changed, "unverified" (measures)
    verify: bool = option("--verify", default=False, help=(
        "Read each output's faces (expression classifier, identity network): one whose target did not read or "
        "whose person changed is 'unverified' (written; exit 1)."))
    verify_min_prob: float = option("--verify-min-prob", default=MIN_PROB, help=(
        "With --verify: the least probability the expression classifier gives the target, where it judges the "
        "target (the shipped one: neutral, happy, surprised)."))
    verify_min_identity: float = option("--verify-min-identity", default=MIN_IDENTITY, help=(
        "With --verify: the least identity similarity (cosine) of each face to the input's."))
    # edit the faces the edit would decline (faceedit.faces.reading.decline_reason: a profile, a tiny face;
    # faceedit.stage.hold: a planned move the warp cannot hold)
    force: bool = option("--force", default=False, help=(
        "Edit the faces the edit declines by default (turned past 45 degrees, eyes under 12 px apart, a move "
        "the warp cannot hold), which are otherwise left as they are and named in the record (declined) and "
        "the summary."))
    # videos: a frame edited in full at least every this many frames; between them, while the
    # faces hold still, the last key frame's edit moved onto each frame (1: every frame in full)
    key_frames: int = option("--key-frames", default=8, min=1, help=(
        "Videos: edit a frame in full at least every N frames; between them, while the faces hold still, the "
        "last such frame's edit is moved onto each frame (about twice as fast). 1: every frame in full."))
    # not options of their own: the edit's conditions (light, AUs, attributes, controls, like,
    # phase, settings), given by the command's edit flags; each output's is this request at its
    # target and strength (:meth:`request_for`)
    request: EditRequest = field(default_factory=EditRequest)
    # read each edited face of each output (Record.measured: expression, identity to the input):
    # apply --json or --verify
    measure: bool = False

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

        keyed = [s for s in self.strengths if isinstance(s, Keyed)]
        if keyed and len(self.strengths) > 1:
            raise UsageError(f"`strengths` {', '.join(map(str, self.strengths))}: key frames are one strength "
                             "over a clip; give them alone (a series of strengths is of numbers)")
        for s in self.strengths:
            if isinstance(s, Keyed):  # its values: the request's check, below
                continue
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

    def validate(self, editor: Editor) -> CheckedOptions:
        """:meth:`check`, then what needs the model: targets, a face detector with the landmarks
        the edit needs (:meth:`faceedit.api.Editor.check_detector`), strengths up to the editor's
        limit, the request's fields (:meth:`faceedit.flow.Flow.accepts`: lighting classes, AUs,
        attributes, phases, settings; then one forward on a blank crop, so that a bad value is
        a usage error before any input is read). The options checked: targets in their canonical
        names and strengths once each, the name template's condition fields bound to this run's
        values, whether the edit has a stage."""
        self.check()
        if not self.targets:
            raise UsageError("no `targets` given; valid targets: " + ", ".join(editor.targets()))
        editor.check_detector()
        targets = tuple(_once((canonical_target(t) for t in self.targets), "`targets`"))  # smile -> happy
        strengths = tuple(_once((s if isinstance(s, Keyed) else float(s) for s in self.strengths), "`strengths`"))
        for t in targets:
            editor.check_target(t)
        top = editor.max_strength
        for s in strengths:
            if not 0.0 <= (s.high if isinstance(s, Keyed) else s) <= top:
                raise UsageError(f"`strengths` {s if isinstance(s, Keyed) else format(s, 'g')}: must be "
                                 f"between 0 and {top:g}")
        if self.save_masks and not (editor.has_network and editor.loaded.model.mask_names):
            raise UsageError(f"`save_masks`: model {editor.spec.name} has no intermediate masks "
                             "(LEGAN has expression and lighting masks)")
        editor.accepts().check(self.request)
        if self.request.like is not None:  # once, before the batch: a usage error
            editor.reference_landmarks(self.request.like, max_pixels=self.max_pixels)
        checked = CheckedOptions(**{f.name: getattr(self, f.name) for f in dataclasses.fields(ApplyOptions)})
        checked = dataclasses.replace(checked, targets=targets, strengths=strengths, stage=editor.stage is not None)
        checked._dry_run(editor)
        return dataclasses.replace(checked, name_template=OutputNamer.bind(
            checked.name_template or checked.default_name_template(),
            {**checked.name_conditions(), "model": editor.spec.name}))

    def record_fields(self, stage: bool = True) -> dict[str, Any]:
        """The conditions every record of this run carries (the request's, the light as the
        run's stage applies it (``stage``: the edit has one), the face choice:
        :meth:`EditRequest.record_fields`)."""
        return dataclasses.replace(self.request, face=self.face).record_fields(stage=stage)

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
                editor.edit_crops(crop, self.request.at(target, 1.0).resolved(0.0))
            except UsageError:
                raise
            except Exception:  # not a usage problem: the batch reports it on the photos
                logger.debug("trial forward on a blank crop failed", exc_info=True)
                return


@dataclass(frozen=True)
class CheckedOptions(ApplyOptions):
    """:class:`ApplyOptions` checked against a model (:meth:`ApplyOptions.validate`): what a run
    is planned (:class:`faceedit.plan.Planner`) and edited with. ``targets`` are canonical and
    given once, ``strengths`` once, ``name_template`` has its condition fields bound;
    ``stage``: whether the edit has a stage (which draws the named lights)."""

    stage: bool = True

    def record_fields(self, stage: bool | None = None) -> dict[str, Any]:
        return super().record_fields(self.stage if stage is None else stage)


@dataclass
class Record:
    """The result for one output file (or for an input that produced none)."""

    input: str
    output: str | None
    status: str  # ok | unverified | skipped | copied | no_face | error
    target: str | None = None
    strength: float | None = None  # key frames: their text in the JSON (0@0s,1@2s)
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
    # a job's (--job) per face its edit, {"face": N, "target": ..., "strength": ..., the conditions set}
    edits: list[dict] | None = None

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
            "strength": keyed_json(self.strength),
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
        if self.edits is not None:
            rec["edits"] = self.edits
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
