"""Faces the edit cannot hold are left as they are by default, with the reason in the record and
a count in the summary; ``--force`` edits them (faceedit.faces.reading.decline_reason): in the
photo engine, in Editor.edit (``editor.declined``, ``force=True``) and in a video's frames."""

import json

import cv2
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from faceedit.cli import app

runner = CliRunner()


def _apply(*args):
    r = runner.invoke(app, ["apply", *map(str, args), "--json"], catch_exceptions=False)
    return r.exit_code, [json.loads(line) for line in r.stdout.splitlines() if line.strip()], r.stderr


@pytest.fixture
def photos(tmp_path, astronaut):
    """The astronaut at 512 px (eyes 43 px apart) and at 120 px (eyes 10 px apart, her face's box
    24 px wide)."""
    d = tmp_path / "in"
    d.mkdir()
    Image.fromarray(astronaut).save(d / "big.png")
    Image.fromarray(cv2.resize(astronaut, (120, 120), interpolation=cv2.INTER_AREA)).save(d / "tiny.png")
    return d


def _models(tiny_ckpt):
    from faceedit.models.hub import weights_present
    from faceedit.models.registry import get_spec

    return [(tiny_ckpt, "bright")] + ([("stage", "happy")] if weights_present(get_spec("stage")) else [])


def test_a_tiny_face_is_declined_for_every_model_and_force_edits_it(tmp_path, photos, tiny_ckpt):
    for model, target in _models(tiny_ckpt):
        out = tmp_path / f"out_{target}"
        code, recs, stderr = _apply("-m", model, "-t", target, photos / "big.png", photos / "tiny.png", "-o", out)
        assert code == 0, stderr
        by = {r["input"].rsplit("/", 1)[-1]: r for r in recs}
        assert by["big.png"]["status"] == "ok" and "declined" not in by["big.png"]
        tiny = by["tiny.png"]
        assert tiny["status"] == "copied" and tiny["faces"] == 1, tiny
        assert [d["face"] for d in tiny["declined"]] == [0] and "too small" in tiny["declined"][0]["declined"]
        assert [r["face"] for r in tiny["read"]] == [0] and tiny["read"][0]["eye_px"] < 12
        assert by["big.png"]["read"][0]["eye_px"] > 40 and by["big.png"]["read"][0]["pose_from"] == "mesh"
        assert np.array_equal(np.asarray(Image.open(tiny["output"])), np.asarray(Image.open(photos / "tiny.png")))
        assert "1 face declined" in stderr

        code, recs, stderr = _apply("-m", model, "-t", target, photos / "tiny.png", "-o", tmp_path / f"forced_{target}",
                                    "--force")
        assert code == 0, stderr
        assert recs[0]["status"] == "ok" and "declined" not in recs[0] and "declined" not in stderr
        edited = np.asarray(Image.open(recs[0]["output"])).astype(int)
        assert np.abs(edited - np.asarray(Image.open(photos / "tiny.png")).astype(int)).max() > 10


def test_declined_faces_are_not_skipped_as_faceless(tmp_path, photos, tiny_ckpt):
    """--on-no-face skip is for photos without a face: one whose faces are all declined is still
    written unedited, with the reason."""
    code, recs, stderr = _apply("-m", tiny_ckpt, "-t", "bright", photos / "tiny.png", "-o", tmp_path / "o",
                                "--on-no-face", "skip")
    assert code == 0, stderr
    assert recs[0]["status"] == "copied" and recs[0]["declined"]


def test_a_rerun_with_force_is_compared_as_another_condition(tmp_path, photos, tiny_ckpt):
    """A forced edit records --force: a run without it names the difference instead of taking the
    forced output as its own, and a forced re-run skips it as done."""
    out = tmp_path / "o"
    code, recs, _ = _apply("-m", tiny_ckpt, "-t", "bright", photos / "tiny.png", "-o", out, "--force")
    assert code == 0 and recs[0]["status"] == "ok"
    code, recs, _ = _apply("-m", tiny_ckpt, "-t", "bright", photos / "tiny.png", "-o", out)
    assert code == 1 and recs[0]["status"] == "error" and "force" in recs[0]["error"], recs
    code, recs, _ = _apply("-m", tiny_ckpt, "-t", "bright", photos / "tiny.png", "-o", out, "--force")
    assert code == 0 and recs[0]["status"] == "skipped", recs


