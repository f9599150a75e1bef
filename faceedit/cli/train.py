"""``faceedit prepare``, ``train``, ``eval``, ``train-stage`` and ``train-analysis``: datasets,
training runs and their evaluation."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from faceedit.cli.common import (
    AUTO_AMP,
    AUTO_DETECTOR,
    EXIT_FAILED,
    PRECISION_HELP,
    SETTINGS_HELP,
    Amp,
    DetectorOption,
    DeviceOption,
    atomic_json,
    checkpoint_name,
    dataset_files,
    errors_to_exit_codes,
    fail,
    model_file,
    model_template,
    named_path,
    parse_settings,
)
from faceedit.errors import UsageError
from faceedit.log import logger
from faceedit.train.presets import LAYOUTS, PRESETS

DatasetPreset = enum.Enum("DatasetPreset", {p: p for p in PRESETS}, type=str)  # type: ignore[misc]
"""``prepare --preset``'s choices: the dataset layouts of :mod:`faceedit.train.presets`."""


def prepare(
    raw: Annotated[Path, typer.Argument(help="Folder of raw photos.")],
    out_text: Annotated[str, typer.Option("--out", "-o", help="Dataset folder to write (resumable).")],
    preset: Annotated[DatasetPreset | None, typer.Option("--preset", case_sensitive=False, show_default=False, help="The dataset layout (default: guessed from the folder): " + "; ".join(f"{k}: {v}" for k, v in LAYOUTS.items() if k in PRESETS) + ".")] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="CSV with file,label[,...] columns instead of a preset.")] = None,
    size: Annotated[int, typer.Option("--size", help="Crop size in pixels, 16 to 2048 (ignored with --model).")] = 128,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Use this model's crop template.")] = None,
    detector: DetectorOption = AUTO_DETECTOR,
) -> None:
    """Detect and align every face of a raw photo folder once into a training dataset; prints
    the dataset's summary with this run's "new" and "failed" counts. Exit codes: 0 every photo
    is prepared, 1 some could not be (the others are; the reasons are in OUT/errors.jsonl and a
    re-run tries them again), 2 usage error."""
    from faceedit.faces.types import CropTemplate
    from faceedit.train.prepare import prepare as run_prepare

    with errors_to_exit_codes():
        out = named_path(out_text, "out", "dataset folder")
        if model:
            template = model_template(model)
        else:
            template = CropTemplate(size=size)
        summary = run_prepare(raw, out, preset=preset.value if preset is not None else None, csv_path=str(csv_file) if csv_file else None,
                              template=template, detector=detector.value)
    sys.stdout.write(json.dumps(summary) + "\n")
    if not summary["count"]:
        fail(f"{raw}: no photo could be prepared; the reasons are in {out / 'errors.jsonl'}",
              EXIT_FAILED)
    if summary["failed"]:
        fail(f"{raw}: {summary['failed']} photo(s) could not be prepared; the reasons are in "
             f"{out / 'errors.jsonl'}", EXIT_FAILED)


DEFAULT_TRAIN_BUDGET = 60.0
"""Minutes ``faceedit train`` runs when given neither --steps nor --budget."""
_NO_STEP_LIMIT = 1_000_000_000  # --budget alone: the budget stops the run


