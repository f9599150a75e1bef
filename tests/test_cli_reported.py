"""Issue 52, items 10, 11, 13, 15 and 21: results reported as fine that were not. Two goals at once
(a target and --like), a detector without the 68 points an edit needs, an empty option value,
the stage's edit passed off as a network's, and --json records that left out or misnamed what
was done."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_cli_apply import face_photo, records, run
from test_cli_errors import cond_ckpt  # noqa: F401 (a fixture: the tiny model with settings)

from faceedit.errors import UsageError
from faceedit.models.request import EditRequest


@pytest.fixture
def photo(tmp_path, astronaut) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    return face_photo(d / "a.png", astronaut)


# ---- item 13: an empty list option is a usage error --------------------------------------------


@pytest.mark.parametrize("args", [["-t", "bright", "-s", ""], ["-t", "bright", "-s", ","],
                                  ["-t", "bright", "-s", "0.5,,1"], ["-t", ""], ["-t", ","],
                                  ["-t", "bright,"], ["--au", ""], ["--control", ","], ["--attr", ""],
                                  ["--lighting", ""]])
def test_an_empty_list_option_is_a_usage_error(tmp_path, photo, tiny_ckpt, args):
    out = tmp_path / "o"
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, photo, "-o", out, "--json", *args)
    assert code == 2, stderr
    flag = {"-s": "--strength", "-t": "--target"}.get(args[-2], args[-2])
    assert stderr.count("\n") == 1 and f"{flag} {args[-1]!r}: " in stderr, stderr
    assert stdout == "" and not out.exists()


def test_a_list_option_keeps_its_values(tmp_path, photo, tiny_ckpt):
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, photo, "-o", tmp_path / "o", "--json",
                               "-t", "bright", "-t", "dark", "-s", " 0.5 , 1")
    assert code == 0, stderr
    assert [(r["target"], r["strength"]) for r in records(stdout)] == [
        ("bright", 0.5), ("bright", 1.0), ("dark", 0.5), ("dark", 1.0)]


# ---- item 10: a named target with --like is two goals: a usage error -----------------------------


def test_a_target_with_like_is_a_usage_error(tmp_path, photo, tiny_ckpt):
    out = tmp_path / "o"
    for targets in ("bright", "bright,dark"):
        code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", targets, "--like", photo, photo, "-o", out,
                                   "--json")
        assert code == 2, stderr
        assert stderr.count("\n") == 1, stderr
        assert "--target bright and --like together" in stderr and "--like goes with --target keep" in stderr
        assert stdout == "" and not out.exists()


def test_a_video_with_targets_and_like_writes_nothing(tmp_path, photo, tiny_ckpt):
    """Two targets and --like on a clip wrote two identical files: now refused before any work."""
    clip = tmp_path / "in" / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(100))
    out = tmp_path / "o"
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright,dark", "--like", photo, clip, "-o", out)
    assert code == 2 and "and --like together" in stderr, stderr
    assert not out.exists()


def test_like_goes_with_keep_and_au():
    EditRequest.of("keep", like="ref.jpg")
    EditRequest.of("au", aus={12: 3.0}, like="ref.jpg")
    for target in ("happy", "neutral", "surprised"):
        with pytest.raises(UsageError, match=f"`target` {target} and `like` together"):
            EditRequest.of(target, like="ref.jpg")
    with pytest.raises(UsageError, match="`target` happy and `like` together"):
        EditRequest.of("keep", like="ref.jpg").at("happy", 1.0)


# ---- item 11: a detector without 68 landmarks is refused where the edit needs them ---------------


def test_opencv_is_refused_where_the_stage_moves_68_points(tmp_path, photo):
    """--detector opencv (5 points) wrote the photo unedited and called it ok: now a usage error
    before any photo is read, naming the detectors that give 68."""
    out = tmp_path / "o"
    code, stdout, stderr = run("apply", "-m", "stage", "--detector", "opencv", "-t", "happy", photo, "-o", out,
                               "--json")
    assert code == 2, stderr
    assert stderr.count("\n") == 1, stderr
    assert "face detector opencv finds 5 landmarks per face; model stage (the stage moves them) needs 68: " \
           "use --detector mediapipe" in stderr
    assert stdout == "" and not out.exists()


def test_opencv_is_refused_by_the_api_and_au(astronaut_png, astronaut):
    from test_faces_au import _invoke

    from faceedit.api import Editor

    editor = Editor.from_pretrained("stage", device="cpu", detector="opencv")
    with pytest.raises(UsageError, match="face detector opencv finds 5 landmarks per face; model stage"):
        editor.edit(astronaut, "happy")
    code, _, err = _invoke("--detector", "opencv", astronaut_png)
    assert code == 2 and "face detector opencv finds 5 landmarks per face; AU estimation needs 68" in err


def test_opencv_still_serves_a_network_that_aligns_on_5_points(tmp_path, photo, tiny_ckpt):
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, "--detector", "opencv", "-t", "bright", photo,
                               "-o", tmp_path / "o", "--json")
    assert code == 0, stderr
    (rec,) = records(stdout)
    assert rec["status"] == "ok" and rec["faces"] == 1


def test_auto_falls_back_to_opencv_only_where_5_points_do(monkeypatch):
    """Where auto can run nothing but opencv, an edit on the stage is refused with the reason."""
    from faceedit.faces.detectors import registry

    monkeypatch.setattr(registry, "available_detectors", lambda allow_download=False: {})
    for name, backend in list(registry._BACKENDS.items()):
        if backend.points >= 68:
            monkeypatch.setitem(registry._BACKENDS, name, registry.Backend(
                name, backend.build, lambda allow_download: "not here", backend.auto, backend.keyed_by))
    assert registry.landmark_points("auto") == ("opencv", 5)
    with pytest.raises(UsageError, match="face detector opencv finds 5 landmarks per face; x needs 68: none "
                                         "that gives them can run here"):
        registry.require_points("auto", 68, "x")


# ---- item 21: the --json records say what was done ----------------------------------------------


def two_faces(path: Path, astronaut) -> Path:
    """The astronaut's head, and beside it the same head smaller: face 0 and face 1."""
    from PIL import Image

    head = Image.fromarray(astronaut[:300, 60:360])
    canvas = Image.new("RGB", (520, 320), (200, 200, 200))
    canvas.paste(head, (0, 10))
    canvas.paste(head.resize((180, 180)), (320, 70))
    canvas.save(path)
    return path


