"""Issue 15, items 8-18: output names carry the run's conditions and tell same-named photos
apart, usage errors before any work, --json records, --version, help, progress, the sheet,
train's default budget and files passed over in folders."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from _datasets import make_dataset
from PIL import Image
from test_cli_apply import face_photo, no_face_photo, records, run, runner
from tiny_model import TARGETS, TinyEdit

from faceedit.cli import app
from faceedit.cli.common import progress
from faceedit.errors import UsageError
from faceedit.log import setup_logging
from faceedit.models.checkpoint import save_checkpoint
from faceedit.models.registry import ARCHS, register_arch


class CondTiny(TinyEdit):
    """The tiny test model with condition options: its own lighting classes, AUs 6 and 12, a
    glasses attribute, and a ``mode`` that must be a or b."""

    attributes = ["glasses"]

    @torch.no_grad()
    def edit(self, x, target, strength=1.0, *, lighting=None, aus=None, attrs=None, mode=None):
        if mode not in (None, "a", "b"):
            raise UsageError(f"unknown mode {mode!r}; use a or b")
        return super().edit(x, target, strength)


if "test-tiny-cond" not in ARCHS:
    register_arch("test-tiny-cond")(CondTiny)


@pytest.fixture(scope="module")
def cond_ckpt(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("cond") / "cond.safetensors"
    meta = {
        "arch": "test-tiny-cond", "config": {"channels": 3},
        "conditions": {"targets": TARGETS, "lighting": ["front", "left", "right"], "aus": [6, 12]},
        "image_size": 64, "channels": 3, "template": {"size": 64, "eye_dist": 0.30, "eye_y": 0.42},
        "training_data": "none (test model)", "license": "MIT", "color_match": False,
    }
    save_checkpoint(str(path), CondTiny({"channels": 3}).state_dict(), meta)
    return str(path)


@pytest.fixture
def photo(tmp_path, astronaut) -> Path:
    (tmp_path / "in").mkdir()
    return face_photo(tmp_path / "in" / "a.png", astronaut)


# ---- item 8: names carry the conditions ----------------------------------------------------


def test_default_names_carry_the_conditions(tmp_path, photo, cond_ckpt):
    out = tmp_path / "out"
    code, stdout, stderr = run("apply", "-m", cond_ckpt, "-t", "bright", "--lighting", "left", photo, "-o", out, "--json")
    assert code == 0, stderr
    assert Path(records(stdout)[0]["output"]).name == "a_bright_left.png"
    # another lighting into the same folder is another output, not "skipped (exist)"
    code, stdout, stderr = run("apply", "-m", cond_ckpt, "-t", "bright", "--lighting", "right", photo, "-o", out, "--json")
    assert code == 0 and records(stdout)[0]["status"] == "ok", stderr
    assert sorted(p.name for p in out.iterdir()) == ["a_bright_left.png", "a_bright_right.png"]
    code, stdout, _ = run("apply", "-m", cond_ckpt, "--au", "12=3.5,6=2", "--attr", "glasses=on", "-t", "bright",
                          "-s", "0.5", photo, "-o", out, "--json")
    assert code == 0 and Path(records(stdout)[0]["output"]).name == "a_bright_au12-3.5_au6-2_glasses-on_0.5.png"
    code, stdout, _ = run("apply", "-m", cond_ckpt, "-t", "dark", "--lighting", "front", photo, "-o", out,
                          "--name", "{lighting}/{stem}{ext}", "--json")
    assert code == 0 and records(stdout)[0]["output"] == str(out / "front" / "a.png")


def test_repeated_lighting_is_refused(tmp_path, photo, cond_ckpt):
    code, _, stderr = run("apply", "-m", cond_ckpt, "-t", "bright", "--lighting", "left", "--lighting", "right",
                          photo, "-o", tmp_path / "out")
    assert code == 2 and "--lighting given 2 times" in stderr and not (tmp_path / "out").exists()


# ---- items 9 and 10: {index}, collisions that suggest what works, -r mirrors ---------------


def test_same_named_photos_from_the_command_line(tmp_path, astronaut, tiny_ckpt):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    a, b = face_photo(tmp_path / "x" / "p.png", astronaut), face_photo(tmp_path / "y" / "p.png", astronaut)
    code, stdout, _ = run("apply", "-m", tiny_ckpt, "-t", "bright", a, b, "-o", tmp_path / "o", "--json")
    recs = records(stdout)
    assert code == 1 and recs[1]["status"] == "error"
    assert "{relparent}" not in recs[1]["error"]  # '' for both: it would not help
    suggested = re.search(r"--name '([^']+)'", recs[1]["error"]).group(1)
    assert suggested == "{stem}_{target}_{index}{ext}"
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", a, b, "-o", tmp_path / "o2",
                               "--name", suggested, "--json")
    assert code == 0, stderr
    assert [Path(r["output"]).name for r in records(stdout)] == ["p_bright_0.png", "p_bright_1.png"]


def test_recursive_default_name_mirrors_the_tree(tmp_path, astronaut, tiny_ckpt):
    for sub in ("x", "y"):
        (tmp_path / "in" / sub).mkdir(parents=True)
        face_photo(tmp_path / "in" / sub / "p.png", astronaut)
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", "-r", tmp_path / "in", "-o", tmp_path / "o", "--json")
    assert code == 0, stderr
    assert (tmp_path / "o" / "x" / "p_bright.png").is_file() and (tmp_path / "o" / "y" / "p_bright.png").is_file()


# ---- item 11: usage errors before any work ---------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--max-faces", "-1"], "--max-faces"),
    (["--max-pixels", "0"], "--max-pixels"),
])
def test_bad_limits_are_usage_errors(tmp_path, photo, tiny_ckpt, args, message):
    code, _, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", photo, "-o", tmp_path / "o", *args)
    assert code == 2 and message in stderr and not (tmp_path / "o").exists()
    for command in ("detect", "au"):
        if "--max-pixels" in args:
            code, _, stderr = run(command, photo, *(["-o", tmp_path / "d"] if command == "detect" else []), *args)
            assert code == 2 and message in stderr


def test_output_path_that_is_a_file_before_the_model_loads(tmp_path, photo):
    blocker = tmp_path / "out.png"
    blocker.write_bytes(b"a file")
    code, _, stderr = run("apply", "-m", "no-such-model", "-t", "bright", photo, "-o", blocker)
    assert code == 2 and "is a file, not a folder" in stderr and "no-such-model" not in stderr
    r = runner.invoke(app, ["detect", str(photo), "-o", str(blocker)])  # was a FileExistsError
    assert r.exit_code == 2 and "is a file, not a folder" in r.stderr and blocker.read_bytes() == b"a file"


@pytest.mark.parametrize("args, words", [
    (["--phase", "bogus"], ["--phase bogus", "has no phases"]),
    (["--set", "bogus=1"], ["--set bogus=1", "has no option 'bogus'", "it takes none"]),
    (["--lighting", "left"], ["--lighting left", "does not relight"]),
    (["--au", "12=3"], ["--au", "does not take AU intensities"]),
    (["--attr", "glasses=on"], ["--attr", "no attributes"]),
])
def test_model_options_are_checked_before_any_input_is_read(tmp_path, tiny_ckpt, args, words):
    missing = tmp_path / "missing.jpg"  # read first, it would be an error of the input
    code, _, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", missing, "-o", tmp_path / "o", *args)
    assert code == 2 and all(w in stderr for w in words), stderr
    assert "no such file" not in stderr


def test_option_values_are_checked_against_the_model(tmp_path, cond_ckpt):
    missing = tmp_path / "missing.jpg"
    for args, words in [
        (["--lighting", "sideways"], ["not a lighting class", "front, left, right, keep"]),
        (["--au", "1=2"], ["cannot move AU1", "6, 12"]),
        (["--attr", "hat=on"], ["--attr hat", "valid: glasses"]),
        (["--set", "mode=zzz"], ["unknown mode 'zzz'"]),  # the model's own check, on a blank crop
    ]:
        code, _, stderr = run("apply", "-m", cond_ckpt, "-t", "bright", missing, "-o", tmp_path / "o", *args)
        assert code == 2 and all(w in stderr for w in words) and "no such file" not in stderr, (args, stderr)


def test_lighting_and_aus_are_valid_on_a_model_with_a_stage(tmp_path, tiny_ckpt):
    from faceedit.api import Editor
    from faceedit.models.request import EditRequest
    from faceedit.stage.model import Stage

    def check(**options):
        editor.accepts().check(EditRequest(**options))

    editor = Editor.from_pretrained(tiny_ckpt, device="cpu")
    with pytest.raises(UsageError, match="model tiny does not relight"):
        check(lighting="left")
    editor.stage = Stage({"lighting": ["front", "left"], "aus": [6, 12]})
    check(lighting="left", aus={12: 2.0}, like=None)  # the stage relights, moves AU12, copies a face
    with pytest.raises(UsageError, match="not a lighting class of model tiny; valid: front, left, keep"):
        check(lighting="top")
    with pytest.raises(UsageError, match="cannot move AU1; it moves AUs 6, 12"):
        check(aus={1: 2.0})


# ---- item 13: --json records and model vocabularies ----------------------------------------


def test_json_records_say_model_conditions_and_no_faces_for_skipped(tmp_path, photo, cond_ckpt):
    out = tmp_path / "o"
    args = ["apply", "-m", cond_ckpt, "-t", "bright", "--lighting", "left", "--au", "12=3", "--attr",
            "glasses=off", photo, "-o", out, "--json"]
    code, stdout, _ = run(*args)
    rec = records(stdout)[0]
    assert code == 0 and rec["status"] == "ok" and rec["faces"] == 1
    assert rec["model"] == "cond" and rec["lighting"] == "left"
    assert rec["aus"] == {"12": 3.0} and rec["attrs"] == {"glasses": "off"}
    code, stdout, _ = run(*args)
    rec = records(stdout)[0]
    assert rec["status"] == "skipped" and rec["faces"] is None


def test_models_json_vocabularies():
    code, stdout, _ = run("models", "--json")
    rows = {r["name"]: r for r in json.loads(stdout)}
    assert code == 0
    assert rows["eggan"]["conditions"]["aus"] == [1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 45]
    assert rows["secgan"]["conditions"]["glasses"] == ["off", "on"]


def test_au_json_names_the_input(astronaut_png):
    code, stdout, stderr = run("au", "--json", "--detector", "dlib", astronaut_png)
    assert code == 0, stderr
    assert json.loads(stdout)["input"] == str(astronaut_png)


# ---- item 14: SeCGAN takes glasses="on" ------------------------------------------------------


def test_secgan_python_api_takes_glasses_on():
    from faceedit.models.secgan import SeCGAN

    torch.manual_seed(0)
    model = SeCGAN({"image_size": 16, "channels": 1, "base_channels": 4, "max_channels": 8, "n_res": 1,
                    "source_size": 16, "source_widths": [4, 8],
                    "attributes": {"expression": ["happy", "neutral"], "glasses": ["False", "True"]}}).eval()
    x = torch.rand(2, 1, 16, 16) * 2 - 1
    on = model.edit(x, "keep", attrs={"glasses": 1.0})
    for options in ({"glasses": "on"}, {"attrs": "glasses=on"}, {"attrs": {"glasses": "true"}}, {"glasses": "1"}):
        assert torch.allclose(model.edit(x, "keep", **options), on), options
    assert not torch.allclose(model.edit(x, "keep", glasses="off"), on)
    with pytest.raises(UsageError, match="glasses"):
        model.edit(x, "keep", glasses="maybe")


# ---- item 15: --version, help, progress, the detector notice --------------------------------


def test_version():
    from faceedit import __version__

    code, stdout, _ = run("--version")
    assert code == 0 and stdout.strip() == f"faceedit {__version__}"


def test_help_shows_no_type_for_flags_and_every_option_has_help():
    import typer.main

    for command in ("apply", "detect", "sheet", "eval", "train", "au", "models", "prepare"):
        code, stdout, _ = run(command, "--help")
        assert code == 0 and "<bool>" not in stdout, command
    group = typer.main.get_command(app)
    bare = [(name, p.name) for name, c in group.commands.items() if name != "train-stage"
            for p in c.params if not getattr(p, "help", None)]
    assert bare == []


def test_progress_bar_has_a_total_and_time_left(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    setup_logging(0)
    with progress("outputs") as advance:
        for _ in range(3):
            advance(total=3)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", term.getvalue())
    assert "3/3" in text and "eta" in text


def test_detector_notice_once_per_environment(tmp_path, monkeypatch, capsys):
    from faceedit.log import logger, setup_logging

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    notice = "face detector: %s%s", "dlib", " (not available: fan (face-alignment is not installed))"
    for verbosity, shown in ((0, True), (0, False), (1, True)):
        setup_logging(verbosity)
        logger.info(*notice)
        assert ("not available: fan" in capsys.readouterr().err) == shown, verbosity
    setup_logging(0)
    logger.info("face detector: %s%s", "dlib", "")  # nothing missing: not a notice, always shown
    assert "face detector: dlib" in capsys.readouterr().err


# ---- item 16: the sheet ----------------------------------------------------------------------


def test_photo_sheet_names_a_faceless_input_and_shows_the_face(tmp_path, astronaut_png, tiny_ckpt):
    blank = no_face_photo(tmp_path / "blank.png")
    out = tmp_path / "sheet.png"
    code, _, stderr = run("sheet", "-m", tiny_ckpt, "-t", "bright,dark", "--detector", "dlib",
                          astronaut_png, blank, "-o", out)
    assert code == 1 and f"{blank}: no face found" in stderr
    sheet = np.asarray(Image.open(out))
    assert 256 < sheet.shape[0] < 2 * 256  # one row: the astronaut's
    assert (sheet[:12] < 100).any() and (sheet[:, :12] < 100).any()  # column and row labels
    from faceedit.faces.detectors import get_detector

    faces = get_detector("dlib").detect(sheet)
    assert len(faces) == 3 and min(f.box[2] - f.box[0] for f in faces) > 80  # the face, not the photo


def test_data_sheet_warns_about_targets_without_pairs(tmp_path, tiny_ckpt):
    ds = make_dataset(tmp_path / "ds", labels=("neutral", "bright"), paired=True)
    out = tmp_path / "sheet.png"
    code, _, stderr = run("sheet", "-m", tiny_ckpt, "-t", "bright,dark", "-d", ds, "-o", out, "-n", "2")
    assert code == 0, stderr
    assert "(neutral, dark) pairs: dark is not on the sheet" in stderr
    code, _, stderr = run("sheet", "-m", tiny_ckpt, "-t", "dark", "-d", ds, "-o", tmp_path / "dark.png")
    assert code == 2 and "no held-out (neutral, target) pairs for dark" in stderr
    assert not (tmp_path / "dark.png").exists()


# ---- item 17: train with neither --steps nor --budget ----------------------------------------


def test_train_without_steps_or_budget_stops_at_the_stated_default(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEEDIT_PLUGINS", "tiny_trainer")
    from faceedit.cli import train

    monkeypatch.setattr(train, "DEFAULT_TRAIN_BUDGET", 0.003)  # 0.18 s
    ds = make_dataset(tmp_path / "ds", subjects=6, paired=True)
    code, _, stderr = run("train", "-m", "test-tiny-gan", "-d", ds, "-o", tmp_path / "run", "--no-eval",
                          "--sample-every", "0")
    assert code == 0, stderr
    assert "no --steps or --budget: training stops after 0.003 minutes" in stderr
    assert "(budget)" in stderr


# ---- item 18: image files a folder holds in formats we do not read ---------------------------


def test_unread_formats_in_a_folder_are_logged_and_counted(tmp_path, photo, tiny_ckpt):
    folder = photo.parent
    (folder / "anim.gif").write_bytes(b"GIF89a")
    (folder / "phone.HEIC").write_bytes(b"\0\0\0\x18ftypheic")
    (folder / "notes.txt").write_text("not an image")
    code, _, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", folder, "-o", tmp_path / "o")
    assert code == 0 and "1 written" in stderr and "2 not read" in stderr and "GIF, HEIC" in stderr
    assert "anim.gif: skipped" not in stderr
    code, _, stderr = run("-v", "apply", "-m", tiny_ckpt, "-t", "bright", folder, "-o", tmp_path / "o")
    assert f"{folder / 'anim.gif'}: skipped" in stderr and f"{folder / 'phone.HEIC'}: skipped" in stderr
    assert "notes.txt" not in stderr


# ---- the --like reference is checked once, before the batch ---------------------------------


def test_a_bad_like_reference_is_one_usage_error_naming_it(tmp_path, photo, tiny_ckpt):
    """An empty, folder or too-large --like photo: exit 2 with one line naming the reference,
    not one error per input photo, and nothing written."""
    from faceedit.api import Editor

    (tmp_path / "in" / "b.png").write_bytes(photo.read_bytes())
    empty = tmp_path / "face.jpg"
    empty.write_bytes(b"")
    big = face_photo(tmp_path / "big.png", np.zeros((400, 400, 3), np.uint8))
    out = tmp_path / "o"
    for like, extra, says in [(empty, [], "empty file"), (tmp_path / "in", [], "is a folder"),
                              (big, ["--max-pixels", "50000"], "image is 300 x 300"),
                              (tmp_path / "nosuch.jpg", [], "no such file")]:
        code, stdout, stderr = run("apply", "-m", tiny_ckpt, "--like", like, tmp_path / "in", "-o", out,
                                   "--json", *extra)
        assert code == 2, stderr
        assert stderr.count("\n") == 1 and f"--like {like}: {says}" in stderr, stderr
        assert stdout == "" and not out.exists()
    editor = Editor.from_pretrained(tiny_ckpt, device="cpu")  # the library names its parameter
    with pytest.raises(UsageError, match=f"`like` {re.escape(str(empty))}: empty file"):
        editor.reference_landmarks(str(empty))


def test_repeated_targets_and_strengths_are_edited_once(tmp_path, photo, tiny_ckpt):
    """-t bright,bright -s 0.5,0.5: one output and one record, as for a repeated input, and the
    log says why."""
    out = tmp_path / "o"
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright,bright", "-s", "0.5,0.5", photo,
                               photo, "-o", out, "--json")
    assert code == 0, stderr
    recs = records(stdout)
    assert len(recs) == 1 and recs[0]["status"] == "ok"
    assert [p.name for p in out.iterdir()] == ["a_bright_0.5.png"]
    assert "--target bright given more than once" in stderr and "--strength 0.5 given more than once" in stderr
    assert "1 written" in stderr


# ---- records name every condition; condition flags alone; messages that say what is wrong ---


class KeepTiny(TinyEdit):
    """The tiny test model with a ``keep`` target, two lighting classes, and the stage's
    ``controls`` and ``like`` among its keywords (a stand-in for a model on a stage)."""

    @torch.no_grad()
    def edit(self, x, target, strength=1.0, *, lighting=None, controls=None, like=None):
        return x.clone() if target == "keep" else super().edit(x, target, strength)


if "test-tiny-keep" not in ARCHS:
    register_arch("test-tiny-keep")(KeepTiny)


@pytest.fixture(scope="module")
def keep_ckpt(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("keep") / "keep.safetensors"
    meta = {
        "arch": "test-tiny-keep", "config": {"channels": 3, "targets": [*TARGETS, "keep"]},
        "conditions": {"targets": [*TARGETS, "keep"], "lighting": ["front", "left"]},
        "image_size": 64, "channels": 3, "template": {"size": 64, "eye_dist": 0.30, "eye_y": 0.42},
        "training_data": "none (test model)", "license": "MIT", "color_match": False,
    }
    save_checkpoint(str(path), KeepTiny({"channels": 3, "targets": [*TARGETS, "keep"]}).state_dict(), meta)
    return str(path)


def test_lighting_alone_means_keep_and_a_bad_class_is_named(tmp_path, photo, keep_ckpt):
    code, stdout, stderr = run("apply", "-m", keep_ckpt, "--lighting", "left", photo, "-o", tmp_path / "o", "--json")
    assert code == 0, stderr
    rec = records(stdout)[0]
    assert rec["target"] == "keep" and rec["lighting"] == "left" and rec["status"] == "ok"
    code, _, stderr = run("apply", "-m", keep_ckpt, "--lighting", "bogus", photo, "-o", tmp_path / "o2")
    assert code == 2 and "--lighting bogus: not a lighting class of model keep; valid: front, left, keep" in stderr


def test_json_records_carry_controls_and_like(tmp_path, photo, keep_ckpt):
    code, stdout, stderr = run("apply", "-m", keep_ckpt, "--control", "smile=0.5,brows=-0.3", "--like", photo,
                               photo, "-o", tmp_path / "o", "--json")
    assert code == 0, stderr
    rec = records(stdout)[0]
    assert rec["status"] == "ok" and rec["target"] == "keep"
    assert rec["controls"] == {"smile": 0.5, "brows": -0.3} and rec["like"] == str(photo)
    code, stdout, _ = run("apply", "-m", keep_ckpt, "-t", "bright", photo, "-o", tmp_path / "o2", "--json")
    rec = records(stdout)[0]
    assert rec["controls"] is None and rec["like"] is None  # the keys are always there


def test_set_lists_set_keys_not_the_flags_own_options(tmp_path, photo, keep_ckpt):
    code, _, stderr = run("apply", "-m", keep_ckpt, "-t", "bright", "--set", "foo=1", photo, "-o", tmp_path / "o")
    assert code == 2 and "model keep has no option 'foo'; it takes none" in stderr, stderr
    assert "controls" not in stderr and "like" not in stderr


def test_a_small_pixel_limit_is_said_as_it_is(tmp_path, photo, tiny_ckpt):
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", "--max-pixels", "100", photo,
                               "-o", tmp_path / "o", "--json")
    assert code == 1 and "above the limit of 0.0001 megapixels" in stderr, stderr


@pytest.mark.parametrize("args, says", [
    (["--name", ".{ext}"], "bad --name '.{ext}': its output names have nothing before their extension (add {stem})"),
    (["--name", "{stem}.png", "--ext", ".jpg"], "the names end in .png, --ext asks for .jpg"),
    (["--name", "x/.png"], "have nothing before their extension"),
    # the template is named, not a name made of placeholder values ('photo')
    (["--name", "{stem}"], "bad --name '{stem}': its output names have no image extension (add {ext})"),
])
def test_name_templates_that_contradict_are_refused(tmp_path, photo, tiny_ckpt, args, says):
    code, _, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", photo, "-o", tmp_path / "o", *args)
    assert code == 2 and says in stderr, stderr
    assert not (tmp_path / "o").exists()
    # agreeing ones still work: a literal extension of the --ext format, {ext} following --ext
    for ok in (["--name", "{stem}.jpeg", "--ext", ".jpg"], ["--name", "{stem}_x{ext}", "--ext", ".jpg"]):
        code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", photo, "-o", tmp_path / "ok", *ok,
                                   "--json", "--overwrite")
        assert code == 0, stderr
        assert Image.open(records(stdout)[0]["output"]).format == "JPEG"


def test_nothing_to_do_is_exit_1_from_stdin_as_from_a_folder(tmp_path, tiny_ckpt):
    (tmp_path / "empty").mkdir()
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", "-", "-o", tmp_path / "o", "--json",
                               input="")
    assert code == 1 and "no paths on standard input" in stderr, stderr
    assert records(stdout)[0]["status"] == "error"
    code, _, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", tmp_path / "empty", "-o", tmp_path / "o")
    assert code == 1 and "no photos or videos in folder" in stderr


# ---- what `models` and the help list ---------------------------------------------------------


def test_models_lists_every_target_a_model_takes():
    """The targets -t takes: the network's and those its stage applies alone (reggan -t neutral,
    -t keep; eggan -t wink)."""
    code, stdout, _ = run("models", "--json")
    rows = {r["name"]: r for r in json.loads(stdout)}
    assert code == 0
    assert {"neutral", "keep"} <= set(rows["reggan"]["targets"])
    assert "wink" in rows["eggan"]["targets"]


@pytest.mark.parametrize("command", ["apply", "detect", "sheet", "prepare", "au"])
def test_detector_help_lists_every_backend(command):
    from faceedit.faces.detectors import detector_names

    r = runner.invoke(app, [command, "--help"])
    assert r.exit_code == 0
    text = " ".join(r.stdout.replace("│", " ").split())  # the help's lines, unwrapped
    words = text[text.index("--detector"):].split("[default", 1)[0]
    words = set(words.replace("|", " ").replace(",", " ").replace(".", " ").split())
    assert set(detector_names()) <= words, words


def test_eval_sheet_has_column_labels(tmp_path):
    from faceedit.eval.evaluate import _write_sheet

    x = torch.zeros(2, 3, 64, 64)
    _write_sheet(tmp_path / "s.png", x, [("happy", x), ("sad", x)])
    img = np.asarray(Image.open(tmp_path / "s.png").convert("L"))
    grid_h = 2 * (64 + 2) + 2
    assert img.shape[0] > grid_h  # a header band above the rows
    header = img[: img.shape[0] - grid_h]
    assert (header < 100).sum() > 50  # dark text: the column names


# ---- {model} in --name; the README's examples do not write over each other ------------------


def test_model_field_tells_models_apart_in_one_folder(tmp_path, photo, tiny_ckpt, cond_ckpt):
    out = tmp_path / "o"
    for ckpt in (tiny_ckpt, cond_ckpt):
        code, stdout, stderr = run("apply", "-m", ckpt, "-t", "bright", "-s", "0.5", "--name",
                                   "{stem}_{model}_{strength}{ext}", photo, "-o", out, "--json")
        assert code == 0 and records(stdout)[0]["status"] == "ok", stderr
    assert sorted(p.name for p in out.iterdir()) == ["a_cond_0.5.png", "a_tiny_0.5.png"]


def test_readme_apply_examples_write_distinct_files():
    """Two README examples of different models that write into one folder must name their
    outputs apart ({model} in --name): they wrote the same files (the second skipped as existing)."""
    import shlex

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    by_folder: dict[str, list[tuple[str, str]]] = {}
    for line in readme.splitlines():
        if not line.lstrip().startswith("faceedit apply") and "| faceedit apply" not in line:
            continue
        words = shlex.split(line.split("faceedit apply", 1)[1].split("#", 1)[0].split(">", 1)[0])
        opt = {w: words[i + 1] for i, w in enumerate(words[:-1]) if w.startswith("-")}
        model = opt.get("-m") or opt.get("--model")
        folder = (opt.get("-o") or opt.get("--out")).rstrip("/")
        by_folder.setdefault(folder, []).append((model, opt.get("--name", "")))
    for folder, runs in by_folder.items():
        if len({m for m, _ in runs}) > 1:
            assert all("{model}" in name for _, name in runs), (folder, runs)


# ---- usage errors are answered without importing torch ----------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("args", [
    ["apply", "-m", "reggan", "PHOTO", "-o", "OUT"],  # no target
    ["apply", "-m", "reggan", "-t", "happy", "-s", "x", "PHOTO", "-o", "OUT"],
    ["apply", "-m", "reggan", "-t", "happy", "--name", "{bogus}", "PHOTO", "-o", "OUT"],
    ["train", "-m", "reggan", "-o", "OUT"],  # no data
    ["prepare", "IN", "-o", "OUT", "--size", "0"],
], ids=lambda a: " ".join(a))
def test_usage_errors_do_not_import_torch(tmp_path, photo, args):
    """Importing torch is 2-3 s of a command's start on a small machine: a usage error that
    needs no model is answered before it (python -X importtime lists every module imported)."""
    import subprocess

    args = [str(photo) if a == "PHOTO" else str(photo.parent) if a == "IN" else str(tmp_path / "o")
            if a == "OUT" else a for a in args]
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "faceedit", *args], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 2, r.stderr[-2000:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")]
    assert imported and "torch" not in imported, [m for m in imported if m.startswith("torch")][:3]


# ---- choices from the real vocabularies; library parameter names as flags; --set values ------


def test_detector_choices_are_the_registrys():
    from faceedit.cli.common import DetectorName
    from faceedit.faces.detectors import detector_names

    assert [d.value for d in DetectorName] == ["auto", *detector_names()]


def test_on_no_face_choices_are_the_libraries():
    from faceedit.apply_options import ON_NO_FACE
    from faceedit.cli.apply import OnNoFace

    assert [c.value for c in OnNoFace] == list(ON_NO_FACE)


def test_bad_choice_is_a_usage_error_naming_the_choices(tmp_path, photo):
    code, _, stderr = run("apply", "-m", "stage", "-t", "happy", photo, "-o", tmp_path / "o",
                          "--detector", "nope")
    assert code == 2 and "dlib-cnn" in stderr and "mediapipe" in stderr
    code, _, stderr = run("apply", "-m", "stage", "-t", "happy", photo, "-o", tmp_path / "o",
                          "--on-no-face", "nope")
    assert code == 2 and "'skip'" in stderr and "'copy'" in stderr


def test_library_parameter_names_become_the_commands_flags():
    import typer.main

    from faceedit.cli.common import in_flag_words

    group = typer.main.get_command(app)
    apply_, train = group.commands["apply"], group.commands["train"]
    assert in_flag_words("`strength` -1: must be 0 or more", apply_) == "--strength -1: must be 0 or more"
    assert in_flag_words("`on_no_face` 'x'; valid: error, skip, copy", apply_) == \
        "--on-no-face 'x'; valid: error, skip, copy"
    assert in_flag_words("`name_template` {x}: no such field", apply_) == "--name {x}: no such field"
    assert in_flag_words("`perceptual` x: not a file", train) == "--vgg19 x: not a file"  # flag != name
    assert in_flag_words("`bogus` and `faceedit models` stay", apply_) == "`bogus` and `faceedit models` stay"
    assert in_flag_words("face detector 'x' is not available", apply_) == "face detector 'x' is not available"


def test_library_usage_error_reaches_stderr_in_flag_words(tmp_path, photo, monkeypatch):
    from faceedit import apply_options

    def check(self):
        raise UsageError("`max_faces` 3: too few for this test")

    monkeypatch.setattr(apply_options.ApplyOptions, "check", check)
    code, _, stderr = run("apply", "-m", "stage", "-t", "happy", photo, "-o", tmp_path / "o")
    assert code == 2 and "--max-faces 3: too few for this test" in stderr


def test_set_values_are_json_where_json_else_text():
    from faceedit.cli.common import parse_settings

    got = parse_settings(["a=64", "b=true", "c=[1, 2]", 'd="64"', "e=delta", " f = x y "], "--set")
    assert got == {"a": 64, "b": True, "c": [1, 2], "d": "64", "e": "delta", "f": "x y"}
    with pytest.raises(UsageError, match="--option 'a': expected KEY=VALUE"):
        parse_settings(["a"], "--option")


def test_importing_faceedit_sets_no_process_settings():
    """``import faceedit`` leaves the environment alone; the command sets its BLAS default."""
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    code = ("import os, faceedit, faceedit.api; assert 'OPENBLAS_NUM_THREADS' not in os.environ\n"
            "import faceedit.cli; assert os.environ['OPENBLAS_NUM_THREADS'] == '1'\n")
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=300)
