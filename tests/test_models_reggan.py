"""RegGAN: expression layer fit and receptive field, refiner blocks, discriminators, losses,
editing, and its trainer on the shared loop (few steps, resume). Offline, CPU, small sizes."""

from __future__ import annotations

import json
import logging

import pytest
import safetensors.torch
import torch
import torch.nn.functional as F

from faceedit.errors import CheckpointError, UsageError
from faceedit.models.layers import MultiScaleDiscriminator
from faceedit.models.loading import load_model
from faceedit.models.reggan import (
    AttentionBlock,
    ExpressionLayer,
    RegGAN,
    build_reggan,
    pad_for_patches,
)
from faceedit.train import reggan as trainer
from faceedit.train.losses import (
    PerceptualLoss,
    VGG19Features,
    build_perceptual_loss,
    feature_matching_loss,
    hinge_discriminator_loss,
    hinge_generator_loss,
    load_vgg19_features,
)

TINY = {
    "image_size": 32,
    "base_channels": 8,
    "max_channels": 16,
    "n_latent": 2,
    "attention_channels": 8,
    "hourglass_depth": 1,
    "targets": ["happy"],
}
TINY_DISC = {"channels": 8, "n_layers": 2, "max_channels": 16}


ONE_TORCH_THREAD = True  # see conftest._one_torch_thread


