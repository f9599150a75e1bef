"""``faceedit apply``: edit the faces in photos and videos.

The run is :class:`faceedit.run.ApplyRun`: the outputs planned once (:mod:`faceedit.plan`), then
written by the local engine (photos through :mod:`faceedit.pipeline`, videos through
:mod:`faceedit.video`) or by Ray actors (:mod:`faceedit.ray_engine`): the options are the same,
the engine differs.

The options that are fields of :class:`faceedit.apply_options.ApplyOptions` (targets, output,
naming, faces, checks, key frames...) are declared there, once; the command's parameters of the
same names are made from that declaration (:func:`_run_option`) and put among its own (the
model, the edit's fields, the engine, the encoding) in :data:`ORDER`."""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import sys
from contextlib import nullcontext, redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, get_type_hints

import typer
from typer.core import TyperCommand, TyperOption

from faceedit.apply_options import AS_FIELD, ApplyOptions, face_choice, flags
from faceedit.cli.common import (
    AUTO_DETECTOR,
    AUTO_PRECISION,
    EXIT_FAILED,
    PRECISION_HELP,
    SETTINGS_HELP,
    DetectorOption,
    DeviceOption,
    Precision,
    check_reference,
    errors_to_exit_codes,
    in_flag_words,
    parse_floats,
    parse_options,
    parse_settings,
    progress,
    split_list,
    start_up_over,
)
from faceedit.edits.keyed import Keyed
from faceedit.errors import UsageError
from faceedit.log import logger
from faceedit.models.request import FIELD, EditRequest
from faceedit.video.container import DEFAULT_PRESET, PRESETS

if TYPE_CHECKING:
    from faceedit.run import ApplyRun


class Engine(str, enum.Enum):
    """``--engine``: where the edits run (:func:`_applier` makes each one's applier)."""

    local = "local"  # this process: faceedit.pipeline's threads, the video engine beside it
    ray = "ray"  # Ray actors on this machine or a cluster (faceedit.ray_engine)


VideoPreset = enum.Enum("VideoPreset", {p: p for p in PRESETS}, type=str)  # type: ignore[misc]
"""``--video-preset``'s choices: the x264/x265 speed presets of :mod:`faceedit.video.container`."""

DEFAULT_VIDEO_PRESET = VideoPreset(DEFAULT_PRESET)

RUN_OPTIONS = flags()
"""The options that are :class:`~faceedit.apply_options.ApplyOptions` fields, declared there
(:class:`~faceedit.apply_options.Flag`): the command's parameters of the same names are made
from them (:func:`_run_option`)."""

CHOICES: dict[str, Any] = {name: enum.Enum("".join(w.title() for w in name.split("_")),
                                           {c: c for c in flag.choices}, type=str)
                           for name, flag in RUN_OPTIONS.items() if flag.choices}
"""The options with a closed set of words, as the parser's choices (an Enum each)."""

OnNoFace = CHOICES["on_no_face"]
"""``--on-no-face``'s choices: :data:`faceedit.apply_options.ON_NO_FACE`."""


def _parser(parse):
    """A parser for typer of ``parse``, whose ValueError becomes the parser's usage error
    naming the flag (exit 2)."""
    def parser(value: str):
        try:
            return parse(value)
        except ValueError as e:
            raise typer.BadParameter(str(e)) from None
    return parser


parse_face = _parser(face_choice)
"""``--face``: :func:`faceedit.apply_options.face_choice`, a bad word the parser's usage error."""


def _help(name: str, tail: str = "") -> str:
    """An option's help: its field's, as the edit request declares it, and what the command
    line adds."""
    return " ".join(p for p in (FIELD[name].describe(), tail) if p)


