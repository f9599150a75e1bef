"""The identity features' trainer: a CosFace margin softmax over the training identities, the
same-person threshold calibrated on identities set aside, with the model-card text.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from faceedit.analysis.identity import DEFAULT_CONFIG as IDENTITY_CONFIG
from faceedit.analysis.identity import (
    EmbeddingNet,
    build_identity,
    calibrate_threshold,
    pair_scores,
    verification_metrics,
)
from faceedit.analysis.nets import predict
from faceedit.data import Dataset, dataset_name, holdout_subjects, load_crops
from faceedit.errors import UsageError
from faceedit.log import logger
from faceedit.train.analysis.common import (
    AnalysisData,
    AnalysisTrainer,
    heldout_split,
    jitter,
    subjects_of,
)
from faceedit.train.crops import CropSet
from faceedit.train.loop import LoopConfig

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
    data: AnalysisData  # what load_data gives
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
                  vocab: dict[str, list[str]] | None) -> AnalysisData:
        train_rows, held_rows = heldout_split(datasets, cfg)
        calibration: set[str] = set()
        for d in datasets:
            subjects = {r["subject"] for r in train_rows if r["dataset"] == str(d.root)}
            if len(subjects) >= 4:
                calibration |= holdout_subjects(subjects, CALIBRATION_FRACTION, cfg.seed + 1)
        fit_rows = [r for r in train_rows if r["subject"] not in calibration]
        ids = subjects_of(fit_rows)
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
                            CropSet(held_rows, load_crops(held_rows, size, ch)), subjects_of(held_rows),
                            more={"calibration": [r for r in train_rows if r["subject"] in calibration],
                                  "fit_rows": fit_rows, "ids": ids})

    def build(self) -> None:
        net = build_identity(self.net_config)
        assert isinstance(net, EmbeddingNet)  # the registry's decorator keeps no builder's return type
        self.nets = {"net": CosFace(net, len(self.data.more["ids"]), int(self.config["dim"]))}
        self.opts = {"net": self.optimizer()}

    def augment(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return jitter(x, gen, flip=True, photometric=self.training["photometric"])

    def loss(self, x: torch.Tensor, batch: dict[str, Any], gen: torch.Generator) -> torch.Tensor:
        return self.nets["net"](x, batch["target"])

    def network(self) -> nn.Module:
        cosface = self.net("net")
        assert isinstance(cosface, CosFace)
        return cosface.net.cpu().eval()

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
        metrics["calibration_identities"] = len(subjects_of(more["calibration"]))
        return metrics

    def export_extra(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "threshold_calibrated_on": self.calibrated_on,
                "calibration_subjects": subjects_of(self.data.more["calibration"])}