def smooth_images(n: int, channels: int, size: int, seed: int) -> torch.Tensor:
    """Random smooth images in [-1, 1] (bilinearly upsampled noise)."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, channels, size // 4, size // 4, generator=g) * 2 - 1
    return F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)


def tiny_model(seed: int = 0, **overrides) -> RegGAN:
    torch.manual_seed(seed)
    return build_reggan({**TINY, **overrides})


# ----------------------------------------------------------------------------------------------
# Expression layer
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("r", [3, 5])
def test_closed_form_matches_lstsq(r: int) -> None:
    g = torch.Generator().manual_seed(r)
    n, c, s, lam = 20, 2, 9, 0.7
    src = torch.rand(n, c, s, s, generator=g) * 2 - 1
    dst = torch.rand(n, c, s, s, generator=g) * 2 - 1
    layer = trainer.fit_expression_layer(src, dst, r=r, lam=lam)

    # Direct solve of eq. 5/6 as least squares: [X 1; sqrt(lam) I] [w; b] ~ [t; 0].
    patches = F.unfold(pad_for_patches(src.double(), r).reshape(n * c, 1, s + r - 1, s + r - 1), r)
    patches = patches.view(n, c, r * r, s, s)
    k = r * r
    for ch, y, x in [(0, 0, 0), (1, 4, 4), (0, 8, 3), (1, 2, 8)]:
        design = torch.cat([patches[:, ch, :, y, x], torch.ones(n, 1, dtype=torch.float64)], dim=1)
        a = torch.cat([design, lam**0.5 * torch.eye(k + 1, dtype=torch.float64)])
        b = torch.cat([dst[:, ch, y, x].double(), torch.zeros(k + 1, dtype=torch.float64)])
        expected = torch.linalg.lstsq(a, b[:, None]).solution[:, 0]
        got = torch.cat([layer.weight[ch, y, x], layer.bias[ch, y, x, None]]).double()
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_fit_recovers_a_local_linear_map() -> None:
    """dst = blur(src) + offset is exactly linear in 3x3 patches: the fit must reproduce it."""
    src = smooth_images(40, 3, 16, seed=1) + 0.1 * torch.randn(
        40, 3, 16, 16, generator=torch.Generator().manual_seed(2)
    )
    kernel = torch.tensor([[0.0, 0.2, 0.0], [0.1, 0.4, 0.1], [0.0, 0.2, 0.0]])
    padded = pad_for_patches(src, 3)
    dst = F.conv2d(padded, kernel.expand(3, 1, 3, 3), groups=3) + 0.25
    layer = trainer.fit_expression_layer(src, dst, r=3, lam=1e-6)
    torch.testing.assert_close(layer(src), dst, atol=2e-4, rtol=0)


def test_expression_layer_receptive_field() -> None:
    g = torch.Generator().manual_seed(0)
    r, s = 5, 12
    layer = ExpressionLayer.from_tensors(
        torch.randn(3, s, s, r * r, generator=g), torch.randn(3, s, s, generator=g)
    )
    x = torch.rand(1, 3, s, s, generator=g)
    base = layer(x)
    for ch, y, xx in [(1, 6, 5), (0, 0, 0), (2, 11, 3)]:
        poked = x.clone()
        poked[0, ch, y, xx] += 1.0
        changed = (layer(poked) - base).abs() > 1e-6
        rows, cols = torch.meshgrid(torch.arange(s), torch.arange(s), indexing="ij")
        near = ((rows - y).abs() <= r // 2) & ((cols - xx).abs() <= r // 2)
        assert not changed[0, [c for c in range(3) if c != ch]].any(), (
            "channels are regressed independently"
        )
        assert not (changed[0, ch] & ~near).any(), "an output outside the r x r window changed"
        assert changed[0, ch, y, xx]
    assert base.shape == x.shape


def test_augment_colours_keeps_geometry_and_pairs_consistent() -> None:
    src = 0.5 * smooth_images(4, 3, 16, seed=3)  # mid-range values: nothing is clamped
    dst = src.clone()
    dst[:, :, 4:8] = -dst[:, :, 4:8]  # a different "expression" on some rows
    out_src, out_dst = trainer.augment_colours(
        src, dst, copies=3, generator=torch.Generator().manual_seed(0)
    )
    assert out_src.shape == out_dst.shape == (16, 3, 16, 16)
    torch.testing.assert_close(out_src[:4], src)
    torch.testing.assert_close(out_dst[:4], dst)
    # Same colour map on both images of a pair: rows that were equal stay equal.
    torch.testing.assert_close(out_src[4:, :, 8:], out_dst[4:, :, 8:])
    # A global affine colour map per copy: each output pixel's colour is A @ input colour + b,
    # so nothing moves and the map fitted on the neutral image also explains the target image.
    for i in range(4, 16):
        design = torch.cat(
            [torch.cat([src[i % 4], dst[i % 4]], -1).flatten(1).T, torch.ones(512, 1)], 1
        )
        colours = torch.cat([out_src[i], out_dst[i]], -1).flatten(1).T
        affine = torch.linalg.lstsq(design.double(), colours.double()).solution
        torch.testing.assert_close((design.double() @ affine).float(), colours, atol=1e-5, rtol=0)
    assert not torch.allclose(out_src[4:8], src, atol=1e-3)  # the colours did change


# ----------------------------------------------------------------------------------------------
# Refiner, discriminators, losses
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resample", "cin", "cout", "size_out"),
    [("down", 8, 16, 8), ("none", 16, 16, 16), ("up", 16, 8, 32)],
)
def test_attention_block_shapes(resample: str, cin: int, cout: int, size_out: int) -> None:
    block = AttentionBlock(
        cin, cout, resample, attention_channels=4, hourglass_depth=2, norm="instance"
    )
    assert block(torch.randn(2, cin, 16, 16)).shape == (2, cout, size_out, size_out)


def test_refiner_shapes_and_range() -> None:
    model = tiny_model()
    y = model.refiner(torch.rand(2, 3, 32, 32) * 2 - 1)
    assert y.shape == (2, 3, 32, 32) and y.abs().max() <= 1
    assert len(model.refiner.encoder) == 3 and len(model.refiner.decoder) == 3
    assert len(build_reggan({**TINY, "image_size": 64, "n_latent": 10}).refiner.latent) == 10


def test_discriminator_pyramid_shapes() -> None:
    disc = MultiScaleDiscriminator(3, 3, channels=8, n_layers=3, max_channels=32)
    outputs = disc(torch.randn(2, 3, 128, 128))
    assert len(outputs) == 3
    for k, features in enumerate(outputs):
        assert len(features) == 5
        side = 128 // 2**k // 8
        assert features[-1].shape == (2, 1, side, side)
        assert [f.shape[1] for f in features] == [8, 16, 32, 32, 1]


def test_hinge_losses_on_known_scores() -> None:
    real = [torch.tensor([2.0, 0.5]), torch.tensor([-1.0])]
    fake = [torch.tensor([-3.0, 0.0]), torch.tensor([1.0])]
    # scale 1: real relu(1-2)=0, relu(1-0.5)=0.5 -> mean 0.25; fake relu(1-3)=0, relu(1)=1 -> 0.5
    # scale 2: real relu(2)=2; fake relu(2)=2
    assert hinge_discriminator_loss(real, fake).item() == pytest.approx(0.25 + 0.5 + 2 + 2)
    assert hinge_generator_loss(fake).item() == pytest.approx(-(-1.5 + 1.0))


def test_feature_matching_loss_value() -> None:
    # two discriminators; each list ends with the score map, which is not matched
    fake = [[torch.zeros(1, 2, 2, 2), torch.zeros(1, 1, 2, 2), torch.ones(1, 1, 1, 1)],
            [torch.zeros(1, 2, 2, 2), torch.zeros(1, 1, 1, 1)]]
    real = [[torch.full((1, 2, 2, 2), 0.5), torch.full((1, 1, 2, 2), 1.5), torch.full((1, 1, 1, 1), 9.0)],
            [torch.full((1, 2, 2, 2), 3.0), torch.full((1, 1, 1, 1), 9.0)]]
    # mean over layers per discriminator: (0.5 + 1.5) / 2 = 1 and 3; mean over discriminators: 2
    assert feature_matching_loss(fake, real).item() == pytest.approx(2.0)


def test_perceptual_loss_disabled_without_weights(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="faceedit"):
        assert build_perceptual_loss(None) is None
    assert any("perceptual loss disabled" in rec.getMessage() for rec in caplog.records)


def test_vgg19_loads_torchvision_layout(tmp_path) -> None:
    conv_indices = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28]  # up to relu5_1
    assert sorted({int(k.split(".")[1]) for k in VGG19Features().state_dict()}) == conv_indices
    torch.manual_seed(0)
    weights = {
        f"features.{k}": v
        for k, v in VGG19Features(["relu1_1", "relu2_1"]).features.state_dict().items()
    }
    weights["classifier.0.weight"] = torch.zeros(
        2, 2
    )  # other keys of a full state dict are ignored
    path = tmp_path / "vgg.safetensors"
    safetensors.torch.save_file(weights, path)
    loss = PerceptualLoss(load_vgg19_features(path, ["relu1_1", "relu2_1"]))
    x = torch.rand(1, 1, 16, 16) * 2 - 1
    assert loss(x, x).item() == 0
    assert loss(x, -x).item() > 0
    with pytest.raises(CheckpointError):
        load_vgg19_features(path)  # relu5_1 needs layers the file does not have
    with pytest.raises(CheckpointError):
        build_perceptual_loss(tmp_path / "missing.safetensors")


# ----------------------------------------------------------------------------------------------
# The edit model
# ----------------------------------------------------------------------------------------------


def test_edit_stages_shapes_and_range() -> None:
    model = tiny_model().eval()
    src, dst = smooth_images(6, 3, 32, seed=4), smooth_images(6, 3, 32, seed=5)
    model.set_expression_layer("happy", trainer.fit_expression_layer(src, dst, r=5))
    x = src[:2]
    expression = model.edit(x, "happy", phase="expression")
    refined = model.edit(x, "happy")
    for y in (expression, refined):
        assert y.shape == x.shape and y.abs().max() <= 1
    torch.testing.assert_close(expression, model.expression_output(x, "happy"))
    torch.testing.assert_close(model.edit(x, "happy", strength=0.0), x)
    with pytest.raises(UsageError, match="input expression"):  # neutral -> neutral is no edit
        model.edit(x, "neutral")
    assert model.targets() == ["happy"]
    with pytest.raises(UsageError):
        model.edit(x, "sad")
    with pytest.raises(UsageError):
        model.edit(x, "happy", phase="bogus")
    with pytest.raises(UsageError):
        model.edit(x[:, :1], "happy")
    with torch.autocast("cpu", dtype=torch.bfloat16):  # as the pipeline runs it on GPUs
        assert model.edit(x, "happy").dtype == x.dtype


def test_greyscale_model_and_config_round_trip(tmp_path) -> None:
    model = tiny_model(channels=1, targets=["happy", "sad"])
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    assert model.edit(x, "sad").shape == (2, 1, 32, 32)
    path = tmp_path / "m.safetensors"
    safetensors.torch.save_file(model.state_dict(), path)
    rebuilt = build_reggan(model.config)
    rebuilt.load_state_dict(safetensors.torch.load_file(path))
    torch.testing.assert_close(rebuilt.edit(x, "sad"), model.edit(x, "sad"))
    with pytest.raises(ValueError):
        build_reggan({"bogus": 1})
    with pytest.raises(ValueError, match="image_size 36"):
        build_reggan({"image_size": 36})


# ----------------------------------------------------------------------------------------------
# The trainer on the shared loop (stage 1 when a run starts, stage 2 as the loop's steps)
# ----------------------------------------------------------------------------------------------

# a tiny RegGAN and its trainer's settings (--set keys)
TINY_RUN = {**{k: v for k, v in TINY.items() if k != "targets"}, **{f"d_{k}": v for k, v in TINY_DISC.items()},
            "augment_copies": 1, "lambda_reg": 1.0, "lr": 1e-3}


@pytest.fixture
def paired(tmp_path):
    from _datasets import make_dataset

    from faceedit.data import open_dataset

    return [open_dataset(make_dataset(tmp_path / "ds", subjects=6, paired=True, size=32))]


def _loop(**kw):
    from faceedit.train.loop import LoopConfig

    return LoopConfig(**{"steps": 4, "batch_size": 2, "ckpt_every": 100, "sample_every": 0, "log_every": 1,
                         "progress": False, "stage": None, **kw})


def _train_pixel_loss(trainer_obj) -> float:
    """L1 of G_R(G_E(source)) to the real target over the run's training pairs."""
    train = trainer_obj.data.train
    with torch.no_grad():
        x_e = trainer_obj.expression_outputs(train.images, train.labels["expression"])
        return F.l1_loss(trainer_obj.net("G").eval()(x_e), train.fields["target"]).item()