def test_measured_numbers_the_faces_as_face_does(tmp_path, astronaut, tiny_ckpt):
    """--face 1 edited the smaller face and measured called it face 0."""
    photo = two_faces(tmp_path / "two.png", astronaut)
    for face, numbers in (("1", [1]), ("0", [0]), ("largest", [0]), ("all", [0, 1])):
        code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", "--face", face, photo,
                                   "-o", tmp_path / f"o{face}", "--json")
        assert code == 0, stderr
        (rec,) = records(stdout)
        assert rec["faces"] == 2 and rec["face"] == face
        assert [m["face"] for m in rec["measured"]] == numbers


def test_the_face_choice_and_settings_are_recorded(tmp_path, photo, cond_ckpt):  # noqa: F811
    code, stdout, stderr = run("apply", "-m", cond_ckpt, "-t", "bright", "--set", "mode=a", "--face", "largest",
                               photo, "-o", tmp_path / "o", "--json")
    assert code == 0, stderr
    (rec,) = records(stdout)
    assert rec["face"] == "largest" and rec["settings"] == {"mode": "a"} and rec["phase"] is None
    code, stdout, _ = run("apply", "-m", cond_ckpt, "-t", "bright", photo, "-o", tmp_path / "o2", "--json")
    (rec,) = records(stdout)
    assert rec["face"] == "all" and rec["settings"] is None  # the keys are always there
    fields = EditRequest.of("happy", phase="expression", mode="delta", face="2").record_fields()
    assert fields["phase"] == "expression" and fields["settings"] == {"mode": "delta"} and fields["face"] == "2"


