"""`faceedit train` end to end on a tiny paired dataset: train, resume, export, apply."""

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from faceedit.cli import app
from faceedit.models.checkpoint import file_sha256, read_meta

runner = CliRunner()

TINY = ["--set", "base_channels=8", "--set", "max_channels=16", "--set", "attention_channels=8",
        "--set", "n_latent=2", "--set", "hourglass_depth=1", "--disc", "channels=8",
        "--disc", "n_layers=2", "--augment", "1", "-b", "2", "--lambda", "1"]


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory, astronaut):
    raw = tmp_path_factory.mktemp("raw")
    (raw / "source").mkdir()
    (raw / "target").mkdir()
    for i, (dx, dy) in enumerate([(0, 0), (6, 2), (-4, 5), (3, -3)]):
        img = np.roll(np.roll(astronaut, dy, 0), dx, 1)
        tgt = img.copy()
        tgt[150 + dy : 170 + dy, 195 + dx : 250 + dx] = 250  # "teeth": a bright mouth patch
        Image.fromarray(img).save(raw / "source" / f"{i}.png")
        Image.fromarray(tgt).save(raw / "target" / f"{i}.png")
    out = tmp_path_factory.mktemp("ds") / "pairs"
    r = runner.invoke(app, ["prepare", str(raw), "-o", str(out), "--size", "64"])
    assert r.exit_code == 0, r.stderr
    return out


@pytest.mark.slow
def test_train_resume_export_apply(tmp_path, tiny_dataset, astronaut_png):
    run = tmp_path / "run"
    r = runner.invoke(app, ["train", "-m", "reggan", "-d", str(tiny_dataset), "-o", str(run),
                            "--steps", "2", *TINY])
    assert r.exit_code == 0, r.stderr
    log = [json.loads(l) for l in (run / "log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == 2
    r = runner.invoke(app, ["train", "-m", "reggan", "-d", str(tiny_dataset), "-o", str(run),
                            "--steps", "4", "--resume", *TINY])
    assert r.exit_code == 0, r.stderr
    assert [json.loads(l)["step"] for l in (run / "log.jsonl").read_text().splitlines()][-1] == 4
    ckpt = run / "reggan.safetensors"
    meta = read_meta(ckpt)
    assert meta.arch == "reggan" and meta.targets == ["target"]
    card = (run / "reggan.md").read_text()
    assert "## How it was trained" in card and "l1_refined" in card and file_sha256(ckpt) in card
    report = json.loads((run / "report.json").read_text())
    assert report["refiner_steps"] == 4 and report["heldout"]["target"]["pairs"] >= 1

    for stage in ("refined", "expression"):
        r = runner.invoke(app, ["apply", "-m", str(ckpt), "-t", "target", str(astronaut_png),
                                "-o", str(tmp_path / stage), "--stage", stage, "--json"])
        assert r.exit_code == 0, r.stderr
        rec = json.loads(r.stdout)
        assert rec["status"] == "ok" and rec["faces"] == 1
    # the expression layer alone learnt the bright mouth patch: the mouth got brighter
    before = np.asarray(Image.open(astronaut_png), float)
    after = np.asarray(Image.open(tmp_path / "expression" / "astronaut_target.png"), float)
    mouth = (slice(150, 170), slice(200, 245))
    assert after[mouth].mean() > before[mouth].mean() + 10


def test_train_rejects_unknown_method_and_bad_dataset(tmp_path):
    r = runner.invoke(app, ["train", "-m", "nosuch", "-d", str(tmp_path), "-o", str(tmp_path / "r")])
    assert r.exit_code == 2 and "trainable: reggan" in r.stderr
    r = runner.invoke(app, ["train", "-m", "reggan", "-d", str(tmp_path), "-o", str(tmp_path / "r")])
    assert r.exit_code == 2 and "not a prepared dataset" in r.stderr
