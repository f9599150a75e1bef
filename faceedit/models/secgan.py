"""SeCGAN: "Parallel Conditional Generative Adversarial Networks for Face Editing via Semantic
Consistency" (Sun, Bhattarai, Chen, Kim; paper text in ``shared/papers/secgan.txt``, section 3).

Two StarGAN-style branches train in parallel on the same batches: an RGB generator
``G_rgb(x, y_diff)`` and a semantic-mask generator ``G_seg(s, y_diff)``, each with its own
WGAN-GP critic with a class head, tied by a two-way semantic consistency loss between the face
parser's masks of the RGB output and the mask branch's output (:mod:`faceedit.train.secgan`).
Only the RGB generator is needed at inference; this module holds it.

Conditioning is the label *difference* ``y_diff = y_trg - y_src`` (following STGAN): ``0`` asks
for no change (the reconstruction loss trains exactly that), so the generator edits only what the
difference names.

Attributes (the condition vocabulary stored in the checkpoint, ``conditions``):

* ``expression``: one-hot block over the expressions of the training data (London, JAFFE, Yale:
  angry, disgusted, fearful, happy, neutral, sad, sleepy, surprised, wink);
* ``glasses``: one value, 1 = wearing glasses (Yale's ``glasses`` label, data values
  ``"True"`` / ``"False"``; only Yale's two glasses photos per subject carry it, other rows are
  "unknown" and train with a zero glasses difference).

Glasses are drawn by the stage (:mod:`faceedit.stage.glasses`: a posed 3D frame at the photo's
resolution), not by this network: its ``glasses`` channel, trained on 12 Yale subjects' different
frames, paints a blurred ghost of their mean. :attr:`SeCGAN.attributes` leaves out
:data:`STAGE_DRAWN`, so an edit through the flow never asks the network for them (its glasses
difference stays 0) and the stage's renderer carries ``--attr glasses``; ``edit(attrs=...)``
called on the network itself still reaches the channel.

A model trained on the attribute task (:mod:`faceedit.train.secgan`, ``task="attributes"``) has
no expression block: its attributes are hair colour, skin, brows (classes) and glasses, edited
with ``edit(x, "keep", attrs={"hair": "blond"})``. None is shipped: on held-out faces it painted
checkerboard patches over the stage's renders (``weights/secgan.md``).

Inference: ``edit(x, target, attrs={"glasses": 1.0 or 0.0}, source=None)``. ``target`` is an
expression, or ``"keep"`` to leave the expression alone (e.g. only ``attrs``). The source labels
``y_src`` of a user's crop are unknown, so the model carries a small source-attribute classifier
``source_net`` (a :class:`~faceedit.models.layers.SmallResNet`, about 0.3 M parameters) trained by
the trainer on the same real batches: ``y_src`` is its probability vector (softmax over
expressions, sigmoid for glasses). This is not in the paper, which edits labelled test images;
``source="neutral"`` (any expression of the model) overrides the estimate of the expression.

Architecture (StarGAN backbone, paper table 2): a 7x7 stride-1 convolution, ``n_down`` (2) 4x4
stride-2 convolutions, 6 residual blocks, ``n_down`` transposed convolutions, a 7x7 convolution;
instance norm + ReLU; the condition's planes concatenated to the input. The RGB output goes
through tanh (or, with ``residual``, is added to the input: not in the paper, used by the small
CPU model, see :mod:`faceedit.models.lssl`). ``SeCGANConfig``'s defaults are the paper's widths (64 after
the stem); the trainer's CPU default is a quarter of them. ``channels`` 1 (luma) for the same
reason as LSSL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from faceedit.edits.attributes import amount_value, parse_attr_text
from faceedit.errors import UsageError
from faceedit.models.base import ConfigError, EditModel, ModelConfig, Range
from faceedit.models.layers import EncoderDecoder, NormKind, SmallResNet
from faceedit.models.stargan import KEEP, AttributeSpace

#: Attributes the stage draws under every model (:mod:`faceedit.stage.glasses`): the network's own
#: channel for them is not offered (a ghost of the training frames' mean).
STAGE_DRAWN = ("glasses",)


@dataclasses.dataclass(frozen=True)
class SeCGANConfig(ModelConfig):
    """SeCGAN's architecture (the RGB generator and the source-attribute classifier) and
    attribute vocabulary."""

    arch = "secgan"
    method = "SeCGAN"
    ranges = {"source_size": Range(ge=8), "source_widths": Range(ge=1)}

    image_size: int = 128
    channels: int = 3  # 3 = RGB, 1 = luma
    # label key -> class names (see AttributeSpace); glasses is binary; needs "expression"
    attributes: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    base_channels: int = 64  # width after the stem (paper: 64)
    max_channels: int = 256
    n_down: int = 2  # StarGAN: 2
    n_res: int = 6  # StarGAN: 6
    norm: NormKind = "instance"
    residual: bool = False  # not in the paper: output = input + change (head starts at zero)
    source_size: int = 64  # working size of the source-attribute classifier
    source_widths: list[int] = dataclasses.field(default_factory=lambda: [16, 32, 64, 128])

    def validate(self) -> None:
        if not self.attributes:
            raise ConfigError("SeCGAN needs an 'expression' attribute with at least two classes, or "
                              "attributes to edit (the attribute task)")
        if self.channels not in (1, 3):
            raise ConfigError(f"channels must be 1 or 3, got {self.channels}")


class StarGenerator(nn.Module):
    """StarGAN generator on label differences: ``G(x, y_diff)`` (B, out, S, S). ``output``:
    ``"image"`` (tanh; or input + change, clamped, when ``residual``) for the RGB branch,
    ``"logits"`` (raw; the caller takes the softmax) for the mask branch."""

    def __init__(self, in_channels: int, out_channels: int, cond_dim: int, *, base: int,
                 max_channels: int, n_down: int, n_res: int, norm: NormKind = "instance",
                 residual: bool = False, output: str = "image") -> None:
        super().__init__()
        if output not in ("image", "logits"):
            raise ValueError(f"output must be 'image' or 'logits', got {output!r}")
        if residual and (output != "image" or in_channels != out_channels):
            raise ValueError("a residual generator outputs an image of its input's channels")
        self.residual, self.output = residual, output
        self.net = EncoderDecoder(in_channels, out_channels, cond_dim, base=base,
                                  max_channels=max_channels, n_down=n_down, n_res=n_res, stem_kernel=7,
                                  cond_at="input", up="transpose", norm=norm, zero_head=residual)

    def forward(self, x: torch.Tensor, y_diff: torch.Tensor) -> torch.Tensor:
        out = self.net(x, y_diff)
        if self.output == "logits":
            return out
        return (x + out).clamp(-1, 1) if self.residual else torch.tanh(out)


def build_rgb_generator(config: SeCGANConfig, cond_dim: int) -> StarGenerator:
    c = config
    return StarGenerator(c.channels, c.channels, cond_dim, base=c.base_channels,
                         max_channels=c.max_channels, n_down=c.n_down, n_res=c.n_res, norm=c.norm,
                         residual=c.residual)


def build_source_net(config: SeCGANConfig, dim: int) -> SmallResNet:
    return SmallResNet(dim, size=config.source_size, channels=config.channels,
                       widths=tuple(config.source_widths))


class SeCGAN(EditModel):
    """The exported SeCGAN model: the RGB generator ``G`` and the source-attribute classifier
    ``source_net``."""

    def __init__(self, config: SeCGANConfig | Mapping[str, Any] | None = None) -> None:
        super().__init__()
        cfg = self.cfg = SeCGANConfig.from_dict(config)
        self.space = AttributeSpace.from_config(cfg.attributes)
        self.channels = cfg.channels
        self.G = build_rgb_generator(cfg, self.space.dim)
        self.source_net = build_source_net(cfg, self.space.dim)

    def targets(self) -> list[str]:
        if "expression" not in self.space.keys:  # the attribute task: attributes only
            return [KEEP]
        return list(self.space.values[self.space.keys.index("expression")]) + [KEEP]

    @property
    def attributes(self) -> list[str]:
        """Binary attributes the network edits for the flow: its checkpoint's, less those the
        stage draws (:data:`STAGE_DRAWN`)."""
        return sorted(set(self.space.binary) - set(STAGE_DRAWN))

    def eval_conditions(self) -> list[dict]:
        conds = [{"target": t, "options": {}, "expect": {"expression": t}} for t in self.targets() if t != KEEP]
        for a in sorted(self.space.binary):  # the network's own channels, measured on crops
            for v, name in ((1.0, "on"), (0.0, "off")):
                conds.append({"target": KEEP, "options": {"attrs": {a: v}}, "name": f"{a}={name}",
                              "expect": {a: "True" if v else "False"}})
        return conds

    def source_attributes(self, x: torch.Tensor) -> torch.Tensor:
        """Estimated source attribute vector (B, dim) of crops ``x`` (probabilities)."""
        return self.space.probabilities(self.source_net(x).float())

    def difference(self, x: torch.Tensor, target: str, attrs: dict | str | None = None,
                   source: str | None = None) -> torch.Tensor:
        """``y_diff = y_trg - y_src`` for an edit of crops ``x``."""
        self.check_target(target)
        sl = self.space.slices()
        y_src = self.source_attributes(x)
        if source is not None:
            if "expression" not in sl:
                raise UsageError("a source expression was named, but this SeCGAN model edits attributes only")
            y_src[:, sl["expression"]] = 0.0
            y_src[:, sl["expression"].start + self.space.index("expression", source)] = 1.0
        y_trg = y_src.clone()
        if target != KEEP:
            y_trg[:, sl["expression"]] = 0.0
            y_trg[:, sl["expression"].start + self.space.index("expression", target)] = 1.0
        if isinstance(attrs, str):  # "glasses=on,..." as on the command line
            attrs = parse_attr_text(attrs)
        for key, value in (attrs or {}).items():
            if key not in self.space.keys or key == "expression":
                valid = ", ".join(k for k in self.space.keys if k != "expression") or "none"
                raise UsageError(f"unknown attribute {key!r} for this SeCGAN model; valid: {valid}")
            if key in self.space.binary:  # on/off or an amount, read as the edit request reads it
                y_trg[:, sl[key]] = amount_value(key, value)
            else:  # a class of the attribute task's (hair="blond")
                y_trg[:, sl[key]] = 0.0
                y_trg[:, sl[key].start + self.space.index(key, str(value))] = 1.0
        return y_trg - y_src

    @torch.no_grad()
    def edit(self, x: torch.Tensor, target: str, strength: float = 1.0, *, attrs: dict | str | None = None,
             source: str | None = None, **options) -> torch.Tensor:
        """``attrs``: ``{"glasses": "on"}`` (on/off, yes/no, true/false, 1/0 or a number 0..1) or
        ``"glasses=on"``; an attribute may also be given as its own option (``glasses="on"``)."""
        named = {k: options.pop(k) for k in list(options) if k in self.space.binary}
        if named:
            attrs = {**(parse_attr_text(attrs) if isinstance(attrs, str) else attrs or {}), **named}
        if options:
            raise UsageError(f"unknown SeCGAN option(s): {', '.join(options)}; valid: attrs, source")
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise UsageError(f"SeCGAN expects (B, {self.channels}, S, S) crops, got {tuple(x.shape)}")
        return self.G(x, self.difference(x, target, attrs, source).to(x.dtype))


# Registered, with the options it takes, by faceedit.models.catalogue.secgan.
def build_secgan(config: SeCGANConfig | Mapping[str, Any] | None = None) -> SeCGAN:
    return SeCGAN(config)

