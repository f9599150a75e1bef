"""LSSL (:mod:`faceedit.models.lssl`) in the registry: the options its network takes and the
shipped model."""

from __future__ import annotations

from faceedit.models.model_option import ModelOption
from faceedit.models.registry import ModelSpec, declare_arch, register_model

# What the network takes on the command line (checked before any weights load): its lighting
# classes are the checkpoint header's.
declare_arch("lssl", "faceedit.models.lssl:build_lssl", options=(
    ModelOption("lighting", "lighting class", vocabulary="conditions:lighting"),
    ModelOption("refine", "on|off: its generator as a refiner of the open mouth the stage paints (SimGAN-trained, "
                "weights/lssl_refiner.safetensors; its card says what it adds); default: the refiner's own",
                values=("on", "off")),
))

# The shipped checkpoint: its file, sha256, description and licence are in weights/manifest.json,
# its targets and attribute vocabularies (those of `faceedit train -m lssl -d data/london
# -d data/jaffe -d data/yale -d data/yaleb`) in its header.
# Its paste settings are in its checkpoint header: color_match false, delta_smooth 4 (the change
# low-passed at 0.2 eye distances of the 64-px crop: the network's smooth relighting passes, the
# hard shadow edge it draws down the nose does not; docs/history.md, LSSL), on the stage.
register_model(
    ModelSpec(
        name="lssl",
        method="LSSL",
        arch="lssl",
    )
)
