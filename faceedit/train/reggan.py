"""RegGAN training in the paper's two stages (section III, implementation details in IV-B/C).

Stage 1, ``fit_expression_layer``: one expression layer per (neutral -> target) pair, solved in
closed form (eq. 6) from paired images, optionally after ``augment_colours`` (IV-C).

Stage 2, ``train_refiner``: the shared refinement network ``G_R`` learns to map the expression
layers' outputs ``x_E`` to the real target images, against three PatchGAN discriminators on a
3-scale pyramid with the hinge loss (eq. 15) and the generator loss of eq. 10:
``100 pix + 1 adv + 10 fm + 1 per`` (weights configurable via ``RefinerLossWeights``).

Reading of the paper's equations where their text is loose:

* Eq. 5 writes the ridge penalty as ``lambda/2 (|w|^2 + b^2)`` but eq. 6, its stated minimiser,
  corresponds to ``lambda (|w|^2 + b^2)``; we solve eq. 6 exactly (the bias is regularised too).
* Eq. 11's ``|.|_1`` is taken per element (mean absolute error), as in the paper it borrows the
  loss weights from (Chen et al. 2020, SPARNet); a per-image sum would make ``lambda_pix = 100``
  meaningless across image sizes. Eq. 13/14 already normalise by element counts.
* Eq. 15 writes the discriminator's fake term as ``D_k(x_E)``; the generator's adversarial loss
  (eq. 12) is on ``G_R(x_E)``, so the discriminators see ``G_R(x_E)`` as fake, as in any GAN.
* Feature matching (eq. 13) sums over all layers of each discriminator, score map included.
* The paper gives Adam's betas (0.5, 0.999) and batch size 1 but no learning rate; 2e-4 (the
  usual pix2pixHD/SPARNet value) is our default.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from PIL import Image

from faceedit.errors import CheckpointError, UsageError
from faceedit.files import atomic_path, write_file_atomically
from faceedit.models.checkpoint import load_training_state, save_training_state, upgrade_config
from faceedit.models.layers import MultiScaleDiscriminator
from faceedit.models.reggan import ExpressionLayer, RegGAN, build_reggan, pad_for_patches
from faceedit.pixels import RGB_TO_YCC, signed_to_uint8
from faceedit.train.losses import (
    PerceptualLoss,
    build_perceptual_loss,
    feature_matching_loss,
    hinge_discriminator_loss,
    hinge_generator_loss,
)

log = logging.getLogger("faceedit")

STATE_FILE = "reggan_refiner_state.safetensors"
LOG_FILE = "log.jsonl"
SAMPLES_DIR = "samples"

# ----------------------------------------------------------------------------------------------
# Stage 1: expression layers
# ----------------------------------------------------------------------------------------------

# Samples per accumulation chunk are chosen so that a chunk holds about this many values
# (8 MiB of float64): large enough to vectorise, small enough to stay in cache.
_CHUNK_VALUES = 1 << 20


def fit_expression_layer(
    src: torch.Tensor, dst: torch.Tensor, r: int = 5, lam: float = 1.0
) -> ExpressionLayer:
    """Fit ``G_E`` for one expression pair by per-pixel ridge regression (eq. 4-6).

    ``src`` (neutral) and ``dst`` (target) are paired images (N, C, S, S) in [-1, 1]. For every
    channel ``c`` and pixel ``p``, ``[w_p; b_p]`` solves
    ``(A_p^T A_p + lam I) [w_p; b_p] = A_p^T t_p`` with ``A_p = [X_p 1]`` the N x (r^2 + 1)
    design matrix of replicate-padded r x r patches of channel ``c`` around ``p`` plus a column of
    ones (eq. 6). The paper does not give ``lambda_Reg``; ``lam=1`` keeps every system well
    conditioned (also where all training patches are constant) while barely biasing a fit from
    hundreds of pairs.

    The normal equations are accumulated without materialising patches: entry ``(a, b)`` of
    ``X_p^T X_p`` is ``sum_n P_n(p + o_a) P_n(p + o_b)`` for patch offsets ``o_a, o_b``, which
    only depends on ``o_b - o_a``, so one product image per relative offset (41 for r = 5, not
    325 entry pairs) serves all pixels. Everything runs in float64, over chunks of samples, and
    the (r^2+1)-square systems are solved by batched Cholesky: float32 sums are twice as fast but
    make the systems indefinite by rounding when ``lam`` is small and neighbouring pixels are
    strongly correlated, as they are in faces.
    """
    if (
        src.shape != dst.shape
        or src.dim() != 4
        or src.shape[-1] != src.shape[-2]
        or src.shape[0] < 1
    ):
        raise ValueError(
            "src and dst must be equal-shaped (N, C, S, S), "
            f"got {tuple(src.shape)} and {tuple(dst.shape)}"
        )
    if lam <= 0:
        raise ValueError(f"the ridge parameter must be positive, got {lam}")
    if r < 1 or r % 2 == 0:
        raise ValueError(f"receptive field r must be odd and positive, got {r}")
    n, channels, size, _ = src.shape
    k = r * r
    padded_size = size + 2 * (r // 2)
    f64 = {"dtype": torch.float64, "device": src.device}

    # Relative offsets d = o_b - o_a for a <= b in row-major patch order:
    # dy > 0, or dy == 0 and dx >= 0.
    offsets = [(dy, dx) for dy in range(r) for dx in range(-(r - 1), r) if dy > 0 or dx >= 0]
    # Sums over samples n of: P(u) P(u + d) for each offset d; P(p + o_a) T(p); P(u); T(p).
    products = torch.zeros(len(offsets), channels, padded_size, padded_size, **f64)
    cross = torch.zeros(k, channels, size, size, **f64)
    src_sum = torch.zeros(channels, padded_size, padded_size, **f64)
    dst_sum = torch.zeros(channels, size, size, **f64)

    chunk = max(1, _CHUNK_VALUES // (channels * padded_size * padded_size))
    for start in range(0, n, chunk):
        p = pad_for_patches(src[start : start + chunk].double(), r)
        t = dst[start : start + chunk].double()
        for i, (dy, dx) in enumerate(offsets):
            x0, x1 = max(0, -dx), padded_size - max(0, dx)
            a = p[:, :, : padded_size - dy, x0:x1]
            b = p[:, :, dy:, x0 + dx : x1 + dx]
            products[i, :, : padded_size - dy, x0:x1] += (a * b).sum(0)
        for i in range(k):
            oy, ox = divmod(i, r)
            cross[i] += (p[:, :, oy : oy + size, ox : ox + size] * t).sum(0)
        src_sum += p.sum(0)
        dst_sum += t.sum(0)

    index = {d: i for i, d in enumerate(offsets)}
    weight = torch.empty(channels, size, size, k, dtype=torch.float32, device=src.device)
    bias = torch.empty(channels, size, size, dtype=torch.float32, device=src.device)
    for c in range(channels):  # one channel at a time bounds memory: S*S systems of (k+1)^2 float64
        system = torch.empty(size, size, k + 1, k + 1, **f64)
        for a in range(k):
            ay, ax = divmod(a, r)
            for b in range(a, k):
                by, bx = divmod(b, r)
                value = products[index[(by - ay, bx - ax)], c, ay : ay + size, ax : ax + size]
                system[..., a, b] = value
                system[..., b, a] = value
            system[..., a, k] = system[..., k, a] = src_sum[c, ay : ay + size, ax : ax + size]
        system[..., k, k] = n
        system.diagonal(dim1=-2, dim2=-1).add_(lam)
        rhs = torch.cat([cross[:, c].permute(1, 2, 0), dst_sum[c, ..., None]], dim=-1)
        solution = torch.cholesky_solve(rhs.unsqueeze(-1), torch.linalg.cholesky(system)).squeeze(
            -1
        )
        weight[c] = solution[..., :k]
        bias[c] = solution[..., k]
    return ExpressionLayer.from_tensors(weight, bias)


# BT.601 RGB -> (Y, Cb, Cr) without offsets: luma and two roughly decorrelated chroma axes.
_RGB_TO_YCC = torch.as_tensor(RGB_TO_YCC, dtype=torch.float32)

# Bounds on the per-channel contrast change, so that a near-constant channel (e.g. the chroma of
# an almost grey image) is not amplified into noise.
_MIN_SCALE, _MAX_SCALE = 0.5, 2.0


def _colour_matrix(channels: int, inverse: bool = False) -> torch.Tensor:
    """RGB -> YCbCr (or back) for 3 channels; identity for 1 (luminance already)."""
    if channels == 1:
        return torch.eye(1)
    return torch.linalg.inv(_RGB_TO_YCC) if inverse else _RGB_TO_YCC


def augment_colours(
    src: torch.Tensor,
    dst: torch.Tensor,
    copies: int = 10,
    *,
    references: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Colour augmentation of image pairs (section IV-C): the originals followed by ``copies``
    recoloured versions of every pair (paper: ten), shape ((copies + 1) N, C, S, S) each.

    The paper recolours each pair with ReHistoGAN to another image's colour distribution, which
    keeps shape and geometry and simulates other skin tones. That pre-trained model is not
    available here; we approximate it with a global colour transfer (Reinhard et al. 2001, in
    YCbCr instead of l-alpha-beta): for each copy a random reference image is drawn (from
    ``references``; by default another pair's neutral image) and the neutral image's per-channel
    mean and standard deviation in (Y, Cb, Cr) are mapped onto the reference's (contrast change
    bounded to [0.5, 2]). That one affine colour map is applied to *both* images of the pair:
    no pixel moves, the pair stays consistent, skin tone and brightness change. On
    single-channel images it varies brightness and contrast. Results are clamped to [-1, 1].
    (Per-channel histogram matching, tried first, posterised skin into unnatural patches.)
    """
    if src.shape != dst.shape:
        raise ValueError(
            f"src and dst must have equal shapes, got {tuple(src.shape)} and {tuple(dst.shape)}"
        )
    n, channels = src.shape[:2]
    forward = _colour_matrix(channels).to(src)
    backward = _colour_matrix(channels, inverse=True).to(src)
    src_ycc = torch.einsum("ij,njhw->nihw", forward, src)
    dst_ycc = torch.einsum("ij,njhw->nihw", forward, dst)
    mean, std = src_ycc.mean((2, 3), keepdim=True), src_ycc.std((2, 3), keepdim=True)
    if references is None:
        ref_mean, ref_std = mean, std
    else:
        ref_ycc = torch.einsum("ij,njhw->nihw", forward, references.to(src))
        ref_mean, ref_std = ref_ycc.mean((2, 3), keepdim=True), ref_ycc.std((2, 3), keepdim=True)

    out_src, out_dst = [src], [dst]
    for _ in range(copies):
        if references is None and n > 1:  # another pair's neutral image, never the pair's own
            choice = (torch.arange(n) + torch.randint(1, n, (n,), generator=generator)) % n
        else:
            choice = torch.randint(ref_mean.shape[0], (n,), generator=generator)
        choice = choice.to(src.device)
        scale = (ref_std[choice] / std.clamp_min(1e-6)).clamp(_MIN_SCALE, _MAX_SCALE)
        shift = ref_mean[choice] - scale * mean
        for images, out in ((src_ycc, out_src), (dst_ycc, out_dst)):
            out.append(torch.einsum("ij,njhw->nihw", backward, scale * images + shift).clamp(-1, 1))
    return torch.cat(out_src), torch.cat(out_dst)


