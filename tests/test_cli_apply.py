"""End-to-end tests of `faceedit apply` with the tiny test model, covering the CLI contract:
stdout only with --json, exit codes, skip/overwrite, and every kind of bad input."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from faceedit.cli import app

runner = CliRunner()


def run(*args, input=None):
    r = runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def face_photo(path: Path, astronaut: np.ndarray, size=None, fmt=None) -> Path:
    img = Image.fromarray(astronaut[:300, 60:360])  # the astronaut's head and shoulders
    if size:
        img = img.resize(size, Image.BICUBIC)
    img.save(path, format=fmt)
    return path


def no_face_photo(path: Path) -> Path:
    y, x = np.mgrid[0:240, 0:320]
    Image.fromarray(np.dstack([x % 256, y % 256, (x + y) % 256]).astype(np.uint8)).save(path)
    return path


def crowd_photo(path: Path, astronaut: np.ndarray, n=20, cols=5) -> Path:
    head = np.asarray(Image.fromarray(astronaut[40:240, 110:330]).resize((160, 146)))
    rows = (n + cols - 1) // cols
    canvas = np.full((rows * 160, cols * 176, 3), 200, np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        canvas[r * 160 + 7 : r * 160 + 153, c * 176 + 8 : c * 176 + 168] = head
    Image.fromarray(canvas).save(path)
    return path


@pytest.fixture
def photos(tmp_path, astronaut):
    d = tmp_path / "in"
    d.mkdir()
    face_photo(d / "a.jpg", astronaut)
    face_photo(d / "b.png", astronaut)
    return d


def test_apply_edits_face_and_keeps_background(tmp_path, photos, tiny_ckpt):
    out = tmp_path / "out"
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright,dark", photos, "-o", out, "--json")
    assert code == 0, stderr
    recs = records(stdout)
    assert {(Path(r["input"]).name, r["target"]) for r in recs} == {
        ("a.jpg", "bright"), ("a.jpg", "dark"), ("b.png", "bright"), ("b.png", "dark")
    }
    assert all(r["status"] == "ok" and r["faces"] == 1 and r["error"] is None for r in recs)
    names = sorted(p.name for p in out.iterdir())
    assert names == ["a_bright.jpg", "a_dark.jpg", "b_bright.png", "b_dark.png"]
    src = np.asarray(Image.open(photos / "b.png")).astype(float)
    bright = np.asarray(Image.open(out / "b_bright.png")).astype(float)
    dark = np.asarray(Image.open(out / "b_dark.png")).astype(float)
    face = (slice(90, 150), slice(130, 180))  # cheeks/nose area of the astronaut in the crop
    assert bright[face].mean() > src[face].mean() + 20
    assert dark[face].mean() < src[face].mean() - 20
    corner = (slice(0, 20), slice(0, 20))  # background far from the face is untouched
    assert np.abs(bright[corner] - src[corner]).max() <= 1


def test_editor_edits_a_pil_image(astronaut, tiny_ckpt):
    """Issue 15: Editor.edit takes a PIL image as well as an array."""
    from faceedit.api import Editor

    editor = Editor.from_pretrained(tiny_ckpt, device="cpu", detector="dlib")
    out = editor.edit(Image.fromarray(astronaut), "bright")
    assert isinstance(out, np.ndarray) and out.shape == astronaut.shape and out.dtype == np.uint8
    assert np.array_equal(out, editor.edit(astronaut, "bright"))
    face = (slice(90, 150), slice(190, 250))
    assert out[face].mean() > astronaut[face].mean() + 20


def test_stdout_is_empty_without_json_and_rerun_skips(tmp_path, photos, tiny_ckpt):
    out = tmp_path / "out"
    code, stdout, _ = run("apply", "-m", tiny_ckpt, "-t", "bright", photos, "-o", out)
    assert code == 0 and stdout == ""
    mtimes = {p: p.stat().st_mtime_ns for p in out.iterdir()}
    code, stdout, _ = run("apply", "-m", tiny_ckpt, "-t", "bright", photos, "-o", out, "--json")
    assert code == 0
    assert [r["status"] for r in records(stdout)] == ["skipped", "skipped"]
    assert {p: p.stat().st_mtime_ns for p in out.iterdir()} == mtimes
    code, stdout, _ = run("apply", "-m", tiny_ckpt, "-t", "bright", photos, "-o", out, "--json", "--overwrite")
    assert [r["status"] for r in records(stdout)] == ["ok", "ok"]


def test_inputs_from_stdin_globs_and_strength_series(tmp_path, photos, tiny_ckpt):
    out = tmp_path / "out"
    stdin = f"{photos / 'a.jpg'}\n\n{photos / 'b.png'}\n"
    code, stdout, stderr = run(
        "apply", "-m", tiny_ckpt, "-t", "bright", "-s", "0,0.5,1", "--name", "{stem}_{strength}{ext}",
        "-", "-o", out, "--json", input=stdin,
    )
    assert code == 0, stderr
    assert len(records(stdout)) == 6
    a0, a5, a1 = (np.asarray(Image.open(out / f"b_{s}.png")).astype(float) for s in ("0", "0.5", "1"))
    src = np.asarray(Image.open(photos / "b.png")).astype(float)
    face = (slice(90, 150), slice(130, 180))
    assert np.abs(a0 - src).max() <= 1  # strength 0 = unchanged
    assert src[face].mean() < a5[face].mean() < a1[face].mean()
    code, stdout, _ = run("apply", "-m", tiny_ckpt, "-t", "bright", str(photos / "*.png"), "-o", tmp_path / "g", "--json")
    assert code == 0 and [Path(r["output"]).name for r in records(stdout)] == ["b_bright.png"]


def test_usage_errors_exit_2_with_choices(tmp_path, photos, tiny_ckpt):
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "happy", photos, "-o", tmp_path / "o")
    assert code == 2 and "unknown target 'happy'" in stderr and "bright, dark" in stderr
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
    code, _, stderr = run("apply", "-m", "no-such-model", "-t", "x", photos, "-o", tmp_path / "o")
    assert code == 2 and "no-such-model" in stderr
    code, _, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", "-s", "1.5", photos, "-o", tmp_path / "o")
    assert code == 2 and "strength" in stderr
    code, _, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", "--name", "{bogus}", photos, "-o", tmp_path / "o")
    assert code == 2 and "bogus" in stderr
    code, _, _ = run("apply", "-m", tiny_ckpt, "-t", "bright", "--no-such-flag", photos, "-o", tmp_path / "o")
    assert code == 2


def test_corrupt_checkpoint_is_one_clean_line(tmp_path, photos, tiny_ckpt):
    bad = tmp_path / "bad.safetensors"
    data = Path(tiny_ckpt).read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    code, stdout, stderr = run("apply", "-m", bad, "-t", "bright", photos, "-o", tmp_path / "o")
    assert code == 1 and stdout == ""
    assert str(bad) in stderr and "Traceback" not in stderr
    assert len([ln for ln in stderr.splitlines() if "error" in ln]) == 1


def test_bad_inputs_each_fail_alone(tmp_path, astronaut, tiny_ckpt):
    d = tmp_path / "in"
    d.mkdir()
    face_photo(d / "good.jpg", astronaut)
    (d / "empty.jpg").write_bytes(b"")
    (d / "text.png").write_text("this is not an image\n")
    good = (d / "good.jpg").read_bytes()
    (d / "truncated.jpg").write_bytes(good[: len(good) // 2])
    no_face_photo(d / "noface.png")
    crowd_photo(d / "crowd.png", astronaut)
    out = tmp_path / "out"
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", d, str(d / "missing.jpg"), "-o", out, "--json")
    assert code == 1
    by_name = {Path(r["input"]).name: r for r in records(stdout)}
    assert by_name["good.jpg"]["status"] == "ok"
    reasons = {
        "empty.jpg": "empty",
        "text.png": "not a recognised image",
        "truncated.jpg": "truncated",
        "noface.png": "no face",
        "crowd.png": "faces found, more than --max-faces 10",
        "missing.jpg": "no such file",
    }
    for name, reason in reasons.items():
        rec = by_name[name]
        assert rec["status"] == "error" and reason in rec["error"], rec
        assert any(name in ln and reason in ln for ln in stderr.splitlines()), (name, stderr)
    assert sorted(p.name for p in out.iterdir()) == ["good_bright.jpg"]  # nothing partial


def test_crowd_with_no_limit_edits_every_face(tmp_path, astronaut, tiny_ckpt):
    p = crowd_photo(tmp_path / "crowd.png", astronaut)
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", p, "-o", tmp_path / "o",
                               "--max-faces", "0", "--json")
    assert code == 0, stderr
    assert records(stdout)[0]["faces"] == 20
    code, stdout, _ = run("apply", "-m", tiny_ckpt, "-t", "dark", p, "-o", tmp_path / "o", "--face", "largest", "--json")
    assert code == 0 and records(stdout)[0]["faces"] == 20  # the faces found, one edited


def test_faces_is_the_number_of_faces_found(tmp_path, astronaut, tiny_ckpt):
    """A record's ``faces`` counts the faces found, also where the photo fails on them: a face
    number it does not have, more faces than --max-faces."""
    one = face_photo(tmp_path / "one.png", astronaut)
    code, stdout, _ = run("apply", "-m", tiny_ckpt, "-t", "dark", one, "-o", tmp_path / "o", "--face", "7", "--json")
    assert code == 1 and [(r["status"], r["faces"]) for r in records(stdout)] == [("error", 1)]
    six = crowd_photo(tmp_path / "six.png", astronaut, n=6, cols=3)
    code, stdout, _ = run("apply", "-m", tiny_ckpt, "-t", "dark", six, "-o", tmp_path / "o", "--max-faces", "1", "--json")
    assert code == 1 and [(r["status"], r["faces"]) for r in records(stdout)] == [("error", 6)]


def test_on_no_face_policies(tmp_path, tiny_ckpt):
    p = no_face_photo(tmp_path / "noface.png")
    code, stdout, _ = run("apply", "-m", tiny_ckpt, "-t", "bright", p, "-o", tmp_path / "s", "--on-no-face", "skip", "--json")
    assert code == 0 and records(stdout)[0]["status"] == "no_face" and not list((tmp_path / "s").glob("*"))
    code, stdout, _ = run("apply", "-m", tiny_ckpt, "-t", "bright", p, "-o", tmp_path / "c", "--on-no-face", "copy", "--json")
    assert code == 0 and records(stdout)[0]["status"] == "copied"
    assert np.array_equal(np.asarray(Image.open(tmp_path / "c" / "noface_bright.png")), np.asarray(Image.open(p)))


def test_output_collision_and_escape_and_input_protection(tmp_path, astronaut, tiny_ckpt):
    d = tmp_path / "in"
    (d / "x").mkdir(parents=True)
    (d / "y").mkdir()
    face_photo(d / "x" / "p.png", astronaut)
    face_photo(d / "y" / "p.png", astronaut)
    out = tmp_path / "out"
    code, stdout, _ = run("apply", "-m", tiny_ckpt, "-t", "bright", "-r", d, "-o", out, "--json",
                          "--name", "{stem}_{target}{ext}")  # a flat name for a tree
    assert code == 1
    recs = records(stdout)
    assert [r["status"] for r in recs] == ["ok", "error"] and "collision" in recs[1]["error"]
    assert "{relparent}" in recs[1]["error"]
    # mirroring the tree avoids the collision
    code, stdout, _ = run("apply", "-m", tiny_ckpt, "-t", "bright", "-r", d, "-o", tmp_path / "m",
                          "--name", "{relparent}/{stem}_{target}{ext}", "--json")
    assert code == 0 and (tmp_path / "m" / "x" / "p_bright.png").exists()
    code, _, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", d / "x" / "p.png", "-o", out, "--name", "../{stem}{ext}")
    assert code in (1, 2) and "escape" in stderr
    before = (d / "x" / "p.png").read_bytes()
    code, stdout, _ = run("apply", "-m", tiny_ckpt, "-t", "bright", d / "x" / "p.png", "-o", d / "x",
                          "--name", "{stem}{ext}", "--overwrite", "--json")
    assert code == 1 and "input" in records(stdout)[0]["error"]
    assert (d / "x" / "p.png").read_bytes() == before


def test_no_output_replaces_an_input_met_later(tmp_path, astronaut, tiny_ckpt):
    """Issue 15: john.jpg's output name is john_bright.jpg, another photo given as an input."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    face_photo(a / "john.jpg", astronaut)
    other = face_photo(b / "john_bright.jpg", astronaut, size=(200, 200))
    before = other.read_bytes()
    for extra in ([], ["--overwrite"]):
        code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", a / "john.jpg", other,
                                   "-o", b, "--json", *extra)
        recs = {Path(r["input"]).name: r for r in records(stdout)}
        assert code == 1, extra
        assert recs["john.jpg"]["status"] == "error" and recs["john.jpg"]["output"] is None
        assert "input file" in recs["john.jpg"]["error"] and str(other) in recs["john.jpg"]["error"]
        assert recs["john_bright.jpg"]["status"] == "ok"  # the later input is still edited
        assert other.read_bytes() == before
    # the same through stdin (the whole list is read before anything is written)
    code, stdout, _ = run("apply", "-m", tiny_ckpt, "-t", "bright", "-", "-o", b, "--overwrite", "--json",
                          input=f"{a / 'john.jpg'}\n{other}\n")
    assert code == 1 and "input file" in records(stdout)[0]["error"] and other.read_bytes() == before


