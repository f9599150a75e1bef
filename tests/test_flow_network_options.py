"""Which model options a network on a stage receives, for a network whose spec carries no
vocabularies (a model built in code, whose checkpoint header was never read)."""

from __future__ import annotations

import torch

from faceedit.flow import Flow
from faceedit.models.loading import LoadedModel
from faceedit.models.registry import ModelSpec
from faceedit.models.request import EditRequest


class _Network:
    """A network over crops with no lighting or AU vocabulary (only what the flow reads)."""

    has_network = True
    attributes: list[str] = []

    def targets(self) -> list[str]:
        return ["happy"]


class _Step:
    """A photo step that relights and moves AUs (only what the flow reads)."""

    max_strength = 1.5
    lighting = ["left"]
    aus = [12]
    attributes: list[str] = []

    def targets(self) -> list[str]:
        return ["happy", "keep"]


def _flow() -> Flow:
    spec = ModelSpec(name="custom", method="Custom", arch="custom")
    assert spec.conditions is None  # no header read
    loaded = LoadedModel(model=_Network(), spec=spec, meta=None, path="")
    return Flow(loaded=loaded, device=torch.device("cpu"), amp_dtype=None, stage=_Step())


def test_a_network_without_vocabularies_leaves_lighting_and_aus_to_the_stage():
    request = EditRequest(lighting="left", aus={12: 2.0}, controls={"smile": 0.5})
    assert _flow().network_options(request) == {}  # the stage applies all three


def test_a_network_without_vocabularies_keeps_the_options_the_stage_does_not_take():
    assert _flow().network_options(EditRequest.of(lighting="left", source="neutral")) == {"source": "neutral"}
