"""``faceedit prepare``, ``train``, ``eval``, ``train-stage`` and ``train-analysis``: datasets,
training runs and their evaluation."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from faceedit.cli.common import (DETECTORS, EXIT_FAILED, atomic_json, errors_to_exit_codes, fail,
                                 parse_options)
from faceedit.errors import UsageError
from faceedit.log import logger

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

    with errors_to_exit_codes():
        if model:
            from faceedit.models.registry import get_spec, spec_from_path

            template = (spec_from_path(model) if model.endswith(".safetensors") else get_spec(model)).template
        else:
            template = CropTemplate(size=size)
        summary = run_prepare(raw, out, preset=preset, csv_path=str(csv_file) if csv_file else None,
                              template=template, detector=detector)
    sys.stdout.write(json.dumps(summary) + "\n")
    if not summary["count"]:
        fail(f"{raw}: no photo could be prepared; the reasons are in {out / 'errors.jsonl'}",
              EXIT_FAILED)


DEFAULT_TRAIN_BUDGET = 60.0
"""Minutes ``faceedit train`` runs when given neither --steps nor --budget."""
_NO_STEP_LIMIT = 1_000_000_000  # --budget alone: the budget stops the run


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
    with errors_to_exit_codes():
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
    for key, value in parse_options(values).items():
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

    with errors_to_exit_codes():
        dev = resolve_device(device)
        loaded = load_model(model, device=dev)
        metrics = evaluate(loaded.model, loaded.meta, [open_dataset(d) for d in data], device=dev,
                           max_sources=max_sources, sheet=sheet)
        metrics = {"model": model, "sha256": loaded.meta.tensors_sha256, **metrics}
        if out is not None:
            atomic_json(out, metrics)
    sys.stdout.write(json.dumps(metrics) + "\n")


def train_stage(
    data: List[Path] = typer.Option(..., "--data", "-d", help="Prepared datasets (faceedit prepare --size 256): expression pairs, Extended Yale B for shading."),
    out: Path = typer.Option(..., "--out", "-o", help="Checkpoint to write (.safetensors), e.g. weights/stage.safetensors."),
    seed: int = typer.Option(0, "--seed", help="Seed of the by-subject held-out split."),
) -> None:
    """Fit the edit stage every method sits on (geometry, mouth appearance, shading statistics;
    closed form, minutes on a CPU) and write it as a checkpoint."""
    from faceedit.train.data import open_dataset
    from faceedit.train.stage import export_stage, fit_stage

    with errors_to_exit_codes():
        if out.suffix != ".safetensors":
            raise UsageError(f"--out {out}: give a .safetensors file name")
        sets = [open_dataset(d) for d in data]
        model, report = fit_stage(sets, seed=seed)
        out.parent.mkdir(parents=True, exist_ok=True)
        sha = export_stage(model, report, out, sets, "faceedit " + " ".join(sys.argv[1:]))
        logger.info("wrote %s (sha256 %s)", out, sha)
        sys.stdout.write(json.dumps(report) + "\n")


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

    with errors_to_exit_codes():
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
