"""SeCGAN: generator shapes, label differences and edit options (target, keep, attrs, source), a
few training steps with and without the semantic branch, the consistency terms' gradients, the
trainer's export reloaded and attributes on a photo. Offline, CPU, tiny synthetic data sets
(tests/_datasets.py) and a tiny untrained parser saved to a temporary weights folder.
(Every registered model's round trip and face-only astronaut edit: tests/test_weights_all.py.)"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from _datasets import make_dataset

from faceedit.analysis.parser import build_parser
from faceedit.analysis.store import save_analysis
from faceedit.data import open_dataset
from faceedit.errors import UsageError
from faceedit.faces.parsing import CLASSES
from faceedit.faces.types import CropTemplate
from faceedit.models.loading import load_model
from faceedit.models.secgan import SeCGAN, StarGenerator
from faceedit.models.stargan import KEEP
from faceedit.train.crops import load_train_data
from faceedit.train.export import export_model
from faceedit.train.loop import LoopConfig, run
from faceedit.train.secgan import SeCGANTrainer, landmark_masks

SIZE = 32
TINY = {"base_channels": 8, "max_channels": 16, "n_res": 1, "d_channels": 8, "n_critic": 1,
        "seg_base_channels": 8, "source_size": 32, "source_widths": [8, 16]}


ONE_TORCH_THREAD = True  # see conftest._one_torch_thread


@pytest.fixture
def weights(tmp_path, monkeypatch):
    """An analysis weights folder holding a tiny (untrained) parser."""
    folder = tmp_path / "weights"
    folder.mkdir()
    monkeypatch.setenv("FACEEDIT_WEIGHTS", str(folder))
    torch.manual_seed(0)
    cfg = {"size": SIZE, "channels": 1, "widths": [4, 8], "classes": len(CLASSES)}
    save_analysis(folder / "parser.safetensors", build_parser(cfg), kind="parser", config=cfg, labels=CLASSES,
                  image_size=SIZE, channels=1, training_data="none", license="test", metrics={})
    return folder


@pytest.fixture
def no_parser(tmp_path, monkeypatch):
    folder = tmp_path / "empty"
    folder.mkdir()
    monkeypatch.setenv("FACEEDIT_WEIGHTS", str(folder))
    return folder


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    root = tmp_path_factory.mktemp("secgan-data")
    return [open_dataset(make_dataset(root / "expr", labels=("neutral", "happy", "sad"), size=SIZE, subjects=5)),
            open_dataset(make_dataset(root / "glasses", labels=("False", "True"), key="glasses", size=SIZE,
                                      subjects=5, seed=1, grey=True))]


def tiny_trainer(datasets, **config) -> SeCGANTrainer:
    data = load_train_data(datasets, label_keys=SeCGANTrainer.label_keys, channels=SeCGANTrainer.channels,
                           size=SIZE)
    torch.manual_seed(0)
    return SeCGANTrainer(data, {**TINY, **config}, torch.device("cpu"), {})


def tiny_model() -> SeCGAN:
    torch.manual_seed(0)
    return SeCGAN({"image_size": SIZE, "channels": 1, "base_channels": 4, "max_channels": 8, "n_res": 1,
                   "source_size": SIZE, "source_widths": [4, 8],
                   "attributes": {"expression": ["happy", "neutral", "sad"], "glasses": ["False", "True"]}}).eval()


# ----------------------------------------------------------------------------------------------
# networks, label differences, options
# ----------------------------------------------------------------------------------------------


def test_generator_shapes() -> None:
    g = StarGenerator(10, 10, 4, base=8, max_channels=16, n_down=2, n_res=2, output="logits")
    assert g(torch.rand(2, 10, 32, 32), torch.rand(2, 4)).shape == (2, 10, 32, 32)
    strided = [m for m in g.net.encoder.modules() if isinstance(m, torch.nn.Conv2d) and m.stride == (2, 2)]
    assert len(strided) == 2 and sum(isinstance(m, torch.nn.ConvTranspose2d) for m in g.modules()) == 2
    rgb = StarGenerator(1, 1, 4, base=8, max_channels=16, n_down=2, n_res=1)
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    assert rgb(x, torch.zeros(2, 4)).abs().max() <= 1
    residual = StarGenerator(1, 1, 4, base=8, max_channels=16, n_down=2, n_res=1, residual=True)
    assert torch.equal(residual(x, torch.rand(2, 4)), x)  # starts as the identity


def test_label_difference() -> None:
    model = tiny_model()
    x = torch.rand(2, 1, SIZE, SIZE) * 2 - 1
    p = model.source_attributes(x)
    assert p.shape == (2, 4) and torch.allclose(p[:, :3].sum(1), torch.ones(2))
    assert torch.count_nonzero(model.difference(x, KEEP)) == 0  # nothing asked, nothing changes
    d = model.difference(x, "sad", source="happy")
    assert d[:, :3].tolist() == [[-1.0, 0.0, 1.0]] * 2 and torch.count_nonzero(d[:, 3]) == 0
    assert torch.count_nonzero(model.difference(x, "happy", source="happy")) == 0
    on = model.difference(x, KEEP, attrs={"glasses": "on"})
    assert torch.allclose(on[:, 3], 1 - p[:, 3]) and torch.count_nonzero(on[:, :3]) == 0
    assert torch.allclose(model.difference(x, KEEP, attrs={"glasses": 0.0})[:, 3], -p[:, 3])


def test_edit_options() -> None:
    model = tiny_model()
    x = torch.rand(2, 1, SIZE, SIZE) * 2 - 1
    assert model.targets() == ["happy", "neutral", "sad", KEEP]
    assert model.edit(x, "sad").shape == x.shape
    assert not torch.allclose(model.edit(x, KEEP, attrs={"glasses": 1.0}), model.edit(x, KEEP, attrs={"glasses": 0.0}))
    with pytest.raises(UsageError, match="valid targets"):
        model.edit(x, "angry")
    with pytest.raises(UsageError, match="valid: glasses"):
        model.edit(x, "sad", attrs={"hat": 1.0})
    with pytest.raises(UsageError, match="between 0"):
        model.edit(x, "sad", attrs={"glasses": 2})
    with pytest.raises(UsageError, match="on/off"):
        model.edit(x, "sad", attrs={"glasses": "maybe"})
    with pytest.raises(UsageError, match="unknown expression"):
        model.edit(x, "sad", source="bored")
    with pytest.raises(UsageError, match="lighting"):
        model.edit(x, "sad", lighting="left")
    conds = model.eval_conditions()
    assert [c["target"] for c in conds] == ["happy", "neutral", "sad", KEEP, KEEP]
    assert conds[3]["options"] == {"attrs": {"glasses": 1.0}} and conds[3]["expect"] == {"glasses": "True"}


def test_landmark_masks() -> None:
    from _datasets import mean_landmarks

    lm = torch.tensor([mean_landmarks(SIZE)] * 2, dtype=torch.float32)
    m = landmark_masks(lm, SIZE)
    assert m.shape == (2, len(CLASSES), SIZE, SIZE)
    assert torch.equal(m.sum(1), torch.ones(2, SIZE, SIZE))  # one-hot


# ----------------------------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------------------------


def mean_losses(tr, batch, steps: int) -> tuple[dict, dict]:
    logs = []
    for step in range(steps):
        torch.manual_seed(step)
        logs.append(tr.train_step(batch, step))
    first = {k: np.mean([r[k] for r in logs[:3]]) for k in logs[0]}
    last = {k: np.mean([r[k] for r in logs[-3:]]) for k in logs[0]}
    return first, last


def test_semantic_training_lowers_the_losses(datasets, weights) -> None:
    tr = tiny_trainer(datasets, residual=False)
    assert tr.semantic and {"G", "D", "S", "Gs", "Ds"} == set(tr.nets)
    assert tr.data.vocab == {"expression": ["happy", "neutral", "sad"], "glasses": ["False", "True"]}
    assert tr.space.dim == 4 and tr.seg_space.keys == ("expression",)
    batch = tr.data.train.batch(torch.arange(8))
    first, last = mean_losses(tr, batch, 20)
    assert {"sc_rgb", "sc_seg", "gs_rec", "ds_cls_real"} <= set(first)
    assert last["g_rec"] < 0.7 * first["g_rec"]  # RGB reconstruction under a zero difference
    assert last["gs_rec"] < 0.9 * first["gs_rec"]  # mask reconstruction (cross-entropy)
    assert last["d_cls_real"] < first["d_cls_real"]
    assert last["source_cls"] < first["source_cls"]  # the exported source-label estimator learns
    # input | 3 expressions | glasses on, off | input mask | edited mask
    assert tr.samples(batch).shape == (8, 1, SIZE, SIZE * 8)


def test_consistency_terms_reach_both_generators(datasets, weights, monkeypatch) -> None:
    """Eq. 11 updates G_rgb (through the parser), eq. 12 updates G_seg; each only its own."""
    tr = tiny_trainer(datasets, residual=False, lambda_sc=1.0, lambda_cls=0.0, lambda_rec=0.0,
                      n_critic=1)
    batch = tr.data.train.batch(torch.arange(4))
    grads = {}

    def capture(name):
        grads[name] = {k: [p.grad.abs().sum().item() if p.grad is not None else 0.0
                           for p in tr.nets[k].parameters()] for k in ("G", "Gs")}
    original = tr.optimize

    def optimize(name, loss):
        for k in ("G", "Gs"):
            tr.nets[k].zero_grad(set_to_none=True)
        loss.backward(retain_graph=True)
        capture(name)
        original(name, loss)

    tr.optimize = optimize
    # without adversarial terms, the generator losses are the consistency terms alone
    monkeypatch.setattr("faceedit.train.secgan.wgan_generator_loss", lambda scores: scores.sum() * 0.0)
    tr.train_step(batch, 0)
    assert sum(grads["G"]["G"]) > 0 and sum(grads["G"]["Gs"]) == 0
    assert sum(grads["Gs"]["Gs"]) > 0 and sum(grads["Gs"]["G"]) == 0


def test_baseline_has_no_semantic_branch(datasets, weights) -> None:
    tr = tiny_trainer(datasets, semantic=False)
    assert not tr.semantic and set(tr.nets) == {"G", "D", "S"}
    logs = tr.train_step(tr.data.train.batch(torch.arange(4)), 0)
    assert "sc_rgb" not in logs and "gs_loss" not in logs
    assert tr.export_info()["extra"]["semantic"] is False
    # the CLI's --no-semantic also passes it as a trainer option
    data = tr.data
    opt = SeCGANTrainer(data, TINY, torch.device("cpu"), {"semantic": False})
    assert not opt.semantic


def test_without_parser_the_run_is_the_baseline(datasets, no_parser, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="faceedit"):
        tr = tiny_trainer(datasets)
    assert not tr.semantic and "Gs" not in tr.nets
    assert sum("semantic consistency" in r.getMessage() for r in caplog.records) == 1


# ----------------------------------------------------------------------------------------------
# export, loading, photo editing
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(datasets, tmp_path_factory):
    """A tiny SeCGAN trained 2 steps by the shared loop and exported like `faceedit train` does."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # set up before the function-scoped one_thread fixture
    try:
        out = tmp_path_factory.mktemp("secgan-run")
        res = run(SeCGANTrainer, datasets, out, LoopConfig(steps=2, batch_size=4, progress=False, sample_every=0),
                  {**TINY, "residual": False})
        info = res.trainer.export_info()
        path, _ = export_model(res.trainer.generator(), out / "secgan.safetensors", arch="secgan",
                               targets=info["targets"], template=CropTemplate(size=SIZE),
                               datasets=[d.meta for d in datasets], metrics={}, command="test", budget={},
                               method="SeCGAN", extra=info["extra"], conditions=info["conditions"], channels=1)
        return res.trainer, path
    finally:
        torch.set_num_threads(threads)


