"""faceedit train on the command line (faceedit.cli.train): an empty data folder, a run folder
never wiped without --overwrite, --resume taking everything from the run, the thread count said."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from _datasets import make_dataset
from typer.testing import CliRunner

from faceedit.cli import app
from faceedit.models.resume_state import load_resume_state

TESTS = Path(__file__).resolve().parent


def _train_cli(*args):
    r = CliRunner().invoke(app, ["train", *map(str, args)])
    return r.exit_code, r.stderr


def _step(run_dir: Path) -> int:
    return load_resume_state(run_dir / "state.safetensors").step


def test_cli_train_rejects_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    env = {**os.environ, "FACEEDIT_PLUGINS": "tiny_trainer",
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run([sys.executable, "-m", "faceedit", "train", "--model", "test-tiny-gan", "--data",
                        str(tmp_path / "empty"), "-o", str(tmp_path / "r")], capture_output=True, text=True,
                       env=env)
    assert r.returncode == 2 and "not a prepared dataset" in r.stderr


def test_cli_train_never_wipes_an_existing_run(tmp_path, paired_dataset, monkeypatch):
    monkeypatch.setenv("FACEEDIT_PLUGINS", "tiny_trainer")
    run_dir = tmp_path / "run"
    base = ["--model", "test-tiny-gan", "--data", paired_dataset, "-o", run_dir, "--log-every", "1",
            "--sample-every", "1", "--no-eval"]
    code, err = _train_cli(*base, "--steps", "2")
    assert code == 0, err
    samples = sorted(p.name for p in (run_dir / "samples").iterdir())
    assert samples == ["step-0000001.png", "step-0000002.png"]
    # a forgotten --resume is refused, and nothing of the run is touched
    code, err = _train_cli(*base, "--steps", "3")
    assert code == 2 and str(run_dir) in err and "--resume" in err and "--overwrite" in err
    assert _step(run_dir) == 2
    assert len((run_dir / "log.jsonl").read_text().splitlines()) == 2
    assert sorted(p.name for p in (run_dir / "samples").iterdir()) == samples
    code, err = _train_cli(*base, "--steps", "3", "--resume", "--overwrite")
    assert code == 2 and "--overwrite" in err and _step(run_dir) == 2
    # --overwrite starts afresh: no stale log records or samples of the old run are left
    code, err = _train_cli(*base, "--steps", "1", "--overwrite")
    assert code == 0, err
    assert _step(run_dir) == 1
    assert [json.loads(x)["step"] for x in (run_dir / "log.jsonl").read_text().splitlines()] == [1]
    assert sorted(p.name for p in (run_dir / "samples").iterdir()) == ["step-0000001.png"]
    code, err = _train_cli(*base, "--steps", "2", "--resume")
    assert code == 0, err
    assert _step(run_dir) == 2


def test_cli_train_resume_needs_the_runs_settings_and_state(tmp_path, paired_dataset, monkeypatch):
    """--resume needs the run's run.json (its method, data and settings) and its resume state;
    a folder without either is refused by name, with what is missing, and nothing in it is touched."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    for given in ([], ["--model", "reggan", "--data", paired_dataset]):  # --model and --data do not stand in
        code, err = _train_cli(*given, "-o", run_dir, "--resume", "--steps", "0")
        assert code == 2 and str(run_dir) in err and "nothing to resume" in err and "run.json" in err, err
    assert list(run_dir.iterdir()) == []
    # a folder with a run's log but no run.json: nothing to resume, and never wiped without --overwrite
    (run_dir / "log.jsonl").write_text('{"step": 1}\n')
    code, err = _train_cli("--model", "reggan", "--data", paired_dataset, "-o", run_dir, "--resume", "--steps", "0")
    assert code == 2 and "nothing to resume" in err and "run.json" in err
    code, err = _train_cli("--model", "reggan", "--data", paired_dataset, "-o", run_dir, "--steps", "0")
    assert code == 2 and "already holds a training run" in err
    # a run's folder without its run.json is not resumed from the command line's settings
    monkeypatch.setenv("FACEEDIT_PLUGINS", "tiny_trainer")
    run_dir = tmp_path / "run2"
    quiet = ["--sample-every", "0", "--no-eval", "-o", run_dir]
    code, err = _train_cli("--model", "test-tiny-gan", "--data", paired_dataset, "--steps", "1", *quiet)
    assert code == 0, err
    settings = (run_dir / "run.json").read_text()
    (run_dir / "run.json").unlink()
    code, err = _train_cli("--model", "test-tiny-gan", "--data", paired_dataset, "--resume", "--steps", "2", *quiet)
    assert code == 2 and str(run_dir) in err and "run.json" in err, err
    assert _step(run_dir) == 1 and not (run_dir / "run.json").exists()
    # with its run.json but without its state: nothing to resume either
    (run_dir / "run.json").write_text(settings)
    (run_dir / "state.safetensors").unlink()
    code, err = _train_cli("--resume", "--steps", "2", *quiet)
    assert code == 2 and "nothing to resume" in err and "state.safetensors" in err, err