def test_output_folder_equal_to_the_input_folder(tmp_path, astronaut, tiny_ckpt):
    d = tmp_path / "d"
    d.mkdir()
    face_photo(d / "john.jpg", astronaut)
    other = face_photo(d / "john_bright.jpg", astronaut, size=(200, 200))
    face_photo(d / "mary.jpg", astronaut)
    before = other.read_bytes()
    # john_bright.jpg bears john.jpg's output name: it is not edited (no john_bright_bright.jpg)
    # and, as it may be an original photo, never replaced, not even with --overwrite
    code, stdout, stderr = run("-v", "apply", "-m", tiny_ckpt, "-t", "bright", d, "-o", d,
                               "--overwrite", "--json")
    recs = {Path(r["input"]).name: r for r in records(stdout)}
    assert code == 1 and set(recs) == {"john.jpg", "john_bright.jpg", "mary.jpg"}  # every input has a record
    assert recs["john.jpg"]["status"] == "error" and str(other) in recs["john.jpg"]["error"]
    assert recs["mary.jpg"]["status"] == "ok"
    aside = recs["john_bright.jpg"]
    assert aside["status"] == "skipped" and aside["output"] is None
    assert "output name of" in aside["reason"] and str(d / "john.jpg") in aside["reason"]
    assert "john_bright.jpg: not edited" in stderr
    assert "1 not edited (named as the output of another input)" in stderr
    assert other.read_bytes() == before
    assert sorted(p.name for p in d.iterdir()) == ["john.jpg", "john_bright.jpg", "mary.jpg",
                                                   "mary_bright.jpg"]
    # a second run in place skips what exists and does not edit its own outputs
    code, stdout, _ = run("apply", "-m", tiny_ckpt, "-t", "bright", d, "-o", d, "--json")
    assert code == 0
    assert [(Path(r["input"]).name, r["status"]) for r in records(stdout)] == [
        ("john.jpg", "skipped"), ("john_bright.jpg", "skipped"), ("mary.jpg", "skipped"),
        ("mary_bright.jpg", "skipped")]
    assert other.read_bytes() == before and len(list(d.iterdir())) == 4
    # with --overwrite, mary's earlier output (it carries faceedit's record) is replaced; john's
    # namesake (an original, no record) is not
    code, stdout, _ = run("apply", "-m", tiny_ckpt, "-t", "bright", d, "-o", d, "--json", "--overwrite")
    recs = {Path(r["input"]).name: r for r in records(stdout)}
    assert code == 1 and recs["mary.jpg"]["status"] == "ok" and recs["john.jpg"]["status"] == "error"
    assert other.read_bytes() == before and len(list(d.iterdir())) == 4


