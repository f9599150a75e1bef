"""EGGAN: network shapes, MS-SSIM, AU conditions and options, a few training steps, the
interpolation endpoints, the trainer's export reloaded and alpha 0 on a photo. CPU, tiny configs.
(Every registered model's round trip and face-only astronaut edit: tests/test_weights_all.py.)"""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
import torch
from _datasets import make_dataset

from faceedit.data import open_dataset
from faceedit.errors import UsageError
from faceedit.faces import au
from faceedit.faces.types import CropTemplate
from faceedit.models.eggan import build_eggan, prototype_targets
from faceedit.train import eggan as tr
from faceedit.train.crops import load_train_data
from faceedit.train.loop import LoopConfig, run

SIZE = 32
TINY_MODEL = {"image_size": SIZE, "latent_dim": 16, "enc_channels": [8, 8, 16, 16, 16], "gen_channels": 32,
              "gen_min_channels": 8, "au_head_channels": 16}
TINY = {**TINY_MODEL, "d_channels": 8, "d_max_channels": 32, "n_critic": 2}
NOT_SEEN = sorted(au.NOT_ESTIMABLE)  # AUs the landmark estimator never measures (9, 10, 14)


ONE_TORCH_THREAD = True  # see conftest._one_torch_thread


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """4 training + 1 held-out synthetic subjects (neutral + happy), with synthetic AUs: random
    intensities, NaN in the never-estimable columns and in a few random entries."""
    root = make_dataset(tmp_path_factory.mktemp("eggan") / "ds", subjects=5, size=SIZE)
    d = load_train_data([open_dataset(root)], label_keys=(), with_aus=True, holdout=0.2, size=SIZE)
    g = torch.Generator().manual_seed(0)
    for split in (d.train, d.held):
        a = torch.rand(len(split), len(au.AU_IDS), generator=g) * 5
        a[torch.rand(a.shape, generator=g) < 0.1] = float("nan")
        a[:, [au.AU_IDS.index(k) for k in NOT_SEEN]] = float("nan")
        split.aus = a
    return d


def trainer(data, seed: int = 0, **overrides) -> tr.EGGANTrainer:
    torch.manual_seed(seed)
    return tr.EGGANTrainer(data, {**TINY, **overrides}, torch.device("cpu"), {})


def full_batch(data):
    return data.train.batch(torch.arange(len(data.train)))


# ----------------------------------------------------------------------------------------------
# networks


@pytest.mark.parametrize("size,blocks", [(64, 5), (128, 6)])
def test_default_networks_follow_the_paper(size, blocks):
    torch.manual_seed(0)
    m = build_eggan({"image_size": size})
    enc = [l for l in m.G.encoder.convs.modules() if isinstance(l, torch.nn.Conv2d)]
    assert [c.out_channels for c in enc] == [16, 32, 64, 128, 256] and all(c.stride == (2, 2) for c in enc)
    assert len(m.G.decoder.blocks) == blocks and m.config["gen_blocks"] == blocks
    x = torch.rand(2, 3, size, size) * 2 - 1
    latent, features = m.G.encoder(x)
    assert latent.shape == (2, 128)
    u = torch.rand(2, 17) * 5
    assert m.G.decoder(latent, u).shape == (2, 3, size, size)
    assert m.G.encoder.predict_aus(features).shape == (2, 17)
    dz = tr.LatentDiscriminator(128)
    assert [l.out_features for l in dz.net if isinstance(l, torch.nn.Linear)] == [256, 128, 64, 32, 16, 1]
    assert dz(latent).shape == (2,)


def test_exported_model_is_small():
    m = build_eggan({"image_size": 64})
    n = sum(p.numel() for p in m.state_dict().values())
    assert n * 2 < 5e6, f"{n} parameters: {n * 2 / 1e6:.1f} MB in fp16"


def test_trainer_critic_heads(data):
    t = trainer(data)
    scores, logits = t.nets["D"](full_batch(data)["image"])
    assert logits.shape == (len(data.train), 17 * 6 + t.n_ids)
    au_logits, id_logits = t._split_logits(logits)
    assert au_logits.shape == (len(data.train) * 17, 6) and id_logits.shape == (len(data.train), t.n_ids)
    # estimable AUs come from the data: the never-measured ones are left out
    assert t.mcfg.estimable_aus == [a for a in au.AU_IDS if a not in NOT_SEEN]


