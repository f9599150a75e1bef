"""`faceedit train` end to end on a tiny paired dataset: train, resume, export, apply; RegGAN's run
folder is laid out as every method's."""

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from faceedit.cli import app
from faceedit.models.checkpoint import file_sha256
from faceedit.models.header import read_meta

runner = CliRunner()

TINY_ARCH = ["--set", "base_channels=8", "--set", "max_channels=16", "--set", "attention_channels=8",
             "--set", "n_latent=2", "--set", "hourglass_depth=1", "-b", "2"]
TINY = [*TINY_ARCH, "--set", "d_channels=8", "--set", "d_n_layers=2", "--set", "augment_copies=1",
        "--set", "lambda_reg=1"]


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
    assert report["budget"]["steps"] == 4 and report["metrics"]["heldout"]["target"]["pairs"] >= 1
    assert "eval" in report["metrics"]  # faceedit eval on the held-out subjects, as for every method

    for phase in ("refined", "expression"):
        r = runner.invoke(app, ["apply", "-m", str(ckpt), "-t", "target", str(astronaut_png),
                                "-o", str(tmp_path / phase), "--phase", phase, "--json"])
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


def test_reggan_resume_keeps_the_runs_settings(tmp_path):
    """--resume alone continues a RegGAN run with its settings; its expression layers (stage 1)
    come from the run's state, so the ridge and augmentation it started with are the ones it
    keeps; a contradicting one is refused by name."""
    from _datasets import make_dataset

    from faceedit.models.resume_state import load_resume_state

    ds = make_dataset(tmp_path / "ds", subjects=4, paired=True)
    run = tmp_path / "run"
    r = runner.invoke(app, ["train", "-m", "reggan", "-d", str(ds), "-o", str(run), "--steps", "1",
                            "--stage", "none", "--no-eval", *TINY])
    assert r.exit_code == 0, r.stderr
    r = runner.invoke(app, ["train", "--resume", "-o", str(run), "--steps", "2", "--no-eval"])
    assert r.exit_code == 0, r.stderr
    report = json.loads((run / "report.json").read_text())
    assert report["budget"]["steps"] == 2 and report["budget"]["batch_size"] == 2
    state = load_resume_state(run / "state.safetensors")
    assert state.extra["config"]["lambda_reg"] == 1 and state.extra["config"]["augment_copies"] == 1
    r = runner.invoke(app, ["train", "--resume", "-o", str(run), "--steps", "3", "--set", "lambda_reg=100"])
    assert r.exit_code == 2 and "contradicts" in r.stderr and "lambda_reg=1" in r.stderr


def test_reggan_settings_are_set_keys_only(tmp_path):
    """RegGAN's settings are --set keys like every method's: there is no --lambda flag."""
    r = runner.invoke(app, ["train", "-m", "reggan", "-d", str(tmp_path), "-o", str(tmp_path / "run"),
                            "--lambda", "1"])
    assert r.exit_code == 2 and "--lambda" in r.stderr


@pytest.mark.slow
def test_reggan_run_folder_is_laid_out_as_every_methods(tmp_path, monkeypatch):
    """A RegGAN run and another method's run hold the same files: RUN/run.json, state.safetensors,
    log.jsonl, samples/step-N.png, report.json, NAME.safetensors + NAME.md (and eval-sheet.png)."""
    from _datasets import make_dataset

    monkeypatch.setenv("FACEEDIT_PLUGINS", "tiny_trainer")
    ds = make_dataset(tmp_path / "ds", subjects=6, paired=True)
    layouts = {}
    for name, extra in (("reggan", [*TINY, "--stage", "none"]), ("test-tiny-gan", [])):
        run = tmp_path / name
        r = runner.invoke(app, ["train", "-m", name, "-d", str(ds), "-o", str(run), "--steps", "2",
                                "--sample-every", "1", "--ckpt-every", "1", *extra])
        assert r.exit_code == 0, r.stderr
        layouts[name] = sorted(p.relative_to(run).as_posix().replace(name, "NAME")
                               for p in run.rglob("*") if p.is_file())
    assert layouts["reggan"] == layouts["test-tiny-gan"]
    assert layouts["reggan"] == ["NAME.md", "NAME.safetensors", "eval-sheet.png", "log.jsonl", "report.json",
                                 "run.json", "samples/step-0000001.png", "samples/step-0000002.png",
                                 "state.safetensors"]


