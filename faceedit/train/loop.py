"""The training loop every trainer shares: the GAN methods' and the analysis networks'.

A trainer (:class:`faceedit.train.trainer.Trainer`) states only what is special about it: its
data, networks and optimisers, one update, what a sample row shows and what it exports. An edit
method's trainer (``faceedit/train/<method>.py``) subclasses
:class:`faceedit.train.trainer.MethodTrainer`; the analysis networks' trainers are in
:mod:`faceedit.train.analysis`. :func:`run` does the rest:

* data: prepared datasets validated up front (:mod:`faceedit.train.validate`), split by subject
  (held-out subjects never train), crops held in memory (:mod:`faceedit.train.crops`);
* device ``auto``, autocast on CUDA (bf16 where supported, else fp16 with a gradient scaler);
* determinism: the batch of step ``s`` and every random draw inside it come from generators seeded
  by (seed, s, rank), so a run resumed from a checkpoint continues exactly as an uninterrupted one
  (bit-identical on CPU; GPU kernels are as deterministic as torch allows);
* the run's planned length (``Trainer.planned_steps``, for learning-rate schedules): ``steps``, or
  with a time budget the steps the budget allows at the speed of the first ``PLAN_AFTER`` steps;
  kept in the state, so a resumed run continues the same schedule;
* the run folder ``RUN`` (:mod:`faceedit.train.run_folder`): ``RUN/state.safetensors`` (all
  networks, optimisers, scaler; pickle-free) every ``ckpt_every`` steps and at the end;
  ``--resume`` continues from it; ``--init`` starts the generator from a registry checkpoint
  (fine-tuning); ``RUN/log.jsonl`` (losses every ``log_every`` steps, always), a progress bar on
  a TTY (:mod:`faceedit.train.progress`), ``RUN/samples/step-NNNNNNN.png`` every
  ``sample_every`` steps and at the end; after :func:`train_and_export`, the exported file with
  its model card (by default ``RUN/<name>.safetensors`` and ``.md``) and ``RUN/report.json``
  (``faceedit train`` adds ``RUN/run.json``, the command's settings);
* stop at ``steps`` or after ``budget_minutes``;
* multi-GPU / multi-process with ``torchrun --nproc_per_node N -m faceedit train ...``: each
  network is wrapped in DistributedDataParallel, every rank takes its slice of the global batch,
  rank 0 alone logs, samples and checkpoints.
"""

from __future__ import annotations

import gc
import json
import os
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from faceedit.data import Dataset
from faceedit.device import autocast_dtype
from faceedit.errors import UsageError
from faceedit.files import write_file_atomically
from faceedit.log import logger
from faceedit.models.resume_state import load_resume_state, save_resume_state
from faceedit.train.config import LoopConfig, check_config, trainer_config
from faceedit.train.crops import TrainData, batch_indices, mix_seed
from faceedit.train.export import export_paths
from faceedit.train.progress import Progress
from faceedit.train.run_folder import (
    LOG_FILE,
    STATE_FILE,
    append_log,
    nothing_to_resume,
    start_log,
    write_samples,
)
from faceedit.train.trainer import MethodTrainer, RunResult, Trainer, trainer_for

PLAN_AFTER = 20
"""Steps a run with a time budget takes before it plans its length from their speed."""


def _dist_env() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return world, int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))


