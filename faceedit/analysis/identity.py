"""Identity features: a :class:`~faceedit.analysis.nets.SmallResNet` embedding network (128-d,
L2-normalised, 1-channel luma input) trained by this project with a CosFace margin softmax (Wang
et al. 2018) over the training identities of the shared data sets. It stands in for the face
recognisers the papers download (LightCNN in LEGAN, identity classifiers in EGGAN) in identity
losses (``IdentityNet.embed`` is differentiable with respect to the input) and in evaluating
whether an edit kept the person.

The same-person threshold (``calibrate_threshold``) is calibrated on real pairs of identities
from the *training* split that the margin loss never saw (a seeded 15 % of each set's training
subjects, kept aside), so it reflects how the network treats new people; the held-out subjects of
:func:`~faceedit.data.split_rows` are used only for the reported verification metrics. Training
(``faceedit train-analysis identity``): :mod:`faceedit.train.analysis`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from faceedit.analysis.nets import SmallResNet
from faceedit.analysis.store import ANALYSIS_ARCH_PREFIX, load_analysis, register_analysis
from faceedit.errors import CheckpointError

DEFAULT_CONFIG = {"dim": 128, "size": 48, "channels": 1, "widths": [16, 32, 64, 128]}


class EmbeddingNet(nn.Module):
    """SmallResNet whose head outputs a ``dim``-d feature, L2-normalised."""

    def __init__(self, dim: int = 128, size: int = 48, channels: int = 1,
                 widths: Sequence[int] = (16, 32, 64, 128)) -> None:
        super().__init__()
        self.body = SmallResNet(int(dim), size=int(size), channels=int(channels), widths=tuple(widths))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.body(x), dim=1)


@register_analysis("identity")
def build_identity(config: dict) -> EmbeddingNet:
    return EmbeddingNet(**config)


class IdentityNet:
    """A loaded identity network. Inputs are aligned crops ``(B, 1|3, H, W)`` in [-1, 1]."""

    def __init__(self, net: nn.Module, threshold: float) -> None:
        self.net, self.threshold = net, float(threshold)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(B, D) unit vectors; differentiable with respect to ``x``."""
        return self.net(x)

    def similarity(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Cosine similarity of each pair (a[i], b[i]) of crops, shape (B,)."""
        return (self.embed(a) * self.embed(b)).sum(1)

    @torch.no_grad()
    def same_person(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Bool (B,): similarity above the calibrated threshold."""
        return self.similarity(a, b) > self.threshold


def load_identity(path: str | os.PathLike = "identity", *, device: str | torch.device = "cpu") -> IdentityNet:
    """The shipped identity network (or one saved at ``path``). Shared, frozen, eval mode."""
    net, meta = load_analysis(path, device=device)
    if meta.arch != ANALYSIS_ARCH_PREFIX + "identity":
        raise CheckpointError(f"not an identity network (arch {meta.arch!r})", os.fspath(path))
    if "threshold" not in meta.extra:
        raise CheckpointError("identity network without a calibrated threshold", os.fspath(path))
    return IdentityNet(net, meta.extra["threshold"])


# ------------------------------------------------------------------------------------------
# Verification pairs and metrics
# ------------------------------------------------------------------------------------------


def verification_pairs(subjects: Sequence[str], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(same, different): all same-subject index pairs (i < j) and as many distinct, seeded
    different-subject pairs (fewer if fewer exist). Each an (N, 2) int array."""
    subj = np.asarray(subjects)
    n = len(subj)
    i, j = np.triu_indices(n, 1)
    same_mask = subj[i] == subj[j]
    same = np.stack([i[same_mask], j[same_mask]], 1)
    diff_all = np.flatnonzero(~same_mask)
    rng = np.random.default_rng(seed)
    pick = rng.choice(diff_all, size=min(len(same), len(diff_all)), replace=False)
    return same, np.stack([i[np.sort(pick)], j[np.sort(pick)]], 1)


def roc_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Area under the ROC curve: P(a positive scores above a negative), ties counted half
    (torchmetrics' ``binary_auroc``; scores in float64, so that its sigmoid, applied to scores
    outside [0, 1], creates no ties)."""
    from torchmetrics.functional.classification import binary_auroc

    scores = torch.from_numpy(np.concatenate([pos, neg]).astype(np.float64))
    labels = torch.cat([torch.ones(len(pos), dtype=torch.long), torch.zeros(len(neg), dtype=torch.long)])
    return float(binary_auroc(scores, labels))


def verification_metrics(pos: np.ndarray, neg: np.ndarray, threshold: float, far: float = 0.01) -> dict:
    """Accuracy at ``threshold``, ROC AUC, TAR at FAR ``far`` (the threshold letting through at
    most ``far`` of the different-person pairs), mean similarities, pair counts."""
    if not len(pos) or not len(neg):
        return {"same_pairs": int(len(pos)), "different_pairs": int(len(neg))}
    neg_desc = np.sort(neg)[::-1]
    t_far = float(neg_desc[min(int(math.floor(far * len(neg))), len(neg) - 1)])
    return {
        "same_pairs": int(len(pos)),
        "different_pairs": int(len(neg)),
        "accuracy": round(float(((pos > threshold).sum() + (neg <= threshold).sum())
                                / (len(pos) + len(neg))), 4),
        "true_accept_rate": round(float((pos > threshold).mean()), 4),
        "true_reject_rate": round(float((neg <= threshold).mean()), 4),
        "roc_auc": round(roc_auc(pos, neg), 4),
        f"tar_at_far_{far:g}": round(float((pos > t_far).mean()), 4),
        "mean_same_similarity": round(float(pos.mean()), 4),
        "mean_different_similarity": round(float(neg.mean()), 4),
    }


def pair_scores(emb: torch.Tensor, rows: list[dict], names_by_root: dict, seed: int) -> dict[str, tuple]:
    """Per data set: (same-pair similarities, different-pair similarities), pairs within the set."""
    out = {}
    for name in sorted(set(names_by_root.values())):
        idx = [k for k, r in enumerate(rows) if names_by_root[r["dataset"]] == name]
        if not idx:
            continue
        same, diff = verification_pairs([rows[k]["subject"] for k in idx], seed)
        e = emb[idx]
        sim = lambda p: (e[p[:, 0]] * e[p[:, 1]]).sum(1).numpy() if len(p) else np.zeros(0)  # noqa: E731
        out[name] = (sim(same), sim(diff))
    return out


def calibrate_threshold(scores: dict[str, tuple]) -> float:
    """The threshold maximising the mean over data sets of the balanced accuracy
    ((TAR + TRR) / 2), so that no single set's pair count (Yale B's) decides it alone."""
    cand = np.unique(np.concatenate([np.concatenate(v) for v in scores.values()]))
    cand = np.concatenate([[-1.0], (cand[:-1] + cand[1:]) / 2, [1.0]]) if len(cand) > 1 else np.array([0.5])
    cand = cand[:: max(1, len(cand) // 4000)]
    acc = np.zeros(len(cand))
    sets = [(p, n) for p, n in scores.values() if len(p) and len(n)]
    for p, n in sets:
        tar = (p[None, :] > cand[:, None]).mean(1)
        trr = (n[None, :] <= cand[:, None]).mean(1)
        acc += (tar + trr) / 2 / len(sets)
    return float(cand[int(acc.argmax())])