@pytest.mark.slow
def test_trainer_fits_stage_1_then_lowers_the_pixel_loss(tmp_path, paired, caplog) -> None:
    from faceedit.train.loop import run

    with caplog.at_level(logging.WARNING, logger="faceedit"):
        start = run(trainer.RegGANTrainer, paired, tmp_path / "a", _loop(steps=0), TINY_RUN)
    assert any("perceptual loss disabled" in rec.getMessage() for rec in caplog.records)
    model = start.trainer.model
    assert model.targets() == ["happy"] and model.expression["happy"].weight.abs().sum() > 0  # stage 1 ran
    res = run(trainer.RegGANTrainer, paired, tmp_path / "b", _loop(steps=15), TINY_RUN)
    assert res.step == 15 and res.stop_reason == "steps"
    assert _train_pixel_loss(res.trainer) < 0.75 * _train_pixel_loss(start.trainer)
    records = [json.loads(line) for line in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, 16))
    assert {"pix", "adv", "fm", "loss_g", "loss_d"} <= set(records[0]) and "per" not in records[0]
    assert (tmp_path / "b" / "samples" / "step-0000015.png").is_file()


@pytest.mark.slow
def test_trainer_resume_matches_uninterrupted_run_without_refitting_stage_1(tmp_path, paired, monkeypatch) -> None:
    from faceedit.models.resume_state import load_resume_state
    from faceedit.train.loop import run

    run(trainer.RegGANTrainer, paired, tmp_path / "a", _loop(steps=6, seed=3), TINY_RUN)
    run(trainer.RegGANTrainer, paired, tmp_path / "b", _loop(steps=3, seed=3), TINY_RUN)

    def refit(*a, **k):
        raise AssertionError("stage 1 refitted on resume")

    monkeypatch.setattr(trainer, "fit_change_layer", refit)  # the layers come from the state
    res = run(trainer.RegGANTrainer, paired, tmp_path / "b", _loop(steps=6, seed=3, resume=True), TINY_RUN)
    assert res.step == 6
    a, b = (load_resume_state(tmp_path / r / "state.safetensors") for r in ("a", "b"))
    assert a.step == b.step == 6 and set(a.model_state) == {"G", "D", "E"}
    for net in a.model_state:
        for name, value in a.model_state[net].items():
            torch.testing.assert_close(b.model_state[net][name], value, rtol=0, atol=0, msg=f"{net}.{name}")
    logs = [[json.loads(line) for line in (tmp_path / r / "log.jsonl").read_text().splitlines()] for r in "ab"]
    assert [r["step"] for r in logs[1]] == [1, 2, 3, 4, 5, 6]
    assert [r["loss_g"] for r in logs[0]] == [r["loss_g"] for r in logs[1]]


