"""The stage (:mod:`faceedit.stage.model`) in the registry: the options it takes and the shipped
statistics."""

from __future__ import annotations

from faceedit.edits.attributes import attributes_in_words
from faceedit.models.model_option import ModelOption
from faceedit.models.registry import ModelSpec, declare_arch, register_model

# The fields of the edit request the stage takes, under every model that sits on it (checked
# before any weights load; their help is the request's): lighting classes and AUs are the
# checkpoint header's, the named controls and the attributes it paints the registries'
# (faceedit.edits: a record registered later is listed too).
declare_arch("stage", "faceedit.stage.model:build_stage", options=(
    ModelOption("lighting", "relight to a named direction (left 50,0; right -50,0; top 0,45; bottom 0,-35; "
                "front; ambient)", vocabulary="config:lighting"),
    ModelOption("light"),
    ModelOption("light_strength"),
    ModelOption("aus", vocabulary="config:aus"),
    # each registered attribute, painted by its record's painter
    ModelOption("attrs", attributes_in_words, vocabulary="registry:attributes"),
    ModelOption("controls", vocabulary="registry:controls"),
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
