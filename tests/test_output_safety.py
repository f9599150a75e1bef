"""Issue 52's output safety (faceedit.io.outputs, faceedit.plan): --save-masks masks go through
the one output check, --overwrite protects the folder of a file input as that of a folder input,
the empty path is a usage error everywhere, train --export is a .safetensors file, a re-run under
other conditions is an error naming the difference, every input gets a record, and x.mp4 and
x.mov do not collide."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from _datasets import make_dataset
from PIL import Image
from test_cli_apply import face_photo, records, run

from faceedit.errors import UsageError
from faceedit.io.encode import write_image
from faceedit.io.outputs import OutputCheck, check_output, condition_difference, read_record


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---- the record in the file, the rule ----------------------------------------------------------


@pytest.mark.parametrize("ext,dtype", [(".jpg", np.uint8), (".png", np.uint8), (".png", np.uint16),
                                       (".webp", np.uint8), (".tif", np.uint8)])
def test_the_record_travels_in_the_files_metadata(tmp_path, ext, dtype):
    path = tmp_path / f"x{ext}"
    record = {"conditions": {"model": "reggan", "aus": {"12": 3.5}, "like": "réf/a.jpg", "face": "all"}}
    pixels = (np.arange(24 * 32 * 3).reshape(24, 32, 3) % 251).astype(dtype)
    write_image(path, pixels, record=record)
    assert read_record(path) == record
    write_image(tmp_path / f"plain{ext}", pixels)
    assert read_record(tmp_path / f"plain{ext}") is None
    assert read_record(tmp_path / "missing.jpg") is None


def test_a_difference_of_conditions_is_named():
    assert condition_difference({"model": "reggan", "face": "all"}, {"model": "reggan", "face": "all"}) is None
    assert condition_difference({"model": "reggan", "face": "all", "aus": {"12": 1.0}},
                                {"model": "eggan", "face": "1", "aus": {12: 1.0}}) == (
        "face all (this run: 1); model reggan (this run: eggan)")
    assert condition_difference({"quality": 95}, {}) == "quality 95 (this run: not set)"


def test_overwrite_never_replaces_an_unrecorded_photo_beside_an_input(tmp_path):
    """One rule for a file input and a folder input: beside an input, --overwrite replaces only
    what faceedit wrote (it carries the record); elsewhere anything but an input."""
    d = tmp_path / "d"
    d.mkdir()
    photo, original, ours, notes = d / "p.jpg", d / "q.jpg", d / "p_happy.png", d / "notes.txt"
    px = np.zeros((8, 8, 3), np.uint8)
    write_image(photo, px)
    write_image(original, px)
    write_image(ours, px, record={"conditions": {}})
    notes.write_text("x")
    for inputs in ([photo], [d]):
        check = OutputCheck(inputs, overwrite=True)
        if inputs == [d]:
            assert check.refusal(original).kind == "input"  # under a folder input: an input
            continue
        assert check.refusal(original).kind == "original"
        assert check.refusal(ours) is None and check.refusal(notes) is None
        with pytest.raises(UsageError, match=r"`out` .*q\.jpg: is a photo or video in the folder of an input"):
            check_output(original, inputs=inputs, overwrite=True)
    assert OutputCheck([tmp_path / "elsewhere" / "x.jpg"], overwrite=True).refusal(original) is None
    assert OutputCheck([photo]).refusal(ours).kind == "exists"
    with pytest.raises(UsageError, match="`sheet` '': an empty path"):
        check_output("", option="sheet")


# ---- apply -------------------------------------------------------------------------------------


def test_save_masks_never_replace_an_input(tmp_path, astronaut):
    """Issue 52 item 1: a photo named as a mask of an output was replaced by the mask (exit 0)."""
    d = tmp_path / "d"
    d.mkdir()
    face_photo(d / "a.jpg", astronaut)
    victim = face_photo(d / "a_happy_face0_expression_mask.png", astronaut)
    before = _sha(victim)
    base = ["apply", "-m", "legan", "-t", "happy", "--save-masks", "--json", "--detector", "dlib"]
    # the folder (the mask photo is taken for an earlier output's mask: not edited, not replaced),
    # and both files named (the mask photo is an input)
    for inputs, extra, why in [([d], [], "exists; give --overwrite"),
                               ([d], ["--overwrite"], "faceedit did not write"),
                               ([d / "a.jpg", victim], ["--overwrite"], "is an input")]:
        code, stdout, stderr = run(*base, *inputs, "-o", d, *extra)
        recs = {Path(r["input"]).name: r for r in records(stdout)}
        assert code == 1, stderr
        assert recs["a.jpg"]["status"] == "error" and recs["a.jpg"]["output"] is None
        error = recs["a.jpg"]["error"]
        assert f"--save-masks: mask file {victim} " in error and why in error, error
        assert _sha(victim) == before and not (d / "a_happy.jpg").exists()
        for p in d.iterdir():  # the mask photo's own output and masks, where it was edited
            if p.name not in ("a.jpg", victim.name):
                p.unlink()


def test_save_masks_never_replace_an_existing_file_without_overwrite(tmp_path, astronaut):
    """Issue 52 item 2: an existing mask file was replaced without --overwrite."""
    photo = face_photo(tmp_path / "a.jpg", astronaut)
    base = ["apply", "-m", "legan", "-t", "happy", "--save-masks", "--json", "--detector", "dlib"]
    out = tmp_path / "out"
    out.mkdir()
    existing = out / "a_happy_face0_lighting_mask.png"
    existing.write_bytes(b"keep me")
    code, stdout, _ = run(*base, photo, "-o", out)
    (rec,) = records(stdout)
    assert code == 1 and rec["status"] == "error" and "exists; give --overwrite" in rec["error"]
    assert existing.read_bytes() == b"keep me" and sorted(p.name for p in out.iterdir()) == [existing.name]
    code, stdout, _ = run(*base, photo, "-o", out, "--overwrite")
    (rec,) = records(stdout)
    assert code == 0 and rec["status"] == "ok" and str(existing) in rec["masks"]
    assert read_record(existing)["mask_of"] == rec["output"]


def test_overwrite_protects_the_folder_of_a_file_input(tmp_path, astronaut, tiny_ckpt):
    """Issue 52 item 3: `apply DIR -o DIR --overwrite` refused to replace DIR/p_bright.jpg,
    `apply DIR/p.jpg -o DIR --overwrite` replaced it; `--name 'q{ext}'` replaced q.jpg."""
    d = tmp_path / "d"
    d.mkdir()
    photo = face_photo(d / "p.jpg", astronaut)
    namesake = face_photo(d / "p_bright.jpg", astronaut, size=(200, 200))
    other = face_photo(d / "q.jpg", astronaut, size=(100, 100))
    before = {p: _sha(p) for p in (photo, namesake, other)}
    base = ["apply", "-m", tiny_ckpt, "-t", "bright", "--json", "--overwrite"]
    for inputs in ([photo], [d]):
        code, stdout, _ = run(*base, *inputs, "-o", d)
        recs = {Path(r["input"]).name: r for r in records(stdout)}
        assert code == 1 and recs["p.jpg"]["status"] == "error"
        assert f"refusing to overwrite {namesake}" in recs["p.jpg"]["error"]
        assert "maybe an original photo" in recs["p.jpg"]["error"]
    code, stdout, _ = run(*base, photo, "-o", d, "--name", "q{ext}")
    (rec,) = records(stdout)
    assert code == 1 and rec["status"] == "error" and f"refusing to overwrite {other}" in rec["error"]
    assert {p: _sha(p) for p in before} == before
    # what faceedit wrote there is its own: --overwrite replaces it
    namesake.unlink()
    code, stdout, _ = run(*base, photo, "-o", d)
    assert code == 0 and records(stdout)[0]["status"] == "ok"
    mtime = namesake.stat().st_mtime_ns
    code, stdout, _ = run(*base, photo, "-o", d, "--quality", "80")
    assert code == 0 and records(stdout)[0]["status"] == "ok" and namesake.stat().st_mtime_ns != mtime
    assert read_record(namesake)["conditions"]["quality"] == 80


def test_a_rerun_under_other_conditions_is_an_error_naming_the_difference(tmp_path, astronaut, tiny_ckpt):
    """Issue 52 item 9: `-m eggan` after `-m reggan` into the same folder was "skipped", and the
    record said eggan for reggan's file."""
    photo = face_photo(tmp_path / "p.png", astronaut)
    out = tmp_path / "out"
    base = ["apply", "-t", "bright", photo, "-o", out, "--json"]
    code, stdout, _ = run(*base, "-m", tiny_ckpt)
    assert code == 0
    written = out / "p_bright.png"
    mtime = written.stat().st_mtime_ns
    other = tmp_path / "other.safetensors"  # another model (its name is the file's)
    shutil.copy(tiny_ckpt, other)
    for extra, difference in [(["-m", other], "model tiny (this run: other)"),
                              (["-m", tiny_ckpt, "--face", "0"], "face all (this run: 0)"),
                              (["-m", tiny_ckpt, "--detector", "dlib"], "(this run: dlib)"),
                              (["-m", tiny_ckpt, "--max-faces", "3"], "max_faces")]:
        code, stdout, stderr = run(*base, *extra)
        (rec,) = records(stdout)
        assert code == 1 and rec["status"] == "error" and rec["output"] is None, (extra, rec)
        assert "made under other conditions" in rec["error"] and difference in rec["error"], rec["error"]
        assert "--overwrite" in rec["error"]
    assert written.stat().st_mtime_ns == mtime
    code, stdout, _ = run(*base, "-m", tiny_ckpt)
    (rec,) = records(stdout)
    assert code == 0 and rec["status"] == "skipped" and "same conditions" in rec["reason"]
    conditions = read_record(written)["conditions"]
    assert conditions["model"] == "tiny" and conditions["target"] == "bright" and conditions["face"] == "all"
    # the quality of a JPEG is one of its conditions
    code, _, _ = run("apply", "-t", "bright", photo, "-o", out, "--ext", ".jpg", "-m", tiny_ckpt)
    code, stdout, _ = run("apply", "-t", "bright", photo, "-o", out, "--ext", ".jpg", "-m", tiny_ckpt,
                          "--quality", "70", "--json")
    assert code == 1 and "quality 95 (this run: 70)" in records(stdout)[0]["error"]
    # a file faceedit did not write: skipped, and the record says it was not compared
    foreign = out / "p_bright.webp"
    Image.fromarray(astronaut).save(foreign)
    code, stdout, _ = run("apply", "-t", "bright", photo, "-o", out, "--ext", ".webp", "-m", tiny_ckpt, "--json")
    (rec,) = records(stdout)
    assert code == 0 and rec["status"] == "skipped" and "not compared" in rec["reason"]