def test_trainer_budget_stops(tmp_path, paired) -> None:
    from faceedit.train.loop import run

    res = run(trainer.RegGANTrainer, paired, tmp_path, _loop(steps=1000, budget_minutes=0.0), TINY_RUN)
    assert res.stop_reason == "budget" and res.step == 0


def test_trainer_refuses_an_unknown_setting(tmp_path, paired) -> None:
    from faceedit.models.base import ConfigError
    from faceedit.train.loop import run

    with pytest.raises(ConfigError, match="unknown RegGAN config key 'lamda_reg'"):
        run(trainer.RegGANTrainer, paired, tmp_path, _loop(), {**TINY_RUN, "lamda_reg": 1.0})


def test_residual_refiner_starts_as_identity_and_learns():
    model = build_reggan({"targets": ["happy"], "image_size": 32, "base_channels": 8, "max_channels": 8,
                          "attention_channels": 8, "n_latent": 1, "hourglass_depth": 1,
                          "residual": True})
    x = torch.rand(2, 3, 32, 32) * 1.6 - 0.8
    torch.testing.assert_close(model.refiner(x), x)
    opt = torch.optim.Adam(model.refiner.parameters(), 1e-2)
    for _ in range(3):
        loss = (model.refiner(x) - (x + 0.1)).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert (model.refiner(x) - x).abs().mean() > 1e-3  # it moved away from the identity