#: The command's own options whose help is a request field's (:data:`faceedit.models.request.FIELDS`),
#: with what the command line adds: parameter -> (field, tail); the run options name theirs in
#: their Flag (``describes``).
FIELD_HELP = {
    "lighting": ("lighting", "Once, not with --light; alone it means --target keep."),
    "light": ("light", "Not with --lighting; alone it means --target keep."),
    "light_strength": ("light_strength", "With --light or --lighting."),
    "au": ("aus", "Alone it means --target au (the face's own expression with these AUs set)."),
    "attr": ("attrs", "Alone it means --target keep."),
    "control": ("controls", "Alone it means --target keep."),
    "like": ("like", "Not with a named --target (a usage error: two goals); alone it means --target keep, with "
             "--au the AUs are set on the reference's expression."),
    "phase": ("phase", ""),
    **{name: (flag.describes, flag.help) for name, flag in RUN_OPTIONS.items() if flag.describes},
}


class ApplyCommand(TyperCommand):
    """``faceedit apply`` as a command: the help of its options that are request fields
    (:data:`FIELD_HELP`) is read from the request's declaration when the help is shown, so a
    named control or an attribute registered after this module was imported is listed in
    ``--help`` too."""

    def format_help(self, ctx, formatter) -> None:
        for p in self.params:
            if isinstance(p, TyperOption) and p.name in FIELD_HELP:  # typer's own click's options
                p.help = _help(*FIELD_HELP[p.name])
        super().format_help(ctx, formatter)


def _run_option(name: str) -> inspect.Parameter:
    """The command's parameter for the :class:`ApplyOptions` field ``name``, as its
    :class:`~faceedit.apply_options.Flag` declares it: a list option (repeatable,
    comma-separated) is read as text and split by :func:`_run_values`."""
    flag, declared = RUN_OPTIONS[name], _FIELDS[name]
    default = declared.default if flag.default is AS_FIELD else flag.default
    kind: Any = get_type_hints(ApplyOptions)[name]
    how: dict[str, Any] = {}
    if flag.kind != "value":
        kind = list[str]  # the default is the tuple typer reads; the command gets a list
    elif flag.choices:
        kind, default = CHOICES[name], CHOICES[name](default)
    elif flag.parse is not None:
        how["parser"] = _parser(flag.parse)
    if default is None:
        kind = kind | None
    for key in ("min", "max", "metavar"):
        if getattr(flag, key) is not None:
            how[key] = getattr(flag, key)
    if not flag.show_default:
        how["show_default"] = False
    text = _help(flag.describes, flag.help) if flag.describes else flag.help
    option = typer.Option(*flag.flags, help=text, **how)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[kind, option],
                             default=inspect.Parameter.empty if default is dataclasses.MISSING else default)


_FIELDS = {f.name: f for f in dataclasses.fields(ApplyOptions)}


def _run_values(given: dict[str, Any]) -> dict[str, Any]:
    """The :class:`ApplyOptions` fields of the run options as the command got them: lists
    split (numbers read), choices as their words."""
    values = {}
    for name, flag in RUN_OPTIONS.items():
        value = given[name]
        if flag.kind == "list":
            value = split_list(value, flag.flags[0])
        elif flag.kind == "numbers" and any("@" in v for v in value):  # key frames: 0@0s,1@2s
            value = [_keyed(",".join(split_list(value, flag.flags[0])), flag.flags[0], flag.describes)]
        elif flag.kind == "numbers":
            value = parse_floats(value, flag.flags[0])
        elif isinstance(value, enum.Enum):
            value = value.value
        values[name] = value
    return values


def _keyed(text: str, flag: str, field: str | None):
    """Key frames given to ``flag`` (``--strength 0@0s,1@2s``), each value checked as the
    request's ``field`` is (:class:`faceedit.models.request.EditRequest`); a bad one a usage
    error naming the flag and the text."""
    if field in FIELD:
        given: dict[str, Any] = {field: text}
        return getattr(EditRequest(**given), field)
    return Keyed.parse(text, f"`{flag}`")


#: ``faceedit apply``'s parameters, in the order its help lists them: the command's own (those
#: of :func:`apply`) and the run options (:data:`RUN_OPTIONS`).
ORDER = ("inputs", "model", "preset", "save_preset", "job", "targets", "out_dir", "lighting", "light", "light_strength",
         "au", "attr", "control", "blendshapes", "like", "like_neutral", "like_keep", "strengths", "recursive",
         "name_template", "ext", "quality", "overwrite", "face",
         "max_faces", "on_no_face", "detector", "device", "precision", "batch_size", "workers", "max_pixels",
         "phase", "option", "save_masks", "as_json", "verify", "verify_min_prob", "verify_min_identity", "force",
         "engine", "ray_address", "gpus_per_worker", "video_codec", "crf", "video_preset", "key_frames")


