"""The shared training loop (faceedit.train.loop): determinism and resume, checkpoints, logs,
samples, budget, --init, the torch threads, DDP with two CPU processes, and eval of a tiny trained
model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image
from tiny_trainer import TinyGanTrainer

from faceedit.data import open_dataset
from faceedit.errors import UsageError
from faceedit.models.resume_state import load_resume_state
from faceedit.train.crops import batch_indices
from faceedit.train.loop import LoopConfig, run, train_and_export
from faceedit.train.trainer import trainer_for

TESTS = Path(__file__).resolve().parent


def _cfg(**kw) -> LoopConfig:
    base = dict(steps=4, ckpt_every=100, sample_every=0, log_every=1, progress=False)
    return LoopConfig(**{**base, **kw})


def _state(run_dir: Path) -> dict:
    st = load_resume_state(run_dir / "state.safetensors")
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


def test_resume_reproduces_an_uninterrupted_run(tmp_path, paired_dataset):
    sets = [open_dataset(paired_dataset)]
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


def test_different_seeds_differ(tmp_path, paired_dataset):
    sets = [open_dataset(paired_dataset)]
    run(TinyGanTrainer, sets, tmp_path / "a", _cfg(steps=2, seed=0))
    run(TinyGanTrainer, sets, tmp_path / "b", _cfg(steps=2, seed=1))
    ga, gb = _state(tmp_path / "a")["models"]["G"], _state(tmp_path / "b")["models"]["G"]
    assert any(not torch.equal(ga[k], gb[k]) for k in ga)


def test_samples_checkpoints_and_budget(tmp_path, paired_dataset):
    res = run(TinyGanTrainer, [open_dataset(paired_dataset)], tmp_path / "r", _cfg(steps=6, ckpt_every=3, sample_every=3))
    samples = sorted(p.name for p in (tmp_path / "r" / "samples").iterdir())
    assert samples == ["step-0000003.png", "step-0000006.png"]
    with Image.open(tmp_path / "r" / "samples" / samples[0]) as im:
        # 6 held-out/training crops stacked, input + 2 targets side by side
        assert im.size[0] == 3 * 32 and im.size[1] % 32 == 0
    assert res.stop_reason == "steps"
    res = run(TinyGanTrainer, [open_dataset(paired_dataset)], tmp_path / "b", _cfg(steps=10**6, budget_minutes=0.02))
    assert res.stop_reason == "budget" and 0 < res.step < 10**6
    assert _state(tmp_path / "b")["step"] == res.step  # the last state is always saved


def test_resume_without_state_is_a_usage_error(tmp_path, paired_dataset):
    with pytest.raises(UsageError, match="nothing to resume"):
        run(TinyGanTrainer, [open_dataset(paired_dataset)], tmp_path / "none", _cfg(resume=True))


def test_export_eval_and_init_from_the_export(tmp_path, paired_dataset):
    sets = [open_dataset(paired_dataset)]
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
        from faceedit.models.loading import load_model

        exported = load_model(str(ck)).model.G.state_dict()
        for k, v in res.trainer.net("G").state_dict().items():
            assert torch.allclose(v, exported[k].float(), atol=1e-3), k
    finally:
        os.environ.pop("FACEEDIT_PLUGINS", None)


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
    assert loop.choose_threads(3) == (3, "`threads`")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert loop.choose_threads()[1] == "OMP_NUM_THREADS=1"


@pytest.mark.slow
def test_ddp_two_cpu_processes(tmp_path, paired_dataset):
    env = {**os.environ, "FACEEDIT_PLUGINS": "tiny_trainer", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "faceedit", "train", "--model", "test-tiny-gan", "--data", str(paired_dataset), "-o", str(tmp_path / "run"),
           "--steps", "4", "--log-every", "1", "--ckpt-every", "2", "--no-eval"]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
    # the launcher's own traceback fills the end of stderr; the ranks' errors come before it
    assert r.returncode == 0, r.stderr[:4000] + "\n...\n" + r.stderr[-1000:]
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["budget"]["world_size"] == 2 and report["budget"]["steps"] == 4
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in log] == [1, 2, 3, 4]  # rank 0 alone logs
    st = load_resume_state(tmp_path / "run" / "state.safetensors")
    assert st.extra["world_size"] == 2
