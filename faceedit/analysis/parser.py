"""A small differentiable face parser: aligned face crop -> per-pixel class logits.

It stands in for the Helen-trained U-Net parser of LSSL (face-parsing loss) and SeCGAN (semantic
branch), whose weights faceedit neither ships nor downloads. Its labels are the masks of
:mod:`faceedit.faces.parsing`, drawn from each training crop's stored 68 landmarks, so it learns
*landmark geometry rendered as regions* (classes :data:`~faceedit.faces.parsing.CLASSES`), and
its IoU is measured against such masks on held-out subjects, not against hand-drawn labels.

Network: a compact U-Net (Ronneberger et al. 2015) on the luma channel at 64 px: two 3x3
conv-BN-ReLU per level, widths 12-24-48-96 over four levels (0.27 M parameters), bilinear
up-sampling with skip concatenation, a 1x1 head. Inputs ``(B, 1|3, H, W)`` in [-1, 1] at any
size are resized to 64 (colour reduced to luma, :func:`faceedit.analysis.nets.prepare_input`);
the logits are resized back (bilinear) to ``H x W``. It is trained at 64 px on soft targets
(masks drawn at 128 px, area-averaged), which keeps eyes and brows at their sub-pixel extent.
LSSL's parser uses MobileNet depthwise blocks; plain 3x3 convolutions are used here (simpler,
and fast on a CPU at this size; the two were not compared).
"""

from __future__ import annotations

import math
import os
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from faceedit.analysis.nets import predict, prepare_input
from faceedit.analysis.store import load_analysis, register_analysis
from faceedit.faces.parsing import CLASSES, parse_from_landmarks

KIND = "parser"
DEFAULT_CONFIG = {"size": 64, "channels": 1, "widths": [12, 24, 48, 96], "classes": len(CLASSES)}
EVAL_SIZE = 128  # held-out IoU is measured on 128-px crops against masks drawn at 128 px


def _conv_block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
    )


class ParserNet(nn.Module):
    """Compact U-Net: ``forward(x)`` -> logits (B, classes, H, W) at the input's size."""

    def __init__(self, *, size: int = 64, channels: int = 1, widths=(12, 24, 48, 96),
                 classes: int = len(CLASSES)) -> None:
        super().__init__()
        widths = [int(w) for w in widths]
        self.size, self.channels, self.classes = int(size), int(channels), int(classes)
        if self.size % (1 << (len(widths) - 1)):
            raise ValueError(f"size {size} must be divisible by {1 << (len(widths) - 1)}")
        self.down = nn.ModuleList()
        cin = self.channels
        for w in widths:
            self.down.append(_conv_block(cin, w))
            cin = w
        self.up = nn.ModuleList(_conv_block(widths[i + 1] + widths[i], widths[i])
                                for i in reversed(range(len(widths) - 1)))
        self.head = nn.Conv2d(widths[0], self.classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        y = prepare_input(x, self.size, self.channels)
        skips = []
        for i, block in enumerate(self.down):
            if i:
                y = F.max_pool2d(y, 2)
            y = block(y)
            skips.append(y)
        for block, skip in zip(self.up, reversed(skips[:-1])):
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = block(torch.cat([y, skip], 1))
        y = self.head(y)
        if (h, w) != tuple(y.shape[-2:]):
            y = F.interpolate(y, size=(h, w), mode="bilinear", align_corners=False)
        return y


@register_analysis(KIND)
def build_parser(config: dict) -> ParserNet:
    cfg = {**DEFAULT_CONFIG, **config}
    return ParserNet(size=cfg["size"], channels=cfg["channels"], widths=cfg["widths"],
                     classes=cfg["classes"])


def load_parser(kind_or_path: str | os.PathLike = KIND, *, device: str | torch.device = "cpu") -> ParserNet:
    """The shipped (or a saved) parser, frozen, in eval mode (shared, cached: do not train it)."""
    return cast(ParserNet, load_analysis(kind_or_path, device=device)[0])


def parse(x: torch.Tensor, net: nn.Module | None = None) -> torch.Tensor:
    """Soft masks (B, C, H, W), the softmax of the parser's logits for crops ``x`` (B, 1|3, H, W)
    in [-1, 1]. Differentiable with respect to ``x`` (for parsing losses); the default network is
    the shipped parser on ``x``'s device."""
    if net is None:
        net = load_parser(device=x.device)
    return net(x).softmax(1)


# ---------------------------------------------------------------------------------------------
# labels and metrics (training: faceedit.train.analysis)


def label_maps(rows: list[dict], size: int) -> torch.Tensor:
    """(N, size, size) uint8 landmark-drawn label maps of prepared-dataset ``rows``."""
    out = np.zeros((len(rows), size, size), np.uint8)
    for i, r in enumerate(rows):
        out[i] = parse_from_landmarks(r["landmarks"], size, crop_size=int(r.get("size", EVAL_SIZE)))
    return torch.from_numpy(out)


def iou_counts(pred: torch.Tensor, true: torch.Tensor, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-class intersection and union pixel counts of two label maps (any shape)."""
    p, t = pred.reshape(-1).long(), true.reshape(-1).long()
    inter = torch.bincount(t[p == t], minlength=classes)
    union = torch.bincount(p, minlength=classes) + torch.bincount(t, minlength=classes) - inter
    return inter.numpy().astype(np.int64), union.numpy().astype(np.int64)


def iou_scores(pred: torch.Tensor, labels: torch.Tensor, classes: list[str] = CLASSES) -> dict:
    """Per-class IoU of predicted vs true label maps (pixels pooled over all maps; NaN for a
    class in neither), mean IoU over all classes and over the face parts (all but background),
    pixel accuracy and the number of maps."""
    inter, union = iou_counts(pred, labels, len(classes))
    iou = {c: float(i / u) if u else float("nan") for c, i, u in zip(classes, inter, union)}
    vals = [v for v in iou.values() if not math.isnan(v)]
    parts = [v for c, v in iou.items() if c != "background" and not math.isnan(v)]
    return {"iou": {c: round(v, 4) for c, v in iou.items()},
            "miou": round(float(np.mean(vals)), 4), "miou_parts": round(float(np.mean(parts)), 4),
            "pixel_acc": round(float((pred == labels).float().mean()), 4), "n": int(pred.shape[0])}


def parser_metrics(net: nn.Module, x: torch.Tensor, labels: torch.Tensor, classes: list[str] = CLASSES) -> dict:
    """:func:`iou_scores` of ``net`` on crops ``x`` (uint8, or float in [-1, 1]) against label
    maps ``labels`` (N, H, W) at the crops' size."""
    return iou_scores(predict(net, x, batch=64, fn=lambda n, xb: n(xb).argmax(1)), labels, classes)
