"""The ``faceedit`` command: a thin layer over :mod:`faceedit.api` and :mod:`faceedit.pipeline`.

Contract for scripts: results go to stdout only with ``--json`` (one JSON object per line); logs,
errors and the progress bar (only on a terminal) go to stderr. Exit codes: 0 everything
succeeded, 1 some inputs failed (the others were still processed) or the model could not be
loaded, 2 usage error (unknown model, target or option), 130 interrupted by Ctrl-C and 143 by
SIGTERM (how batch schedulers stop a job): the outputs already written are reported and kept
whole, the photos in progress finished; a second signal is ignored while it stops.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager, nullcontext, redirect_stdout
from pathlib import Path
from typing import List, Optional

import typer

from faceedit.errors import FaceEditError, UsageError
from faceedit.log import logger, setup_logging

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Edit facial expression, lighting and attributes in photographs.",
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _no_type_for_flags() -> None:
    """Typer's help shows ``<bool>`` beside flags (``--json <bool>``) and ``<int>`` beside
    counters (``-v``), as if they took a value: show no type for options that take none."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich
    if getattr(shown, "_faceedit", False):
        return

    def display_type_rich(self, ctx):
        return None if self.is_flag or self.count else shown(self, ctx)

    display_type_rich._faceedit = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_no_type_for_flags()

DETECTORS = "{detectors}"
"""Where an option's help lists the face detectors: replaced, when help is shown, by the real
list of backends (``faceedit.faces.detect.DETECTOR_NAMES``, so the help cannot drift from it);
importing that module at every start would cost 0.3 s (OpenCV)."""


def _detectors_text() -> str:
    from faceedit.faces.detect import AUTO_ORDER, DETECTOR_NAMES

    return (f"auto (the first of {', '.join(AUTO_ORDER)} that is available) | "
            + " | ".join(DETECTOR_NAMES))


def _help_lists_detectors() -> None:
    """Fill :data:`DETECTORS` in the help of a command's options when its help is shown."""
    from typer.core import TyperCommand

    shown = TyperCommand.format_help
    if getattr(shown, "_faceedit", False):
        return

    def format_help(self, ctx, formatter):
        if any(DETECTORS in (getattr(p, "help", None) or "") for p in self.params):
            text = _detectors_text()
            for p in self.params:
                if getattr(p, "help", None):
                    p.help = p.help.replace(DETECTORS, text)
        return shown(self, ctx, formatter)

    format_help._faceedit = True  # type: ignore[attr-defined]
    TyperCommand.format_help = format_help  # type: ignore[method-assign]


_help_lists_detectors()


def _fail(message: str, code: int) -> None:
    logger.error(message)
    raise typer.Exit(code)


@contextmanager
def _errors_to_exit_codes():
    """Usage errors -> exit 2, any other FaceEditError -> exit 1, always as one stderr line."""
    try:
        yield
    except UsageError as e:
        _fail(str(e), EXIT_USAGE)
    except FaceEditError as e:
        _fail(str(e), EXIT_FAILED)


def _split_list(values: List[str] | None) -> list[str]:
    """``--target a,b --target c`` -> [a, b, c]."""
    out: list[str] = []
    for v in values or []:
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return out


def _parse_floats(values: List[str] | None, name: str) -> list[float]:
    try:
        return [float(v) for v in _split_list(values)]
    except ValueError:
        raise UsageError(f"{name}: expected numbers such as 0.5 or 0,0.5,1")


def _parse_options(values: List[str] | None) -> dict:
    opts = {}
    for kv in values or []:
        if "=" not in kv:
            raise UsageError(f"--set {kv!r}: expected KEY=VALUE")
        k, v = kv.split("=", 1)
        opts[k.strip()] = v.strip()
    return opts


def _condition_options(lighting: str | None, au: str | None, attr: list[str]) -> dict:
    """--lighting / --au / --attr as model options (lighting=, aus={id: value}, attrs={name: 0|1})."""
    opts: dict = {}
    if lighting:
        opts["lighting"] = lighting.strip().lower()
    if au:
        from faceedit.faces.au import parse_au_spec

        try:
            opts["aus"] = parse_au_spec(au)
        except ValueError as e:
            raise UsageError(f"--au: {e}") from None
    if attr:
        attrs = {}
        for key, value in _parse_options(_split_list(attr)).items():
            v = value.strip().lower()
            if v in ("on", "yes", "true", "1"):
                attrs[key] = 1.0
            elif v in ("off", "no", "false", "0"):
                attrs[key] = 0.0
            else:
                raise UsageError(f"--attr {key}={value}: use on or off")
        opts["attrs"] = attrs
    return opts


def _show_version(value: bool) -> None:
    if value:
        from faceedit import __version__

        sys.stdout.write(f"faceedit {__version__}\n")
        raise typer.Exit()


@app.callback()
def _main(
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log detail (-v: debug, which files were passed over and why)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors on stderr."),
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_show_version, help="Print the version and exit."),
) -> None:
    setup_logging(-1 if quiet else verbose)