def test_a_light_is_recorded_as_its_direction():
    """--light left recorded "left" where the README documents [azimuth, elevation]; --lighting
    left recorded no light at all, though the stage relit the face to 50,0 at 0.6."""
    assert EditRequest(light="left").record_fields()["light"] == [50.0, 0.0]
    assert EditRequest(light="35,15").record_fields()["light"] == [35.0, 15.0]
    fields = EditRequest(lighting="left").record_fields()
    assert (fields["lighting"], fields["light"], fields["light_strength"]) == ("left", [50.0, 0.0], 0.6)
    fields = EditRequest(lighting="top", light_strength=0.3).record_fields()
    assert (fields["light"], fields["light_strength"]) == ([0.0, 45.0], 0.3)
    fields = EditRequest(light="ambient").record_fields()
    assert (fields["light"], fields["light_strength"]) == ("ambient", 0.6)  # even light: no direction
    fields = EditRequest(lighting="keep").record_fields()  # the photo's own: nothing relit
    assert (fields["light"], fields["light_strength"]) == (None, None)
    fields = EditRequest(lighting="left").record_fields(stage=False)  # a network relights by class
    assert (fields["lighting"], fields["light"], fields["light_strength"]) == ("left", None, None)


def test_an_error_record_names_no_output(tmp_path, photo, tiny_ckpt, monkeypatch):
    """An output that could not be written (here: the disk is full) was named in its error record."""
    import faceedit.pipeline

    def full(path, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(faceedit.pipeline, "write_image", full)
    out = tmp_path / "o"
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", photo, "-o", out, "--json")
    assert code == 1, stderr
    (rec,) = records(stdout)
    assert rec["status"] == "error" and "No space left on device" in rec["error"] and rec["output"] is None
    assert not (out / "a_bright.png").exists()


# ---- item 15: where the stage's edit is the output, the record and `models` say so ---------------


def test_the_record_says_whether_the_network_changed_the_output(tmp_path, photo, tiny_ckpt):
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", "-s", "0,1", photo, "-o", tmp_path / "o",
                               "--json")
    assert code == 0, stderr
    assert [(r["strength"], r["network"]) for r in records(stdout)] == [(0.0, False), (1.0, True)]
    code, stdout, stderr = run("apply", "-m", "stage", "-t", "happy", photo, "-o", tmp_path / "s", "--json")
    assert code == 0 and [r["network"] for r in records(stdout)] == [False], stderr


def test_a_target_left_to_the_stage_is_the_stages_edit_and_says_so(tmp_path, photo):
    """secgan's sad is the stage's (its header's stage_only): pixel for pixel the stage's output
    (the files differ only in the model their metadata records), recorded "network": false; its
    surprised carries the network's change."""
    code, stdout, stderr = run("apply", "-m", "secgan", "-t", "sad,surprised", photo, "-o", tmp_path / "n", "--json")
    assert code == 0, stderr
    assert [(r["target"], r["network"]) for r in records(stdout)] == [("sad", False), ("surprised", True)]
    code, _, stderr = run("apply", "-m", "stage", "-t", "sad,surprised", photo, "-o", tmp_path / "s")
    assert code == 0, stderr
    def pixels(path):
        return np.asarray(Image.open(path))

    assert np.array_equal(pixels(tmp_path / "n" / "a_sad.png"), pixels(tmp_path / "s" / "a_sad.png"))
    assert not np.array_equal(pixels(tmp_path / "n" / "a_surprised.png"), pixels(tmp_path / "s" / "a_surprised.png"))


def test_models_lists_the_targets_the_network_edits(tmp_path):
    import json

    from faceedit.api import Editor

    code, stdout, stderr = run("models", "--json")
    assert code == 0, stderr
    rows = {r["name"]: r for r in json.loads(stdout)}
    assert rows["stage"]["network_targets"] == [] and "happy" in rows["stage"]["stage_targets"]
    for name, row in rows.items():
        assert sorted(row["network_targets"] + row["stage_targets"]) == sorted(row["targets"])
        editor = Editor.from_pretrained(name, device="cpu")
        assert row["network_targets"] == [t for t in row["targets"] if editor.uses_network(t)], name
    assert {"sad", "angry", "disgusted", "fearful"} <= set(rows["secgan"]["stage_targets"])
    code, stdout, _ = run("models")
    text = " ".join(stdout.split())
    assert ("secgan: network: happy, neutral, sleepy, surprised, wink, keep; the stage alone: angry, disgusted, "
            "fearful, sad, au (angry, disgusted, fearful, sad: the network's change spoilt them") in text