# ----------------------------------------------------------------------------------------------
# Stage 2: refinement network
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefinerLossWeights:
    """Weights of eq. 10 (paper IV-B: 100, 1, 10, 1)."""

    pix: float = 100.0
    adv: float = 1.0
    fm: float = 10.0
    per: float = 1.0


DEFAULT_DISCRIMINATOR: dict[str, Any] = {
    "channels": 64,
    "n_layers": 3,
    "max_channels": 512,
    "norm": "instance",
}
"""Each of the three discriminators (the paper follows pix2pixHD, whose sizes these are)."""


@dataclass
class RefinerTrainResult:
    """``step``: steps done in total; ``stop_reason``: reached ``steps`` or ran out of budget;
    ``losses``: mean losses over the last logging window (empty if no step ran)."""

    step: int
    stop_reason: Literal["steps", "budget"]
    losses: dict[str, float]


def _refiner_dataset(
    model: RegGAN,
    pairs_by_target: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """All pairs as (x_E, target) on the CPU, ``x_E`` computed once by the frozen expression
    layers."""
    inputs, targets = [], []
    for target, (src, dst) in pairs_by_target.items():
        model.check_target(target)
        expected = (model.channels, model.size, model.size)
        if src.shape != dst.shape or tuple(src.shape[1:]) != expected:
            raise ValueError(
                f"pairs for {target!r} must both be (N, {', '.join(map(str, expected))})"
            )
        with torch.no_grad():
            inputs += [
                model.expression_output(batch.to(device), target).cpu() for batch in src.split(64)
            ]
        targets.append(dst.float().cpu())
    if not inputs:
        raise ValueError("no training pairs")
    return torch.cat(inputs), torch.cat(targets)


def _save_samples(
    path: Path, refiner: torch.nn.Module, x_e: torch.Tensor, target: torch.Tensor
) -> None:
    """A PNG with one row per sample: x_E | G_R(x_E) | target."""
    was_training = refiner.training
    refiner.eval()
    with torch.no_grad():
        rows = torch.cat([x_e, refiner(x_e), target], dim=-1)
    refiner.train(was_training)
    grid = torch.cat(list(rows), dim=-2)  # (C, rows * S, 3 S)
    pixels = signed_to_uint8(grid).permute(1, 2, 0).contiguous().cpu().numpy()
    with atomic_path(path) as tmp:
        Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(tmp, format="PNG")


def train_refiner(
    model: RegGAN,
    pairs_by_target: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
    *,
    steps: int,
    batch_size: int = 1,
    lr: float = 2e-4,
    betas: tuple[float, float] = (0.5, 0.999),
    device: str | torch.device = "cpu",
    log_every: int = 50,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int = 500,
    resume: bool = False,
    budget_minutes: float | None = None,
    sample_every: int = 0,
    seed: int = 0,
    loss_weights: RefinerLossWeights = RefinerLossWeights(),
    perceptual_weights: str | os.PathLike | None = None,
    discriminator: Mapping[str, Any] | None = None,
    state_extra: Mapping[str, Any] | None = None,
) -> RefinerTrainResult:
    """Train ``model.refiner`` (stage 2) on the outputs of ``model``'s expression layers.

    ``pairs_by_target`` maps each target (which must have an expression layer) to paired
    ``(neutral, target)`` images (N, C, S, S) in [-1, 1]; ``x_E`` is computed once. Each step
    draws ``batch_size`` pairs uniformly (seeded by ``seed``), updates ``G_R`` with eq. 10 and the
    discriminators with eq. 15, both by Adam(``lr``, ``betas``). The perceptual term needs VGG-19
    weights (``perceptual_weights``, see ``faceedit.train.losses``); without them it is off and a
    warning is logged. ``discriminator`` overrides ``DEFAULT_DISCRIMINATOR``.

    With ``checkpoint_dir``: the full training state (model, discriminators, optimisers, sampler
    RNG, step) is saved there every ``checkpoint_every`` steps and at the end; mean losses are
    appended to ``log.jsonl`` every ``log_every`` steps; every ``sample_every`` steps (0 = never)
    a PNG of four training samples goes to ``samples/``. ``resume=True`` continues from the saved
    state (dropping log lines written after it), so an interrupted run ends where an
    uninterrupted one would. ``steps`` is the total step count, resumed steps included;
    ``budget_minutes`` stops earlier (and saves) once that much wall time has passed in this call.
    ``model`` is moved to ``device`` and trained in place. ``state_extra`` (JSON-like) is saved
    with the training state.
    """
    if steps < 0 or batch_size < 1 or log_every < 1 or checkpoint_every < 1 or sample_every < 0:
        raise ValueError(
            "steps >= 0, batch_size >= 1, log_every >= 1, checkpoint_every >= 1, sample_every >= 0"
        )
    if checkpoint_dir is None and (resume or sample_every):
        raise ValueError("resume and sample_every need a checkpoint_dir")
    device = torch.device(device)
    model.to(device)

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        disc = MultiScaleDiscriminator(
            model.channels, 3, **{**DEFAULT_DISCRIMINATOR, **(discriminator or {})}
        )
    disc.to(device).train()
    model.refiner.train()
    opt_g = torch.optim.Adam(model.refiner.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(disc.parameters(), lr=lr, betas=betas)
    perceptual = build_perceptual_loss(perceptual_weights) if loss_weights.per else None
    if perceptual is not None:
        perceptual.to(device)
    sampler = torch.Generator().manual_seed(seed)

    folder = Path(checkpoint_dir) if checkpoint_dir is not None else None
    step = 0
    if folder is not None and resume and (folder / STATE_FILE).is_file():
        state = load_training_state(folder / STATE_FILE, device=device)
        if upgrade_config("reggan", state.extra.get("config") or {}) != model.config:
            raise CheckpointError("training state belongs to a different RegGAN config", state.path)
        model.load_state_dict(state.model_state["model"])
        disc.load_state_dict(state.model_state["discriminator"])
        opt_g.load_state_dict(state.optimizer_state_dicts["refiner"])
        opt_d.load_state_dict(state.optimizer_state_dicts["discriminator"])
        sampler.set_state(state.extra["sampler_rng"].cpu())
        step = state.step
        log.info("resumed RegGAN refiner training at step %d from %s", step, state.path)
    if folder is not None:
        _start_log(folder / LOG_FILE, keep_through_step=step if resume else None)
    x_e, targets = _refiner_dataset(model, pairs_by_target, device)  # after a resume's weights

    def save() -> None:
        save_training_state(
            folder / STATE_FILE,
            {"model": model.state_dict(), "discriminator": disc.state_dict()},
            {"refiner": opt_g.state_dict(), "discriminator": opt_d.state_dict()},
            step,
            {**(state_extra or {}), "sampler_rng": sampler.get_state(), "config": model.config,
             "seed": seed},
        )

    started = time.monotonic()
    window: list[dict[str, float]] = []  # losses of the steps since the last log record
    losses: dict[str, float] = {}

    def flush_log() -> None:
        nonlocal losses
        losses = {key: sum(values[key] for values in window) / len(window) for key in window[0]}
        record = {"step": step, "time_s": round(time.monotonic() - started, 3), **losses}
        log.info("reggan refiner %s", json.dumps(record))
        if folder is not None:
            with open(folder / LOG_FILE, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        window.clear()

    fixed = torch.arange(min(4, len(x_e)))
    saved_step = step
    stop_reason: Literal["steps", "budget"] = "steps"
    while step < steps:
        if budget_minutes is not None and time.monotonic() - started > 60 * budget_minutes:
            stop_reason = "budget"
            log.info(
                "RegGAN refiner training stopped by its %g-minute budget at step %d",
                budget_minutes,
                step,
            )
            break
        batch = torch.randint(len(x_e), (batch_size,), generator=sampler)
        x, t = x_e[batch].to(device), targets[batch].to(device)
        window.append(
            _refiner_step(model.refiner, disc, opt_g, opt_d, x, t, loss_weights, perceptual)
        )
        step += 1
        if step % log_every == 0:
            flush_log()
        if folder is not None and step % checkpoint_every == 0:
            save()
            saved_step = step
        if sample_every and step % sample_every == 0:
            sample_path = folder / SAMPLES_DIR / f"step_{step:07d}.png"
            _save_samples(
                sample_path, model.refiner, x_e[fixed].to(device), targets[fixed].to(device)
            )
    if window:
        flush_log()
    if folder is not None and step != saved_step:
        save()
    return RefinerTrainResult(step=step, stop_reason=stop_reason, losses=losses)


def _start_log(path: Path, keep_through_step: int | None) -> None:
    """Start ``log.jsonl``: empty for a fresh run; for a resumed one, keep the records up to the
    resumed step and drop those a crashed run wrote after its last checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = []
    if keep_through_step is not None and path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                if json.loads(line)["step"] <= keep_through_step:
                    kept.append(line + "\n")
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line from a crash
    write_file_atomically(path, "".join(kept))


def _refiner_step(
    refiner: torch.nn.Module,
    disc: MultiScaleDiscriminator,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    x_e: torch.Tensor,
    target: torch.Tensor,
    weights: RefinerLossWeights,
    perceptual: PerceptualLoss | None,
) -> dict[str, float]:
    """One update of G_R (eq. 10) and of the discriminators (eq. 15) on the same fake batch."""
    fake = refiner(x_e)
    real_out = disc(target)
    loss_d = hinge_discriminator_loss(
        [f[-1] for f in real_out], [f[-1] for f in disc(fake.detach())]
    )

    disc.requires_grad_(False)  # the generator's loss must not leave gradients in D
    fake_out = disc(fake)
    disc.requires_grad_(True)
    terms = {
        "pix": F.l1_loss(fake, target),
        "adv": hinge_generator_loss([f[-1] for f in fake_out]),
        "fm": feature_matching_loss(fake_out, real_out),
    }
    if perceptual is not None:
        terms["per"] = perceptual(fake, target)
    factors = asdict(weights)
    loss_g = torch.stack([factors[name] * value for name, value in terms.items()]).sum()

    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    return {
        "loss_g": loss_g.item(),
        **{name: value.item() for name, value in terms.items()},
        "loss_d": loss_d.item(),
    }


# ----------------------------------------------------------------------------------------------
# The recipe: prepared datasets -> both stages -> held-out metrics -> exported checkpoint
# ----------------------------------------------------------------------------------------------


def fit_change_layer(src: torch.Tensor, dst: torch.Tensor, r: int = 5, lam: float = 100.0
                     ) -> ExpressionLayer:
    """Eq. 6 solved for the *change* ``dst - src``, then the identity added back.

    The same family of per-pixel affine maps as ``fit_expression_layer`` (``w = w' + e_centre``),
    but the ridge penalty now pulls each regressor towards "leave the pixel as it is" instead of
    towards "output black", which is what eq. 6 does literally. With the few subjects of the
    shared data this matters: on London held-out ids, face-region L1 to the real smile was
    9.76 (change, lambda 100) vs 9.88 (eq. 6 as is, its best lambda) vs 10.0 for no edit, and
    hair/background stay sharp instead of blurring (whole-crop L1 10.9 vs 11.3).
    """
    layer = fit_expression_layer(src, dst - src, r, lam)
    centre = (r // 2) * r + r // 2
    with torch.no_grad():
        layer.weight[..., centre] += 1.0
    return layer


def _stack(rows: list[dict], channels: int, size: int | None = None) -> torch.Tensor:
    from faceedit.train.data import load_crop

    if not rows:
        return torch.zeros(0, channels, size or 0, size or 0)
    t = torch.stack([load_crop(r, channels) for r in rows])
    if size and size != t.shape[-1]:
        t = F.interpolate(t, size=(size, size), mode="area")
    return t


def regression_metrics(model: RegGAN, pairs_by_target: Mapping[str, tuple[torch.Tensor, torch.Tensor]],
                       device: str | torch.device = "cpu") -> dict[str, dict[str, float]]:
    """L1 (grey levels) and SSIM to the real target photo, per target, of the neutral input, of
    the expression layer's output and of the refined output (held-out pairs)."""
    from faceedit.eval.metrics import l1, ssim

    model.eval().to(device)
    out: dict[str, dict[str, float]] = {}
    for target, (src, dst) in pairs_by_target.items():
        sums: dict[str, float] = {}
        for s, d in zip(src.split(16), dst.split(16)):
            s, d = s.to(device), d.to(device)
            with torch.no_grad():
                x_e = model.expression_output(s, target)
                outputs = {"input": s, "expression": x_e, "refined": model.refiner(x_e)}
            for name, img in outputs.items():
                sums[f"l1_{name}"] = sums.get(f"l1_{name}", 0.0) + float(l1(img, d).sum())
                sums[f"ssim_{name}"] = sums.get(f"ssim_{name}", 0.0) + float(ssim(img, d).sum())
        out[target] = {k: round(v / len(src), 4) for k, v in sums.items()} | {"pairs": len(src)}
    return out


def train_from_datasets(
    datasets: list[str | os.PathLike],
    run_dir: str | os.PathLike,
    *,
    config: Mapping[str, Any] | None = None,
    lam: float = 100.0,
    augment_copies: int = 10,
    holdout: float = 0.2,
    seed: int = 0,
    steps: int = 1_000_000,
    budget_minutes: float | None = None,
    batch_size: int = 4,
    lr: float = 2e-4,
    resume: bool = False,
    discriminator: Mapping[str, Any] | None = None,
    perceptual_weights: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
    sample_every: int = 200,
    checkpoint_every: int = 200,
    size: int | None = None,
    prior: str | None = None,
    init: str | os.PathLike | None = None,
) -> tuple[RegGAN, dict[str, Any]]:
    """Train RegGAN on prepared datasets (``faceedit prepare``) and report held-out metrics.

    ``size``: the model's crop size (default: the datasets'). ``prior``: a stage model (e.g.
    ``"stage"``) whose edit the network refines: every pair's source is the stage's edit of it
    with the real target's own geometry (:func:`faceedit.train.prior.paired_inputs`), so the
    expression layers and the refiner learn the appearance the stage leaves. ``init``: a RegGAN
    checkpoint whose refiner ``G_R`` this run fine-tunes (stage 1 is always fitted afresh).

    Targets: every expression with (neutral, target) pairs in the data. A target with colour
    pairs gets an RGB expression layer fitted on those colour pairs only; a target with only
    greyscale pairs gets a luminance layer (see ``RegGAN.expression_output``). Subjects are
    split once, by a seeded hash, into training and held-out (``holdout`` fraction per dataset);
    held-out subjects are used for the metrics only. Stage 1 is closed-form and recomputed on
    resume (it is deterministic); stage 2 resumes from ``run_dir``. A resume must use the
    stage-1 settings the run started with (``lam``, ``augment_copies``, ``holdout``, ``seed``,
    kept in its training state): different ones are a UsageError naming them.
    """
    from faceedit.train.data import expression_pairs, holdout_subjects, open_dataset

    run = Path(run_dir)
    stage1 = {"lambda": lam, "augment_copies": augment_copies, "holdout": holdout, "seed": seed,
              "prior": prior}
    if resume and (run / STATE_FILE).is_file():
        started = load_training_state(run / STATE_FILE).extra.get("stage1")
        changed = [f"{k} {stage1[k]} (the run started with {started.get(k)})"
                   for k in stage1 if started is not None and started.get(k) != stage1[k]]
        if changed:
            raise UsageError(f"{run}: resuming RegGAN with other stage-1 settings: "
                             f"{', '.join(changed)}")
    run.mkdir(parents=True, exist_ok=True)
    sets = [open_dataset(p) for p in datasets]
    sizes = {d.size for d in sets}
    if len(sizes) != 1:
        raise ValueError(f"datasets have different crop sizes: {sorted(sizes)}")
    rows = [r for d in sets for r in d.rows]
    held: set[str] = set()
    for d in sets:
        held |= holdout_subjects({r["subject"] for r in d.rows}, holdout, seed)
    pairs = expression_pairs(rows)
    if not pairs:
        raise ValueError("no (neutral, target) pairs in the datasets")

    targets, luma = [], []
    chosen: dict[str, list[tuple[dict, dict]]] = {}
    for target in sorted(pairs):
        colour = [p for p in pairs[target] if not (p[0]["grey"] or p[1]["grey"])]
        chosen[target] = colour or pairs[target]
        targets.append(target)
        if not colour:
            luma.append(target)
    config = upgrade_config("reggan", dict(config or {}))  # a --set from before the rename
    size = int(size or config.get("image_size") or sizes.pop())
    stage = None
    if prior:
        from faceedit.train.prior import load_stage_prior, paired_inputs

        stage = load_stage_prior(prior)

    def sources(pairs: list[tuple[dict, dict]], ch: int) -> torch.Tensor:
        if stage is None:
            return _stack([p[0] for p in pairs], ch, size)
        return paired_inputs(stage, pairs, ch, size)

    model = build_reggan({**config, "image_size": size, "channels": 3,
                          "targets": targets, "luma_targets": luma})

    if init and not (resume and (run / STATE_FILE).is_file()):
        from faceedit.models.checkpoint import load_checkpoint

        ckpt = load_checkpoint(init)
        own = model.refiner.state_dict()
        found = {k[len("refiner."):]: v for k, v in ckpt.tensors.items() if k.startswith("refiner.")}
        fit = {k: v.to(own[k].dtype) for k, v in found.items() if k in own and own[k].shape == v.shape}
        if len(fit) != len(own):
            raise UsageError(f"--init {init}: its refiner does not fit this configuration "
                             f"({len(fit)} of {len(own)} tensors match; give the same --set options)")
        model.refiner.load_state_dict(fit)
        log.info("refiner initialised from %s", init)

    generator = torch.Generator().manual_seed(seed)
    train_pairs, test_pairs, counts = {}, {}, {}
    t0 = time.monotonic()
    for target in targets:
        ch = 1 if target in luma else 3
        train = [p for p in chosen[target] if p[1]["subject"] not in held]
        test = [p for p in chosen[target] if p[1]["subject"] in held]
        src, dst = sources(train, ch), _stack([p[1] for p in train], ch, size)
        a_src, a_dst = augment_colours(src, dst, augment_copies, generator=generator)
        model.set_expression_layer(target, fit_change_layer(a_src, a_dst, model.r, lam))
        # The refiner sees grey pairs as grey RGB; colour pairs with their colour-augmented
        # copies (which also keeps the colour photos, our main use, from being outnumbered).
        if ch == 1:
            train_pairs[target] = (src.expand(-1, 3, -1, -1).contiguous(),
                                   dst.expand(-1, 3, -1, -1).contiguous())
        else:
            train_pairs[target] = (a_src, a_dst)
        test_pairs[target] = (sources(test, 3), _stack([p[1] for p in test], 3, size))
        counts[target] = {"train_pairs": len(train), "augmented": len(a_src), "heldout_pairs": len(test),
                          "luma": ch == 1,
                          "train_subjects": len({p[1]["subject"] for p in train}),
                          "heldout_subjects": len({p[1]["subject"] for p in test})}
        log.info("stage 1: %s layer fitted on %d pairs (%d with colour augmentation)",
                 target, len(train), len(a_src))
    stage1_s = time.monotonic() - t0

    t0 = time.monotonic()
    result = train_refiner(
        model, train_pairs, steps=steps, batch_size=batch_size, lr=lr, device=device,
        checkpoint_dir=run, checkpoint_every=checkpoint_every, resume=resume,
        budget_minutes=budget_minutes, sample_every=sample_every, seed=seed,
        discriminator=discriminator, perceptual_weights=perceptual_weights,
        state_extra={"stage1": stage1},
    )
    stage2_s = time.monotonic() - t0
    metrics = regression_metrics(model, {t: p for t, p in test_pairs.items() if len(p[0])}, device)
    report = {
        "targets": targets,
        "luma_targets": luma,
        "pairs": counts,
        "heldout_subjects": sorted(held),
        "stage1_seconds": round(stage1_s, 1),
        "stage2_seconds_this_call": round(stage2_s, 1),
        "refiner_steps": result.step,
        "stop_reason": result.stop_reason,
        "final_losses": result.losses,
        "heldout": metrics,
        "lambda": lam,
        "augment_copies": augment_copies,
        "batch_size": batch_size,
        "seed": seed,
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "perceptual": perceptual_weights is not None,
        "prior": prior,
        "size": size,
    }
    write_file_atomically(run / "report.json", json.dumps(report, indent=1))
    return model, report


def train_and_export(datasets: list[str | os.PathLike], sets: list, run_dir: str | os.PathLike,
                     export: str | os.PathLike, *, batch_size: int = 4, device: torch.device,
                     command: str = "", **train) -> tuple[Path, str]:
    """:func:`train_from_datasets` (``train``: its keyword arguments), then the refiner exported
    as a registered-format checkpoint with its card (commands, data, budget, held-out metrics):
    ``faceedit train -m reggan``. ``sets``: the prepared data sets (``train.data.Dataset``) of
    ``datasets``. Returns (path, sha256)."""
    from faceedit.faces.types import CropTemplate
    from faceedit.train.export import export_model

    cfg = train.get("config") or {}
    net, report = train_from_datasets(datasets, run_dir, batch_size=batch_size, device=device,
                                      size=cfg.get("image_size", cfg.get("size")), **train)
    template = CropTemplate(**{**sets[0].meta["template"], "size": net.config["image_size"]})
    return export_model(
        net, export, arch="reggan", config=net.config,
        targets=net.targets(), template=template, datasets=[d.meta for d in sets],
        metrics=report["heldout"], command=command, method="RegGAN",
        budget={"device": str(device), "torch_threads": report["torch_threads"],
                "refiner_steps": report["refiner_steps"], "batch_size": batch_size,
                "stop_reason": report["stop_reason"],
                "stage1_seconds": report["stage1_seconds"],
                "stage2_seconds_last_call": report["stage2_seconds_this_call"]},
        extra={"luma_targets": report["luma_targets"],
               "heldout_subjects": report["heldout_subjects"],
               **({"prior": report["prior"]} if report["prior"] else {})},
    )
