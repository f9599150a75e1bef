"""A small differentiable face parser: aligned face crop -> per-pixel class logits.

It stands in for the Helen-trained U-Net parser of LSSL (face-parsing loss) and SeCGAN (semantic
branch), which this machine cannot fetch. Its labels are the masks of
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
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from faceedit.analysis.fit import fit, jitter, load_crops, predict, split_rows
from faceedit.analysis.nets import prepare_input
from faceedit.analysis.store import load_analysis, register_analysis, save_analysis, write_card
from faceedit.faces.parsing import CLASSES, FLIP_CLASSES, parse_from_landmarks
from faceedit.log import logger
from faceedit.pixels import signed_to_unit, unit_to_signed

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
    return load_analysis(kind_or_path, device=device)[0]


def parse(x: torch.Tensor, net: nn.Module | None = None) -> torch.Tensor:
    """Soft masks (B, C, H, W), the softmax of the parser's logits for crops ``x`` (B, 1|3, H, W)
    in [-1, 1]. Differentiable with respect to ``x`` (for parsing losses); the default network is
    the shipped parser on ``x``'s device."""
    if net is None:
        net = load_parser(device=x.device)
    return net(x).softmax(1)


# ---------------------------------------------------------------------------------------------
# training


def label_maps(rows: list[dict], size: int) -> torch.Tensor:
    """(N, size, size) uint8 landmark-drawn label maps of prepared-dataset ``rows``."""
    out = np.zeros((len(rows), size, size), np.uint8)
    for i, r in enumerate(rows):
        out[i] = parse_from_landmarks(r["landmarks"], size, crop_size=int(r.get("size", EVAL_SIZE)))
    return torch.from_numpy(out)


def soft_targets(rows: list[dict], size: int, classes: int = len(CLASSES)) -> torch.Tensor:
    """(N, classes, size, size) uint8 class fractions (x255) per pixel: masks drawn at twice
    ``size`` and area-averaged, so small parts keep their sub-pixel extent at the working size."""
    out = []
    for i in range(0, len(rows), 256):
        oh = F.one_hot(label_maps(rows[i : i + 256], 2 * size).long(), classes).permute(0, 3, 1, 2).float()
        out.append(F.avg_pool2d(oh, 2).mul_(255).round_().to(torch.uint8))
    return torch.cat(out) if out else torch.zeros(0, classes, size, size, dtype=torch.uint8)


def _augment(xb: torch.Tensor, gen: torch.Generator, channels: int) -> torch.Tensor:
    """``xb`` = [image channels, soft mask channels], all mapped to [-1, 1] as levels
    (:func:`~faceedit.pixels.levels_to_signed`). The same random similarity jitter warps image
    and mask, a horizontal flip mirrors both (and swaps the left/right classes), then
    brightness, contrast and gamma of the image change. Returns [image in [-1, 1], mask as
    class probabilities]."""
    img, mask = xb[:, :channels], signed_to_unit(xb[:, channels:])
    y = jitter(torch.cat([img, mask], 1), gen, shift=0.05, scale=0.08, rotate=8.0, flip=False,
               photometric=0.0)
    img, mask = y[:, :channels], y[:, channels:]
    flip = (torch.rand(xb.shape[0], generator=gen) < 0.5).view(-1, 1, 1, 1)
    img = torch.where(flip, img.flip(-1), img)
    mask = torch.where(flip, mask.flip(-1)[:, FLIP_CLASSES], mask)
    r = lambda: (torch.rand(xb.shape[0], 1, 1, 1, generator=gen) * 2 - 1).to(img)  # noqa: E731
    img = unit_to_signed(signed_to_unit(img).clamp(0, 1) ** torch.exp(0.4 * r()))
    img = (img * (1 + 0.25 * r()) + 0.2 * r()).clamp(-1, 1)
    return torch.cat([img, mask], 1)


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


