"""LEGAN: generator of three hourglasses with expression/lighting masks, the WGAN-GP trainer on the
shared loop, its export reloaded, and a photo edit on the luminance model with its masks saved.
(Every registered model's round trip and face-only astronaut edit: tests/test_weights_all.py.)"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _datasets import make_dataset
from torch import nn

from faceedit.data import open_dataset
from faceedit.errors import UsageError
from faceedit.models.layers import InterpUp, PixelShuffleUp, ResidualBlock
from faceedit.models.legan import build_legan
from faceedit.train.crops import load_train_data
from faceedit.train.legan import LEGANTrainer, hull_masks
from faceedit.train.loop import LoopConfig, run

TINY_MODEL = {"image_size": 32, "channels": 1, "targets": ["happy", "neutral"], "lighting": ["front", "left"],
              "default_lighting": "front", "base_channels": 8, "max_channels": 16, "n_down": 2, "n_res": 1}
TINY_TRAIN = {"image_size": 32, "base_channels": 8, "max_channels": 16, "n_res": 1, "d_channels": 8,
              "d_max_channels": 32}


ONE_TORCH_THREAD = True  # see conftest._one_torch_thread


@pytest.fixture
def datasets(tmp_path):
    """An expression set without lighting labels and a lighting set (all neutral-free)."""
    a = make_dataset(tmp_path / "expr", subjects=6, labels=("neutral", "happy"), size=32, grey=True)
    b = make_dataset(tmp_path / "light", subjects=6, labels=("front", "left"), size=32, key="lighting",
                     grey=True, seed=1)
    return [open_dataset(a), open_dataset(b)]


def _trainer(datasets, **config) -> LEGANTrainer:
    data = load_train_data(datasets, label_keys=LEGANTrainer.label_keys, channels=1, size=32)
    torch.manual_seed(0)
    return LEGANTrainer(data, {**TINY_TRAIN, **config}, torch.device("cpu"), {})


# ------------------------------------------------------------------------------------------
# The generator
# ------------------------------------------------------------------------------------------


def test_generator_is_three_hourglasses_and_returns_masks():
    model = build_legan({**TINY_MODEL, "n_res": 2}).eval()
    for hg in (model.G.expression, model.G.lighting, model.G.fusion):
        kinds = [type(m) for m in hg.body]
        assert kinds.count(ResidualBlock) == 2 and kinds.count(PixelShuffleUp) == 2
        assert sum(isinstance(m, nn.InstanceNorm2d) for m in hg.modules()) >= 5
        assert isinstance(hg.body[-1], nn.Tanh)
    assert model.G.expression.body[0][0].in_channels == 1 + 2  # image + expression condition
    assert model.G.lighting.body[0][0].in_channels == 1 + 2  # image + lighting condition
    assert model.G.fusion.body[0][0].in_channels == 2  # the two masks (paper, table 9)
    assert build_legan({**TINY_MODEL, "fuse_image": True}).G.fusion.body[0][0].in_channels == 3

    torch.manual_seed(0)
    x = torch.rand(3, 1, 32, 32) * 2 - 1
    out, m_e, m_l = model.edit_with_masks(x, "happy", lighting="front")
    assert out.shape == m_e.shape == m_l.shape == x.shape
    for t in (out, m_e, m_l):
        assert t.min() >= -1 and t.max() <= 1 and torch.isfinite(t).all()
    same = model.edit(x, "happy", lighting="front", return_masks=True)
    assert all(torch.equal(a, b) for a, b in zip(same, (out, m_e, m_l)))
    assert torch.equal(model.edit(x, "happy"), out)  # default lighting: front
    # disentangled: the expression mask ignores the lighting and the lighting mask the expression
    _, m_e2, m_l2 = model.edit_with_masks(x, "happy", lighting="left")
    assert torch.equal(m_e2, m_e) and not torch.allclose(m_l2, m_l)
    _, m_e3, m_l3 = model.edit_with_masks(x, "neutral", lighting="front")
    assert torch.equal(m_l3, m_l) and not torch.allclose(m_e3, m_e)


def test_bilinear_upsampling_variant_and_its_init_from_a_pixel_shuffle_checkpoint(datasets):
    bil = build_legan({**TINY_MODEL, "upsample": "bilinear"}).eval()
    assert [type(m) for m in bil.G.fusion.body].count(InterpUp) == 2
    assert not any(isinstance(m, PixelShuffleUp) for m in bil.modules())
    with pytest.raises(ValueError, match="upsample"):
        build_legan({**TINY_MODEL, "upsample": "nearest"})
    # a pixel-shuffle layer whose four sub-pixel kernels are equal is conv + nearest x2; tying
    # its kernels gives back that conv
    ps = PixelShuffleUp(4, 3, "none", "relu")
    with torch.no_grad():
        k = torch.randn(3, 1, 4, 3, 3)
        ps[0].weight.copy_(k.expand(3, 4, 4, 3, 3).reshape(12, 4, 3, 3))
        ps[0].bias.copy_(torch.randn(3).repeat_interleave(4))
    tied = InterpUp.from_pixel_shuffle_weight(ps[0].weight)
    assert torch.allclose(tied, k[:, 0])
    x = torch.randn(2, 4, 8, 8)
    conv = torch.nn.functional.conv2d(x, tied, InterpUp.from_pixel_shuffle_weight(ps[0].bias), padding=1)
    assert torch.allclose(ps(x), torch.relu(torch.nn.functional.interpolate(conv, scale_factor=2)), atol=1e-5)

    # --init from a pixel-shuffle generator: every other tensor is copied, up-sampling kernels tied
    src = _trainer(datasets, n_critic=1)
    src_state = {f"G.{k}": v for k, v in src.net("G").state_dict().items()}
    dst = _trainer(datasets, n_critic=1, upsample="bilinear")
    dst.init_from(src_state, "test")
    got = dst.net("G").state_dict()
    tied_keys = [k for k, v in got.items() if v.shape != src_state[f"G.{k}"].shape]
    assert len(tied_keys) == 3 * 2  # two up-samplings per hourglass
    for k, v in got.items():
        want = src_state[f"G.{k}"]
        assert torch.equal(v, InterpUp.from_pixel_shuffle_weight(want) if k in tied_keys else want), k


def test_residual_variant_starts_as_the_identity_and_init_zeroes_its_fusion_output(datasets):
    res = build_legan({**TINY_MODEL, "residual": True}).eval()
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    out, m_e, m_l = res.edit_with_masks(x, "happy", lighting="left")
    assert torch.equal(out, x) and not torch.equal(m_e, x)  # masks are computed as before
    # --init from a plain generator: everything loaded, then the fusion output zeroed
    src = _trainer(datasets, n_critic=1)
    src_state = {f"G.{k}": v for k, v in src.net("G").state_dict().items()}
    dst = _trainer(datasets, n_critic=1, residual=True)
    dst.init_from(src_state, "test")
    got = dst.net("G").state_dict()
    zeroed = [k for k, v in got.items() if not torch.equal(v, src_state[f"G.{k}"])]
    assert zeroed and all(k.startswith("fusion.body.") and not got[k].any() for k in zeroed)
    assert torch.equal(got["expression.body.0.0.weight"], src_state["G.expression.body.0.0.weight"])
    # from a residual checkpoint nothing is zeroed
    again = _trainer(datasets, n_critic=1, residual=True)
    again.init_from(src_state, "test", {"residual": True})
    assert all(torch.equal(v, src_state[f"G.{k}"]) for k, v in again.net("G").state_dict().items())


def test_colour_crops_on_the_luminance_model_keep_their_colour():
    model = build_legan(TINY_MODEL).eval()
    torch.manual_seed(1)
    x = torch.rand(2, 3, 32, 32) * 1.2 - 0.6
    out = model.edit(x, "happy", lighting="left")
    assert out.shape == x.shape
    delta = (out - x).permute(0, 2, 3, 1)[(out.abs() < 1).all(1)]  # pixels not clipped at +-1
    assert len(delta) > 100 and delta.abs().max() > 1e-3
    assert (delta.max(1).values - delta.min(1).values).max() < 1e-5  # the same change on R, G, B


def test_bad_targets_options_and_keep_without_classifier(tmp_path, monkeypatch):
    model = build_legan(TINY_MODEL).eval()
    x = torch.zeros(1, 1, 32, 32)
    with pytest.raises(UsageError, match="valid targets"):
        model.edit(x, "angry")
    with pytest.raises(UsageError, match="front, left, keep"):
        model.edit(x, "happy", lighting="sideways")
    with pytest.raises(UsageError, match="unknown LEGAN option"):
        model.edit(x, "happy", aus={12: 3.0})
    with pytest.raises(UsageError, match="needs a lighting estimator"):  # a bare model has none
        model.edit(x, "happy", lighting="keep")
    from faceedit.analysis.classify import estimate_lighting

    model.lighting_estimator = estimate_lighting
    monkeypatch.setenv("FACEEDIT_WEIGHTS", str(tmp_path))  # no lighting classifier there
    with pytest.raises(UsageError, match="lighting.safetensors"):
        model.edit(x, "happy", lighting="keep")


def test_keep_lighting_uses_the_classifier_restricted_to_model_classes(monkeypatch):
    import faceedit.analysis.classify as classify
    import faceedit.analysis.store as store

    class StandIn:  # classifier over more classes than the model knows, in another order
        labels = ["top", "left", "front"]

        def logits(self, x):  # bright crops: "top" (unknown to the model), then "left"; dark: front
            bright = (x.mean((1, 2, 3)) > 0).float()
            return torch.stack([bright * 9, bright * 5, 1 - bright], 1)

    monkeypatch.setattr(store, "analysis_available", lambda kind: kind == "lighting")
    monkeypatch.setattr(classify, "load_classifier", lambda kind, device=None: StandIn())
    model = build_legan(TINY_MODEL).eval()
    model.lighting_estimator = classify.estimate_lighting
    x = torch.cat([torch.full((1, 1, 32, 32), 0.5), torch.full((1, 1, 32, 32), -0.5)])
    assert model.lighting_index(x, "keep").tolist() == [1, 0]  # left, front
    _, _, m_l = model.edit_with_masks(x, "happy", lighting="keep")
    assert torch.allclose(m_l[0], model.edit_with_masks(x[:1], "happy", lighting="left")[2][0], atol=1e-5)
    assert torch.allclose(m_l[1], model.edit_with_masks(x[1:], "happy", lighting="front")[2][0], atol=1e-5)


def test_the_editor_gives_legan_the_lighting_classifier_for_keep(monkeypatch):
    """Models sit below the analysis networks: the Editor hands LEGAN its lighting estimator."""
    import faceedit.analysis.classify as classify
    from faceedit.api import Editor
    from faceedit.models.loading import LoadedModel

    calls = []

    def stand_in(x, classes):
        calls.append(list(classes))
        return torch.zeros(x.shape[0], dtype=torch.long)

    monkeypatch.setattr(classify, "estimate_lighting", stand_in)
    model = build_legan(TINY_MODEL).eval()
    editor = Editor(loaded=LoadedModel(model, None, None, ""), device=torch.device("cpu"), amp_dtype=None)
    assert editor.loaded.model is model and model.lighting_estimator is not None
    x = torch.zeros(2, 1, 32, 32)
    assert model.lighting_index(x, "keep").tolist() == [0, 0] and calls == [["front", "left"]]


def test_eval_conditions_and_registry_spec():
    model = build_legan({**TINY_MODEL, "lighting": ["front", "left", "right"]})
    conds = model.eval_conditions()
    assert {"target": "happy", "options": {"lighting": "front"},
            "expect": {"expression": "happy", "lighting": "front"}} in conds
    assert {"target": "neutral", "options": {"lighting": "right"},
            "expect": {"expression": "neutral", "lighting": "right"}} in conds
    assert len(conds) == 2 + 2
    from faceedit.models.header import read_meta
    from faceedit.models.hub import resolve_weights
    from faceedit.models.loading import list_models
    from faceedit.models.registry import get_spec

    spec = get_spec("legan")
    header = read_meta(resolve_weights(spec))  # the vocabularies live in the checkpoint header
    assert spec.channels == 1 and spec.targets == header.targets and not spec.color_match
    assert spec.conditions["lighting"] == header.vocabularies["lighting"] and "front" in spec.conditions["lighting"]
    assert any(r["name"] == "legan" for r in list_models())


# ------------------------------------------------------------------------------------------
# Training
# ------------------------------------------------------------------------------------------


def test_unlabelled_lighting_rows_count_as_front(datasets):
    tr = _trainer(datasets)
    assert tr.data.vocab == {"expression": ["happy", "neutral"], "lighting": ["front", "left"]}
    front = tr.light_vocab.index("front")
    for crops in (tr.data.train, tr.data.held):
        for row, lab in zip(crops.rows, crops.labels["lighting"].tolist()):
            if "lighting" not in row["labels"]:
                assert lab == front
    assert isinstance(tr.nets["D"].cls, nn.Conv2d) and tr.nets["D"].cls.out_channels == 2 + 2
    # with the fill switched off the rows stay unknown and a step still trains
    tr = _trainer(datasets, unlabelled_lighting=None, n_critic=1)
    assert (tr.data.train.labels["lighting"] == -1).any()
    losses = tr.train_step(tr.data.train.batch(torch.arange(len(tr.data.train))), 0)
    assert all(np.isfinite(v) for v in losses.values())


@torch.no_grad()
def _measure(tr: LEGANTrainer, batch) -> tuple[float, float]:
    """(critic class loss on the real crops, cycle L1 |x - G(G(x, f_b), f_a)|) for fixed targets."""
    x, e, l = batch["image"], batch["expression"], batch["lighting"]
    g = torch.Generator().manual_seed(5)
    te, tl = torch.randint(0, tr.n_expr, e.shape, generator=g), torch.randint(0, tr.n_light, l.shape, generator=g)
    G, D = tr.net("G"), tr.net("D")
    fake = G(x, *tr._conditions(te, tl, x.dtype))[0]
    rec = G(fake, *tr._conditions(e, l, x.dtype))[0]
    return float(tr._class_loss(D(x)[1], e, l)), float((rec - x).abs().mean())


def test_a_few_steps_lower_the_class_and_cycle_losses(datasets):
    # lambda_cls 2 instead of the paper's 20 and a high learning rate: in ten steps the paper's
    # weight lets the class term drown the cycle term; this test checks that the machinery
    # learns, not the paper's weights. The identity and quality terms are off, so the test does
    # not depend on which analysis networks weights/ ships (their own test is the next one).
    tr = _trainer(datasets, lr=2e-3, n_critic=2, lambda_cls=2.0, lambda_id=0.0, lambda_qual=0.0)
    batch = tr.data.train.batch(torch.arange(len(tr.data.train)))
    cls0, rec0 = _measure(tr, batch)
    torch.manual_seed(0)
    log = [tr.train_step(batch, s) for s in range(10)]
    cls1, rec1 = _measure(tr, batch)
    assert cls1 < 0.85 * cls0  # the critic learns the expression and lighting of real crops
    assert rec1 < 0.75 * rec0  # the cycle G(G(x, f_b), f_a) comes back towards x
    assert set(log[0]) >= {"d_adv", "d_gp", "d_cls", "g_adv", "g_cls", "g_rec", "g_tv"}
    assert all(np.isfinite(v) for r in log for v in r.values())


def test_identity_and_quality_losses_with_stand_ins(datasets, monkeypatch):
    import faceedit.analysis.identity as identity
    import faceedit.analysis.quality as quality
    import faceedit.analysis.store as store

    class Frozen:
        def __init__(self, out):
            torch.manual_seed(3)
            self.net = nn.Sequential(nn.Conv2d(1, 4, 3, 2, 1), nn.Flatten(), nn.LazyLinear(out))
            self.net(torch.zeros(1, 1, 32, 32))
            self.net.requires_grad_(False)

        def embed(self, x):
            return torch.nn.functional.normalize(self.net(x), dim=1)

        def score(self, x):
            return 10 * torch.sigmoid(self.net(x)[:, 0])

    monkeypatch.setattr(store, "analysis_available", lambda kind: kind in ("identity", "quality"))
    monkeypatch.setattr(identity, "load_identity", lambda device=None: Frozen(8))
    monkeypatch.setattr(quality, "load_quality", lambda device=None: Frozen(1))
    tr = _trainer(datasets, n_critic=1, quality_mask=True)
    losses = tr.train_step(tr.data.train.batch(torch.arange(6)), 0)
    assert 0 <= losses["g_id"] <= 2 and 0 <= losses["g_qual"] <= 20
    assert all(p.grad is None for p in tr.identity.net.parameters())  # frozen: only G learns
    m = hull_masks(torch.tensor([[[4.0, 4.0], [20.0, 4.0], [12.0, 20.0]]]), 32)
    assert m.shape == (1, 1, 32, 32) and m[0, 0, 8, 12] == 1 and m[0, 0, 30, 30] == 0


# ------------------------------------------------------------------------------------------
# Export, reload, edit a photo
# ------------------------------------------------------------------------------------------


def test_run_export_reload_and_edit_the_astronaut(tmp_path, datasets, astronaut):
    from faceedit.api import Editor
    from faceedit.faces.types import CropTemplate
    from faceedit.models.loading import load_model
    from faceedit.train.export import export_model

    cfg = LoopConfig(steps=1, ckpt_every=0, sample_every=0, log_every=1, progress=False)
    res = run(LEGANTrainer, datasets, tmp_path / "run", cfg, TINY_TRAIN)
    assert (tmp_path / "run" / "state.safetensors").is_file()
    sheets = list((tmp_path / "run" / "samples").glob("*.png"))
    assert sheets  # input | 2 expressions | 1 other lighting
    from PIL import Image

    assert Image.open(sheets[0]).size[0] == 32 * 4
    tr = res.trainer
    info = tr.export_info()
    path, _ = export_model(tr.generator(), tmp_path / "legan.safetensors", arch="legan",
                           targets=info["targets"], template=CropTemplate(size=32),
                           datasets=[d.meta for d in datasets], metrics={}, command="pytest", budget={},
                           method="LEGAN", extra=info["extra"],
                           conditions=info["conditions"], channels=info["channels"])
    loaded = load_model(path)
    assert loaded.spec.channels == 1 and loaded.spec.conditions["lighting"] == ["front", "left"]
    assert loaded.spec.color_match is False and loaded.model.targets() == ["happy", "neutral"]
    x = tr.data.held.batch(torch.arange(len(tr.data.held)))["image"]
    want = tr.generator().edit_with_masks(x, "happy", "left")
    got = loaded.model.edit_with_masks(x, "happy", "left")
    for a, b in zip(want, got):
        assert (a - b).abs().max() < 0.02  # fp16 storage

    editor = Editor.from_pretrained(path, device="cpu", detector="dlib")
    out = editor.edit(astronaut, "happy", lighting="left")
    assert out.shape == astronaut.shape and out.dtype == np.uint8
    delta = out.astype(int) - astronaut.astype(int)
    assert np.abs(delta).sum() > 0
    changed = np.abs(delta).max(2) > 0
    # a luma change pasted as a factor, Cb and Cr nearly kept (scaled by the factor ** 0.2): the
    # photo keeps its hue (rounding and clipping aside)
    from faceedit.pixels import rgb_to_ycc

    ya, yb = rgb_to_ycc(astronaut.astype(np.float32)), rgb_to_ycc(out.astype(np.float32))
    coloured = changed & (np.hypot(ya[..., 1], ya[..., 2]) > 8) & (np.hypot(yb[..., 1], yb[..., 2]) > 8)
    turn = np.angle(np.exp(1j * (np.arctan2(yb[..., 2], yb[..., 1]) - np.arctan2(ya[..., 2], ya[..., 1]))))
    print(f"hue turned by up to {np.degrees(np.abs(turn[coloured])).max():.1f} degrees, pixels {coloured.sum()}")
    assert coloured.sum() > 1000 and np.mean(np.degrees(np.abs(turn[coloured])) < 5) > 0.95
    with pytest.raises(UsageError):
        editor.edit(astronaut, "happy", lighting="sideways")

    # faceedit apply --save-masks: both masks per face beside the output, listed in the JSON record
    import json

    from PIL import Image
    from typer.testing import CliRunner

    from faceedit.cli import app

    photo = tmp_path / "astronaut.png"
    Image.fromarray(astronaut).save(photo)
    r = CliRunner().invoke(app, ["apply", "-m", str(path), "-t", "happy", "--lighting", "left",
                                 "--save-masks", "--json", "--detector", "dlib", str(photo),
                                 "-o", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout.strip().splitlines()[-1])
    stem = tmp_path / "out" / "astronaut_happy_left"  # the lighting is in the default name
    assert rec["status"] == "ok" and rec["masks"] == [f"{stem}_face0_expression_mask.png",
                                                      f"{stem}_face0_lighting_mask.png"]
    want = loaded.model.edit_with_masks(
        torch.from_numpy(editor.align(astronaut, editor.detector.detect(astronaut))[0].crop)
        .permute(2, 0, 1)[None].float().div(127.5).sub(1), "happy", "left")
    for p, m in zip(rec["masks"], want[1:]):
        got = np.asarray(Image.open(p).convert("L"), dtype=float)
        assert got.shape == (32, 32)
        assert np.abs(got - (m[0, 0].numpy() + 1) * 127.5).max() <= 1.0


def test_save_masks_refused_for_a_model_without_masks(tiny_ckpt, astronaut_png, tmp_path):
    from typer.testing import CliRunner

    from faceedit.cli import app

    r = CliRunner().invoke(app, ["apply", "-m", tiny_ckpt, "-t", "bright", "--save-masks",
                                 str(astronaut_png), "-o", str(tmp_path / "out")],
                                env={"FACEEDIT_PLUGINS": "tiny_model"})
    assert r.exit_code == 2 and "has no intermediate masks" in r.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# ------------------------------------------------------------------------------------------
# Paste-back: a change of light is carried as a factor, as smooth as the crop
# ------------------------------------------------------------------------------------------


def _log_luma_hf(before: np.ndarray, after: np.ndarray, landmarks: np.ndarray) -> float:
    """High-frequency share of the log-luminance change ``before`` -> ``after`` inside the face
    (as bench/bench_relight_texture.py): energy of the change less its Gaussian blur at 0.1 eye
    distances, over the change's energy."""
    import cv2

    from faceedit.eval.light_truth import face_mask
    from faceedit.faces.landmarks import eye_distance
    from faceedit.pixels import luma

    d = np.log1p(luma(after.astype(np.float32))) - np.log1p(luma(before.astype(np.float32)))
    m = face_mask(d.shape, landmarks)
    h = d - cv2.GaussianBlur(d, (0, 0), 0.1 * eye_distance(landmarks))
    return float((h[m] ** 2).sum() / max(float((d[m] ** 2).sum()), 1e-12))


