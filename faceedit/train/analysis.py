"""Training the face-analysis networks (``faceedit train-analysis KIND``) on the shared loop.

:class:`AnalysisTrainer` is what the five networks share: AdamW with a cosine learning-rate
decay over the run's planned length (``--steps``, or the steps the time budget allows at the
speed of the first steps: :attr:`faceedit.train.loop.Trainer.planned_steps`), one augmentation
and one loss per batch, sample sheets (held-out crops | what the network learns from after
augmentation), and the export: the network in fp16 with ``faceedit.*`` metadata
(:func:`faceedit.analysis.store.save_analysis`) and its model card
(:func:`faceedit.analysis.store.write_card`). The loop (:mod:`faceedit.train.loop`) gives them
the run folder (state, ``log.jsonl``, samples, ``report.json``), resume, per-step seeding and DDP.
One small trainer per kind states the rest: its data (``load_data``), network, augmentation,
loss, held-out metrics and card text.

Held out: the subjects of :func:`faceedit.data.split_rows` at seed 0, the split every network
and ``faceedit eval`` use, whatever the training seed. The architectures, loading, inference and
metrics are in :mod:`faceedit.analysis`.
"""

from __future__ import annotations

import math
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from faceedit.analysis.classify import (
    FLIP_SWAPS,
    VOCABULARIES,
    build_classifier,
    classification_metrics,
)
from faceedit.analysis.classify import DEFAULT_CONFIG as CLASSIFIER_CONFIG
from faceedit.analysis.identity import (
    EmbeddingNet,
    build_identity,
    calibrate_threshold,
    pair_scores,
    verification_metrics,
)
from faceedit.analysis.identity import DEFAULT_CONFIG as IDENTITY_CONFIG
from faceedit.analysis.nets import predict
from faceedit.analysis.parser import EVAL_SIZE, build_parser, iou_scores, label_maps
from faceedit.analysis.parser import DEFAULT_CONFIG as PARSER_CONFIG
from faceedit.analysis.quality import (
    PENALTY,
    REAL_SCORE,
    build_quality,
    degrade_many,
    quality_metrics,
    sample_severities,
    target_score,
    uniform,
    well_exposed,
)
from faceedit.analysis.quality import DEFAULT_CONFIG as QUALITY_CONFIG
from faceedit.analysis.store import ANALYSIS_ARCH_PREFIX, KIND_MODULES, save_analysis, write_card
from faceedit.data import Dataset, data_licence, dataset_name, holdout_subjects, load_crops, split_rows
from faceedit.errors import UsageError
from faceedit.faces.parsing import CLASSES, FLIP_CLASSES, PALETTE
from faceedit.log import logger
from faceedit.pixels import levels_to_signed, luma_tensor, signed_to_unit, unit_to_signed
from faceedit.train.loop import CropSet, LoopConfig, RunResult, Trainer, TrainData, run_budget


def analysis_trainer(kind: str) -> type[AnalysisTrainer]:
    """The trainer of the analysis network ``kind`` (UsageError naming the kinds otherwise)."""
    trainers = {t.kind: t for t in (ExpressionTrainer, LightingTrainer, IdentityTrainer, ParserTrainer,
                                    QualityTrainer)}
    if kind not in trainers:
        raise UsageError(f"unknown analysis network {kind!r}; choose from {', '.join(sorted(KIND_MODULES))}")
    return trainers[kind]


def default_run_dir(out: str | os.PathLike) -> Path:
    """The run folder of ``train-analysis`` when none is given: beside the weights file
    (``weights/expression.safetensors`` -> ``weights/expression.run/``)."""
    out = Path(out)
    return out.with_name(f"{out.stem}.run")


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
        lr = float(self.training["lr"]) * 0.5 * (1 + math.cos(math.pi * self.run_fraction(step)))
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


def _split(datasets: list[Dataset], cfg: LoopConfig) -> tuple[list[dict], list[dict]]:
    return split_rows(datasets, cfg.holdout)  # seed 0: the held-out subjects faceedit eval uses


def _subjects(rows: list[dict]) -> list[str]:
    return sorted({r["subject"] for r in rows})


# ------------------------------------------------------------------------------------------
# Expression and lighting classifiers
# ------------------------------------------------------------------------------------------


