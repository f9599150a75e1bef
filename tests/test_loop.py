"""The shared training loop: determinism and resume, checkpoints, logs, samples, budget, --init,
dataset validation, DDP with two CPU processes, and eval of a tiny trained model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from _datasets import make_dataset
from faceedit.errors import UsageError
from faceedit.models.checkpoint import load_training_state
from faceedit.train.data import open_dataset
from faceedit.train.loop import LoopConfig, batch_indices, run, train_and_export, trainer_for
from faceedit.train.validate import validate_datasets
from tiny_trainer import TinyGanTrainer

TESTS = Path(__file__).resolve().parent


@pytest.fixture
def ds(tmp_path) -> Path:
    return make_dataset(tmp_path / "ds", subjects=6, paired=True)


def _cfg(**kw) -> LoopConfig:
    base = dict(steps=4, ckpt_every=100, sample_every=0, log_every=1, progress=False)
    return LoopConfig(**{**base, **kw})


def _state(run_dir: Path) -> dict:
    st = load_training_state(run_dir / "state.safetensors")
    return {"step": st.step, "models": st.model_state, "opts": st.optimizer_state_dicts}


def _flat(tree, prefix=""):
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _flat(v, f"{prefix}/{k}")
    elif isinstance(tree, (list, tuple)):
        for i, v in enumerate(tree):
            yield from _flat(v, f"{prefix}/{i}")
    else:
        yield prefix, tree


def test_batch_indices_are_a_pure_function_and_ranks_split_the_global_batch():
    a = batch_indices(7, 10, 4, seed=3)
    assert torch.equal(a, batch_indices(7, 10, 4, seed=3))
    assert not torch.equal(a, batch_indices(7, 10, 4, seed=4))
    r0, r1 = batch_indices(5, 50, 4, 0, rank=0, world=2), batch_indices(5, 50, 4, 0, rank=1, world=2)
    assert len(set(r0.tolist()) | set(r1.tolist())) == 8  # disjoint within one epoch
    # every crop is seen once per epoch
    seen = torch.cat([batch_indices(s, 12, 4, 0) for s in range(3)])
    assert sorted(seen.tolist()) == list(range(12))


def test_resume_reproduces_an_uninterrupted_run(tmp_path, ds):
    sets = [open_dataset(ds)]
    run(TinyGanTrainer, sets, tmp_path / "straight", _cfg(steps=4))
    run(TinyGanTrainer, sets, tmp_path / "split", _cfg(steps=2))
    assert _state(tmp_path / "split")["step"] == 2
    run(TinyGanTrainer, sets, tmp_path / "split", _cfg(steps=4, resume=True))
    a, b = _state(tmp_path / "straight"), _state(tmp_path / "split")
    assert a["step"] == b["step"] == 4
    fa, fb = dict(_flat(a)), dict(_flat(b))
    assert fa.keys() == fb.keys()
    for k, v in fa.items():
        if isinstance(v, torch.Tensor):
            assert torch.equal(v, fb[k]), k
        else:
            assert v == fb[k], k
    log = [json.loads(line) for line in (tmp_path / "split" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4]
    straight = [json.loads(line) for line in (tmp_path / "straight" / "log.jsonl").read_text().splitlines()]
    assert [r["g"] for r in log] == [r["g"] for r in straight]


def test_different_seeds_differ(tmp_path, ds):
    sets = [open_dataset(ds)]
    run(TinyGanTrainer, sets, tmp_path / "a", _cfg(steps=2, seed=0))
    run(TinyGanTrainer, sets, tmp_path / "b", _cfg(steps=2, seed=1))
    ga, gb = _state(tmp_path / "a")["models"]["G"], _state(tmp_path / "b")["models"]["G"]
    assert any(not torch.equal(ga[k], gb[k]) for k in ga)


def test_samples_checkpoints_and_budget(tmp_path, ds):
    res = run(TinyGanTrainer, [open_dataset(ds)], tmp_path / "r", _cfg(steps=6, ckpt_every=3, sample_every=3))
    samples = sorted(p.name for p in (tmp_path / "r" / "samples").iterdir())
    assert samples == ["step-0000003.png", "step-0000006.png"]
    with Image.open(tmp_path / "r" / "samples" / samples[0]) as im:
        # 6 held-out/training crops stacked, input + 2 targets side by side
        assert im.size[0] == 3 * 32 and im.size[1] % 32 == 0
    assert res.stop_reason == "steps"
    res = run(TinyGanTrainer, [open_dataset(ds)], tmp_path / "b", _cfg(steps=10**6, budget_minutes=0.02))
    assert res.stop_reason == "budget" and 0 < res.step < 10**6
    assert _state(tmp_path / "b")["step"] == res.step  # the last state is always saved


def test_resume_without_state_is_a_usage_error(tmp_path, ds):
    with pytest.raises(UsageError, match="nothing to resume"):
        run(TinyGanTrainer, [open_dataset(ds)], tmp_path / "none", _cfg(resume=True))


def test_export_eval_and_init_from_the_export(tmp_path, ds):
    sets = [open_dataset(ds)]
    # trainer_for finds plugin trainers through FACEEDIT_PLUGINS
    os.environ["FACEEDIT_PLUGINS"] = "tiny_trainer"
    try:
        assert trainer_for("test-tiny-gan") is TinyGanTrainer
        rep = train_and_export("test-tiny-gan", sets, tmp_path / "r", _cfg(steps=3), command="faceedit train test")
        ck = Path(rep["export"])
        assert ck.is_file() and ck.with_suffix(".md").is_file()
        ev = rep["metrics"]["eval"]
        for key in ("conditions", "ground_truth", "summary", "kid_fid", "sheet", "classifiers"):
            assert key in ev
        assert set(ev["conditions"]) == {"happy", "neutral"}
        # one (neutral source, real happy photo) pair per held-out subject; "neutral" has nothing to edit
        gt = ev["ground_truth"]
        assert set(gt) == {"happy"} and gt["happy"]["pairs"] == ev["heldout_subjects"] == 2
        assert gt["happy"]["l1_input"] > 10 and 0 < gt["happy"]["ssim"] <= 1  # labels differ by +30 grey levels
        from faceedit.analysis.store import analysis_available

        for kind, own in ev["classifiers"].items():  # each judge's own held-out figures, from its header
            assert (own is None) == (not analysis_available(kind)), (kind, own)
        if analysis_available("expression"):
            assert 0 < ev["classifiers"]["expression"]["accuracy"] <= 1
        assert Path(ev["sheet"]).is_file()
        card = ck.with_suffix(".md").read_text()
        assert "faceedit train test" in card and '"world_size": 1' in card
        # fine-tune from the export: G starts equal to the exported weights
        res = run(TinyGanTrainer, sets, tmp_path / "ft", _cfg(steps=0, init=str(ck)))
        from faceedit.models.registry import load_model

        exported = load_model(str(ck)).model.G.state_dict()
        for k, v in res.trainer.net("G").state_dict().items():
            assert torch.allclose(v, exported[k].float(), atol=1e-3), k
    finally:
        os.environ.pop("FACEEDIT_PLUGINS", None)


# ---- validation ---------------------------------------------------------------------------


def test_validation_mixed_sizes(tmp_path):
    a = open_dataset(make_dataset(tmp_path / "a", size=32))
    b = open_dataset(make_dataset(tmp_path / "b", size=48))
    with pytest.raises(UsageError, match="mixed crop sizes"):
        validate_datasets([a, b], TinyGanTrainer)


def test_validation_corrupt_and_missing_files(tmp_path):
    root = make_dataset(tmp_path / "a")
    (root / "images" / "s0-happy.png").write_bytes(b"not a png at all")
    (root / "images" / "s1-happy.png").unlink()
    with pytest.raises(UsageError) as e:
        validate_datasets([open_dataset(root)], TinyGanTrainer)
    assert "s0-happy.png: unreadable" in str(e.value) and "s1-happy.png: missing" in str(e.value)


def test_validation_labels(tmp_path):
    one = open_dataset(make_dataset(tmp_path / "one", labels=("happy",)))
    with pytest.raises(UsageError, match="at least two classes"):
        validate_datasets([one], TinyGanTrainer)
    none = open_dataset(make_dataset(tmp_path / "none", key="lighting"))
    with pytest.raises(UsageError, match="no crop has a 'expression' label"):
        validate_datasets([none], TinyGanTrainer)
    ds = open_dataset(make_dataset(tmp_path / "ok", labels=("neutral", "smirk")))
    with pytest.raises(UsageError, match="unknown expression label.*smirk"):
        validate_datasets([ds], TinyGanTrainer, vocab={"expression": ["neutral", "happy"]})


def test_validation_pairs(tmp_path):
    class Paired(TinyGanTrainer):
        needs_pairs = True

    root = make_dataset(tmp_path / "p", paired=True)
    validate_datasets([open_dataset(root)], Paired)  # fine
    rows = [json.loads(line) for line in (root / "index.jsonl").read_text().splitlines()]
    rows = [r for r in rows if not (r["subject"] == "s2" and r["role"] == "source")]
    (root / "index.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(UsageError, match="without a source"):
        validate_datasets([open_dataset(root)], Paired)
    with pytest.raises(UsageError, match="no \\(source, target\\) pairs"):
        validate_datasets([open_dataset(make_dataset(tmp_path / "u"))], Paired)


def test_cli_train_rejects_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    env = {**os.environ, "FACEEDIT_PLUGINS": "tiny_trainer",
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run([sys.executable, "-m", "faceedit", "train", "--model", "test-tiny-gan", "--data",
                        str(tmp_path / "empty"), "-o", str(tmp_path / "r")], capture_output=True, text=True,
                       env=env)
    assert r.returncode == 2 and "not a prepared dataset" in r.stderr


def _train_cli(*args):
    from typer.testing import CliRunner

    from faceedit.cli import app

    r = CliRunner().invoke(app, ["train", *map(str, args)])
    return r.exit_code, r.stderr


def test_cli_train_never_wipes_an_existing_run(tmp_path, ds, monkeypatch):
    monkeypatch.setenv("FACEEDIT_PLUGINS", "tiny_trainer")
    run_dir = tmp_path / "run"
    base = ["--model", "test-tiny-gan", "--data", ds, "-o", run_dir, "--log-every", "1",
            "--sample-every", "1", "--no-eval"]
    code, err = _train_cli(*base, "--steps", "2")
    assert code == 0, err
    samples = sorted(p.name for p in (run_dir / "samples").iterdir())
    assert samples == ["step-0000001.png", "step-0000002.png"]
    # a forgotten --resume is refused, and nothing of the run is touched
    code, err = _train_cli(*base, "--steps", "3")
    assert code == 2 and str(run_dir) in err and "--resume" in err and "--overwrite" in err
    assert _state(run_dir)["step"] == 2
    assert len((run_dir / "log.jsonl").read_text().splitlines()) == 2
    assert sorted(p.name for p in (run_dir / "samples").iterdir()) == samples
    code, err = _train_cli(*base, "--steps", "3", "--resume", "--overwrite")
    assert code == 2 and "--overwrite" in err and _state(run_dir)["step"] == 2
    # --overwrite starts afresh: no stale log records or samples of the old run are left
    code, err = _train_cli(*base, "--steps", "1", "--overwrite")
    assert code == 0, err
    assert _state(run_dir)["step"] == 1
    assert [json.loads(x)["step"] for x in (run_dir / "log.jsonl").read_text().splitlines()] == [1]
    assert sorted(p.name for p in (run_dir / "samples").iterdir()) == ["step-0000001.png"]
    code, err = _train_cli(*base, "--steps", "2", "--resume")
    assert code == 0, err
    assert _state(run_dir)["step"] == 2


def test_cli_train_resume_needs_the_runs_state(tmp_path, ds):
    (tmp_path / "run").mkdir()
    code, err = _train_cli("--model", "reggan", "--data", ds, "-o", tmp_path / "run", "--resume",
                           "--steps", "0")
    assert code == 2 and "nothing to resume" in err and "state.safetensors" in err
    assert list((tmp_path / "run").iterdir()) == []
    # a RegGAN run from before the shared loop: named, and never wiped without --overwrite
    (tmp_path / "run" / "reggan_refiner_state.safetensors").write_bytes(b"old")
    code, err = _train_cli("--model", "reggan", "--data", ds, "-o", tmp_path / "run", "--resume", "--steps", "0")
    assert code == 2 and "older faceedit" in err and "--overwrite" in err
    code, err = _train_cli("--model", "reggan", "--data", ds, "-o", tmp_path / "run", "--steps", "0")
    assert code == 2 and "already holds a training run" in err


def test_cli_train_resumes_a_run_json_with_the_old_reggan_options(tmp_path, ds, monkeypatch):
    """run.json files from before --disc, --lambda and --augment became --set keys kept them for
    every method: such a run still resumes (their old defaults meant nothing to other methods)."""
    monkeypatch.setenv("FACEEDIT_PLUGINS", "tiny_trainer")
    run_dir = tmp_path / "run"
    quiet = ["--sample-every", "0", "--no-eval", "-o", run_dir]
    code, err = _train_cli("--model", "test-tiny-gan", "--data", ds, "--steps", "1", *quiet)
    assert code == 0, err
    settings = json.loads((run_dir / "run.json").read_text())
    old = {**settings, "disc": {}, "lambda": 100.0, "augment": 10}
    (run_dir / "run.json").write_text(json.dumps(old))
    code, err = _train_cli("--resume", "--steps", "2", *quiet)
    assert code == 0, err
    assert load_training_state(run_dir / "state.safetensors").step == 2


def test_cli_train_resume_takes_everything_from_the_run(tmp_path, ds, monkeypatch):
    monkeypatch.setenv("FACEEDIT_PLUGINS", "tiny_trainer")
    run_dir = tmp_path / "run"
    quiet = ["--sample-every", "0", "--no-eval", "-o", run_dir]
    code, err = _train_cli("--model", "test-tiny-gan", "--data", ds, "--seed", "3", "-b", "2",
                           "--set", "width=4", "--steps", "2", *quiet)
    assert code == 0, err
    assert json.loads((run_dir / "run.json").read_text())["config"] == {"width": 4}
    code, err = _train_cli("--resume", "--steps", "3", *quiet)  # no --model, --data, --seed...
    assert code == 0, err
    st = load_training_state(run_dir / "state.safetensors")
    assert st.step == 3 and st.extra["seed"] == 3 and st.extra["batch_size"] == 2
    assert st.extra["config"]["width"] == 4
    # an option that agrees with the run is fine; one that contradicts it is refused by name
    code, err = _train_cli("--resume", "--steps", "4", "--model", "test-tiny-gan", "-b", "2",
                           "--data", ds, *quiet)
    assert code == 0, err
    for option, value, started in [("--seed", "0", "--seed 3"), ("--set", "width=8", "--set width=4"),
                                   ("--batch-size", "4", "--batch-size 2"), ("--data", tmp_path, str(ds))]:
        code, err = _train_cli("--resume", "--steps", "5", option, value, *quiet)
        assert code == 2 and f"{option} " in err and "contradicts" in err and started in err, err
    assert load_training_state(run_dir / "state.safetensors").step == 4
    # without --resume nothing can be guessed
    code, err = _train_cli("--steps", "1", "-o", tmp_path / "new")
    assert code == 2 and "--model" in err


# ---- DDP ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_ddp_two_cpu_processes(tmp_path, ds):
    env = {**os.environ, "FACEEDIT_PLUGINS": "tiny_trainer", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "faceedit", "train", "--model", "test-tiny-gan", "--data", str(ds), "-o", str(tmp_path / "run"),
           "--steps", "4", "--log-every", "1", "--ckpt-every", "2", "--no-eval"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    # the launcher's own traceback fills the end of stderr; the ranks' errors come before it
    assert r.returncode == 0, r.stderr[:4000] + "\n...\n" + r.stderr[-1000:]
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["budget"]["world_size"] == 2 and report["budget"]["steps"] == 4
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in log] == [1, 2, 3, 4]  # rank 0 alone logs
    st = load_training_state(tmp_path / "run" / "state.safetensors")
    assert st.extra["world_size"] == 2


def test_torch_threads_are_the_cores_free(monkeypatch):
    """Training takes as many torch threads as cores are free (usable cores less the load
    average), never fewer than 1; --threads and OMP_NUM_THREADS win; the trainer's limit caps."""
    import os

    from faceedit.train import loop

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(loop, "usable_cores", lambda: 4)
    for load, free in ((0.0, 4), (0.6, 3), (1.4, 3), (2.6, 1), (9.0, 1)):
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load))
        n, why = loop.choose_threads()
        assert n == free and "4 usable cores" in why and f"{free} free" in why, (load, n, why)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert loop.choose_threads(None, trainer_hint=1)[0] == 1
    assert loop.choose_threads(3) == (3, "--threads")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert loop.choose_threads()[1] == "OMP_NUM_THREADS=1"


def test_train_says_its_thread_count(tmp_path, monkeypatch, caplog):
    import logging

    from _datasets import make_dataset
    from typer.testing import CliRunner

    from faceedit.cli import app

    monkeypatch.setenv("FACEEDIT_PLUGINS", "tiny_trainer")
    ds = make_dataset(tmp_path / "ds", subjects=4)
    r = CliRunner().invoke(app, ["train", "-m", "test-tiny-gan", "-d", str(ds), "-o", str(tmp_path / "run"),
                                 "--steps", "1", "--threads", "1", "--no-eval", "--prior", "none"])
    assert r.exit_code == 0, r.stderr
    assert "torch threads: 1 (--threads)" in r.stderr
    assert json.loads((tmp_path / "run" / "report.json").read_text())["budget"]["torch_threads"] == 1
