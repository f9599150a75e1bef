"""``faceedit apply``: edit the faces in photos and videos.

The run is :class:`faceedit.run.ApplyRun`: the outputs planned once (:mod:`faceedit.plan`), then
written by the local engine (photos through :mod:`faceedit.pipeline`, videos through
:mod:`faceedit.video`) or by Ray actors (:mod:`faceedit.ray_engine`): the options are the same,
the engine differs."""

from __future__ import annotations

import enum
import json
import sys
from contextlib import nullcontext, redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import click
import typer
from typer.core import TyperCommand

from faceedit.analysis.measure import MIN_IDENTITY, MIN_PROB
from faceedit.cli.common import (
    AUTO_DETECTOR,
    AUTO_PRECISION,
    EXIT_FAILED,
    PRECISION_HELP,
    SETTINGS_HELP,
    DetectorOption,
    DeviceOption,
    Precision,
    errors_to_exit_codes,
    in_flag_words,
    parse_floats,
    parse_options,
    parse_settings,
    progress,
    split_list,
)
from faceedit.errors import FaceEditError, UsageError
from faceedit.log import logger
from faceedit.models.request import FIELD, EditRequest
from faceedit.video.container import DEFAULT_PRESET, PRESETS

if TYPE_CHECKING:
    from faceedit.run import ApplyRun


class OnNoFace(str, enum.Enum):
    """``--on-no-face``: what becomes of a photo without a face (``ApplyOptions.on_no_face``;
    the same words as ``faceedit.apply_options.ON_NO_FACE``, which a test holds them to)."""

    error = "error"  # the photo fails (exit 1)
    skip = "skip"  # nothing is written for it
    copy = "copy"  # the input's bytes under the output's name (encoded only into another format)


class Engine(str, enum.Enum):
    """``--engine``: where the edits run (:func:`_applier` makes each one's applier)."""

    local = "local"  # this process: faceedit.pipeline's threads, the video engine beside it
    ray = "ray"  # Ray actors on this machine or a cluster (faceedit.ray_engine)


VideoPreset = enum.Enum("VideoPreset", {p: p for p in PRESETS}, type=str)  # type: ignore[misc]
"""``--preset``'s choices: the x264/x265 speed presets of :mod:`faceedit.video.container`."""

DEFAULT_VIDEO_PRESET = VideoPreset(DEFAULT_PRESET)

FACE_CHOICES = ("all", "largest", "N")
"""``--face``'s choices as the help lists them (N: a face number), the words of
``ApplyOptions.face`` and :func:`faceedit.flow.select_faces` (a test holds them to both)."""


def parse_face(value: str) -> str:
    """``--face``: all, largest or a face number (faces numbered largest first, from 0), any
    case; anything else a usage error naming the flag, from the parser (exit 2)."""
    face = value.strip().lower()
    if face in FACE_CHOICES[:2] or face.isdigit():
        return face
    raise typer.BadParameter(f"{value!r} is not one of all, largest, or a face number N (0 = the largest face)")


def _help(name: str, tail: str = "") -> str:
    """An option's help: its field's, as the edit request declares it, and what the command
    line adds."""
    return " ".join(p for p in (FIELD[name].describe(), tail) if p)


#: The options whose help is a request field's (:data:`faceedit.models.request.FIELDS`), with
#: what the command line adds: parameter -> (field, tail).
FIELD_HELP = {
    "lighting": ("lighting", "Once, not with --light; alone it means --target keep."),
    "light": ("light", "Not with --lighting; alone it means --target keep."),
    "light_strength": ("light_strength", "With --light or --lighting."),
    "au": ("aus", "Alone it means --target au (the face's own expression with these AUs set)."),
    "attr": ("attrs", "Alone it means --target keep."),
    "control": ("controls", "Alone it means --target keep."),
    "like": ("like", "Not with a named --target (a usage error: two goals); alone it means --target keep, with "
             "--au the AUs are set on the reference's expression."),
    "strength": ("strength", "Several (0,0.5,1) write a series."),
    "face": ("face", ""),
    "max_faces": ("max_faces", ""),
    "phase": ("phase", ""),
}


class ApplyCommand(TyperCommand):
    """``faceedit apply`` as a command: the help of its options that are request fields
    (:data:`FIELD_HELP`) is read from the request's declaration when the help is shown, so a
    named control or an attribute registered after this module was imported is listed in
    ``--help`` too."""

    def format_help(self, ctx, formatter) -> None:
        for p in self.params:
            if isinstance(p, click.Option) and p.name in FIELD_HELP:
                p.help = _help(*FIELD_HELP[p.name])
        super().format_help(ctx, formatter)