def _edit_request(*, settings: dict, phase: str | None, lighting: list[str], light: str | None,
                  light_strength: float | None, au: str | None, attr: list[str], control: list[str],
                  like: Path | None) -> EditRequest:
    """The edit's fields given on the command line as one request (target and strength are
    set per output): each value checked as the request's declaration says, a bad one a usage
    error naming its flag."""
    for value in lighting:
        if not value.strip():
            raise UsageError("--lighting '': empty; give a lighting class")
    if len(lighting) > 1:
        raise UsageError(f"--lighting given {len(lighting)} times ({', '.join(lighting)}): "
                         "give one lighting class per run")
    fields: dict[str, Any] = {"phase": phase, "lighting": lighting[0] if lighting else None, "light": light,
              "light_strength": light_strength, "aus": au,
              "attrs": parse_options(split_list(attr, "--attr"), "--attr") if attr else None,
              "controls": ",".join(split_list(control, "--control")) or None, "like": None if like is None else str(like)}
    return EditRequest.of(settings=settings, **{k: v for k, v in fields.items() if v is not None})


def apply(
    inputs: Annotated[list[str], typer.Argument(help="Image or video files, folders, glob patterns, or '-' to read paths from stdin.")],
    *,
    # required unless a preset names it (_apply)
    model: Annotated[str | None, typer.Option("--model", "-m", show_default=False, help="Registered model name or a .safetensors path (required unless the --preset or --job file names one).")] = None,
    preset: Annotated[Path | None, typer.Option("--preset", help="Options from a preset file (.toml or .json, as --save-preset and the page's 'save settings' write it; keys named as the request's fields and the run options: docs/presets.md); the options given on the command line win over its.")] = None,
    job: Annotated[Path | None, typer.Option("--job", help="One edit per person: a preset file whose `faces` lists, per face number (as --face N numbers them), its own target, strength and fields (docs/presets.md); one output per photo, named with {target} the file's stem. Photos only.")] = None,
    save_preset: Annotated[Path | None, typer.Option("--save-preset", help="Also write this run's options (model, targets, strengths, the edit's fields, the run options not at their default) as a preset file (.toml or .json) that --preset reads.")] = None,
    # a repeatable option's default is the tuple typer reads; the command gets a list (ignore[assignment])
    lighting: Annotated[list[str], typer.Option("--lighting", help=_help(*FIELD_HELP["lighting"]))] = (),  # type: ignore[assignment]
    light: Annotated[str | None, typer.Option("--light", help=_help(*FIELD_HELP["light"]))] = None,
    light_strength: Annotated[float | None, typer.Option("--light-strength", help=_help(*FIELD_HELP["light_strength"]))] = None,
    au: Annotated[list[str], typer.Option("--au", help=_help(*FIELD_HELP["au"]))] = (),  # type: ignore[assignment]
    attr: Annotated[list[str], typer.Option("--attr", help=_help(*FIELD_HELP["attr"]))] = (),  # type: ignore[assignment]
    control: Annotated[list[str], typer.Option("--control", help=_help(*FIELD_HELP["control"]))] = (),  # type: ignore[assignment]
    blendshapes: Annotated[list[str], typer.Option("--blendshapes", help="ARKit blendshapes as the stage's controls: NAME=VALUE (0..1), comma-separated (jawOpen=0.15,eyeBlinkLeft=1), or a JSON file of `faceedit au --blendshapes`; the shapes the stage cannot express are refused (docs/blendshapes.md). Alone it means --target neutral (a coefficient is absolute, as in ARKit: the shapes not given are 0).")] = (),  # type: ignore[assignment]
    like: Annotated[Path | None, typer.Option("--like", help=_help(*FIELD_HELP["like"]) + " A video (DRIVER.mp4): each photo is driven by its face frame by frame (expression, blinks, gaze, head pose, against its --like-neutral frame), written as a video with its frame count, rate and audio.")] = None,
    like_neutral: Annotated[int | None, typer.Option("--like-neutral", min=0, help="With --like VIDEO: the driver's frame its performance is read against (its face at rest). Default: the clip's own rest, read from all its frames (its usual expression with its most closed mouth, its eyes' usual opening).")] = None,
    like_keep: Annotated[list[str], typer.Option("--like-keep", help="With --like VIDEO: what the face keeps of its own: pose (its head not turned with the driver's; a video input always keeps its own head motion).")] = (),  # type: ignore[assignment]
    detector: DetectorOption = AUTO_DETECTOR,
    device: DeviceOption = "auto",
    precision: Annotated[Precision, typer.Option("--precision", case_sensitive=False, help=f"Autocast precision on GPU; {PRECISION_HELP}.")] = AUTO_PRECISION,
    phase: Annotated[str | None, typer.Option("--phase", help=_help(*FIELD_HELP["phase"]))] = None,
    option: Annotated[list[str], typer.Option("--set", help=f"Model-specific option, {SETTINGS_HELP}; each model's keys: see `faceedit models`.")] = (),  # type: ignore[assignment]
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per output on stdout, with what each edited face reads as (measured).")] = False,
    engine: Annotated[Engine, typer.Option("--engine", case_sensitive=False, help="local: this process; ray: Ray actors on this machine or a cluster (needs the ray extra of faceedit; inputs and outputs on a file system every worker sees).")] = Engine.local,
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="With --engine ray: the Ray cluster to join (auto: the one `ray start` began on this machine, or HEAD-HOST:6379); default: RAY_ADDRESS, else a Ray started on this machine's cores.")] = None,
    gpus_per_worker: Annotated[float | None, typer.Option("--gpus-per-worker", show_default=False, help="With --engine ray: GPUs each actor reserves (0.5: two share one; default 1 where the cluster has GPUs, else 0).")] = None,
    video_codec: Annotated[str | None, typer.Option("--video-codec", show_default=False, help="Videos: the encoder (libx264, libx265, libvpx-vp9, ...; default libx264, VP9 in WebM).")] = None,
    crf: Annotated[int, typer.Option("--crf", min=0, max=63, help="Videos: the encoder's constant quality (lower is better).")] = 20,
    video_preset: Annotated[VideoPreset, typer.Option("--video-preset", case_sensitive=False, help="Videos: the x264/x265 speed preset, fastest first (slower ones make smaller files).")] = DEFAULT_VIDEO_PRESET,
    **run: Any,
) -> None:
    """Edit the faces in photos and videos; one output per input per target (and strength)."""
    params = {**{k: v for k, v in locals().items() if k != "run"}, **run}
    with errors_to_exit_codes():
        params = _with_preset(params)
    _apply(**params)


