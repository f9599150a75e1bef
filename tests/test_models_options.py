"""Issue 14 item 7: each method declares the options its network takes (the stage what it
provides); the command line checks --target / --lighting / --au / --attr / --set / --phase
against that declaration and the checkpoint headers before any weights load."""

from __future__ import annotations

import re

import pytest
from test_cli_apply import run

from faceedit.errors import UsageError
from faceedit.models import checkpoint, loading
from faceedit.models.hub import resolve_weights
from faceedit.models.options import model_options
from faceedit.models.registry import get_spec, model_names
from faceedit.models.request import EditRequest

NAMES = model_names()


def accepted(name: str) -> list[dict]:
    """One option dict per thing model ``name`` takes, from its own declaration."""
    o = model_options(name)
    out = [{}]
    if o.all_lighting:
        out += [{"lighting": o.all_lighting[0]}, {"lighting": "keep"}]
    if o.all_aus:
        out.append({"aus": {o.all_aus[0]: 2.0}})
    if o.all_attributes:
        out.append({"attrs": {o.all_attributes[0]: 1.0}})
    out += [{"phase": v} for v in o.phases]
    return out


@pytest.mark.parametrize("name", NAMES)
def test_declared_options_accept_what_the_model_takes(name):
    o = model_options(name)
    assert o is not None and o.name == name
    o.check_targets(o.all_targets())
    for options in accepted(name):
        o.check(EditRequest(**options))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("options, words", [
    ({"lighting": "sideways"}, "`lighting` sideways"),
    ({"attrs": {"hat": 1.0}}, "`attrs` hat"),
    ({"bogus": "1"}, "`settings` bogus=1"),
])
def test_declared_options_refuse_what_it_does_not(name, options, words):
    with pytest.raises(UsageError) as e:
        model_options(name).check(EditRequest.of(**options))
    assert words in str(e.value) and re.search(rf"model {name}\b", str(e.value)), str(e.value)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_target_and_phase_are_refused(name):
    o = model_options(name)
    with pytest.raises(UsageError, match="unknown target 'bogus'; valid targets: "):
        o.check_targets(["bogus"])
    with pytest.raises(UsageError, match=rf"`phase` bogus: .*model {name}\b"):
        o.check(EditRequest(phase="bogus"))


@pytest.mark.parametrize("name", NAMES)
def test_declaration_agrees_with_the_loaded_model(name):
    """The pre-load description (declaration + headers) is what the loaded model takes."""
    from faceedit.api import Editor

    before = model_options(name)
    editor = Editor.from_pretrained(name, device="cpu")
    after = editor.accepts()
    stage_targets = before.stage.targets if before.stage else []
    # the network's own extra targets (EGGAN's "custom") are not the loaded model's; the stage's
    # ("au" is both EGGAN's and the stage's) are
    want = [t for t in before.all_targets() if t not in before.extra_targets or t in stage_targets]
    assert sorted(want) == sorted(after.all_targets()) and len(want) == len(after.all_targets())
    for t in before.extra_targets:  # EGGAN's free-form au: not in the header, taken all the same
        editor.check_target(t)
    assert before.all_lighting == after.all_lighting
    assert before.all_aus == after.all_aus
    assert before.all_attributes == after.all_attributes
    assert before.taken == after.taken


def test_a_checkpoint_path_is_described_from_its_header():
    path = resolve_weights(get_spec("legan"), allow_download=False)
    o = model_options(str(path))
    assert o.lighting == get_spec("legan").conditions["lighting"]
    with pytest.raises(UsageError, match="not a lighting class of model legan"):
        o.check(EditRequest(lighting="sideways"))


def test_apply_refuses_a_lighting_class_before_loading_weights(tmp_path, monkeypatch):
    def no_loading(*args, **kwargs):
        raise AssertionError("weights were loaded")

    from faceedit.api import Editor

    monkeypatch.setattr(checkpoint, "load_checkpoint", no_loading)
    monkeypatch.setattr(loading, "load_checkpoint", no_loading)
    monkeypatch.setattr(Editor, "from_pretrained", classmethod(no_loading))
    code, _, stderr = run("apply", "-m", "reggan", "--lighting", "bogus", "-t", "happy",
                          tmp_path / "x.jpg", "-o", tmp_path / "out")
    assert code == 2, stderr
    assert "--lighting bogus: not a lighting class of model reggan; valid: front" in stderr
    code, _, stderr = run("apply", "-m", "reggan", "--lighting", "bogus", tmp_path / "x.jpg",
                          "-o", tmp_path / "out")  # no target: the usage error that names one
    assert code == 2 and not (tmp_path / "out").exists()
    code, _, stderr = run("apply", "-m", "legan", "-t", "happy", "--set", "mode=x", tmp_path / "x.jpg",
                          "-o", tmp_path / "out")
    assert code == 2 and "--set mode=x: model legan has no option 'mode'" in stderr


def test_models_lists_the_options():
    import json

    code, stdout, _ = run("models", "--json")
    rows = {r["name"]: r for r in json.loads(stdout)}
    assert code == 0
    assert rows["reggan"]["options"]["phase"] == ["expression", "refined"]
    assert "glasses" in rows["secgan"]["options"]["attributes"]
    assert rows["legan"]["options"]["lighting"] == model_options("legan").all_lighting
    code, stdout, _ = run("models")
    assert code == 0 and "reggan: relights: " in stdout


def test_models_lists_the_stage_s_controls_by_name_with_their_range():
    """`models --json` listed the stage's controls as ["controls", "like"] (the option names):
    now each named control with its range, from the request's declaration, and whether the
    model takes --light and --like."""
    import json

    from faceedit.models.request import FIELD, control_ranges

    code, stdout, _ = run("models", "--json")
    rows = {r["name"]: r for r in json.loads(stdout)}
    for name in ("stage", "reggan"):  # the stage's, and those of a model on it
        options = rows[name]["options"]
        assert options["controls"] == {c: list(control_ranges()[c]) for c in FIELD["controls"].allowed}
        assert options["controls"]["blink"] == [0.0, 1.0] and options["controls"]["gaze_x"] == [-1.0, 1.0]
        assert options["like"] is True and options["light"] is True
    code, stdout, _ = run("models")
    assert code == 0 and "--control: smile, mouth, brows, eyes, gaze_x" in stdout and "blink, wink_left, wink_right, aaa (0..1)" in stdout


def test_models_lists_each_field_a_model_takes_as_declared():
    """`models --json` gives, per model, the request's fields it takes as the declaration states
    them, with the model's own values: what a form for the model is built from."""
    import json

    from faceedit.models.request import FIELD

    code, stdout, _ = run("models", "--json")
    rows = {r["name"]: {f["name"]: f for f in r["options"]["fields"]} for r in json.loads(stdout)}
    reggan = rows["reggan"]
    assert reggan["phase"]["choices"] == ["expression", "refined"]
    assert reggan["settings"]["choices"] == ["refine"]  # its one setting: its refiner's switch
    assert reggan["light_strength"]["help"] == FIELD["light_strength"].describe()
    assert reggan["light_strength"]["range"] == [0.0, 1.0] and reggan["strength"]["range"] == [0.0, 1.5]
    assert reggan["lighting"]["choices"] == [*model_options("reggan").all_lighting, "keep"]
    assert reggan["target"]["choices"] == model_options("reggan").all_targets()
    assert rows["eggan"]["settings"]["choices"] == ["mode", "refine", "source_aus"] and "phase" not in rows["eggan"]
