"""What the analysis networks' trainers share: :class:`AnalysisTrainer` (AdamW with a cosine
learning-rate decay over the run's planned length: ``--steps``, or the steps the time budget
allows at the speed of the first steps, :attr:`faceedit.train.trainer.Trainer.planned_steps`; one
augmentation and one loss per batch; sample sheets of held-out crops | what the network learns
from after augmentation; the export: the network in fp16 with ``faceedit.*`` metadata,
:func:`faceedit.analysis.store.save_analysis`, and its model card,
:func:`faceedit.analysis.store.write_card`), the similarity jitter most of them augment with, the
photo-look and frame changes the expression classifier adds (:func:`photo_look`,
:func:`swap_frames`),
and the held-out split.
"""

from __future__ import annotations

import math
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from faceedit.analysis.store import ANALYSIS_ARCH_PREFIX, save_analysis, write_card
from faceedit.data import Dataset, data_licence, dataset_name, split_rows
from faceedit.log import logger
from faceedit.train.crops import TrainData
from faceedit.train.loop import LoopConfig
from faceedit.train.trainer import RunResult, Trainer, run_budget


def jitter(x: torch.Tensor, gen: torch.Generator | None, *, shift: float = 0.04, scale: float = 0.05,
           rotate: float = 5.0, flip: bool = True, photometric: float = 0.15) -> torch.Tensor:
    """Random small similarity jitter (the aligner's residual error), optional horizontal flip,
    brightness/contrast change. ``x`` float in [-1, 1]; ``gen`` None: torch's global generator."""
    b = x.shape[0]
    r = lambda *s: torch.rand(*s, generator=gen) * 2 - 1  # noqa: E731
    ang = r(b) * math.radians(rotate)
    sc = 1 + r(b) * scale
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    sx = torch.where(torch.rand(b, generator=gen) < 0.5, -1.0, 1.0) if flip else torch.ones(b)
    theta = torch.stack([torch.stack([cos * sx, -sin, r(b) * shift * 2], 1),
                         torch.stack([sin * sx, cos, r(b) * shift * 2], 1)], 1)
    grid = F.affine_grid(theta.to(x), list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    if photometric:
        gain = 1 + r(b, 1, 1, 1).to(x) * photometric
        bias = r(b, 1, 1, 1).to(x) * photometric
        x = (x * gain + bias).clamp(-1, 1)
    return x


def photo_look(x: torch.Tensor, gen: torch.Generator | None, *, p: float = 0.8) -> torch.Tensor:
    """Each crop of ``x`` (B, 1|3, S, S) in [-1, 1], with probability ``p``, given another photo
    set's look: a tone curve (gamma 0.6-1.6), a softer or crisper rendering (the crop plus -0.6
    to 1 times its difference from its 3x3 blur: a scan's softness to a studio photo's
    sharpness; at 48 px a face takes no more without losing its features), then film/scanner grain (Gaussian, up to
    0.04) and column streaks (a flat-bed scanner's, up to 0.03) on some. The face's geometry and
    expression stay: the label stays true."""
    b, c, s, _ = x.shape
    u = lambda *shape: torch.rand(*shape, generator=gen)  # noqa: E731
    on = u(b) < p
    out = []
    for i in range(b):
        xi = x[i : i + 1]
        if not on[i]:
            out.append(xi)
            continue
        gamma = math.exp((float(u(1)) * 2 - 1) * math.log(1.6))
        xi = ((xi + 1) / 2).clamp(1e-4, 1) ** gamma * 2 - 1
        soft = F.avg_pool2d(F.pad(xi, (1, 1, 1, 1), mode="replicate"), 3, 1)
        xi = xi + (1.6 * float(u(1)) - 0.6) * (xi - soft)
        if float(u(1)) < 0.5:
            xi = xi + torch.randn(xi.shape, generator=gen).to(xi) * 0.04 * float(u(1))
        if float(u(1)) < 0.3:
            xi = xi + torch.randn((1, 1, 1, s), generator=gen).to(xi) * 0.03 * float(u(1))
        out.append(xi.clamp(-1, 1))
    return torch.cat(out)


def swap_frames(x: torch.Tensor, gen: torch.Generator | None, *, p: float = 0.5) -> torch.Tensor:
    """Each crop of ``x`` (B, C, S, S) in [-1, 1], with probability ``p``, set into another crop
    of the batch: its face (inside an ellipse around brows, eyes, nose, mouth and chin, 0.85-1.1
    times the size of :func:`faceedit.analysis.nets.face_window`'s, fading over a fifth of it)
    kept, everything around it (background, hair, ears, clothes) from the other crop, whose
    brightness and contrast are first brought to this one's. What surrounds a face then tells
    nothing of its label or of its photo set."""
    from faceedit.analysis.nets import WINDOW_AXES, WINDOW_CENTRE

    b, _, s, _ = x.shape
    on = torch.rand(b, generator=gen) < p
    other = torch.randperm(b, generator=gen)
    scale = 0.85 + 0.25 * torch.rand(b, 1, 1, generator=gen)
    u = (torch.arange(s, dtype=torch.float32) + 0.5) / s
    dy = ((u[:, None] - WINDOW_CENTRE[1]) / WINDOW_AXES[1])[None] / scale
    dx = ((u[None, :] - WINDOW_CENTRE[0]) / WINDOW_AXES[0])[None] / scale
    w = (1 - ((torch.sqrt(dx * dx + dy * dy) - 0.8) / 0.2).clamp(0, 1))[:, None].to(x)
    f = x[other]
    mx, sx = x.mean((1, 2, 3), keepdim=True), x.std((1, 2, 3), keepdim=True)
    mf, sf = f.mean((1, 2, 3), keepdim=True), f.std((1, 2, 3), keepdim=True)
    f = ((f - mf) / (sf + 1e-4) * sx + mx).clamp(-1, 1)
    mixed = w * x + (1 - w) * f
    keep = (~on | (other == torch.arange(b))).view(b, 1, 1, 1).to(x.device)
    return torch.where(keep, x, mixed)


RUN_NOTE = (
    "Run conditions: CPU only, `torch_threads` as in the budget (`OMP_NUM_THREADS=1`, 2 cores shared "
    "with other training jobs); the time budget fixes the step count, and the cosine learning-rate "
    "schedule's length is estimated from the speed of the first 20 steps, so the same command on a "
    "quieter machine runs more steps and gives somewhat different figures.")


@dataclass
class AnalysisData(TrainData):
    """TrainData with what a kind's trainer needs besides the examples (``more``: a classifier's
    class names, identity's calibration rows...)."""

    more: dict[str, Any] = field(default_factory=dict)


class AnalysisTrainer(Trainer):
    """What the analysis networks' trainers share (see the module docstring). A kind sets
    ``kind``, ``method`` (also the card's title), ``training`` (``batch``, ``lr``,
    ``weight_decay`` and its own hyper-parameters; in the card's budget), ``default_config`` (the
    network's), ``what`` and ``notes`` (card text; ``what`` may name ``{labels}`` and ``{size}``),
    and implements ``load_data``, ``build`` (the network under ``nets["net"]``), ``augment``,
    ``loss``, ``network`` and ``heldout_metrics``."""

    kind: str = ""
    label_keys: tuple[str, ...] = ()
    training: dict[str, Any] = {}
    what: str = ""
    notes: str = ""
    labels: list[str] | None = None  # class names stored in the checkpoint (set by build where it has them)
    fraction: float = 0.0  # how far into its planned length the run is (train_step sets it)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.arch = ANALYSIS_ARCH_PREFIX + cls.kind
        cls.default_batch_size = int(cls.training.get("batch", Trainer.default_batch_size))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.recent: deque[float] = deque(maxlen=50)  # the last losses, for the card
        super().__init__(*args, **kwargs)

    # ---- kind ----------------------------------------------------------------------------------
    def augment(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """*kind*: the training view of a batch ``x`` in [-1, 1]."""
        raise NotImplementedError

    def loss(self, x: torch.Tensor, batch: dict[str, Any], gen: torch.Generator) -> torch.Tensor:
        """*kind*: the loss of the augmented batch ``x`` (``batch``: its targets)."""
        raise NotImplementedError

    def network(self) -> nn.Module:
        """*kind*: the network to ship (eval mode, CPU)."""
        return self.net("net").cpu().eval()

    @property
    def net_config(self) -> dict:
        """The shipped network's config (checkpoint header)."""
        return {k: self.config[k] for k in self.default_config}

    def heldout_metrics(self, net: nn.Module, seed: int) -> dict[str, Any]:
        """*kind*: the card's metrics of ``net`` on the held-out subjects (``seed``: the run's,
        for any random draws they make)."""
        raise NotImplementedError

    def export_extra(self) -> dict[str, Any]:
        """*kind* (optional): more header metadata (after :meth:`heldout_metrics`)."""
        return {}

    # ---- shared --------------------------------------------------------------------------------
    def optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.nets["net"].parameters(), lr=float(self.training["lr"]),
                                 weight_decay=float(self.training.get("weight_decay", 5e-4)))

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, float]:
        self.fraction = self.run_fraction(step)
        lr = float(self.training["lr"]) * 0.5 * (1 + math.cos(math.pi * self.fraction))
        for group in self.opts["net"].param_groups:
            group["lr"] = lr
        gen = step_generator()
        with self.autocast():
            loss = self.loss(self.augment(batch["image"], gen), batch, gen)
        self.optimize("net", loss)
        self.recent.append(loss.item())
        return {"loss": loss.item(), "lr": lr}

    @torch.no_grad()
    def samples(self, batch: dict[str, Any]) -> torch.Tensor:
        """Held-out crops | the same after the training augmentation."""
        x = batch["image"]
        return torch.cat([x, self.augment(x, torch.Generator().manual_seed(0))], -1)

    def export(self, path: Path, result: RunResult, cfg: LoopConfig, *, command: str = "",
               evaluate_after: bool = True, run_dir: Path | None = None) -> dict:
        """The network (fp16 safetensors, ``faceedit.*`` metadata) and its card, with the
        held-out metrics of :meth:`heldout_metrics` (``evaluate_after`` does not apply: they are
        the network's own)."""
        net = self.network()
        metrics = self.heldout_metrics(net, cfg.seed)
        threads = os.environ.get("OMP_NUM_THREADS")  # changes the speed, so the steps in the budget
        command = (f"OMP_NUM_THREADS={threads} " if threads else "") + (command or f"faceedit train-analysis {self.kind} ...")
        budget = {**run_budget(result, cfg), "budget_minutes": cfg.budget_minutes,
                  "planned_steps": self.planned_steps, "seed": cfg.seed, **self.training,
                  "final_loss": round(float(np.mean(self.recent)), 4) if self.recent else None}
        names = sorted({dataset_name(d) for d in self.data.datasets})
        config = self.net_config
        extra = {"heldout_subjects": self.data.heldout_subjects, **self.export_extra(),
                 "budget": budget, "command": command}
        sha = save_analysis(path, net, kind=self.kind, config=config, labels=self.labels,
                            image_size=int(config["size"]), channels=int(config.get("channels", 3)),
                            training_data=", ".join(names), license=data_licence(names), metrics=metrics,
                            extra=extra)
        write_card(path, title=self.method, what=self.what.format(labels=", ".join(self.labels or []),
                                                                 size=config["size"]),
                   command=command, data=names, budget=budget, metrics=metrics,
                   notes=self.notes + "\n\n" + RUN_NOTE)
        logger.info("%s: %s", self.kind, {k: v for k, v in metrics.items() if isinstance(v, (int, float))})
        return {"export": str(path), "sha256": sha, "budget": budget, "metrics": metrics}


def step_generator() -> torch.Generator:
    """A generator for this step's random draws, seeded from torch's global generator, which the
    loop seeds at every step from (seed, step, rank)."""
    return torch.Generator().manual_seed(int(torch.randint(2**62, (1,))))


def heldout_split(datasets: list[Dataset], cfg: LoopConfig) -> tuple[list[dict], list[dict]]:
    """(training rows, held-out rows) of ``datasets``: the split at seed 0, whatever the run's
    seed, so the held-out subjects are those ``faceedit eval`` uses."""
    return split_rows(datasets, cfg.holdout)


def subjects_of(rows: list[dict]) -> list[str]:
    """The subjects of ``rows``, sorted."""
    return sorted({r["subject"] for r in rows})