def test_the_empty_path_is_a_usage_error_everywhere(tmp_path, astronaut, tiny_ckpt, monkeypatch):
    """Issue 52 item 4: `-o ''` wrote into the current folder."""
    monkeypatch.chdir(tmp_path)
    photo = face_photo(tmp_path / "p.png", astronaut)
    data = make_dataset(tmp_path / "ds", subjects=4)
    before = sorted(p.name for p in tmp_path.iterdir())
    for args, flag in [(["apply", "-m", tiny_ckpt, "-t", "bright", photo, "-o", ""], "--out"),
                       (["apply", "-m", tiny_ckpt, "-t", "bright", photo, "-o", " "], "--out"),
                       (["detect", photo, "-o", ""], "--out"),
                       (["sheet", "-m", tiny_ckpt, "-t", "bright", photo, "-o", ""], "--out"),
                       (["prepare", tmp_path, "-o", ""], "--out"),
                       (["train", "-m", "reggan", "-d", data, "-o", ""], "--out"),
                       (["train", "-m", "reggan", "-d", data, "-o", tmp_path / "r", "--export", ""], "--export"),
                       (["eval", "-m", "reggan", "-d", data, "-o", ""], "--out"),
                       (["eval", "-m", "reggan", "-d", data, "--sheet", ""], "--sheet"),
                       (["train-stage", "-d", data, "-o", ""], "--out"),
                       (["train-analysis", "lighting", "-d", data, "-o", ""], "--out"),
                       (["train-analysis", "lighting", "-d", data, "-o", "w.safetensors", "--run", ""], "--run")]:
        code, stdout, stderr = run(*args)
        assert code == 2, (args, stderr)
        assert f"{flag} '': an empty path" in stderr and len(stderr.strip().splitlines()) == 1, (args, stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_train_export_is_a_safetensors_file(tmp_path, astronaut, monkeypatch):
    """Issue 52 item 5: `train --export in/005.jpg --overwrite` replaced the JPEG with a
    checkpoint."""
    monkeypatch.setenv("FACEEDIT_PLUGINS", "tiny_trainer")
    data = make_dataset(tmp_path / "ds", subjects=4)
    photos = tmp_path / "in"
    photos.mkdir()
    photo = face_photo(photos / "005.jpg", astronaut)
    before = _sha(photo)
    for export in (photo, photos / "new_export.jpg"):
        code, _, stderr = run("train", "-m", "test-tiny-gan", "-d", data, "-o", tmp_path / "run", "--export", export,
                              "--overwrite", "--steps", "1", "--no-eval", "--stage", "none")
        assert code == 2 and f"--export {export}: give a .safetensors file name" in stderr, stderr
    assert _sha(photo) == before and sorted(p.name for p in photos.iterdir()) == ["005.jpg"]
    assert not (tmp_path / "run").exists()


def test_videos_of_one_stem_do_not_collide(tmp_path, astronaut, tiny_ckpt):
    """Issue 52 item 18: x.mp4 and x.mov were an output collision although their outputs differ
    in extension."""
    pytest.importorskip("av")
    from faceedit.video.synth import write_clip

    write_clip(str(tmp_path / "x.mp4"), astronaut, n=3)
    shutil.copy(tmp_path / "x.mp4", tmp_path / "x.mov")
    out = tmp_path / "out"
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", tmp_path / "x.mp4", tmp_path / "x.mov",
                               "-o", out, "--json", "--key-frames", "1")
    recs = records(stdout)
    assert code == 0, stderr
    assert [(r["status"], Path(r["output"]).name) for r in recs] == [("ok", "x_bright.mp4"), ("ok", "x_bright.mov")]
    assert read_record(out / "x_bright.mov")["conditions"]["key_frames"] == 1
    code, stdout, _ = run("apply", "-m", tiny_ckpt, "-t", "bright", tmp_path / "x.mp4", "-o", out, "--json")
    (rec,) = records(stdout)
    assert code == 1 and "key_frames 1 (this run: 8)" in rec["error"]


