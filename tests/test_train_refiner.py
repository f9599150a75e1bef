"""Training a region refiner (:mod:`faceedit.train.refiner`): what its critics see (exposure and
grey are no cue), how real crops are drawn, and a short run that writes a loadable refiner with
the RGB residual."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from faceedit.models.refine import RefinerConfig, load_refiner
from faceedit.train.refiner import _draw_weights, relative_chroma, relative_luma, train


def test_the_luma_critic_does_not_see_exposure_and_the_chroma_critic_not_grey():
    """Relative luma is the same for a crop and the crop at half the light; relative chroma of a
    grey crop is zero everywhere, and of a crop with a red patch is not."""
    torch.manual_seed(0)
    u = torch.rand(2, 3, 32, 32) * 0.8 + 0.1  # light 0..1
    to_signed = lambda v: v * 2 - 1  # noqa: E731
    torch.testing.assert_close(relative_luma(to_signed(u)), relative_luma(to_signed(u * 0.5)), atol=1e-4, rtol=0)
    grey = u[:, :1].repeat(1, 3, 1, 1)
    assert relative_chroma(to_signed(grey)).abs().max() < 1e-5
    red = grey.clone()
    red[:, 0, 10:20, 10:20] = 0.9
    red[:, 1:, 10:20, 10:20] = 0.2
    assert relative_chroma(to_signed(red)).abs().max() > 0.1


def test_real_crops_are_drawn_by_their_sources_share():
    """Each source gets its share of the draws whatever its number of crops; a source with no
    share is never drawn."""
    groups = ["grid"] * 10 + ["jaffe"] * 2 + ["yale"] * 5 + ["london_hd"] * 3
    w = np.array(_draw_weights(groups, {"grid": 0.5, "jaffe": 0.3, "yale": 0.2}, np.full(20, 0.6)))
    by = {g: w[[i for i, x in enumerate(groups) if x == g]].sum() for g in set(groups)}
    assert np.isclose(by["grid"], 0.5) and np.isclose(by["jaffe"], 0.3) and np.isclose(by["yale"], 0.2)
    assert by["london_hd"] == 0


def test_a_short_run_writes_a_refiner_with_the_residual(tmp_path):
    """A few steps on synthetic crops write a safetensors refiner of the method with 4 outputs
    (gain and RGB residual), which loads and changes nothing outside the mask (to float rounding in crop space; the photo's
    pixels there are not written at all: tests/test_refine.py)."""
    rng = np.random.default_rng(0)
    n, s = 12, 32
    crops = tmp_path / "crops.npz"
    np.savez_compressed(
        crops, reals=rng.integers(0, 256, (n, s, s, 3), dtype=np.uint8),
        real_sources=np.array([f"{g}/{i}" for i, g in enumerate(["grid", "london_hd", "jaffe", "yale"] * 3)]),
        real_dark=rng.random(n).astype(np.float32),
        fakes=rng.integers(0, 256, (n, s, s, 3), dtype=np.uint8),
        masks=np.pad(np.ones((n, 12, 16), np.float16), ((0, 0), (10, 10), (8, 8))),
        fake_sources=np.array(["jaffe/a" if i % 3 == 0 else "neutral/b" for i in range(n)]),
        config=np.array(json.dumps(RefinerConfig(crop=s).to_dict())))
    gen = {"base": 8, "max_channels": 16, "n_down": 2, "n_res": 1}
    path = train(crops, tmp_path / "run", "secgan", 0.02, batch=2, warmup=10, generator=gen, save_every=1000)
    r = load_refiner(path)
    assert r.cfg.method == "secgan" and r.cfg.residual == 24.0
    x = torch.rand(1, 3, s, s) * 2 - 1
    m = torch.zeros(1, 1, s, s)
    m[..., 10:22, 8:24] = 1
    assert r(x, m).shape == (1, 4, s, s)
    out = r.composite(x, m)
    torch.testing.assert_close(out[m.expand_as(x) == 0], x[m.expand_as(x) == 0], atol=1e-6, rtol=0)
    assert (tmp_path / "run" / "log.jsonl").read_text().strip()


def test_the_native_critic_sees_texture_not_exposure_colour_or_shape():
    """:func:`faceedit.train.refiner_native.texture` is the same for a crop at half the light and
    for its grey; a smooth ramp has almost none, the ramp with grain has it."""
    from faceedit.train.refiner_native import texture

    torch.manual_seed(0)
    u = torch.rand(2, 3, 40, 40) * 0.6 + 0.3
    to_signed = lambda v: v * 2 - 1  # noqa: E731
    ramp = torch.linspace(0.2, 0.8, 40).view(1, 1, 1, 40).expand(1, 3, 40, 40)
    assert texture(to_signed(ramp), 2.5)[..., 8:-8, 8:-8].abs().max() < 0.01
    grainy = ramp * (1 + 0.1 * torch.randn(1, 1, 40, 40))
    assert texture(to_signed(grainy), 2.5)[..., 8:-8, 8:-8].std() > 0.05
    grey = (u * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True).repeat(1, 3, 1, 1)
    torch.testing.assert_close(texture(to_signed(u), 2.5), texture(to_signed(grey), 2.5), atol=1e-4, rtol=0)
    lit = texture(to_signed(u), 2.5)
    dim = texture(to_signed(u * 0.5), 2.5)  # log2(y/2 + floor) differs from log2(y + floor) - 1 by the floor only
    assert (lit - dim).abs().mean() < 0.05


def test_the_masked_critic_sees_nothing_outside_the_mask():
    """:func:`faceedit.train.refiner_native.critic_view` with ``masked``: two patches that differ
    only outside the mask read the same; inside it, the texture."""
    from faceedit.train.refiner_native import critic_view, texture

    torch.manual_seed(0)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    m = torch.zeros(2, 1, 32, 32)
    m[..., 8:24, 8:24] = 1.0
    y = x.clone()
    y[..., :4, :] = -1.0  # what lies around the region: a dark lash line, an eye
    a, b = critic_view(x, m, 1.0, "masked"), critic_view(y, m, 1.0, "masked")
    assert torch.equal(a[..., m[0, 0] == 0], torch.zeros_like(a[..., m[0, 0] == 0]))
    assert torch.allclose(a[..., 12:20, 12:20], b[..., 12:20, 12:20])
    assert torch.allclose(a[..., 12:20, 12:20], texture(x, 1.0)[..., 12:20, 12:20])
    assert not torch.allclose(critic_view(x, m, 1.0, "texture"), critic_view(y, m, 1.0, "texture"))


@pytest.mark.parametrize("critic", ["texture", "context", "masked"])
def test_a_short_native_run_writes_a_native_refiner(tmp_path, critic):
    """A few steps on synthetic crops at the photo's pixels write a native refiner (one output, a
    high-passed gain) and its kept snapshots, that load, run on any size and change nothing outside the mask; with
    either critic (the texture alone, or the texture given its place in the mouth)."""
    from faceedit.train.refiner_native import train as train_native

    rng = np.random.default_rng(0)
    n, s = 6, 96
    crops = tmp_path / "crops.npz"
    masks = np.pad(np.ones((n, 40, 48), np.float16), ((0, 0), (28, 28), (24, 24)))
    np.savez_compressed(
        crops, reals=rng.integers(0, 256, (n, s, s, 3), dtype=np.uint8), real_masks=masks.astype(np.uint8),
        real_sources=np.array([f"london_hd/smiling/{i}" for i in range(n)]),
        fakes=rng.integers(0, 256, (n, s, s, 3), dtype=np.uint8), masks=masks,
        fake_sources=np.array([f"neutral/{i}.jpg:surprised" for i in range(n)]),
        config=np.array(json.dumps(RefinerConfig(native=True).to_dict())))
    gen = {"base": 8, "max_channels": 16, "n_down": 2, "n_res": 1}
    path = train_native(crops, tmp_path / "run", "secgan", 0.02, patch=32, batch=2, warmup=5, generator=gen,
                        critic=critic, calm=0.1, peak=1.0, snapshots=1)
    r = load_refiner(path)
    assert r.cfg.method == "secgan" and r.cfg.native and r.cfg.residual == 0 and r.cfg.highpass > 0
    x = torch.rand(1, 3, 45, 70) * 2 - 1
    m = torch.zeros(1, 1, 45, 70)
    m[..., 10:30, 8:50] = 1
    assert r(x, m).shape == (1, 1, 45, 70)
    out = r.composite(x, m)
    torch.testing.assert_close(out[m.expand_as(x) == 0], x[m.expand_as(x) == 0], atol=1e-6, rtol=0)
    assert (tmp_path / "run" / "log.jsonl").read_text().strip()
    snaps = sorted((tmp_path / "run").glob("step_*.safetensors"))  # a copy kept every step
    assert snaps and snaps[0].name == "step_000001.safetensors"
    assert load_refiner(snaps[0]).cfg.method == "secgan"


def test_the_context_critic_reads_the_texture_and_its_place():
    """:func:`faceedit.train.refiner_native.critic_input` with ``context``: channel 0 is 4x the
    texture; the others are the blurred log light, so a dark and a lit patch of the same grain
    differ there and not in the texture (up to the log's floor)."""
    from faceedit.train.refiner_native import CONTEXT_SIGMAS, critic_input, texture

    torch.manual_seed(0)
    grain = 1 + 0.1 * torch.randn(1, 1, 48, 48)
    lit, dark = (torch.full((1, 3, 48, 48), v) * grain * 2 - 1 for v in (0.7, 0.35))
    a, b = critic_input(lit, 2.5, "context"), critic_input(dark, 2.5, "context")
    assert a.shape == (1, 1 + len(CONTEXT_SIGMAS), 48, 48)
    torch.testing.assert_close(a[:, :1], 4 * texture(lit, 2.5), atol=1e-5, rtol=0)
    assert (a[:, :1] - b[:, :1]).abs().mean() < 0.05 * a[:, :1].abs().mean() + 0.01
    assert (a[:, 1:] - b[:, 1:]).mean() > 0.2  # one stop darker: the place's light reads 0.25 lower
