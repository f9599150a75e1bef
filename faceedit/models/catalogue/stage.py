"""The stage (:mod:`faceedit.stage.model`) in the registry: the options it takes and the shipped
statistics."""

from __future__ import annotations

from faceedit.conditions import NAMED_ATTRIBUTES
from faceedit.models.options import ModelOption
from faceedit.models.registry import ModelSpec, declare_arch, register_model
from faceedit.models.request import FIELD

# The fields of the edit request the stage takes, under every model that sits on it (checked
# before any weights load; their help is the request's): lighting classes, AUs and attributes
# are the checkpoint header's, the named controls the request's.
declare_arch("stage", "faceedit.stage.model:build_stage", options=(
    ModelOption("lighting", "relight to a named direction (left 50,0; right -50,0; top 0,45; bottom 0,-35; "
                "front; ambient)", vocabulary="config:lighting"),
    ModelOption("light"),
    ModelOption("light_strength"),
    ModelOption("aus", vocabulary="config:aus"),
    # glasses, hair, skin and brows are drawn by the stage's code; any others are its header's maps
    ModelOption("attrs", "glasses drawn on (a style; off is refused), hair recoloured, skin toned, brows thickened or thinned",
                values=("glasses", *NAMED_ATTRIBUTES), vocabulary="config:attribute_channels"),
    ModelOption("controls", values=FIELD["controls"].choices),
    ModelOption("like"),
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
