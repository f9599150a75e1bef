"""What training the analysis networks shares: crops loaded into memory, the by-subject split,
light augmentation, and a seeded minibatch loop with a time or step budget.

The analysis data sets are small (a few thousand 128-px crops), so they live in memory as uint8
and batches are drawn from there; no data loader processes are needed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from faceedit.data import open_datasets, split_rows  # noqa: F401 (re-exported: the analysis trainers' split)
from faceedit.log import logger
from faceedit.pixels import levels_to_signed


def load_crops(rows: list[dict], size: int | None = None, channels: int = 3) -> torch.Tensor:
    """Crops of ``rows`` as a uint8 tensor (N, channels, S, S), resized to ``size`` if given."""
    from PIL import Image
    from pathlib import Path

    out = []
    for r in rows:
        with Image.open(Path(r["dataset"]) / r["file"]) as im:
            im = im.convert("L" if channels == 1 else "RGB")
            if size and im.size != (size, size):
                im = im.resize((size, size), Image.Resampling.BILINEAR)
            a = np.asarray(im, dtype=np.uint8)
        out.append(a[None] if channels == 1 else a.transpose(2, 0, 1))
    return torch.from_numpy(np.stack(out)) if out else torch.zeros(0, channels, size or 1, size or 1, dtype=torch.uint8)


def jitter(x: torch.Tensor, gen: torch.Generator, *, shift: float = 0.04, scale: float = 0.05,
           rotate: float = 5.0, flip: bool = True, photometric: float = 0.15) -> torch.Tensor:
    """Random small similarity jitter (the aligner's residual error), optional horizontal flip,
    brightness/contrast change. ``x`` float in [-1, 1]."""
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


@dataclass
class FitResult:
    steps: int
    seconds: float
    losses: list[float] = field(default_factory=list)


def fit(
    net: nn.Module,
    loss_fn: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    steps: int | None = None,
    budget_s: float | None = None,
    batch: int = 64,
    lr: float = 2e-3,
    weight_decay: float = 5e-4,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    seed: int = 0,
    log_every: int = 50,
    name: str = "fit",
) -> FitResult:
    """Train ``net`` with AdamW and a cosine learning-rate decay over ``steps`` (or, given only
    ``budget_s``, over an estimated step count, stopping when the time is spent). ``x`` uint8 or
    float crops, ``y`` targets indexed alongside; ``loss_fn(net, xb, yb)`` returns the loss."""
    if steps is None and budget_s is None:
        raise ValueError("give steps or budget_s")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    n = x.shape[0]
    total = steps or 10**9
    est_total = steps
    net.train()
    t0 = time.monotonic()
    res = FitResult(0, 0.0)
    step = 0
    while step < total:
        if budget_s is not None and time.monotonic() - t0 > budget_s:
            break
        if est_total is None and step == 20:  # estimate the schedule length from the first steps
            est_total = max(21, int(budget_s / ((time.monotonic() - t0) / 20)))
        frac = step / est_total if est_total else 0.0
        for g in opt.param_groups:
            g["lr"] = lr * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))
        idx = torch.randint(0, n, (min(batch, n),), generator=gen)
        xb = x[idx]
        xb = levels_to_signed(xb) if xb.dtype == torch.uint8 else xb.float()
        if augment is not None:
            xb = augment(xb, gen)
        loss = loss_fn(net, xb, y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        res.losses.append(loss.item())
        step += 1
        if log_every and step % log_every == 0:
            logger.info("%s step %d loss %.4f (%.0f s)", name, step,
                        float(np.mean(res.losses[-log_every:])), time.monotonic() - t0)
    net.eval()
    res.steps, res.seconds = step, time.monotonic() - t0
    return res


@torch.no_grad()
def predict(net: nn.Module, x: torch.Tensor, batch: int = 256, fn: Callable | None = None) -> torch.Tensor:
    """``net`` (or ``fn(net, xb)``) over ``x`` in batches, eval mode, concatenated."""
    net.eval()
    outs = []
    for i in range(0, x.shape[0], batch):
        xb = x[i : i + batch]
        xb = levels_to_signed(xb) if xb.dtype == torch.uint8 else xb.float()
        outs.append(fn(net, xb) if fn else net(xb))
    return torch.cat(outs) if outs else torch.zeros(0)
