"""Every shipped model's inference settings live in one place, its checkpoint header: loaded by
name (``-m lssl``) and by path (``-m weights/lssl.safetensors``), a model gets the same crop
template, channels, vocabularies and paste settings (``color_match``, ``delta_smooth``, the
``stage`` it sits on), so both ways edit a photo alike."""

from __future__ import annotations

import dataclasses

import pytest

from faceedit.models.hub import weights_present
from faceedit.models.loading import load_model
from faceedit.models.options import model_options
from faceedit.models.registry import ModelSpec, get_spec
from faceedit.weights import installed_weights_dir, read_manifest

SHIPPED = sorted(read_manifest())
SETTINGS = ("targets", "conditions", "template", "channels", "color_match", "delta_smooth", "stage")
# The paste settings the shipped headers hold (measured per model; the reasons are beside each
# model's registration and in its card).
PASTE = {
    "stage": (False, 0.0, None),
    "reggan": (False, 1.5, "stage"),
    "eggan": (True, 4.0, "stage"),
    "legan": (False, 4.0, "stage"),
    "lssl": (False, 4.0, "stage"),
    "secgan": (False, 1.0, "stage"),
}


def _settings(spec: ModelSpec) -> dict:
    return {k: getattr(spec, k) for k in SETTINGS}


@pytest.mark.parametrize("name", SHIPPED)
def test_by_name_and_by_path_the_same_settings(name):
    spec = get_spec(name)
    if not weights_present(spec):
        pytest.skip(f"weights of {name!r} are not installed")
    path = installed_weights_dir() / read_manifest()[name]["file"]
    by_name, by_path = load_model(name), load_model(str(path))
    assert _settings(by_name.spec) == _settings(by_path.spec) == _settings(spec)
    assert (by_name.spec.color_match, by_name.spec.delta_smooth, by_name.spec.stage) == PASTE[name]
    assert by_name.spec.template is not None and by_name.spec.targets
    # every paste setting is written in the header itself, not taken from a default
    assert {"color_match", "delta_smooth"} <= set(by_name.meta.extra)
    assert ("stage" in by_name.meta.extra) == (PASTE[name][2] is not None)
    assert model_options(name).summary() == model_options(str(path)).summary()


def test_the_header_is_the_only_source():
    """A registration names the model, its method and architecture; it cannot give what the
    header holds."""
    header_fields = {f.name for f in dataclasses.fields(ModelSpec) if not f.init}
    assert set(SETTINGS) <= header_fields
    assert set(PASTE) == set(SHIPPED)


# Targets a shipped network is not run for on its stage (its change spoilt the stage's edit
# there: the model cards say where and how).
STAGE_ONLY = {"secgan": ["sad", "angry", "disgusted", "fearful"], "lssl": ["angry", "disgusted"]}


@pytest.mark.parametrize("name", SHIPPED)
def test_targets_left_to_the_stage_are_the_header_s_and_the_stage_draws_them(name):
    spec = get_spec(name)
    if not weights_present(spec):
        pytest.skip(f"weights of {name!r} are not installed")
    assert spec.stage_only == STAGE_ONLY.get(name, [])
    if spec.stage_only:
        stage = get_spec(spec.stage)
        assert set(spec.stage_only) <= set(stage.targets) and set(spec.stage_only) <= set(spec.targets)