def _apply(inputs: list[str], *, model: str | None, preset: Path | None, save_preset: Path | None, job: Path | None,
           lighting: list[str], light: str | None, light_strength: float | None, au: list[str], attr: list[str],
           control: list[str], blendshapes: list[str], like: Path | None, like_neutral: int | None,
           like_keep: list[str], detector: Any, device: str,
           precision: Precision, phase: str | None, option: list[str], as_json: bool, engine: Engine,
           ray_address: str | None, gpus_per_worker: float | None, video_codec: str | None, crf: int,
           video_preset: VideoPreset, **run: Any) -> None:
    """``faceedit apply`` with the preset's options in (:func:`_with_preset`)."""
    from faceedit.cli.drive import drive_inputs, is_driver
    from faceedit.stage.blendshapes import controls_spec as blendshape_controls

    if model is None:
        _missing("model")
    detector_name: str = detector.value  # the name, as the library takes it
    engine_name: str = engine.value
    with errors_to_exit_codes():
        if engine_name == "local" and (ray_address is not None or gpus_per_worker is not None):
            raise UsageError("--ray-address and --gpus-per-worker need --engine ray")
        if job is not None:
            start_up_over()
            counts = _run_job(inputs, job, model, engine=engine_name, device=device, precision=precision.value,
                              detector=detector_name, as_json=as_json, run=run)
            if counts["error"]:
                raise typer.Exit(EXIT_FAILED)
            return
        control = [*control, *blendshape_controls(blendshapes)]  # --blendshapes: the controls they stand for
        au_spec = ",".join(split_list(au, "--au")) or None
        targets = split_list(run["targets"], "--target") or (["neutral"] if blendshapes else ["au"] if au_spec else ["keep"] if lighting or light or attr or control
                                          or like else [])
        if not targets:
            raise UsageError("give --target (e.g. --target happy), or --lighting / --light / --au / --attr / --control / --like")
        if like is not None and is_driver(like):  # a video: the photos are driven, one video each
            start_up_over()
            failed = drive_inputs(inputs, like, out_dir=run["out_dir"], model=model, neutral=like_neutral,
                                  ext=run["ext"], overwrite=run["overwrite"], recursive=run["recursive"],
                                  device=device, precision=precision.value, detector=detector_name,
                                  max_pixels=run["max_pixels"],
                                  encode=_encoding(video_codec, crf, video_preset.value), as_json=as_json,
                                  keep=split_list(like_keep, "--like-keep"))
            if failed:
                raise typer.Exit(EXIT_FAILED)
            return
        if like is not None:
            check_reference(like, run["max_pixels"])
        request = _edit_request(settings=parse_settings(option, "--set"), phase=phase, lighting=lighting,
                                light=light, light_strength=light_strength, au=au_spec, attr=attr,
                                control=control, like=like)
        workers = run["workers"]
        opts = ApplyOptions(**{**_run_values(run), "targets": targets, "request": request,
                               "workers": 2 if workers is None or engine_name == "ray" else workers,
                               "measure": as_json or run["verify"]})
        opts.check()  # before the model loads
        opts.check_model(model)  # --target, --lighting, --au, --attr, --set, --phase: no weights read
        if save_preset is not None:
            from faceedit.preset_file import preset_of, write_preset

            write_preset(save_preset, preset_of(model, opts))
            logger.info("preset written: %s", save_preset)
        encode = _encoding(video_codec, crf, video_preset.value)
        applier = _applier(opts, model, engine_name, inputs, device=device, precision=precision.value, detector=detector_name,
                           ray_address=ray_address, workers=workers, gpus_per_worker=gpus_per_worker, encode=encode)
        counts = _run(applier, inputs, engine=engine_name, as_json=as_json)
    if counts["error"] or counts["unverified"]:
        raise typer.Exit(EXIT_FAILED)


