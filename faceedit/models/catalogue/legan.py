"""LEGAN (:mod:`faceedit.models.legan`) in the registry: the options its network takes and the
shipped model."""

from __future__ import annotations

from faceedit.models.model_option import ModelOption
from faceedit.models.registry import ModelSpec, declare_arch, register_model

# What the network takes on the command line (checked before any weights load): its lighting
# classes are the checkpoint header's.
declare_arch("legan", "faceedit.models.legan:build_legan", options=(
    ModelOption("lighting", "lighting class (or keep: the input's own)", vocabulary="conditions:lighting"),
    ModelOption("refine", "on|off: its generator as a refiner of the open mouth the stage paints (SimGAN-trained, "
                "weights/legan_refiner.safetensors; its card says what it adds); default: the refiner's own",
                values=("on", "off")),
))

# The shipped checkpoint: its file, sha256, description and licence are in weights/manifest.json,
# its expression and lighting vocabularies in its header.
# Its paste settings are in its checkpoint header: color_match false (a lighting change *is* a
# change of brightness: do not undo it), delta_smooth 4 (the change low-passed at 0.2 eye distances
# of the 64-px crop: the network's smooth relighting passes, the hard shadow edge it draws down the
# nose does not; docs/history.md, LEGAN), on the stage.
register_model(
    ModelSpec(
        name="legan",
        method="LEGAN",
        arch="legan",
    )
)
