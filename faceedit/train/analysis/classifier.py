"""The expression and lighting classifiers' trainers: a class-weighted cross-entropy on the
training subjects' crops of one label, with their model-card text.

The expression classifier's data hold angry, disgusted and fearful faces in one set only (JAFFE's
grey scans), neutral and happy in all three, so a network can score well by recognising the
set's look instead of the expression. Its trainer works against that shortcut: the network
reads a normalised crop (:func:`faceedit.analysis.nets.normalise_input`); crops are given other
photo sets' looks (:func:`~faceedit.train.analysis.common.photo_look`); some expressive crops
are moved onto other sets' neutral faces (:meth:`ClassifierTrainer.transfer`: the other face
warped by the expression's landmark move, :mod:`~faceedit.train.analysis.moves`, or the
expression's luma difference added to it), so that angry, disgusted and fearful are not one
set's people; each (class, data set) cell weighs as much as
the others of its class; and a data-set head behind a gradient reversal (Ganin & Lempitsky
2015), one per class that several sets hold, trains the features to carry nothing that tells,
say, a London neutral face from a JAFFE one. Swapping the surroundings of faces between crops
(:func:`~faceedit.train.analysis.common.swap_frames`) is there too, off: it held out worse
(the expression card).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from faceedit.analysis.classify import DEFAULT_CONFIG as CLASSIFIER_CONFIG
from faceedit.analysis.classify import (
    FLIP_SWAPS,
    VOCABULARIES,
    build_classifier,
    classification_metrics,
)
from faceedit.analysis.nets import SmallResNet, face_window, predict
from faceedit.data import Dataset, dataset_name, load_crops
from faceedit.errors import UsageError
from faceedit.log import logger
from faceedit.pixels import levels_to_signed
from faceedit.train.analysis import moves
from faceedit.train.analysis.common import (
    AnalysisData,
    AnalysisTrainer,
    heldout_split,
    jitter,
    photo_look,
    step_generator,
    subjects_of,
    swap_frames,
)
from faceedit.train.crops import CropSet
from faceedit.train.loop import LoopConfig


def with_flips(x: torch.Tensor, y: torch.Tensor, labels: Sequence[str],
               swaps: dict[str, str]) -> tuple[torch.Tensor, torch.Tensor]:
    """``x`` followed by its horizontal mirror images, labelled through ``swaps`` (e.g. left <->
    right); mirrors whose swapped label is not among ``labels`` are left out."""
    mirrored = [swaps.get(labels[i], labels[i]) for i in y.tolist()]
    keep = torch.tensor([m in labels for m in mirrored], dtype=torch.bool)
    ym = torch.tensor([labels.index(m) for m in mirrored if m in labels], dtype=y.dtype)
    return torch.cat([x, x.flip(-1)[keep]]), torch.cat([y, ym])


class _ReverseGradient(torch.autograd.Function):
    """Identity forward; the gradient times ``-scale`` backward."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, scale: float) -> torch.Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.scale * grad, None


def reverse_gradient(x: torch.Tensor, scale: float) -> torch.Tensor:
    """``x``, with its gradient reversed and scaled by ``scale`` on the way back."""
    return _ReverseGradient.apply(x, scale)


class SetAdversary(nn.Module):
    """Which data set a crop's features come from, one softmax per class: logits
    (B, classes, sets), read at each crop's own class."""

    def __init__(self, feature_dim: int, classes: int, sets: int, hidden: int = 64) -> None:
        super().__init__()
        self.classes, self.sets = classes, sets
        self.mlp = nn.Sequential(nn.Linear(feature_dim, hidden), nn.ReLU(), nn.Linear(hidden, classes * sets))

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return self.mlp(f).view(-1, self.classes, self.sets)