#: The preset's keys whose parameter is named otherwise (``name``: none, the preset's own name).
PRESET_PARAMS: dict[str, str | None] = {"name": None, "target": "targets", "strength": "strengths", "aus": "au",
                                        "controls": "control", "attrs": "attr", "settings": "option"}


def _context():
    """The option parser's context of the running command (Typer's own copy of click's where it
    has one)."""
    try:
        from typer._click.globals import get_current_context
    except ImportError:  # a Typer without its own copy
        from click import get_current_context
    return get_current_context()


def _given(names) -> set[str]:
    """The parameters of ``names`` given on the command line (or by the environment), not left at
    their default."""
    ctx = _context()
    return {n for n in names if getattr(ctx.get_parameter_source(n), "name", None) in
            ("COMMANDLINE", "ENVIRONMENT", "PROMPT")}


def _missing(name: str) -> NoReturn:
    """The parser's own error for a required option left out (exit 2, one line)."""
    try:
        from typer._click.exceptions import MissingParameter
    except ImportError:  # a Typer without its own copy
        from click.exceptions import MissingParameter  # type: ignore[assignment]
    ctx = _context()
    raise MissingParameter(ctx=ctx, param=next(p for p in ctx.command.params if p.name == name))


def _with_preset(params: dict[str, Any]) -> dict[str, Any]:
    """The command's parameters with a ``--preset`` file's values in place of those the command
    line did not give (:func:`faceedit.preset_file.read_preset`: each value checked, a bad one a
    usage error naming the file and its key). ``--light`` or ``--lighting`` given replaces the
    preset's light, whichever it names. A value that is no file and has no preset's suffix is a
    usage error naming it (and ``--video-preset`` where it is an x264/x265 speed word)."""
    from faceedit.preset_file import SUFFIXES, read_preset

    path = params["preset"]
    if params["job"] is not None:
        if path is not None:
            raise UsageError("--preset and --job together: give one file (a job is a preset with faces)")
        path = params["job"]
    if path is None:
        return params
    given = _given(params)
    if path.suffix.lower() not in SUFFIXES and not path.exists():
        flag = "--preset" if params["job"] is None else "--job"
        speed = params["job"] is None and str(path).lower() in PRESETS
        hint = f"; the x264/x265 speed is --video-preset {str(path).lower()}" if speed else ""
        raise UsageError(f"{flag} {path}: no such file (it reads a preset file, {' or '.join(SUFFIXES)}){hint}")
    edit_flags = sorted(given & {"targets", "strengths", "lighting", "light", "light_strength", "au", "attr", "control",
                                 "blendshapes", "like", "phase", "option", "face", "max_faces"})
    if params["job"] is not None and params["save_preset"] is not None:
        raise UsageError("--save-preset with --job: the job file is the preset already")
    if params["job"] is not None and edit_flags:
        raise UsageError(f"--job {path} with `{edit_flags[0]}`: give each face's edit in the job file")
    values = read_preset(path)
    if params["job"] is not None and "faces" not in values:
        raise UsageError(f"--job {path}: no faces key: a job lists one edit per face ([[faces]] face = 0 ...)")
    if params["job"] is None and "faces" in values:
        raise UsageError(f"--preset {path}: it lists faces, a job's edits per face: give it as --job")
    if values.get("name"):
        logger.info("preset %s (%s)", values["name"], path)
    out = dict(params)
    for key, value in values.items():
        if key == "faces":
            out["job_edits"] = value
            continue
        name = PRESET_PARAMS.get(key, key)
        if name is not None and name not in given:
            out[name] = _as_given(key, value)
    if given & {"light", "lighting"}:
        out["light"], out["lighting"] = params["light"], params["lighting"]
    return out


