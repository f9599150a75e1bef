"""The face quality estimator's trainer (LEGAN's Q): a regression on synthetic degradation
targets plus a ranking loss between two severities of one recipe, with the model-card text.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from faceedit.analysis.quality import DEFAULT_CONFIG as QUALITY_CONFIG
from faceedit.analysis.quality import (
    PENALTY,
    REAL_SCORE,
    QualityNet,
    build_quality,
    degrade_many,
    quality_metrics,
    sample_severities,
    target_score,
    uniform,
    well_exposed,
)
from faceedit.data import Dataset, load_crops
from faceedit.errors import UsageError
from faceedit.log import logger
from faceedit.pixels import luma_tensor
from faceedit.train.analysis.common import (
    AnalysisData,
    AnalysisTrainer,
    heldout_split,
    jitter,
    subjects_of,
)
from faceedit.train.crops import CropSet
from faceedit.train.loop import LoopConfig


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
    data: AnalysisData  # what load_data gives
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
                  vocab: dict[str, list[str]] | None) -> AnalysisData:
        """Well-exposed training crops, about 600 per dataset; held out: well-exposed crops, at
        most 150 per dataset (Yale B's near-duplicates add little)."""
        size = int(config["size"])
        train_rows, held_rows = heldout_split(datasets, cfg)
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
                            subjects_of(held_rows), more={"dark_heldout": int((~ok_held).sum())})

    @classmethod
    def torch_threads(cls) -> int | None:
        # Small convolutions on small batches scale badly across threads, and on a small shared
        # machine the threads wait on each other: one thread there.
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
        assert isinstance(net, QualityNet)  # what network() ships
        held = self.data.held
        names = [Path(r["dataset"]).name for r in held.rows]
        metrics = quality_metrics(net, held.images, names, seed)
        metrics["heldout_dark_excluded"] = self.data.more["dark_heldout"]
        return metrics

    def export_extra(self) -> dict[str, Any]:
        return {"real_score": REAL_SCORE, "penalty": PENALTY, "output": "10*sigmoid, 0..10 (synthetic proxy scale)"}
