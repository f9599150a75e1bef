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


def test_reggan_resume_keeps_the_runs_stage1_settings(tmp_path):
    from _datasets import make_dataset

    from faceedit.errors import UsageError
    from faceedit.train.reggan import train_from_datasets

    ds = make_dataset(tmp_path / "ds", subjects=4, paired=True)
    run = tmp_path / "run"
    tiny = ["--set", "base_channels=8", "--set", "max_channels=16", "--set", "attention_channels=8",
            "--set", "n_latent=2", "--set", "hourglass_depth=1", "--disc", "channels=8",
            "--disc", "n_layers=2"]
    r = runner.invoke(app, ["train", "-m", "reggan", "-d", str(ds), "-o", str(run), "--steps", "1",
                            "--lambda", "1", "--augment", "1", "-b", "2", *tiny])
    assert r.exit_code == 0, r.stderr
    # --resume alone: the run's method, data, stage-1 settings and architecture
    r = runner.invoke(app, ["train", "--resume", "-o", str(run), "--steps", "2"])
    assert r.exit_code == 0, r.stderr
    report = json.loads((run / "report.json").read_text())
    assert report["lambda"] == 1 and report["augment_copies"] == 1 and report["refiner_steps"] == 2
    assert report["batch_size"] == 2
    r = runner.invoke(app, ["train", "--resume", "-o", str(run), "--steps", "3", "--lambda", "100"])
    assert r.exit_code == 2 and "--lambda 100.0 contradicts" in r.stderr and "--lambda 1.0" in r.stderr
    # the library refuses too: stage 1 is recomputed on resume and must be the run's
    with pytest.raises(UsageError, match="lambda 100.0 \\(the run started with 1.0\\)"):
        train_from_datasets([ds], run, lam=100.0, augment_copies=1, resume=True, steps=3)


def test_a_run_keeps_its_prior_on_resume(tmp_path, tiny_dataset):
    """--prior is part of what defines a run: saved in run.json, and a contradicting --prior on
    --resume is refused (a run must not switch between unedited and stage-edited inputs)."""
    run = tmp_path / "run"
    r = runner.invoke(app, ["train", "-m", "reggan", "-d", str(tiny_dataset), "-o", str(run),
                            "--steps", "1", "--prior", "none", *TINY])
    assert r.exit_code == 0, r.stderr
    assert json.loads((run / "run.json").read_text())["prior"] == "none"
    assert "prior" not in read_meta(run / "reggan.safetensors").extra
    r = runner.invoke(app, ["train", "--resume", "-o", str(run), "--steps", "2", "--prior", "stage"])
    assert r.exit_code == 2 and "--prior" in r.stderr