def run(
    trainer_cls: type[Trainer],
    datasets: list[Dataset],
    out: str | os.PathLike,
    cfg: LoopConfig,
    config: dict | None = None,
    threads_note: str | None = None,
) -> RunResult:
    """Train ``trainer_cls`` on ``datasets`` into the run folder ``out``. ``threads_note``: the
    torch threads and why (:func:`choose_threads`), logged when the run starts."""
    from faceedit.device import resolve_device
    from faceedit.train.validate import validate_datasets

    out = Path(out)
    for name in ("ckpt_every", "sample_every", "log_every"):
        if getattr(cfg, name) < 0:
            raise UsageError(f"`{name}` {getattr(cfg, name)}: give 0 (only at the end) or more")
    if cfg.batch_size is not None and cfg.batch_size < 1:
        raise UsageError(f"`batch_size` {cfg.batch_size}: give 1 or more (default: the method's, "
                         f"{trainer_cls.default_batch_size})")
    world, rank, local_rank = _dist_env()
    distributed = world > 1
    if distributed and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() and cfg.device in ("auto", "cuda") else "gloo"
        dist.init_process_group(backend)
    if distributed and torch.cuda.is_available() and cfg.device in ("auto", "cuda"):
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = resolve_device(cfg.device)
    is_main = rank == 0

    state_path = out / STATE_FILE
    saved = None
    vocab = None
    # the given config checked; a resumed run keeps its config, fine-tuning its model's, under it
    config = check_config(trainer_cls, config or {}, cfg.options)
    if cfg.resume:
        if not state_path.is_file():
            raise UsageError(nothing_to_resume(out))
        saved = load_resume_state(state_path)
        vocab = saved.extra.get("vocab")
        config = {**trainer_config(trainer_cls, saved.extra.get("config", {})), **config}
    init_ckpt = None
    if saved is None and cfg.init:
        from faceedit.models.checkpoint import load_checkpoint
        from faceedit.models.hub import resolve_weights
        from faceedit.models.registry import get_spec

        path = cfg.init if cfg.init.endswith(".safetensors") else resolve_weights(get_spec(cfg.init))
        init_ckpt = load_checkpoint(path)
        if init_ckpt.meta.arch != trainer_cls.arch:
            raise UsageError(f"`init` {cfg.init}: architecture {init_ckpt.meta.arch!r}, this trainer "
                             f"needs {trainer_cls.arch!r}")
        # fine-tuning keeps the model's configuration and label vocabularies
        config = {**trainer_config(trainer_cls, init_ckpt.meta.config), **config}
        vocab = {k: v for k, v in init_ckpt.meta.vocabularies.items() if k in trainer_cls.label_keys} or None
    validate_datasets(datasets, trainer_cls, vocab)
    data = trainer_cls.load_data(datasets, cfg, {**trainer_cls.default_config, **config}, vocab)
    if len(data.train) == 0:
        raise UsageError(f"no training crops left after holding out subjects (a fraction of {cfg.holdout:g}, "
                         "`LoopConfig.holdout`); add data")
    torch.manual_seed(cfg.seed)
    trainer = trainer_cls(data, config or {}, device, cfg.options,
                          autocast_dtype(device, cfg.amp, option="`amp`"))
    batch = cfg.batch_size or trainer_cls.default_batch_size
    step = 0
    if saved is not None:
        trainer.load_state(saved.model_state, saved.optimizer_state_dicts)
        step = saved.step
        logger.info("resumed %s at step %d", out, step)
        if step >= cfg.steps:
            logger.warning("the run in %s is already at step %d, `steps` %d: no step to train; its "
                           "state is exported as it is (give a larger `steps` to train on)",
                           out, step, cfg.steps)
    elif init_ckpt is not None:
        trainer.init_from(init_ckpt.tensors, init_ckpt.path, init_ckpt.meta.config)
    if saved is None:
        trainer.start()
    # the planned length: --steps, or a budget run's estimate once made (kept for a resume)
    trainer.planned_steps = cfg.steps if cfg.budget_minutes is None else (
        saved.extra.get("planned_steps") if saved is not None else None)
    if cfg.stage and isinstance(trainer, MethodTrainer) and trainer.uses_stage:
        trainer.attach_stage(cfg.stage)
        if saved is None and init_ckpt is not None and init_ckpt.meta.extra.get("stage") != cfg.stage:
            trainer.start_as_identity()
            logger.info("`init` %s was trained without the stage: its generator starts as the identity",
                        cfg.init)
    if distributed:
        for k, m in list(trainer.nets.items()):
            if any(p.requires_grad for p in m.parameters()):
                trainer.nets[k] = nn.parallel.DistributedDataParallel(
                    m, device_ids=[device.index] if device.type == "cuda" else None)

    if is_main:
        if threads_note:
            logger.info("torch threads: %s", threads_note)
        out.mkdir(parents=True, exist_ok=True)
        for name, text in cfg.run_files.items():
            write_file_atomically(out / name, text)
        start_log(out / LOG_FILE, step if saved is not None else None)
    sample_batch = _sample_batch(data, device)
    t0 = time.monotonic()
    first_step = step
    last: dict[str, float] = {}
    pending: list[dict] = []
    stop_reason = "steps"

    def checkpoint() -> None:
        if is_main:
            models, optims = trainer.state()
            save_resume_state(state_path, models, optims, step, extra={
                "config": trainer.config, "vocab": data.vocab, "method": trainer_cls.arch,
                "seed": cfg.seed, "batch_size": batch, "world_size": world,
                "stage": getattr(trainer, "stage_name", None), "planned_steps": trainer.planned_steps,
            })
            append_log(out / LOG_FILE, pending)

    progress = Progress(cfg.steps, step, enabled=is_main and cfg.progress)
    with progress:
        while step < cfg.steps:
            if _should_stop(cfg, t0, distributed, device):
                stop_reason = "budget"
                break
            if trainer.planned_steps is None and step == first_step + PLAN_AFTER:
                trainer.planned_steps = _plan(cfg, step, t0, distributed, device)
            idx = batch_indices(step, len(data.train), batch, cfg.seed, rank, world)
            b = data.train.batch(idx, device)
            torch.manual_seed(mix_seed(cfg.seed, "step", step, rank))
            for m in trainer.nets.values():
                m.train()
            last = trainer.train_step(b, step)
            step += 1
            progress.update(step, last)
            if is_main and ((cfg.log_every and step % cfg.log_every == 0) or step == cfg.steps):
                pending.append({"step": step, "time": round(time.monotonic() - t0, 2),
                                **{k: round(float(v), 5) for k, v in last.items()}})
            if is_main and cfg.sample_every and step % cfg.sample_every == 0:
                write_samples(trainer, sample_batch, out / "samples" / f"step-{step:07d}.png")
            if cfg.ckpt_every and step % cfg.ckpt_every == 0:
                checkpoint()
    checkpoint()
    if is_main:
        write_samples(trainer, sample_batch, out / "samples" / f"step-{step:07d}.png")
    seconds = time.monotonic() - t0
    logger.info("stopped at step %d (%s) after %.0f s", step, stop_reason, seconds)
    return RunResult(trainer, step, seconds, stop_reason, last, world, rank)


