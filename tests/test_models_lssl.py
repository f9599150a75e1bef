"""LSSL: generator and attribute vocabulary, edit options (lighting, landmarks), a few training
steps, the face-parsing term, the trainer's export reloaded, and a photo's relighting and own
landmarks reaching the model. Offline, CPU, tiny synthetic data sets (tests/_datasets.py).
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
from faceedit.models.layers import EncoderDecoder
from faceedit.models.loading import load_model
from faceedit.models.lssl import LSSL, LSSLGenerator
from faceedit.models.stargan import KEEP, AttributeSpace
from faceedit.train.crops import load_train_data
from faceedit.train.export import export_model
from faceedit.train.loop import LoopConfig, run
from faceedit.train.lssl import LSSLTrainer

SIZE = 32
TINY = {"base_channels": 8, "max_channels": 16, "n_down": 3, "n_res": 1, "d_channels": 8, "n_critic": 1}


ONE_TORCH_THREAD = True  # see conftest._one_torch_thread


@pytest.fixture(autouse=True)
def no_shipped_parser(tmp_path, monkeypatch):
    """Analysis weights come from an empty folder unless a test puts a parser there."""
    folder = tmp_path / "weights"
    folder.mkdir()
    monkeypatch.setenv("FACEEDIT_WEIGHTS", str(folder))
    return folder


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    root = tmp_path_factory.mktemp("lssl-data")
    return [open_dataset(make_dataset(root / "expr", labels=("neutral", "happy", "sad"), size=SIZE, subjects=5)),
            open_dataset(make_dataset(root / "light", labels=("front", "left", "right"), key="lighting",
                                      size=SIZE, subjects=5, seed=1, grey=True))]


def tiny_trainer(datasets, **config) -> LSSLTrainer:
    data = load_train_data(datasets, label_keys=LSSLTrainer.label_keys, channels=LSSLTrainer.channels, size=SIZE)
    torch.manual_seed(0)
    return LSSLTrainer(data, {**TINY, **config}, torch.device("cpu"), {})


def save_tiny_parser(folder) -> None:
    torch.manual_seed(0)
    cfg = {"size": SIZE, "channels": 1, "widths": [4, 8], "classes": len(CLASSES)}
    save_analysis(folder / "parser.safetensors", build_parser(cfg), kind="parser", config=cfg, labels=CLASSES,
                  image_size=SIZE, channels=1, training_data="none", license="test", metrics={})


# ----------------------------------------------------------------------------------------------
# networks and vocabulary
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_down", [3, 5])
def test_generator_shapes(n_down: int) -> None:
    g = LSSLGenerator(1, 5, base=4, max_channels=16, n_down=n_down, n_res=2)
    x, s, y = torch.rand(2, 1, 64, 64) * 2 - 1, torch.rand(2, 1, 64, 64) * 2 - 1, torch.rand(2, 5)
    xo, so, z = g(x, s, y)
    assert z.shape[-2:] == (64 // 2**n_down, 64 // 2**n_down)
    assert torch.equal(z, g.encode(x, s))
    assert xo.shape == x.shape and so.shape == s.shape
    assert xo.abs().max() <= 1 and so.abs().max() <= 1
    # five stride-2 convolutions and as many pixel-shuffle upsamplings
    convs = [m for m in g.net.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.stride for c in convs] == [(2, 2)] * n_down
    assert sum(isinstance(m, torch.nn.PixelShuffle) for m in g.modules()) == n_down


def test_residual_generator_starts_as_identity() -> None:
    g = LSSLGenerator(3, 4, base=4, max_channels=8, n_down=2, n_res=1, residual=True)
    x, s = torch.rand(2, 3, 16, 16) * 2 - 1, torch.rand(2, 1, 16, 16) * 2 - 1
    xo, so, _ = g(x, s, torch.rand(2, 4))
    assert torch.equal(xo, x) and torch.equal(so, s)


def test_transposed_encoder_decoder_shapes() -> None:
    net = EncoderDecoder(4, 2, 3, base=8, max_channels=16, n_down=2, n_res=1, stem_kernel=7)
    assert net(torch.rand(2, 4, 32, 32), torch.rand(2, 3)).shape == (2, 2, 32, 32)


def test_attribute_space_encoding_and_losses() -> None:
    space = AttributeSpace.from_vocab({"expression": ["happy", "neutral", "sad"], "lighting": ["front"],
                                       "glasses": ["False", "True"]}, ("expression", "lighting", "glasses"))
    assert space.keys == ("expression", "glasses")  # one lighting class cannot be edited
    assert space.dim == 4
    labels = {"expression": torch.tensor([2, -1]), "glasses": torch.tensor([-1, 1])}
    assert space.encode(labels).tolist() == [[0, 0, 1, 0], [0, 0, 0, 1]]
    trg = space.sample_targets(labels, keep_prob=0.0)
    assert trg["expression"][1] == -1 and trg["glasses"][0] == -1  # unknown source: keep
    assert trg["expression"][0] >= 0 and trg["glasses"][1] >= 0
    eff = AttributeSpace.effective({"expression": torch.tensor([-1, 0]), "glasses": torch.tensor([0, -1])}, labels)
    assert eff["expression"].tolist() == [2, 0] and eff["glasses"].tolist() == [0, 1]
    logits = torch.zeros(2, 4, requires_grad=True)
    loss = space.cls_loss(logits, labels)
    assert loss.item() == pytest.approx(np.log(3) + np.log(2), rel=1e-5)
    loss.backward()
    assert logits.grad[1, :3].abs().sum() == 0  # the unknown expression of row 1 is not trained
    none = space.cls_loss(logits, {"expression": torch.tensor([-1, -1]), "glasses": torch.tensor([-1, -1])})
    assert none.item() == 0.0


def test_edit_options() -> None:
    torch.manual_seed(0)
    model = LSSL({"image_size": SIZE, "channels": 1, "base_channels": 4, "max_channels": 8, "n_down": 3, "n_res": 1,
                  "attributes": {"expression": ["happy", "neutral"], "lighting": ["front", "left"]}}).eval()
    model.mean_landmarks.copy_(torch.tensor(make_landmarks(SIZE)))
    x = torch.rand(2, 1, SIZE, SIZE) * 2 - 1
    assert model.targets() == ["happy", "neutral", KEEP]
    assert model.edit(x, "happy").shape == x.shape
    assert not torch.allclose(model.edit(x, "happy"), model.edit(x, "happy", lighting="left"))
    assert not torch.allclose(model.edit(x, "happy"), model.edit(x, "neutral"))
    # landmarks: the crops' own points change the side image, so the output
    lm = np.stack([make_landmarks(SIZE, shift=4.0)] * 2)
    assert not torch.allclose(model.edit(x, "happy"), model.edit(x, "happy", landmarks=lm))
    assert torch.allclose(model.edit(x, "happy"), model.edit(x, "happy", landmarks=np.zeros((2, 5, 2))))
    with pytest.raises(UsageError, match="valid targets"):
        model.edit(x, "sad")
    with pytest.raises(UsageError, match="front, left"):
        model.edit(x, "happy", lighting="top")
    with pytest.raises(UsageError, match="stage"):
        model.edit(x, "happy", stage="x")
    with pytest.raises(UsageError, match="landmarks for 1 crops"):
        model.edit(x, "happy", landmarks=lm[:1])
    assert [c["target"] for c in model.eval_conditions()] == ["happy", "neutral", KEEP, KEEP]


def make_landmarks(size: int, shift: float = 0.0) -> np.ndarray:
    from _datasets import mean_landmarks

    return np.asarray(mean_landmarks(size), np.float32) + shift


# ----------------------------------------------------------------------------------------------
# training
# ----------------------------------------------------------------------------------------------


def test_training_steps_lower_the_losses(datasets, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="faceedit"):
        tr = tiny_trainer(datasets, residual=False)
    assert sum("face-parsing loss switched off" in r.getMessage() for r in caplog.records) == 1
    assert tr.data.vocab == {"expression": ["happy", "neutral", "sad"], "lighting": ["front", "left", "right"]}
    assert tr.space.dim == 6
    batch = tr.data.train.batch(torch.arange(8))
    logs = []
    for step in range(40):  # at 25 steps the bidirectional loss sat right at the 0.7 bound (0.70-0.75)
        torch.manual_seed(step)
        logs.append(tr.train_step(batch, step))
    assert "g_parse" not in logs[0]
    first = {k: np.mean([r[k] for r in logs[:3]]) for k in logs[0]}
    last = {k: np.mean([r[k] for r in logs[-3:]]) for k in logs[0]}
    assert last["g_bi"] < 0.7 * first["g_bi"]  # the bidirectional (cycle + latent) loss
    assert last["g_id"] < first["g_id"]
    assert last["d_cls_real"] < first["d_cls_real"]  # the critic learns the real labels
    sheet = tr.samples(batch)
    # input | 3 expressions | 3 lightings | side in | side out
    assert sheet.shape == (8, 1, SIZE, SIZE * 9)


def test_parsing_loss_uses_the_parser(datasets, no_shipped_parser) -> None:
    save_tiny_parser(no_shipped_parser)
    tr = tiny_trainer(datasets, residual=False)
    assert tr.parse is not None
    batch = tr.data.train.batch(torch.arange(4))
    logs = tr.train_step(batch, 0)
    assert logs["g_parse"] > 0
    # the term reaches the generator: its gradient alone is non-zero
    x, s, _ = tr._inputs(batch)
    y = tr.space.encode(tr.space.sample_targets({k: batch[k] for k in tr.space.keys}))
    tr.nets["G"].zero_grad()
    tr.parsing_loss(x, tr.nets["G"](x, s, y)[0]).backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in tr.nets["G"].parameters())


def test_flip_swaps_left_and_right_lighting(datasets) -> None:
    from faceedit.train.lssl import flip_batch

    vocab = {"lighting": ["front", "left", "right"]}
    x = torch.arange(8.0).view(1, 1, 1, 8).repeat(4, 1, 1, 1)
    torch.manual_seed(3)
    (out,), labels = flip_batch([x], {"lighting": torch.tensor([0, 1, 2, -1])}, vocab, prob=1.0)
    assert torch.equal(out, x.flip(-1))
    assert labels["lighting"].tolist() == [0, 2, 1, -1]


# ----------------------------------------------------------------------------------------------
# export, loading, photo editing
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(datasets, tmp_path_factory):
    """A tiny LSSL trained 2 steps by the shared loop and exported like `faceedit train` does."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # set up before the function-scoped one_thread fixture
    try:
        out = tmp_path_factory.mktemp("lssl-run")
        res = run(LSSLTrainer, datasets, out, LoopConfig(steps=2, batch_size=4, progress=False, sample_every=0),
                  {**TINY, "residual": False})
        info = res.trainer.export_info()
        path, _ = export_model(res.trainer.generator(), out / "lssl.safetensors", arch="lssl",
                               targets=info["targets"], template=CropTemplate(size=SIZE),
                               datasets=[d.meta for d in datasets], metrics={}, command="test", budget={},
                               method="LSSL", extra=info["extra"], conditions=info["conditions"], channels=1)
        return res.trainer, path
    finally:
        torch.set_num_threads(threads)


