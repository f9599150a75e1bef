"""The face parser's trainer: a compact U-Net on landmark-drawn soft masks, with the model-card
text.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from faceedit.analysis.nets import predict
from faceedit.analysis.parser import DEFAULT_CONFIG as PARSER_CONFIG
from faceedit.analysis.parser import EVAL_SIZE, build_parser, iou_scores, label_maps
from faceedit.data import Dataset, dataset_name, load_crops
from faceedit.faces.parsing import CLASSES, FLIP_CLASSES, PALETTE
from faceedit.log import logger
from faceedit.pixels import levels_to_signed, signed_to_unit, unit_to_signed
from faceedit.train.analysis.common import (
    AnalysisTrainer,
    heldout_split,
    jitter,
    subjects_of,
)
from faceedit.train.crops import CropSet, TrainData
from faceedit.train.loop import LoopConfig


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
        train_rows, held_rows = heldout_split(datasets, cfg)
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
                         CropSet(held_rows, load_crops(held_rows, EVAL_SIZE, channels)), subjects_of(held_rows))

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