def test_condition_changes_the_output():
    """u enters the FC input and every block's instance-norm affine."""
    torch.manual_seed(0)
    m = build_eggan(TINY_MODEL)
    for p in m.G.decoder.parameters():  # leave the zero-initialised modulation
        if p.dim() > 1:
            torch.nn.init.normal_(p, std=0.3)
    latent = torch.randn(1, 16)
    a = m.G.decoder(latent, torch.zeros(1, 17))
    b = m.G.decoder(latent, torch.full((1, 17), 5.0))
    assert (a - b).abs().mean() > 1e-3


def test_config_validation(data):
    with pytest.raises(ValueError, match="unknown EGGAN config key 'lambda_ua'"):
        trainer(data, lambda_ua=1.0)
    with pytest.raises(ValueError, match="unknown EGGAN config key 'bogus'"):
        build_eggan({"bogus": 1})
    with pytest.raises(ValueError, match="power of two"):
        build_eggan({"image_size": 96})
    with pytest.raises(ValueError, match="edit_mode"):
        build_eggan({"edit_mode": "sideways"})


# ----------------------------------------------------------------------------------------------
# losses


def test_ms_ssim():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 64, 64, generator=g) * 2 - 1
    noisy = (x + 0.3 * torch.randn(x.shape, generator=g)).clamp(-1, 1)
    torch.testing.assert_close(tr.ms_ssim(x, x), torch.ones(2))
    v = tr.ms_ssim(x, noisy)
    assert (v < 0.9).all() and (v > 0).all()
    torch.testing.assert_close(v, tr.ms_ssim(noisy, x))
    # more noise, lower score; a global brightness shift is penalised less than noise
    assert (tr.ms_ssim(x, (x + 0.6 * torch.randn(x.shape, generator=g)).clamp(-1, 1)) < v).all()
    # single scale = plain SSIM (the project's metric)
    from faceedit.eval.metrics import ssim

    torch.testing.assert_close(tr.ms_ssim(x, noisy, scales=1), ssim(x, noisy))
    with pytest.raises(ValueError, match="at least"):
        tr.ms_ssim(x, x, scales=4)  # 64 px / 8 = 8 px < the 11-px window
    y = noisy.clone().requires_grad_(True)
    (1 - tr.ms_ssim(x, y)).mean().backward()
    assert torch.isfinite(y.grad).all() and y.grad.abs().sum() > 0


def test_au_levels_round_and_mask():
    u = torch.tensor([[0.4, 0.6, 2.5, 4.9, 5.0, float("nan")]])
    assert tr.au_levels(u, 5).tolist() == [[0, 1, 2, 5, 5, -1]]  # round half to even: 2.5 -> 2


def test_nan_aus_are_masked_in_the_au_loss(data):
    """Rows whose AUs are all NaN contribute nothing: the AU term is 0 and the step still runs."""
    t = trainer(data)
    b = full_batch(data)
    b["aus"] = torch.full_like(b["aus"], float("nan"))
    losses = t.train_step(b, 0)
    assert losses["au"] == 0.0 and losses["au_head"] == 0.0 and math.isfinite(losses["g"])


# ----------------------------------------------------------------------------------------------
# training


def test_a_few_steps_lower_the_loss(data):
    t = trainer(data, lr=5e-4, au_head_lr=1e-3)
    b = full_batch(data)
    logs = [t.train_step(b, s) for s in range(25)]
    first, last = logs[0], logs[-1]
    assert last["rec"] < 0.85 * first["rec"], (first["rec"], last["rec"])
    assert last["g"] < first["g"]
    assert last["au_head"] < first["au_head"]


def test_alpha_endpoints(data):
    """After a reconstruction-only fit on a tiny batch, alpha = 0 redraws the input closely
    (direct mode, the paper's eq. 8) and is exactly the input in delta mode; the condition runs
    linearly from the source AUs (alpha 0) to the target's (alpha 1)."""
    t = trainer(data, seed=1, n_critic=0, lambda_adv=0, lambda_z=0, lambda_au=0, lambda_id=0, lr=3e-3)
    b = full_batch(data)
    x = b["image"]
    m0 = t.generator()
    before = (m0.edit(x, "happy", 0.0, mode="direct") - x).abs().mean()
    for s in range(40):
        t.train_step(b, s)
    m = t.generator()
    src = torch.nan_to_num(b["aus"]) * m.au_mask  # the AUs it was trained to reconstruct with
    rec = m.edit(x, "happy", 0.0, source_aus=src, mode="direct")
    err = (rec - x).abs().mean()
    assert err < 0.4 * before, (before, err)
    torch.testing.assert_close(m.edit(x, "happy", 0.0, mode="delta"), x)
    u_s, u0 = m.conditions_for(x, "happy", 0.0)
    _, u1 = m.conditions_for(x, "happy", 1.0)
    _, uh = m.conditions_for(x, "happy", 0.5)
    proto = torch.tensor(au.expression_prototype("happy"), dtype=torch.float32) * m.au_mask
    torch.testing.assert_close(u0, u_s)
    torch.testing.assert_close(u1, proto.expand_as(u1))
    torch.testing.assert_close(uh, (u_s + proto) / 2)


