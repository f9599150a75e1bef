"""`faceedit apply`'s run options: declared once, by the fields of ApplyOptions (their Flag), from
which the command's options are made; frozen; checked against a model into a new record
(CheckedOptions), the options given left as they were."""

import dataclasses

import pytest
import typer.main

from faceedit.apply_options import AS_FIELD, ApplyOptions, CheckedOptions, flags
from faceedit.cli import app
from faceedit.errors import UsageError


def _apply_params() -> dict:
    command = typer.main.get_command(app).commands["apply"]  # type: ignore[attr-defined]
    return {p.name: p for p in command.params}


def test_every_run_option_is_the_commands_as_declared():
    params = _apply_params()
    fields = {f.name: f for f in dataclasses.fields(ApplyOptions)}
    assert flags(), "no field declares a flag"
    for name, flag in flags().items():
        p = params[name]  # the command's parameter bears the field's name
        assert list(flag.flags) == [*p.opts, *p.secondary_opts][:len(flag.flags)], name
        assert flag.help in (p.help or ""), name
        default = fields[name].default if flag.default is AS_FIELD else flag.default
        got = p.default.value if hasattr(p.default, "value") else p.default
        if flag.kind != "value":  # repeatable text: typer reads the tuple it is given
            got, default = tuple(got or ()), tuple(default or ())
        if default is not dataclasses.MISSING:
            assert got == default, name
        if flag.choices:  # the parser's choices: the default's Enum
            assert [c.value for c in type(p.default)] == list(flag.choices), name
    # the command's other parameters are its own: the request's fields, the model, the engine...
    assert not {"request", "measure"} & set(params)


def test_a_flags_bounds_are_the_parsers():
    params = _apply_params()
    for name, flag in flags().items():
        if flag.min is not None or flag.max is not None:
            assert (params[name].min, params[name].max) == (flag.min, flag.max), name


def test_options_are_frozen(tmp_path):
    opts = ApplyOptions(["happy"], str(tmp_path))
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.quality = 50  # type: ignore[misc]
    assert dataclasses.replace(opts, quality=50).quality == 50 and opts.quality == 95


def test_validate_gives_checked_options_and_leaves_the_given(tmp_path):
    from faceedit.api import Editor

    editor = Editor.from_pretrained("stage", device="cpu")
    given = ApplyOptions(["smile", "happy", "sad"], str(tmp_path / "o"), strengths=[1, 0.5, 1])
    checked = given.validate(editor)
    assert isinstance(checked, CheckedOptions) and checked.stage
    assert list(checked.targets) == ["happy", "sad"] and list(checked.strengths) == [1.0, 0.5]
    assert checked.name_template == "{stem}_{target}_{strength}{ext}"
    # the options given are as they were
    assert given.targets == ["smile", "happy", "sad"] and given.strengths == [1, 0.5, 1]
    assert given.name_template is None and not isinstance(given, CheckedOptions)
    with pytest.raises(UsageError, match="`strengths` 9"):
        ApplyOptions(["happy"], str(tmp_path / "o"), strengths=[9.0]).validate(editor)