def _run_job(inputs: list[str], path: Path, model: str | None, *, engine: str, device: str, precision: str,
             detector: str, as_json: bool, run: dict[str, Any]) -> dict[str, int]:
    """``--job FILE``: its faces' edits (:class:`faceedit.job_run.JobRun`) over the inputs, with
    the run options given (or the job file's), reported as a run's."""
    from faceedit.api import Editor
    from faceedit.job_run import JobRun

    if model is None:
        _missing("model")
    if engine != "local":
        raise UsageError("--job runs on the local engine (leave --engine out)")
    if run["verify"] or run["save_masks"]:
        raise UsageError("--job does not take --verify or --save-masks")
    edits = dict(run.pop("job_edits"))
    workers = run["workers"]
    opts = ApplyOptions(**{**_run_values(run), "targets": ["keep"], "workers": 2 if workers is None else workers,
                           "measure": False})
    opts.check()
    editor = Editor.from_pretrained(model, device=device, precision=precision, detector=detector)
    applier = JobRun(editor, opts, edits, path.stem)
    logger.info("model %s (%s) on %s, detector %s; job %s: faces %s", editor.spec.name, editor.spec.method,
                editor.device, editor.detector.name, path, ", ".join(map(str, edits)))
    return _run(applier, inputs, engine=engine, as_json=as_json)  # type: ignore[arg-type]