def test_editor_edit_leaves_a_tiny_face_as_it_is_and_names_it(photos, tiny_ckpt):
    """The library's Editor.edit takes the same verdict: the tiny astronaut comes back
    unchanged with the reason in ``editor.declined``; ``force=True`` edits her; the big one is
    edited with nothing declined."""
    from faceedit.api import Editor

    editor = Editor.from_pretrained(tiny_ckpt)
    tiny = np.asarray(Image.open(photos / "tiny.png"))
    out = editor.edit(tiny, "bright")
    assert np.array_equal(out, tiny)
    assert [d["face"] for d in editor.declined] == [0] and "too small" in editor.declined[0]["declined"]
    forced = editor.edit(tiny, "bright", force=True)
    assert editor.declined == [] and np.abs(forced.astype(int) - tiny.astype(int)).max() > 10
    big = np.asarray(Image.open(photos / "big.png"))
    assert np.abs(editor.edit(big, "bright").astype(int) - big.astype(int)).max() > 10 and editor.declined == []


def test_a_small_face_video_is_declined_through_apply_and_force_reaches_it(tmp_path):
    """``apply`` on a clip whose face is too small (the astronaut at 128 x 96, eyes about 9 px
    apart): the video is written unedited (``copied``), its record names the decline with the
    frames and the summary counts it; ``--force`` reaches the video and edits every frame."""
    pytest.importorskip("av", reason="video needs PyAV (pip install 'faceedit[video]')")
    from _imgs import astronaut

    from faceedit.video.synth import write_clip

    src = tmp_path / "small.mp4"
    write_clip(str(src), astronaut(), 4, (128, 96))
    code, recs, stderr = _apply("-m", "stage", "-t", "happy", src, "-o", tmp_path / "o")
    assert code == 0, stderr
    (rec,) = recs
    assert rec["kind"] == "video" and rec["status"] == "copied" and rec["edited_frames"] == 0
    assert rec["declined_frames"] == 4 and [(d["face"], d["frames"]) for d in rec["declined"]] == [(0, 4)]
    assert "too small" in rec["declined"][0]["declined"] and "1 face declined" in stderr
    code, recs, stderr = _apply("-m", "stage", "-t", "happy", src, "-o", tmp_path / "forced", "--force")
    assert code == 0, stderr
    assert recs[0]["status"] == "ok" and recs[0]["edited_frames"] == 4 and "declined" not in recs[0]


def test_a_masked_face_is_left_as_it_is_through_apply_and_the_editor(tmp_path, astronaut):
    """A mask over the mouth (the warp would bend it, the mouth bank paint teeth or a dark hole on it): the
    photo is copied with ``declined`` naming the mouth covered, by `apply` and by Editor.edit; ``--force`` edits."""
    from _bench import load_bench

    from faceedit.api import Editor

    bench = load_bench("bench_covered")
    editor = Editor.from_pretrained("stage")
    face = max(editor.detector.detect(astronaut), key=lambda f: f.area)
    masked = bench.draw_mask(astronaut, np.asarray(face.landmarks, np.float64), bench.MASKS["white"])
    out = editor.edit(masked, "happy")
    assert np.array_equal(out, masked) and editor.declined[0]["declined"].startswith("mouth covered")
    assert np.abs(editor.edit(masked, "happy", force=True).astype(int) - masked.astype(int)).max() > 10
    d = tmp_path / "in"
    d.mkdir()
    Image.fromarray(masked).save(d / "masked.png")
    code, recs, _ = _apply(d, "-o", tmp_path / "out", "-m", "stage", "-t", "happy")
    assert code == 0 and recs[0]["status"] == "copied"
    assert recs[0]["declined"][0]["declined"].startswith("mouth covered")
