"""The training loop every GAN method shares.

A method's trainer (``faceedit/train/<method>.py``) subclasses :class:`MethodTrainer` and states
only what is special about it: its networks and optimisers (``build``), one update
(``train_step``: its losses and D/G schedule), what a sample row shows (``samples``) and the
generator to export (``generator`` + ``export_info``). :func:`run` does the rest:

* data: prepared datasets validated up front (:mod:`faceedit.train.validate`), split by subject
  (held-out subjects never train), crops held in memory as uint8;
* device ``auto``, autocast on CUDA (bf16 where supported, else fp16 with a gradient scaler);
* determinism: the batch of step ``s`` and every random draw inside it come from generators seeded
  by (seed, s, rank), so a run resumed from a checkpoint continues exactly as an uninterrupted one
  (bit-identical on CPU; GPU kernels are as deterministic as torch allows);
* checkpoints ``RUN/state.safetensors`` (all networks, optimisers, scaler; pickle-free) every
  ``ckpt_every`` steps and at the end; ``--resume`` continues from it; ``--init`` starts the
  generator from a registry checkpoint (fine-tuning);
* ``RUN/log.jsonl`` (losses every ``log_every`` steps, always), a rich progress bar on a TTY,
  ``RUN/samples/step-NNNNNNN.png`` every ``sample_every`` steps;
* stop at ``steps`` or after ``budget_minutes``;
* multi-GPU / multi-process with ``torchrun --nproc_per_node N -m faceedit train ...``: each
  network is wrapped in DistributedDataParallel, every rank takes its slice of the global batch,
  rank 0 alone logs, samples and checkpoints.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from faceedit.device import autocast_dtype
from faceedit.errors import UsageError
from faceedit.files import atomic_path, write_file_atomically
from faceedit.log import logger
from faceedit.models.base import ConfigError, EditModel, ModelConfig
from faceedit.models.checkpoint import load_training_state, save_training_state, upgrade_config
from faceedit.pixels import levels_to_signed, signed_to_uint8
from faceedit.train.data import Dataset, holdout_subjects

STATE_FILE = "state.safetensors"
LOG_FILE = "log.jsonl"


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


@dataclass
class CropSet:
    """Crops of one split held in memory: ``images`` uint8 (N, C, S, S); ``labels[key]`` class
    indices (N,) with -1 where a row has no such label; ``aus`` (N, 17) float with NaN where not
    estimable (only when the trainer asks for AUs); ``landmarks`` (N, 68, 2) in crop pixels;
    ``grey`` (N,) bool; ``subjects`` (N,) subject index."""

    rows: list[dict]
    images: torch.Tensor
    labels: dict[str, torch.Tensor]
    landmarks: torch.Tensor
    grey: torch.Tensor
    subjects: torch.Tensor
    aus: torch.Tensor | None = None
    offset: int = 0  # row numbers continue across splits (held-out rows follow the training rows)

    def __len__(self) -> int:
        return len(self.rows)

    def batch(self, idx: torch.Tensor, device: torch.device | str = "cpu") -> dict[str, Any]:
        """A training batch: ``image`` float in [-1, 1], the labels, landmarks, grey flags."""
        out: dict[str, Any] = {
            "image": levels_to_signed(self.images[idx].to(device)),
            "landmarks": self.landmarks[idx].to(device),
            "grey": self.grey[idx].to(device),
            "subject": self.subjects[idx].to(device),
            "index": idx.to(device) + self.offset,
        }
        for k, v in self.labels.items():
            out[k] = v[idx].to(device)
        if self.aus is not None:
            out["aus"] = self.aus[idx].to(device)
        return out


@dataclass
class TrainData:
    """Prepared datasets as one training set and one held-out set, with the label vocabularies."""

    datasets: list[Dataset]
    size: int
    channels: int
    vocab: dict[str, list[str]]
    train: CropSet
    held: CropSet
    heldout_subjects: list[str]

    @property
    def names(self) -> list[str]:
        return sorted({d.meta.get("preset", "custom") for d in self.datasets})


def load_train_data(
    datasets: list[Dataset],
    *,
    label_keys: tuple[str, ...] = ("expression",),
    vocab: dict[str, list[str]] | None = None,
    size: int | None = None,
    channels: int = 3,
    with_aus: bool = False,
    holdout: float = 0.2,
    seed: int = 0,
) -> TrainData:
    """Load crops and labels into memory. ``vocab`` fixes the class order per label key (a model
    being fine-tuned keeps its vocabulary); otherwise each key's vocabulary is the sorted set of
    values found. Rows without any of ``label_keys`` are kept (they count as real images for the
    discriminator) with -1 labels."""
    from faceedit.analysis.fit import load_crops

    size = size or int(datasets[0].meta["size"])
    rows_train, rows_held, held_names = [], [], []
    for d in datasets:
        held = holdout_subjects({r["subject"] for r in d.rows}, holdout, seed)
        held_names += sorted(held)
        for r in d.rows:
            (rows_held if r["subject"] in held else rows_train).append(r)
    found: dict[str, set[str]] = {k: set() for k in label_keys}
    for r in rows_train + rows_held:
        for k in label_keys:
            v = r["labels"].get(k)
            if v is not None:
                found[k].add(str(v))
    vocab = {k: list(vocab[k]) if vocab and k in vocab else sorted(found[k]) for k in label_keys}
    subjects = {s: i for i, s in enumerate(sorted({r["subject"] for r in rows_train + rows_held}))}

    def crop_set(rows: list[dict]) -> CropSet:
        labels = {
            k: torch.tensor([vocab[k].index(str(r["labels"][k])) if str(r["labels"].get(k)) in vocab[k]
                             else -1 for r in rows], dtype=torch.long)
            for k in label_keys
        }
        lm = torch.tensor(np.array([r["landmarks"] for r in rows], np.float32).reshape(len(rows), -1, 2)
                          * (size / int(datasets[0].meta["size"])))
        aus = None
        if with_aus:
            from faceedit.faces.au import dataset_aus

            aus = torch.from_numpy(np.asarray(dataset_aus(rows), np.float32))
        return CropSet(
            rows=rows,
            images=load_crops(rows, size, channels),
            labels=labels,
            landmarks=lm,
            grey=torch.tensor([bool(r.get("grey")) for r in rows]),
            subjects=torch.tensor([subjects[r["subject"]] for r in rows], dtype=torch.long),
            aus=aus,
        )

    held = crop_set(rows_held)
    held.offset = len(rows_train)
    return TrainData(datasets, size, channels, vocab, crop_set(rows_train), held, held_names)


def batch_indices(step: int, n: int, batch: int, seed: int, rank: int = 0, world: int = 1) -> torch.Tensor:
    """Indices of this rank's part of the global batch of ``step``: epochs are seeded permutations
    of the ``n`` training crops, consumed ``batch * world`` at a time. A pure function of its
    arguments, so resuming at any step continues the same sequence."""
    g = batch * world
    start = step * g
    out = []
    while len(out) < g:
        epoch, offset = divmod(start + len(out), n)
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(_mix(seed, "epoch", epoch)))
        out.extend(perm[offset : offset + g - len(out)].tolist())
    return torch.tensor(out[rank * batch : (rank + 1) * batch], dtype=torch.long)


def _mix(*parts) -> int:
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little") & (2**63 - 1)


# --------------------------------------------------------------------------------------------
# The method interface
# --------------------------------------------------------------------------------------------


class MethodTrainer:
    """What a method's trainer provides. Subclasses set the class attributes and implement the
    methods marked *method*; the loop provides ``self.data``, ``self.config``, ``self.device``,
    ``self.options`` and the helpers ``optimize``, ``autocast``, ``net``."""

    method: str = ""            # "LEGAN" (for model cards)
    arch: str = ""              # the registry architecture of the exported generator
    label_keys: tuple[str, ...] = ("expression",)
    needs_labels: tuple[str, ...] = ()   # every training row must carry these (validated)
    needs_pairs: bool = False
    needs_aus: bool = False
    uses_prior: bool = False    # trains on the stage's edits (faceedit.train.prior) when the loop has one
    channels: int = 3
    default_config: dict[str, Any] = {}
    # The exported model's typed config (faceedit.models.base.ModelConfig). When set, the
    # trainer's config may hold its keys and the trainer's own (``default_config``), nothing else:
    # an unknown key is refused by name.
    config_class: type[ModelConfig] | None = None
    default_batch_size: int = 8

    def __init__(self, data: TrainData, config: dict, device: torch.device, options: dict,
                 amp_dtype: torch.dtype | None = None) -> None:
        self.data, self.device, self.options = data, device, dict(options)
        config = trainer_config(type(self), config)
        self.config = {**self.default_config, **config}
        self.amp_dtype = amp_dtype
        self.nets: dict[str, nn.Module] = {}
        self.opts: dict[str, torch.optim.Optimizer] = {}
        self.scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
        self.prior = None  # a StagePrior, set by attach_prior after build
        self.build()
        for name, m in self.nets.items():
            self.nets[name] = m.to(device)

    # ---- method ----------------------------------------------------------------------------
    def build(self) -> None:
        """*method*: create ``self.nets`` (name -> module; the generator under ``"G"``) and
        ``self.opts`` (name -> optimiser)."""
        raise NotImplementedError

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, float]:
        """*method*: one update (all D and G steps of it); returns the losses to log."""
        raise NotImplementedError

    def samples(self, batch: dict[str, Any]) -> torch.Tensor:
        """*method*: a sample sheet (B, C, H, W') in [-1, 1], e.g. input | edits side by side."""
        raise NotImplementedError

    def generator(self) -> EditModel:
        """*method*: the exported inference model (an EditModel holding the trained G)."""
        raise NotImplementedError

    def export_info(self) -> dict[str, Any]:
        """*method*: ``targets``, ``conditions`` and ``extra`` metadata for export. The header's
        config is the exported model's own, captured by the save path; ``config`` here is
        optional: for a model without a typed config (a plugin's) it is what is written, for the
        others what the save path checks the model's own against."""
        raise NotImplementedError

    def init_from(self, tensors: dict[str, torch.Tensor], source: str, source_config: dict | None = None) -> None:
        """Fine-tuning: load a registry checkpoint's generator weights into ``self.nets["G"]``,
        skipping tensors whose shapes differ (e.g. a new condition vocabulary), with a warning.
        ``source_config`` is the checkpoint's own model config (for trainers that convert)."""
        g = self.net("G")
        own = g.state_dict()
        prefix = self.export_prefix()
        usable = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        fit = {k: v.to(own[k].dtype) for k, v in usable.items() if k in own and own[k].shape == v.shape}
        skipped = sorted(set(own) - set(fit))
        g.load_state_dict({**own, **fit})
        logger.info("initialised G from %s: %d tensors loaded, %d kept fresh%s", source, len(fit),
                    len(skipped), f" ({', '.join(skipped[:4])}...)" if skipped else "")

    def export_prefix(self) -> str:
        """Prefix of G's tensors inside the exported model's state dict."""
        return "G."

    def prior_vocab(self) -> tuple[list[str], list[str]]:
        """*method* (with ``uses_prior``): the expression and lighting vocabularies whose indices
        ``stage_input`` takes."""
        return list(self.data.vocab.get("expression", [])), list(self.data.vocab.get("lighting", []))

    def start_as_identity(self) -> None:
        """*method* (with ``uses_prior``): make a fine-tuned generator start as the identity (a
        residual generator's last layer zeroed), when it was trained without the stage."""

    # ---- the stage prior -------------------------------------------------------------------
    def attach_prior(self, name: str) -> None:
        """Train on the edits of the stage ``name`` (see :mod:`faceedit.train.prior`)."""
        from faceedit.train.prior import StagePrior, load_stage_prior

        expressions, lighting = self.prior_vocab()
        crops = [self.data.train, self.data.held]
        self.prior = StagePrior(load_stage_prior(name), [r for c in crops for r in c.rows],
                                torch.cat([c.landmarks for c in crops]), self.data.size, expressions, lighting)
        self.prior_name = name

    def stage_input(self, x: torch.Tensor, batch: dict[str, Any], expr: torch.Tensor,
                    light: torch.Tensor | None = None) -> torch.Tensor:
        """The stage's edit of the batch's crops ``x`` towards expression (and lighting) indices
        of :meth:`prior_vocab` (-1: none): what the network sees at inference. ``x`` itself
        without a prior."""
        if self.prior is None:
            return x
        return self.prior.forward(x, batch["index"], expr, light, batch.get("grey"))

    def stage_landmarks(self, batch: dict[str, Any], expr: torch.Tensor) -> torch.Tensor:
        """The batch's landmarks after the stage's move towards ``expr`` (unchanged without a prior)."""
        lm = batch["landmarks"]
        if self.prior is None:
            return lm
        return self.prior.moved_landmarks(batch["index"], expr, lm)

    def stage_l1(self, out: torch.Tensor, x_in: torch.Tensor) -> torch.Tensor | None:
        """L1 between a generator's output and the stage's edit it was given, to be weighted by the
        trainer's ``lambda_stage``; None without a prior or at weight 0. Not in the papers: without
        it the class losses repaint what the stage did with dataset cues (halos, dot grids)."""
        if self.prior is None or not float(self.config.get("lambda_stage", 0.0)):
            return None
        return (out.float() - x_in).abs().mean()

    def stage_back(self, x: torch.Tensor, batch: dict[str, Any], expr: torch.Tensor) -> torch.Tensor:
        """Crops of the batch's faces as moved towards ``expr``, warped back to their own landmarks
        (a cycle's way back); ``x`` itself without a prior."""
        if self.prior is None:
            return x
        return self.prior.back(x, batch["index"], expr)

    # ---- helpers ---------------------------------------------------------------------------
    def net(self, name: str) -> nn.Module:
        """A network without its DistributedDataParallel wrapper."""
        m = self.nets[name]
        return m.module if isinstance(m, nn.parallel.DistributedDataParallel) else m

    def autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def optimize(self, name: str, loss: torch.Tensor) -> None:
        """zero_grad, backward (scaled under fp16 autocast), step of optimiser ``name``."""
        opt = self.opts[name]
        opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(opt)
        self.scaler.update()

    def state(self) -> tuple[dict, dict]:
        return ({k: self.net(k).state_dict() for k in self.nets},
                {**{k: o.state_dict() for k, o in self.opts.items()}, "_scaler": self.scaler.state_dict()})

    def load_state(self, models: dict, optimizers: dict) -> None:
        for k in self.nets:
            self.net(k).load_state_dict(models[k])
        for k, o in self.opts.items():
            o.load_state_dict(optimizers[k])
        if "_scaler" in optimizers and optimizers["_scaler"]:
            self.scaler.load_state_dict(optimizers["_scaler"])


# --------------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------------


@dataclass
class LoopConfig:
    steps: int = 10_000
    budget_minutes: float | None = None
    batch_size: int | None = None
    seed: int = 0
    ckpt_every: int = 500
    sample_every: int = 500
    log_every: int = 10
    device: str = "auto"
    amp: str = "auto"          # auto (on CUDA) | off | fp16 | bf16
    resume: bool = False
    init: str | None = None
    prior: str | None = "stage"  # methods that train on the stage's edits use this stage; None: pixels alone
    holdout: float = 0.2
    progress: bool = True
    options: dict = field(default_factory=dict)


@dataclass
class RunResult:
    trainer: MethodTrainer
    step: int
    seconds: float
    stop_reason: str
    last_losses: dict[str, float]
    world_size: int
    rank: int


def _dist_env() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    return world, int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))