def test_every_input_gets_a_record_in_the_json(tmp_path, astronaut, tiny_ckpt):
    """Issue 52 item 14: a photo whose name looks like another's output was dropped without a
    record (the reason only at -v)."""
    d = tmp_path / "d"
    d.mkdir()
    face_photo(d / "p.jpg", astronaut)
    face_photo(d / "p_bright.jpg", astronaut)
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", d, "-o", d, "--json")
    recs = {Path(r["input"]).name: r for r in records(stdout)}
    assert set(recs) == {"p.jpg", "p_bright.jpg"}
    assert recs["p_bright.jpg"]["status"] == "skipped" and recs["p_bright.jpg"]["output"] is None
    assert f"output name of {d / 'p.jpg'}" in recs["p_bright.jpg"]["reason"]
    assert "p_bright.jpg: not edited" in stderr and "1 not edited (named as the output of another input)" in stderr


def test_other_commands_follow_the_same_rule_beside_a_file_input(tmp_path, astronaut, tiny_ckpt):
    """`detect` and `sheet` under the one check: with --overwrite, what they wrote beside their
    input is replaced (it carries faceedit's record), an unrelated photo there is not."""
    d = tmp_path / "d"
    d.mkdir()
    photo = face_photo(d / "p.png", astronaut)
    code, _, stderr = run("detect", photo, "-o", d, "--detector", "dlib")
    assert code == 0, stderr
    assert read_record(d / "p_faces.png")["command"] == "detect"
    code, _, stderr = run("detect", photo, "-o", d, "--detector", "dlib", "--overwrite")
    assert code == 0, stderr
    other = face_photo(d / "q.png", astronaut, size=(100, 100))
    before = _sha(other)
    code, _, stderr = run("sheet", "-m", tiny_ckpt, "-t", "bright", "--detector", "dlib", photo, "-o", other,
                          "--overwrite")
    assert code == 2 and f"--out {other}: is a photo or video in the folder of an input" in stderr, stderr
    assert _sha(other) == before


def test_ray_actors_get_the_record_of_each_output(tmp_path):
    """The planned record reaches the actors that write the files (as JSON in the job message)."""
    from faceedit.io.inputs import InputItem
    from faceedit.plan import Job, PlannedOutput
    from faceedit.ray_engine import _job_from_message, _job_message

    record = {"conditions": {"model": "stage", "aus": {"12": 2.0}, "strength": 0.5}}
    job = Job(3, InputItem(str(tmp_path / "p.jpg"), "p.jpg"), "photo",
              [PlannedOutput("happy", 0.5, str(tmp_path / "p_happy.jpg"), record)])
    back = _job_from_message(_job_message(job))
    assert back.outputs == job.outputs and back.outputs[0].record == record
