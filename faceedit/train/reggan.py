"""RegGAN training in the paper's two stages (section III, implementation details in IV-B/C), a
trainer of the shared loop (:mod:`faceedit.train.loop`; ``faceedit train -m reggan``).

Data (:meth:`RegGANTrainer.load_data`): every (neutral, target) pair of the datasets by target
expression, split by subject as every trainer splits. With the loop's ``stage`` (the shipped one by
default) a pair's source is the stage's edit of the neutral crop with the real target's own
geometry (:func:`faceedit.train.stage_on_crops.paired_inputs`), so both stages learn the appearance the
stage leaves; ``--stage none``: the neutral crop itself.

Stage 1, ``fit_expression_layer``: one expression layer per (neutral -> target) pair, solved in
closed form (eq. 6, on the change: ``fit_change_layer``) from the training pairs after
``augment_colours`` (IV-C). It runs once, when a run starts (:meth:`RegGANTrainer.start`); the
layers are part of the run's state, so a resumed run continues with them and does not refit.

Stage 2, the loop's steps: the shared refinement network ``G_R`` learns to map the expression
layers' outputs ``x_E`` to the real target images, against three PatchGAN discriminators on a
3-scale pyramid with the hinge loss (eq. 15) and the generator loss of eq. 10:
``100 pix + 1 adv + 10 fm + 1 per``.

Config (``--set KEY=JSON``), beside the model's own (:class:`~faceedit.models.reggan.RegGANConfig`;
``image_size`` defaults to the datasets' crop size): ``lambda_reg`` (eq. 5-6's ridge lambda),
``augment_copies`` (recoloured copies per pair), ``lr``, ``betas``, the loss weights
``lambda_pix``, ``lambda_adv``, ``lambda_fm``, ``lambda_per`` (the perceptual term needs VGG-19
weights, ``--vgg19``), and each discriminator's ``d_channels``, ``d_n_layers``,
``d_max_channels``, ``d_norm``.

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

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from faceedit.data import Dataset, expression_pairs, holdout_subjects, load_crop
from faceedit.errors import UsageError
from faceedit.models.layers import MultiScaleDiscriminator
from faceedit.models.reggan import ExpressionLayer, RegGAN, RegGANConfig, build_reggan, pad_for_patches
from faceedit.pixels import RGB_TO_YCC
from faceedit.train.critic import adam
from faceedit.train.crops import CropSet, TrainData
from faceedit.train.loop import LoopConfig
from faceedit.train.losses import (
    build_perceptual_loss,
    feature_matching_loss,
    hinge_discriminator_loss,
    hinge_generator_loss,
)
from faceedit.train.trainer import MethodTrainer

log = logging.getLogger("faceedit")

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
    f64: dict[str, Any] = {"dtype": torch.float64, "device": src.device}

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
            p_a = p[:, :, : padded_size - dy, x0:x1]
            p_b = p[:, :, dy:, x0 + dx : x1 + dx]
            products[i, :, : padded_size - dy, x0:x1] += (p_a * p_b).sum(0)
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
    (Not per-channel histogram matching: it posterises skin into unnatural patches.)
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


def fit_change_layer(src: torch.Tensor, dst: torch.Tensor, r: int = 5, lam: float = 100.0
                     ) -> ExpressionLayer:
    """Eq. 6 solved for the *change* ``dst - src``, then the identity added back.

    The same family of per-pixel affine maps as ``fit_expression_layer`` (``w = w' + e_centre``),
    but the ridge penalty now pulls each regressor towards "leave the pixel as it is" instead of
    towards "output black", which is what eq. 6 does literally. With the few subjects of the
    shared data this matters: held-out faces end closer to the real smile and hair and background
    stay sharp instead of blurring (the comparison is in ``weights/reggan.md``, "Expression layers
    fitted on the change").
    """
    layer = fit_expression_layer(src, dst - src, r, lam)
    centre = (r // 2) * r + r // 2
    with torch.no_grad():
        layer.weight[..., centre] += 1.0
    return layer


# ----------------------------------------------------------------------------------------------
# Both stages on the shared loop
# ----------------------------------------------------------------------------------------------


DEFAULT_DISCRIMINATOR: dict[str, Any] = {
    "channels": 64,
    "n_layers": 3,
    "max_channels": 512,
    "norm": "instance",
}
"""Each of the three discriminators (the paper follows pix2pixHD, whose sizes these are); the
trainer's config keys are these names with ``d_`` in front."""


@dataclass
class PairData(TrainData):
    """Training data of (source, target) pairs: the sets' images are the sources, their field
    ``target`` the real target photos, their label ``expression`` the target's index in
    ``vocab["targets"]``. ``luma``: the targets with a luminance layer (greyscale pairs only);
    ``fit_pairs``: what stage 1 fits a luminance layer on (1-channel, colour-augmented; a colour
    layer is fitted on its training pairs); ``stage``: the stage the sources were edited by
    (None: unedited); ``pairs``: counts per target, for the model card."""

    luma: list[str] = field(default_factory=list)
    fit_pairs: dict[str, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict)
    stage: str | None = None
    pairs: dict[str, dict] = field(default_factory=dict)


class RegGANTrainer(MethodTrainer):
    """RegGAN on the shared loop: pairs as data, stage 1 in :meth:`start`, stage 2 as the steps
    (see the module docstring)."""

    method = "RegGAN"
    arch = "reggan"
    label_keys = ("expression",)
    needs_labels = ("expression",)
    needs_pairs = True
    data: PairData  # what load_data gives
    config_class = RegGANConfig
    default_batch_size = 4
    default_config: dict[str, Any] = {
        **{k: v for k, v in RegGANConfig.defaults().items() if k not in ("targets", "luma_targets")},
        "image_size": None,  # None: the datasets' crop size
        "lr": 2e-4,
        "betas": [0.5, 0.999],
        "lambda_reg": 100.0,  # ridge of the expression layers (fit_change_layer)
        "augment_copies": 10,  # paper: ten
        "lambda_pix": 100.0,  # eq. 10 (paper IV-B: 100, 1, 10, 1)
        "lambda_adv": 1.0,
        "lambda_fm": 10.0,
        "lambda_per": 1.0,
        **{f"d_{k}": v for k, v in DEFAULT_DISCRIMINATOR.items()},
    }

    # ---- data and stage 1 ------------------------------------------------------------------------
    @classmethod
    def load_data(cls, datasets: list[Dataset], cfg: LoopConfig, config: dict,
                  vocab: dict[str, list[str]] | None) -> PairData:
        """Every (neutral, target) pair by target expression, split by subject (``cfg.holdout``,
        ``cfg.seed``; held-out pairs are for the metrics and samples only). A target with colour
        pairs uses those only and gets an RGB layer; a target with greyscale pairs only gets a
        luminance layer (see ``RegGAN.expression_output``). The refiner trains on the colour
        pairs with their ``augment_copies`` recoloured copies (which also keeps the colour
        photos, our main use, from being outnumbered) and on greyscale pairs as grey RGB."""
        size = int(config.get("image_size") or datasets[0].size)
        held: set[str] = set()
        for d in datasets:
            held |= holdout_subjects({r["subject"] for r in d.rows}, cfg.holdout, cfg.seed)
        pairs = expression_pairs([r for d in datasets for r in d.rows])
        stage = None
        if cfg.stage:
            from faceedit.train.stage_on_crops import load_stage

            stage = load_stage(cfg.stage)
        targets = sorted(pairs)
        generator = torch.Generator().manual_seed(cfg.seed)
        train, test, luma, fit_pairs, counts = [], [], [], {}, {}
        for i, target in enumerate(targets):
            colour = [p for p in pairs[target] if not (p[0]["grey"] or p[1]["grey"])]
            ch = 3 if colour else 1
            chosen = colour or pairs[target]
            train_pairs = [p for p in chosen if p[1]["subject"] not in held]
            test_pairs = [p for p in chosen if p[1]["subject"] in held]
            if not train_pairs:
                raise UsageError(f"no training pairs for {target!r}: all its subjects are held out; "
                                 "add data or lower the held-out fraction")
            src, dst = _sources(stage, train_pairs, ch, size), _stack([p[1] for p in train_pairs], ch, size)
            a_src, a_dst = augment_colours(src, dst, int(config["augment_copies"]), generator=generator)
            if ch == 1:
                luma.append(target)
                fit_pairs[target] = (a_src, a_dst)
                train.append((src.expand(-1, 3, -1, -1), dst.expand(-1, 3, -1, -1), i))
            else:
                train.append((a_src, a_dst, i))
            test.append((_sources(stage, test_pairs, 3, size), _stack([p[1] for p in test_pairs], 3, size), i))
            counts[target] = {"train_pairs": len(train_pairs), "augmented": len(a_src),
                              "heldout_pairs": len(test_pairs), "luma": ch == 1,
                              "train_subjects": len({p[1]["subject"] for p in train_pairs}),
                              "heldout_subjects": len({p[1]["subject"] for p in test_pairs})}
        train_set, held_set = _pair_set(train), _pair_set(test)
        held_set.offset = len(train_set)
        # (the targets are no label vocabulary: the sources' "neutral" is none of them)
        return PairData(list(datasets), size, 3, {"targets": targets}, train_set, held_set,
                        sorted(held), luma=luma, fit_pairs=fit_pairs, stage=cfg.stage, pairs=counts)

    def build(self) -> None:
        c = self.config
        own = set(RegGANConfig.keys()) - {"image_size", "channels", "targets", "luma_targets"}
        self.model = build_reggan({**{k: c[k] for k in own}, "image_size": self.data.size, "channels": 3,
                                   "targets": self.data.vocab["targets"], "luma_targets": self.data.luma})
        disc = MultiScaleDiscriminator(3, 3, channels=int(c["d_channels"]), n_layers=int(c["d_n_layers"]),
                                       max_channels=int(c["d_max_channels"]), norm=c["d_norm"])
        # "E": the expression layers (buffers, no gradient), in the state with the networks
        self.nets = {"G": self.model.refiner, "D": disc, "E": self.model.expression}
        self.opts = {k: adam(self.nets[k], c["lr"], c["betas"]) for k in ("G", "D")}
        self.perceptual = build_perceptual_loss(self.options.get("vgg19")) if float(c["lambda_per"]) else None
        if self.perceptual is not None:
            self.perceptual.to(self.device)
        self.stage_name = self.data.stage

    def start(self) -> None:
        """Stage 1: every target's expression layer in closed form from its training pairs
        (colour-augmented), with the ridge ``lambda_reg``."""
        t0 = time.monotonic()
        train = self.data.train
        for i, target in enumerate(self.data.vocab["targets"]):
            rows = train.labels["expression"] == i
            src, dst = self.data.fit_pairs.get(target) or (train.images[rows], train.fields["target"][rows])
            layer = fit_change_layer(src, dst, self.model.r, float(self.config["lambda_reg"]))
            self.model.set_expression_layer(target, layer.to(self.device))
            log.info("stage 1: %s layer fitted on %d pairs (with colour augmentation)", target, len(src))
        self.data.fit_pairs.clear()
        log.info("stage 1: %d expression layers in %.0f s", len(self.data.vocab["targets"]),
                 time.monotonic() - t0)

    # ---- stage 2 ---------------------------------------------------------------------------------
    def expression_outputs(self, x: torch.Tensor, expr: torch.Tensor) -> torch.Tensor:
        """``x_E``: each crop of ``x`` through the expression layer of its target index ``expr``."""
        out = torch.empty_like(x)
        for i in expr.unique().tolist():
            rows = expr == i
            out[rows] = self.model.expression_output(x[rows], self.data.vocab["targets"][i])
        return out

    def train_step(self, batch: dict[str, Any], step: int) -> dict[str, float]:
        """One update of G_R (eq. 10) and of the discriminators (eq. 15) on the same fake batch."""
        c = self.config
        G, D = self.nets["G"], self.nets["D"]
        real = batch["target"]
        with torch.no_grad():
            x_e = self.expression_outputs(batch["image"], batch["expression"])
        with self.autocast():
            fake = G(x_e)
            real_out = D(real)
            loss_d = hinge_discriminator_loss([f[-1] for f in real_out], [f[-1] for f in D(fake.detach())])
            frozen = self.net("D").requires_grad_(False)  # the generator's loss leaves no gradients in D
            fake_out = frozen(fake)
            frozen.requires_grad_(True)
            terms = {
                "pix": F.l1_loss(fake.float(), real),
                "adv": hinge_generator_loss([f[-1] for f in fake_out]),
                "fm": feature_matching_loss(fake_out, real_out),
            }
            if self.perceptual is not None:
                terms["per"] = self.perceptual(fake.float(), real)
            loss_g = torch.stack([float(c[f"lambda_{k}"]) * v.float() for k, v in terms.items()]).sum()
        self.optimize("G", loss_g)
        self.optimize("D", loss_d)
        return {"loss_g": loss_g.item(), **{k: v.item() for k, v in terms.items()}, "loss_d": loss_d.item()}

    @torch.no_grad()
    def samples(self, batch: dict[str, Any]) -> torch.Tensor:
        """input | x_E | G_R(x_E) | the real target photo."""
        x_e = self.expression_outputs(batch["image"], batch["expression"])
        return torch.cat([batch["image"], x_e, self.net("G")(x_e), batch["target"]], -1)

    # ---- export ----------------------------------------------------------------------------------
    def generator(self) -> RegGAN:
        model = build_reggan(self.model.cfg)
        model.load_state_dict(self.model.state_dict())
        return model.cpu().eval()

    def export_prefix(self) -> str:
        return "refiner."  # --init fine-tunes G_R; stage 1 is fitted afresh

    def export_info(self) -> dict[str, Any]:
        return {"targets": self.model.targets(),
                "extra": {"luma_targets": list(self.data.luma), "pairs": self.data.pairs, "color_match": False, "delta_smooth": 1.5}}

    def heldout_metrics(self) -> dict[str, Any]:
        """L1 and SSIM to the real target photo, per target, of the held-out pairs' input, G_E's
        output and G_R's (:func:`regression_metrics`)."""
        held = self.data.held
        by_target = {}
        for i, target in enumerate(self.data.vocab["targets"]):
            rows = held.labels["expression"] == i
            if rows.any():
                by_target[target] = (held.images[rows], held.fields["target"][rows])
        return regression_metrics(self.generator(), by_target, self.device)


def _sources(stage, pairs: list[tuple[dict, dict]], channels: int, size: int) -> torch.Tensor:
    """What G_E edits for each pair: the stage's edit with the real target's own geometry, or
    without a stage the neutral crop."""
    if stage is None:
        return _stack([p[0] for p in pairs], channels, size)
    from faceedit.train.stage_on_crops import paired_inputs

    return paired_inputs(stage, pairs, channels, size)


def _pair_set(parts: list[tuple[torch.Tensor, torch.Tensor, int]]) -> CropSet:
    """(sources, targets, target index) per target as one CropSet of pairs."""
    return CropSet(rows=[], images=torch.cat([p[0] for p in parts]),
                   labels={"expression": torch.cat([torch.full((len(p[0]),), p[2], dtype=torch.long)
                                                    for p in parts])},
                   fields={"target": torch.cat([p[1] for p in parts])})


def _stack(rows: list[dict], channels: int, size: int | None = None) -> torch.Tensor:
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
