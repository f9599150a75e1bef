"""EGGAN (:mod:`faceedit.models.eggan`) in the registry: the options its network takes, its
free-form targets and the shipped model."""

from __future__ import annotations

from faceedit.models.model_option import ModelOption
from faceedit.models.registry import ModelSpec, declare_arch, register_model
from faceedit.models.request import AU_TARGETS  # the free-form targets: the source's AUs with ``aus`` set

# What the network takes on the command line (checked before any weights load): the AU
# vocabulary is the checkpoint header's; ``au`` / ``custom`` are targets beside its expressions.
declare_arch("eggan", "faceedit.models.eggan:build_eggan", extra_targets=AU_TARGETS, options=(
    ModelOption("aus", "target AU intensities 0..5, e.g. 12=3.5,6=2", vocabulary="conditions:aus",
                within="estimable_aus"),
    ModelOption("source_aus", "the input's own AU intensities, overriding the AU head's estimate"),
    ModelOption("mode", "direct | delta (default: the checkpoint's edit_mode)"),
    ModelOption("refine", "on|off: its generator as a refiner of the open mouth the stage paints (SimGAN-trained, "
                "weights/eggan_refiner.safetensors; its card says what it adds); default: the refiner's own",
                values=("on", "off")),
))

# The shipped checkpoint: its file, sha256, description and licence are in weights/manifest.json,
# its targets and AUs in its header.
# Its paste settings are in its checkpoint header: color_match true, on the stage, delta_smooth 4
# (the change low-passed, sigma 4 px of the 64-px crop: on the stage's surprised mouth the network
# drew a purple-green stain round the lips and greyed the painted teeth; the astronaut's identity
# cosine to the input went 0.469 -> 0.561, stage alone 0.569, threshold 0.486).
register_model(
    ModelSpec(
        name="eggan",
        method="EGGAN",
        arch="eggan",
    )
)