def test_checkpoint_round_trip(exported) -> None:
    trainer, path = exported
    loaded = load_model(path)
    model = loaded.model
    assert isinstance(model, SeCGAN)
    assert loaded.meta.targets == ["happy", "neutral", "sad", KEEP]
    assert loaded.meta.vocabularies == {"expression": ["happy", "neutral", "sad"], "glasses": ["False", "True"]}
    assert not any(k.startswith(("Gs.", "Ds.", "D.")) for k in model.state_dict())  # RGB generator only
    ref = trainer.generator()
    x = torch.rand(3, 1, SIZE, SIZE) * 2 - 1
    for target, opts in (("sad", {}), (KEEP, {"attrs": {"glasses": 1.0}}), ("happy", {"source": "neutral"})):
        assert torch.allclose(model.edit(x, target, **opts), ref.edit(x, target, **opts), atol=0.02)


def test_photo_edit_takes_attributes(exported, astronaut) -> None:
    from faceedit.api import Editor

    _, path = exported
    editor = Editor.from_pretrained(path, device="cpu", detector="dlib")
    # glasses are the stage's (drawn frames); the network's channel is not offered, so a SeCGAN
    # without a stage has no attribute to edit
    with pytest.raises(UsageError, match="no attributes"):
        editor.edit(astronaut, KEEP, attrs={"glasses": 1.0})
    with pytest.raises(UsageError):
        editor.edit(astronaut, KEEP, attrs={"hat": 1.0})
