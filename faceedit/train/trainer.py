"""What a trainer is: :class:`Trainer`, the interface every trainer of the shared loop
(:mod:`faceedit.train.loop`) implements, and :class:`MethodTrainer`, an edit method's trainer,
which exports the generator it names as a registry checkpoint; :func:`trainer_for` finds a
method's trainer, :class:`RunResult` is what a run gives a trainer's export.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from faceedit.data import Dataset
from faceedit.errors import UsageError
from faceedit.log import logger
from faceedit.models.base import EditModel, ModelConfig
from faceedit.train.config import LoopConfig, trainer_config
from faceedit.train.crops import TrainData, load_train_data


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
        raise UsageError(f"`init`: {self.method or type(self).__name__} cannot be fine-tuned from a checkpoint")

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
    from a registry checkpoint (``--init``) and train it on the stage's edits (``uses_stage``)."""

    uses_stage: bool = False    # trains on the stage's edits (faceedit.train.stage_on_crops) when the loop has one
    training_stage = None       # a StageOnCrops, set by attach_stage after build
    stage_name: str | None = None  # the stage whose edits the network learns on (exported as "stage")

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
        if self.stage_name:
            extra["stage"] = self.stage_name  # trained on the stage's edits: runs on the stage's output
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
            from faceedit.models.loading import load_model

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

    def stage_vocab(self) -> tuple[list[str], list[str]]:
        """*method* (with ``uses_stage``): the expression and lighting vocabularies whose indices
        ``stage_input`` takes."""
        return list(self.data.vocab.get("expression", [])), list(self.data.vocab.get("lighting", []))

    def start_as_identity(self) -> None:
        """*method* (with ``uses_stage``): make a fine-tuned generator start as the identity (a
        residual generator's last layer zeroed), when it was trained without the stage."""

    # ---- the stage -------------------------------------------------------------------------
    def attach_stage(self, name: str) -> None:
        """Train on the edits of the stage ``name`` (see :mod:`faceedit.train.stage_on_crops`)."""
        from faceedit.train.stage_on_crops import StageOnCrops, load_stage

        expressions, lighting = self.stage_vocab()
        crops = [self.data.train, self.data.held]
        landmarks = [c.landmarks for c in crops if c.landmarks is not None]
        if len(landmarks) < len(crops):
            raise ValueError(f"{self.method or type(self).__name__}: training on the stage's edits needs "
                             "the crops' landmarks, and its training data has none")
        self.training_stage = StageOnCrops(load_stage(name), [r for c in crops for r in c.rows],
                                torch.cat(landmarks), self.data.size, expressions, lighting)
        self.stage_name = name

    def stage_input(self, x: torch.Tensor, batch: dict[str, Any], expr: torch.Tensor,
                    light: torch.Tensor | None = None) -> torch.Tensor:
        """The stage's edit of the batch's crops ``x`` towards expression (and lighting) indices
        of :meth:`stage_vocab` (-1: none): what the network sees at inference. ``x`` itself
        without a stage."""
        if self.training_stage is None:
            return x
        return self.training_stage.forward(x, batch["index"], expr, light, batch.get("grey"))

    def stage_landmarks(self, batch: dict[str, Any], expr: torch.Tensor) -> torch.Tensor:
        """The batch's landmarks after the stage's move towards ``expr`` (unchanged without a stage)."""
        lm = batch["landmarks"]
        if self.training_stage is None:
            return lm
        return self.training_stage.moved_landmarks(batch["index"], expr, lm)

    def stage_l1(self, out: torch.Tensor, x_in: torch.Tensor) -> torch.Tensor | None:
        """L1 between a generator's output and the stage's edit it was given, to be weighted by the
        trainer's ``lambda_stage``; None without a stage or at weight 0. Not in the papers: without
        it the class losses repaint what the stage did with dataset cues (halos, dot grids)."""
        if self.training_stage is None or not float(self.config.get("lambda_stage", 0.0)):
            return None
        return (out.float() - x_in).abs().mean()

    def stage_back(self, x: torch.Tensor, batch: dict[str, Any], expr: torch.Tensor) -> torch.Tensor:
        """Crops of the batch's faces as moved towards ``expr``, warped back to their own landmarks
        (a cycle's way back); ``x`` itself without a stage."""
        if self.training_stage is None:
            return x
        return self.training_stage.back(x, batch["index"], expr)


@dataclass
class RunResult:
    """What :func:`faceedit.train.loop.run` gives back: the trainer as trained, the step it
    stopped at, its seconds, why it stopped (``steps`` or ``budget``), the last losses, and its
    place among the processes of a distributed run."""

    trainer: Trainer
    step: int
    seconds: float
    stop_reason: str
    last_losses: dict[str, float]
    world_size: int
    rank: int


def run_budget(result: RunResult, cfg: LoopConfig) -> dict:
    """What a run cost, for its model card: device, processes, steps, seconds of this call, batch
    size, torch threads and why it stopped."""
    return {"device": str(result.trainer.device), "world_size": result.world_size, "steps": result.step,
            "seconds_this_call": round(result.seconds),
            "batch_size": cfg.batch_size or type(result.trainer).default_batch_size,
            "torch_threads": torch.get_num_threads(), "stop_reason": result.stop_reason}


def trainer_for(name: str) -> type[MethodTrainer]:
    """The trainer of method ``name``: the MethodTrainer subclass with ``arch == name`` in
    ``faceedit.train.<name>`` or in a ``FACEEDIT_PLUGINS`` module."""
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
    """The edit methods with a trainer in faceedit.train."""
    return [m for m in ("reggan", "eggan", "legan", "lssl", "secgan")
            if importlib.util.find_spec(f"faceedit.train.{m}") is not None]
