"""Losses shared by the trainers: hinge GAN loss, discriminator feature matching, and a VGG-19
perceptual loss.

Images are in [-1, 1]. Discriminator outputs follow ``faceedit.models.layers``: one list of
layer outputs per discriminator (score map last).

VGG-19 is written here in plain torch with torchvision's layout, so a torchvision ``vgg19``
state dict (keys ``features.{i}.weight`` / ``features.{i}.bias``) saved as safetensors loads
as is; ``classifier.*`` and other keys are ignored. Nothing is downloaded unless asked for: the
weights come from a local ``.safetensors`` file or from ``hf://owner/repo/file[@revision]``
(e.g. ``hf://timm/vgg19.tv_in1k/model.safetensors``, timm's copy of the torchvision weights,
whose ``features`` keys use the same indices). Without weights the perceptual term is switched
off with a logged warning: a randomly initialised VGG would be no perceptual loss at all.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from safetensors import safe_open
from torch import nn

from faceedit.errors import CheckpointError
from faceedit.pixels import signed_to_unit

log = logging.getLogger("faceedit")

# ----------------------------------------------------------------------------------------------
# GAN losses
# ----------------------------------------------------------------------------------------------


def hinge_discriminator_loss(
    real_scores: Sequence[torch.Tensor], fake_scores: Sequence[torch.Tensor]
) -> torch.Tensor:
    """Hinge loss of a (multi-scale) discriminator (Lim & Ye, "Geometric GAN", 2017):
    ``sum_k mean(max(0, 1 - D_k(real))) + mean(max(0, 1 + D_k(fake)))``; means run over batch
    and score-map positions."""
    return torch.stack(
        [
            F.relu(1 - real).mean() + F.relu(1 + fake).mean()
            for real, fake in zip(real_scores, fake_scores, strict=True)
        ]
    ).sum()


def hinge_generator_loss(fake_scores: Sequence[torch.Tensor]) -> torch.Tensor:
    """Generator side of the hinge loss: ``sum_k -mean(D_k(fake))``."""
    return -torch.stack([fake.mean() for fake in fake_scores]).sum()


def wgan_discriminator_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Wasserstein critic loss (Arjovsky et al. 2017): ``mean(D(fake)) - mean(D(real))``."""
    return fake_scores.mean() - real_scores.mean()


def wgan_generator_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """Generator side of the Wasserstein loss: ``-mean(D(fake))``."""
    return -fake_scores.mean()


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): ``mean((||grad_x D(x_hat)||_2 - 1)^2)`` at random
    interpolates ``x_hat`` of real and fake images. ``critic(x)`` returns a score tensor (or a
    tuple whose first item is one, as ``ClassCritic`` does). Builds a graph for double backward."""
    alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device, dtype=real.dtype)
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    out = critic(x_hat)
    out = out[0] if isinstance(out, (tuple, list)) else out
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Anisotropic total variation: mean absolute difference of neighbouring pixels (summed over
    both directions), per element."""
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., :, 1:] - x[..., :, :-1]).abs().mean()


def masked_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over the rows whose label is known (>= 0); zero (with a graph) when none is."""
    known = labels >= 0
    if not bool(known.any()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits[known], labels[known])


def feature_matching_loss(
    fake_features: Sequence[Sequence[torch.Tensor]], real_features: Sequence[Sequence[torch.Tensor]]
) -> torch.Tensor:
    """Discriminator feature matching (pix2pixHD, eq. 13 of RegGAN): the L1 distance between the
    intermediate features of fake and real images, averaged over the layers of each
    discriminator and over the discriminators. The last entry of each list (the score map) is
    not a feature and is left out, as pix2pixHD does. Averaging (pix2pixHD weights its sum by
    1/num_D and 4/(n_layers+1), about the same) keeps the term on the scale of the pixel loss it
    is weighed against: summed over 3 discriminators x 4 maps it outweighed 100 x L1 five to one
    and the refiner learnt artefacts (seen in our first CPU run). Real features are constants."""
    per_disc = [
        torch.stack([F.l1_loss(fake, real.detach())
                     for fake, real in zip(fakes[:-1], reals[:-1], strict=True)]).mean()
        for fakes, reals in zip(fake_features, real_features, strict=True)
    ]
    return torch.stack(per_disc).mean()


# ----------------------------------------------------------------------------------------------
# VGG-19 perceptual loss
# ----------------------------------------------------------------------------------------------

# VGG-19 ("configuration E"): output channels of each 3x3 conv (+ ReLU), "M" = 2x2 max pooling.
_VGG19_CONFIG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
    512, 512, 512, 512, "M", 512, 512, 512, 512, "M",
)  # fmt: skip

VGG19_RELU_INDEX = {"relu1_1": 1, "relu2_1": 6, "relu3_1": 11, "relu4_1": 20, "relu5_1": 29}
"""Index in ``features`` of the first ReLU of each VGG-19 stage (torchvision numbering)."""

DEFAULT_PERCEPTUAL_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class VGG19Features(nn.Module):
    """The ``features`` part of VGG-19 up to the deepest requested layer, torchvision numbering.

    ``forward`` takes ImageNet-normalised RGB and returns the outputs of ``layers`` (names from
    ``VGG19_RELU_INDEX``) in the given order.
    """

    def __init__(self, layers: Sequence[str] = DEFAULT_PERCEPTUAL_LAYERS) -> None:
        super().__init__()
        unknown = [name for name in layers if name not in VGG19_RELU_INDEX]
        if unknown or not layers:
            raise ValueError(
                f"unknown VGG-19 layers {unknown}; choose from {', '.join(VGG19_RELU_INDEX)}"
            )
        self.taps = [VGG19_RELU_INDEX[name] for name in layers]
        last = max(self.taps)
        modules: list[nn.Module] = []
        in_channels = 3
        for item in _VGG19_CONFIG:
            if len(modules) > last:
                break
            if item == "M":
                modules.append(nn.MaxPool2d(2, 2))
            else:
                modules += [nn.Conv2d(in_channels, int(item), 3, padding=1), nn.ReLU()]
                in_channels = int(item)
        self.features = nn.Sequential(*modules[: last + 1])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outputs: dict[int, torch.Tensor] = {}
        for index, module in enumerate(self.features):
            x = module(x)
            if index in self.taps:
                outputs[index] = x
        return [outputs[i] for i in self.taps]


def _resolve_hub(source: str) -> str:
    """Download (or find in the Hub cache) ``hf://owner/repo/path/in/repo[@revision]``."""
    spec, _, revision = source.removeprefix("hf://").partition("@")
    parts = spec.split("/")
    if len(parts) < 3 or not all(parts):
        raise CheckpointError("expected hf://owner/repo/file.safetensors[@revision]", source)
    from huggingface_hub import hf_hub_download

    try:
        return hf_hub_download("/".join(parts[:2]), "/".join(parts[2:]), revision=revision or None)
    except Exception as e:  # huggingface_hub raises many types: offline, not found, HTTP, OS errors
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise CheckpointError(
            f"cannot fetch VGG-19 weights: {type(e).__name__}: {first}", source
        ) from None


