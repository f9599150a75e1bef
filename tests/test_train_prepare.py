"""faceedit prepare (faceedit.train.prepare): detect and align once into a dataset, resume after
an interruption, bad files reported, label folders, CSV labels and paired presets."""

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from faceedit.cli import app
from faceedit.data import expression_pairs, load_crop, open_dataset
from faceedit.errors import UsageError

runner = CliRunner()


def shifted(img: np.ndarray, dx: int, dy: int) -> np.ndarray:
    return np.roll(np.roll(img, dy, 0), dx, 1)


@pytest.fixture
def raw_folders(tmp_path, astronaut):
    """label folders: neutral/ and happy/ with astronaut variants, plus one broken file."""
    raw = tmp_path / "raw"
    for label, shifts in {"neutral": [(0, 0), (7, 3)], "happy": [(-5, 4)]}.items():
        (raw / label).mkdir(parents=True)
        for i, (dx, dy) in enumerate(shifts):
            Image.fromarray(shifted(astronaut, dx, dy)).save(raw / label / f"p{i}.png")
    (raw / "happy" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    return raw


def broken_only(r) -> dict:
    """The summary of a ``prepare`` of :func:`raw_folders` whose only failure is broken.jpg: exit 1
    (a photo failed), the others prepared."""
    assert r.exit_code == 1, r.stderr
    assert "1 photo(s) could not be prepared" in r.stderr and "errors.jsonl" in r.stderr
    summary = json.loads(r.stdout)
    assert summary["failed"] == 1
    return summary


def test_prepare_label_folders_resumes_and_reports_bad_files(tmp_path, raw_folders):
    out = tmp_path / "ds"
    r = runner.invoke(app, ["prepare", str(raw_folders), "-o", str(out), "--size", "64"])
    summary = broken_only(r)  # exit 1, as apply's when an input failed
    assert summary["count"] == 3 and summary["labels"]["expression"] == {"neutral": 2, "happy": 1}
    assert summary["new"] == 3
    ds = open_dataset(out)
    for row in ds.rows:
        crop = load_crop(row)
        assert crop.shape == (3, 64, 64) and -1 <= crop.min() and crop.max() <= 1
        assert len(row["landmarks"]) == 68
    # the astronaut's eyes land where the template puts them, whatever the shift in the photo
    eyes = np.array([np.mean(np.array(r["landmarks"])[36:42], 0) for r in ds.rows])
    assert np.ptp(eyes[:, 0]) < 2 and np.ptp(eyes[:, 1]) < 2
    errors = [json.loads(l) for l in (out / "errors.jsonl").read_text().splitlines()]
    assert len(errors) == 1 and errors[0]["source"].endswith("broken.jpg")
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "images").rglob("*.png")}
    r = runner.invoke(app, ["prepare", str(raw_folders), "-o", str(out), "--size", "64"])
    summary = broken_only(r)  # tried again, and failed again
    assert summary["count"] == 3 and summary["new"] == 0
    assert {p: p.stat().st_mtime_ns for p in (out / "images").rglob("*.png")} == mtimes


@pytest.mark.parametrize("meta", ["", "{\"format\": 1, \"pres"], ids=["empty", "torn"])
def test_prepare_resumes_after_an_interrupted_write(tmp_path, raw_folders, meta):
    out = tmp_path / "ds"
    broken_only(runner.invoke(app, ["prepare", str(raw_folders), "-o", str(out), "--size", "64"]))
    rows = (out / "index.jsonl").read_text().splitlines()
    assert len(rows) == 3
    # killed while appending the last row, then (a later run) while writing dataset.json
    (out / "index.jsonl").write_text("\n".join(rows[:2]) + "\n" + rows[2][:40])
    (out / "dataset.json").write_text(meta)
    r = runner.invoke(app, ["prepare", str(raw_folders), "-o", str(out), "--size", "64"])
    broken_only(r)
    assert "index.jsonl: dropped an incomplete last line" in r.stderr
    assert "dataset.json: unreadable" in r.stderr and "Traceback" not in r.stderr
    assert json.loads(r.stdout)["count"] == 3
    assert (out / "index.jsonl").read_text().splitlines() == rows  # the dropped photo is redone
    assert json.loads((out / "dataset.json").read_text())["count"] == 3
    assert len(open_dataset(out).rows) == 3


def test_an_incomplete_last_index_line_is_skipped_by_readers(tmp_path, raw_folders):
    out = tmp_path / "ds"
    broken_only(runner.invoke(app, ["prepare", str(raw_folders), "-o", str(out), "--size", "64"]))
    rows = (out / "index.jsonl").read_text().splitlines()
    (out / "index.jsonl").write_text("\n".join(rows[:2]) + "\n" + rows[2][:40])
    assert len(open_dataset(out).rows) == 2
    (out / "index.jsonl").write_text(rows[0][:40] + "\n" + "\n".join(rows[1:]) + "\n")
    with pytest.raises(UsageError, match="index.jsonl: line 1 is not valid JSON"):
        open_dataset(out)


def test_a_failed_dataset_json_write_keeps_the_old_one(tmp_path, raw_folders, monkeypatch):
    out = tmp_path / "ds"
    broken_only(runner.invoke(app, ["prepare", str(raw_folders), "-o", str(out), "--size", "64"]))
    before = (out / "dataset.json").read_text()

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    r = runner.invoke(app, ["prepare", str(raw_folders), "-o", str(out), "--size", "64"])
    assert r.exit_code == 1 and "dataset.json" in r.stderr and "no space left" in r.stderr
    assert (out / "dataset.json").read_text() == before
    assert sorted(p.name for p in out.iterdir()) == ["dataset.json", "errors.jsonl", "images", "index.jsonl"]


