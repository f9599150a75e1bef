"""Every command that writes a file follows apply's rules (faceedit.io.outputs.check_output): never
over an input, never over an existing file without --overwrite (usage errors, exit 2, before any
work), atomically; eval's ``sha256`` is the file's; ``prepare`` exits 1 when a photo failed; the
CPU autocast is said in the log."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import torch
from _datasets import make_dataset
from PIL import Image
from test_cli_apply import records, run
from typer.testing import CliRunner

from faceedit.cli import app

ROOT = Path(__file__).resolve().parent.parent


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---- sheet -------------------------------------------------------------------------------------


def test_sheet_never_writes_over_its_photo_or_an_existing_file(tmp_path, astronaut, tiny_ckpt):
    photo = tmp_path / "victim.jpg"
    Image.fromarray(astronaut).save(photo)
    before = _sha(photo)
    code, _, stderr = run("sheet", "-m", tiny_ckpt, "-t", "bright", "--detector", "dlib", photo, "-o", photo)
    assert code == 2 and f"--out {photo}: is an input" in stderr, stderr
    (tmp_path / "link.jpg").symlink_to(photo)  # the same file by another name
    code, _, stderr = run("sheet", "-m", tiny_ckpt, "-t", "bright", tmp_path / "link.jpg", "-o", photo,
                          "--overwrite")
    assert code == 2 and "is an input" in stderr, stderr
    assert _sha(photo) == before
    existing = tmp_path / "existing.png"
    existing.write_bytes(b"keep me")
    code, _, stderr = run("sheet", "-m", tiny_ckpt, "-t", "bright", photo, "-o", existing)
    assert code == 2 and f"--out {existing}: exists; give --overwrite to replace it" in stderr, stderr
    assert existing.read_bytes() == b"keep me"
    code, _, stderr = run("sheet", "-m", tiny_ckpt, "-t", "bright", photo, "-o", tmp_path / "s.safetensors")
    assert code == 2 and "unsupported output extension" in stderr  # before the work, not after it
    # beside the photo, --overwrite replaces only what faceedit wrote (maybe an original)
    code, _, stderr = run("sheet", "-m", tiny_ckpt, "-t", "bright", photo, "-o", existing, "--overwrite")
    assert code == 2 and "that faceedit did not write" in stderr, stderr
    assert existing.read_bytes() == b"keep me"
    (tmp_path / "sheets").mkdir()
    elsewhere = tmp_path / "sheets" / "existing.png"
    elsewhere.write_bytes(b"replace me")
    code, _, stderr = run("sheet", "-m", tiny_ckpt, "-t", "bright", "--detector", "dlib", photo, "-o", elsewhere,
                          "--overwrite")
    assert code == 0, stderr
    assert Image.open(elsewhere).format == "PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.png", "link.jpg", "sheets", "victim.jpg"]
    assert sorted(p.name for p in elsewhere.parent.iterdir()) == ["existing.png"]  # no temp


# ---- eval --------------------------------------------------------------------------------------


def test_eval_never_writes_over_an_input_or_an_existing_file_and_names_the_files_hash(tmp_path, astronaut):
    data = make_dataset(tmp_path / "ds", subjects=4, paired=True)
    photo = tmp_path / "photo.jpg"
    Image.fromarray(astronaut).save(photo)
    before = _sha(photo)
    base = ["eval", "-m", "reggan", "-d", data, "--max-sources", "2"]
    code, _, stderr = run(*base, "-o", photo)
    assert code == 2 and f"--out {photo}: exists; give --overwrite" in stderr, stderr
    weights = ROOT / "weights" / "reggan.safetensors"
    for out in (data / "index.jsonl", weights):  # what it reads, even with --overwrite
        code, _, stderr = run(*base, "-o", out, "--overwrite")
        assert code == 2 and f"--out {out}: is an input" in stderr, stderr
    code, _, stderr = run(*base, "--sheet", data / "images" / "s0-neutral.png", "--overwrite")
    assert code == 2 and "--sheet" in stderr and "is an input" in stderr, stderr
    assert _sha(photo) == before
    code, stdout, stderr = run(*base, "-o", data / "ev.json")  # beside the dataset's files: fine
    assert code == 0, stderr
    metrics = json.loads(stdout)
    # "sha256" is the file's, as sha256sum prints it; the tensors' hash is named for what it is
    assert metrics["sha256"] == _sha(weights)
    from faceedit.models.checkpoint import load_checkpoint

    assert metrics["tensors_sha256"] == load_checkpoint(weights).meta.tensors_sha256 != metrics["sha256"]
    assert json.loads((data / "ev.json").read_text()) == metrics
    code, _, stderr = run(*base, "-o", data / "ev.json")
    assert code == 2 and "--overwrite" in stderr


# ---- detect ------------------------------------------------------------------------------------


def test_detect_never_writes_over_an_input_or_its_earlier_outputs(tmp_path, astronaut, tiny_ckpt):
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(astronaut).save(folder / "a.png")
    out = tmp_path / "d"
    code, _, stderr = run("detect", folder, "-o", out, "-m", tiny_ckpt)
    assert code == 0, stderr
    written = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert sorted(written) == ["a.json", "a_face0.png", "a_faces.png"]
    code, _, stderr = run("detect", folder, "-o", out, "-m", tiny_ckpt)
    assert code == 2 and f"--out {out / 'a_faces.png'}: exists; give --overwrite" in stderr, stderr
    (out / "a_faces.png").unlink()
    (out / "a.json").unlink()
    code, _, stderr = run("detect", folder, "-o", out, "-m", tiny_ckpt)  # an earlier run's crop
    assert code == 2 and "a_face0.png: exists" in stderr, stderr
    code, stdout, stderr = run("detect", folder, "-o", out, "-m", tiny_ckpt, "--overwrite", "--json")
    assert code == 0 and records(stdout)[0]["status"] == "ok", stderr
    # into the photos' own folder: a second run finds the first one's overlay among the photos
    code, _, stderr = run("detect", folder, "-o", folder)
    assert code == 0, stderr
    overlay = (folder / "a_faces.png").read_bytes()
    code, _, stderr = run("detect", folder, "-o", folder, "--overwrite")
    assert code == 2 and f"{folder / 'a_faces.png'}: is an input" in stderr, stderr
    assert (folder / "a_faces.png").read_bytes() == overlay
    assert not (folder / "a_faces_faces.png").exists()


# ---- train, train-stage, train-analysis ---------------------------------------------------------


def _invoke(*args):
    r = CliRunner().invoke(app, [str(a) for a in args])
    return r.exit_code, r.stderr


def test_train_into_a_file_is_a_usage_error_before_training(tmp_path, monkeypatch):
    """It trained stage 1 and then died with a FileExistsError traceback (exit 1)."""
    monkeypatch.setenv("FACEEDIT_PLUGINS", "tiny_trainer")
    data = make_dataset(tmp_path / "ds", subjects=4)
    blocker = tmp_path / "run"
    blocker.write_bytes(b"a file")
    code, err = _invoke("train", "-m", "test-tiny-gan", "-d", data, "-o", blocker, "--steps", "1", "--no-eval")
    assert code == 2 and f"--out {blocker}: is a file, not a folder" in err, err
    assert blocker.read_bytes() == b"a file"


def test_train_never_exports_over_an_input_or_an_existing_file(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEEDIT_PLUGINS", "tiny_trainer")
    data = make_dataset(tmp_path / "ds", subjects=4)
    quiet = ["--steps", "1", "--no-eval", "--stage", "none", "--sample-every", "0"]
    # a folder that holds no run but a file of the default export's name (weights/, say)
    folder = tmp_path / "weights"
    folder.mkdir()
    (folder / "test-tiny-gan.md").write_text("a card")
    code, err = _invoke("train", "-m", "test-tiny-gan", "-d", data, "-o", folder, *quiet)
    assert code == 2 and f"--export {folder / 'test-tiny-gan.md'}: exists; give --overwrite" in err, err
    assert (folder / "test-tiny-gan.md").read_text() == "a card" and not (folder / "run.json").exists()
    code, err = _invoke("train", "-m", "test-tiny-gan", "-d", data, "-o", tmp_path / "r",
                        "--export", data / "dataset.json", "--overwrite", *quiet)
    assert code == 2 and "give a .safetensors file name" in err, err  # a checkpoint, never over the data
    code, err = _invoke("train", "-m", "test-tiny-gan", "-d", data, "-o", tmp_path / "r", *quiet)
    assert code == 0, err
    export = tmp_path / "r" / "test-tiny-gan.safetensors"
    assert export.is_file() and export.with_suffix(".md").is_file()
    # fine-tuning from a checkpoint does not export over it
    code, err = _invoke("train", "-m", "test-tiny-gan", "-d", data, "-o", tmp_path / "r2", "--init", export,
                        "--export", export, "--overwrite", *quiet)
    assert code == 2 and f"--export {export}: is an input" in err, err
    code, err = _invoke("train", "-o", tmp_path / "r", "--resume", "--steps", "2", "--no-eval",
                        "--sample-every", "0")
    assert code == 0, err  # a resumed run writes its own export again


def test_train_stage_and_train_analysis_need_overwrite_for_an_existing_file(tmp_path):
    data = make_dataset(tmp_path / "ds", subjects=4)
    existing = tmp_path / "w.safetensors"
    existing.write_bytes(b"keep me")
    code, err = _invoke("train-stage", "-d", data, "-o", existing)
    assert code == 2 and f"--out {existing}: exists; give --overwrite to replace it" in err, err
    code, err = _invoke("train-analysis", "lighting", "-d", data, "-o", existing, "--steps", "1")
    assert code == 2 and f"--out {existing}: exists; give --overwrite to replace it" in err, err
    card = tmp_path / "v.md"
    card.write_text("a card")
    code, err = _invoke("train-analysis", "lighting", "-d", data, "-o", card.with_suffix(".safetensors"),
                        "--steps", "1")
    assert code == 2 and f"--out {card}: exists" in err, err
    (tmp_path / "x.run").write_text("a file")
    code, err = _invoke("train-analysis", "lighting", "-d", data, "-o", tmp_path / "x.safetensors", "--steps", "1")
    assert code == 2 and "--run" in err and "is a file, not a folder" in err, err
    assert existing.read_bytes() == b"keep me" and card.read_text() == "a card"


# ---- prepare -----------------------------------------------------------------------------------


def test_prepare_exits_1_when_a_photo_failed_and_2_for_a_missing_csv(tmp_path, astronaut):
    raw = tmp_path / "raw"
    raw.mkdir()
    Image.fromarray(astronaut).save(raw / "a.png")
    (tmp_path / "labels.csv").write_text("file,label\na.png,happy\nmissing.png,happy\n")
    r = CliRunner().invoke(app, ["prepare", str(raw), "-o", str(tmp_path / "ds"), "--size", "64",
                                 "--csv", str(tmp_path / "labels.csv")])
    assert r.exit_code == 1, r.stderr
    summary = json.loads(r.stdout)
    assert summary["count"] == 1 and summary["new"] == 1 and summary["failed"] == 1
    assert "1 photo(s) could not be prepared" in r.stderr and "errors.jsonl" in r.stderr
    assert "failed" not in json.loads((tmp_path / "ds" / "dataset.json").read_text())  # this run's, not the set's
    r = CliRunner().invoke(app, ["prepare", str(raw), "-o", str(tmp_path / "ds2"), "--csv", str(tmp_path / "no.csv")])
    assert r.exit_code == 2 and f"--csv {tmp_path / 'no.csv'}: no such file" in r.stderr, r.stderr
    assert not (tmp_path / "ds2").exists()


# ---- --precision fp16 on the CPU ----------------------------------------------------------------


def test_cpu_autocast_is_said_once(monkeypatch, caplog):
    from faceedit import device

    monkeypatch.setattr(device, "_said_cpu_autocast", set())
    cpu = torch.device("cpu")
    with caplog.at_level(logging.INFO, logger="faceedit"):
        assert device.autocast_dtype(cpu, "fp32") is None and device.autocast_dtype(cpu, "auto") is None
        assert not caplog.records
        assert device.autocast_dtype(cpu, "fp16") == torch.float16
        assert device.autocast_dtype(cpu, "fp16") == torch.float16
        assert device.autocast_dtype(cpu, "bf16", option="`amp`") == torch.bfloat16
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 2 and said[0].startswith("`precision` fp16 on the CPU") and "no faster" in said[0]
    assert said[1].startswith("`amp` bf16 on the CPU")


def test_cpu_autocast_note_reaches_the_command_line_as_a_flag(tmp_path, astronaut, tiny_ckpt, monkeypatch):
    from faceedit import device

    monkeypatch.setattr(device, "_said_cpu_autocast", set())
    photo = tmp_path / "a.png"
    Image.fromarray(astronaut).save(photo)
    code, _, stderr = run("apply", "-m", tiny_ckpt, "-t", "bright", "--device", "cpu", "--precision", "fp16",
                          photo, "-o", tmp_path / "o")
    assert code == 0, stderr
    assert stderr.count("--precision fp16 on the CPU") == 1, stderr