def _default(name: str):
    """An option's default: its field's."""
    return FIELD[name].default


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
    model: Annotated[str, typer.Option("--model", "-m", help="Registered model name or a .safetensors path.")],
    # a repeatable option's default is the tuple typer reads; the command gets a list (ignore[assignment])
    target: Annotated[list[str], typer.Option("--target", "-t", help="Target(s), comma-separated or repeated: happy,sad.")] = (),  # type: ignore[assignment]
    out: Annotated[str, typer.Option("--out", "-o", help="Output folder (created if missing).")],
    lighting: Annotated[list[str], typer.Option("--lighting", help=_help(*FIELD_HELP["lighting"]))] = (),  # type: ignore[assignment]
    light: Annotated[str | None, typer.Option("--light", help=_help(*FIELD_HELP["light"]))] = None,
    light_strength: Annotated[float | None, typer.Option("--light-strength", help=_help(*FIELD_HELP["light_strength"]))] = None,
    au: Annotated[list[str], typer.Option("--au", help=_help(*FIELD_HELP["au"]))] = (),  # type: ignore[assignment]
    attr: Annotated[list[str], typer.Option("--attr", help=_help(*FIELD_HELP["attr"]))] = (),  # type: ignore[assignment]
    control: Annotated[list[str], typer.Option("--control", help=_help(*FIELD_HELP["control"]))] = (),  # type: ignore[assignment]
    blendshapes: Annotated[list[str], typer.Option("--blendshapes", help="ARKit blendshapes as the stage's controls: NAME=VALUE (0..1), comma-separated (jawOpen=0.15,eyeBlinkLeft=1), or a JSON file of `faceedit au --blendshapes`; the shapes the stage cannot express are refused (docs/blendshapes.md). Alone it means --target neutral (a coefficient is absolute, as in ARKit: the shapes not given are 0).")] = (),  # type: ignore[assignment]
    like: Annotated[Path | None, typer.Option("--like", help=_help(*FIELD_HELP["like"]) + " A video (DRIVER.mp4): each photo is driven by its face frame by frame (expression, blinks, gaze, head pose, against its --like-neutral frame), written as a video with its frame count, rate and audio.")] = None,
    like_neutral: Annotated[int, typer.Option("--like-neutral", min=0, help="With --like VIDEO: the driver's frame its performance is read against (its face at rest).")] = 0,
    like_keep: Annotated[list[str], typer.Option("--like-keep", help="With --like VIDEO: what the face keeps of its own: pose (its head not turned with the driver's; a video input always keeps its own head motion).")] = (),  # type: ignore[assignment]
    strength: Annotated[list[str], typer.Option("--strength", "-s", help=_help(*FIELD_HELP["strength"]))] = ("1",),  # type: ignore[assignment]
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Descend into sub-folders.")] = False,
    name: Annotated[str | None, typer.Option("--name", show_default=False, help="Output name template; fields {stem} {name} {ext} {target} {strength} {relparent} "
        "{index} (the input's position in the input list, from 0) {lighting} {au} {attr} {control} {like} {model}. "
        "Default: {stem}_{target}{ext} with the conditions given (_{lighting}, _{au}, _{attr}, _{control}, _{like}, "
        "_{strength} unless 1), under {relparent}/ with -r.")] = None,
    ext: Annotated[str | None, typer.Option("--ext", help="Output format by extension: a photo's (.png, .jpg, ...) or a video's container (.mp4, .mkv, .webm, ...); default: the input's.")] = None,
    quality: Annotated[int, typer.Option("--quality", help="JPEG/WebP quality 1-100.")] = 95,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace outputs that already exist (without it, an output made under other conditions, kept in its metadata, is an error naming the difference). Never an input, nor a photo beside an input that faceedit did not write.")] = False,
    face: Annotated[str, typer.Option("--face", parser=parse_face, metavar=f"<{'|'.join(FACE_CHOICES)}>", help=_help(*FIELD_HELP["face"]))] = _default("face"),
    max_faces: Annotated[int, typer.Option("--max-faces", min=0, help=_help(*FIELD_HELP["max_faces"]))] = _default("max_faces"),
    on_no_face: Annotated[OnNoFace, typer.Option("--on-no-face", help="What to do with a photo without a face: fail it, skip it, or copy it unedited (its bytes, re-encoded only for another --ext).")] = OnNoFace.error,
    detector: DetectorOption = AUTO_DETECTOR,
    device: DeviceOption = "auto",
    precision: Annotated[Precision, typer.Option("--precision", case_sensitive=False, help=f"Autocast precision on GPU; {PRECISION_HELP}.")] = AUTO_PRECISION,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", help="Face crops per model forward.")] = 8,
    workers: Annotated[int | None, typer.Option("--workers", show_default=False, help="Local engine: threads for decoding/detection and for encoding (default 2). Ray engine: Ray actors, each with its own model (default: one per GPU with GPU workers, else one per CPU of the cluster).")] = None,
    max_pixels: Annotated[int, typer.Option("--max-pixels", min=1, help="Refuse images with more pixels than this.")] = 100_000_000,
    phase: Annotated[str | None, typer.Option("--phase", help=_help(*FIELD_HELP["phase"]))] = None,
    option: Annotated[list[str], typer.Option("--set", help=f"Model-specific option, {SETTINGS_HELP}; each model's keys: see `faceedit models`.")] = (),  # type: ignore[assignment]
    save_masks: Annotated[bool, typer.Option("--save-masks", help="Also write the model's intermediate masks per face (LEGAN: expression and lighting mask) as OUTPUT_face<N>_<mask>.png.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per output on stdout, with what each edited face reads as (measured).")] = False,
    verify: Annotated[bool, typer.Option("--verify", help="Read each output's faces (expression classifier, identity network): one whose target did not read or whose person changed is 'unverified' (written; exit 1).")] = False,
    verify_min_prob: Annotated[float, typer.Option("--verify-min-prob", help="With --verify: the least probability the expression classifier gives the target, where it judges the target (the shipped one: neutral, happy, surprised).")] = MIN_PROB,
    verify_min_identity: Annotated[float, typer.Option("--verify-min-identity", help="With --verify: the least identity similarity (cosine) of each face to the input's.")] = MIN_IDENTITY,
    force: Annotated[bool, typer.Option("--force", help="Edit the faces the edit declines by default (turned past 45 degrees, eyes under 12 px apart), which are otherwise left as they are and named in the record (declined) and the summary.")] = False,
    engine: Annotated[Engine, typer.Option("--engine", case_sensitive=False, help="local: this process; ray: Ray actors on this machine or a cluster (needs the ray extra of faceedit; inputs and outputs on a file system every worker sees).")] = Engine.local,
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="With --engine ray: the Ray cluster to join (auto: the one `ray start` began on this machine, or HEAD-HOST:6379); default: RAY_ADDRESS, else a Ray started on this machine's cores.")] = None,
    gpus_per_worker: Annotated[float | None, typer.Option("--gpus-per-worker", show_default=False, help="With --engine ray: GPUs each actor reserves (0.5: two share one; default 1 where the cluster has GPUs, else 0).")] = None,
    video_codec: Annotated[str | None, typer.Option("--video-codec", show_default=False, help="Videos: the encoder (libx264, libx265, libvpx-vp9, ...; default libx264, VP9 in WebM).")] = None,
    crf: Annotated[int, typer.Option("--crf", min=0, max=63, help="Videos: the encoder's constant quality (lower is better).")] = 20,
    preset: Annotated[VideoPreset, typer.Option("--preset", case_sensitive=False, help="Videos: the x264/x265 speed preset, fastest first (slower ones make smaller files).")] = DEFAULT_VIDEO_PRESET,
    key_frames: Annotated[int, typer.Option("--key-frames", min=1, help="Videos: edit a frame in full at least every N frames; between them, while the faces hold still, the last such frame's edit is moved onto each frame (about twice as fast). 1: every frame in full.")] = 8,
) -> None:
    """Edit the faces in photos and videos; one output per input per target (and strength)."""
    from faceedit.apply_options import ApplyOptions
    from faceedit.cli.drive import drive_inputs, is_driver
    from faceedit.stage.blendshapes import controls_spec as blendshape_controls

    detector_name: str = detector.value  # the name, as the library takes it
    engine_name: str = engine.value
    with errors_to_exit_codes():
        if engine_name == "local" and (ray_address is not None or gpus_per_worker is not None):
            raise UsageError("--ray-address and --gpus-per-worker need --engine ray")
        control = [*control, *blendshape_controls(blendshapes)]  # --blendshapes: the controls they stand for
        au_spec = ",".join(split_list(au, "--au")) or None
        targets = split_list(target, "--target") or (["neutral"] if blendshapes else ["au"] if au_spec else ["keep"] if lighting or light or attr or control
                                          or like else [])
        if not targets:
            raise UsageError("give --target (e.g. --target happy), or --lighting / --light / --au / --attr / --control / --like")
        if like is not None and is_driver(like):  # a video: the photos are driven, one video each
            failed = drive_inputs(inputs, like, out_dir=out, model=model, neutral=like_neutral, ext=ext,
                                  overwrite=overwrite, recursive=recursive, device=device,
                                  precision=precision.value, detector=detector_name, max_pixels=max_pixels,
                                  encode=_encoding(video_codec, crf, preset.value), as_json=as_json,
                                  keep=split_list(like_keep, "--like-keep"))
            if failed:
                raise typer.Exit(EXIT_FAILED)
            return
        if like is not None:
            _check_reference(like, max_pixels)
        request = _edit_request(settings=parse_settings(option, "--set"), phase=phase, lighting=lighting,
                                light=light, light_strength=light_strength, au=au_spec, attr=attr,
                                control=control, like=like)
        opts = ApplyOptions(
            targets=targets,
            out_dir=out,
            strengths=parse_floats(strength, "--strength"),
            name_template=name,
            ext=ext,
            quality=quality,
            overwrite=overwrite,
            recursive=recursive,
            batch_size=batch_size,
            face=face,
            max_faces=max_faces,
            on_no_face=on_no_face.value,
            max_pixels=max_pixels,
            workers=2 if workers is None or engine_name == "ray" else workers,
            request=request,
            save_masks=save_masks,
            measure=as_json or verify,
            verify=verify,
            verify_min_prob=verify_min_prob,
            verify_min_identity=verify_min_identity,
            force=force,
            key_frames=key_frames,
        )
        opts.check()  # before the model loads
        opts.check_model(model)  # --target, --lighting, --au, --attr, --set, --phase: no weights read
        encode = _encoding(video_codec, crf, preset.value)
        applier = _applier(opts, model, engine_name, device=device, precision=precision.value, detector=detector_name,
                           ray_address=ray_address, workers=workers, gpus_per_worker=gpus_per_worker, encode=encode)
        counts = _run(applier, opts, inputs, engine=engine_name, as_json=as_json)
    if counts["error"] or counts["unverified"]:
        raise typer.Exit(EXIT_FAILED)


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


