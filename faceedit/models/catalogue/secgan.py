"""SeCGAN (:mod:`faceedit.models.secgan`) in the registry: the options its network takes and the
shipped model."""

from __future__ import annotations

from faceedit.models.model_option import ModelOption
from faceedit.models.registry import ModelSpec, declare_arch, register_model

# What the network takes on the command line (checked before any weights load): no attribute of
# its own; its checkpoint's two-valued vocabulary (glasses) is drawn by the stage instead
# (faceedit.models.secgan.STAGE_DRAWN), so `--attr glasses` is the stage's under this model too.
declare_arch("secgan", "faceedit.models.secgan:build_secgan", options=(
    ModelOption("attrs", "attribute edits the network makes itself: none (glasses are drawn by the stage)"),
    ModelOption("source", "the input's expression, overriding the source classifier's estimate"),
    ModelOption("refine", "on|off: its generator as a refiner of the open mouth the stage paints (SimGAN-trained, "
                "weights/secgan_refiner.safetensors; its card says what it adds); default: the refiner's own",
                values=("on", "off")),
))

# The shipped checkpoint: its file, sha256, description and licence are in weights/manifest.json,
# its targets and attribute vocabularies (those of `faceedit train -m secgan -d data/london
# -d data/jaffe -d data/yale`) in its header.
# Its paste settings are in its checkpoint header: color_match false, delta_smooth 1 (measured:
# removes the transposed convolutions' checkerboard from the change), on the stage.
register_model(
    ModelSpec(
        name="secgan",
        method="SeCGAN",
        arch="secgan",
    )
)