def test_checkpoint_round_trip(exported) -> None:
    trainer, path = exported
    loaded = load_model(path)
    model = loaded.model
    assert isinstance(model, LSSL)
    assert loaded.meta.targets == ["happy", "neutral", "sad", KEEP]
    assert loaded.meta.vocabularies == {"expression": ["happy", "neutral", "sad"],
                                        "lighting": ["front", "left", "right"]}
    assert loaded.spec.channels == 1
    ref = trainer.generator()
    assert torch.allclose(model.mean_landmarks, ref.mean_landmarks, atol=0.05)
    x = torch.rand(3, 1, SIZE, SIZE) * 2 - 1
    for target, light in (("happy", None), (KEEP, "left")):
        assert torch.allclose(model.edit(x, target, lighting=light), ref.edit(x, target, lighting=light), atol=0.02)


def test_photo_relighting_and_own_landmarks(exported, astronaut) -> None:
    from faceedit.api import Editor
    from faceedit.models.request import EditRequest

    _, path = exported
    editor = Editor.from_pretrained(path, device="cpu", detector="dlib")
    out = editor.edit(astronaut, "happy")
    relit = editor.edit(astronaut, KEEP, lighting="left")
    assert np.abs(relit.astype(int) - out.astype(int)).max() > 0
    # the pipeline can hand the crop's own landmarks to the model
    faces = editor.detector.detect(astronaut)
    aligned = editor.align(astronaut, faces[:1])
    crops = np.stack([a.crop for a in aligned])
    own = editor.edit_crops(crops, EditRequest("happy"), landmarks=np.stack([a.landmarks for a in aligned]))
    mean = editor.edit_crops(crops, EditRequest("happy"))
    assert own.shape == mean.shape == (1, SIZE, SIZE, 1)
    assert np.abs(own - mean).max() > 0