def test_loop_run_resume_and_samples(tmp_path):
    root = make_dataset(tmp_path / "ds", subjects=3, size=SIZE)
    cfg = LoopConfig(steps=2, progress=False, sample_every=2, ckpt_every=2, log_every=1)
    r = run(tr.EGGANTrainer, [open_dataset(root)], tmp_path / "run", cfg, config=TINY)
    assert r.step == 2 and (tmp_path / "run" / "state.safetensors").is_file()
    assert list((tmp_path / "run" / "samples").glob("*.png"))
    r2 = run(tr.EGGANTrainer, [open_dataset(root)], tmp_path / "run",
             LoopConfig(steps=3, progress=False, resume=True, sample_every=0), config=TINY)
    assert r2.step == 3


def test_identity_loss_stands_in_for_vgg(data, monkeypatch, caplog):
    """Without VGG-19 weights the perceptual term uses the identity network when one exists."""
    import faceedit.analysis.identity as identity
    import faceedit.analysis.store as store

    class FakeIdentity:
        def embed(self, x):
            return torch.nn.functional.normalize(x.mean((2, 3)) + 0.1, dim=1)

    monkeypatch.setattr(store, "analysis_available", lambda kind: kind == "identity")
    monkeypatch.setattr(identity, "load_identity", lambda *a, **k: FakeIdentity())
    with caplog.at_level(logging.WARNING, logger="faceedit"):
        t = trainer(data)
    assert t.per_kind == "identity"
    assert sum("identity-feature loss" in r.getMessage() for r in caplog.records) == 1
    assert t.train_step(full_batch(data), 0)["per"] > 0


def test_perceptual_off_without_weights(data, monkeypatch, caplog):
    import faceedit.analysis.store as store

    monkeypatch.setattr(store, "analysis_available", lambda kind: False)
    with caplog.at_level(logging.WARNING, logger="faceedit"):
        t = trainer(data)
    assert t.per_kind == "off" and t.per_fn is None
    assert sum("switched off" in r.getMessage() for r in caplog.records) == 1


# ----------------------------------------------------------------------------------------------
# inference API


@pytest.fixture(scope="module")
def model(data):
    torch.manual_seed(0)
    t = tr.EGGANTrainer(data, TINY, torch.device("cpu"), {})
    return t.generator()


def test_targets_and_eval_conditions(model):
    shipped = ["neutral", "happy", "sad", "surprised", "angry", "disgusted", "fearful", "sleepy"]
    assert prototype_targets() == shipped == model.targets()
    conds = model.eval_conditions()
    assert [c["target"] for c in conds] == shipped
    for c in conds:
        assert c["expect"]["expression"] == c["target"]
        assert c["expect"]["aus"] == pytest.approx(list(au.expression_prototype(c["target"])))


def test_au_options(model):
    x = torch.zeros(2, 3, SIZE, SIZE)
    i12, i25 = au.AU_IDS.index(12), au.AU_IDS.index(25)
    _, u = model.conditions_for(x, "happy", 1.0, aus={12: 5.0, "AU6": 0})
    assert (u[:, i12] == 5).all() and (u[:, au.AU_IDS.index(6)] == 0).all()
    assert u[:, i25].tolist() == pytest.approx([au.expression_prototype("happy")[i25]] * 2)
    # "au": the source's own AUs with the given ones set; a spec string works too
    u_s, u = model.conditions_for(x, "au", 1.0, aus="25=3")
    expected = u_s.clone()
    expected[:, i25] = 3.0
    torch.testing.assert_close(u, expected)
    _, u_half = model.conditions_for(x, "custom", 0.5, aus={25: 3})
    torch.testing.assert_close(u_half, (u_s + expected) / 2)
    # aliases of faceedit.conditions are accepted
    torch.testing.assert_close(model.conditions_for(x, "smile")[1], model.conditions_for(x, "happy")[1])
    # source AUs given by the caller replace the estimate (dict: only the named ones)
    given = torch.full((17,), 1.0)
    u_s2, _ = model.conditions_for(x, "happy", 0.0, source_aus=given)
    torch.testing.assert_close(u_s2, (given * model.au_mask).expand(2, -1))
    u_s3, _ = model.conditions_for(x, "happy", 0.0, source_aus={12: 4.0})
    assert (u_s3[:, i12] == 4).all() and torch.equal(u_s3[:, i25], u_s[:, i25])
    assert model.edit(x, "au", 0.7, aus={12: 2}).shape == x.shape