def test_prepare_fails_when_every_photo_failed(tmp_path):
    raw = tmp_path / "raw"
    for label in ("neutral", "happy"):
        (raw / label).mkdir(parents=True)
        (raw / label / "p.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    out = tmp_path / "ds"
    r = runner.invoke(app, ["prepare", str(raw), "-o", str(out), "--size", "64"])
    assert r.exit_code == 1 and "no photo could be prepared" in r.stderr and "errors.jsonl" in r.stderr
    assert len((out / "errors.jsonl").read_text().splitlines()) == 2


def test_paired_preset_registers_target_onto_source(tmp_path, astronaut):
    raw = tmp_path / "raw"
    (raw / "source").mkdir(parents=True)
    (raw / "target").mkdir()
    Image.fromarray(astronaut).save(raw / "source" / "a.png")
    Image.fromarray(shifted(astronaut, 9, -6)).save(raw / "target" / "a.png")
    out = tmp_path / "ds"
    r = runner.invoke(app, ["prepare", str(raw), "-o", str(out), "--size", "64"])
    assert r.exit_code == 0, r.stderr
    ds = open_dataset(out)
    pairs = expression_pairs(ds.rows)
    (src, dst), = pairs["target"]
    a, b = load_crop(src), load_crop(dst)
    # same face, same place in the crop: the stable landmarks coincide to sub-pixel precision and
    # the pixels differ by resampling only (shifting the crop by 1 px alone gives ~0.04)
    la, lb = np.array(src["landmarks"]), np.array(dst["landmarks"])
    assert np.abs(la[27:48] - lb[27:48]).max() < 1.0
    assert float((a - b).abs().mean()) < 0.05


def test_prepare_from_a_csv_with_several_label_columns(tmp_path, astronaut):
    raw = tmp_path / "raw"
    raw.mkdir()
    Image.fromarray(astronaut).save(raw / "a.png")
    Image.fromarray(shifted(astronaut, 6, 2)).save(raw / "b.png")
    csv = tmp_path / "labels.csv"
    csv.write_text("file,label,glasses,subject\na.png,smile,True,ann\nb.png,neutral,,ann\ngone.png,sad,False,bob\n")
    out = tmp_path / "ds"
    r = runner.invoke(app, ["prepare", str(raw), "--csv", str(csv), "-o", str(out), "--size", "64"])
    assert r.exit_code == 1 and json.loads(r.stdout)["failed"] == 1, r.stderr  # gone.png is missing
    rows = {Path(r["source"]).name: r for r in open_dataset(out).rows}
    assert set(rows) == {"a.png", "b.png"}
    assert rows["a.png"]["labels"] == {"expression": "happy", "glasses": "True"}  # smile -> happy
    assert rows["b.png"]["labels"] == {"expression": "neutral"}  # an empty cell is no label
    assert rows["a.png"]["subject"] == rows["b.png"]["subject"]
    errors = [json.loads(l) for l in (out / "errors.jsonl").read_text().splitlines()]
    assert len(errors) == 1 and errors[0]["source"].endswith("gone.png")
    bad = tmp_path / "bad.csv"
    bad.write_text("path,label\na.png,happy\n")
    r = runner.invoke(app, ["prepare", str(raw), "--csv", str(bad), "-o", str(tmp_path / "ds2")])
    assert r.exit_code == 2 and "needs a 'file' column" in r.stderr


@pytest.mark.parametrize("size", ["0", "-3", "8", "5000"])
def test_prepare_refuses_a_crop_size_out_of_range_before_writing(tmp_path, raw_folders, size):
    out = tmp_path / "ds"
    r = runner.invoke(app, ["prepare", str(raw_folders), "-o", str(out), "--size", size])
    assert r.exit_code == 2, (r.exception, r.stderr)
    assert f"--size {size}: crops must be 16 to 2048 pixels" in r.stderr
    assert not out.exists()


def test_prepare_names_the_layout_a_preset_expects(tmp_path, raw_folders):
    """--preset london on a folder without neutral/ and smiling/ (a JAFFE folder, label folders):
    one usage error saying what the preset expected, and no output folder."""
    out = tmp_path / "ds"
    r = runner.invoke(app, ["prepare", str(raw_folders), "-o", str(out), "--preset", "london"])
    assert r.exit_code == 2, (r.exception, r.stderr)
    assert "not the london layout: no sub-folder smiling/" in r.stderr
    assert "neutral/ and smiling/" in r.stderr and "Traceback" not in r.stderr
    r = runner.invoke(app, ["prepare", str(raw_folders), "-o", str(out), "--preset", "paired"])
    assert r.exit_code == 2 and "no sub-folder source/ or target/" in r.stderr
    r = runner.invoke(app, ["prepare", str(raw_folders), "-o", str(out), "--preset", "jaffe"])
    assert r.exit_code == 2 and "no photos found for preset jaffe (it expects photos named like" in r.stderr
    assert not out.exists()


def test_prepare_into_an_existing_file_is_a_usage_error(tmp_path, raw_folders):
    out = tmp_path / "existing.jpg"
    out.write_bytes(b"x")
    r = runner.invoke(app, ["prepare", str(raw_folders), "-o", str(out)])
    assert r.exit_code == 2, (r.exception, r.stderr)
    assert "is a file, not a folder" in r.stderr and out.read_bytes() == b"x"
