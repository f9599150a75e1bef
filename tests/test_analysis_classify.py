"""Expression / lighting classifiers: API, checkpoint round trip, metrics, the trainer on a toy
data set, and (with the prepared data) the shipped expression classifier on held-out faces."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from faceedit.analysis.classify import Classifier, build_classifier, classification_metrics, load_classifier
from faceedit.analysis.store import analysis_available, save_analysis
from faceedit.errors import CheckpointError
from faceedit.train.analysis.classifier import with_flips
from faceedit.train.analysis.kinds import analysis_trainer
from faceedit.train.loop import LoopConfig, train_and_export

ROOT = Path(__file__).resolve().parents[1]
CFG = {"out_dim": 3, "size": 32, "channels": 1, "widths": [4, 8], "dropout": 0.0}
LABELS = ["neutral", "happy", "sad"]


def _tiny(seed: int = 0) -> Classifier:
    torch.manual_seed(seed)
    return Classifier(build_classifier(CFG).eval(), LABELS, "expression")


def test_shapes_probs_predict_and_gradient_to_input():
    clf = _tiny()
    for shape in [(2, 3, 128, 128), (3, 1, 64, 64)]:
        x = torch.rand(shape) * 2 - 1
        assert clf.logits(x).shape == (shape[0], 3)
        assert torch.allclose(clf.probs(x).sum(1), torch.ones(shape[0]))
        assert all(p in LABELS for p in clf.predict(x))
    x = (torch.rand(2, 3, 128, 128) * 2 - 1).requires_grad_()
    torch.nn.functional.cross_entropy(clf.logits(x), clf.targets(["happy", "sad"])).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert clf.index("sad") == 2
    with pytest.raises(ValueError, match="known: neutral, happy, sad"):
        clf.index("wink")


def test_colour_input_equals_its_luma():
    clf = _tiny()
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    from faceedit.pixels import luma_tensor

    luma = luma_tensor(x)
    assert torch.allclose(clf.logits(x), clf.logits(luma), atol=1e-5)


def test_checkpoint_round_trip_labels_and_determinism(tmp_path):
    clf = _tiny()
    path = tmp_path / "expr.safetensors"
    save_analysis(path, clf.net, kind="expression", config=CFG, labels=LABELS, image_size=32, channels=1,
                  training_data="toy", license="MIT", metrics={"accuracy": 0.5})
    loaded = load_classifier(path)
    assert loaded.labels == LABELS and loaded.kind == "expression"
    x = torch.rand(4, 1, 128, 128) * 2 - 1
    assert torch.allclose(loaded.logits(x), clf.logits(x), atol=2e-2)  # fp16 storage
    assert torch.equal(loaded.logits(x), loaded.logits(x))
    assert not any(p.requires_grad for p in loaded.net.parameters())
    xg = x.clone().requires_grad_()
    loaded.logits(xg).sum().backward()  # frozen weights, but gradients still reach the input
    assert xg.grad.abs().sum() > 0


def test_identity_checkpoint_is_not_a_classifier(tmp_path):
    from faceedit.analysis.identity import build_identity

    path = tmp_path / "id.safetensors"
    save_analysis(path, build_identity({"dim": 8, "size": 32, "widths": [4, 8]}), kind="identity",
                  config={"dim": 8, "size": 32, "widths": [4, 8]}, image_size=32, channels=1,
                  training_data="toy", license="MIT", metrics={}, extra={"threshold": 0.5})
    with pytest.raises(CheckpointError, match="not a classifier"):
        load_classifier(path)


def test_classification_metrics():
    m = classification_metrics([0, 0, 0, 1, 2, 2], [0, 0, 1, 1, 2, 0], ["a", "b", "c", "d"])
    assert m["n"] == 6 and m["accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    assert m["per_class_accuracy"] == {"a": pytest.approx(2 / 3, abs=1e-4), "b": 1.0, "c": 0.5}
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 1 + 0.5) / 3, abs=1e-4)
    assert m["counts"] == {"a": 3, "b": 1, "c": 2}
    assert m["confusion"] == {"a": {"a": 2, "b": 1}, "b": {"b": 1}, "c": {"a": 1, "c": 1}}
    assert m["majority_baseline"] == 0.5


def test_lighting_flips_swap_left_and_right():
    x = torch.zeros(3, 1, 4, 4, dtype=torch.uint8)
    x[:, :, :, :2] = 200  # image-left side lit
    labels = ["front", "left", "right"]
    xf, yf = with_flips(x, torch.tensor([1, 1, 0]), labels, {"left": "right", "right": "left"})
    assert yf.tolist() == [1, 1, 0, 2, 2, 0]
    assert xf[3, 0, 0, 3] == 200 and xf[3, 0, 0, 0] == 0  # the flipped copy is lit on the right


def _toy_dataset(root: Path, n_subjects: int = 5) -> Path:
    """A prepared-format data set: per subject, crops lit from the left, right and front."""
    rng = np.random.default_rng(0)
    rows = []
    ramp = np.linspace(40, 220, 64)
    shades = {"left": ramp[::-1][None, :], "right": ramp[None, :], "front": np.full((1, 64), 130.0)}
    for s in range(n_subjects):
        for light, shade in shades.items():
            for k in range(3):
                a = np.clip(np.repeat(shade, 64, 0) + rng.normal(0, 12, (64, 64)), 0, 255).astype(np.uint8)
                f = f"images/s{s}/{light}{k}.png"
                (root / f).parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(a).save(root / f)
                rows.append({"file": f, "subject": f"toy-{s}", "labels": {"lighting": light}, "grey": True})
    (root / "dataset.json").write_text(json.dumps({"format": 1, "preset": "toy", "size": 64}))
    (root / "index.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


@pytest.mark.slow
def test_train_and_export_writes_weights_card_and_metrics(tmp_path):
    from faceedit.data import open_datasets

    data = _toy_dataset(tmp_path / "toy")
    cfg = {"widths": [8, 16], "size": 32}
    outs = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.safetensors"
        loop = LoopConfig(steps=4, seed=3, sample_every=0, progress=False)
        m = train_and_export(analysis_trainer("lighting"), open_datasets([data]), tmp_path / f"{name}.run",
                             loop, config=cfg, export=out, command="test")["metrics"]
        outs.append(load_classifier(out))
        assert out.with_suffix(".md").is_file() and "test" in out.with_suffix(".md").read_text()
    assert m["n"] == 9 and set(m) >= {"accuracy", "balanced_accuracy", "per_class_accuracy", "confusion",
                                      "counts", "per_dataset"}
    assert set(m["per_dataset"]) == {"toy"} and m["heldout_subjects"] == 1
    assert outs[0].labels == ["front", "left", "right"]
    x = torch.rand(2, 1, 64, 64) * 2 - 1
    assert torch.equal(outs[0].logits(x), outs[1].logits(x))  # same seed, same steps: same weights


@pytest.mark.slow
def test_train_analysis_writes_a_run_folder_and_resumes_bit_identically(tmp_path, monkeypatch):
    """`faceedit train-analysis` on the shared loop: a run folder beside the weights (run.json,
    state, log, samples, report), a forgotten --resume refused, and a run killed after its
    step-3 checkpoint that resumes ends as the uninterrupted run (same weights, same losses)."""
    from typer.testing import CliRunner

    from faceedit.cli import app
    from faceedit.models.checkpoint import load_checkpoint
    from faceedit.train.analysis.classifier import LightingTrainer

    data = _toy_dataset(tmp_path / "toy")
    runner = CliRunner()

    def train(name, *extra):
        return runner.invoke(app, ["train-analysis", "lighting", "-d", str(data), "-o",
                                   str(tmp_path / f"{name}.safetensors"), "--steps", "6", "--ckpt-every", "3",
                                   "--sample-every", "3", "--log-every", "1", "--seed", "2", *extra])

    r = train("straight")
    assert r.exit_code == 0, r.output
    run = tmp_path / "straight.run"
    assert sorted(p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file()) == [
        "log.jsonl", "report.json", "run.json", "samples/step-0000003.png", "samples/step-0000006.png",
        "state.safetensors"]
    assert json.loads(r.stdout.splitlines()[-1]) == json.loads((run / "report.json").read_text())["metrics"]

    real_step = LightingTrainer.train_step

    def crash_at_step_3(self, batch, step):
        if step == 3:
            raise RuntimeError("killed")
        return real_step(self, batch, step)

    monkeypatch.setattr(LightingTrainer, "train_step", crash_at_step_3)
    assert train("split").exit_code != 0  # killed after the step-3 checkpoint
    monkeypatch.setattr(LightingTrainer, "train_step", real_step)
    r = train("split")
    assert r.exit_code == 2 and "--resume" in r.stderr and "--overwrite" in r.stderr
    r = train("split", "--resume")
    assert r.exit_code == 0, r.output
    logs = [[json.loads(x) for x in (tmp_path / f"{n}.run" / "log.jsonl").read_text().splitlines()]
            for n in ("straight", "split")]
    assert [x["step"] for x in logs[1]] == list(range(1, 7)) and logs[0] == [
        {**x, "time": y["time"]} for x, y in zip(logs[1], logs[0])]
    a, b = (load_checkpoint(tmp_path / f"{n}.safetensors").tensors for n in ("straight", "split"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    r = train("split", "--resume", "--seed", "3")
    assert r.exit_code == 2 and "seed 3 contradicts" in r.stderr


# -------------------------------------------------------------------- shipped weights, real data


def _prepared(name: str) -> Path:
    path = ROOT / "data" / name
    if not (path / "index.jsonl").is_file():
        pytest.skip(f"needs the prepared data set {path} (faceedit prepare ../shared/data/{name} -o {path})")
    return path


def _shipped(kind: str) -> Classifier:
    if not analysis_available(kind):
        pytest.skip(f"weights/{kind}.safetensors absent")
    return load_classifier(kind)


def _heldout(name: str, kind: str):
    from faceedit.data import load_crops, open_datasets, split_rows
    from faceedit.pixels import levels_to_signed

    _, held = split_rows(open_datasets([_prepared(name)]))
    held = [r for r in held if r["labels"].get(kind)]
    return levels_to_signed(load_crops(held, channels=3)), [r["labels"][kind] for r in held]


@pytest.mark.shared_data
def test_shipped_expression_tells_heldout_london_smiles_from_neutral():
    clf = _shipped("expression")
    x, truth = _heldout("london", "expression")
    assert len(truth) >= 30 and set(truth) == {"neutral", "happy"}
    with torch.no_grad():
        logits = clf.logits(x)
    happy = (logits[:, clf.index("happy")] > logits[:, clf.index("neutral")]).numpy()
    acc = float(np.mean(happy == (np.array(truth) == "happy")))
    print(f"held-out London neutral vs happy: {acc:.3f} on {len(truth)} crops (chance 0.5)")
    assert acc >= 0.75


@pytest.mark.shared_data
def test_shipped_lighting_on_heldout_yaleb():
    clf = _shipped("lighting")
    x, truth = _heldout("yaleb", "lighting")
    with torch.no_grad():
        pred = clf.predict(x)
    side = [t in ("left", "right") for t in truth]
    acc = float(np.mean([p == t for p, t, s in zip(pred, truth, side) if s]))
    print(f"held-out Yale B left/right lighting: {acc:.3f} on {sum(side)} crops")
    assert acc >= 0.9
