"""Issue 52, items 10, 11, 13, 15 and 21: results reported as fine that were not. Two goals at once
(a target and --like), a detector without the 68 points an edit needs, an empty option value,
the stage's edit passed off as a network's, and --json records that left out or misnamed what
was done."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli_apply import face_photo, records, run

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