@pytest.mark.parametrize("kwargs,match", [
    ({"target": "wink"}, "unknown target"),
    ({"target": "au"}, "needs AU intensities"),
    ({"target": "happy", "aus": {99: 1}}, "AU 99 is not one of"),
    ({"target": "happy", "aus": {"brow": 1}}, "not an AU number"),
    ({"target": "happy", "aus": {9: 2}}, "AU 9 was not estimable"),
    ({"target": "happy", "aus": {12: 7}}, r"use 0\.\.5"),
    ({"target": "happy", "aus": {12: float("nan")}}, r"use 0\.\.5"),
    ({"target": "happy", "aus": {12: "lots"}}, "not a number"),
    ({"target": "happy", "aus": "12=abc"}, "not a number"),
    ({"target": "happy", "aus": "12"}, "expected AU=INTENSITY"),
    ({"target": "happy", "aus": {}}, "non-empty"),
    ({"target": "happy", "source_aus": [1.0, 2.0]}, "expected 17 values"),
    ({"target": "happy", "source_aus": [9.0] * 17}, r"0\.\.5"),
    ({"target": "happy", "mode": "sideways"}, "unknown EGGAN mode"),
    ({"target": "happy", "lighting": "left"}, "unknown EGGAN option"),
    ({"target": "happy", "strength": float("inf")}, "finite"),
])
def test_bad_options_are_usage_errors(model, kwargs, match):
    with pytest.raises(UsageError, match=match):
        model.edit(torch.zeros(1, 3, SIZE, SIZE), **kwargs)


def test_bad_input_shape(model):
    with pytest.raises(UsageError, match="expects crops of shape"):
        model.edit(torch.zeros(1, 3, 2 * SIZE, 2 * SIZE), "happy")


# ----------------------------------------------------------------------------------------------
# export, loading, photos


@pytest.fixture(scope="module")
def exported(data, tmp_path_factory):
    from faceedit.train.export import export_model

    t = trainer(data)
    b = full_batch(data)
    for s in range(3):
        t.train_step(b, s)
    info = t.export_info()
    path = tmp_path_factory.mktemp("export") / "eggan-tiny.safetensors"
    export_model(t.generator(), path, arch="eggan", targets=info["targets"],  # config: the model's own
                 template=CropTemplate(size=SIZE), datasets=[d.meta for d in data.datasets],
                 metrics={}, command="pytest", budget={"steps": 3}, method="EGGAN",
                 extra=info["extra"], conditions=info["conditions"])
    return t, path


def test_checkpoint_round_trip(exported):
    from faceedit.models.loading import load_model

    t, path = exported
    loaded = load_model(path)
    assert loaded.meta.arch == "eggan" and loaded.model.targets() == t.generator().targets()
    assert loaded.meta.vocabularies["aus"] == list(au.AU_IDS)
    assert loaded.model.config == t.generator().config == loaded.meta.config
    x = torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    ref = t.generator()
    for v in ref.state_dict().values():  # the file stores fp16
        v.copy_(v.half().float())
    for mode in ("direct", "delta"):
        torch.testing.assert_close(loaded.model.edit(x, "surprised", 0.6, mode=mode),
                                   ref.edit(x, "surprised", 0.6, mode=mode), atol=1e-4, rtol=0)


def test_alpha_zero_photo_edit_is_the_input(exported, astronaut):
    from faceedit.api import Editor

    _, path = exported
    editor = Editor.from_pretrained(str(path), device="cpu", detector="dlib", allow_download=False)
    out = editor.edit(astronaut, "happy", strength=1.0, aus={12: 4.0})
    assert np.abs(out.astype(int) - astronaut.astype(int)).max() > 2  # alpha 1 changes the face
    same = editor.edit(astronaut, "happy", strength=0.0)  # alpha 0, delta mode: the input
    assert np.abs(same.astype(int) - astronaut.astype(int)).max() <= 1


def test_registered_spec():
    from faceedit.models.header import read_meta
    from faceedit.models.hub import resolve_weights
    from faceedit.models.registry import get_spec

    spec = get_spec("eggan")
    header = read_meta(resolve_weights(spec))  # the targets live in the checkpoint header
    assert spec.arch == "eggan" and spec.targets == header.targets == prototype_targets()
    assert spec.image_size == 64 and spec.conditions == {"aus": header.vocabularies["aus"]}
    assert spec.paper == "eggan.txt" and spec.source.file == "eggan.safetensors"