def load_vgg19_features(
    source: str | os.PathLike, layers: Sequence[str] = DEFAULT_PERCEPTUAL_LAYERS
) -> VGG19Features:
    """VGG-19 ``features`` with weights from a ``.safetensors`` file or ``hf://`` reference.

    Only the ``features.{i}.weight/bias`` keys the requested layers need are read; a missing key,
    a wrong shape or an unreadable file raises ``CheckpointError``. Parameters are frozen.
    """
    path = (
        _resolve_hub(source)
        if isinstance(source, str) and source.startswith("hf://")
        else os.fspath(source)
    )
    model = VGG19Features(layers)
    wanted = model.state_dict()
    if not os.path.isfile(path):
        raise CheckpointError("VGG-19 weights file not found", path)
    try:
        with safe_open(path, framework="pt", device="cpu") as f:
            available = set(f.keys())
            missing = [k for k in wanted if k not in available]
            if missing:
                raise CheckpointError(
                    f"not VGG-19 features weights: missing {', '.join(missing[:3])}", path
                )
            tensors = {k: f.get_tensor(k) for k in wanted}
    except CheckpointError:
        raise
    except Exception as e:  # safetensors raises SafetensorError / OSError on unreadable files
        raise CheckpointError(f"cannot read VGG-19 weights as safetensors ({e})", path) from None
    wrong = [f"{k} {tuple(t.shape)}" for k, t in tensors.items() if t.shape != wanted[k].shape]
    if wrong:
        raise CheckpointError(f"not VGG-19 weights: unexpected shapes {', '.join(wrong[:3])}", path)
    model.load_state_dict({k: t.float() for k, t in tensors.items()})
    model.requires_grad_(False)
    return model.eval()


class PerceptualLoss(nn.Module):
    """``sum_i mean|f_i(x) - f_i(target)|`` over VGG-19 layers ``f_i`` (eq. 14 of RegGAN; the
    perceptual loss of Johnson et al. 2016 with L1 distance).

    Inputs are images in [-1, 1], RGB or single-channel (repeated to RGB); they are mapped to
    ImageNet normalisation before VGG. Target features carry no gradient.
    """

    mean: torch.Tensor  # ImageNet normalisation (buffers)
    std: torch.Tensor

    def __init__(self, vgg: VGG19Features) -> None:
        super().__init__()
        self.vgg = vgg
        self.register_buffer(
            "mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False
        )
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def _features(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
        return self.vgg((signed_to_unit(x) - self.mean) / self.std)

    def forward(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            target_features = self._features(target)
        return torch.stack(
            [F.l1_loss(f, t) for f, t in zip(self._features(x), target_features, strict=True)]
        ).sum()


def build_perceptual_loss(
    source: str | os.PathLike | None, layers: Sequence[str] = DEFAULT_PERCEPTUAL_LAYERS
) -> PerceptualLoss | None:
    """A ``PerceptualLoss`` on VGG-19 weights from ``source``, or None (with a logged warning)
    when no source is given. A source that is given but cannot be loaded raises
    ``CheckpointError``: asking for a loss and silently training without it would be worse."""
    if source is None:
        log.warning(
            "perceptual loss disabled: no VGG-19 weights given (pass a torchvision-layout "
            ".safetensors file or hf://owner/repo/file); training without it"
        )
        return None
    return PerceptualLoss(load_vgg19_features(source, layers))
