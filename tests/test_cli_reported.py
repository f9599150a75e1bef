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