@pytest.fixture(scope="module")
def big_astronaut():
    """The astronaut at 1350 px (the London photos' size) with a fine grain, and its face (dlib)."""
    import cv2
    from skimage.data import astronaut

    from faceedit.faces.detectors import get_detector

    rng = np.random.default_rng(0)
    img = cv2.resize(astronaut(), (1350, 1350), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    img = np.clip(np.rint(img + rng.normal(0, 6.0, img.shape)), 0, 255).astype(np.uint8)
    faces = get_detector("dlib").detect(img)
    assert len(faces) == 1
    return img, faces[0]


def test_a_darkening_pasted_as_a_factor_keeps_the_photo_texture(big_astronaut):
    """A deep, even darkening of a 64-px crop (a relit face's shadow side): added as a difference
    it crushes the photo's darker grain to black and its log-luminance change takes the photo's
    texture; as a factor (``ratio``, LEGAN's paste-back) the change is as smooth as the crop and
    the skin keeps its own detail, scaled."""
    from faceedit.faces.align import align_face
    from faceedit.faces.paste import paste_back
    from faceedit.faces.types import CropTemplate
    from faceedit.pixels import luma

    img, face = big_astronaut
    al = align_face(img, face, CropTemplate(size=64, eye_dist=0.3, eye_y=0.42))
    y = luma(al.crop.astype(np.float32))
    edited = y * 0.35  # the crop's luma at 35 %: a shadow
    outs = {}
    for ratio in (False, True):
        out = img.copy()
        paste_back(out, al, edited, color_match=False, luminance_only=True, smooth=4.0, ratio=ratio)
        outs[ratio] = out
    lm = np.asarray(face.landmarks, np.float64)
    hf = {k: _log_luma_hf(img, v, lm) for k, v in outs.items()}
    print(f"high-frequency share of the log-luminance change: difference {hf[False]:.3f}, factor {hf[True]:.3f}")
    assert hf[True] < 0.02 < 0.1 < hf[False]
    # the factor keeps the skin's own contrast (scaled); the difference crushes the dark grain to black
    from faceedit.eval.light_truth import face_mask

    m = face_mask(img.shape, lm)
    black = {k: float((luma(v.astype(np.float32))[m] < 2).mean()) for k, v in outs.items()}
    assert black[True] == 0.0 and black[False] > 0.01


def test_shipped_legan_relights_with_a_change_as_smooth_as_its_crop(big_astronaut):
    """``--lighting left|right`` with the shipped LEGAN: the network's own change (beyond the
    stage's relighting, same target and light) has a high-frequency share of its log-luminance
    change inside the face under 0.05: the change of light has the crop's resolution and does not
    ride on the photo's texture."""
    from faceedit.api import Editor
    from faceedit.models.hub import weights_present
    from faceedit.models.registry import get_spec

    if not weights_present(get_spec("legan")):
        pytest.skip("weights/legan.safetensors absent (see weights/legan.md)")

    img, face = big_astronaut
    legan = Editor.from_pretrained("legan", device="cpu", detector="dlib", allow_download=False)
    stage = Editor.from_pretrained("stage", device="cpu", detector="dlib", allow_download=False)
    assert legan.loaded.model.paste_ratio
    lm = np.asarray(face.landmarks, np.float64)
    for light in ("left", "right"):
        out = legan.edit(img, "neutral", lighting=light)
        ref = stage.edit(img, "neutral", lighting=light)
        hf = _log_luma_hf(ref, out, lm)
        print(f"legan --lighting {light}: the network's own change, high-frequency share {hf:.3f}")
        assert hf < 0.05