def run(
    trainer_cls: type[MethodTrainer],
    datasets: list[Dataset],
    out: str | os.PathLike,
    cfg: LoopConfig,
    config: dict | None = None,
) -> RunResult:
    """Train ``trainer_cls`` on ``datasets`` into the run folder ``out``."""
    from faceedit.device import resolve_device
    from faceedit.train.validate import validate_datasets

    out = Path(out)
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
    # each source of config in the current key names before they are merged
    config = trainer_config(trainer_cls, config or {})
    if cfg.resume:
        if not state_path.is_file():
            raise UsageError(f"{out}: nothing to resume (no {STATE_FILE})")
        saved = load_training_state(state_path)
        vocab = saved.extra.get("vocab")
        config = {**trainer_config(trainer_cls, saved.extra.get("config", {})), **config}
    init_ckpt = None
    if saved is None and cfg.init:
        from faceedit.models.checkpoint import load_checkpoint
        from faceedit.models.registry import get_spec, resolve_weights

        path = cfg.init if cfg.init.endswith(".safetensors") else resolve_weights(get_spec(cfg.init))
        init_ckpt = load_checkpoint(path)
        if init_ckpt.meta.arch != trainer_cls.arch:
            raise UsageError(f"--init {cfg.init}: architecture {init_ckpt.meta.arch!r}, this trainer "
                             f"needs {trainer_cls.arch!r}")
        # fine-tuning keeps the model's configuration and label vocabularies
        config = {**trainer_config(trainer_cls, init_ckpt.meta.config), **config}
        vocab = {k: v for k, v in init_ckpt.meta.vocabularies.items() if k in trainer_cls.label_keys} or None
    validate_datasets(datasets, trainer_cls, vocab)
    merged = {**trainer_cls.default_config, **config}
    data = load_train_data(
        datasets, label_keys=trainer_cls.label_keys, vocab=vocab, channels=trainer_cls.channels,
        with_aus=trainer_cls.needs_aus, holdout=cfg.holdout, seed=cfg.seed,
        size=merged.get("image_size"),
    )
    if len(data.train) == 0:
        raise UsageError("no training crops left after holding out subjects; add data or lower --holdout")
    torch.manual_seed(cfg.seed)
    trainer = trainer_cls(data, config or {}, device, cfg.options,
                          autocast_dtype(device, cfg.amp, option="--amp"))
    batch = cfg.batch_size or trainer_cls.default_batch_size
    step = 0
    if saved is not None:
        trainer.load_state(saved.model_state, saved.optimizer_state_dicts)
        step = saved.step
        logger.info("resumed %s at step %d", out, step)
    elif init_ckpt is not None:
        trainer.init_from(init_ckpt.tensors, init_ckpt.path, init_ckpt.meta.config)
    if cfg.prior and trainer_cls.uses_prior:
        trainer.attach_prior(cfg.prior)
        if saved is None and init_ckpt is not None and init_ckpt.meta.extra.get("prior") != cfg.prior:
            trainer.start_as_identity()
            logger.info("--init %s was trained without the stage: its generator starts as the identity",
                        cfg.init)
    if distributed:
        for k, m in list(trainer.nets.items()):
            if any(p.requires_grad for p in m.parameters()):
                trainer.nets[k] = nn.parallel.DistributedDataParallel(
                    m, device_ids=[device.index] if device.type == "cuda" else None)

    if is_main:
        out.mkdir(parents=True, exist_ok=True)
        _start_log(out / LOG_FILE, step if saved is not None else None)
    sample_batch = _sample_batch(data, device)
    t0 = time.monotonic()
    last: dict[str, float] = {}
    pending: list[dict] = []
    stop_reason = "steps"

    def checkpoint() -> None:
        if is_main:
            models, optims = trainer.state()
            save_training_state(state_path, models, optims, step, extra={
                "config": trainer.config, "vocab": data.vocab, "method": trainer_cls.arch,
                "seed": cfg.seed, "batch_size": batch, "world_size": world,
                "prior": trainer.prior_name if trainer.prior is not None else None,
            })
            _flush(out / LOG_FILE, pending)

    progress = _Progress(cfg.steps, step, enabled=is_main and cfg.progress)
    with progress:
        while step < cfg.steps:
            if _should_stop(cfg, t0, distributed, device):
                stop_reason = "budget"
                break
            idx = batch_indices(step, len(data.train), batch, cfg.seed, rank, world)
            b = data.train.batch(idx, device)
            torch.manual_seed(_mix(cfg.seed, "step", step, rank))
            for m in trainer.nets.values():
                m.train()
            last = trainer.train_step(b, step)
            step += 1
            progress.update(step, last)
            if is_main and (step % cfg.log_every == 0 or step == cfg.steps):
                pending.append({"step": step, "time": round(time.monotonic() - t0, 2),
                                **{k: round(float(v), 5) for k, v in last.items()}})
            if is_main and cfg.sample_every and step % cfg.sample_every == 0:
                _write_samples(trainer, sample_batch, out / "samples" / f"step-{step:07d}.png")
            if cfg.ckpt_every and step % cfg.ckpt_every == 0:
                checkpoint()
    checkpoint()
    if is_main:
        _write_samples(trainer, sample_batch, out / "samples" / f"step-{step:07d}.png")
    seconds = time.monotonic() - t0
    logger.info("stopped at step %d (%s) after %.0f s", step, stop_reason, seconds)
    return RunResult(trainer, step, seconds, stop_reason, last, world, rank)


