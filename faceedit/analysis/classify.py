"""Expression and lighting classifiers: a :class:`~faceedit.analysis.nets.SmallResNet` on 1-channel
luma (colour London and grey JAFFE / Yale / Yale B crops share one network), trained by this
project. They stand in for the expression / lighting recognisers the papers use, in the GAN
classification losses (``Classifier.logits`` is differentiable with respect to the input) and in
evaluation (``Classifier.predict``).

A config with ``input_norm`` (``lcn``) builds a :class:`~faceedit.analysis.nets.NormalisedResNet`:
the crop's local contrast inside a face window, the same at training and inference (the expression
classifier: it reads the face, not the photo set's look). Without it (the lighting classifier,
whose classes are the smooth shading that normalisation removes) the plain backbone.

The class names are stored in the checkpoint (``faceedit.conditions``), in the fixed order of
:data:`faceedit.conditions.EXPRESSIONS` / :data:`~faceedit.conditions.LIGHTING` restricted to the
labels the training data has.

Training (``faceedit train-analysis expression|lighting``): :mod:`faceedit.train.analysis`; the
held-out metrics (:func:`classification_metrics`) are measured on the held-out subjects only.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch

from faceedit.analysis.nets import NormalisedResNet, SmallResNet
from faceedit.analysis.store import ANALYSIS_ARCH_PREFIX, load_analysis, register_analysis
from faceedit.conditions import EXPRESSIONS, LIGHTING
from faceedit.errors import CheckpointError, UsageError

CLASSIFIER_KINDS = ("expression", "lighting")
VOCABULARIES = {"expression": EXPRESSIONS, "lighting": LIGHTING}
# Label swaps under a horizontal flip (kinds not listed are flip-invariant).
FLIP_SWAPS = {"lighting": {"left": "right", "right": "left"}}
DEFAULT_CONFIG = {"size": 48, "channels": 1, "widths": [16, 32, 64, 128], "dropout": 0.1}


def build_classifier(config: dict) -> SmallResNet:
    """The network of ``config`` (``out_dim``, ``size``, ``channels``, ``widths``, ``dropout``;
    ``input_norm`` other than ``none``: a :class:`NormalisedResNet`)."""
    out, size, channels = int(config["out_dim"]), int(config["size"]), int(config["channels"])
    widths, dropout = tuple(config["widths"]), float(config.get("dropout", 0.0))
    norm = config.get("input_norm", "none")
    if norm != "none":
        return NormalisedResNet(out, input_norm=norm, size=size, channels=channels, widths=widths, dropout=dropout)
    return SmallResNet(out, size=size, channels=channels, widths=widths, dropout=dropout)


for _kind in CLASSIFIER_KINDS:
    register_analysis(_kind)(build_classifier)


class Classifier:
    """A loaded classifier. Inputs are aligned crops ``(B, 1|3, H, W)`` in [-1, 1] at any size."""

    def __init__(self, net: torch.nn.Module, labels: Sequence[str], kind: str = "") -> None:
        self.net, self.labels, self.kind = net, list(labels), kind

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(B, K) class logits; differentiable with respect to ``x`` (for GAN losses)."""
        return self.net(x)

    def probs(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x).softmax(1)

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> list[str]:
        """The most likely label of each crop."""
        return [self.labels[i] for i in self.logits(x).argmax(1).tolist()]

    def index(self, label: str) -> int:
        """Class index of ``label`` (ValueError naming the known labels otherwise)."""
        try:
            return self.labels.index(label)
        except ValueError:
            raise ValueError(f"{self.kind or 'classifier'} has no class {label!r}; "
                             f"known: {', '.join(self.labels)}") from None

    def targets(self, labels: Sequence[str]) -> torch.Tensor:
        """Class indices of ``labels`` as a LongTensor on the classifier's device (for
        ``F.cross_entropy(clf.logits(x), clf.targets(names))``)."""
        return torch.tensor([self.index(l) for l in labels], dtype=torch.long, device=self.device)


def load_classifier(kind_or_path: str | os.PathLike = "expression", *,
                    device: str | torch.device = "cpu") -> Classifier:
    """The shipped classifier of ``kind`` (``expression`` or ``lighting``) or one saved at a path.
    The network is shared (cached, frozen, eval mode): do not train it in place."""
    net, meta = load_analysis(kind_or_path, device=device)
    kind = meta.arch[len(ANALYSIS_ARCH_PREFIX):]
    if kind not in CLASSIFIER_KINDS:
        raise CheckpointError(f"not a classifier (arch {meta.arch!r})", os.fspath(kind_or_path))
    return Classifier(net, meta.targets, kind)


def estimate_lighting(x: torch.Tensor, classes: Sequence[str]) -> torch.Tensor:
    """(B,) long: the lighting class of each crop of ``x`` (B, C, S, S) in [-1, 1] as an index
    into ``classes`` (a model's lighting vocabulary): the shipped lighting classifier, its logits
    restricted to the classes of ``classes`` it knows. LEGAN's ``lighting="keep"``
    (:data:`faceedit.models.legan.LightingEstimator`). A usage error names the classifier file
    when it is absent."""
    from faceedit.analysis.store import analysis_available, analysis_path

    classes = list(classes)
    if not analysis_available("lighting"):
        raise UsageError(f"lighting='keep' needs the lighting classifier {analysis_path('lighting')} "
                         "(faceedit train-analysis lighting ...); or pass a lighting class: "
                         f"{', '.join(classes)}")
    clf = load_classifier("lighting", device=x.device)
    shared = [l for l in classes if l in clf.labels]
    if not shared:
        raise UsageError(f"the lighting classifier knows none of this model's lighting classes "
                         f"({', '.join(classes)})")
    logits = clf.logits(x.float())[:, [clf.labels.index(l) for l in shared]]
    return torch.tensor([classes.index(shared[i]) for i in logits.argmax(1).tolist()],
                        dtype=torch.long, device=x.device)


# ------------------------------------------------------------------------------------------
# Metrics
# ------------------------------------------------------------------------------------------


def classification_metrics(true: Sequence[int], pred: Sequence[int], labels: Sequence[str]) -> dict:
    """Accuracy, balanced accuracy (mean per-class recall over the classes present), per-class
    accuracy, confusion (true label -> {predicted label: count}, non-zero cells), counts, and the
    majority-class baseline accuracy."""
    t, p = np.asarray(true, int), np.asarray(pred, int)
    k = len(labels)
    cm = np.zeros((k, k), int)
    np.add.at(cm, (t, p), 1)
    present = [c for c in range(k) if cm[c].sum()]
    per_class = {labels[c]: round(float(cm[c, c] / cm[c].sum()), 4) for c in present}
    n = int(len(t))
    return {
        "n": n,
        "accuracy": round(float((t == p).mean()), 4) if n else None,
        "balanced_accuracy": round(float(np.mean(list(per_class.values()))), 4) if present else None,
        "majority_baseline": round(float(cm.sum(1).max() / n), 4) if n else None,
        "per_class_accuracy": per_class,
        "counts": {labels[c]: int(cm[c].sum()) for c in present},
        "confusion": {labels[c]: {labels[j]: int(cm[c, j]) for j in range(k) if cm[c, j]} for c in present},
    }
