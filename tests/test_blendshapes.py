"""ARKit blendshapes in and out: the reader (MediaPipe's blendshapes model on Face Mesh v2's
points), the translation into the stage's controls (fitted curves, the shapes it refuses), the
read-back of what was set, and the command line's round trip (`au --blendshapes` -> `apply
--blendshapes`)."""

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from faceedit.cli import app
from faceedit.edits.controls import CONTROLS, control_range
from faceedit.errors import UsageError
from faceedit.faces import blendshapes as reader_mod
from faceedit.stage import blendshapes as bs

runner = CliRunner()


def run(*args):
    r = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture(scope="module")
def reader():
    return reader_mod.BlendshapeReader()


@pytest.fixture(scope="module")
def editor():
    from faceedit.api import Editor

    return Editor.from_pretrained("stage", detector="mediapipe")


def read(editor, reader, img, controls=None, target="keep") -> dict[str, float]:
    out = editor.edit(img, target, controls=controls) if controls or target != "keep" else img
    faces = editor.detector.detect(out)
    assert faces
    return reader.read(out, [max(faces, key=lambda f: f.area)])[0]


# --- the tables -------------------------------------------------------------------------------


def test_names_subset_and_mapping_cover_arkit_once():
    assert len(reader_mod.NAMES) == 52 and reader_mod.NAMES[0] == "_neutral"
    assert bs.ARKIT == (*reader_mod.ARKIT, "tongueOut") and len(bs.ARKIT) == 52  # the model has no tongueOut
    s = reader_mod.SUBSET
    assert len(s) == 146 == len(set(s)) and list(s) == sorted(s) and max(s) == 477
    assert set(range(468, 478)) <= set(s)  # both irises' points
    mapped, refused = set(bs.MAPPING), set(bs.INEXPRESSIBLE)
    assert not mapped & refused and mapped | refused == set(bs.ARKIT)
    for shape, (control, direction) in bs.MAPPING.items():
        assert control in CONTROLS and direction in (1, -1)
        assert direction == 1 or control_range(control)[0] < 0, shape
        assert len(bs.CURVES[shape]) == len(bs.LEVELS), shape
    assert set(bs.CURVES) == mapped and len(bs.BLINK_CURVE) == len(bs.LEVELS)


# --- the reader -------------------------------------------------------------------------------


def test_reader_astronaut_smiles(astronaut, editor, reader):
    b = read(editor, reader, astronaut)
    assert set(b) == set(reader_mod.ARKIT) and all(0.0 <= v <= 1.0 for v in b.values())
    assert b["mouthSmileLeft"] > 0.6 and b["mouthSmileRight"] > 0.6  # 0.88 each
    assert b["jawOpen"] < 0.1 and b["eyeBlinkLeft"] < 0.3 and b["eyeBlinkRight"] < 0.3


def test_reader_from_68_landmarks_agrees_with_the_mesh(astronaut, editor, reader):
    """A detector without a mesh (68 points only) gives a first crop of its own; the second pass
    on v2's mesh lands where the mesh's crop does."""
    from faceedit.faces.types import Face

    face = editor.detector.detect(astronaut)[0]
    no_mesh = Face(box=face.box, landmarks=face.landmarks, score=face.score)
    a, b = reader.read(astronaut, [face])[0], reader.read(astronaut, [no_mesh])[0]
    assert max(abs(a[k] - b[k]) for k in a) < 0.05


def test_reader_sees_the_stage_blink(astronaut, editor, reader):
    before = read(editor, reader, astronaut)
    after = read(editor, reader, astronaut, {"blink": 1.0})
    for side in ("eyeBlinkLeft", "eyeBlinkRight"):
        assert after[side] > 0.5 and after[side] > before[side] + 0.3, side


def test_left_is_the_persons_own(astronaut, editor, reader):
    """wink_left closes the person's left eye (the image's right): eyeBlinkLeft rises, not Right."""
    b = read(editor, reader, astronaut, {"wink_left": 1.0})
    assert b["eyeBlinkLeft"] > b["eyeBlinkRight"] + 0.15


