"""The library's errors name its parameters in its own words (`max_faces`), the command line
turns them into its flags (--max-faces); the typed options of the commands (--face, --device,
--engine, --video-preset) refuse a bad value as a usage error naming the flag."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest
from test_cli_apply import run

import faceedit
from faceedit.cli import app
from faceedit.errors import FaceEditError, UsageError

PACKAGE = Path(faceedit.__file__).parent

# A command-line flag in a message: a long one (--max-faces) or a short one (-t) standing alone.
FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z](?=[\s,;:)]|$))")

# Messages of the library that name a command line on purpose, with the reason: (file, flag).
ALLOWED = {
    ("faceedit/ray_engine.py", "--head"): "`ray start --head`: the command that starts a Ray head node",
    ("faceedit/weights.py", "--update-manifest"): "the command that pins a retrained weights file",
    ("faceedit/weights.py", "-m"): "the same command (python -m faceedit.models.manifest)",
}

LOG_CALLS = {"debug", "info", "warning", "error", "exception", "critical"}


def _texts(node: ast.AST) -> list[ast.Constant]:
    """The string constants under ``node`` (the literal parts of f-strings included)."""
    return [n for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _messages(tree: ast.AST):
    """(line, text) of every string literal in a ``raise``, in the making of an error
    (``UsageError(...)`` where it is not raised at once) and in a ``logger.<level>(...)`` call."""
    found: dict[int, tuple[int, str]] = {}  # a literal once, however many of these hold it
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            found.update((id(t), (node.lineno, t.value)) for t in _texts(node.exc))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id.endswith("Error")):
            found.update((id(t), (node.lineno, t.value)) for t in _texts(node))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in LOG_CALLS and isinstance(node.func.value, ast.Name)
              and node.func.value.id == "logger"):
            found.update((id(t), (node.lineno, t.value)) for t in _texts(node))
    yield from sorted(found.values())


def flag_words_in_library_messages() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).as_posix()
        if rel.startswith("faceedit/cli/"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        for line, text in _messages(tree):
            for flag in FLAG.findall(text):
                if (rel, flag) not in ALLOWED:
                    found.append(f"{rel}:{line}: {flag} in {text!r}")
    return found


def test_library_messages_name_parameters_not_flags():
    """An error or log message of the library writes the parameter it names as Python spells it,
    in backquotes (`max_faces`), for the command line to turn into its flag (``in_flag_words``);
    a flag written into the library is wrong for a Python caller and goes stale when a flag is
    renamed."""
    found = flag_words_in_library_messages()
    assert not found, "name the parameter in backquotes instead:\n" + "\n".join(found)


def test_the_flag_finder_finds_flags(tmp_path):
    tree = ast.parse('raise UsageError(f"--max-faces {n}: bad")\nlogger.info("use -t happy")\n'
                     'raise UsageError(f"`max_faces` {n}: bad, -1 or non-negative")\n')
    assert sorted(f for _, t in _messages(tree) for f in FLAG.findall(t)) == ["--max-faces", "-t"]


# -- the Python API: the parameter's name ----------------------------------------------------

def _no_flags(message: str) -> None:
    assert not FLAG.search(message), message


@pytest.mark.parametrize("field, value, name", [
    ("max_faces", -1, "`max_faces`"), ("strengths", [-0.5], "`strengths`"), ("face", "second", "`face`"),
    ("on_no_face", "ignore", "`on_no_face`"), ("batch_size", 0, "`batch_size`"), ("quality", 101, "`quality`"),
    ("max_pixels", 0, "`max_pixels`"), ("workers", 0, "`workers`"),
])
def test_apply_options_errors_name_the_parameter(tmp_path, field, value, name):
    from faceedit.apply_options import ApplyOptions

    opts = ApplyOptions(targets=["happy"], out_dir=str(tmp_path / "o"), **{field: value})
    with pytest.raises(UsageError) as e:
        opts.check()
    assert name in str(e.value)
    _no_flags(str(e.value))


def test_library_functions_name_their_parameters(tmp_path):
    from faceedit.device import resolve_device
    from faceedit.errors import TooManyFacesError
    from faceedit.faces.types import Face
    from faceedit.flow import select_faces
    from faceedit.train.run_folder import check_run_folder

    faces = [Face(box=np.array([0.0, 0.0, s, s]), landmarks=np.zeros((5, 2)), score=1.0) for s in (10, 20, 30)]
    with pytest.raises(TooManyFacesError, match=r"more than `max_faces` 2 \(raise `max_faces`, or pick one "
                                                r"with `face` largest\|N\)"):
        select_faces(faces, "all", 2)
    with pytest.raises(FaceEditError, match="`face` 5: only 3 face"):
        select_faces(faces, "5")
    with pytest.raises(UsageError, match="unknown `device` 'gpu'; valid: auto, cpu, cuda, mps, cuda:N"):
        resolve_device("gpu")
    with pytest.raises(UsageError, match="unknown `device` 'cuda:x'"):  # not a torch error
        resolve_device("cuda:x")
    with pytest.raises(UsageError, match=f"`resume` continues the run in {re.escape(str(tmp_path))}, "
                                         "`overwrite` discards it"):
        check_run_folder(tmp_path, resume=True, overwrite=True)


def test_editor_errors_name_the_parameter(tiny_ckpt, astronaut):
    from faceedit.api import Editor

    editor = Editor.from_pretrained(tiny_ckpt, device="cpu")
    with pytest.raises(UsageError) as e:
        editor.edit(astronaut, "bright", face="second")
    assert "`face` 'second'" in str(e.value)
    _no_flags(str(e.value))
    with pytest.raises(UsageError, match="unknown `device` 'gpu'"):
        Editor.from_pretrained(tiny_ckpt, device="gpu")


# -- the command line: the flag ----------------------------------------------------------------

def _command(name: str):
    import typer.main

    return typer.main.get_command(app).commands[name]


@pytest.mark.parametrize("command, library, flag", [
    ("apply", "`aus`: model x cannot move AU4", "--au: model x cannot move AU4"),
    ("apply", "`attrs` hat: not an attribute", "--attr hat: not an attribute"),
    ("apply", "`controls`", "--control"),
    ("apply", "`codec` x: not an encoder", "--video-codec x: not an encoder"),
    ("apply", "`address` x: give HOST:PORT", "--ray-address x: give HOST:PORT"),
    ("apply", "`model_options` mode=x: no option", "--set mode=x: no option"),
    ("apply", "`gpus_per_worker` needs `device` auto or cuda", "--gpus-per-worker needs --device auto or cuda"),
    ("apply", "bad `name_template` '{x}'", "bad --name '{x}'"),
    ("prepare", "pass `preset` (london, ...) or a `csv_path` file", "pass --preset (london, ...) or a --csv file"),
    ("prepare", "`size` 8: crops must be", "--size 8: crops must be"),
    ("train", "`options` x: no trainer option", "--option x: no trainer option"),
    ("train", "`config` n: not from `config`", "--set n: not from --set"),
    ("train", "`init` x", "--init x"), ("train", "`ckpt_every` -1", "--ckpt-every -1"),
    ("train", "unknown `amp` 'fp8'", "unknown --amp 'fp8'"),
    ("train-analysis", "`resume` continues the run in r, `overwrite` discards it",
     "--resume continues the run in r, --overwrite discards it"),
])
def test_library_names_become_each_commands_flags(command, library, flag):
    from faceedit.cli.common import in_flag_words

    assert in_flag_words(library, _command(command)) == flag


def test_every_parameter_the_library_names_has_a_flag():
    """Each name in backquotes in a library message is a parameter some command has a flag for
    (through ``_LIBRARY_NAMES`` where the names differ), so that it reaches a command line user
    as a flag; a name the command line cannot set is written so that it is not taken for one
    (``LoopConfig.holdout``)."""
    from faceedit.cli.common import in_flag_words

    commands = [_command(c) for c in ("apply", "prepare", "train", "train-analysis", "eval", "detect", "ui")]
    unmapped = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "cli" in path.parts:
            continue
        for line, text in _messages(ast.parse(path.read_text(encoding="utf-8"))):
            for name in re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", text):
                if not any(in_flag_words(f"`{name}`", c).startswith("--") for c in commands):
                    unmapped.append(f"{path.relative_to(PACKAGE.parent)}:{line}: `{name}`")
    assert not unmapped, "no command has a flag for:\n" + "\n".join(unmapped)


def test_library_errors_reach_stderr_as_flags(tmp_path, astronaut):
    from test_cli_apply import face_photo

    photo = face_photo(tmp_path / "p.png", astronaut)
    code, _, stderr = run("apply", "-m", "stage", "-t", "happy", photo, "-o", tmp_path / "o", "--quality", "0")
    assert code == 2 and "--quality 0: must be between 1 and 100" in stderr and "`" not in stderr
    code, _, stderr = run("apply", "-m", "stage", "-t", "happy", photo, "-o", tmp_path / "o", "-s", "-1")
    assert code == 2 and "--strength -1: must be 0 or more" in stderr and "`" not in stderr


@pytest.mark.parametrize("args, flag, says", [
    (["--face", "second"], "--face", "all, largest, or a face number"),
    (["--face", "-1"], "--face", "all, largest, or a face number"),
    (["--device", "gpu"], "--device", "auto, cpu, cuda, cuda:N, mps"),
    (["--device", "cuda:"], "--device", "auto, cpu, cuda, cuda:N, mps"),
    (["--engine", "spark"], "--engine", "'ray'"),
    (["--video-preset", "quick"], "--video-preset", "'veryslow'"),
    (["--precision", "fp8"], "--precision", "'bf16'"),
])
def test_typed_options_refuse_bad_values_naming_the_flag(tmp_path, args, flag, says):
    code, _, stderr = run("apply", "-m", "stage", "-t", "happy", tmp_path / "x.jpg", "-o", tmp_path / "o", *args)
    assert code == 2 and f"Invalid value for '{flag}'" in stderr and says in stderr, stderr
    assert stderr.count("\n") == 1  # one line, as faceedit's own errors
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args, says", [
    (["-m", "stage", "--face", "-1"], "apply: Invalid value for '--face'"),
    (["-m", "stage", "--crf", "99"], "apply: Invalid value for '--crf'"),
    (["-m", "stage", "--device", "tpu"], "apply: Invalid value for '--device': 'tpu'"),
    (["-t", "happy"], "apply: Missing option '--model'"),
    (["-m", "stage", "--no-such-option"], "apply: No such option: --no-such-option"),
])
def test_parser_errors_are_one_line_exit_2(tmp_path, args, says):
    """The option parser's usage errors read as faceedit's own: `faceedit: error:` and the
    reason on one line naming the command, exit 2 (no box of several lines)."""
    code, stdout, stderr = run("apply", tmp_path / "x.jpg", "-o", tmp_path / "o", *args)
    assert code == 2 and stderr.startswith(f"faceedit: error: {says}") and stderr.count("\n") == 1, stderr
    assert "faceedit apply --help" in stderr and not stdout
    code, _, stderr = run("no-such-command")
    assert code == 2 and stderr == "faceedit: error: No such command 'no-such-command'. (faceedit --help)\n"


def test_prepare_preset_is_a_choice(tmp_path):
    (tmp_path / "raw").mkdir()
    code, _, stderr = run("prepare", tmp_path / "raw", "-o", tmp_path / "ds", "--preset", "celeba")
    assert code == 2 and "--preset" in stderr and "'paired'" in stderr, stderr


def test_help_lists_the_real_choices_and_defaults(monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # one line per option
    code, stdout, _ = run("apply", "--help")
    assert code == 0
    lines = {line.split()[1]: line for line in stdout.splitlines() if line.split()[1:2] and
             line.split()[1].startswith("--")}
    assert "<all|largest|N>" in lines["--face"] and "[default: all]" in lines["--face"]
    assert "<auto|cpu|cuda|cuda:N|mps>" in lines["--device"] and "[default: auto]" in lines["--device"]
    assert "<local|ray>" in lines["--engine"] and "[default: local]" in lines["--engine"]
    assert "<ultrafast|superfast|" in lines["--video-preset"] and "[default: superfast]" in lines["--video-preset"]


# -- the choices are the library's ---------------------------------------------------------

def test_face_choices_are_what_the_library_takes(tmp_path):
    from faceedit.apply_options import ApplyOptions
    from faceedit.cli.apply import parse_face

    for word in ("all", "largest", "0", "3", "LARGEST"):
        ApplyOptions(targets=["happy"], out_dir=str(tmp_path), face=parse_face(word)).check()
    for word in ("-1", "1.5", "both", ""):
        with pytest.raises(Exception):  # noqa: B017 (typer's BadParameter)
            parse_face(word)
        with pytest.raises(UsageError):
            ApplyOptions(targets=["happy"], out_dir=str(tmp_path), face=word).check()


def test_device_choices_are_what_the_library_takes():
    from faceedit.cli.common import parse_device
    from faceedit.device import resolve_device

    for word in ("auto", "cpu", "cuda", "cuda:1", "mps", "CPU"):
        try:
            resolve_device(parse_device(word))
        except UsageError as e:  # on a machine without it: absent, not unknown
            assert "not available" in str(e)
    for word in ("gpu", "cuda:", "cuda:x", "cuda1", "tpu"):
        with pytest.raises(Exception):  # noqa: B017 (typer's BadParameter)
            parse_device(word)
        with pytest.raises(UsageError, match="unknown `device`"):
            resolve_device(word)


def test_precision_choices_are_the_libraries():
    from faceedit.cli.common import Amp, Precision
    from faceedit.device import PRECISION_ALIASES, PRECISIONS

    assert [p.value for p in Precision] == list(PRECISIONS)
    assert [p.value for p in Amp] == [*PRECISIONS, *PRECISION_ALIASES]


def test_preset_choices_are_the_libraries():
    from faceedit.cli.apply import DEFAULT_VIDEO_PRESET, Engine, VideoPreset
    from faceedit.cli.train import DatasetPreset
    from faceedit.train.presets import PRESETS as DATASET_PRESETS
    from faceedit.video.container import DEFAULT_PRESET, PRESETS

    assert [p.value for p in VideoPreset] == list(PRESETS) and DEFAULT_VIDEO_PRESET.value == DEFAULT_PRESET
    assert [p.value for p in DatasetPreset] == list(DATASET_PRESETS)
    assert [e.value for e in Engine] == ["local", "ray"]


def test_the_encoders_preset_is_named_video_preset():
    """EncodeOptions' `preset` is apply's --video-preset (--preset reads a preset file);
    prepare's dataset `preset` stays its --preset."""
    import typer

    from faceedit.cli import app
    from faceedit.cli.common import in_flag_words

    apply_command = typer.main.get_command(app).commands["apply"]
    prepare_command = typer.main.get_command(app).commands["prepare"]
    assert in_flag_words("`preset` 'x': not an x264/x265 preset", apply_command) == "--video-preset 'x': not an x264/x265 preset"
    assert in_flag_words("pass `preset` (london, ...)", prepare_command) == "pass --preset (london, ...)"