def test_a_run_keeps_its_stage_on_resume(tmp_path, tiny_dataset):
    """--stage is part of what defines a run: saved in run.json, and a contradicting --stage on
    --resume is refused (a run must not switch between unedited and stage-edited inputs)."""
    run = tmp_path / "run"
    r = runner.invoke(app, ["train", "-m", "reggan", "-d", str(tiny_dataset), "-o", str(run),
                            "--steps", "1", "--stage", "none", *TINY])
    assert r.exit_code == 0, r.stderr
    assert json.loads((run / "run.json").read_text())["stage"] == "none"
    assert "stage" not in read_meta(run / "reggan.safetensors").extra
    r = runner.invoke(app, ["train", "--resume", "-o", str(run), "--steps", "2", "--stage", "stage"])
    assert r.exit_code == 2 and "--stage" in r.stderr


@pytest.mark.parametrize("bad, says", [
    (["--set", "lambda_reg=-5"], "lambda_reg=-5: must be > 0"),
    (["--set", "lambda_reg=0"], "lambda_reg=0: must be > 0"),
    (["--set", "image_size=-1"], "image_size=-1: must be >= 8"),
    (["--set", "image_size=12"], "image_size 12 does not fit the refiner"),
    (["--set", "d_n_layers=0"], "d_n_layers=0: must be >= 1"),
    (["--set", "lr=-1"], "lr=-1: must be > 0"),
    (["--set", "betas=[0.5]"], "betas=[0.5]: expected a list of 2"),
    (["--set", "augment_copies=1.5"], "augment_copies=1.5: expected a whole number"),
    (["--set", 'targets=["bogus"]'], "--set targets: RegGAN takes targets from the datasets"),
    (["-b", "0"], "--batch-size 0: give 1 or more"),
    (["--option", "bogus=1"], "--option bogus: no trainer option of that name"),
], ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_bad_train_settings_are_one_usage_error_before_any_file(tmp_path, bad, says):
    """A value out of its declared range (the model config's ranges, the trainer keys' by name), a
    key the trainer takes from the data, a zero batch or an unknown --option: exit 2 with one line
    naming it, and no run folder left behind (run.json is written once the run starts)."""
    from _datasets import make_dataset

    ds = make_dataset(tmp_path / "ds", subjects=4, paired=True)
    run = tmp_path / "run"
    # a key given twice is an error of its own: the bad value replaces TINY's
    bad_keys = {b.split("=")[0] for b in bad[1::2]} if bad[:1] == ["--set"] else set()
    tiny = [w for pair in zip(TINY[::2], TINY[1::2]) if pair[1].split("=")[0] not in bad_keys for w in pair]
    r = runner.invoke(app, ["train", "-m", "reggan", "-d", str(ds), "-o", str(run), "--steps", "1",
                            "--stage", "none", "--no-eval", *tiny, *bad])
    assert r.exit_code == 2, (r.exception, r.stderr)
    assert says in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not run.exists() or not any(run.iterdir())


def test_zero_intervals_mean_only_at_the_end_and_a_finished_run_says_so(tmp_path):
    """--ckpt-every 0 --sample-every 0 --log-every 0: checkpoint, samples and log record only at
    the end (no ZeroDivisionError); --resume of a run already at --steps warns by name."""
    from _datasets import make_dataset

    ds = make_dataset(tmp_path / "ds", subjects=4, paired=True)
    run = tmp_path / "run"
    r = runner.invoke(app, ["train", "-m", "reggan", "-d", str(ds), "-o", str(run), "--steps", "2",
                            "--stage", "none", "--no-eval", "--ckpt-every", "0", "--sample-every", "0",
                            "--log-every", "0", *TINY])
    assert r.exit_code == 0, (r.exception, r.stderr)
    assert [json.loads(l)["step"] for l in (run / "log.jsonl").read_text().splitlines()] == [2]
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step-0000002.png"]
    r = runner.invoke(app, ["train", "--resume", "-o", str(run), "--steps", "1", "--no-eval"])
    assert r.exit_code == 0, r.stderr
    assert "already at step 2, --steps 1: no step to train" in r.stderr
    r = runner.invoke(app, ["train", "--resume", "-o", str(run), "--steps", "3", "--log-every", "-1"])
    assert r.exit_code == 2 and "--log-every" in r.stderr