def test_luminance_layer_changes_luma_only():
    model = build_reggan({"targets": ["sad"], "luma_targets": ["sad"], "image_size": 32,
                          "base_channels": 8, "max_channels": 8, "attention_channels": 8,
                          "n_latent": 1, "hourglass_depth": 1})
    layer = model.expression["sad"]
    assert layer.channels == 1 and model.config["luma_targets"] == ["sad"]
    with torch.no_grad():
        layer.weight.zero_()
        layer.weight[..., 12] = 0.8  # a darker, same-structure luma
    x = torch.rand(1, 3, 32, 32) * 1.2 - 0.6
    y = model.expression_output(x, "sad")
    luma = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    yl, xl = (y * luma).sum(1), (x * luma).sum(1)
    torch.testing.assert_close(yl, 0.8 * xl, atol=1e-5, rtol=0)
    # chroma (differences between channels) untouched
    torch.testing.assert_close(y[:, 0] - y[:, 1], x[:, 0] - x[:, 1], atol=1e-5, rtol=0)


def test_a_refiner_the_default_phase_never_runs_is_loaded_when_first_used(tmp_path) -> None:
    """Under ``default_phase="expression"`` the refiner is built and its weights loaded (strictly,
    in the model's dtype) the first time a phase or training asks for it; its weights go through
    ``state_dict`` either way."""
    model = tiny_model(default_phase="expression", residual=True).eval()
    torch.nn.init.normal_(model.refiner.head.conv.weight, std=0.5)  # an edit the refiner visibly changes
    path = tmp_path / "m.safetensors"
    model.save_pretrained(path, {"arch": "reggan", "conditions": model.targets()}, dtype=None)
    loaded = load_model(path).model
    assert isinstance(loaded, RegGAN) and "refiner" not in loaded._modules
    assert sorted(loaded.state_dict()) == sorted(model.state_dict())  # kept weights come in the file's order
    for k, v in loaded.state_dict().items():
        torch.testing.assert_close(v, model.state_dict()[k], rtol=0, atol=0)
    assert "refiner" not in loaded._modules
    x = smooth_images(2, 3, 32, seed=1)
    torch.testing.assert_close(loaded.edit(x, "happy"), model.edit(x, "happy", phase="expression"))
    assert "refiner" not in loaded._modules
    loaded.double()
    refined = loaded.edit(x.double(), "happy", phase="refined")
    assert "refiner" in loaded._modules and loaded.refiner.head.conv.weight.dtype == torch.float64
    torch.testing.assert_close(refined, model.double().edit(x.double(), "happy", phase="refined"), rtol=0, atol=0)
    assert not torch.allclose(refined, loaded.edit(x.double(), "happy"))
    # a file without the refiner's weights fails when the refiner is used, naming them
    tensors = {k: v for k, v in safetensors.torch.load_file(path).items() if not k.startswith("refiner.head")}
    torn = build_reggan(model.config)
    torn.load_state_dict(tensors)
    with pytest.raises(CheckpointError, match="refiner.*head"):
        torn.edit(x, "happy", phase="refined")
    with pytest.raises(RuntimeError, match=r"refiner\.\*"):
        build_reggan(model.config).load_state_dict({k: v for k, v in tensors.items() if "refiner" not in k})
