"""The training loop every trainer shares: the GAN methods' and the analysis networks'.

A trainer subclasses :class:`Trainer` and states only what is special about it: its data
(``load_data``, by default crops and labels of prepared datasets), its networks and optimisers
(``build``), what a fresh run does once before the first step (``start``; RegGAN's closed-form
expression layers), one update (``train_step``: its losses and schedule), what a sample row shows
(``samples``) and what it exports (``export``: the file and its model card). An edit method's
trainer (``faceedit/train/<method>.py``) subclasses :class:`MethodTrainer`, which exports the
generator it names (``generator`` + ``export_info``) as a registry checkpoint measured by
``faceedit eval``; the analysis networks' trainers are in :mod:`faceedit.train.analysis`.
:func:`run` does the rest:

* data: prepared datasets validated up front (:mod:`faceedit.train.validate`), split by subject
  (held-out subjects never train), crops held in memory;
* device ``auto``, autocast on CUDA (bf16 where supported, else fp16 with a gradient scaler);
* determinism: the batch of step ``s`` and every random draw inside it come from generators seeded
  by (seed, s, rank), so a run resumed from a checkpoint continues exactly as an uninterrupted one
  (bit-identical on CPU; GPU kernels are as deterministic as torch allows);
* the run's planned length (``Trainer.planned_steps``, for learning-rate schedules): ``steps``, or
  with a time budget the steps the budget allows at the speed of the first ``PLAN_AFTER`` steps;
  kept in the state, so a resumed run continues the same schedule;
* the run folder ``RUN``: ``RUN/state.safetensors`` (all networks, optimisers, scaler; pickle-free)
  every ``ckpt_every`` steps and at the end; ``--resume`` continues from it; ``--init`` starts the
  generator from a registry checkpoint (fine-tuning); ``RUN/log.jsonl`` (losses every
  ``log_every`` steps, always), a rich progress bar on a TTY, ``RUN/samples/step-NNNNNNN.png``
  every ``sample_every`` steps and at the end; after :func:`train_and_export`, the exported file
  with its model card (by default ``RUN/<name>.safetensors`` and ``.md``) and ``RUN/report.json``
  (``faceedit train`` adds ``RUN/run.json``, the command's settings);
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
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from faceedit.device import autocast_dtype
from faceedit.errors import UsageError
from faceedit.files import atomic_path, write_file_atomically
from faceedit.log import logger
from faceedit.models.base import ConfigError, EditModel, ModelConfig, Range
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
    """Examples of one split held in memory: ``images`` (N, C, S, S), uint8 grey levels or float
    in [-1, 1]; ``labels[key]`` class indices (N,) with -1 where a row has no such label;
    ``landmarks`` (N, 68, 2) in crop pixels, ``grey`` (N,) bool, ``subjects`` (N,) subject index
    and ``aus`` (N, 17) float with NaN where not estimable, where the data has them (AUs only when
    the trainer asks for them); ``fields``: any other per-example tensors a trainer's data
    carries (RegGAN: the real target photo of each pair), given to batches under their names.
    ``rows``: the index rows of the examples, where each example is one crop."""

    rows: list[dict]
    images: torch.Tensor
    labels: dict[str, torch.Tensor] = field(default_factory=dict)
    landmarks: torch.Tensor | None = None
    grey: torch.Tensor | None = None
    subjects: torch.Tensor | None = None
    aus: torch.Tensor | None = None
    fields: dict[str, torch.Tensor] = field(default_factory=dict)
    offset: int = 0  # row numbers continue across splits (held-out rows follow the training rows)

    def __len__(self) -> int:
        return self.images.shape[0]

    def batch(self, idx: torch.Tensor, device: torch.device | str = "cpu") -> dict[str, Any]:
        """A training batch: ``image`` float in [-1, 1], ``index`` (row numbers), and the labels,
        landmarks, grey flags, subjects, AUs and fields the set has."""
        images = self.images[idx].to(device)
        out: dict[str, Any] = {
            "image": levels_to_signed(images) if images.dtype == torch.uint8 else images.float(),
            "index": idx.to(device) + self.offset,
        }
        known = {"landmarks": self.landmarks, "grey": self.grey, "subject": self.subjects, "aus": self.aus}
        for k, v in {**known, **self.labels, **self.fields}.items():
            if v is not None:
                out[k] = v[idx].to(device)
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
    from faceedit.data import load_crops

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
# The trainer interface
# --------------------------------------------------------------------------------------------


class Trainer:
    """What every trainer provides. Subclasses set the class attributes and implement the
    methods marked *trainer*; the loop provides ``self.data``, ``self.config``, ``self.device``,
    ``self.options``, ``self.planned_steps`` and the helpers ``optimize``, ``autocast``, ``net``."""

    method: str = ""            # what it trains, for logs and model cards: "LEGAN", "expression classifier"
    arch: str = ""              # the architecture of what it exports (checkpoint header)
    label_keys: tuple[str, ...] = ("expression",)
    needs_labels: tuple[str, ...] = ()   # every training row must carry these (validated)
    needs_pairs: bool = False
    needs_aus: bool = False
    channels: int = 3
    default_config: dict[str, Any] = {}
    # The exported model's typed config (faceedit.models.base.ModelConfig). When set, the
    # trainer's config may hold its keys and the trainer's own (``default_config``), nothing else:
    # an unknown key is refused by name.
    config_class: type[ModelConfig] | None = None
    default_batch_size: int = 8
    # trainer options (``LoopConfig.options``) a plugin's trainer reads beyond TRAINER_OPTIONS
    extra_options: tuple[str, ...] = ()

    def __init__(self, data: TrainData, config: dict, device: torch.device, options: dict,
                 amp_dtype: torch.dtype | None = None) -> None:
        self.data, self.device, self.options = data, device, dict(options)
        config = trainer_config(type(self), config)
        self.config = {**self.default_config, **config}
        self.amp_dtype = amp_dtype
        self.nets: dict[str, nn.Module] = {}
        self.opts: dict[str, torch.optim.Optimizer] = {}
        self.scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
        self.planned_steps: int | None = None  # the run's planned length, once known (see run)
        self.build()
        for name, m in self.nets.items():
            self.nets[name] = m.to(device)

    # ---- trainer ---------------------------------------------------------------------------
    @classmethod
    def load_data(cls, datasets: list[Dataset], cfg: LoopConfig, config: dict,
                  vocab: dict[str, list[str]] | None) -> TrainData:
        """*trainer* (optional): the run's training and held-out examples, from datasets already
        validated. ``config``: the trainer's merged config; ``vocab``: the label vocabularies a
        resumed or fine-tuned run keeps. By default the crops (at ``image_size`` when the config
        sets one) and ``label_keys`` labels of :func:`load_train_data`."""
        return load_train_data(
            datasets, label_keys=cls.label_keys, vocab=vocab, channels=cls.channels,
            with_aus=cls.needs_aus, holdout=cfg.holdout, seed=cfg.seed, size=config.get("image_size"),
        )

    def build(self) -> None:
        """*trainer*: create ``self.nets`` (name -> module; an edit method's generator under
        ``"G"``) and ``self.opts`` (name -> optimiser)."""
        raise NotImplementedError

    def start(self) -> None:
        """*trainer* (optional): what a fresh run does once before its first step, after the
        networks are built (and initialised by ``--init``); not on resume, which loads the
        result from the state (RegGAN: its closed-form expression layers)."""

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, float]:
        """*trainer*: one update (all D and G steps of it); returns the losses to log."""
        raise NotImplementedError

    def samples(self, batch: dict[str, Any]) -> torch.Tensor:
        """*trainer*: a sample sheet (B, C, H, W') in [-1, 1], e.g. input | edits side by side."""
        raise NotImplementedError

    def export(self, path: Path, result: RunResult, cfg: LoopConfig, *, command: str = "",
               evaluate_after: bool = True, run_dir: Path | None = None) -> dict:
        """*trainer*: write the trained network to ``path`` with its model card (``.md`` beside
        it); returns the run's report: ``export`` (path), ``sha256``, ``budget``
        (:func:`run_budget` and what the trainer adds), ``metrics`` (held-out). ``run_dir``: the
        run folder, for extra files such as a contact sheet."""
        raise NotImplementedError

    @classmethod
    def torch_threads(cls) -> int | None:
        """*trainer* (optional): the torch threads :func:`train_and_export` runs it on (None:
        as set)."""
        return None

    def init_from(self, tensors: dict[str, torch.Tensor], source: str, source_config: dict | None = None) -> None:
        """Fine-tuning (``--init``); see :meth:`MethodTrainer.init_from`."""
        raise UsageError(f"--init: {self.method or type(self).__name__} cannot be fine-tuned from a checkpoint")

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

    def run_fraction(self, step: int) -> float:
        """How far into its planned length (``planned_steps``) the run is at ``step``, in [0, 1];
        0 while the length is not known yet (a budget run's first ``PLAN_AFTER`` steps)."""
        return min(1.0, step / self.planned_steps) if self.planned_steps else 0.0

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


class MethodTrainer(Trainer):
    """An edit method's trainer: it exports the generator it names (``generator`` +
    ``export_info``) as a registry-ready checkpoint measured by ``faceedit eval``, can start it
    from a registry checkpoint (``--init``) and train it on the stage's edits (``uses_prior``)."""

    uses_prior: bool = False    # trains on the stage's edits (faceedit.train.prior) when the loop has one
    prior = None                # a StagePrior, set by attach_prior after build
    prior_name: str | None = None  # the stage whose edits the network learns on (exported as "prior")

    # ---- method ----------------------------------------------------------------------------
    def generator(self) -> EditModel:
        """*method*: the exported inference model (an EditModel holding the trained G)."""
        raise NotImplementedError

    def export_info(self) -> dict[str, Any]:
        """*method*: ``targets``, ``conditions`` and ``extra`` metadata for export. The header's
        config is the exported model's own, captured by the save path; ``config`` here is
        optional: for a model without a typed config (a plugin's) it is what is written, for the
        others what the save path checks the model's own against."""
        raise NotImplementedError

    def heldout_metrics(self) -> dict[str, Any]:
        """*method* (optional): the trainer's own held-out metrics for the model card (beside the
        last losses and ``faceedit eval``'s), e.g. RegGAN's L1/SSIM per target."""
        return {}

    def export(self, path: Path, result: RunResult, cfg: LoopConfig, *, command: str = "",
               evaluate_after: bool = True, run_dir: Path | None = None) -> dict:
        """The generator as a registry-ready checkpoint with a model card whose metrics are the
        last losses, :meth:`heldout_metrics` and, with ``evaluate_after``, ``faceedit eval`` on the
        held-out subjects (its contact sheet ``RUN/eval-sheet.png``)."""
        from faceedit.faces.types import CropTemplate
        from faceedit.train.export import export_model

        info = self.export_info()
        model = self.generator().cpu().eval()
        datasets = self.data.datasets
        template = CropTemplate(**{**datasets[0].meta["template"], "size": self.data.size})
        budget = run_budget(result, cfg)
        extra = {**info.get("extra", {}), "heldout_subjects": self.data.heldout_subjects}
        if self.prior_name:
            extra["prior"] = self.prior_name  # trained on the stage's edits: runs on the stage's output
        metrics: dict = {"last_losses": {k: round(float(v), 4) for k, v in result.last_losses.items()}}
        heldout = self.heldout_metrics()
        if heldout:
            metrics["heldout"] = heldout

        def write() -> tuple[str, str]:
            return export_model(
                model, path, arch=self.arch, config=info.get("config"), targets=info["targets"],
                template=template, datasets=[d.meta for d in datasets], metrics=metrics,
                command=command, budget=budget, method=self.method, extra=extra,
                conditions=info.get("conditions"),
                channels=self.channels if info.get("channels") is None else info["channels"],
            )

        path_, sha = write()
        if evaluate_after:
            from faceedit.eval.evaluate import evaluate
            from faceedit.models.registry import load_model

            loaded = load_model(str(path))
            sheet = Path(run_dir or path.parent) / "eval-sheet.png"
            metrics["eval"] = evaluate(loaded.model, loaded.meta, datasets, sheet=sheet)
            path_, sha = write()
        return {"export": path_, "sha256": sha, "budget": budget, "metrics": metrics}

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
    # files (name -> text) written into the run folder when the run starts, once its config, data
    # and networks are known good (faceedit train's run.json), so a refused run leaves nothing
    run_files: dict = field(default_factory=dict)
    threads: int | None = None  # torch threads (train_and_export; None: choose_threads picks them)


PLAN_AFTER = 20
"""Steps a run with a time budget takes before it plans its length from their speed."""


@dataclass
class RunResult:
    trainer: Trainer
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
            raise UsageError(f"--{name.replace('_', '-')} {getattr(cfg, name)}: give 0 (only at the end) or more")
    if cfg.batch_size is not None and cfg.batch_size < 1:
        raise UsageError(f"--batch-size {cfg.batch_size}: give 1 or more (default: the method's, "
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
    # each source of config in the current key names before they are merged; the given one checked
    config = check_config(trainer_cls, config or {}, cfg.options)
    if cfg.resume:
        if not state_path.is_file():
            raise UsageError(_nothing_to_resume(out))
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
    data = trainer_cls.load_data(datasets, cfg, {**trainer_cls.default_config, **config}, vocab)
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
        if step >= cfg.steps:
            logger.warning("the run in %s is already at step %d, --steps %d: no step to train; its "
                           "state is exported as it is (give a larger --steps to train on)",
                           out, step, cfg.steps)
    elif init_ckpt is not None:
        trainer.init_from(init_ckpt.tensors, init_ckpt.path, init_ckpt.meta.config)
    if saved is None:
        trainer.start()
    # the planned length: --steps, or a budget run's estimate once made (kept for a resume)
    trainer.planned_steps = cfg.steps if cfg.budget_minutes is None else (
        saved.extra.get("planned_steps") if saved is not None else None)
    if cfg.prior and getattr(trainer_cls, "uses_prior", False):
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
        if threads_note:
            logger.info("torch threads: %s", threads_note)
        out.mkdir(parents=True, exist_ok=True)
        for name, text in cfg.run_files.items():
            write_file_atomically(out / name, text)
        _start_log(out / LOG_FILE, step if saved is not None else None)
    sample_batch = _sample_batch(data, device)
    t0 = time.monotonic()
    first_step = step
    last: dict[str, float] = {}
    pending: list[dict] = []
    stop_reason = "steps"

    def checkpoint() -> None:
        if is_main:
            models, optims = trainer.state()
            save_training_state(state_path, models, optims, step, extra={
                "config": trainer.config, "vocab": data.vocab, "method": trainer_cls.arch,
                "seed": cfg.seed, "batch_size": batch, "world_size": world,
                "prior": getattr(trainer, "prior_name", None), "planned_steps": trainer.planned_steps,
            })
            _flush(out / LOG_FILE, pending)

    progress = _Progress(cfg.steps, step, enabled=is_main and cfg.progress)
    with progress:
        while step < cfg.steps:
            if _should_stop(cfg, t0, distributed, device):
                stop_reason = "budget"
                break
            if trainer.planned_steps is None and step == first_step + PLAN_AFTER:
                trainer.planned_steps = _plan(cfg, step, t0, distributed, device)
            idx = batch_indices(step, len(data.train), batch, cfg.seed, rank, world)
            b = data.train.batch(idx, device)
            torch.manual_seed(_mix(cfg.seed, "step", step, rank))
            for m in trainer.nets.values():
                m.train()
            last = trainer.train_step(b, step)
            step += 1
            progress.update(step, last)
            if is_main and ((cfg.log_every and step % cfg.log_every == 0) or step == cfg.steps):
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


@torch.no_grad()
def _write_samples(trainer: Trainer, batch: dict, path: Path) -> None:
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


def check_run_folder(out: str | os.PathLike, *, resume: bool, overwrite: bool) -> list[Path]:
    """Guard a run folder before a training command writes into it; returns what
    :func:`clear_run_folder` would remove (empty unless ``overwrite``).

    A folder that already holds a run (a training state, ``log.jsonl``, ``report.json`` or
    sample sheets) is continued with ``resume`` or started afresh with ``overwrite``; anything
    else is a UsageError naming the folder, so a forgotten ``--resume`` never wipes a run.
    ``resume`` needs the run's training state, ``RUN/state.safetensors``.
    """
    out = Path(out)
    if resume and overwrite:
        raise UsageError("--resume continues the run in --out, --overwrite discards it: give one")
    if resume:
        if not (out / STATE_FILE).is_file():
            raise UsageError(_nothing_to_resume(out))
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


LEGACY_STATE_FILES = ("reggan_refiner_state.safetensors",)
"""Training states of runs from before every trainer shared this loop (RegGAN's own refiner
loop): recognised as runs, never resumed."""


def _nothing_to_resume(out: Path) -> str:
    legacy = [n for n in LEGACY_STATE_FILES if (out / n).is_file()]
    if legacy:
        return (f"{out}: nothing to resume (no {STATE_FILE}): {legacy[0]} is the state of a run "
                "from an older faceedit, which this one cannot continue; start afresh with "
                "--overwrite, or fine-tune its exported checkpoint with --init")
    return f"{out}: nothing to resume (no {STATE_FILE})"


def _run_files(out: Path) -> list[Path]:
    """The files of an earlier run in ``out``: training states, log, report, samples."""
    import re

    names = (STATE_FILE, *LEGACY_STATE_FILES, LOG_FILE, "report.json", "eval-sheet.png")
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

    return [m for m in ("reggan", "eggan", "legan", "lssl", "secgan")
            if importlib.util.find_spec(f"faceedit.train.{m}") is not None]


def trainer_config(trainer_cls: type[Trainer], config: dict) -> dict:
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


# The ranges of the trainers' own --set keys (those not in the exported model's config), by
# name: a name means the same thing in every trainer. The first pattern that matches applies.
TRAINER_KEY_RANGES: list[tuple[str, Range]] = [
    ("lambda_reg", Range(gt=0)),  # RegGAN's ridge: the expression layers' solve needs it positive
    ("lambda_*", Range(ge=0)), ("d_cls", Range(ge=0)),  # loss weights
    ("lr", Range(gt=0)), ("*_lr", Range(gt=0)),
    ("betas", Range(ge=0, lt=1)), ("beta1", Range(ge=0, lt=1)), ("beta2", Range(ge=0, lt=1)),
    ("d_n_layers", Range(ge=1)), ("d_layers", Range(ge=0)),  # d_layers 0 or null: as many as fit
    ("*channels", Range(ge=1)),
    ("n_critic", Range(ge=0)), ("augment_copies", Range(ge=0)), ("msssim_scales", Range(ge=1)),
    ("keep_prob", Range(ge=0, le=1)), ("quality_q", Range(gt=0)),
]

TRAINER_OPTIONS = {"vgg19": "VGG-19 weights for the perceptual losses (--vgg19)",
                   "semantic": "SeCGAN: false trains the plain baseline (--no-semantic)"}
"""The trainer options (``LoopConfig.options``, ``faceedit train --option KEY=JSON``) the
trainers read; a trainer of a plugin adds its own in ``Trainer.extra_options``."""


def check_config(trainer_cls: type[Trainer], config: dict, options: dict | None = None) -> dict:
    """A run's ``--set`` config (and ``--option`` options) checked before anything is written or
    loaded, so a bad value is one usage error (ConfigError) naming it, not a traceback halfway
    through: unknown keys (:func:`trainer_config`); keys of the model config the trainer takes
    from the datasets (the targets...), which a ``--set`` would not change; each model key's type
    and declared range (``ModelConfig.check_values``); each trainer key's type (that of its
    default) and range (``TRAINER_KEY_RANGES``); unknown option names. Returns the config with old
    key names under their new ones."""
    import fnmatch

    config = trainer_config(trainer_cls, config)
    cc = trainer_cls.config_class
    model_keys = set(cc.keys()) if cc is not None else set()
    derived = sorted(k for k in config if k in model_keys and k not in trainer_cls.default_config)
    if derived:
        raise ConfigError(f"--set {derived[0]}: {trainer_cls.method} takes {derived[0]} from the datasets "
                          f"(their labels), not from --set; leave it out")
    if cc is not None:
        cc.check_values({k: v for k, v in config.items() if k in model_keys})
    for key, value in config.items():
        if key in model_keys:
            continue
        default = trainer_cls.default_config.get(key)
        if default is not None and not _same_json_type(value, default):
            raise ConfigError(f"{trainer_cls.method} config {key}={json.dumps(value)}: expected "
                              f"{_json_type(default)}, as its default {json.dumps(default)}")
        rule = next((r for pattern, r in TRAINER_KEY_RANGES if fnmatch.fnmatchcase(key, pattern)), None)
        problem = rule.problem(value) if rule is not None else None
        if problem:
            raise ConfigError(f"{trainer_cls.method} config {key}={json.dumps(value)}: {problem}")
    known = {**TRAINER_OPTIONS, **{k: "" for k in trainer_cls.extra_options}}
    for key in options or {}:
        if key not in known:
            raise UsageError(f"--option {key}: no trainer option of that name; known: {', '.join(known)}")
    return config


def _same_json_type(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, int):
        return isinstance(value, int)
    if isinstance(default, (list, tuple)):
        if not isinstance(value, (list, tuple)):
            return False
        if default and all(isinstance(v, float) for v in default):  # fixed coefficients (betas)
            return len(value) == len(default) and all(_same_json_type(v, 0.0) for v in value)
        if default and all(isinstance(v, int) and not isinstance(v, bool) for v in default):
            return len(value) > 0 and all(_same_json_type(v, 0) for v in value)  # widths: any number of them
        return True
    return isinstance(value, type(default))


def _json_type(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, int):
        return "a whole number"
    if isinstance(default, (list, tuple)):
        if default and all(isinstance(v, float) for v in default):
            return f"a list of {len(default)} numbers"
        if default and all(isinstance(v, int) for v in default):
            return "a list of whole numbers"
        return "a list"
    if isinstance(default, str):
        return "a string"
    return type(default).__name__


def loop_config_dict(cfg: LoopConfig) -> dict:
    return {k: v for k, v in asdict(cfg).items() if k not in ("progress", "run_files")}


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
        path = Path(export) if export else out / f"{trainer_cls.arch.rsplit('/', 1)[-1]}.safetensors"
        path.parent.mkdir(parents=True, exist_ok=True)
        report = res.trainer.export(path, res, cfg, command=command, evaluate_after=evaluate_after, run_dir=out)
    finally:
        torch.set_num_threads(threads)
    write_file_atomically(out / "report.json", json.dumps(report, indent=1))
    logger.info("exported %s (sha256 %s)", report["export"], report["sha256"])
    return report


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
    (``Trainer.torch_threads``). More threads than free cores make torch's threads wait on each
    other: on a 2-core machine with a load average of 4 to 5 from other processes, 8 RegGAN steps
    (128 px, batch 4) took 175 s on 2 threads and 38 s on 1 (``faceedit train ... --steps 8
    --threads N``, 2026-11-23)."""
    if requested is not None:
        if requested < 1:
            raise UsageError(f"--threads {requested}: give 1 or more (default: the cores free)")
        return requested, "--threads"
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


def run_budget(result: RunResult, cfg: LoopConfig) -> dict:
    """What a run cost, for its model card: device, processes, steps, seconds of this call, batch
    size, torch threads and why it stopped."""
    return {"device": str(result.trainer.device), "world_size": result.world_size, "steps": result.step,
            "seconds_this_call": round(result.seconds),
            "batch_size": cfg.batch_size or type(result.trainer).default_batch_size,
            "torch_threads": torch.get_num_threads(), "stop_reason": result.stop_reason}


def distributed_rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