def test_symlink_loop_in_a_folder_fails_alone(tmp_path, astronaut, tiny_ckpt):
    d = tmp_path / "in"
    d.mkdir()
    face_photo(d / "a.jpg", astronaut)
    (d / "loop.jpg").symlink_to("loop.jpg")
    face_photo(d / "z.png", astronaut)
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", d, "-o", tmp_path / "out", "--json")
    recs = {Path(r["input"]).name: r for r in records(stdout)}
    assert code == 1
    assert recs["a.jpg"]["status"] == recs["z.png"]["status"] == "ok"
    assert recs["loop.jpg"]["status"] == "error" and "symbolic links" in recs["loop.jpg"]["error"]
    assert "loop.jpg" in stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_bright.jpg", "z_bright.png"]


def test_unwritable_output_folder(tmp_path, photos, tiny_ckpt):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the output folder should be")
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", photos, "-o", blocker / "out", "--json")
    assert code == 1
    recs = records(stdout)
    assert len(recs) == 2 and all(r["status"] == "error" for r in recs)
    assert all(Path(r["input"]).name in stderr for r in recs)


@pytest.mark.slow
def test_fifty_megapixel_photo_is_edited_within_the_pixel_limit(tmp_path, astronaut, tiny_ckpt):
    big = face_photo(tmp_path / "big.png", astronaut, size=(7100, 7100))  # 50.4 MP
    code, stdout, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", big, "-o", tmp_path / "o", "--json")
    assert code == 0, stderr
    rec = records(stdout)[0]
    assert rec["status"] == "ok" and rec["faces"] == 1
    with Image.open(rec["output"]) as im:
        assert im.size == (7100, 7100)
    code, stdout, _ = run("apply", "-m", tiny_ckpt, "-t", "dark", big, "-o", tmp_path / "o",
                          "--max-pixels", "40000000", "--json")
    assert code == 1 and "megapixels" in records(stdout)[0]["error"]