def train_and_export(
    trainer: str | type[Trainer],
    datasets: list[Dataset],
    out: str | os.PathLike,
    cfg: LoopConfig,
    *,
    config: dict | None = None,
    export: str | os.PathLike | None = None,
    command: str = "",
    evaluate_after: bool = True,
) -> dict | None:
    """``faceedit train`` and ``faceedit train-analysis``: :func:`run` ``trainer`` (a method name,
    see :func:`trainer_for`, or a Trainer class) into the run folder ``out``, then (rank 0) its
    export (``export``, by default ``RUN/<name>.safetensors``, with its model card) and
    ``RUN/report.json``. Returns the run report (None on other ranks)."""
    trainer_cls = trainer_for(trainer) if isinstance(trainer, str) else trainer
    threads = torch.get_num_threads()
    chosen, why = choose_threads(cfg.threads, trainer_cls.torch_threads())
    torch.set_num_threads(chosen)
    try:
        res = run(trainer_cls, datasets, out, cfg, config, threads_note=f"{chosen} ({why})")
        rank = distributed_rank()
        if dist.is_available() and dist.is_initialized():
            _leave_process_group(res.trainer)
        if rank != 0:
            return None
        out = Path(out)
        path = export_paths(out, trainer_cls.arch, export)[0]
        path.parent.mkdir(parents=True, exist_ok=True)
        report = res.trainer.export(path, res, cfg, command=command, evaluate_after=evaluate_after, run_dir=out)
    finally:
        torch.set_num_threads(threads)
    write_file_atomically(out / "report.json", json.dumps(report, indent=1))
    logger.info("exported %s (sha256 %s)", report["export"], report["sha256"])
    return report


