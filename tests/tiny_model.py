"""A tiny real EditModel for pipeline tests (not a method, never registered outside tests).

It brightens ("bright") or darkens ("dark") the crop through a 3x3 convolution initialised to
the identity plus a per-target offset, so tests can check that the face region of a photo changed
in the expected direction and the rest did not. Imported through FACEEDIT_PLUGINS in subprocess
tests, which also registers its arch.
"""

from __future__ import annotations

import torch
from torch import nn

from faceedit.errors import UsageError
from faceedit.models.base import EditModel
from faceedit.models.registry import ARCHS, register_arch

TARGETS = ["bright", "dark"]


class TinyEdit(EditModel):
    def __init__(self, config: dict):
        super().__init__()
        c = int(config.get("channels", 3))
        self.names = list(config.get("targets", TARGETS))
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.offset = nn.Parameter(torch.zeros(len(self.names), c))
        with torch.no_grad():
            self.conv.weight.zero_()
            self.conv.bias.zero_()
            for i in range(c):
                self.conv.weight[i, i, 1, 1] = 1.0
            for i, name in enumerate(self.names):
                self.offset[i] = 0.5 if name == "bright" else -0.5

    def targets(self) -> list[str]:
        return self.names

    @torch.no_grad()
    def edit(self, x, target, strength=1.0, **options):
        if options:
            raise UsageError(f"unknown model option(s): {', '.join(options)}")
        i = self.names.index(self.check_target(target))
        return (self.conv(x) + self.offset[i].view(1, -1, 1, 1)).clamp(-1, 1)


if "test-tiny" not in ARCHS:
    register_arch("test-tiny")(TinyEdit)


def save_tiny(path, channels: int = 3, size: int = 64, targets: list[str] = TARGETS, **extra) -> str:
    """The tiny model's checkpoint at ``path``; ``extra``: more header keys (``stage``...)."""
    from faceedit.models.checkpoint import save_checkpoint

    model = TinyEdit({"channels": channels, "targets": targets})
    meta = {
        "arch": "test-tiny",
        "config": {"channels": channels, "targets": targets},
        "conditions": {"targets": targets},
        "image_size": size,
        "channels": channels,
        "template": {"size": size, "eye_dist": 0.30, "eye_y": 0.42},
        "training_data": "none (test model)",
        "license": "MIT",
        "color_match": False,  # its edit *is* a brightness change; matching would undo it
        **extra,
    }
    save_checkpoint(str(path), model.state_dict(), meta)
    return str(path)