# --- the translation ----------------------------------------------------------------------------


def test_parse_forms_and_errors(tmp_path):
    assert bs.parse_blendshapes("jawOpen=0.6, eyeBlinkLeft=1") == {"jawOpen": 0.6, "eyeBlinkLeft": 1.0}
    (tmp_path / "a.json").write_text(json.dumps({"jawOpen": 0.3}))
    assert bs.parse_blendshapes(str(tmp_path / "a.json")) == {"jawOpen": 0.3}
    record = {"input": "x.png", "face": 0, "blendshapes": {"mouthPucker": 0.7}}
    (tmp_path / "b.json").write_text(json.dumps(record) + "\n" + json.dumps({**record, "face": 1}) + "\n")
    assert bs.parse_blendshapes(str(tmp_path / "b.json")) == {"mouthPucker": 0.7}  # au's lines: the first
    for spec, words in [("jawopen=0.5", "did you mean jawOpen"), ("smile=0.5", "not an ARKit blendshape"),
                        ("jawOpen=1.5", "0..1"), ("jawOpen=x", "not a number"), ("jawOpen", "NAME=VALUE"),
                        ("jawOpen=0.1,jawOpen=0.2", "twice"), (str(tmp_path / "none.json"), "cannot read")]:
        with pytest.raises(UsageError, match=words):
            bs.parse_blendshapes(spec)


@pytest.mark.parametrize("shape", sorted(bs.INEXPRESSIBLE))
def test_inexpressible_shapes_are_refused_by_name(shape):
    with pytest.raises(UsageError, match=f"cannot express {shape}=0.5"):
        bs.to_controls({shape: 0.5, "jawOpen": 0.1})
    assert bs.to_controls({shape: bs.NOISE}) == {}  # a reading's noise asks for nothing


def test_refusal_names_every_shape_given():
    with pytest.raises(UsageError) as e:
        bs.controls_spec(["cheekPuff=0.4,jawOpen=0.1", "noseSneerLeft=0.9"])
    assert "cheekPuff=0.4" in str(e.value) and "noseSneerLeft=0.9" in str(e.value) and "jawOpen" not in str(e.value)


def test_a_file_has_its_inexpressible_shapes_left_out_with_a_warning(tmp_path, caplog):
    path = tmp_path / "face.json"
    path.write_text(json.dumps({"input": "x.png", "face": 0,
                                "blendshapes": {"jawOpen": max(bs.CURVES["jawOpen"]), "mouthDimpleLeft": 0.6,
                                                "cheekPuff": 0.05}}) + "\n")
    with caplog.at_level("WARNING", logger="faceedit"):
        assert bs.controls_spec([str(path)]) == ["aaa=1"]
    assert "mouthDimpleLeft=0.6" in caplog.text and "cheekPuff" not in caplog.text  # under the noise: unsaid
    with pytest.raises(UsageError, match="mouthDimpleLeft=0.6"):  # by name: refused
        bs.controls_spec(["jawOpen=0.1,mouthDimpleLeft=0.6"])


def test_translation_combines_shapes():
    top = {s: max(c) for s, c in bs.CURVES.items()}
    assert bs.to_controls({"eyeBlinkLeft": 1, "eyeBlinkRight": 0.9}) == {"blink": 1.0}  # together: the blink
    assert bs.to_controls({"eyeBlinkLeft": 1, "eyeBlinkRight": 0.0}) == {"wink_left": 1.0}  # apart: a wink
    assert bs.to_controls({"mouthSmileLeft": top["mouthSmileLeft"]}) == {"smile": 1.0}
    assert bs.to_controls({"mouthSmileLeft": bs.CURVES["mouthSmileLeft"][0]}) == {}  # the unedited reading
    mid = bs.CURVES["browInnerUp"][2]  # the reading at half the control
    assert bs.to_controls({"browInnerUp": mid}) == {"brows": 0.5}
    assert bs.to_controls({"eyeLookOutLeft": 1, "eyeLookInRight": 1}) == {"gaze_x": 1.0}  # the person's left
    assert bs.to_controls({"eyeLookInLeft": 1, "eyeLookOutRight": 1}) == {"gaze_x": -1.0}
    assert bs.to_controls({"mouthPressLeft": 1})["pout"] == -1.0  # downwards: lips drawn in
    assert bs.controls_spec(["jawOpen=0"]) == ["aaa=0"]  # nothing asked: a control at 0, the photo kept
    levels = [bs.control_value("jawOpen", v) for v in np.linspace(0, 1, 21)]
    assert levels == sorted(levels) and levels[0] == 0 and levels[-1] == 1


