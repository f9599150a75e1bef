"""Options at their edges (issue 52): what `faceedit models` lists is what `apply` takes,
`--lighting keep` leaves the light on every model, and the small ones: numbers, repeated keys,
name templates, the help's words."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from faceedit.cli import app

ONE_TORCH_THREAD = True


def run(*args):
    r = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    from _imgs import astronaut
    from PIL import Image

    path = tmp_path_factory.mktemp("in") / "a.png"
    Image.fromarray(np.asarray(astronaut())[:300, 60:360]).save(path)
    return path


def fields(name: str) -> dict:
    from faceedit.models.loading import list_models

    row = next(r for r in list_models() if r["name"] == name)
    return {f["name"]: f for f in row["options"]["fields"]}


def test_models_lists_only_the_aus_and_glasses_words_apply_takes():
    """EGGAN's AUs 9, 10 and 14 (not estimable in its data) are not listed; no model lists
    glasses off (the stage refuses it, and no network takes them off); every listed AU and
    glasses word passes the network's and the stage's own checks."""
    from faceedit.api import Editor
    from faceedit.models.options import model_options
    from faceedit.models.request import EditRequest

    eggan = Editor.from_pretrained("eggan")
    listed = fields("eggan")["aus"]["choices"]
    assert not {9, 10, 14} & set(listed) and {12, 6, 45} <= set(listed)
    network = eggan.loaded.model
    for au in listed:
        if au in network.au_ids:
            network.parse_aus({au: 2.0})  # raises for an AU it cannot edit
        eggan.check_request(EditRequest(target="au", aus={au: 2.0}))
    stage = Editor.from_pretrained("stage").loaded.model
    for name in ("stage", "reggan", "eggan", "legan", "lssl", "secgan"):
        words = fields(name)["attrs"]["values"]["glasses"]
        assert "off" not in words and "on" in words, name
        for word in words:
            model_options(name).check(EditRequest(attrs={"glasses": word}))
            stage.attribute_amounts({"glasses": word})
    code, stdout, _ = run("models")
    text = " ".join(stdout.split())
    assert code == 0 and "--attr glasses= takes on, a number 0.5..1, or a style" in text
    assert "AUs: 1, 2, 4, 5, 6, 7, 12, 15, 17, 20, 23, 25, 26, 45; attributes" in text
    assert ", 9, 10, 14" not in text


def test_an_au_a_model_cannot_move_is_refused_naming_au(photo, tmp_path):
    code, _, stderr = run("apply", photo, "-m", "eggan", "--au", "9=2", "-o", tmp_path)
    assert code == 2 and "--au" in stderr and "aus:" not in stderr and "AU9" in stderr, stderr


@pytest.mark.parametrize("model", ["lssl", "legan", "stage"])
def test_lighting_keep_leaves_the_light(photo, tmp_path, model):
    """`--lighting keep` is listed for every model that relights: it edits as without
    `--lighting` (no relight), the record saying keep."""
    assert "keep" in fields(model)["lighting"]["choices"]
    code, stdout, stderr = run("apply", photo, "-m", model, "-t", "happy", "--lighting", "keep",
                               "-o", tmp_path / "keep", "--json")
    assert code == 0, stderr
    record = json.loads(stdout.splitlines()[0])
    assert record["status"] == "ok" and record["lighting"] == "keep"
    code, stdout, stderr = run("apply", photo, "-m", model, "-t", "happy", "-o", tmp_path / "plain", "--json")
    assert code == 0, stderr
    plain = json.loads(stdout.splitlines()[0])["output"]
    # pixel for pixel (the files' metadata record the conditions, `--lighting keep` among them)
    assert np.array_equal(np.asarray(Image.open(record["output"])), np.asarray(Image.open(plain)))


# -- the small ones --------------------------------------------------------------------------

def test_an_infinite_strength_says_so(photo, tmp_path):
    code, _, stderr = run("apply", photo, "-m", "stage", "-t", "happy", "-s", "inf", "-o", tmp_path)
    assert code == 2 and "--strength inf: must be a finite number" in stderr, stderr


@pytest.mark.parametrize("args, says", [
    (["--control", "smile=0.5,smile=0.2"], "control smile is given twice (0.5 and 0.2)"),
    (["--control", "smile=0.5", "--control", "smile=0.2"], "control smile is given twice"),
    (["--attr", "hair=blond,hair=red"], "--attr: hair is given twice (blond and red)"),
    (["--attr", "hair=blond", "--attr", "hair=red"], "--attr: hair is given twice"),
    (["-t", "happy", "--set", "a=1", "--set", "a=2"], "--set: a is given twice"),
    (["--au", "12=1,12=2"], "AU12 is given twice"),
])
def test_a_key_given_twice_is_a_usage_error(photo, tmp_path, args, says):
    """One rule for every KEY=VALUE option, as --au had: a repeated key is an error, not the
    last one silently."""
    code, _, stderr = run("apply", photo, "-m", "stage", *args, "-o", tmp_path / "o")
    assert code == 2 and says in stderr, stderr
    assert not (tmp_path / "o").exists()


def test_library_strings_refuse_a_key_given_twice():
    from faceedit.edits.attributes import parse_attr_text
    from faceedit.edits.controls import parse_controls
    from faceedit.errors import UsageError

    with pytest.raises(UsageError, match="given twice"):
        parse_controls("smile=0.5,smile=0.2")
    with pytest.raises(UsageError, match="given twice"):
        parse_attr_text("hair=blond,hair=red")
    assert parse_controls("smile=0.5,brows=0.2") == {"smile": 0.5, "brows": 0.2}


@pytest.mark.parametrize("template, says", [
    ("{target!r}{ext}", "{target!r}: a field takes no conversion"),
    ("{stem!a}{ext}", "{stem!a}: a field takes no conversion"),
    ("{stem:>20}{ext}", "{stem:>20}: only {strength} and {index} take a format spec"),
    ("{target:.3}_{stem}{ext}", "{target:.3}: only {strength} and {index}"),
])
def test_a_name_template_makes_no_quoted_or_padded_names(template, says):
    from faceedit.errors import UsageError
    from faceedit.io.inputs import InputItem
    from faceedit.io.naming import OutputNamer

    with pytest.raises(UsageError) as e:
        OutputNamer("out", template)
    assert says in str(e.value)
    namer = OutputNamer("out", "{stem}_{index:03d}_{strength:.2f}{ext}")
    assert namer.path_for(InputItem("a/p.jpg", "p.jpg", index=7), "happy", 0.5).endswith("p_007_0.50.jpg")


def test_on_no_face_copy_copies_the_bytes(tmp_path):
    """A photo without a face is copied as it is (its JPEG not re-encoded); into another format
    (--ext) it is encoded."""
    from PIL import Image

    src = tmp_path / "noise.jpg"
    Image.fromarray(np.random.RandomState(0).randint(0, 255, (64, 80, 3), np.uint8)).save(src, quality=70)
    code, stdout, stderr = run("apply", src, "-m", "stage", "-t", "happy", "--on-no-face", "copy",
                               "-o", tmp_path / "o", "--json")
    record = json.loads(stdout.splitlines()[0])
    assert code == 0 and record["status"] == "copied", stderr
    assert (tmp_path / "o" / "noise_happy.jpg").read_bytes() == src.read_bytes()
    code, stdout, _ = run("apply", src, "-m", "stage", "-t", "happy", "--on-no-face", "copy",
                          "-o", tmp_path / "p", "--ext", ".png", "--json")
    out = tmp_path / "p" / "noise_happy.png"
    assert code == 0 and Image.open(out).format == "PNG"
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(src)))


@pytest.mark.skipif(not __import__("os").path.exists("/dev/zero"), reason="no /dev/zero here")
def test_a_device_is_not_an_empty_file(tmp_path):
    code, stdout, stderr = run("apply", "/dev/zero", "-m", "stage", "-t", "happy", "-o", tmp_path, "--json")
    assert code == 1 and "/dev/zero: not a regular file" in stderr and "0 bytes" not in stderr, stderr


def test_au_neutral_without_a_face_is_a_usage_error_and_the_footnote_says_the_help(photo, tmp_path):
    """A --neutral reference that cannot serve exits 2, as apply's --like; the table's footnote
    names the reference the help names (the face's own identity), not a population mean."""
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(blank)
    code, _, stderr = run("au", photo, "--neutral", blank)
    assert code == 2 and f"--neutral {blank}: no face found" in stderr, stderr
    code, stdout, _ = run("au", photo)
    text = " ".join(stdout.split())
    assert code == 0 and "relative to the face's own identity" in text and "population" not in text


def test_an_unknown_target_lists_the_stages_targets_too():
    """`sheet -t bogus` (the loaded model's check) lists every target apply takes: the
    network's and those the stage applies alone (neutral, keep)."""
    from faceedit.api import Editor
    from faceedit.errors import UsageError

    editor = Editor.from_pretrained("reggan")
    with pytest.raises(UsageError) as e:
        editor.check_target("bogus")
    listed = str(e.value).split("valid targets: ")[1].split(", ")
    assert {"neutral", "keep", "happy", "wink"} <= set(listed)
    assert editor.check_target("neutral") == "neutral"


def test_helps_name_what_exists():
    """train's help names no --no-stage (apply has none); ui's keeps its [ui] extra."""
    code, stdout, _ = run("train", "--help")
    assert code == 0 and "--no-stage" not in stdout and "stage=False" in " ".join(stdout.split())
    code, stdout, _ = run("ui", "--help")
    assert code == 0 and "pip install 'faceedit[ui]'" in " ".join(stdout.split())


def test_readme_says_what_an_output_over_an_input_does(photo, tmp_path):
    """apply fails that input (exit 1, an error record), as the README says."""
    from pathlib import Path

    readme = " ".join((Path(__file__).parent.parent / "README.md").read_text().split())
    assert "`apply` makes a refused output an error record (exit 1" in readme
    assert "(exit 2, before any work); output names" not in readme
    code, stdout, _ = run("apply", photo, "-m", "stage", "-t", "happy", "-o", photo.parent, "--name", "{stem}{ext}",
                          "--json")
    assert code == 1 and json.loads(stdout.splitlines()[0])["status"] == "error"


@pytest.mark.slow
def test_x265_is_quiet_at_the_default_verbosity(tmp_path):
    """x265 prints its settings and statistics only with -v: by default the run's own lines."""
    import subprocess
    import sys

    av = pytest.importorskip("av", reason="video needs PyAV (pip install 'faceedit[video]')")
    if "libx265" not in av.codecs_available:
        pytest.skip("this FFmpeg has no libx265")
    from _imgs import astronaut

    from faceedit.video.synth import write_clip

    write_clip(str(tmp_path / "c.mp4"), np.asarray(astronaut()), 3, (128, 96), tone=None)
    r = subprocess.run([sys.executable, "-m", "faceedit", "apply", str(tmp_path / "c.mp4"), "-m", "stage", "-t", "happy",
                        "--video-codec", "libx265", "-o", str(tmp_path / "o")], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0 and "x265 [info]" not in r.stderr and len(r.stderr.splitlines()) <= 3, r.stderr