@app.command()
def apply(
    inputs: List[str] = typer.Argument(
        ..., help="Image files, folders, glob patterns, or '-' to read paths from stdin."
    ),
    model: str = typer.Option(..., "--model", "-m", help="Registered model name or a .safetensors path."),
    target: List[str] = typer.Option(
        [], "--target", "-t", help="Target(s), comma-separated or repeated: happy,sad."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (created if missing)."),
    lighting: List[str] = typer.Option([], "--lighting", help="Lighting class, or keep; the classes each model takes: see `faceedit models`. Once; alone it means --target keep."),
    light: Optional[str] = typer.Option(None, "--light", help="Relight to a light direction AZ,EL in degrees, Extended Yale B's convention (azimuth + lights the image's left side of the face, elevation + lights it from above; e.g. 35,15); every model on the stage takes it. Alone it means --target keep."),
    light_strength: Optional[float] = typer.Option(None, "--light-strength", help="How much --light / --lighting replaces the photo's own light, 0..1 (default 0.6; 1 is a dark-room point light: the far side goes nearly black)."),
    au: List[str] = typer.Option([], "--au", help="Set AU intensities, absolute 0..5, e.g. 12=3.5,6=2: the face's other AUs are kept (the AUs each model takes: see `faceedit models`); alone it means --target au (the face's own expression with these AUs set)."),
    attr: List[str] = typer.Option([], "--attr", help="Attribute edits, e.g. glasses=on|off (the attributes each model takes: see `faceedit models`); alone it means --target keep."),
    control: List[str] = typer.Option([], "--control", help="Named fine controls, each -1..1, set as absolute AU values on top of the target: smile, mouth (open), brows (up; -1 down), eyes (open; -1 closed); e.g. smile=0.5,brows=-0.3; alone it means --target keep."),
    like: Optional[Path] = typer.Option(None, "--like", help="Move the face to the expression state of the largest face in this reference photo (read from its landmarks apart from its identity as well as a shape model can); alone it means --target keep."),
    strength: List[str] = typer.Option(
        ["1"], "--strength", "-s", help="Edit strength 0..1, up to 1.5 to exaggerate (models on the stage); several (0,0.5,1) write a series."
    ),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="Descend into sub-folders."),
    name: Optional[str] = typer.Option(
        None, "--name", show_default=False,
        help="Output name template; fields {stem} {name} {ext} {target} {strength} {relparent} "
        "{index} (the input's position in the input list, from 0) {lighting} {au} {attr} {control} {like} {model}. "
        "Default: {stem}_{target}{ext} with the conditions given (_{lighting}, _{au}, _{attr}, _{control}, _{like}, "
        "_{strength} unless 1), under {relparent}/ with -r.",
    ),
    ext: Optional[str] = typer.Option(None, "--ext", help="Output format by extension (.png, .jpg, ...); default: the input's."),
    quality: int = typer.Option(95, "--quality", help="JPEG/WebP quality 1-100."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace outputs that already exist."),
    face: str = typer.Option("all", "--face", help="all | largest | N (faces numbered largest first)."),
    max_faces: int = typer.Option(10, "--max-faces", min=0, help="Fail photos with more faces than this (0 = no limit)."),
    on_no_face: str = typer.Option("error", "--on-no-face", help="error | skip | copy."),
    detector: str = typer.Option("auto", "--detector", help=f"Face detector: {DETECTORS}."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda | mps."),
    precision: str = typer.Option("auto", "--precision", help="auto | fp32 | fp16 | bf16 (autocast on GPU)."),
    batch_size: int = typer.Option(8, "--batch-size", "-b", help="Face crops per model forward."),
    workers: Optional[int] = typer.Option(None, "--workers", show_default=False, help="Local engine: threads for decoding/detection and for encoding (default 2). Ray engine: Ray actors, each with its own model (default: one per GPU with GPU workers, else one per CPU of the cluster)."),
    max_pixels: int = typer.Option(100_000_000, "--max-pixels", min=1, help="Refuse images with more pixels than this."),
    stage: Optional[str] = typer.Option(None, "--stage", help="Model stage to output, where the model has stages (see `faceedit models`)."),
    option: List[str] = typer.Option([], "--set", help="Model-specific option KEY=VALUE (repeatable; each model's keys: see `faceedit models`)."),
    save_masks: bool = typer.Option(False, "--save-masks", help="Also write the model's intermediate masks per face (LEGAN: expression and lighting mask) as OUTPUT_face<N>_<mask>.png."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per output on stdout."),
    engine: str = typer.Option("local", "--engine", help="local (this process) | ray (Ray actors on this machine or a cluster; needs the ray extra of faceedit; inputs and outputs on a file system every worker sees)."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="With --engine ray: the Ray cluster to join (auto: the one `ray start` began on this machine, or HEAD-HOST:6379); default: RAY_ADDRESS, else a Ray started on this machine's cores."),
    gpus_per_worker: Optional[float] = typer.Option(None, "--gpus-per-worker", show_default=False, help="With --engine ray: GPUs each actor reserves (0.5: two share one; default 1 where the cluster has GPUs, else 0)."),
) -> None:
    """Edit the faces in photos; one output per input per target (and strength)."""
    from faceedit.io import collect_unread
    from faceedit.pipeline import ApplyOptions, BatchApplier, signal_name

    with _errors_to_exit_codes():
        if engine not in ("local", "ray"):
            raise UsageError(f"--engine {engine!r}; valid: local, ray")
        if engine == "local" and (ray_address is not None or gpus_per_worker is not None):
            raise UsageError("--ray-address and --gpus-per-worker need --engine ray")
        if len(lighting) > 1:
            raise UsageError(f"--lighting given {len(lighting)} times ({', '.join(lighting)}): "
                             "give one lighting class per run")
        au_spec = ",".join(au) or None
        targets = _split_list(target) or (["au"] if au_spec else ["keep"] if lighting or light or attr or control
                                          or like else [])
        if not targets:
            raise UsageError("give --target (e.g. --target happy), or --lighting / --light / --au / --attr / --control / --like")
        stage_options: dict = {}
        if like is not None:
            _check_reference(like, max_pixels)
            stage_options["like"] = str(like)
        if light_strength is not None and light is None and not lighting:
            raise UsageError("--light-strength needs --light or --lighting")
        stage_options.update({"light": light.replace(" ", "")} if light is not None else {})
        stage_options.update({"light_strength": light_strength} if light_strength is not None else {})
        opts = ApplyOptions(
            targets=targets,
            out_dir=str(out),
            strengths=_parse_floats(strength, "--strength"),
            name_template=name,
            ext=ext,
            quality=quality,
            overwrite=overwrite,
            recursive=recursive,
            batch_size=batch_size,
            face=face,
            max_faces=max_faces,
            on_no_face=on_no_face,
            max_pixels=max_pixels,
            workers=2 if workers is None or engine == "ray" else workers,
            model_options=_parse_options(option) | ({"stage": stage} if stage else {})
            | _condition_options(lighting[0] if lighting else None, None, attr) | stage_options,
            save_masks=save_masks,
        )
        opts.check()  # before the model loads, and before torch is imported
        if light is not None or light_strength is not None:  # a bad light: a usage error before loading
            from faceedit.models.shading import parse_light

            parse_light(light if light is not None else "front", light_strength)
        # --au and --control are parsed by the modules that apply them (torch from here on)
        opts.model_options.update(_condition_options(None, au_spec, []))
        if control:
            from faceedit.models.stage import parse_controls

            opts.model_options["controls"] = parse_controls(",".join(control))
        opts.check_model(model)  # --target, --lighting, --au, --attr, --set, --stage: no weights read
        from faceedit.api import Editor

        if engine == "ray":
            from faceedit.ray_engine import RayApplier, import_ray

            import_ray()  # missing: a usage error naming the extra, before the model loads
            # here the model only checks the options and names the outputs: the actors edit
            editor = Editor.from_pretrained(model, device="cpu", precision="auto", detector=detector)
            applier = RayApplier(editor, opts, model=model, device=device, precision=precision,
                                 detector=detector, address=ray_address, workers=workers,
                                 gpus_per_worker=gpus_per_worker)
            logger.info("model %s (%s) on Ray actors (device %s), detector %s",
                        editor.spec.name, editor.spec.method, device, detector)
        else:
            editor = Editor.from_pretrained(model, device=device, precision=precision, detector=detector)
            applier = BatchApplier(editor, opts)
            logger.info(
                "model %s (%s) on %s, detector %s",
                editor.spec.name, editor.spec.method, editor.device, editor.detector.name,
            )
        counts = {"ok": 0, "skipped": 0, "copied": 0, "no_face": 0, "error": 0}
        per_input = len(opts.targets) * len(opts.strengths)
        whole_failures = 0  # inputs that failed as a whole (a missing file...): one record each
        # Ctrl-C: BatchApplier.run stops taking inputs, finishes the photos in progress, joins
        # its threads and yields the records of the photos done (a second Ctrl-C is ignored);
        # the summary says so and the exit status is 130 (128 + SIGINT), as for a shell.
        interrupted = False
        records = applier.run(inputs, stdin=sys.stdin)
        stdout = sys.stdout  # the records only: Ray prints its notices (a worker died) on
        # sys.stdout, which goes to stderr while the Ray engine runs
        with _progress("outputs") as advance, collect_unread() as unread, (
                redirect_stdout(sys.stderr) if engine == "ray" else nullcontext()):
            try:
                for rec in records:
                    counts[rec.status] = counts.get(rec.status, 0) + 1
                    whole_failures += rec.target is None
                    if rec.status == "error":
                        logger.error("%s: %s", rec.input, rec.error)
                    elif rec.status == "no_face":
                        logger.warning("%s: no face found, skipped", rec.input)
                    if as_json:
                        stdout.write(json.dumps(rec.to_json()) + "\n")
                        stdout.flush()
                    # every input is known once the first record comes (BatchApplier.input_paths)
                    advance(total=len(applier.input_paths) * per_input + whole_failures)
            except KeyboardInterrupt:  # where run() could not take SIGINT over, or after it ended
                records.close()  # cancels its queued work and joins its threads
                interrupted = True
        import signal

        stop_signal = signal.SIGINT  # a KeyboardInterrupt out of the iteration
        if not interrupted and getattr(applier, "interrupted", False):
            interrupted, stop_signal = True, getattr(applier, "stop_signal", signal.SIGINT)
        if interrupted:  # the process ends now: a further Ctrl-C or SIGTERM is ignored, as promised,
            try:  # through the summary and the interpreter's exit (a while with torch)
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
            except ValueError:  # not the main thread
                pass
        unfinished = getattr(applier, "unfinished", 0)
        logger.info(
            "%d written, %d skipped (exist), %d copied, %d without face, %d failed%s%s",
            counts["ok"], counts["skipped"], counts["copied"], counts["no_face"], counts["error"],
            f", {len(unread)} not read (image formats faceedit does not read: "
            f"{_kinds(unread)}; -v lists them)" if unread else "",
            f"; interrupted ({signal_name(stop_signal)})" + (
                f": {unfinished} input{'s' * (unfinished != 1)} not done" if unfinished else "")
            if interrupted else "",
        )
        if interrupted:
            raise typer.Exit(128 + stop_signal)  # 130 for Ctrl-C, 143 for SIGTERM, as a shell says
    if counts["error"]:
        raise typer.Exit(EXIT_FAILED)


def _check_reference(like: Path, max_pixels: int) -> None:
    """The --like photo read once, before the model loads and the batch starts: one usage error
    naming it (not the same error on every input photo) if it is missing, a folder, empty, not an
    image, or larger than --max-pixels. Its face is looked for once the model's detector is
    there (``ApplyOptions.validate``)."""
    from faceedit.io import read_image

    if like.is_dir():
        raise UsageError(f"--like {like}: is a folder; give one reference photo")
    try:
        read_image(like, max_pixels=max_pixels)
    except FaceEditError as e:
        raise UsageError(f"--like {like}: {e.reason}") from None


def _kinds(paths: list[str]) -> str:
    """``GIF, HEIC`` for a list of file paths."""
    return ", ".join(sorted({Path(p).suffix[1:].upper() for p in paths}))


@contextmanager
def _progress(label: str):
    """Yields ``advance(total=None)``, to call once per item done, with the number of items in
    all when it is known; draws a rich progress bar only when stderr is a TTY, with the count
    and the time left once the total is known."""
    if not sys.stderr.isatty() or logger.level > 20:
        yield lambda total=None: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("eta"), TimeRemainingColumn(), console=Console(stderr=True), transient=True,
        redirect_stdout=False,  # --json records stay on stdout (rich would route them to stderr)
    ) as progress:
        task = progress.add_task(label, total=None)

        def advance(total: int | None = None) -> None:
            progress.update(task, total=total, advance=1)

        yield advance


@app.command()
def detect(
    inputs: List[str] = typer.Argument(..., help="Image files, folders, globs, or '-'."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for overlays and JSON."),
    detector: str = typer.Option("auto", "--detector", help=f"Face detector: {DETECTORS}."),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="Descend into sub-folders."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Also write the aligned crops of this model's template."),
    max_pixels: int = typer.Option(100_000_000, "--max-pixels", min=1, help="Refuse images with more pixels than this."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per image on stdout."),
) -> None:
    """Detect faces and landmarks; write overlay PNGs and JSON (to debug alignment). Each face's
    record holds its expression state as the stage reads it (``expression``: AU intensities
    against the face's own identity, the state, the nearest named expression)."""
    from faceedit.api import expression_states
    from faceedit.faces.align import align_face
    from faceedit.faces.detect import get_detector
    from faceedit.faces.draw import draw_faces
    from faceedit.io import expand_inputs, read_image, write_image

    failed = 0
    with _errors_to_exit_codes():
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {out}: is a file, not a folder (the folder is created if missing)")
        det = get_detector(detector)
        from faceedit.models.registry import load_model

        stage = load_model("stage").model
        template = None
        if model is not None:
            from faceedit.models.registry import get_spec, spec_from_path

            template = (spec_from_path(model) if model.endswith(".safetensors") else get_spec(model)).template
        out.mkdir(parents=True, exist_ok=True)
        for item in expand_inputs(inputs, recursive=recursive, stdin=sys.stdin):
            rec = {"input": item.path, "faces": [], "overlay": None, "status": "ok", "error": None}
            try:
                if item.error:
                    raise FaceEditError(item.error, item.path)
                img = read_image(item.path, max_pixels=max_pixels)
                rgb = img.rgb8()
                faces = det.detect(rgb)
                stem = Path(item.rel).with_suffix("").as_posix().replace("/", "__")
                overlay = str(out / f"{stem}_faces.png")
                write_image(overlay, draw_faces(rgb, faces))
                states = expression_states(faces, stage)
                rec.update(faces=[{**f.to_json(), "expression": st} for f, st in zip(faces, states)],
                           overlay=overlay)
                for i, f in enumerate(faces if template else []):
                    write_image(str(out / f"{stem}_face{i}.png"), align_face(img.pixels, f, template).crop)
                _atomic_json(out / f"{stem}.json", rec)
            except FaceEditError as e:
                failed += 1
                rec.update(status="error", error=e.reason)
                logger.error("%s: %s", item.path, e.reason)
            if as_json:
                sys.stdout.write(json.dumps(rec) + "\n")
                sys.stdout.flush()
    if failed:
        raise typer.Exit(EXIT_FAILED)


def _atomic_json(path: Path, obj) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    os.replace(tmp, path)


@app.command()
def models(as_json: bool = typer.Option(False, "--json", help="JSON list on stdout.")) -> None:
    """List the registered models, their targets, the options they take (lighting classes,
    AUs, attributes, --stage, --set keys) and whether their weights are present."""
    from faceedit.models.registry import describe_options, list_models

    with _errors_to_exit_codes():
        rows = list_models()
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not rows:
        console.print("no models are registered yet")
        return
    table = Table("name", "method", "targets", "size", "weights", "present")
    for r in rows:
        table.add_row(
            r["name"], r["method"], ", ".join(r["targets"]), f"{r['image_size']} px",
            r["weights"], "yes" if r["present"] else "no",
        )
    console.print(table)
    console.print("options (--lighting, --au, --attr, --stage, --set; the stage's under every model "
                  "on it):", markup=False, highlight=False)
    for r in rows:
        console.print(f"  {r['name']}: {describe_options(r['options'])}", markup=False, highlight=False)


@app.command()
def prepare(
    raw: Path = typer.Argument(..., help="Folder of raw photos."),
    out: Path = typer.Option(..., "--out", "-o", help="Dataset folder to write (resumable)."),
    preset: Optional[str] = typer.Option(None, "--preset", help="london | jaffe | yale | yaleb | folders | paired (default: guessed)."),
    csv_file: Optional[Path] = typer.Option(None, "--csv", help="CSV with file,label[,...] columns instead of a preset."),
    size: int = typer.Option(128, "--size", help="Crop size in pixels, 16 to 2048 (ignored with --model)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Use this model's crop template."),
    detector: str = typer.Option("auto", "--detector", help=f"Face detector: {DETECTORS}."),
) -> None:
    """Detect and align every face of a raw photo folder once into a training dataset."""
    from faceedit.faces.types import CropTemplate
    from faceedit.train.prepare import prepare as run_prepare

    with _errors_to_exit_codes():
        if model:
            from faceedit.models.registry import get_spec, spec_from_path

            template = (spec_from_path(model) if model.endswith(".safetensors") else get_spec(model)).template
        else:
            template = CropTemplate(size=size)
        summary = run_prepare(raw, out, preset=preset, csv_path=str(csv_file) if csv_file else None,
                              template=template, detector=detector)
    sys.stdout.write(json.dumps(summary) + "\n")
    if not summary["count"]:
        _fail(f"{raw}: no photo could be prepared; the reasons are in {out / 'errors.jsonl'}",
              EXIT_FAILED)


DEFAULT_TRAIN_BUDGET = 60.0
"""Minutes ``faceedit train`` runs when given neither --steps nor --budget."""
_NO_STEP_LIMIT = 1_000_000_000  # --budget alone: the budget stops the run


@app.command()
def train(
    ctx: typer.Context,
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Method to train: reggan, eggan, legan, lssl, secgan (with --resume: the run's)."),
    data: List[Path] = typer.Option([], "--data", "-d", help="Prepared dataset folder(s) (faceedit prepare; with --resume: the run's)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder: checkpoints, logs, samples, report."),
    steps: Optional[int] = typer.Option(None, "--steps", min=0, help="Total steps (resumed steps included)."),
    budget: Optional[float] = typer.Option(None, "--budget", min=0, help=f"Stop after this many minutes (default {DEFAULT_TRAIN_BUDGET:g} when --steps is not given either)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", "-b", help="Per-process batch (default: the method's)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the held-out split, the initialisation and the batches."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out, with its method, data and settings."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Discard the run already in --out (its state, log, report and samples) and start afresh."),
    init: Optional[str] = typer.Option(None, "--init", help="Fine-tune: start the generator from this registry model or .safetensors."),
    prior: str = typer.Option("stage", "--prior", help="Train the network on the edits of this stage model (what it sees at inference: the stage's geometry, mouth and lighting); 'none' trains on unedited photos (a network used with --no-prior)."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda | mps."),
    amp: str = typer.Option("auto", "--amp", help="auto (bf16/fp16 autocast on CUDA) | off | fp16 | bf16."),
    config: List[str] = typer.Option([], "--set", help="Model, loss and trainer config KEY=JSON (e.g. image_size=64); an unknown key lists the valid ones."),
    option: List[str] = typer.Option([], "--option", help="Trainer option KEY=JSON."),
    no_semantic: bool = typer.Option(False, "--no-semantic", help="SeCGAN: train the plain baseline (no mask branch, no consistency loss)."),
    ckpt_every: int = typer.Option(500, "--ckpt-every", min=0, help="Steps between checkpoints (0: only at the end)."),
    sample_every: int = typer.Option(500, "--sample-every", min=0, help="Steps between sample grids (RUN/samples/; 0: only at the end)."),
    log_every: int = typer.Option(10, "--log-every", min=0, help="Steps between log records (RUN/log.jsonl; 0: only the last step)."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, show_default=False, help="Torch threads (default: the cores free, i.e. this process's usable cores less the load average; OMP_NUM_THREADS where set). Said in the log."),
    no_eval: bool = typer.Option(False, "--no-eval", help="Skip the held-out evaluation after export."),
    disc: List[str] = typer.Option([], "--disc", hidden=True, help="Deprecated: --set d_KEY=JSON."),
    lam: Optional[float] = typer.Option(None, "--lambda", hidden=True, help="Deprecated: --set lambda_reg=X."),
    augment: Optional[int] = typer.Option(None, "--augment", hidden=True, help="Deprecated: --set augment_copies=N."),
    perceptual: Optional[Path] = typer.Option(None, "--vgg19", help="VGG-19 weights (.safetensors) for perceptual losses; without them the term is off."),
    export: Optional[Path] = typer.Option(None, "--export", help="Checkpoint to write (default RUN/MODEL.safetensors); a model card is written beside it."),
) -> None:
    """Train a method on prepared datasets and export a registry-ready checkpoint + model card.
    A run's method, data and settings are kept in RUN/run.json: --resume takes them from there.
    Each method's own settings are --set keys (RegGAN's --lambda, --augment and --disc KEY=...
    stand for --set lambda_reg=..., augment_copies=... and d_KEY=...; deprecated).
    Multi-GPU: torchrun --nproc_per_node N -m faceedit train ..."""
    with _errors_to_exit_codes():
        if resume and overwrite:
            raise UsageError("--resume continues the run in --out, --overwrite discards it: give one")
        if steps is None:
            if budget is None:
                budget = DEFAULT_TRAIN_BUDGET
                logger.info("no --steps or --budget: training stops after %g minutes (--budget %g)",
                            budget, budget)
            steps = _NO_STEP_LIMIT
        settings = _run_settings(ctx.params)
        if resume:
            settings = _resumed_settings(ctx, out, settings)
        elif not settings["model"] or not settings["data"]:
            raise UsageError("give --model and --data, or --resume to continue the run in --out")
        model = settings["model"]
        data = [Path(d) for d in settings["data"]] if resume else data
        batch_size, seed, init = settings["batch_size"], settings["seed"], settings["init"]
        cfg, options, prior = dict(settings["config"]), dict(settings["option"]), settings["prior"]
        if settings["no_semantic"]:
            options["semantic"] = False
            cfg["semantic"] = False
        if settings["vgg19"]:
            options["vgg19"] = settings["vgg19"]
        # torch from here on (the usage errors above are answered without it)
        from faceedit.train.data import open_dataset
        from faceedit.train.loop import (LoopConfig, check_config, check_run_folder, clear_run_folder,
                                         train_and_export, trainer_for)

        trainer_cls = trainer_for(model)  # an unknown method is the first thing to report
        check_config(trainer_cls, cfg, options)  # then a bad --set or --option, before any file
        if batch_size is not None and batch_size < 1:
            raise UsageError(f"--batch-size {batch_size}: give 1 or more (default: the method's, "
                             f"{trainer_cls.default_batch_size})")
        earlier_run = check_run_folder(out, resume=resume, overwrite=overwrite)
        sets = [open_dataset(d) for d in data]
        clear_run_folder(earlier_run)  # --overwrite, once the options and datasets are known good
        # run.json is written when the run starts (its data and networks known good)
        run_files = ({} if resume and (out / RUN_SETTINGS).is_file()  # (else a run from an older faceedit)
                     else {RUN_SETTINGS: json.dumps(settings, indent=1) + "\n"})
        loop = LoopConfig(steps=steps, budget_minutes=budget, batch_size=batch_size, seed=seed,
                          ckpt_every=ckpt_every, sample_every=sample_every, log_every=log_every,
                          device=device, amp=amp, resume=resume, init=init, options=options,
                          prior=None if prior.lower() in ("none", "off", "") else prior,
                          run_files=run_files, threads=threads)
        train_and_export(model, sets, out, loop, config=cfg, export=export,
                         command="faceedit " + " ".join(sys.argv[1:]), evaluate_after=not no_eval)


RUN_SETTINGS = "run.json"
"""The file of a run folder that keeps what defines the run, for ``train --resume``."""

# The train options that define a run: its settings key -> (parameter names, option name).
_RUN_OPTIONS = {
    "model": (("model",), "--model"), "data": (("data",), "--data"),
    "batch_size": (("batch_size",), "--batch-size"), "seed": (("seed",), "--seed"),
    "init": (("init",), "--init"), "config": (("config", "disc", "lam", "augment"), "--set"),
    "option": (("option",), "--option"), "no_semantic": (("no_semantic",), "--no-semantic"),
    "vgg19": (("perceptual",), "--vgg19"), "prior": (("prior",), "--prior"),
}

# Options from before every method took its own settings from --set (all three were RegGAN's),
# still read as the --set keys they stand for: --disc KEY=JSON is d_KEY, and these two:
_DEPRECATED_SETS = {"lam": ("--lambda", "lambda_reg"), "augment": ("--augment", "augment_copies")}
# How an older run.json kept them (for every method; defaults then: {}, 100.0, 10).
_LEGACY_SETTINGS = {"disc": "disc", "lambda": "lam", "augment": "augment"}


def _json_options(values: List[str] | None, name: str) -> dict:
    """``--set KEY=JSON`` values as a dict; a value that is not JSON is a usage error."""
    out = {}
    for key, value in _parse_options(values).items():
        try:
            out[key] = json.loads(value)
        except ValueError:
            raise UsageError(f"{name} {key}={value}: the value must be JSON (e.g. 64, true, \"text\")") from None
    return out


def _run_settings(params: dict) -> dict:
    """What defines a run, from the train command's parameters, JSON-ready and comparable."""
    return {
        "model": params["model"],
        "data": [str(Path(d).resolve()) for d in params["data"]],
        "batch_size": params["batch_size"],
        "seed": params["seed"],
        "init": params["init"],
        "config": {**_deprecated_config(params, warn=True), **_json_options(params["config"], "--set")},
        "option": _json_options(params["option"], "--option"),
        "no_semantic": params["no_semantic"],
        "vgg19": str(Path(params["perceptual"]).resolve()) if params["perceptual"] else None,
        "prior": params["prior"],
    }


def _resumed_settings(ctx: typer.Context, out: Path, given: dict) -> dict:
    """The settings of the run in ``out`` (RUN/run.json); an option given on the command line
    must agree with them. A run started before run.json existed needs --model and --data, and
    then takes every other setting from the command line, as it always did."""
    path = out / RUN_SETTINGS
    if not path.is_file():
        if not given["model"] or not given["data"]:
            raise UsageError(f"{out}: no {RUN_SETTINGS} (a run started by an older faceedit, or "
                             "no run at all): give --model and --data to resume it")
        return given
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(saved, dict) and "prior" not in saved:
            saved["prior"] = "none"  # a run started before --prior existed trained on unedited crops
        if isinstance(saved, dict) and set(_LEGACY_SETTINGS) <= set(saved):
            saved = _upgrade_legacy_settings(saved)
        if not isinstance(saved, dict) or set(saved) != set(_RUN_OPTIONS):
            raise ValueError("not the settings of a run")
    except ValueError as e:
        raise UsageError(f"{path}: unreadable ({e})") from None
    for key, (params, option) in _RUN_OPTIONS.items():
        sources = [getattr(ctx.get_parameter_source(p), "name", None) for p in params]
        if "COMMANDLINE" not in sources:  # typer's enum is not click's
            continue
        if given[key] != saved[key]:
            raise UsageError(
                f"{option} {_setting_text(given[key])} contradicts the run in {out}, started with "
                f"{option} {_setting_text(saved[key])}; leave {option} out to resume it, or start "
                "afresh with --overwrite"
            )
    return saved


def _setting_text(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, dict):
        return ",".join(f"{k}={json.dumps(v)}" for k, v in value.items()) or "(none)"
    if isinstance(value, list):
        return " ".join(map(str, value))
    return "(none)" if value is None else str(value)


def _deprecated_config(params: dict, warn: bool = False) -> dict:
    """The --set keys that --disc, --lambda and --augment stand for (see ``_DEPRECATED_SETS``)."""
    out = {f"d_{k}": v for k, v in _json_options(params["disc"], "--disc").items()}
    out.update({key: params[p] for p, (_, key) in _DEPRECATED_SETS.items() if params[p] is not None})
    if warn and out:
        logger.warning("--disc, --lambda and --augment are deprecated: give --set %s",
                       " --set ".join(f"{k}={json.dumps(v)}" for k, v in out.items()))
    return out


def _upgrade_legacy_settings(saved: dict) -> dict:
    """An older run.json, which kept --disc, --lambda and --augment for every method: what differs
    from their defaults then goes into its --set config where its method takes those keys (other
    methods ignored them)."""
    from faceedit.train.loop import trainer_for

    legacy = {param: saved.pop(key) for key, param in _LEGACY_SETTINGS.items()}
    legacy["disc"] = [f"{k}={json.dumps(v)}" for k, v in (legacy["disc"] or {}).items()]
    legacy["lam"] = None if legacy["lam"] == 100.0 else legacy["lam"]
    legacy["augment"] = None if legacy["augment"] == 10 else legacy["augment"]
    known = trainer_for(saved["model"]).default_config
    taken = {k: v for k, v in _deprecated_config(legacy).items() if k in known}
    return {**saved, "config": {**taken, **saved.get("config", {})}}


@app.command("eval")
def eval_(
    model: str = typer.Option(..., "--model", "-m", help="Registered model name or a .safetensors path."),
    data: List[Path] = typer.Option(..., "--data", "-d", help="Prepared dataset folder(s); only their held-out subjects are used."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="JSON file to write (also printed on stdout)."),
    sheet: Optional[Path] = typer.Option(None, "--sheet", help="Contact sheet PNG (input | each edit)."),
    max_sources: int = typer.Option(48, "--max-sources", help="Held-out source crops to edit."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda | mps."),
) -> None:
    """Evaluate a model on held-out subjects: expression/lighting accuracy, identity, quality, AU error, SSIM/L1."""
    from faceedit.api import resolve_device
    from faceedit.eval.evaluate import evaluate
    from faceedit.models.registry import load_model
    from faceedit.train.data import open_dataset

    with _errors_to_exit_codes():
        dev = resolve_device(device)
        loaded = load_model(model, device=dev)
        metrics = evaluate(loaded.model, loaded.meta, [open_dataset(d) for d in data], device=dev,
                           max_sources=max_sources, sheet=sheet)
        metrics = {"model": model, "sha256": loaded.meta.tensors_sha256, **metrics}
        if out is not None:
            _atomic_json(out, metrics)
    sys.stdout.write(json.dumps(metrics) + "\n")


@app.command("train-stage")
def train_stage(
    data: List[Path] = typer.Option(..., "--data", "-d", help="Prepared datasets (faceedit prepare --size 256): expression pairs, Extended Yale B for shading."),
    out: Path = typer.Option(..., "--out", "-o", help="Checkpoint to write (.safetensors), e.g. weights/stage.safetensors."),
    seed: int = typer.Option(0, "--seed", help="Seed of the by-subject held-out split."),
) -> None:
    """Fit the edit stage every method sits on (geometry, mouth appearance, shading statistics;
    closed form, minutes on a CPU) and write it as a checkpoint."""
    from faceedit.train.data import open_dataset
    from faceedit.train.stage import export_stage, fit_stage

    with _errors_to_exit_codes():
        if out.suffix != ".safetensors":
            raise UsageError(f"--out {out}: give a .safetensors file name")
        sets = [open_dataset(d) for d in data]
        model, report = fit_stage(sets, seed=seed)
        out.parent.mkdir(parents=True, exist_ok=True)
        sha = export_stage(model, report, out, sets, "faceedit " + " ".join(sys.argv[1:]))
        logger.info("wrote %s (sha256 %s)", out, sha)
        sys.stdout.write(json.dumps(report) + "\n")


@app.command("train-analysis")
def train_analysis(
    kind: str = typer.Argument(..., help="expression | lighting | identity | parser | quality"),
    data: List[Path] = typer.Option(..., "--data", "-d", help="Prepared dataset folder(s)."),
    out: Path = typer.Option(..., "--out", "-o", help="Weights file to write (.safetensors); the model card goes beside it."),
    budget: Optional[float] = typer.Option(None, "--budget", min=0, help="Training time in minutes (default 10 when --steps is not given either); the learning-rate schedule spans the steps it allows."),
    steps: Optional[int] = typer.Option(None, "--steps", min=0, help="Total steps (the schedule's length; resumed steps included)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the training (the held-out split is fixed: the one faceedit eval uses)."),
    run_dir: Optional[Path] = typer.Option(None, "--run", help="Run folder: state, log, samples, report (default: beside --out, OUT.run/)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --run (same kind, data and seed)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Discard the run already in --run and start afresh."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda | mps."),
    ckpt_every: int = typer.Option(500, "--ckpt-every", min=0, help="Steps between checkpoints (0: only at the end)."),
    sample_every: int = typer.Option(500, "--sample-every", min=0, help="Steps between sample sheets (RUN/samples/; 0: only at the end)."),
    log_every: int = typer.Option(10, "--log-every", min=0, help="Steps between log records (RUN/log.jsonl; 0: only the last step)."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, show_default=False, help="Torch threads (default: the cores free, at most what the network trains well on; OMP_NUM_THREADS where set). Said in the log."),
) -> None:
    """Train one of the face-analysis networks (classifiers, identity, parser, quality) on the
    shared training loop: RUN/state.safetensors, RUN/log.jsonl, RUN/samples/, RUN/report.json;
    prints the held-out metrics."""
    from faceedit.data import open_datasets
    from faceedit.train.analysis import analysis_trainer, default_run_dir
    from faceedit.train.loop import LoopConfig, check_run_folder, clear_run_folder, train_and_export

    with _errors_to_exit_codes():
        trainer = analysis_trainer(kind)
        if out.suffix != ".safetensors":
            raise UsageError(f"--out {out}: give a .safetensors file name")
        run_dir = run_dir or default_run_dir(out)
        earlier_run = check_run_folder(run_dir, resume=resume, overwrite=overwrite)
        settings = {"kind": kind, "data": [str(d.resolve()) for d in data], "seed": seed}
        _same_analysis_run(run_dir, settings, resume)
        sets = open_datasets(data)
        clear_run_folder(earlier_run)
        if steps is None and budget is None:
            budget = DEFAULT_ANALYSIS_BUDGET
        loop = LoopConfig(steps=_NO_STEP_LIMIT if steps is None else steps, budget_minutes=budget, seed=seed,
                          ckpt_every=ckpt_every, sample_every=sample_every, log_every=log_every,
                          device=device, resume=resume, prior=None, threads=threads,
                          run_files={RUN_SETTINGS: json.dumps(settings, indent=1) + "\n"})
        report = train_and_export(trainer, sets, run_dir, loop, export=out,
                                  command="faceedit " + " ".join(sys.argv[1:]))
    if report is not None:  # rank 0 of a torchrun
        sys.stdout.write(json.dumps(report["metrics"]) + "\n")


DEFAULT_ANALYSIS_BUDGET = 10.0
"""Minutes ``faceedit train-analysis`` runs when given neither --steps nor --budget."""


def _same_analysis_run(run_dir: Path, settings: dict, resume: bool) -> None:
    """A resumed ``train-analysis`` run must be given the kind, data and seed it started with."""
    path = run_dir / RUN_SETTINGS
    if not resume or not path.is_file():
        return
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise UsageError(f"{path}: unreadable ({e})") from None
    for key, value in settings.items():
        if saved.get(key) != value:
            raise UsageError(f"{key} {_setting_text(value)} contradicts the run in {run_dir}, started with "
                             f"{key} {_setting_text(saved.get(key))}; give the same, or start afresh with --overwrite")


@app.command("au")
def au_(
    inputs: List[str] = typer.Argument(..., help="Image files, folders, globs, or '-' to read paths from stdin."),
    neutral: Optional[Path] = typer.Option(
        None, "--neutral", help="Photo of the same person's neutral face (its largest face) as the reference; "
        "default: the face's own identity as the stage's shape model reads it."
    ),
    detector: str = typer.Option("auto", "--detector", help=f"Face detector: {DETECTORS} (68 landmarks needed: opencv has 5)."),
    recursive: bool = typer.Option(False, "--recursive", "-r", help="Descend into sub-folders."),
    max_pixels: int = typer.Option(100_000_000, "--max-pixels", min=1, help="Refuse images with more pixels than this."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per face on stdout instead of a table."),
) -> None:
    """Estimate the 17 EGGAN action-unit intensities (0..5) of every face from its landmarks, and
    its expression state.

    A geometric proxy for OpenFace (see faceedit/faces/au.py for what it can and cannot see):
    AU9, AU10 and AU14 are not estimable and come out as null. Without --neutral the reference is
    the face's own identity (the stage's shape model separates it from the expression); each
    record also holds ``state`` (the expression state in standard deviations of the stage's axes)
    and ``nearest`` (the named expression it is closest to)."""
    import numpy as np

    from faceedit.api import expression_states
    from faceedit.faces.au import AU_KEYS, VISIBLE, aus_to_json, estimate_aus
    from faceedit.faces.detect import get_detector
    from faceedit.io import expand_inputs, read_image
    from faceedit.models.registry import load_model

    def faces_68(path) -> list:
        faces = det.detect(read_image(path, max_pixels=max_pixels).rgb8())
        if not faces:
            raise FaceEditError("no face found", path)
        if any(np.asarray(f.landmarks).shape != (68, 2) for f in faces):
            raise FaceEditError(f"detector {det.name} gave no 68-point landmarks (AU estimation needs them)", path)
        return faces

    failed, table_rows = 0, []
    with _errors_to_exit_codes():
        det = get_detector(detector)
        if det.name == "opencv":
            raise UsageError("the opencv detector finds 5 landmarks; AU estimation needs 68: use --detector dlib, dlib-cnn or fan")
        reference = None
        if neutral is not None:
            reference = faces_68(str(neutral))[0].landmarks
        stage = load_model("stage").model
        for item in expand_inputs(inputs, recursive=recursive, stdin=sys.stdin):
            try:
                if item.error:
                    raise FaceEditError(item.error, item.path)
                faces = faces_68(item.path)
                states = expression_states(faces, stage)
                try:
                    if reference is not None:
                        aus = estimate_aus(np.stack([f.landmarks for f in faces]), neutral=reference)
                    else:
                        aus = np.array([[np.nan if v is None else v for v in st["aus"].values()] for st in states])
                except ValueError as e:
                    raise FaceEditError(str(e), item.path) from e
                # "input" as in the other commands' records; "file" kept for older scripts
                recs = [{"input": item.path, "file": item.path, "face": i,
                         "box": [round(float(v), 2) for v in f.box],
                         "aus": aus_to_json(a), "state": st["state"], "nearest": st["nearest"],
                         "status": "ok", "error": None}
                        for i, (f, a, st) in enumerate(zip(faces, aus, states))]
                table_rows += [(item.path, i, a) for i, a in enumerate(aus)]
            except FaceEditError as e:
                failed += 1
                logger.error("%s: %s", item.path, e.reason)
                recs = [{"input": item.path, "file": item.path, "face": None, "box": None, "aus": None,
                         "status": "error", "error": e.reason}]
            if as_json:
                for rec in recs:
                    sys.stdout.write(json.dumps(rec) + "\n")
                sys.stdout.flush()
    if not as_json and table_rows:
        from rich.console import Console
        from rich.table import Table

        keys = [k for k, v in zip(AU_KEYS, VISIBLE) if v]
        table = Table("file", "face", *keys, caption=(
            "AU intensity 0..5 from landmark geometry, relative to "
            + ("the --neutral face" if neutral is not None else "the population neutral mean")
            + f"; not estimable: {', '.join(k for k, v in zip(AU_KEYS, VISIBLE) if not v)}"))
        for path, i, a in table_rows:
            table.add_row(path, str(i), *(f"{v:.1f}" for v in a[VISIBLE]))
        Console(width=None if sys.stdout.isatty() else 200).print(table)
    if failed:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def sheet(
    inputs: List[str] = typer.Argument(None, help="Photos (photo mode); omit with --data."),
    model: str = typer.Option(..., "--model", "-m", help="Registered model name or a .safetensors path."),
    target: List[str] = typer.Option(..., "--target", "-t", help="Target(s), comma-separated."),
    out: Path = typer.Option(..., "--out", "-o", help="PNG file to write."),
    data: Optional[Path] = typer.Option(None, "--data", "-d", help="Prepared dataset: sheet of its held-out (neutral, target) pairs."),
    stages: str = typer.Option("", "--stages", help="Comma-separated model stages to show (RegGAN: expression,refined)."),
    rows: int = typer.Option(8, "--rows", "-n", help="Pairs to show per target (data mode)."),
    detector: str = typer.Option("auto", "--detector", help=f"Face detector (photo mode): {DETECTORS}."),
) -> None:
    """Contact sheet: held-out pairs (input | stages | real) or photos (input | each target,
    cut to the face), with the columns and rows labelled."""
    from faceedit.api import Editor
    from faceedit.conditions import canonical_target
    from faceedit.eval.sheet import labelled_grid, pair_row, photo_sheet
    from faceedit.io import read_image, write_image

    failed = 0
    with _errors_to_exit_codes():
        editor = Editor.from_pretrained(model, detector=detector)
        targets = [editor.check_target(canonical_target(t)) for t in _split_list(target)]
        if data is not None:
            from faceedit.train.data import expression_pairs, load_crop, open_dataset

            held = set(editor.loaded.meta.extra.get("heldout_subjects", []))
            by_target = expression_pairs(open_dataset(data).rows)
            stage_list = _split_list([stages]) or [None]
            channels = editor.spec.channels
            row_images, labels = [], []
            for t in targets:
                pairs = [p for p in by_target.get(t, []) if not held or p[1]["subject"] in held]
                if not pairs:
                    logger.warning("%s: no held-out (neutral, %s) pairs: %s is not on the sheet", data, t, t)
                    continue
                for a, b in pairs[:: max(1, len(pairs) // rows)][:rows]:
                    row_images.append(pair_row(editor, load_crop(a, channels), load_crop(b, channels), t,
                                               stage_list))
                    labels.append(f"{b['subject']} {t}")
            if not row_images:
                raise UsageError(f"{data}: no held-out (neutral, target) pairs for {', '.join(targets)}")
            img = labelled_grid(row_images, ["input", *(s or "edited" for s in stage_list), "real"], labels)
        else:
            if not inputs:
                raise UsageError("give photos, or --data DATASET for a sheet of held-out pairs")
            photos = []
            for path in inputs:
                try:
                    photos.append((path, read_image(path).rgb8()))
                except FaceEditError as e:
                    failed += 1
                    logger.error("%s: %s; not on the sheet", path, e.reason)
            img, left_out = photo_sheet(editor, photos, targets, face="all", max_faces=0)
            for path, reason in left_out:
                failed += 1
                logger.error("%s: %s; not on the sheet", path, reason)
            if img is None:
                raise FaceEditError("no photo could be shown: no sheet written")
        write_image(str(out), img)
        logger.info("wrote %s", out)
    if failed:
        raise typer.Exit(EXIT_FAILED)


def main() -> None:
    """The ``faceedit`` command. When it is done it leaves without tearing the interpreter down
    (:func:`_leave`)."""
    try:
        app()
    except SystemExit as e:
        _leave(e.code)
    _leave(0)


def _leave(code) -> None:
    """Exit with ``code`` (as ``sys.exit`` reads it) the quick way: exit handlers run (log
    handlers, Ray's shutdown, temporary files) and the streams are flushed, then the process ends
    without Python's interpreter teardown, which with torch loaded took 0.6-1.0 s on this machine
    (longer than editing one photo). Every output is already written and renamed into place by
    then. If a thread other than the main one is still running, the normal exit waits for it."""
    import threading

    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    if code is None:
        code = 0
    elif not isinstance(code, int):
        sys.stderr.write(f"{code}\n")
        code = 1
    import atexit

    atexit._run_exitfuncs()  # noqa: SLF001 (what the normal exit runs first)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`faceedit ... | head`) or stream
            pass
    os._exit(code)


if __name__ == "__main__":
    main()