def test_set_and_read_back_on_the_astronaut(astronaut, editor, reader):
    """A few shapes, each set at 4 values over what the stage reaches of it (fitted on four
    London faces, not on her) on the neutral target, as `apply --blendshapes` does: the reading
    follows, Pearson r >= 0.8 (the full table over five faces and every shape:
    docs/blendshapes.md, bench/bench_blendshapes.py check --target neutral)."""
    for shape in ("browInnerUp", "jawOpen", "eyeLookOutLeft", "mouthSmileLeft", "mouthFunnel"):
        lo, hi = bs.CURVES[shape][0], max(bs.CURVES[shape])
        values = [lo + (hi - lo) * k / 3 for k in range(4)]
        got = [read(editor, reader, astronaut, bs.to_controls({shape: v}) or None, "neutral")[shape] for v in values]
        r = float(np.corrcoef(values, got)[0, 1])
        assert r >= 0.8, (shape, values, got)


# --- the command line ---------------------------------------------------------------------------


def test_cli_round_trip(tmp_path, astronaut, editor, reader):
    """`au --blendshapes` reads a driver (the astronaut made neutral, brows raised by the
    stage); `apply --blendshapes` with that output drives the unedited astronaut (on the neutral
    target it implies); her brows read as the driver's. `apply --blendshapes NAME=V` edits; an
    inexpressible shape given by name is a usage error naming it."""
    driver = tmp_path / "driver.png"
    Image.fromarray(editor.edit(astronaut, "neutral", controls={"brows": 1.0})).save(driver)
    code, stdout, _ = run("au", driver, "--blendshapes", "--detector", "mediapipe")
    assert code == 0
    recs = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    assert len(recs) == 1 and set(recs[0]["blendshapes"]) == set(reader_mod.ARKIT)
    want = recs[0]["blendshapes"]["browInnerUp"]
    assert want > 0.3
    shapes = tmp_path / "driver.json"
    shapes.write_text(stdout)
    photo = tmp_path / "a.png"
    Image.fromarray(astronaut).save(photo)
    code, stdout, stderr = run("apply", "-m", "stage", photo, "--blendshapes", shapes,
                               "--detector", "mediapipe", "-o", tmp_path / "out", "--json")
    assert code == 0, stderr
    out = json.loads(stdout.splitlines()[0])["output"]
    assert "neutral" in out  # the implied target names the output
    got = read(editor, reader, np.asarray(Image.open(out).convert("RGB")))["browInnerUp"]
    assert read(editor, reader, astronaut)["browInnerUp"] < 0.15 and abs(got - want) < 0.15

    code, stdout, _ = run("apply", "-m", "stage", photo, "--blendshapes", "jawOpen=0.15,eyeBlinkLeft=1",
                          "--detector", "mediapipe", "-o", tmp_path / "out2", "--json")
    assert code == 0
    rec = json.loads(stdout.splitlines()[0])
    assert "aaa" in rec["output"] and "wink_left" in rec["output"]  # the controls name the output
    code, _, stderr = run("apply", "-m", "stage", photo, "--blendshapes", "cheekPuff=0.5,jawOpen=0.2",
                          "-o", tmp_path / "out3")
    assert code == 2 and "cheekPuff=0.5" in stderr
