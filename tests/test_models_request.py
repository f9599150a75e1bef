"""The edit request (faceedit.models.request): each field declared once, as data; a request
checks its own values (a usage error naming the field and what it takes); the command line, the
Python API and `faceedit models` read the one declaration."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from faceedit.errors import UsageError
from faceedit.models.request import FIELD, FIELDS, LIGHT_STRENGTH, EditRequest


def test_every_field_of_the_request_is_declared_once_with_its_help():
    names = [f.name for f in dataclasses.fields(EditRequest)]
    assert names == [f.name for f in FIELDS] and len(set(names)) == len(names)
    for f in FIELDS:
        assert f.type and f.describe().endswith(".") and f.step in ("flow", "stage", "network", "both"), f
        assert f.to_json()["flag"].startswith("--")
    assert EditRequest() == EditRequest(**{f.name: f.default for f in FIELDS if f.default is not None})


def test_the_defaults_the_stage_applies_are_the_declared_ones():
    from faceedit.models.loading import load_model
    from faceedit.stage.model import MAX_STRENGTH

    stage = load_model("stage").model  # the shipped checkpoint's tuning, read from its header
    assert stage.tuning.light.strength == LIGHT_STRENGTH
    assert FIELD["strength"].range == (0.0, MAX_STRENGTH)
    assert f"default {LIGHT_STRENGTH:g}" in FIELD["light_strength"].describe()


@pytest.mark.parametrize("fields, words", [
    ({"strength": -0.5}, "`strength` -0.5: must be between 0 and 1.5"),
    ({"strength": 1.6}, "`strength` 1.6: must be between 0 and 1.5"),
    ({"strength": "lots"}, "`strength` 'lots': not a number"),
    ({"light_strength": 1.5, "light": "35,15"}, "`light_strength` 1.5: must be between 0 and 1"),
    ({"light_strength": 0.5}, "`light_strength` needs `light` or `lighting`"),
    ({"lighting": "left", "light": "30,10"}, "`lighting` left and `light` 30,10 together"),
    ({"light": "500,0"}, "azimuth must lie within"),
    ({"aus": {12: 7.0}}, "`aus`: AU12: intensity 7 is outside 0..5"),
    ({"aus": {99: 1.0}}, "`aus`: unknown AU '99'"),
    ({"controls": {"frown": 0.5}}, "`controls`: unknown control 'frown'"),
    ({"controls": {"smile": 2.0}}, "`controls`: control smile=2 is outside -1..1"),
    ({"attrs": {"glasses": "maybe"}}, "`attrs` glasses=maybe: unknown style; valid: on, a number 0.5..1, or a style"),
    ({"face": "second"}, "`face` 'second'; valid: all, largest"),
    ({"max_faces": -1}, "`max_faces` -1: must be 0 (no limit) or more"),
    ({"target": "au"}, "`target` au needs AU intensities: give `aus`"),
    ({"target": "custom"}, "`target` custom needs AU intensities"),
    ({"settings": {"lighting": "left"}}, "`settings` lighting: a field of the edit"),
])
def test_a_bad_value_names_its_field_and_what_it_takes(fields, words):
    with pytest.raises(UsageError) as e:
        EditRequest(**fields)
    assert words in str(e.value), str(e.value)


def test_values_are_put_in_one_form():
    r = EditRequest.of("happy", 0.5, lighting=" Left ", aus="12=3,6=2", controls="smile=0.5",
                       attrs="glasses=on", mode="delta", face="Largest")
    assert r.target == "happy" and r.strength == 0.5 and r.lighting == "left"
    assert r.aus == {12: 3.0, 6: 2.0} and r.controls == {"smile": 0.5} and r.attrs == {"glasses": 1.0}
    assert r.settings == {"mode": "delta"} and r.face == "largest"
    assert EditRequest(light=(35, 15)).light == "35,15" == EditRequest(light="35, 15").light
    assert EditRequest.of(r.target, r.strength, **r.keywords()) == r
    assert r.at("sad", 1.0) == dataclasses.replace(r, target="sad", strength=1.0)
    rec = EditRequest(light="35,15", light_strength=0.8).record_fields()
    assert rec["light"] == [35.0, 15.0] and rec["light_strength"] == 0.8 and rec["lighting"] is None


def test_editor_edit_checks_the_request_before_editing(tiny_ckpt, astronaut):
    from faceedit.api import Editor

    editor = Editor.from_pretrained(tiny_ckpt, device="cpu", detector="dlib")
    with pytest.raises(UsageError, match=r"`strength` 1.2: must be between 0 and 1"):
        editor.edit(astronaut, "bright", 1.2)  # no stage: no exaggeration
    with pytest.raises(UsageError, match=r"`controls`: unknown control 'frown'"):
        editor.edit(astronaut, "bright", controls={"frown": 1.0})
    with pytest.raises(UsageError, match=r"`lighting` left: model tiny does not relight"):
        editor.edit(astronaut, "bright", lighting="left")
    out = editor.edit(astronaut, EditRequest("bright", 0.5))
    assert (out == editor.edit(astronaut, "bright", 0.5)).all()


def test_the_apply_help_reads_the_declaration():
    from typer.testing import CliRunner

    from faceedit.cli import app

    text = re.sub(r"[\s│]+", " ", CliRunner().invoke(app, ["apply", "--help"], terminal_width=400).output)
    for name in ("light_strength", "light", "controls", "strength", "face"):
        assert FIELD[name].describe()[:60] in text, name
    source = (Path(__file__).parents[1] / "faceedit" / "cli" / "apply.py").read_text()
    assert "0.6" not in source and "1.5" not in source  # the defaults are the declaration's


def test_the_flow_threads_no_options():
    source = (Path(__file__).parents[1] / "faceedit" / "flow.py").read_text()
    assert "**options" not in source
