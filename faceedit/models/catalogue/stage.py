"""The stage (:mod:`faceedit.stage.model`) in the registry: the options it takes and the shipped
statistics."""

from __future__ import annotations

from faceedit.models.options import ModelOption
from faceedit.models.registry import ModelSpec, declare_arch, register_model
from faceedit.stage.controls import CONTROLS
from faceedit.stage.tuning import LightTuning

# What the stage provides on the command line, under every model that sits on it (checked
# before any weights load): lighting classes, AUs and attributes are the checkpoint header's.
declare_arch("stage", "faceedit.stage.model:build_stage", options=(
    ModelOption("lighting", "relight to a named direction (left 50,0; right -50,0; top 0,45; bottom 0,-35; "
                "front; ambient)", vocabulary="config:lighting"),
    ModelOption("light", "relight to a direction AZ,EL in degrees (Extended Yale B's: azimuth + lights the "
                "image's left, elevation + from above)"),
    ModelOption("light_strength", f"how much the light replaces the photo's own, 0..1 (default {LightTuning.strength:g})"),
    ModelOption("aus", "set AU intensities (absolute, 0..5; the face's other AUs kept)", vocabulary="config:aus"),
    ModelOption("attrs", "paint attributes on or off (experimental)", vocabulary="config:attribute_channels"),
    ModelOption("controls", "named fine controls, each -1..1, set as absolute AU values", values=tuple(CONTROLS)),
    ModelOption("like", "move the face to a reference photo's expression state"),
))

# The shipped statistics (fitted by `faceedit train -m stage -d data/london256 -d data/jaffe256
# -d data/yale256 -d data/yaleb256`): file, sha256, description and licence in
# weights/manifest.json, targets and lighting / attribute vocabularies in the header.
# Its paste settings are in its checkpoint header (color_match false: the stage's own colours).
register_model(
    ModelSpec(
        name="stage",
        method="stage",
        arch="stage",
    )
)