def with_flips(x: torch.Tensor, y: torch.Tensor, labels: Sequence[str],
               swaps: dict[str, str]) -> tuple[torch.Tensor, torch.Tensor]:
    """``x`` followed by its horizontal mirror images, labelled through ``swaps`` (e.g. left <->
    right); mirrors whose swapped label is not among ``labels`` are left out."""
    mirrored = [swaps.get(labels[i], labels[i]) for i in y.tolist()]
    keep = torch.tensor([m in labels for m in mirrored], dtype=torch.bool)
    ym = torch.tensor([labels.index(m) for m in mirrored if m in labels], dtype=y.dtype)
    return torch.cat([x, x.flip(-1)[keep]]), torch.cat([y, ym])


class ClassifierTrainer(AnalysisTrainer):
    """A classifier of the label ``kind``: the training subjects' crops with that label (for
    lighting also mirrored, sides swapped: the jitter itself never flips there), a class-weighted
    cross-entropy with label smoothing (London alone holds more neutral and happy faces than
    every other class together), small similarity jitter and brightness/contrast change."""

    training = {"batch": 32, "lr": 2e-3, "weight_decay": 5e-4, "label_smoothing": 0.05, "photometric": 0.25}
    default_config = CLASSIFIER_CONFIG

    @classmethod
    def load_data(cls, datasets: list[Dataset], cfg: LoopConfig, config: dict,
                  vocab: dict[str, list[str]] | None) -> TrainData:
        kind = cls.kind
        train_rows, held_rows = _split(datasets, cfg)
        train_rows = [r for r in train_rows if r["labels"].get(kind)]
        held_rows = [r for r in held_rows if r["labels"].get(kind)]
        if not train_rows or not held_rows:
            raise UsageError(f"{', '.join(dataset_name(d) for d in datasets)}: no {kind} labels in the "
                             "training or held-out subjects")
        labels = _labels_of(train_rows, kind)
        unseen = sorted({r["labels"][kind] for r in held_rows} - set(labels))
        if unseen:
            logger.warning("held-out %s labels never seen in training are dropped: %s", kind, ", ".join(unseen))
            held_rows = [r for r in held_rows if r["labels"][kind] in labels]
        size, ch = int(config["size"]), int(config["channels"])
        x = load_crops(train_rows, size, ch)
        y = torch.tensor([labels.index(r["labels"][kind]) for r in train_rows])
        if kind in FLIP_SWAPS:  # mirrored copies follow the crops of train_rows
            x, y = with_flips(x, y, labels, FLIP_SWAPS[kind])
        held = CropSet(held_rows, load_crops(held_rows, size, ch),
                       labels={"target": torch.tensor([labels.index(r["labels"][kind]) for r in held_rows])})
        # (no vocab: the class names follow from the data, and held-out rows may carry others)
        return AnalysisData(list(datasets), size, ch, {}, CropSet(train_rows, x, labels={"target": y}),
                            held, _subjects(held_rows), more={"labels": labels})

    def build(self) -> None:
        self.labels = self.data.more["labels"]
        y = self.data.train.labels["target"]
        counts = torch.bincount(y, minlength=len(self.labels)).float()
        self.weight = (counts.sum() / (len(self.labels) * counts.clamp(min=1))).to(self.device)
        logger.info("%s: %d training crops (%s), %d held-out", self.kind, len(y),
                    ", ".join(f"{l} {int(c)}" for l, c in zip(self.labels, counts)), len(self.data.held))
        self.nets = {"net": build_classifier(self.net_config)}
        self.opts = {"net": self.optimizer()}

    @property
    def net_config(self) -> dict:
        return {**super().net_config, "out_dim": len(self.data.more["labels"])}

    def augment(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return jitter(x, gen, flip=self.kind not in FLIP_SWAPS, photometric=self.training["photometric"])

    def loss(self, x: torch.Tensor, batch: dict[str, Any], gen: torch.Generator) -> torch.Tensor:
        return F.cross_entropy(self.nets["net"](x), batch["target"], weight=self.weight,
                               label_smoothing=self.training["label_smoothing"])

    def heldout_metrics(self, net: nn.Module, seed: int) -> dict[str, Any]:
        """Accuracy, balanced accuracy, per class and per dataset (:func:`classification_metrics`),
        and ``train_accuracy`` on the un-augmented training crops."""
        held, train = self.data.held, self.data.train
        y = held.labels["target"]
        pred = predict(net, held.images).argmax(1)
        metrics = classification_metrics(y.tolist(), pred.tolist(), self.labels)
        names = [_dataset_of(r, self.data.datasets) for r in held.rows]
        metrics["per_dataset"] = {}
        for name in sorted(set(names)):
            idx = [i for i, n in enumerate(names) if n == name]
            metrics["per_dataset"][name] = classification_metrics(y[idx].tolist(), pred[idx].tolist(), self.labels)
        n = len(train.rows)  # the crops before any mirrored copies
        train_pred = predict(net, train.images[:n]).argmax(1)
        metrics["train_accuracy"] = round(float((train_pred == train.labels["target"][:n]).float().mean()), 4)
        metrics["heldout_subjects"] = len(self.data.heldout_subjects)
        return metrics


class ExpressionTrainer(ClassifierTrainer):
    kind = "expression"
    method = "expression classifier"
    label_keys = needs_labels = ("expression",)
    what = (
        "Facial-expression classifier (classes: {labels}) over aligned face crops, a small ResNet "
        "(`faceedit.analysis.nets.SmallResNet`, {size} px luma input, ~0.3 M parameters) trained by this "
        "project with a class-weighted cross-entropy. It stands in for the expression recognisers the "
        "papers use (GAN classification losses, evaluation of edits). Load it with "
        "`faceedit.analysis.classify.load_classifier(\"expression\")`.")
    notes = (
        "Notes: `accuracy` counts all held-out crops; `balanced_accuracy` is the mean per-class accuracy "
        "over the classes present. The held-out set is small and uneven: London gives neutral/happy "
        "pairs only, JAFFE 2 subjects (about 20 crops each), Yale 3 subjects (mostly neutral: its "
        "lighting and glasses photos are labelled neutral). JAFFE's posed expressions are subtle and "
        "person-specific; its per-dataset figures are for 2 people and should be read as such; per-class "
        "figures rest on 3 to 41 crops. There is no separate validation split: two earlier, shorter runs "
        "(64 px input, batch 64, 300 and 480 steps on a CPU shared with other jobs) underfitted "
        "(training accuracy 0.67 and 0.77), after which the input was reduced to 48 px and the batch to "
        "32 to fit more steps into the budget; a 10-minute run of this configuration (1581 steps, its "
        "schedule cut short by machine load, training accuracy 0.87) measured held-out accuracy 0.61, "
        "balanced 0.56, London 0.78, and was replaced by this longer run; nothing else was tuned. "
        "`train_accuracy` is measured on the un-augmented training crops.")


class LightingTrainer(ClassifierTrainer):
    kind = "lighting"
    method = "lighting classifier"
    label_keys = needs_labels = ("lighting",)
    what = (
        "Lighting-direction classifier (classes: {labels}, in image terms: `left` = the image-left side "
        "of the face is lit) over aligned face crops, a small ResNet ({size} px luma input, ~0.3 M "
        "parameters) trained by this project with a class-weighted cross-entropy; horizontal flips are "
        "added with `left`/`right` swapped. Load it with "
        "`faceedit.analysis.classify.load_classifier(\"lighting\")`.")
    notes = (
        "Notes: Extended Yale B dominates both training and held-out crops; Yale contributes 3 lighting "
        "photos per subject (its held-out part is 3 subjects, 8 crops). Yale B's `front`/`top`/`bottom` "
        "are bins of a continuous light direction (|azimuth| <= 20 deg; elevation beyond +-20 deg), so "
        "confusions between neighbouring bins are expected; `ambient` is the unlit photo.")


def _labels_of(rows: list[dict], kind: str) -> list[str]:
    """The labels ``kind`` takes in ``rows``: in the fixed order of its vocabulary, others after."""
    seen = {r["labels"][kind] for r in rows}
    vocab = VOCABULARIES.get(kind, [])
    return [l for l in vocab if l in seen] + sorted(seen - set(vocab))


def _dataset_of(row: dict, datasets: list[Dataset]) -> str:
    return next(dataset_name(d) for d in datasets if str(d.root) == row["dataset"])


# ------------------------------------------------------------------------------------------
# Identity features
# ------------------------------------------------------------------------------------------

COSFACE_SCALE, COSFACE_MARGIN = 16.0, 0.30
CALIBRATION_FRACTION = 0.15
MIN_IMAGES_PER_ID = 24  # rarer identities are repeated in the sampling pool up to this count


class CosFace(nn.Module):
    """Embedding network + class centres for the large-margin cosine loss (Wang et al. 2018;
    training only, the centres are not shipped): ``forward(x, y)`` is the loss."""

    def __init__(self, net: EmbeddingNet, n_ids: int, dim: int) -> None:
        super().__init__()
        self.net = net
        self.centres = nn.Parameter(torch.randn(n_ids, dim) * 0.01)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        cos = self.net(x) @ F.normalize(self.centres, dim=1).t()
        cos = cos - COSFACE_MARGIN * F.one_hot(y, cos.shape[1])
        return F.cross_entropy(COSFACE_SCALE * cos, y)


class IdentityTrainer(AnalysisTrainer):
    """Identity features with a CosFace margin softmax over the training identities, less a
    seeded 15 % of each set's training subjects (at least 4) kept aside to calibrate the
    same-person threshold on people the loss never saw; identities with few photos (London: 2)
    are repeated in the sampling pool up to ``MIN_IMAGES_PER_ID``, so they are not drowned by
    Yale B's ~60 photos per person. Held-out subjects give the reported verification metrics."""

    kind = "identity"
    method = "identity features"
    training = {"batch": 64, "lr": 2e-3, "weight_decay": 5e-4, "photometric": 0.2,
                "loss": f"CosFace s={COSFACE_SCALE:g} m={COSFACE_MARGIN:g}"}
    default_config = IDENTITY_CONFIG
    what = (
        "Identity features: 128-d L2-normalised embeddings of aligned face crops from a small ResNet "
        "(`faceedit.analysis.nets.SmallResNet`, {size} px luma input, ~0.3 M parameters), trained by this "
        "project with a CosFace margin softmax over the training identities of the shared data sets, with "
        "jitter, flip and brightness/contrast augmentation. It stands in for the face recognisers the "
        "papers download (LightCNN etc.): identity losses and the identity-kept check of edits. Load it with "
        "`faceedit.analysis.identity.load_identity()`; `.similarity(a, b)` is the cosine of two crops, "
        "`.same_person(a, b)` compares it with the stored `threshold`.")
    notes = (
        "Notes: verification pairs are drawn within each data set among held-out subjects only (never "
        "trained on, never used for the threshold): every same-person pair and as many seeded "
        "different-person pairs. The pooled figures are dominated by Extended Yale B, whose same-person "
        "pairs share pose and differ in lighting (often extreme side light); London pairs are one "
        "person's neutral and smiling photo (18 same-person pairs, so its TAR at FAR 1 % rests on 18 "
        "negatives, i.e. zero false accepts allowed); JAFFE pairs differ by expression, and with 2 held-out "
        "people every different-person pair compares the same two women (all JAFFE subjects are young "
        "Japanese women photographed in one studio), so its figures describe one pair of people; Yale "
        "pairs differ by expression, lighting and glasses (3 people). `threshold` maximises the mean over "
        "data sets of the balanced accuracy on calibration identities: training-split subjects set aside "
        "before training (`calibration` above). With ~100 training identities this is a weak face "
        "recogniser: good enough to tell an edit that kept the person from one that did not on these "
        "crops, not a biometric system.")

    @classmethod
    def load_data(cls, datasets: list[Dataset], cfg: LoopConfig, config: dict,
                  vocab: dict[str, list[str]] | None) -> TrainData:
        train_rows, held_rows = _split(datasets, cfg)
        calibration: set[str] = set()
        for d in datasets:
            subjects = {r["subject"] for r in train_rows if r["dataset"] == str(d.root)}
            if len(subjects) >= 4:
                calibration |= holdout_subjects(subjects, CALIBRATION_FRACTION, cfg.seed + 1)
        fit_rows = [r for r in train_rows if r["subject"] not in calibration]
        ids = _subjects(fit_rows)
        if len(ids) < 2 or not held_rows:
            raise UsageError(f"{', '.join(dataset_name(d) for d in datasets)}: too few subjects to train "
                             "and test identity features")
        size, ch = int(config["size"]), int(config["channels"])
        y = torch.tensor([ids.index(r["subject"]) for r in fit_rows])
        pool = torch.cat([members.repeat(max(1, math.ceil(MIN_IMAGES_PER_ID / len(members))))
                          for members in (torch.nonzero(y == c).flatten() for c in range(len(ids)))])
        logger.info("identity: %d identities, %d training crops (pool %d), %d calibration ids, %d held-out crops",
                    len(ids), len(y), len(pool), len(calibration), len(held_rows))
        train = CropSet([fit_rows[i] for i in pool.tolist()], load_crops(fit_rows, size, ch)[pool],
                        labels={"target": y[pool]})
        return AnalysisData(list(datasets), size, ch, {}, train,
                            CropSet(held_rows, load_crops(held_rows, size, ch)), _subjects(held_rows),
                            more={"calibration": [r for r in train_rows if r["subject"] in calibration],
                                  "fit_rows": fit_rows, "ids": ids})

    def build(self) -> None:
        net = build_identity(self.net_config)
        self.nets = {"net": CosFace(net, len(self.data.more["ids"]), int(self.config["dim"]))}
        self.opts = {"net": self.optimizer()}

    def augment(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return jitter(x, gen, flip=True, photometric=self.training["photometric"])

    def loss(self, x: torch.Tensor, batch: dict[str, Any], gen: torch.Generator) -> torch.Tensor:
        return self.nets["net"](x, batch["target"])

    def network(self) -> nn.Module:
        return self.net("net").net.cpu().eval()

    def heldout_metrics(self, net: nn.Module, seed: int) -> dict[str, Any]:
        """Verification on held-out subjects at the threshold calibrated on the calibration
        identities (or, too few subjects to set some aside, the trained ones)."""
        size, ch, more = int(self.config["size"]), int(self.config["channels"]), self.data.more
        names = {str(d.root): dataset_name(d) for d in self.data.datasets}

        def scores(rows: list[dict], x: torch.Tensor | None = None) -> dict[str, tuple]:
            emb = predict(net, load_crops(rows, size, ch) if x is None else x)
            return pair_scores(emb, rows, names, seed)

        calib = scores(more["calibration"]) if more["calibration"] else {}
        self.calibrated_on = "calibration identities (training split, not trained on)"
        if not calib:  # tiny data: fall back to the trained identities themselves
            calib = scores(more["fit_rows"])
            self.calibrated_on = "trained identities (too few subjects to set some aside)"
        self.threshold = calibrate_threshold(calib)
        held = scores(self.data.held.rows, self.data.held.images)
        pos = np.concatenate([p for p, _ in held.values()])
        neg = np.concatenate([n for _, n in held.values()])
        metrics = {"threshold": round(self.threshold, 4), **verification_metrics(pos, neg, self.threshold)}
        metrics["per_dataset"] = {k: verification_metrics(p, n, self.threshold) for k, (p, n) in held.items()}
        accs = [m["accuracy"] for m in metrics["per_dataset"].values() if "accuracy" in m]
        metrics["mean_dataset_accuracy"] = round(float(np.mean(accs)), 4) if accs else None
        metrics["calibration"] = {k: verification_metrics(p, n, self.threshold) for k, (p, n) in calib.items()}
        metrics["heldout_subjects"] = len(self.data.heldout_subjects)
        metrics["training_identities"] = len(more["ids"])
        metrics["calibration_identities"] = len(_subjects(more["calibration"]))
        return metrics

    def export_extra(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "threshold_calibrated_on": self.calibrated_on,
                "calibration_subjects": _subjects(self.data.more["calibration"])}


# ------------------------------------------------------------------------------------------
# Face parser
# ------------------------------------------------------------------------------------------


def soft_targets(rows: list[dict], size: int, classes: int = len(CLASSES)) -> torch.Tensor:
    """(N, classes, size, size) uint8 class fractions (x255) per pixel: masks drawn at twice
    ``size`` and area-averaged, so small parts keep their sub-pixel extent at the working size."""
    out = []
    for i in range(0, len(rows), 256):
        oh = F.one_hot(label_maps(rows[i : i + 256], 2 * size).long(), classes).permute(0, 3, 1, 2).float()
        out.append(F.avg_pool2d(oh, 2).mul_(255).round_().to(torch.uint8))
    return torch.cat(out) if out else torch.zeros(0, classes, size, size, dtype=torch.uint8)


def parsing_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Soft-target cross-entropy plus the soft Dice loss averaged over classes (Dice keeps the
    small classes, eyes and brows, from being swamped by background and skin)."""
    logp = logits.log_softmax(1)
    ce = -(target * logp).sum(1).mean()
    p = logp.exp()
    inter = (p * target).sum((0, 2, 3))
    denom = p.sum((0, 2, 3)) + target.sum((0, 2, 3))
    dice = 1 - ((2 * inter + 1) / (denom + 1)).mean()
    return ce + dice


class ParserTrainer(AnalysisTrainer):
    """The face parser on landmark-drawn soft masks of the training subjects, each dataset
    weighted equally (the smaller sets repeated up to the largest one, at most 4x)."""

    kind = "parser"
    method = "face parser (compact U-Net, landmark-drawn labels)"
    training = {"batch": 24, "lr": 3e-3, "weight_decay": 1e-4}
    default_config = PARSER_CONFIG
    labels = CLASSES
    what = (
        "Per-pixel classes " + ", ".join(f"`{c}`" for c in CLASSES) + " of an aligned face crop "
        "(any size, grey or colour, [-1, 1]; works on luma at 64 px). A stand-in for the "
        "Helen-trained U-Net parser of LSSL and SeCGAN: its training labels are **not hand-drawn**; "
        "they are the masks `faceedit.faces.parsing.parse_from_landmarks` draws from each crop's "
        "68 dlib landmarks (skin = jaw + brows + a forehead estimate; hair and everything outside "
        "it = background). Load it with `faceedit.analysis.parser.load_parser()`, soft masks with "
        "`parse(x)`.")
    notes = (
        "IoU is measured on the held-out subjects' crops at 128 px **against landmark-drawn masks**, "
        "so it says how well the network reproduces the landmark geometry from pixels, not how well it "
        "would score on hand-labelled data. `iou` pools pixels over all held-out crops (Extended Yale B "
        "dominates them); `per_dataset_miou` gives each set separately. Training augmentation: the same "
        "random similarity (shift 5 %, scale 8 %, rotation 8 degrees) and horizontal flip (left/right "
        "classes swapped) for image and mask; brightness, contrast and gamma jitter of the image. "
        "Known limits: the forehead/hair boundary is a geometric guess; glasses, hands and hair over the "
        "face are labelled as what the landmarks say lies beneath.")

    @classmethod
    def load_data(cls, datasets: list[Dataset], cfg: LoopConfig, config: dict,
                  vocab: dict[str, list[str]] | None) -> TrainData:
        """Training examples: crop and soft mask as one uint8 tensor (channels + classes), so that
        one jitter warps both; held out: the crops at ``EVAL_SIZE``."""
        size, channels, classes = int(config["size"]), int(config["channels"]), int(config["classes"])
        for d in datasets:  # each row learns its crop size: masks are drawn in that crop's pixels
            for r in d.rows:
                r["size"] = d.size
        train_rows, held_rows = _split(datasets, cfg)
        by_set: dict[str, list[dict]] = {}
        for r in train_rows:
            by_set.setdefault(r["dataset"], []).append(r)
        biggest = max(len(v) for v in by_set.values())
        weighted = []
        for name, rs in by_set.items():
            rep = max(1, min(4, round(biggest / len(rs))))
            weighted += rs * rep
            logger.info("parser: %s: %d training crops x %d", name, len(rs), rep)
        x = torch.cat([load_crops(weighted, size, channels), soft_targets(weighted, size, classes)], 1)
        return TrainData(list(datasets), size, channels, {}, CropSet(weighted, x),
                         CropSet(held_rows, load_crops(held_rows, EVAL_SIZE, channels)), _subjects(held_rows))

    def build(self) -> None:
        self.nets = {"net": build_parser(self.net_config)}
        self.opts = {"net": self.optimizer()}

    def augment(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """``x`` = [image channels, soft mask channels], all as levels in [-1, 1]. The same random
        similarity jitter warps image and mask, a horizontal flip mirrors both (and swaps the
        left/right classes), then brightness, contrast and gamma of the image change. Returns
        [image in [-1, 1], mask as class probabilities]."""
        channels = int(self.config["channels"])
        img, mask = x[:, :channels], signed_to_unit(x[:, channels:])
        y = jitter(torch.cat([img, mask], 1), gen, shift=0.05, scale=0.08, rotate=8.0, flip=False,
                   photometric=0.0)
        img, mask = y[:, :channels], y[:, channels:]
        flip = (torch.rand(x.shape[0], generator=gen) < 0.5).view(-1, 1, 1, 1).to(x.device)
        img = torch.where(flip, img.flip(-1), img)
        mask = torch.where(flip, mask.flip(-1)[:, FLIP_CLASSES], mask)
        r = lambda: (torch.rand(x.shape[0], 1, 1, 1, generator=gen) * 2 - 1).to(img)  # noqa: E731
        img = unit_to_signed(signed_to_unit(img).clamp(0, 1) ** torch.exp(0.4 * r()))
        img = (img * (1 + 0.25 * r()) + 0.2 * r()).clamp(-1, 1)
        return torch.cat([img, mask], 1)

    def loss(self, x: torch.Tensor, batch: dict[str, Any], gen: torch.Generator) -> torch.Tensor:
        channels = int(self.config["channels"])
        return parsing_loss(self.nets["net"](x[:, :channels]), x[:, channels:])

    @torch.no_grad()
    def samples(self, batch: dict[str, Any]) -> torch.Tensor:
        """Held-out crops | the parser's classes (faceedit.faces.parsing colours)."""
        x = batch["image"]
        colours = torch.as_tensor(PALETTE, device=x.device)[self.net("net")(x).argmax(1)]
        return torch.cat([x.expand(-1, 3, -1, -1), levels_to_signed(colours.permute(0, 3, 1, 2))], -1)

    def heldout_metrics(self, net: nn.Module, seed: int) -> dict[str, Any]:
        """IoU against landmark-drawn masks at ``EVAL_SIZE`` (:func:`iou_scores`), per dataset."""
        held = self.data.held
        pred = predict(net, held.images, batch=64, fn=lambda n, xb: n(xb).argmax(1))
        true = label_maps(held.rows, EVAL_SIZE)
        metrics: dict[str, Any] = {"params": sum(p.numel() for p in net.parameters()), **iou_scores(pred, true)}
        metrics["per_dataset_miou"] = {}
        for d in self.data.datasets:
            idx = [i for i, r in enumerate(held.rows) if r["dataset"] == str(d.root)]
            if idx:
                metrics["per_dataset_miou"][dataset_name(d)] = iou_scores(pred[idx], true[idx])["miou"]
        return metrics

    def export_extra(self) -> dict[str, Any]:
        return {"labels_from": "68 landmarks (faceedit.faces.parsing)"}


# ------------------------------------------------------------------------------------------
# Quality estimator
# ------------------------------------------------------------------------------------------


def natural_variation(x: torch.Tensor, gen: torch.Generator, p: float = 0.7) -> torch.Tensor:
    """Photographic variation that is *not* a defect, applied to real colour crops (with
    probability ``p`` each; greyscale ones, replicated to RGB, stay grey) before any degradation:
    white balance along the warm-cool axis (R and B gains up to exp(+-0.15)), a slight
    green-magenta tint, saturation x 0.7..1.3. Without it the only colour set (London, one studio)
    defines "correct" colour and any other photo's white balance reads as a colour-cast defect
    (the astronaut's warm scan scored 1.6 lower than its grey version)."""
    b = x.shape[0]
    if x.shape[1] != 3:
        return x
    colour = (x - x.mean(1, keepdim=True)).abs().amax((1, 2, 3)) > 0.02  # not replicated grey
    on = ((torch.rand(b, generator=gen) < p) & colour.cpu()).float()
    warm = uniform(b, gen, -0.15, 0.15) * on
    tint = uniform(b, gen, -0.04, 0.04) * on
    gains = torch.exp(torch.stack([warm, tint, -warm], 1)).to(x)[..., None, None]
    sat = (1 + uniform(b, gen, -0.3, 0.3) * on).to(x).view(-1, 1, 1, 1)
    y = x * gains
    luma = luma_tensor(y)
    return (luma + (y - luma) * sat).clamp(-1, 1)


def pair_batch(x: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Two versions of each crop: a recipe at severity s (hi) and the same recipe scaled by
    r in [0, 0.8] (lo; r = 0, the real crop, for 40 %). Returns images (2B), targets, B."""
    b = x.shape[0]
    hi = sample_severities(b, gen)
    r = uniform(b, gen, 0.0, 0.8)
    r = torch.where(torch.rand(b, generator=gen) < 0.4, torch.zeros(b), r)
    lo = {k: v * r for k, v in hi.items()}
    imgs = torch.cat([degrade_many(x, lo, gen), degrade_many(x, hi, gen)])
    return imgs, torch.cat([target_score(lo, b), target_score(hi, b)]).to(x.device), b


def balanced_indices(rows: list[dict], gen: torch.Generator, per_set: int) -> list[int]:
    """Indices of ``rows`` giving each dataset about ``per_set`` entries (small sets repeated a
    whole number of times, large ones subsampled), so Extended Yale B's 2400 crops do not drown
    London's colour ones."""
    by_set: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_set.setdefault(r["dataset"], []).append(i)
    out: list[int] = []
    for name in sorted(by_set):
        idx = by_set[name]
        if len(idx) >= per_set:
            out += [idx[j] for j in torch.randperm(len(idx), generator=gen)[:per_set].tolist()]
        else:
            out += idx * max(1, round(per_set / len(idx)))
    return out


class QualityTrainer(AnalysisTrainer):
    """Q on well-exposed real training crops balanced over the datasets, each batch scored at two
    severities of one degradation recipe (:func:`pair_batch`): a Huber regression on the
    synthetic target plus a logistic ranking loss between the two. Augmentation: flip, a mild
    similarity jitter against memorising training faces (held-out real crops scored 0.9 lower
    than training ones without it; its bilinear resampling softens the real crops a little,
    unjittered crops are sharper and score at least as high), no contrast jitter beyond 5 %
    (contrast loss is one of the degradations), then :func:`natural_variation`."""

    kind = "quality"
    method = "face quality estimator (LEGAN's Q, synthetic proxy)"
    training = {"batch": 32, "lr": 2e-3, "weight_decay": 5e-4, "pairs": "2 severities per crop"}
    default_config = QUALITY_CONFIG
    what = (
        "SmallResNet (128 px, 3 channels) scoring an aligned face crop 0..10 for LEGAN's "
        "quality loss. Trained on real crops (target 9.5) against degraded copies whose "
        "target is 9.5 minus severity-weighted penalties (blur, JPEG, noise, colour cast, "
        "contrast loss, down-up-sampling, transposed-conv checkerboard, blotchy stains, "
        "ghosting, local warps, patch shuffles, and combinations; mapping in "
        "faceedit/analysis/quality.py). **A synthetic proxy for the paper's crowd-rated "
        "naturalness, not the same scale or the same judgement.**")
    notes = (
        "Metrics: `spearman` between score and synthetic target over every held-out image "
        "scored (real, each kind at severity 0.5, random recipes); `rank_acc_same_face`: "
        "the same face under one recipe at two severities whose targets differ by >= 1 "
        "scores higher at the lower severity; `rank_acc_real_vs_degraded`: the real crop "
        "beats a random recipe at severity >= 0.2. Held-out: at most 150 crops per "
        "dataset. Scale: the paper's q = 8 lay above its real images' mean score; here "
        "real crops score about `real_mean`, so use q >= that in `quality_loss`.")

    @classmethod
    def load_data(cls, datasets: list[Dataset], cfg: LoopConfig, config: dict,
                  vocab: dict[str, list[str]] | None) -> TrainData:
        """Well-exposed training crops, about 600 per dataset; held out: well-exposed crops, at
        most 150 per dataset (Yale B's near-duplicates add little)."""
        size = int(config["size"])
        train_rows, held_rows = _split(datasets, cfg)
        if not train_rows or not held_rows:
            raise UsageError("quality training needs training and held-out subjects")
        crops = load_crops(train_rows, size, 3)
        ok = well_exposed(crops)
        train_rows = [r for r, k in zip(train_rows, ok.tolist()) if k]
        idx = torch.tensor(balanced_indices(train_rows, torch.Generator().manual_seed(cfg.seed), per_set=600))
        logger.info("quality: %d training crops (%d distinct well-exposed of %d, balanced over %d sets)",
                    len(idx), len(train_rows), len(ok), len(datasets))
        held_crops = load_crops(held_rows, size, 3)
        ok_held = well_exposed(held_crops)
        by_set: dict[str, list[int]] = {}
        for i, r in enumerate(held_rows):
            if ok_held[i]:
                by_set.setdefault(r["dataset"], []).append(i)
        pick = []
        for name in sorted(by_set):
            perm = torch.randperm(len(by_set[name]), generator=torch.Generator().manual_seed(cfg.seed))
            pick += sorted(by_set[name][j] for j in perm[:150].tolist())
        return AnalysisData(list(datasets), size, 3, {},
                            CropSet([train_rows[i] for i in idx.tolist()], crops[ok][idx]),
                            CropSet([held_rows[i] for i in pick], held_crops[torch.tensor(pick, dtype=torch.long)]),
                            _subjects(held_rows), more={"dark_heldout": int((~ok_held).sum())})

    @classmethod
    def torch_threads(cls) -> int | None:
        # Small convolutions on small batches scale badly across threads, and on a small shared
        # machine the threads wait on each other: measured on the 2-core training machine,
        # 0.3 s per 16-crop step with one thread against 0.9 s with two.
        return 1 if (os.cpu_count() or 1) <= 4 else None

    def build(self) -> None:
        self.nets = {"net": build_quality(self.net_config)}
        self.opts = {"net": self.optimizer()}

    def augment(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return natural_variation(jitter(x, gen, shift=0.03, scale=0.04, rotate=4, photometric=0.05), gen)

    def loss(self, x: torch.Tensor, batch: dict[str, Any], gen: torch.Generator) -> torch.Tensor:
        imgs, t, b = pair_batch(x, gen)
        s = self.nets["net"](imgs)
        reg = F.huber_loss(s, t, delta=1.0)
        gap = t[:b] - t[b:]  # lo - hi >= 0
        keep = gap > 0.25
        rank = F.softplus(-(s[:b] - s[b:])[keep] * 2.0).mean() if keep.any() else s.sum() * 0
        return reg + 0.5 * rank

    def heldout_metrics(self, net: nn.Module, seed: int) -> dict[str, Any]:
        held = self.data.held
        names = [Path(r["dataset"]).name for r in held.rows]
        metrics = quality_metrics(net, held.images, names, seed)
        metrics["heldout_dark_excluded"] = self.data.more["dark_heldout"]
        return metrics

    def export_extra(self) -> dict[str, Any]:
        return {"real_score": REAL_SCORE, "penalty": PENALTY, "output": "10*sigmoid, 0..10 (synthetic proxy scale)"}