def _applier(opts, model: str, engine: str, *, device: str, precision: str, detector: str,
             ray_address: str | None, workers: int | None, gpus_per_worker: float | None,
             encode: dict) -> ApplyRun:
    """The run (:class:`faceedit.run.ApplyRun`): the model loaded (or, with Ray, checked and
    loaded here to plan, and by each actor to edit), the outputs planned with it, and the engine
    that writes them (this process, or Ray actors)."""
    from faceedit.api import Editor
    from faceedit.run import ApplyRun

    if engine == "ray":
        from faceedit.ray_engine import import_ray, ray_run

        import_ray()  # missing: a usage error naming the extra, before the model loads
        # here the model only checks the options and names the outputs: the actors edit
        editor = Editor.from_pretrained(model, device="cpu", precision="auto", detector=detector)
        run = ray_run(editor, opts, model=model, device=device, precision=precision, detector=detector,
                      address=ray_address, workers=workers, gpus_per_worker=gpus_per_worker, encode=encode)
        logger.info("model %s (%s) on Ray actors (device %s), detector %s",
                    editor.spec.name, editor.spec.method, device, detector)
        return run
    editor = Editor.from_pretrained(model, device=device, precision=precision, detector=detector)
    run = ApplyRun.local(editor, opts, encode=encode)
    logger.info("model %s (%s) on %s, detector %s",
                editor.spec.name, editor.spec.method, editor.device, editor.detector.name)
    return run


