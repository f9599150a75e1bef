"""What the StarGAN-family trainers (EGGAN, LEGAN, LSSL, SeCGAN) share, written once.

* :func:`critic_layers`: the depth of their critic (:class:`~faceedit.models.layers.ClassCritic`),
  stride-2 layers down to a 2x2 PatchGAN score map, as StarGAN's (6 layers at 128 px, 5 at 64 px);
* :func:`critic_step`: one update of such a critic, WGAN-GP with the auxiliary classification of
  the real images: ``mean D(fake) - mean D(real) + w_gp GP + w_cls L_cls(D_cls(real))`` (StarGAN
  eq. 1-3 in its WGAN-GP form; LEGAN eq. 2-4, LSSL eq. 1-2, SeCGAN eq. 1 and 3, EGGAN eq. 2 with
  its critic's AU and identity heads). What differs between the methods is a parameter: the class
  loss (which classes the head has and how they are scored), the weights, and whether real and
  fake go through the critic as one batch (EGGAN) or two;
* :func:`load_frozen_or_warn` (and :func:`load_parser_or_warn` on top of it): a frozen auxiliary
  analysis network (identity, quality, face parser) for a loss term, or None with one logged
  warning that the term is switched off when its weights are absent;
* :func:`adam`: the Adam optimiser of a network from a config's ``lr`` and ``betas``.

Networks are called through ``forward`` only (the critic is the trainer's possibly
DistributedDataParallel-wrapped ``trainer.nets[name]``), so the step also runs under DDP.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

from faceedit.log import logger
from faceedit.train.losses import gradient_penalty, wgan_discriminator_loss

if TYPE_CHECKING:
    from faceedit.train.trainer import MethodTrainer

Parser = Callable[[torch.Tensor], torch.Tensor]
ClassLoss = Callable[[torch.Tensor], torch.Tensor]

# The frozen analysis networks a loss term can use: kind -> (module, loader(device=...)).
FROZEN_LOADERS = {
    "identity": ("faceedit.analysis.identity", "load_identity"),
    "quality": ("faceedit.analysis.quality", "load_quality"),
    "parser": ("faceedit.analysis.parser", "load_parser"),
}


def critic_layers(size: int, layers: int | None = None) -> int:
    """Stride-2 layers of a StarGAN-family critic for ``size``-px crops: ``layers`` when given
    (non-zero), else as many as leave a 2x2 score map (``log2(size) - 1``: 6 at 128 px, 5 at
    64 px; at least 1)."""
    if layers:
        return int(layers)
    return max(1, int(size).bit_length() - 2)


def critic_step(trainer: MethodTrainer, name: str, real: torch.Tensor, fake: torch.Tensor,
                class_loss: ClassLoss, *, w_gp: float, w_cls: float, joint: bool = False
                ) -> dict[str, torch.Tensor]:
    """One update of the critic ``trainer.nets[name]`` (a ``ClassCritic``: ``(scores, logits)``)
    with its optimiser ``trainer.opts[name]``:
    ``loss = mean D(fake) - mean D(real) + w_gp * GP(real, fake) + w_cls * class_loss(logits(real))``.

    ``class_loss`` scores the class head's logits of the real rows (B, n_classes) against the
    method's labels (the fakes' classes train the generator, not the critic). ``joint``: real and
    fake go through the critic as one batch (EGGAN's step), else as two. The forward passes run
    under the trainer's autocast; the scores and the gradient penalty (fresh interpolates each
    call) are float32. Returns the detached ``loss``, ``adv``, ``gp`` and ``cls``."""
    D = trainer.nets[name]
    fake = fake.detach()
    with trainer.autocast():
        if joint:
            b = real.shape[0]
            scores, logits = D(torch.cat([real, fake]))
            real_scores, fake_scores, real_logits = scores[:b], scores[b:], logits[:b]
        else:
            real_scores, real_logits = D(real)
            fake_scores, _ = D(fake)
        adv = wgan_discriminator_loss(real_scores.float(), fake_scores.float())
        cls = class_loss(real_logits)
    gp = gradient_penalty(D, real, fake)
    loss = adv + float(w_gp) * gp + float(w_cls) * cls
    trainer.optimize(name, loss)
    return {"loss": loss.detach(), "adv": adv.detach(), "gp": gp.detach(), "cls": cls.detach()}


def load_frozen_or_warn(kind: str, what: str, *, device: torch.device | str) -> Any | None:
    """The project's frozen analysis network ``kind`` (a key of :data:`FROZEN_LOADERS`) on
    ``device``, or None with one logged warning ``"<what> switched off: no <kind> weights at
    ..."`` when ``weights/<kind>.safetensors`` is absent."""
    from faceedit.analysis.store import analysis_available, analysis_path

    if kind not in FROZEN_LOADERS:
        raise ValueError(f"unknown auxiliary network {kind!r}; known: {', '.join(FROZEN_LOADERS)}")
    if not analysis_available(kind):
        logger.warning("%s switched off: no %s weights at %s (train them with `faceedit train-analysis %s`)",
                       what, kind, analysis_path(kind), kind)
        return None
    module, loader = FROZEN_LOADERS[kind]
    return getattr(importlib.import_module(module), loader)(device=device)


def load_parser_or_warn(device: torch.device | str, what: str) -> Parser | None:
    """The project's face parser as a function ``x (B, 1|3, H, W) in [-1, 1] -> soft masks
    (B, K, h, w)`` (float32, differentiable in ``x``, parameters frozen), or None (see
    :func:`load_frozen_or_warn`)."""
    net = load_frozen_or_warn("parser", what, device=device)
    if net is None:
        return None
    from faceedit.analysis.parser import parse

    return lambda x: parse(x, net).float()


def adam(module: torch.nn.Module, lr: float, betas) -> torch.optim.Adam:
    """Adam over ``module``'s parameters at ``lr`` with ``betas`` (a config's list or tuple)."""
    beta1, beta2 = (float(b) for b in betas)
    return torch.optim.Adam(module.parameters(), lr=float(lr), betas=(beta1, beta2))
