"""Identity features: a :class:`~faceedit.analysis.nets.SmallResNet` embedding network (128-d,
L2-normalised, 1-channel luma input) trained by this project with a CosFace margin softmax (Wang
et al. 2018) over the training identities of the shared data sets. It stands in for the face
recognisers the papers download (LightCNN in LEGAN, identity classifiers in EGGAN) in identity
losses (``IdentityNet.embed`` is differentiable with respect to the input) and in evaluating
whether an edit kept the person.

The same-person threshold is calibrated on real pairs of identities from the *training* split that
the margin loss never saw (a seeded 15 % of each set's training subjects, kept aside), so it
reflects how the network treats new people; the held-out subjects of
:func:`~faceedit.data.split_rows` are used only for the reported verification metrics.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from faceedit.analysis.classify import RUN_NOTE, data_licence, dataset_name
from faceedit.analysis.fit import fit, jitter, load_crops, predict, split_rows
from faceedit.analysis.nets import SmallResNet
from faceedit.analysis.store import (
    ANALYSIS_ARCH_PREFIX, analysis_meta, load_analysis, register_analysis, save_analysis, write_card,
)
from faceedit.data import Dataset, holdout_subjects
from faceedit.errors import CheckpointError, UsageError
from faceedit.log import logger

DEFAULT_CONFIG = {"dim": 128, "size": 48, "channels": 1, "widths": [16, 32, 64, 128]}
# Training hyper-parameters (recorded in the model card).
TRAINING = {"batch": 64, "lr": 2e-3, "photometric": 0.2}
COSFACE_SCALE, COSFACE_MARGIN = 16.0, 0.30
CALIBRATION_FRACTION = 0.15
MIN_IMAGES_PER_ID = 24  # rarer identities are repeated in the sampling pool up to this count


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


def _pair_scores(emb: torch.Tensor, rows: list[dict], names_by_root: dict, seed: int) -> dict[str, tuple]:
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


# ------------------------------------------------------------------------------------------
# Training
# ------------------------------------------------------------------------------------------


class CosFaceTrainer(nn.Module):
    """Embedding network + class centres for the large-margin cosine loss (training only; the
    centres are not shipped)."""

    def __init__(self, net: EmbeddingNet, n_ids: int, dim: int) -> None:
        super().__init__()
        self.net = net
        self.centres = nn.Parameter(torch.randn(n_ids, dim) * 0.01)

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        cos = self.net(x) @ F.normalize(self.centres, dim=1).t()
        cos = cos - COSFACE_MARGIN * F.one_hot(y, cos.shape[1])
        return F.cross_entropy(COSFACE_SCALE * cos, y)


def _split_calibration(train_rows: list[dict], names_by_root: dict, seed: int) -> set[str]:
    """Training subjects set aside for threshold calibration: a seeded 15 % of each set with at
    least 4 training subjects."""
    calib: set[str] = set()
    for name in sorted(set(names_by_root.values())):
        subj = {r["subject"] for r in train_rows if names_by_root[r["dataset"]] == name}
        if len(subj) >= 4:
            calib |= holdout_subjects(subj, CALIBRATION_FRACTION, seed + 1)
    return calib


def train_and_save(kind: str, datasets: list[Dataset], out: str | os.PathLike, *, budget_s: float,
                   seed: int = 0, command: str = "", steps: int | None = None,
                   config: dict | None = None) -> dict:
    """Train the identity network on the training subjects of ``datasets`` (less the calibration
    subjects), calibrate the threshold, measure verification on the held-out subjects, write
    ``out`` and its model card; returns the held-out metrics."""
    if kind != "identity":
        raise UsageError(f"{kind!r}: this trainer makes the 'identity' network")
    cfg = {**DEFAULT_CONFIG, **(config or {})}
    names_by_root = {str(d.root): dataset_name(d) for d in datasets}
    train_rows, held_rows = split_rows(datasets)
    calib_subj = _split_calibration(train_rows, names_by_root, seed)
    calib_rows = [r for r in train_rows if r["subject"] in calib_subj]
    fit_rows = [r for r in train_rows if r["subject"] not in calib_subj]
    ids = sorted({r["subject"] for r in fit_rows})
    if len(ids) < 2 or not held_rows:
        raise UsageError(f"{', '.join(names_by_root)}: too few subjects to train and test identity features")
    size, ch = int(cfg["size"]), int(cfg["channels"])

    x = load_crops(fit_rows, size, ch)
    y = torch.tensor([ids.index(r["subject"]) for r in fit_rows])
    # Sampling pool: identities with few photos (London: 2) repeated up to MIN_IMAGES_PER_ID entries,
    # so the 2-photo identities are not drowned by Yale B's ~60 photos per person.
    pool = []
    for c in range(len(ids)):
        members = torch.nonzero(y == c).flatten()
        reps = max(1, math.ceil(MIN_IMAGES_PER_ID / len(members)))
        pool.append(members.repeat(reps))
    pool = torch.cat(pool)
    logger.info("identity: %d identities, %d training crops (pool %d), %d calibration ids, %d held-out crops",
                len(ids), len(y), len(pool), len(calib_subj), len(held_rows))

    torch.manual_seed(seed)
    net = build_identity(cfg)
    trainer = CosFaceTrainer(net, len(ids), int(cfg["dim"]))
    res = fit(trainer, lambda m, xb, yb: m.loss(xb, yb), x[pool], y[pool], steps=steps,
              budget_s=None if steps else budget_s, batch=TRAINING["batch"], lr=TRAINING["lr"], seed=seed,
              augment=lambda xb, g: jitter(xb, g, flip=True, photometric=TRAINING["photometric"]),
              name="identity")
    net.eval()

    def embed(rows):
        return predict(net, load_crops(rows, size, ch)) if rows else torch.zeros(0, int(cfg["dim"]))

    calib_scores = _pair_scores(embed(calib_rows), calib_rows, names_by_root, seed)
    calibrated_on = "calibration identities (training split, not trained on)"
    if not calib_scores:  # tiny data: fall back to the trained identities themselves
        calib_scores = _pair_scores(embed(fit_rows), fit_rows, names_by_root, seed)
        calibrated_on = "trained identities (too few subjects to set some aside)"
    threshold = calibrate_threshold(calib_scores)

    held_scores = _pair_scores(embed(held_rows), held_rows, names_by_root, seed)
    pos = np.concatenate([p for p, _ in held_scores.values()])
    neg = np.concatenate([n for _, n in held_scores.values()])
    metrics = {"threshold": round(threshold, 4), **verification_metrics(pos, neg, threshold)}
    metrics["per_dataset"] = {k: verification_metrics(p, n, threshold) for k, (p, n) in held_scores.items()}
    accs = [m["accuracy"] for m in metrics["per_dataset"].values() if "accuracy" in m]
    metrics["mean_dataset_accuracy"] = round(float(np.mean(accs)), 4) if accs else None
    metrics["calibration"] = {k: verification_metrics(p, n, threshold) for k, (p, n) in calib_scores.items()}
    metrics["heldout_subjects"] = len({r["subject"] for r in held_rows})
    metrics["training_identities"] = len(ids)
    metrics["calibration_identities"] = len(calib_subj)

    data = sorted(set(names_by_root.values()))
    budget = {"budget_s": budget_s, "steps": res.steps, "seconds": round(res.seconds, 1), **TRAINING,
              "torch_threads": torch.get_num_threads(), "seed": seed,
              "loss": f"CosFace s={COSFACE_SCALE:g} m={COSFACE_MARGIN:g}",
              "final_loss": round(float(np.mean(res.losses[-50:])), 4) if res.losses else None}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_analysis(out, net, kind="identity", config=cfg, image_size=size, channels=ch,
                  training_data=", ".join(data), license=data_licence(data), metrics=metrics,
                  extra={"threshold": threshold, "threshold_calibrated_on": calibrated_on,
                         "heldout_subjects": sorted({r["subject"] for r in held_rows}),
                         "calibration_subjects": sorted(calib_subj), "budget": budget, "command": command})
    write_identity_card(out)
    logger.info("identity held-out verification accuracy %.3f, AUC %.3f (threshold %.3f)",
                metrics["accuracy"], metrics["roc_auc"], threshold)
    return metrics


def write_identity_card(path: str | os.PathLike) -> Path:
    """(Re)write the model card of a saved identity network from its checkpoint metadata."""
    meta = analysis_meta(path)
    return write_card(path, title="identity features", what=_WHAT.format(size=meta.config["size"]),
                      command=meta.extra.get("command", ""), data=meta.training_data.split(", "),
                      budget=meta.extra.get("budget", {}), metrics=meta.metrics,
                      notes=_NOTES + "\n\n" + RUN_NOTE)


_WHAT = (
    "Identity features: 128-d L2-normalised embeddings of aligned face crops from a small ResNet "
    "(`faceedit.analysis.nets.SmallResNet`, {size} px luma input, ~0.3 M parameters), trained by this "
    "project with a CosFace margin softmax over the training identities of the shared data sets, with "
    "jitter, flip and brightness/contrast augmentation. It stands in for the face recognisers the "
    "papers download (LightCNN etc.): identity losses and the identity-kept check of edits. Load it with "
    "`faceedit.analysis.identity.load_identity()`; `.similarity(a, b)` is the cosine of two crops, "
    "`.same_person(a, b)` compares it with the stored `threshold`.")

_NOTES = (
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