def _as_given(key: str, value: Any) -> Any:
    """A preset's checked value (:func:`~faceedit.preset_file.read_preset`'s) as the command's
    parameter for it holds what the command line gives: text for the lists, a word of a choice
    as its Enum, numbers written so that they read back the same."""
    from faceedit.models.request import attr_word

    def number(v: float) -> str:
        return repr(float(v))

    if key in ("target", "lighting"):
        return list(value) if isinstance(value, tuple) else [value]
    if key == "strength":
        return [number(v) for v in value]
    if key in ("aus", "controls"):
        return [",".join(f"{k}={number(v)}" for k, v in value.items())]
    if key == "attrs":
        return [",".join(f"{k}={attr_word(v) if isinstance(v, str) or v in (0.0, 1.0) else number(v)}"
                         for k, v in value.items())]
    if key == "settings":
        return [f"{k}={json.dumps(v)}" for k, v in value.items()]
    if key == "like":
        return Path(value)
    if key in CHOICES:
        return CHOICES[key](value)
    flag = RUN_OPTIONS.get(key)
    if flag is not None and flag.kind != "value":
        return [",".join(str(v) for v in value)]
    return value


def _signature(command) -> inspect.Signature:
    """``command``'s parameters with the run options made from their declaration
    (:func:`_run_option`) in their place, in :data:`ORDER`: the signature typer reads."""
    own = inspect.signature(command, eval_str=True).parameters
    made = set(own) - {"run"} | set(RUN_OPTIONS)
    if made != set(ORDER):
        raise RuntimeError(f"faceedit apply: ORDER lacks {sorted(made - set(ORDER))}, "
                           f"names no parameter {sorted(set(ORDER) - made)}")
    return inspect.Signature([own[name] if name in own else _run_option(name) for name in ORDER],
                             return_annotation=None)


apply.__signature__ = _signature(apply)  # type: ignore[attr-defined]


def _encoding(codec: str | None, crf: int, preset: str) -> dict:
    """The videos' encoding (``--video-codec``, ``--crf``, ``--preset``: the keywords of
    :class:`faceedit.video.container.EncodeOptions`); a usage error now for an encoder this
    FFmpeg lacks, where PyAV is installed (where it is not, each video is an error record
    naming the extra). The parser has checked the others."""
    encode = {"codec": codec, "crf": crf, "preset": preset}
    if codec is not None:
        from faceedit.video.container import EncodeOptions, require_av

        try:
            require_av()
        except UsageError:
            return encode
        EncodeOptions(codec=codec, crf=crf, preset=preset).check()
    return encode


def _applier(opts, model: str, engine: str, inputs: list[str], *, device: str, precision: str, detector: str,
             ray_address: str | None, workers: int | None, gpus_per_worker: float | None,
             encode: dict) -> ApplyRun:
    """The run (:class:`faceedit.run.ApplyRun`): the model loaded (or, with Ray, checked and
    loaded here to plan, and by each actor to edit), the outputs planned with it, and the engine
    that writes them (this process, or Ray actors)."""
    from faceedit.run import ApplyRun

    if engine == "ray":
        from faceedit.api import Editor
        from faceedit.ray_engine import import_ray, ray_run

        import_ray()  # missing: a usage error naming the extra, before the model loads
        # here the model only checks the options and names the outputs: the actors edit
        editor = Editor.from_pretrained(model, device="cpu", precision="auto", detector=detector)
        start_up_over()
        run = ray_run(editor, opts, model=model, device=device, precision=precision, detector=detector,
                      address=ray_address, workers=workers, gpus_per_worker=gpus_per_worker, encode=encode)
        logger.info("model %s (%s) on Ray actors (device %s), detector %s",
                    editor.spec.name, editor.spec.method, device, detector)
        return run
    try:
        run = ApplyRun.load_local(model, opts, inputs, device=device, precision=precision, detector=detector,
                                  encode=encode)
    finally:
        start_up_over()
    editor = run.engine.editor  # type: ignore[attr-defined]
    logger.info("model %s (%s) on %s, detector %s",
                editor.spec.name, editor.spec.method, editor.device, editor.detector.name)
    return run