def _leave_process_group(trainer: MethodTrainer) -> None:
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


@torch.no_grad()
def _write_samples(trainer: MethodTrainer, batch: dict, path: Path) -> None:
    from PIL import Image

    for m in trainer.nets.values():
        m.eval()
    grid = torch.cat(list(trainer.samples(batch).float()), dim=-2)  # (C, B*H, W')
    pixels = signed_to_uint8(grid).permute(1, 2, 0).cpu().numpy()
    with atomic_path(path) as tmp:
        Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(tmp, format="PNG")


def _start_log(path: Path, keep_through_step: int | None) -> None:
    """A fresh log, or for a resumed run the records up to the resumed step (a crashed run's
    later records are dropped, so the log matches the state it continues from)."""
    kept = []
    if keep_through_step is not None and path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                if json.loads(line)["step"] <= keep_through_step:
                    kept.append(line + "\n")
            except (ValueError, KeyError, TypeError):
                continue
    write_file_atomically(path, "".join(kept))


def _flush(path: Path, pending: list[dict]) -> None:
    """Losses are appended when a checkpoint is written, so the log never runs ahead of the state
    a resume would start from."""
    if pending:
        with open(path, "a", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in pending)
        pending.clear()


class _Progress:
    """A rich progress bar on stderr when it is a terminal; otherwise a log line (step, losses)
    every ``LOG_SECONDS``, so that a run under nohup or a job scheduler shows it is alive."""

    LOG_SECONDS = 30.0

    def __init__(self, total: int, start: int, enabled: bool) -> None:
        self.lines = enabled and not sys.stderr.isatty()
        self.enabled = enabled and not self.lines
        self.total, self.start = total, start
        self._p = None
        self._logged = time.monotonic()

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._p = Progress(TextColumn("train"), BarColumn(), MofNCompleteColumn(),
                               TimeRemainingColumn(), TextColumn("{task.fields[losses]}"),
                               console=Console(stderr=True), transient=True)
            self._p.__enter__()
            self._task = self._p.add_task("train", total=self.total, completed=self.start, losses="")
        return self

    def update(self, step: int, losses: dict[str, float]) -> None:
        text = " ".join(f"{k} {float(v):.3g}" for k, v in list(losses.items())[:4])
        if self._p is not None:
            self._p.update(self._task, completed=step, losses=text)
        elif self.lines and time.monotonic() - self._logged >= self.LOG_SECONDS:
            self._logged = time.monotonic()
            logger.info("train step %d%s: %s", step, f"/{self.total}" if self.total < 10**9 else "", text)

    def __exit__(self, *exc) -> None:
        if self._p is not None:
            self._p.__exit__(*exc)