def train(
    ctx: typer.Context,
    *,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Method to train: reggan, eggan, legan, lssl, secgan (with --resume: the run's).")] = None,
    # a repeatable option's default is the tuple typer reads; the command gets a list (ignore[assignment])
    data: Annotated[list[Path], typer.Option("--data", "-d", help="Prepared dataset folder(s) (faceedit prepare; with --resume: the run's).")] = (),  # type: ignore[assignment]
    out_text: Annotated[str, typer.Option("--out", "-o", help="Run folder: checkpoints, logs, samples, report.")],
    steps: Annotated[int | None, typer.Option("--steps", min=0, help="Total steps (resumed steps included).")] = None,
    budget: Annotated[float | None, typer.Option("--budget", min=0, help=f"Stop after this many minutes (default {DEFAULT_TRAIN_BUDGET:g} when --steps is not given either).")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", "-b", help="Per-process batch (default: the method's).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the held-out split, the initialisation and the batches.")] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --out, with its method, data and settings.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Discard the run already in --out (its state, log, report and samples) and start afresh; replace --export (and its card) if it exists.")] = False,
    init: Annotated[str | None, typer.Option("--init", help="Fine-tune: start the generator from this registry model or .safetensors.")] = None,
    stage: Annotated[str, typer.Option("--stage", help="Train the network on the edits of this stage model (what it sees at inference: the stage's geometry, mouth and lighting); 'none' trains on unedited photos (a network used without its stage: the Python API's Editor.from_pretrained(..., stage=False)).")] = "stage",
    device: DeviceOption = "auto",
    amp: Annotated[Amp, typer.Option("--amp", case_sensitive=False, help=f"Mixed precision (autocast); {PRECISION_HELP}; off: fp32.")] = AUTO_AMP,
    config: Annotated[list[str], typer.Option("--set", help=f"Model, loss and trainer config, {SETTINGS_HELP}; e.g. image_size=64; an unknown key lists the valid ones.")] = (),  # type: ignore[assignment]
    option: Annotated[list[str], typer.Option("--option", help=f"Trainer option, {SETTINGS_HELP}.")] = (),  # type: ignore[assignment]
    no_semantic: Annotated[bool, typer.Option("--no-semantic", help="SeCGAN: train the plain baseline (no mask branch, no consistency loss).")] = False,
    ckpt_every: Annotated[int, typer.Option("--ckpt-every", min=0, help="Steps between checkpoints (0: only at the end).")] = 500,
    sample_every: Annotated[int, typer.Option("--sample-every", min=0, help="Steps between sample grids (RUN/samples/; 0: only at the end).")] = 500,
    log_every: Annotated[int, typer.Option("--log-every", min=0, help="Steps between log records (RUN/log.jsonl; 0: only the last step).")] = 10,
    threads: Annotated[int | None, typer.Option("--threads", min=1, show_default=False, help="Torch threads (default: the cores free, i.e. this process's usable cores less the load average; OMP_NUM_THREADS where set). Said in the log.")] = None,
    no_eval: Annotated[bool, typer.Option("--no-eval", help="Skip the held-out evaluation after export.")] = False,
    perceptual: Annotated[Path | None, typer.Option("--vgg19", help="VGG-19 weights (.safetensors) for perceptual losses; without them the term is off.")] = None,
    export_text: Annotated[str | None, typer.Option("--export", help="Checkpoint to write, a .safetensors file (default RUN/MODEL.safetensors); a model card is written beside it (.md).")] = None,
) -> None:
    """Train a method on prepared datasets and export a registry-ready checkpoint + model card.
    A run's method, data and settings are kept in RUN/run.json: --resume takes them from there.
    Each method's own settings are --set keys.
    Multi-GPU: torchrun --nproc_per_node N -m faceedit train ..."""
    from faceedit.files import check_output_folder
    from faceedit.io.outputs import check_output

    with errors_to_exit_codes():
        if resume and overwrite:
            raise UsageError("--resume continues the run in --out, --overwrite discards it: give one")
        check_output_folder(out_text, what="run folder")
        out = Path(out_text)
        export = None if export_text is None else named_path(export_text, "export", "file")
        if export is not None:
            checkpoint_name(export, "export")
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
        cfg, options, stage = dict(settings["config"]), dict(settings["option"]), settings["stage"]
        if settings["no_semantic"]:
            options["semantic"] = False
            cfg["semantic"] = False
        if settings["vgg19"]:
            options["vgg19"] = settings["vgg19"]
        # torch from here on (the usage errors above are answered without it)
        from faceedit.data import open_dataset
        from faceedit.train.config import check_config
        from faceedit.train.export import export_paths
        from faceedit.train.loop import LoopConfig, train_and_export
        from faceedit.train.run_folder import check_run_folder, clear_run_folder
        from faceedit.train.trainer import trainer_for

        trainer_cls = trainer_for(model)  # an unknown method is the first thing to report
        check_config(trainer_cls, cfg, options)  # then a bad --set or --option, before any file
        if batch_size is not None and batch_size < 1:
            raise UsageError(f"--batch-size {batch_size}: give 1 or more (default: the method's, "
                             f"{trainer_cls.default_batch_size})")
        earlier_run = check_run_folder(out, resume=resume, overwrite=overwrite)
        sets = [open_dataset(d) for d in data]
        # the checkpoint and its card: a resumed run writes its own export again
        read = [*dataset_files(data), *model_file(init), *model_file(stage),
                *([settings["vgg19"]] if settings["vgg19"] else [])]
        for path in export_paths(out, trainer_cls.arch, export):
            check_output(path, inputs=read, overwrite=overwrite or resume, option="export")
        clear_run_folder(earlier_run)  # --overwrite, once the options and datasets are known good
        # run.json is written when the run starts (its data and networks known good); a resumed run has it
        run_files = {} if resume else {RUN_SETTINGS: json.dumps(settings, indent=1) + "\n"}
        loop = LoopConfig(steps=steps, budget_minutes=budget, batch_size=batch_size, seed=seed,
                          ckpt_every=ckpt_every, sample_every=sample_every, log_every=log_every,
                          device=device, amp=amp.value, resume=resume, init=init, options=options,
                          stage=None if stage.lower() in ("none", "off", "") else stage,
                          run_files=run_files, threads=threads)
        train_and_export(model, sets, out, loop, config=cfg, export=export,
                         command="faceedit " + " ".join(sys.argv[1:]), evaluate_after=not no_eval)


RUN_SETTINGS = "run.json"
"""The file of a run folder that keeps what defines the run, for ``train --resume``."""

# The train options that define a run: its settings key -> (parameter names, option name).
_RUN_OPTIONS = {
    "model": (("model",), "--model"), "data": (("data",), "--data"),
    "batch_size": (("batch_size",), "--batch-size"), "seed": (("seed",), "--seed"),
    "init": (("init",), "--init"), "config": (("config",), "--set"),
    "option": (("option",), "--option"), "no_semantic": (("no_semantic",), "--no-semantic"),
    "vgg19": (("perceptual",), "--vgg19"), "stage": (("stage",), "--stage"),
}


def _run_settings(params: dict) -> dict:
    """What defines a run, from the train command's parameters, JSON-ready and comparable."""
    return {
        "model": params["model"],
        "data": [str(Path(d).resolve()) for d in params["data"]],
        "batch_size": params["batch_size"],
        "seed": params["seed"],
        "init": params["init"],
        "config": parse_settings(params["config"], "--set"),
        "option": parse_settings(params["option"], "--option"),
        "no_semantic": params["no_semantic"],
        "vgg19": str(Path(params["perceptual"]).resolve()) if params["perceptual"] else None,
        "stage": params["stage"],
    }


def _resumed_settings(ctx: typer.Context, out: Path, given: dict) -> dict:
    """The settings of the run in ``out`` (RUN/run.json); an option given on the command line
    must agree with them. A folder without run.json holds no run to resume: a UsageError."""
    path = out / RUN_SETTINGS
    if not path.is_file():
        raise UsageError(f"{out}: nothing to resume (no {RUN_SETTINGS}, the file that keeps a run's "
                         "method, data and settings)")
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
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


def eval_(
    model: Annotated[str, typer.Option("--model", "-m", help="Registered model name or a .safetensors path.")],
    data: Annotated[list[Path], typer.Option("--data", "-d", help="Prepared dataset folder(s); only their held-out subjects are used.")],
    out_text: Annotated[str | None, typer.Option("--out", "-o", help="JSON file to write (also printed on stdout).")] = None,
    sheet_text: Annotated[str | None, typer.Option("--sheet", help="Contact sheet PNG (input | each edit).")] = None,
    max_sources: Annotated[int, typer.Option("--max-sources", help="Held-out source crops to edit.")] = 48,
    device: DeviceOption = "auto",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out and --sheet if they exist.")] = False,
) -> None:
    """Evaluate a model on held-out subjects: expression/lighting accuracy, identity, quality, AU error, SSIM/L1.
    The record names the checkpoint by ``sha256`` (the file's, as ``sha256sum`` prints it) and
    ``tensors_sha256`` (its tensors' contents, kept in its header)."""
    from faceedit.api import resolve_device
    from faceedit.data import open_dataset
    from faceedit.eval.evaluate import evaluate
    from faceedit.files import same_file
    from faceedit.io.formats import output_format
    from faceedit.io.outputs import check_output
    from faceedit.models.checkpoint import file_sha256
    from faceedit.models.loading import load_model

    with errors_to_exit_codes():
        out = None if out_text is None else named_path(out_text, "out", "file")
        sheet = None if sheet_text is None else named_path(sheet_text, "sheet", "file")
        read = [*dataset_files(data), *model_file(model)]
        for path, option in ((out, "out"), (sheet, "sheet")):
            if path is not None:
                check_output(path, inputs=read, overwrite=overwrite, option=option)
        if sheet is not None:
            output_format(sheet)
            if out is not None and same_file(out, sheet):
                raise UsageError(f"--out and --sheet name the same file, {out}: give two")
        dev = resolve_device(device)
        loaded = load_model(model, device=dev)
        metrics = evaluate(loaded.model, loaded.meta, [open_dataset(d) for d in data], device=dev,
                           max_sources=max_sources, sheet=sheet)
        metrics = {"model": model, "sha256": file_sha256(loaded.path),
                   "tensors_sha256": loaded.meta.tensors_sha256, **metrics}
        if out is not None:
            atomic_json(out, metrics)
    sys.stdout.write(json.dumps(metrics) + "\n")


def train_stage(
    data: Annotated[list[Path], typer.Option("--data", "-d", help="Prepared datasets (faceedit prepare --size 256): expression pairs, Extended Yale B for shading.")],
    out_text: Annotated[str, typer.Option("--out", "-o", help="Checkpoint to write (.safetensors), e.g. weights/stage.safetensors.")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the by-subject held-out split.")] = 0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out if it exists.")] = False,
) -> None:
    """Fit the edit stage every method sits on (geometry, mouth appearance, shading statistics;
    closed form, minutes on a CPU) and write it as a checkpoint."""
    from faceedit.data import open_dataset
    from faceedit.io.outputs import check_output
    from faceedit.train.stage import export_stage, fit_stage

    with errors_to_exit_codes():
        out = named_path(out_text, "out", "file")
        checkpoint_name(out, "out")
        check_output(out, inputs=dataset_files(data), overwrite=overwrite)
        sets = [open_dataset(d) for d in data]
        model, report = fit_stage(sets, seed=seed)
        out.parent.mkdir(parents=True, exist_ok=True)
        sha = export_stage(model, report, out, sets, "faceedit " + " ".join(sys.argv[1:]))
        logger.info("wrote %s (sha256 %s)", out, sha)
        sys.stdout.write(json.dumps(report) + "\n")


def train_analysis(
    kind: Annotated[str, typer.Argument(help="expression | lighting | identity | parser | quality")],
    data: Annotated[list[Path], typer.Option("--data", "-d", help="Prepared dataset folder(s).")],
    out_text: Annotated[str, typer.Option("--out", "-o", help="Weights file to write (.safetensors); the model card goes beside it (.md).")],
    budget: Annotated[float | None, typer.Option("--budget", min=0, help="Training time in minutes (default 10 when --steps is not given either); the learning-rate schedule spans the steps it allows.")] = None,
    steps: Annotated[int | None, typer.Option("--steps", min=0, help="Total steps (the schedule's length; resumed steps included).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the training (the held-out split is fixed: the one faceedit eval uses).")] = 0,
    run_text: Annotated[str | None, typer.Option("--run", help="Run folder: state, log, samples, report (default: beside --out, OUT.run/).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in --run (same kind, data and seed).")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Discard the run already in --run and start afresh; replace --out if it exists.")] = False,
    device: DeviceOption = "auto",
    ckpt_every: Annotated[int, typer.Option("--ckpt-every", min=0, help="Steps between checkpoints (0: only at the end).")] = 500,
    sample_every: Annotated[int, typer.Option("--sample-every", min=0, help="Steps between sample sheets (RUN/samples/; 0: only at the end).")] = 500,
    log_every: Annotated[int, typer.Option("--log-every", min=0, help="Steps between log records (RUN/log.jsonl; 0: only the last step).")] = 10,
    threads: Annotated[int | None, typer.Option("--threads", min=1, show_default=False, help="Torch threads (default: the cores free, at most what the network trains well on; OMP_NUM_THREADS where set). Said in the log.")] = None,
) -> None:
    """Train one of the face-analysis networks (classifiers, identity, parser, quality) on the
    shared training loop: RUN/state.safetensors, RUN/log.jsonl, RUN/samples/, RUN/report.json;
    prints the held-out metrics."""
    from faceedit.data import open_dataset
    from faceedit.files import check_output_folder
    from faceedit.io.outputs import check_output
    from faceedit.train.analysis.kinds import analysis_trainer, default_run_dir
    from faceedit.train.export import export_paths
    from faceedit.train.loop import LoopConfig, train_and_export
    from faceedit.train.run_folder import check_run_folder, clear_run_folder

    with errors_to_exit_codes():
        trainer = analysis_trainer(kind)
        out = named_path(out_text, "out", "file")
        checkpoint_name(out, "out")
        run_dir = default_run_dir(out) if run_text is None else named_path(run_text, "run", "run folder")
        check_output_folder(run_dir, option="run", what="run folder")
        earlier_run = check_run_folder(run_dir, resume=resume, overwrite=overwrite)
        # the weights and their card; a resumed run writes its own again
        for path in export_paths(run_dir, kind, out):
            check_output(path, inputs=dataset_files(data), overwrite=overwrite or resume)
        settings = {"kind": kind, "data": [str(d.resolve()) for d in data], "seed": seed}
        _same_analysis_run(run_dir, settings, resume)
        sets = [open_dataset(d) for d in data]
        clear_run_folder(earlier_run)
        if steps is None and budget is None:
            budget = DEFAULT_ANALYSIS_BUDGET
        loop = LoopConfig(steps=_NO_STEP_LIMIT if steps is None else steps, budget_minutes=budget, seed=seed,
                          ckpt_every=ckpt_every, sample_every=sample_every, log_every=log_every,
                          device=device, resume=resume, stage=None, threads=threads,
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