def _run(applier: ApplyRun, inputs: list[str], *, engine: str, as_json: bool) -> dict[str, int]:
    """Run ``applier`` over the inputs: the records (on stdout with ``--json``), the progress bar,
    the summary on stderr; the count of records by status. Interrupted (SIGINT, SIGTERM): the
    summary says so and the command exits with 128 + the signal."""
    from faceedit.io.inputs import collect_unread
    from faceedit.signals import ignore_stop_signals, signal_name

    # "aside": inputs not edited as they bear the output name of another input (skipped records)
    counts = {"ok": 0, "unverified": 0, "skipped": 0, "aside": 0, "copied": 0, "no_face": 0, "error": 0}
    per_input = len(applier.opts.targets) * len(applier.opts.strengths)
    whole_failures = 0  # inputs that failed as a whole (a missing file...): one record each
    declined: set[tuple[str, int]] = set()  # (input, face number) left as they are
    # Ctrl-C: ApplyRun.run stops taking inputs, finishes the photos in progress, joins its
    # threads and yields the records of the inputs done (a second Ctrl-C is ignored); the
    # summary says so and the exit status is 130 (128 + SIGINT), as for a shell.
    interrupted = False
    records = applier.run(inputs, stdin=sys.stdin)
    stdout = sys.stdout  # the records only: Ray prints its notices (a worker died) on
    # sys.stdout, which goes to stderr while the Ray engine runs
    with progress("outputs") as advance, collect_unread() as unread, (
            redirect_stdout(sys.stderr) if engine == "ray" else nullcontext()):
        try:
            for rec in records:
                if rec.error:  # an input's error, in the words of the command line as the others
                    rec.error = in_flag_words(rec.error)
                if getattr(rec, "reason", None):  # a video's record has the keys it was given
                    rec.reason = in_flag_words(rec.reason)
                key = "aside" if rec.status == "skipped" and rec.output is None else rec.status
                counts[key] = counts.get(key, 0) + 1
                whole_failures += rec.target is None
                declined.update((rec.input, d["face"]) for d in getattr(rec, "declined", None) or [])
                if rec.status == "error":
                    logger.error("%s: %s", rec.input, rec.error)
                elif rec.status == "unverified":
                    logger.warning("%s: %s unverified: %s", rec.input, rec.output, rec.error)
                elif rec.status == "no_face":
                    logger.warning("%s: no face found, skipped", rec.input)
                if as_json:
                    stdout.write(json.dumps(rec.to_json()) + "\n")
                    stdout.flush()
                # every input is known once the first record comes (ApplyRun.input_paths)
                advance(total=len(applier.input_paths) * per_input + whole_failures)
        except KeyboardInterrupt:  # where run() could not take SIGINT over, or after it ended
            records.close()  # cancels its queued work and joins its threads
            interrupted = True
    import signal

    stop_signal: int = signal.SIGINT  # a KeyboardInterrupt out of the iteration
    if not interrupted and applier.interrupted:
        interrupted, stop_signal = True, applier.stop_signal
    if interrupted:  # the process ends now: a further Ctrl-C or SIGTERM is ignored, as promised,
        ignore_stop_signals()  # through the summary and the interpreter's exit (a while with torch)
    unfinished = applier.unfinished
    logger.info(
        "%d written%s%s, %d skipped (exist)%s, %d copied, %d without face, %d failed%s%s",
        counts["ok"] + counts["unverified"], f" ({counts['unverified']} unverified)" if applier.opts.verify else "",
        f", {len(declined)} face{'s' * (len(declined) != 1)} declined (--force edits them)" if declined else "",
        counts["skipped"], f", {counts['aside']} not edited (named as the output of another input)"
        if counts["aside"] else "", counts["copied"], counts["no_face"], counts["error"],
        f", {len(unread)} not read (image formats faceedit does not read: "
        f"{_kinds(unread)}; -v lists them)" if unread else "",
        f"; interrupted ({signal_name(stop_signal)})" + (
            f": {unfinished} input{'s' * (unfinished != 1)} not done" if unfinished else "")
        if interrupted else "",
    )
    if interrupted:
        raise typer.Exit(128 + stop_signal)  # 130 for Ctrl-C, 143 for SIGTERM, as a shell says
    return counts


def _kinds(paths: list[str]) -> str:
    """``GIF, HEIC`` for a list of file paths."""
    return ", ".join(sorted({Path(p).suffix[1:].upper() for p in paths}))