def check_run_folder(out: str | os.PathLike, *, resume: bool, overwrite: bool,
                     state_file: str = STATE_FILE) -> list[Path]:
    """Guard a run folder before ``faceedit train`` writes into it; returns what
    :func:`clear_run_folder` would remove (empty unless ``overwrite``).

    A folder that already holds a run (a training state, ``log.jsonl``, ``report.json`` or
    sample sheets) is continued with ``resume`` or started afresh with ``overwrite``; anything
    else is a UsageError naming the folder, so a forgotten ``--resume`` never wipes a run.
    ``resume`` needs ``state_file``, the method's training state.
    """
    out = Path(out)
    if resume and overwrite:
        raise UsageError("--resume continues the run in --out, --overwrite discards it: give one")
    if resume:
        if not (out / state_file).is_file():
            raise UsageError(f"{out}: nothing to resume (no {state_file})")
        return []
    found = _run_files(out)
    if found and not overwrite:
        names = ", ".join(p.relative_to(out).as_posix() for p in found[:4])
        raise UsageError(f"{out} already holds a training run ({names}{', ...' if len(found) > 4 else ''}); "
                         "continue it with --resume, or discard it with --overwrite")
    return found


def clear_run_folder(found: list[Path]) -> None:
    """Remove an earlier run's files found by :func:`check_run_folder` (``--overwrite``)."""
    for path in found:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _run_files(out: Path) -> list[Path]:
    """The files of an earlier run in ``out``: training states, log, report, samples."""
    import re

    from faceedit.train.reggan import STATE_FILE as REGGAN_STATE

    names = (STATE_FILE, REGGAN_STATE, LOG_FILE, "report.json", "eval-sheet.png")
    found = [out / n for n in names if (out / n).is_file()]
    samples = out / "samples"
    if samples.is_dir():
        sheet = re.compile(r"step[-_][0-9]+\.png")
        found += sorted(p for p in samples.iterdir() if sheet.fullmatch(p.name) and p.is_file())
    return found