class ClassifierTrainer(AnalysisTrainer):
    """A classifier of the label ``kind``: the training subjects' crops with that label (for
    lighting also mirrored, sides swapped: the jitter itself never flips there), a class-weighted
    cross-entropy with label smoothing (London alone holds more neutral and happy faces than
    every other class together), small similarity jitter and brightness/contrast change.

    Against a data-set shortcut (the module docstring), ``training`` keys, all off by default:
    ``balance_sets`` (each (class, data set) cell of the training crops weighs the same within
    its class), ``look`` and ``frame`` (the probabilities of :func:`photo_look` and
    :func:`swap_frames`), ``warp`` and ``transfer`` (the probabilities of :meth:`moved` and
    :meth:`added` for an expressive crop, :meth:`transfer`; ``warp_appearance``: how much of
    the appearance change :meth:`moved` adds to the shape, ``warp_appearance_blur``: the sigma,
    in px of the working crop, of the Gaussian that low-passes that change first, so that a
    set's grain and sharpness stay behind; ``neutral_base``: what an expression is measured
    against, ``"mean"`` of its subject's neutral photos or the one ``"nearest"`` in pose) and
    ``adversary`` (the weight of the data-set head's reversed gradient, ramped up over
    the run as Ganin & Lempitsky do)."""

    training = {"batch": 32, "lr": 2e-3, "weight_decay": 5e-4, "label_smoothing": 0.05, "photometric": 0.25}
    default_config = CLASSIFIER_CONFIG
    data: AnalysisData  # what load_data gives
    labels: list[str]  # set by build

    @classmethod
    def load_data(cls, datasets: list[Dataset], cfg: LoopConfig, config: dict,
                  vocab: dict[str, list[str]] | None) -> AnalysisData:
        kind = cls.kind
        train_rows, held_rows = heldout_split(datasets, cfg)
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
        roots = [str(d.root) for d in datasets]
        sets = torch.tensor([roots.index(r["dataset"]) for r in train_rows])
        if kind in FLIP_SWAPS:  # mirrored copies follow the crops of train_rows
            kept = [FLIP_SWAPS[kind].get(labels[i], labels[i]) in labels for i in y.tolist()]
            sets = torch.cat([sets, sets[torch.tensor(kept, dtype=torch.bool)]])
            x, y = with_flips(x, y, labels, FLIP_SWAPS[kind])
        held = CropSet(held_rows, load_crops(held_rows, size, ch),
                       labels={"target": torch.tensor([labels.index(r["labels"][kind]) for r in held_rows])})
        train = CropSet(train_rows, x, labels={"target": y, "set": sets})
        if _moves_expressions(cls.training):
            train.fields.update(_neutral_bases(train_rows, x, datasets, size,
                                               nearest=cls.training.get("neutral_base") == "nearest"))
        # (no vocab: the class names follow from the data, and held-out rows may carry others)
        return AnalysisData(list(datasets), size, ch, {}, train, held, subjects_of(held_rows),
                            more={"labels": labels})

    def build(self) -> None:
        self.labels = self.data.more["labels"]
        y, sets = self.data.train.labels["target"], self.data.train.labels["set"]
        k, n_sets = len(self.labels), len(self.data.datasets)
        counts = torch.bincount(y, minlength=k).float()
        self.weight = (counts.sum() / (k * counts.clamp(min=1))).to(self.device)
        # (class, set) cells: which hold crops, and each crop's weight when the sets are balanced
        cells = torch.bincount(y * n_sets + sets, minlength=k * n_sets).view(k, n_sets).float()
        self.present = (cells > 0).to(self.device)
        self.cell_weight = (counts.sum() / (k * self.present.sum(1, keepdim=True).clamp(min=1)
                                            * cells.to(self.device).clamp(min=1)))
        logger.info("%s: %d training crops (%s), %d held-out", self.kind, len(y),
                    ", ".join(f"{l} {int(c)}" for l, c in zip(self.labels, counts)), len(self.data.held))
        net = build_classifier(self.net_config)
        self.nets = {"net": net}
        if self.training.get("adversary"):
            self.nets["adversary"] = SetAdversary(net.feature_dim, k, n_sets)
        self.opts = {"net": self.optimizer()}
        self.pool = _neutral_pool(self.data.train) if _moves_expressions(self.training) else {}

    def optimizer(self) -> torch.optim.Optimizer:
        params = [p for net in self.nets.values() for p in net.parameters()]
        return torch.optim.AdamW(params, lr=float(self.training["lr"]),
                                 weight_decay=float(self.training.get("weight_decay", 5e-4)))

    @property
    def net_config(self) -> dict:
        return {**super().net_config, "out_dim": len(self.data.more["labels"])}

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, float]:
        if _moves_expressions(self.training):
            batch = self.transfer(batch, step_generator())
        return super().train_step(batch, step)

    def transfer(self, batch: dict[str, Any], gen: torch.Generator) -> dict[str, Any]:
        """The batch with some expressive crops (those whose subject has a neutral photo)
        replaced by their expression moved onto another data set's neutral face. With
        probability ``warp`` the expression's shape (:meth:`moved`): that face warped by the
        expression's landmark move; with probability ``transfer`` its luma difference
        (:meth:`added`). The label stays; ``mixed`` marks these crops, which the data-set head
        leaves out. Every pixel comes from real photos."""
        x, y, sets = batch["image"], batch["target"], batch["set"]
        train = self.data.train
        idx = batch["index"] - train.offset
        neutral = self.labels.index("neutral") if "neutral" in self.labels else -1
        p_warp, p_add = float(self.training.get("warp", 0.0)), float(self.training.get("transfer", 0.0))
        u = torch.rand(len(y), generator=gen).to(x.device)
        on = train.fields["has_base"][idx].to(x.device) & (y != neutral) & (u < p_warp + p_add)
        mixed = torch.zeros(len(y), dtype=torch.bool, device=x.device)
        if not on.any():
            return {**batch, "mixed": mixed}
        pool = self.pool
        x = x.clone()
        w = face_window(x.shape[-1], device=x.device, dtype=x.dtype)
        for i in torch.nonzero(on).flatten().tolist():
            others = [k for k in pool if k != int(sets[i])]
            if not others:
                continue
            cands = pool[others[int(torch.randint(len(others), (1,), generator=gen))]]
            j = int(cands[int(torch.randint(len(cands), (1,), generator=gen))])
            src = int(idx[i])
            face = levels_to_signed(train.images[j : j + 1]).to(x) if train.images.dtype == torch.uint8 \
                else train.images[j : j + 1].to(x)
            move = self.moved if float(u[i]) < p_warp else self.added
            x[i : i + 1] = move(x[i : i + 1], src, face, j, w).clamp(-1, 1)
            mixed[i] = True
        return {**batch, "image": x, "mixed": mixed}

    def moved(self, crop: torch.Tensor, src: int, face: torch.Tensor, j: int, w: torch.Tensor) -> torch.Tensor:
        """Training crop ``j`` (``face``, a neutral face of another set) making the expression
        of ``crop`` (training crop ``src``): warped by the expression's landmark move from its
        subject's neutral (:func:`~faceedit.train.analysis.moves.expression_move`, turned and
        scaled into this face's frame), plus, times ``warp_appearance``, what the move cannot
        make (the crop less its neutral warped into its geometry: teeth, an opened mouth,
        folds; low-passed by ``warp_appearance_blur``), itself warped into the new geometry,
        inside the face window ``w``."""
        fields = self.data.train.fields
        crop_lm, base_lm = fields["crop_landmarks"][src].numpy(), fields["base_landmarks"][src].numpy()
        face_lm = fields["crop_landmarks"][j].numpy()
        goal = moves.expression_move(crop_lm, base_lm, face_lm)
        out = torch.stack([torch.from_numpy(moves.warp_face(c.cpu().numpy(), face_lm, goal)) for c in face[0]])[None]
        amount = float(self.training.get("warp_appearance", 0.0))
        if amount:
            base = fields["base"][src : src + 1].to(crop)
            wn = w.cpu().numpy()
            sigma = float(self.training.get("warp_appearance_blur", 0.0))
            change = torch.stack([torch.from_numpy(moves.carry(moves.low_pass(
                moves.appearance_change(c.cpu().numpy(), crop_lm, b.cpu().numpy(), base_lm) * wn, sigma),
                crop_lm, goal)) for c, b in zip(crop[0], base[0])])[None]
            gain = _window_std(face, w) / _window_std(base, w).clamp(min=1e-3)
            out = out + amount * gain.cpu() * change * w.cpu()
        return out.to(crop)

    def added(self, crop: torch.Tensor, src: int, face: torch.Tensor, j: int, w: torch.Tensor) -> torch.Tensor:
        """``face`` (training crop ``j``) plus the luma difference of ``crop`` (training crop
        ``src``) from its subject's neutral mean (``base``), warped by the affine map that best
        takes that neutral's landmarks onto the face's, scaled to its contrast, inside the face
        window ``w`` (hair and background changes between the photos left out)."""
        fields = self.data.train.fields
        s = crop.shape[-1]
        base = fields["base"][src : src + 1].to(crop)
        theta = _affine_to(fields["crop_landmarks"][j], fields["base_landmarks"][src], s).to(crop)
        grid = F.affine_grid(theta[None], [1, 1, s, s], align_corners=False)
        delta = F.grid_sample(crop - base, grid, mode="bilinear", padding_mode="zeros", align_corners=False) * w
        gain = _window_std(face, w) / _window_std(base, w).clamp(min=1e-3)
        return face + gain * delta

    def augment(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if self.training.get("look"):
            x = photo_look(x, gen, p=float(self.training["look"]))
        if self.training.get("frame"):
            x = swap_frames(x, gen, p=float(self.training["frame"]))
        return jitter(x, gen, flip=self.kind not in FLIP_SWAPS, photometric=self.training["photometric"])

    def loss(self, x: torch.Tensor, batch: dict[str, Any], gen: torch.Generator) -> torch.Tensor:
        y, smoothing = batch["target"], self.training["label_smoothing"]
        if not self.training.get("balance_sets") and not self.training.get("adversary"):
            return F.cross_entropy(self.nets["net"](x), y, weight=self.weight, label_smoothing=smoothing)
        net = self.net("net")
        assert isinstance(net, SmallResNet)
        f = net.features(x)
        w = self.cell_weight[y, batch["set"]] if self.training.get("balance_sets") else self.weight[y]
        ce = F.cross_entropy(net.head(net.dropout(f)), y, reduction="none", label_smoothing=smoothing)
        loss = (ce * w).sum() / w.sum()
        if self.training.get("adversary"):
            real = ~batch["mixed"] if "mixed" in batch else torch.ones_like(y, dtype=torch.bool)
            loss = loss + self.set_loss(f[real], y[real], batch["set"][real], w[real])
        return loss

    def set_loss(self, f: torch.Tensor, y: torch.Tensor, sets: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """The data-set head's cross-entropy on the crops of classes that several sets hold, the
        sets that lack a crop's class left out of its softmax; the features get its gradient
        reversed, times ``adversary`` ramped from 0 (2 / (1 + exp(-10 p)) - 1 at run fraction p)."""
        rows = self.present[y].sum(1) > 1
        if not rows.any():
            return f.sum() * 0
        scale = float(self.training["adversary"]) * (2 / (1 + math.exp(-10 * self.fraction)) - 1)
        logits = self.nets["adversary"](reverse_gradient(f[rows], scale))
        logits = logits[torch.arange(int(rows.sum()), device=f.device), y[rows]]
        logits = logits.masked_fill(~self.present[y[rows]], float("-inf"))
        ce = F.cross_entropy(logits, sets[rows], reduction="none")
        return (ce * w[rows]).sum() / w[rows].sum()

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
    # (frame 0.5 held out worse: the card's runs)
    training = {**ClassifierTrainer.training, "balance_sets": True, "look": 0.8, "frame": 0.0,
                "transfer": 0.3, "adversary": 0.3}
    default_config = {**CLASSIFIER_CONFIG, "input_norm": "lcn"}
    label_keys = needs_labels = ("expression",)
    what = (
        "Facial-expression classifier (classes: {labels}) over aligned face crops, a small ResNet "
        "(`faceedit.analysis.nets.NormalisedResNet`, {size} px luma input, ~0.3 M parameters) that reads "
        "each crop's local contrast inside a face window (`faceedit.analysis.nets.normalise_input`), "
        "trained by this project with a cross-entropy weighted per class and data set, against the data "
        "sets' shortcut (angry, disgusted and fearful faces exist only in JAFFE's grey scans): other "
        "sets' looks as augmentation, real expressions moved onto other sets' neutral faces, and a "
        "data-set head behind a gradient reversal. It stands in for the expression recognisers the "
        "papers use (GAN classification losses, evaluation of edits). Load it with "
        "`faceedit.analysis.classify.load_classifier(\"expression\")`.")
    notes = (
        "Notes: `accuracy` counts all held-out crops; `balanced_accuracy` is the mean per-class accuracy "
        "over the classes present. The held-out set is small and uneven: London gives neutral/happy "
        "pairs only, JAFFE 2 subjects (about 20 crops each), Yale 3 subjects (mostly neutral: its "
        "lighting and glasses photos are labelled neutral). JAFFE's posed expressions are subtle and "
        "person-specific; its per-dataset figures are for 2 people and should be read as such; per-class "
        "figures rest on 3 to 41 crops (one crop moves a 3-crop class by 0.33, a 6-crop one by 0.17). "
        "`train_accuracy` is measured on the un-augmented training crops. The run's length is fixed by "
        "`--steps`, so its schedule does not depend on the machine's speed.\n\n"
        "**The data-set shortcut.** The classifier this one replaces (trained without the defences) "
        "read the set around a face: `python bench/bench_classifier_shortcut.py --classifier PREVIOUS "
        "--classifier weights/expression.safetensors` (PREVIOUS: the file this one replaces, in git "
        "history) on the held-out subjects measured JAFFE's angry, disgusted, fearful and sad faces "
        "set into London photos' surroundings (tones matched) read as neutral or happy 0.88 of the "
        "time (0.33 as they are; angry 0.67 -> 0.00); this one 0.42 (0.29 as they are; angry 0.83 -> "
        "0.50); a linear probe tells the three sets apart from the pooled "
        "features of neutral and happy faces at balanced accuracy 0.85 there, 0.64 here (chance 0.33; "
        "the faces themselves differ: JAFFE holds only Japanese women). Held out, against the old "
        "classifier: accuracy 0.709 -> 0.736, balanced 0.587 -> 0.618; JAFFE balanced 0.50 -> 0.69 "
        "(angry 4/6 -> 5/6, disgusted 2/6 -> 3/6, fearful 0/6 -> 2/6, sad 0/6 -> 2/6); London 0.833 -> "
        "0.806 (neutral 16/18 both, happy 14/18 -> 13/18); Yale 0.86 -> 0.68 (sad, sleepy and wink: 3 "
        "crops each, 2, 2, 3 -> 1, 1, 2 right; neutral 14/17 -> 13/17): Yale's own classes (sleepy, "
        "wink) are the same kind of one-set classes, and lost what the set gave them.\n\n"
        "**Runs** (3000 steps each, 48 px, seed 0 unless said; per-set figures balanced; the held-out "
        "subjects were also what chose between them, there being no other split, so these figures are "
        "somewhat optimistic): normalised input, looks, set balance and the adversary without moved "
        "expressions: accuracy "
        "0.755, balanced 0.603, London 0.917, JAFFE 0.571, Yale 0.712, but JAFFE's angry faces in London "
        "surroundings read angry 0/6; the same with half the crops' surroundings swapped between crops "
        "(`frame` 0.5): balanced 0.484; this run: moved expressions (`transfer` 0.3), no frame swap; "
        "the same command with `--seed 1`, run after this file was chosen: accuracy 0.655, balanced "
        "0.580, London 0.778 (happy 11/18), JAFFE 0.50, Yale 0.77; its JAFFE angry/disgusted/fearful/sad "
        "faces in London surroundings read neutral/happy 0.21, but the probe tells the sets apart at "
        "0.89. Between two seeds the held-out figures move as much as this file gains over the previous "
        "classifier: this file reads the held-out faces better than the previous one, the recipe is not "
        "shown to.\n\n"
        "**What it still gets wrong.** As information only (never used to choose), the stage's edits of "
        "the 18 held-out London neutral photos at 1350 px (`faceedit -q apply -m stage -t T DIR --json`, "
        "`measured`): angry read as angry 0/18 (old 0/18; now sad 4, happy 4, neutral 10), disgusted "
        "1/18 (old 0/18), fearful 0/18 (old 0/18; now surprised 8, neutral 6), sad 4/18 (old 0/18), "
        "surprised 18/18 (old 7/18), happy 18/18 (both). The same edits of the 6 held-out JAFFE neutral "
        "photos: angry 3/6 (old 0/6), disgusted 3/6 (old 6/6), fearful 1/6 (old 2/6). The London faces "
        "no longer read as neutral or happy whatever is done to them, but the three JAFFE-only classes "
        "still rest on 8 training people's posed faces; on London faces they come out as their "
        "neighbours (sad, surprised). Real angry, disgusted or fearful photos of other people, or a "
        "larger held-out set, are what would settle it.")


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


def _moves_expressions(training: dict[str, Any]) -> bool:
    """Whether a trainer's ``training`` moves expressions onto other sets' faces."""
    return bool(training.get("transfer") or training.get("warp"))


def _affine_to(target: torch.Tensor, source: torch.Tensor, size: int) -> torch.Tensor:
    """(2, 3) ``theta`` for ``F.affine_grid`` (normalised coordinates, align_corners False):
    the least-squares affine map from landmarks ``target`` (68, 2, pixels) to ``source``, i.e.
    where each output pixel samples its input."""
    t = (2 * target + 1) / size - 1
    src = (2 * source + 1) / size - 1
    a = torch.cat([t, torch.ones(len(t), 1)], 1)
    return torch.linalg.lstsq(a, src).solution.T.contiguous()


def _window_std(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """The standard deviation of ``x`` (1, C, S, S) weighted by ``w``."""
    m = (x * w).sum() / (w.sum() * x.shape[1])
    return torch.sqrt(((x - m) ** 2 * w).sum() / (w.sum() * x.shape[1]))


def _neutral_bases(rows: list[dict], x: torch.Tensor, datasets: list[Dataset], size: int,
                   nearest: bool = False) -> dict[str, torch.Tensor]:
    """Per training crop: ``base`` (its subject's neutral source photos' mean crop, or with
    ``nearest`` the one of them nearest the crop in head pose, :func:`moves.nearest_pose`: one
    photo keeps its set's sharpness, where a mean is blurrier; float in [-1, 1]; zeros where the
    subject has none), ``has_base``, and the landmarks of the crop (``crop_landmarks``) and of
    that base (``base_landmarks``), in the working size's pixels."""
    scale = {str(d.root): size / d.size for d in datasets}
    lm = torch.tensor([r.get("landmarks") or [[0.0, 0.0]] * 68 for r in rows], dtype=torch.float32)
    lm = lm * torch.tensor([scale[r["dataset"]] for r in rows])[:, None, None]
    has_lm = torch.tensor([bool(r.get("landmarks")) for r in rows])
    groups: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(rows):
        if r.get("role") == "source" and r["labels"].get("expression") == "neutral" and has_lm[i]:
            groups.setdefault((r["dataset"], r["subject"]), []).append(i)
    base = torch.zeros(x.shape, dtype=torch.float32)
    base_lm = torch.zeros_like(lm)
    has = torch.zeros(len(rows), dtype=torch.bool)
    for i, r in enumerate(rows):
        g = groups.get((r["dataset"], r["subject"]))
        if g and has_lm[i]:
            if nearest:
                k = g[moves.nearest_pose(lm[i].numpy(), lm[g].numpy())]
                base[i], base_lm[i] = levels_to_signed(x[k : k + 1])[0], lm[k]
            else:
                base[i] = levels_to_signed(x[g]).mean(0)
                base_lm[i] = lm[g].mean(0)
            has[i] = True
    return {"base": base, "has_base": has, "crop_landmarks": lm, "base_landmarks": base_lm}


def _neutral_pool(train: CropSet) -> dict[int, torch.Tensor]:
    """Data set index -> its training crops of neutral source photos with landmarks (the faces
    :meth:`ClassifierTrainer.transfer` moves expressions onto)."""
    ok = [i for i, r in enumerate(train.rows) if r.get("role") == "source"
          and r["labels"].get("expression") == "neutral" and r.get("landmarks")]
    sets = train.labels["set"]
    return {int(k): torch.tensor([i for i in ok if int(sets[i]) == int(k)]) for k in sets[ok].unique()} if ok else {}


def _labels_of(rows: list[dict], kind: str) -> list[str]:
    """The labels ``kind`` takes in ``rows``: in the fixed order of its vocabulary, others after."""
    seen = {r["labels"][kind] for r in rows}
    vocab = VOCABULARIES.get(kind, [])
    return [l for l in vocab if l in seen] + sorted(seen - set(vocab))


def _dataset_of(row: dict, datasets: list[Dataset]) -> str:
    return next(dataset_name(d) for d in datasets if str(d.root) == row["dataset"])