def _leave_process_group(trainer: Trainer) -> None:
    """End a distributed run cleanly: wait until every rank is done (rank 0 writes the last
    checkpoint and samples while the others would otherwise already be tearing down), drop the
    DistributedDataParallel wrappers (their reducers hold the process group), then destroy it.
    A rank leaving gloo while a peer still holds live pairs can abort the peer (seen once in CI
    as a SIGABRT of rank 1)."""
    dist.barrier()
    for k, m in list(trainer.nets.items()):
        if isinstance(m, nn.parallel.DistributedDataParallel):
            trainer.nets[k] = m.module
    gc.collect()
    dist.destroy_process_group()


def _plan(cfg: LoopConfig, step: int, t0: float, distributed: bool, device: torch.device) -> int:
    """The steps a budget run will have taken when its budget is spent, at the speed of its
    last ``PLAN_AFTER`` steps (at most ``cfg.steps``); rank 0's estimate for everyone."""
    assert cfg.budget_minutes is not None  # only a budget run plans
    elapsed = time.monotonic() - t0
    left = cfg.budget_minutes * 60 - elapsed
    planned = min(cfg.steps, step + max(1, int(left / (elapsed / PLAN_AFTER))))
    if distributed:
        value = torch.tensor([float(planned)], device=device)
        dist.broadcast(value, 0)
        planned = int(value.item())
    logger.info("planned %d steps (the budget at %.2f s a step)", planned, elapsed / PLAN_AFTER)
    return planned


def _should_stop(cfg: LoopConfig, t0: float, distributed: bool, device: torch.device) -> bool:
    stop = cfg.budget_minutes is not None and time.monotonic() - t0 > cfg.budget_minutes * 60
    if distributed:  # rank 0's clock decides for everyone
        flag = torch.tensor([1.0 if stop else 0.0], device=device)
        dist.broadcast(flag, 0)
        stop = bool(flag.item())
    return stop


def _sample_batch(data: TrainData, device: torch.device, n: int = 6) -> dict[str, Any]:
    """A fixed batch of held-out crops (training crops if none are held out) for sample sheets."""
    src = data.held if len(data.held) else data.train
    idx = torch.linspace(0, len(src) - 1, min(n, len(src))).round().long()
    return src.batch(idx, device)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity: a container's or ``taskset``'s
    share), else the machine's."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def choose_threads(requested: int | None = None, trainer_hint: int | None = None) -> tuple[int, str]:
    """The torch threads a training run uses, and why (for the log). ``requested`` (``--threads``)
    wins; then ``OMP_NUM_THREADS`` where it is set (torch's count as it made it); else the cores
    free: the usable cores (:func:`usable_cores`) less those other processes keep busy (the
    one-minute load average, rounded), at least 1, at most the trainer's own limit
    (``Trainer.torch_threads``): more threads than free cores make torch's threads wait on each
    other."""
    if requested is not None:
        if requested < 1:
            raise UsageError(f"`threads` {requested}: give 1 or more (default: the cores free)")
        return requested, "`threads`"
    if os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads(), f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}"
    cores = usable_cores()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average (Windows): all usable cores
        load = 0.0
    free = max(1, min(cores, cores - int(load + 0.5)))
    why = f"{cores} usable core{'s' * (cores != 1)}, load average {load:.1f}: {free} free"
    if trainer_hint and trainer_hint < free:
        return trainer_hint, f"{why}; the trainer takes at most {trainer_hint}"
    return free, why


def distributed_rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