def trainer_for(name: str) -> type[MethodTrainer]:
    """The trainer of method ``name``: the MethodTrainer subclass with ``arch == name`` in
    ``faceedit.train.<name>`` or in a ``FACEEDIT_PLUGINS`` module."""
    import importlib
    import importlib.util

    from faceedit.models.registry import plugin_modules

    modules = []
    if importlib.util.find_spec(f"faceedit.train.{name}") is not None:
        modules.append(importlib.import_module(f"faceedit.train.{name}"))
    modules += [importlib.import_module(m) for m in plugin_modules()]
    for mod in modules:
        for obj in vars(mod).values():
            if isinstance(obj, type) and issubclass(obj, MethodTrainer) and obj.arch == name:
                return obj
    raise UsageError(f"no trainer for {name!r}; trainable: {', '.join(trainable_methods())}")


def trainable_methods() -> list[str]:
    import importlib.util

    return ["reggan"] + [m for m in ("eggan", "legan", "lssl", "secgan")
                         if importlib.util.find_spec(f"faceedit.train.{m}") is not None]


def trainer_config(trainer_cls: type[MethodTrainer], config: dict) -> dict:
    """A trainer's config with old key names under their new ones (``RENAMED_CONFIG_KEYS``: a
    run, a ``--set`` or an ``--init`` checkpoint from before a rename) and, for a trainer with a
    ``config_class``, every key checked: ConfigError names one that is neither the model's nor
    the trainer's."""
    try:
        config = upgrade_config(trainer_cls.arch, config)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    if trainer_cls.config_class is not None:
        valid = [*trainer_cls.config_class.keys(), *(k for k in trainer_cls.default_config
                                                      if k not in trainer_cls.config_class.keys())]
        for key in config:
            if key not in valid:
                raise ConfigError(f"unknown {trainer_cls.method} config key {key!r}; valid keys: "
                                  f"{', '.join(valid)}")
    return config