def test_cli_train_refuses_a_run_json_with_other_settings(tmp_path, paired_dataset, monkeypatch):
    """A run.json that does not hold exactly today's settings is unreadable, said with its path."""
    monkeypatch.setenv("FACEEDIT_PLUGINS", "tiny_trainer")
    run_dir = tmp_path / "run"
    quiet = ["--sample-every", "0", "--no-eval", "-o", run_dir]
    code, err = _train_cli("--model", "test-tiny-gan", "--data", paired_dataset, "--steps", "1", *quiet)
    assert code == 0, err
    settings = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps({**settings, "lambda": 100.0}))
    code, err = _train_cli("--resume", "--steps", "2", *quiet)
    assert code == 2 and "run.json" in err and "unreadable" in err


def test_cli_train_resume_takes_everything_from_the_run(tmp_path, paired_dataset, monkeypatch):
    monkeypatch.setenv("FACEEDIT_PLUGINS", "tiny_trainer")
    run_dir = tmp_path / "run"
    quiet = ["--sample-every", "0", "--no-eval", "-o", run_dir]
    code, err = _train_cli("--model", "test-tiny-gan", "--data", paired_dataset, "--seed", "3", "-b", "2",
                           "--set", "width=4", "--steps", "2", *quiet)
    assert code == 0, err
    assert json.loads((run_dir / "run.json").read_text())["config"] == {"width": 4}
    code, err = _train_cli("--resume", "--steps", "3", *quiet)  # no --model, --data, --seed...
    assert code == 0, err
    st = load_resume_state(run_dir / "state.safetensors")
    assert st.step == 3 and st.extra["seed"] == 3 and st.extra["batch_size"] == 2
    assert st.extra["config"]["width"] == 4
    # an option that agrees with the run is fine; one that contradicts it is refused by name
    code, err = _train_cli("--resume", "--steps", "4", "--model", "test-tiny-gan", "-b", "2",
                           "--data", paired_dataset, *quiet)
    assert code == 0, err
    for option, value, started in [("--seed", "0", "--seed 3"), ("--set", "width=8", "--set width=4"),
                                   ("--batch-size", "4", "--batch-size 2"), ("--data", tmp_path, str(paired_dataset))]:
        code, err = _train_cli("--resume", "--steps", "5", option, value, *quiet)
        assert code == 2 and f"{option} " in err and "contradicts" in err and started in err, err
    assert load_resume_state(run_dir / "state.safetensors").step == 4
    # without --resume nothing can be guessed
    code, err = _train_cli("--steps", "1", "-o", tmp_path / "new")
    assert code == 2 and "--model" in err


def test_train_says_its_thread_count(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEEDIT_PLUGINS", "tiny_trainer")
    ds = make_dataset(tmp_path / "ds", subjects=4)
    r = CliRunner().invoke(app, ["train", "-m", "test-tiny-gan", "-d", str(ds), "-o", str(tmp_path / "run"),
                                 "--steps", "1", "--threads", "1", "--no-eval", "--stage", "none"])
    assert r.exit_code == 0, r.stderr
    assert "torch threads: 1 (--threads)" in r.stderr
    assert json.loads((tmp_path / "run" / "report.json").read_text())["budget"]["torch_threads"] == 1


def test_prepare_with_a_model_whose_weights_are_absent_says_so(tmp_path, monkeypatch):
    """--model's crop template is in its checkpoint's header: with the weights not on this machine
    the command says which weights it looked for where, and writes nothing."""
    (tmp_path / "weights").mkdir()
    (tmp_path / "raw" / "happy").mkdir(parents=True)
    monkeypatch.setenv("FACEEDIT_WEIGHTS", str(tmp_path / "weights"))
    r = CliRunner().invoke(app, ["prepare", str(tmp_path / "raw"), "-o", str(tmp_path / "out"), "--model", "legan"])
    assert isinstance(r.exception, SystemExit), r.exception
    assert r.exit_code == 1 and "legan.safetensors" in r.stderr and "not found" in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()