def train_and_save(kind: str, datasets, out, *, budget_s: float, seed: int = 0, command: str = "") -> dict:
    """Train the parser on landmark-drawn masks of the training subjects of ``datasets``
    (:func:`split_rows`), measure IoU on the held-out subjects, save weights and card."""
    cfg = dict(DEFAULT_CONFIG)
    size, channels, classes = cfg["size"], cfg["channels"], cfg["classes"]
    train_rows, held_rows = split_rows(datasets)
    for d in datasets:  # each row learns its crop size: masks are drawn in that crop's pixels
        for r in d.rows:
            r["size"] = d.size
    # equal weight per dataset: the smaller sets are repeated up to the largest one (at most 4x)
    by_set: dict[str, list[dict]] = {}
    for r in train_rows:
        by_set.setdefault(r["dataset"], []).append(r)
    biggest = max(len(v) for v in by_set.values())
    weighted = []
    for name, rs in by_set.items():
        rep = max(1, min(4, round(biggest / len(rs))))
        weighted += rs * rep
        logger.info("parser: %s: %d training crops x %d", name, len(rs), rep)
    t0 = time.monotonic()
    x = torch.cat([load_crops(weighted, size, channels), soft_targets(weighted, size, classes)], 1)
    logger.info("parser: %d training samples (%d subjects held out, %d crops) loaded in %.0f s",
                x.shape[0], len({r["subject"] for r in held_rows}), len(held_rows), time.monotonic() - t0)
    net = build_parser(cfg)
    n_params = sum(p.numel() for p in net.parameters())

    def loss_fn(m: nn.Module, xb: torch.Tensor, _y: torch.Tensor) -> torch.Tensor:
        return parsing_loss(m(xb[:, :channels]), xb[:, channels:])

    res = fit(net, loss_fn, x, torch.zeros(x.shape[0]), budget_s=max(1.0, budget_s - (time.monotonic() - t0) - 60),
              batch=24, lr=3e-3, weight_decay=1e-4, seed=seed, name="parser",
              augment=lambda xb, g: _augment(xb, g, channels))
    del x
    metrics: dict = {"steps": res.steps, "train_seconds": round(res.seconds), "params": n_params}
    pred = predict(net, load_crops(held_rows, EVAL_SIZE, channels), batch=64, fn=lambda n, xb: n(xb).argmax(1))
    true = label_maps(held_rows, EVAL_SIZE)
    metrics.update(iou_scores(pred, true))
    metrics["per_dataset_miou"] = {}
    for d in datasets:
        idx = [i for i, r in enumerate(held_rows) if r["dataset"] == str(d.root)]
        if idx:
            metrics["per_dataset_miou"][d.meta.get("preset", d.root.name)] = iou_scores(pred[idx], true[idx])["miou"]
    logger.info("parser: held-out mean IoU %.3f (parts %.3f)", metrics["miou"], metrics["miou_parts"])
    names = [d.meta.get("preset", d.root.name) for d in datasets]
    threads = os.environ.get("OMP_NUM_THREADS")  # changes the speed, so the steps in the budget
    command = (f"OMP_NUM_THREADS={threads} " if threads else "") + (command or "faceedit train-analysis parser ...")
    from faceedit.data import DATA_LICENSES

    save_analysis(out, net, kind=kind, config=cfg, labels=CLASSES, image_size=size, channels=channels,
                  training_data=", ".join(sorted(set(names))),
                  license="; ".join(DATA_LICENSES.get(n, n) for n in sorted(set(names))),
                  metrics=metrics, extra={"labels_from": "68 landmarks (faceedit.faces.parsing)"})
    write_card(
        out, title="face parser (compact U-Net, landmark-drawn labels)",
        what=(
            "Per-pixel classes " + ", ".join(f"`{c}`" for c in CLASSES) + " of an aligned face crop "
            "(any size, grey or colour, [-1, 1]; works on luma at 64 px). A stand-in for the "
            "Helen-trained U-Net parser of LSSL and SeCGAN: its training labels are **not hand-drawn**; "
            "they are the masks `faceedit.faces.parsing.parse_from_landmarks` draws from each crop's "
            "68 dlib landmarks (skin = jaw + brows + a forehead estimate; hair and everything outside "
            "it = background). Load it with `faceedit.analysis.parser.load_parser()`, soft masks with "
            "`parse(x)`."
        ),
        command=command, data=names,
        budget={"budget_s": budget_s, "steps": res.steps, "train_seconds": round(res.seconds),
                "batch": 24, "seed": seed},
        metrics=metrics,
        notes=(
            "IoU is measured on the held-out subjects' crops at 128 px **against landmark-drawn masks**, "
            "so it says how well the network reproduces the landmark geometry from pixels, not how well it "
            "would score on hand-labelled data. `iou` pools pixels over all held-out crops (Extended Yale B "
            "dominates them); `per_dataset_miou` gives each set separately. Training augmentation: the same "
            "random similarity (shift 5 %, scale 8 %, rotation 8 degrees) and horizontal flip (left/right "
            "classes swapped) for image and mask; brightness, contrast and gamma jitter of the image. "
            "Known limits: the forehead/hair boundary is a geometric guess; glasses, hands and hair over the "
            "face are labelled as what the landmarks say lies beneath."
        ),
    )
    return metrics