def loop_config_dict(cfg: LoopConfig) -> dict:
    return {k: v for k, v in asdict(cfg).items() if k not in ("progress",)}


def nan_to_none(metrics: Any) -> Any:
    """JSON-safe metrics: NaN/inf floats become None."""
    if isinstance(metrics, dict):
        return {k: nan_to_none(v) for k, v in metrics.items()}
    if isinstance(metrics, (list, tuple)):
        return [nan_to_none(v) for v in metrics]
    if isinstance(metrics, float) and not math.isfinite(metrics):
        return None
    return metrics



def train_and_export(
    name: str,
    datasets: list[Dataset],
    out: str | os.PathLike,
    cfg: LoopConfig,
    *,
    config: dict | None = None,
    export: str | os.PathLike | None = None,
    command: str = "",
    evaluate_after: bool = True,
) -> dict | None:
    """``faceedit train`` for the loop-based methods: run, then (rank 0) export the generator as a
    registry-ready checkpoint with a model card whose metrics come from ``faceedit eval`` on the
    held-out subjects. Returns the run report (None on other ranks)."""
    from faceedit.faces.types import CropTemplate
    from faceedit.train.export import export_model

    trainer_cls = trainer_for(name)
    res = run(trainer_cls, datasets, out, cfg, config)
    rank = distributed_rank()
    if dist.is_available() and dist.is_initialized():
        _leave_process_group(res.trainer)
    if rank != 0:
        return None
    tr = res.trainer
    info = tr.export_info()
    model = tr.generator().cpu().eval()
    base = dict(datasets[0].meta["template"])
    base["size"] = tr.data.size
    template = CropTemplate(**base)
    out = Path(out)
    path = Path(export or out / f"{name}.safetensors")
    budget = {"device": str(tr.device), "world_size": res.world_size, "steps": res.step,
              "seconds_this_call": round(res.seconds), "batch_size": cfg.batch_size or trainer_cls.default_batch_size,
              "torch_threads": torch.get_num_threads(), "stop_reason": res.stop_reason}
    extra = {**info.get("extra", {}), "heldout_subjects": tr.data.heldout_subjects}
    if tr.prior is not None:
        extra["prior"] = tr.prior_name  # trained on the stage's edits: runs on the stage's output
    metrics: dict = {"last_losses": {k: round(float(v), 4) for k, v in res.last_losses.items()}}
    path_, sha = export_model(
        model, path, arch=trainer_cls.arch, config=info.get("config"), targets=info["targets"],
        template=template, datasets=[d.meta for d in datasets], metrics=metrics, command=command,
        budget=budget, method=trainer_cls.method, extra=extra, conditions=info.get("conditions"),
        channels=trainer_cls.channels if info.get("channels") is None else info["channels"],
    )
    if evaluate_after:
        from faceedit.eval.evaluate import evaluate
        from faceedit.models.registry import load_model

        loaded = load_model(str(path))
        metrics["eval"] = evaluate(loaded.model, loaded.meta, datasets, sheet=out / "eval-sheet.png")
        path_, sha = export_model(
            model, path, arch=trainer_cls.arch, config=info.get("config"), targets=info["targets"],
            template=template, datasets=[d.meta for d in datasets], metrics=metrics, command=command,
            budget=budget, method=trainer_cls.method, extra=extra, conditions=info.get("conditions"),
            channels=trainer_cls.channels if info.get("channels") is None else info["channels"],
        )
    report = {"export": path_, "sha256": sha, "budget": budget, "metrics": metrics}
    write_file_atomically(out / "report.json", json.dumps(report, indent=1))
    logger.info("exported %s (sha256 %s)", path_, sha)
    return report


def distributed_rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