def _run(applier: ApplyRun, opts, inputs: list[str], *, engine: str, as_json: bool) -> dict[str, int]:
    """Run ``applier`` over the inputs: the records (on stdout with ``--json``), the progress bar,
    the summary on stderr; the count of records by status. Interrupted (SIGINT, SIGTERM): the
    summary says so and the command exits with 128 + the signal."""
    from faceedit.io.inputs import collect_unread
    from faceedit.signals import ignore_stop_signals, signal_name

    # "aside": inputs not edited as they bear the output name of another input (skipped records)
    counts = {"ok": 0, "unverified": 0, "skipped": 0, "aside": 0, "copied": 0, "no_face": 0, "error": 0}
    per_input = len(opts.targets) * len(opts.strengths)
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
        counts["ok"] + counts["unverified"], f" ({counts['unverified']} unverified)" if opts.verify else "",
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


def _check_reference(like: Path, max_pixels: int) -> None:
    """The --like photo read once, before the model loads and the batch starts: one usage error
    naming it (not the same error on every input photo) if it is missing, a folder, empty, not an
    image, or larger than --max-pixels. Its face is looked for once the model's detector is
    there (``ApplyOptions.validate``)."""
    from faceedit.io.decode import read_image

    if like.is_dir():
        raise UsageError(f"--like {like}: is a folder; give one reference photo")
    try:
        read_image(like, max_pixels=max_pixels)
    except FaceEditError as e:
        raise UsageError(f"--like {like}: {e.reason}") from None


def _kinds(paths: list[str]) -> str:
    """``GIF, HEIC`` for a list of file paths."""
    return ", ".join(sorted({Path(p).suffix[1:].upper() for p in paths}))