@pytest.mark.slow
def test_console_script_contract(tmp_path, photos, tiny_ckpt, plugin_env):
    exe = Path(sys.executable).parent / "faceedit"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "faceedit"]
    r = subprocess.run(cmd + ["apply", "-m", tiny_ckpt, "-t", "bright", str(photos), "-o", str(tmp_path / "o"), "--json"],
                       capture_output=True, text=True, env=plugin_env, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert len(records(r.stdout)) == 2
    assert "\x1b[" not in r.stderr  # no progress bar or colour codes when stderr is not a TTY
    r = subprocess.run(cmd + ["models", "--json"], capture_output=True, text=True, env=plugin_env)
    assert r.returncode == 0 and isinstance(json.loads(r.stdout), list)


def test_detect_writes_overlays_json_and_crops(tmp_path, astronaut_png, tiny_ckpt):
    (tmp_path / "bad.png").write_bytes(b"")
    out = tmp_path / "dbg"
    code, stdout, stderr = run("detect", astronaut_png, tmp_path / "bad.png", "-o", out, "-m", tiny_ckpt, "--json")
    assert code == 1  # the empty file failed, the photo was still processed
    recs = {Path(r["input"]).name: r for r in records(stdout)}
    assert recs["bad.png"]["status"] == "error" and "empty" in recs["bad.png"]["error"]
    good = recs["astronaut.png"]
    assert good["status"] == "ok" and len(good["faces"]) == 1 and len(good["faces"][0]["landmarks"]) == 68
    saved = json.loads((out / "astronaut.json").read_text())
    assert saved["faces"] == good["faces"]
    with Image.open(out / "astronaut_faces.png") as im:
        assert im.size == (512, 512)
    with Image.open(out / "astronaut_face0.png") as im:
        assert im.size == (64, 64)  # the tiny model's crop template


def test_detect_passes_over_videos_in_a_folder_and_refuses_one_named(tmp_path, astronaut_png):
    """Folders list videos (for apply); detect reads photos: a listed video is passed over, a
    video named on the command line is an error record naming it."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.png").write_bytes(astronaut_png.read_bytes())
    (folder / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom")
    code, stdout, _ = run("detect", folder, "-o", tmp_path / "d", "--json")
    assert code == 0 and [Path(r["input"]).name for r in records(stdout)] == ["a.png"]
    code, stdout, _ = run("detect", folder / "clip.mp4", "-o", tmp_path / "d2", "--json")
    (rec,) = records(stdout)
    assert code == 1 and rec["status"] == "error" and "detect reads photos" in rec["error"]


def test_batched_detection_matches_one_by_one_and_a_failing_photo_fails_alone(tmp_path, astronaut, tiny_ckpt,
                                                                               monkeypatch):
    """Photos are detected in groups (``detect_batch``); the outputs are those of detecting
    each photo alone, bit for bit, and a detector failure on one photo of a group fails that
    photo only. (The detector is cached per process: its methods are patched for this test only.)"""
    from faceedit.api import Editor
    from faceedit.apply_options import ApplyOptions
    from faceedit.run import ApplyRun

    d = tmp_path / "in"
    d.mkdir()
    for i, size in enumerate([(300, 300), (260, 260), (340, 340), (300, 300)]):
        face_photo(d / f"p{i}.png", astronaut, size=size)
    editor = Editor.from_pretrained(tiny_ckpt, device="cpu", detector="mediapipe")
    det = editor.detector
    calls = []
    batch = det.detect_batch

    def counting(images):
        calls.append(len(images))
        return batch(images)

    monkeypatch.setattr(det, "detect_batch", counting)

    def apply_to(out, **kw):
        opts = ApplyOptions(targets=["bright"], out_dir=str(out), workers=1, **kw)
        return {Path(r.input).name: r for r in ApplyRun.local(editor, opts).run([str(d)])}

    grouped = apply_to(tmp_path / "grouped")
    assert calls and max(calls) == 4  # one call for the four photos
    alone = apply_to(tmp_path / "alone", batch_size=1)  # groups of one photo
    assert all(r.status == "ok" for r in [*grouped.values(), *alone.values()])
    for name in grouped:
        a = np.asarray(Image.open(tmp_path / "grouped" / f"{Path(name).stem}_bright.png"), float)
        b = np.asarray(Image.open(tmp_path / "alone" / f"{Path(name).stem}_bright.png"), float)
        assert np.array_equal(a, b), name  # a photo's edit does not depend on its group

    def broken(images):  # the batch fails; one by one, p2 fails and the others are found
        raise RuntimeError("batch failed")

    def detect(rgb):
        if rgb.shape[0] == 340:
            raise RuntimeError("detector bug on this photo")
        return batch([rgb])[0]

    monkeypatch.setattr(det, "detect_batch", broken)
    monkeypatch.setattr(det, "detect", detect)
    recs = apply_to(tmp_path / "broken")
    assert recs["p2.png"].status == "error" and "detector bug" in recs["p2.png"].error
    assert all(recs[f"p{i}.png"].status == "ok" for i in (0, 1, 3))


def test_a_run_of_photos_does_not_touch_the_video_engine(tmp_path, astronaut, tiny_ckpt, plugin_env):
    """The run driver plans and hands photos to the photo engine; faceedit.video (and PyAV) are
    loaded for a video only."""
    photo = face_photo(tmp_path / "a.png", astronaut)
    code = (
        "import sys\n"
        "from faceedit.api import Editor\n"
        "from faceedit.apply_options import ApplyOptions\n"
        "from faceedit.run import ApplyRun\n"
        f"editor = Editor.from_pretrained({str(tiny_ckpt)!r}, device='cpu')\n"
        f"run = ApplyRun.local(editor, ApplyOptions(['bright'], {str(tmp_path / 'o')!r}))\n"
        f"assert [r.status for r in run.run([{str(photo)!r}])] == ['ok']\n"
        "print(sorted(m for m in sys.modules if m.startswith('faceedit.video') or m == 'av'))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env=plugin_env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


# ---- the edit request on the command line: the light in the record, one light, AU targets ----


def _stage_present() -> bool:
    from faceedit.models.hub import weights_present
    from faceedit.models.registry import get_spec

    return weights_present(get_spec("stage"))


def test_the_record_carries_the_light(tmp_path, astronaut):
    """--light and --light-strength are in the --json record (they were not: "lighting": null and
    nothing else), and so is the light a --lighting class stands for."""
    if not _stage_present():
        pytest.skip("shipped stage weights not present")
    photo = face_photo(tmp_path / "face.png", astronaut)
    code, stdout, stderr = run("apply", "-m", "stage", "--light", "35,15", "--light-strength", "0.8", photo,
                               "-o", tmp_path / "o", "--json")
    rec = records(stdout)[0]
    assert code == 0 and rec["status"] == "ok", stderr
    assert rec["lighting"] is None and rec["light"] == [35.0, 15.0] and rec["light_strength"] == 0.8
    code, stdout, _ = run("apply", "-m", "stage", "--light", "-20,5", photo, "-o", tmp_path / "o2", "--json")
    rec = records(stdout)[0]  # the strength the light was applied at: the declared default
    assert code == 0 and rec["light"] == [-20.0, 5.0] and rec["light_strength"] == 0.6
    code, stdout, _ = run("apply", "-m", "stage", "--lighting", "left", photo, "-o", tmp_path / "o3", "--json")
    rec = records(stdout)[0]  # the stage's direction for the class, at the default strength
    assert code == 0 and rec["lighting"] == "left" and rec["light"] == [50.0, 0.0] and rec["light_strength"] == 0.6


def test_lighting_and_light_together_are_refused(tmp_path, photo_path_and_missing):
    """--lighting left --light 30,10 applied --light alone and recorded left: a usage error now."""
    code, _, stderr = run("apply", "-m", "stage", "--lighting", "left", "--light", "30,10",
                          photo_path_and_missing, "-o", tmp_path / "o")
    assert code == 2 and "--lighting left and --light 30,10 together" in stderr, stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("model, target", [("stage", "au"), ("eggan", "au"), ("eggan", "custom")])
def test_an_au_target_without_aus_is_refused(tmp_path, photo_path_and_missing, model, target):
    """-t au without --au wrote an unchanged photo on the stage (EGGAN's -t custom was refused):
    both are a usage error naming --au, before any weights load."""
    code, _, stderr = run("apply", "-m", model, "-t", target, photo_path_and_missing, "-o", tmp_path / "o")
    assert code == 2 and f"--target {target} needs AU intensities: give --au" in stderr, stderr


@pytest.fixture
def photo_path_and_missing(tmp_path) -> Path:
    """An input that is never read: the usage error comes first."""
    return tmp_path / "missing.jpg"
