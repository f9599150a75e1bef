"""RegGAN (:mod:`faceedit.models.reggan`) in the registry: the options its network takes and the
shipped model."""

from __future__ import annotations

from faceedit.models.model_option import ModelOption
from faceedit.models.registry import ModelSpec, declare_arch, register_model

# What the network takes on the command line (checked before any weights load).
declare_arch("reggan", "faceedit.models.reggan:build_reggan", options=(
    ModelOption("phase", "which generator output to paste: expression (G_E's image) or refined (G_R's); "
                "default: the checkpoint's default_phase", values=("expression", "refined")),
    ModelOption("refine", "on|off: G_R as a refiner of the open mouth the stage paints (SimGAN-trained, "
                "weights/reggan_refiner.safetensors; its card says what it adds); default: the refiner's own",
                values=("on", "off")),
))

# The shipped checkpoint: its file, sha256, description and licence are in weights/manifest.json,
# its targets in its header.
# Its paste settings are in its checkpoint header: delta_smooth 1.5 (measured: keeps the edit,
# removes the small refiner's blotches), color_match false (measured: face-region L1 7.87 without
# vs 7.96 with, London happy), on the stage.
register_model(
    ModelSpec(
        name="reggan",
        method="RegGAN",
        arch="reggan",
    )
)
