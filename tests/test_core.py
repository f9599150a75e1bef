"""The helpers written once: pixel ranges and luma (faceedit.pixels), atomic
writes and model cards (faceedit.files), on/off words (faceedit.conditions), the autocast dtype
(faceedit.device), iBUG-68 groups (faceedit.faces.landmarks), and the metrics that now come from
torchmetrics, checked against the implementations they replaced."""

from __future__ import annotations

import math
import os
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from faceedit import pixels as px
from faceedit.errors import OutputError, UsageError

# --------------------------------------------------------------------------------------------
# pixel ranges


def test_uint8_uint16_round_trip():
    v8 = np.arange(256, dtype=np.uint8)
    v16 = px.to_uint16(v8)
    assert v16.dtype == np.uint16 and v16.tolist() == [v * 257 for v in range(256)]
    assert np.array_equal(px.to_uint8(v16), v8)
    assert px.to_uint8(v8) is v8 and px.to_uint16(v16) is v16
    every = np.arange(65536, dtype=np.uint16)
    assert np.array_equal(px.to_uint8(every), np.floor(every / 257 + 0.5).astype(np.uint8))  # round(v / 257)
    with pytest.raises(TypeError):
        px.to_uint8(np.zeros(3, np.float32))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_unit_round_trip(dtype):
    levels = np.arange(int(px.pixel_max(dtype)) + 1).astype(dtype)
    unit = px.to_unit(levels)
    assert unit.dtype == np.float32 and unit[0] == 0 and unit[-1] == 1
    back = px.from_unit(unit, dtype)
    assert back.dtype == dtype and np.array_equal(back, levels)
    assert px.from_unit(np.array([-0.5, 1.5], np.float32), dtype).tolist() == [0, px.pixel_max(dtype)]
    with pytest.raises(TypeError):
        px.pixel_max(np.float32)


def test_signed_round_trip():
    levels = torch.arange(256, dtype=torch.uint8)
    x = px.levels_to_signed(levels)
    assert x.dtype == torch.float32 and x[0] == -1 and x[-1] == 1
    assert torch.equal(px.signed_to_uint8(x), levels)
    assert torch.equal(px.levels_to_signed(levels.numpy()), x)  # numpy in, same values
    assert px.signed_to_uint8(torch.tensor([-3.0, 3.0, 0.0])).tolist() == [0, 255, 128]
    assert px.signed_to_levels(torch.tensor([-2.0, 0.0, 2.0])).tolist() == [0.0, 127.5, 255.0]
    torch.testing.assert_close(px.unit_to_signed(px.signed_to_unit(x)), x)
    # the exact arithmetic every former copy used: levels / 127.5 - 1
    assert torch.equal(x, levels.float().div(127.5).sub(1.0))


def test_levels_to_signed_never_changes_its_input():
    f = torch.full((2, 2), 255.0)
    px.levels_to_signed(f)
    assert (f == 255).all()
    a = np.full((2, 2), 255.0, np.float32)
    px.levels_to_signed(a)
    assert (a == 255).all()
    frozen = np.zeros((2, 2), np.uint8)
    frozen.flags.writeable = False  # as np.asarray(PIL image) returns
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (px.levels_to_signed(frozen) == -1).all()


# --------------------------------------------------------------------------------------------
# luma


def test_luma_known_values():
    rgb = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 0, 0], [10, 20, 30]], np.uint8)
    np.testing.assert_allclose(px.luma(rgb.astype(np.float32)),
                               [76.245, 149.685, 29.07, 255.0, 0.0, 0.299 * 10 + 0.587 * 20 + 0.114 * 30], rtol=1e-6)
    assert px.luma_levels(rgb).tolist() == [76, 150, 29, 255, 0, 18]
    deep = px.to_uint16(rgb)
    assert px.luma_levels(deep).dtype == np.uint16 and px.luma_levels(deep)[3] == 65535


def test_luma_of_a_grey_and_an_rgba_image():
    grey = np.array([[0, 128], [255, 7]], np.uint8)
    out = px.luma_of(grey)
    assert out.dtype == np.float32 and out.tolist() == [[0.0, 128.0], [255.0, 7.0]]
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 1], rgba[..., 3] = 100, 255  # the alpha channel is not light
    np.testing.assert_allclose(px.luma_of(rgba), 58.7, rtol=1e-6)


def test_luma_levels_as_pillow_l():
    from PIL import Image

    rgb = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    pil = np.asarray(Image.fromarray(rgb).convert("L")).astype(int)
    assert np.abs(px.luma_levels(rgb).astype(int) - pil).max() <= 1


def test_luma_tensor_matches_luma():
    x = torch.rand(2, 3, 8, 8) * 2 - 1
    y = px.luma_tensor(x)
    assert y.shape == (2, 1, 8, 8) and y.dtype == x.dtype
    np.testing.assert_allclose(y[:, 0].numpy(), px.luma(x.permute(0, 2, 3, 1).numpy()), atol=1e-6)
    assert px.luma_tensor(x.half()).dtype == torch.float16


def test_ycc_round_trip_and_grey_has_no_chroma():
    x = np.random.default_rng(1).random((5, 3)).astype(np.float32)
    np.testing.assert_allclose(px.ycc_to_rgb(px.rgb_to_ycc(x)), x, atol=1e-5)
    grey = np.full((1, 3), 0.4, np.float32)
    np.testing.assert_allclose(px.rgb_to_ycc(grey), [[0.4, 0.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(px.rgb_to_ycc(x)[:, 0], px.luma(x), atol=1e-6)


# --------------------------------------------------------------------------------------------
# atomic writes


def _listing(folder):
    return sorted(os.listdir(folder))


def test_write_file_atomically_leaves_no_temp(tmp_path):
    from faceedit.files import write_file_atomically

    path = tmp_path / "sub" / "a.json"
    write_file_atomically(path, '{"x": "\u00e9"}')
    write_file_atomically(path, b"{}")
    assert path.read_bytes() == b"{}" and _listing(path.parent) == ["a.json"]


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_atomic_writes_get_the_umasks_mode(tmp_path):
    """Every atomically written file gets 0o666 less the umask, also when the writer given the
    temporary name replaces it with a file of its own (safetensors 0.8 writes 0600 files): a
    checkpoint is as readable as the other outputs."""
    import torch

    from faceedit.files import atomic_path, write_file_atomically
    from faceedit.models.checkpoint import save_checkpoint

    def private_writer(temp):  # what safetensors' save_file does: its own 0600 file, renamed
        other = temp + ".own"
        fd = os.open(other, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, b"data")
        os.close(fd)
        os.replace(other, temp)

    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "a.bin") as temp:
            private_writer(temp)
        write_file_atomically(tmp_path / "b.json", "{}")
        save_checkpoint(str(tmp_path / "c.safetensors"), {"w": torch.zeros(2)},
                        {"arch": "x", "config": {}, "image_size": 8, "channels": 3,
                         "template": {"size": 8, "eye_dist": 0.3, "eye_y": 0.42}})
        os.umask(0o077)
        write_file_atomically(tmp_path / "d.json", "{}")
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert modes == {"a.bin": 0o644, "b.json": 0o644, "c.safetensors": 0o644, "d.json": 0o600}


def test_atomic_file_writer_raising_leaves_the_old_file(tmp_path):
    from faceedit.files import atomic_file

    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with pytest.raises(ValueError, match="half way"):
        with atomic_file(path) as f:
            f.write(b"new, partial")
            raise ValueError("half way")
    assert path.read_bytes() == b"old" and _listing(tmp_path) == ["out.bin"]
    with pytest.raises(OutputError, match="no space left"):  # an OSError is reported as OutputError
        with atomic_file(path) as f:
            f.write(b"new")
            raise OSError(28, "No space left on device")
    assert path.read_bytes() == b"old" and _listing(tmp_path) == ["out.bin"]
    with atomic_file(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new" and _listing(tmp_path) == ["out.bin"]


def test_atomic_file_sync_failure_removes_temp(tmp_path, monkeypatch):
    from faceedit.files import atomic_file

    def no_space(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OutputError, match="no space left on device"):
        with atomic_file(tmp_path / "x") as f:
            f.write(b"data")
    assert _listing(tmp_path) == []


def test_atomic_path_for_writers_that_take_a_name(tmp_path):
    from PIL import Image

    from faceedit.files import atomic_path

    path = tmp_path / "sheet.png"
    with atomic_path(path) as temp:
        assert os.path.dirname(temp) == str(tmp_path) and os.path.basename(temp).startswith(".sheet.png.")
        Image.new("L", (4, 4), 7).save(temp, format="PNG")
    assert Image.open(path).getpixel((0, 0)) == 7 and _listing(tmp_path) == ["sheet.png"]
    with pytest.raises(RuntimeError):
        with atomic_path(path) as temp:
            open(temp, "wb").write(b"partial")
            raise RuntimeError("encoder died")
    assert Image.open(path).getpixel((0, 0)) == 7 and _listing(tmp_path) == ["sheet.png"]


def test_model_card_through_huggingface_hub(tmp_path):
    from huggingface_hub import ModelCard

    from faceedit.files import write_model_card

    path = tmp_path / "net.md"
    text = "# net: a test network\n\nSome words.\n"
    write_model_card(path, text, license="other", library_name="faceedit", tags=["faceedit", "test"])
    card = ModelCard.load(path)
    assert card.data.license == "other" and card.data.library_name == "faceedit"
    assert card.data.tags == ["faceedit", "test"] and card.text == text
    assert _listing(tmp_path) == ["net.md"]


def test_analysis_card_is_a_model_card(tmp_path):
    from huggingface_hub import ModelCard

    from faceedit.analysis.store import write_card

    weights = tmp_path / "expression.safetensors"
    weights.write_bytes(b"0" * 100)
    card_path = write_card(weights, title="t", what="w", command="c", data=["london"], budget={}, metrics={"a": 1})
    card = ModelCard.load(card_path)
    assert card.data.library_name == "faceedit" and card.text.startswith("# expression: t")
    assert _listing(tmp_path) == ["expression.md", "expression.safetensors"]


# --------------------------------------------------------------------------------------------
# on/off words, autocast dtype, landmark groups


@pytest.mark.parametrize("word,value", [("on", True), ("Yes", True), (" TRUE ", True), ("1", True),
                                        ("off", False), ("no", False), ("False", False), ("0", False),
                                        ("maybe", None), ("", None), ("0.5", None)])
def test_parse_switch(word, value):
    from faceedit.conditions import parse_switch

    assert parse_switch(word) is value


def test_autocast_dtype_words():
    from faceedit.device import autocast_dtype

    cpu = torch.device("cpu")
    assert autocast_dtype(cpu, "auto") is None and autocast_dtype(cpu, "fp32") is None
    assert autocast_dtype(cpu, "off") is None  # training's --amp word
    assert autocast_dtype(cpu, "fp16") is torch.float16 and autocast_dtype(cpu, "bf16") is torch.bfloat16
    with pytest.raises(UsageError, match="unknown --amp 'fp8'"):
        autocast_dtype(cpu, "fp8", option="--amp")


def test_landmark_groups():
    from faceedit.faces import landmarks as L
    from faceedit.faces.types import five_from_68

    assert L.STABLE == list(range(27, 48)) and L.BROWS == list(range(17, 27))
    lm = np.random.default_rng(2).random((68, 2)) * 100
    assert L.eye_distance(lm) == float(np.linalg.norm(lm[42:48].mean(0) - lm[36:42].mean(0)))
    assert np.array_equal(L.eye_centres(lm), np.stack([lm[36:42].mean(0), lm[42:48].mean(0)]))
    assert np.array_equal(five_from_68(lm), np.stack([lm[36:42].mean(0), lm[42:48].mean(0), lm[30], lm[48], lm[54]]))


# --------------------------------------------------------------------------------------------
# metrics: torchmetrics against the implementations they replaced (verbatim copies)


def _old_ssim(x, y):
    g = torch.exp(-((torch.arange(11) - 5) ** 2) / (2 * 1.5**2))
    g = g / g.sum()
    c = x.shape[1]
    w = torch.outer(g, g).to(x).expand(c, 1, 11, 11)
    conv = lambda t: F.conv2d(t, w, groups=c)  # noqa: E731
    c1, c2 = (0.01 * 2) ** 2, (0.03 * 2) ** 2
    mx, my = conv(x), conv(y)
    sxx, syy, sxy = conv(x * x) - mx**2, conv(y * y) - my**2, conv(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
    return s.flatten(1).mean(1)


def _old_roc_auc(pos, neg):
    s = np.concatenate([pos, neg])
    _, inv, counts = np.unique(s, return_inverse=True, return_counts=True)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    ranks = (first + (counts + 1) / 2.0)[inv]
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def _old_spearman(a, b):
    def ranks(v):
        v = v.double()
        r = torch.empty_like(v)
        r[torch.argsort(v)] = torch.arange(len(v), dtype=torch.float64)
        uniq, inv = torch.unique(v, return_inverse=True)
        sums = torch.zeros(len(uniq), dtype=torch.float64).index_add_(0, inv, r)
        counts = torch.zeros(len(uniq), dtype=torch.float64).index_add_(0, inv, torch.ones_like(r))
        return (sums / counts)[inv]

    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float((ra * rb).sum() / (ra.norm() * rb.norm()).clamp_min(1e-12))


def _old_fid(a, b):
    from scipy import linalg

    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2)
    covmean = covmean[0] if isinstance(covmean, tuple) else covmean  # (root, error) before SciPy 1.18
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean.real))


def _images(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = F.avg_pool2d(torch.rand(4, 3, 72, 72, generator=g) * 2 - 1, 3, 1, 1)  # some structure
    y = (x + 0.25 * torch.randn(x.shape, generator=g)).clamp(-1, 1)
    return x, y


def test_ssim_parity():
    from faceedit.eval.metrics import ssim

    x, y = _images()
    torch.testing.assert_close(ssim(x, y), _old_ssim(x, y), atol=2e-6, rtol=0)
    torch.testing.assert_close(ssim(x[:, :1], y[:, :1]), _old_ssim(x[:, :1], y[:, :1]), atol=2e-6, rtol=0)
    torch.testing.assert_close(ssim(x, x), torch.ones(4), atol=2e-6, rtol=0)


@pytest.mark.shared_data
def test_ssim_parity_on_london_crops(shared_data):
    from PIL import Image

    from faceedit.eval.metrics import ssim

    def crop(p):
        with Image.open(p) as im:
            w, h = im.size
            s = 0.55 * min(w, h)
            im = im.convert("RGB").crop((w / 2 - s / 2, 0.42 * h - s / 2, w / 2 + s / 2, 0.42 * h + s / 2))
            return px.levels_to_signed(np.asarray(im.resize((128, 128)))).permute(2, 0, 1)

    root = shared_data / "london"
    names = sorted(set(os.listdir(root / "neutral")) & set(os.listdir(root / "smiling")))[:4]
    if not names:
        pytest.skip("no London pairs")
    x = torch.stack([crop(root / "neutral" / n) for n in names])
    y = torch.stack([crop(root / "smiling" / n) for n in names])
    torch.testing.assert_close(ssim(x, y), _old_ssim(x, y), atol=2e-6, rtol=0)


def test_ms_ssim_one_scale_is_ssim():
    from faceedit.eval.metrics import ms_ssim, ssim

    x, y = _images(1)
    torch.testing.assert_close(ms_ssim(x, y, scales=1), ssim(x, y), atol=2e-6, rtol=0)


def test_roc_auc_parity():
    from faceedit.analysis.identity import roc_auc

    rng = np.random.default_rng(0)
    cases = [(rng.normal(0.6, 0.2, 500).astype(np.float32), rng.normal(0.2, 0.2, 400).astype(np.float32)),
             (np.round(rng.normal(0.6, 0.2, 300), 2), np.round(rng.normal(0.45, 0.2, 200), 2)),  # ties
             (np.array([0.9, 0.8, 0.7]), np.array([0.1, 0.2, 0.75]))]
    for pos, neg in cases:
        assert roc_auc(pos, neg) == pytest.approx(_old_roc_auc(pos, neg), abs=1e-6)


def test_pearson_and_spearman_parity():
    from faceedit.analysis.quality import _spearman
    from faceedit.eval.evaluate import pearson

    rng = np.random.default_rng(3)
    a = rng.normal(size=300)
    b = 0.6 * a + rng.normal(size=300)
    assert pearson(a, b) == pytest.approx(float(np.corrcoef(a, b)[0, 1]), abs=1e-9)
    assert math.isnan(pearson(a[:1], b[:1])) and math.isnan(pearson(np.ones(5), b[:5]))
    ta, tb = torch.from_numpy(a).float(), torch.round(torch.from_numpy(b).float() * 2) / 2  # ties in b
    assert _spearman(ta, tb) == pytest.approx(_old_spearman(ta, tb), abs=2e-6)


def test_fid_and_kid_on_features():
    from faceedit.eval.evaluate import frechet_distance, kernel_inception_distance

    rng = np.random.default_rng(4)
    a = rng.normal(size=(200, 16))
    b = rng.normal(size=(120, 16)) * 1.2 + 0.1
    assert frechet_distance(a, b) == pytest.approx(_old_fid(a, b), rel=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    # KID stays ours (unequal set sizes); for equal sizes it is torchmetrics' estimate exactly
    from torchmetrics.image.kid import poly_mmd

    b = b[:100]
    a = a[:100]
    assert kernel_inception_distance(a, b) == pytest.approx(float(poly_mmd(torch.from_numpy(a), torch.from_numpy(b))),
                                                            rel=1e-9)


def test_kid_fid_uses_local_inception_weights_only(tmp_path, monkeypatch):
    """kid_fid: no torch-fidelity weights in the hub cache -> unavailable (nothing downloaded);
    with them, torch-fidelity's extractor gets the local file and FID/KID come out of its features."""
    import sys
    import types

    from faceedit.eval import evaluate as ev

    seen = {}

    class FakeInception(torch.nn.Module):  # stands in for torch_fidelity's FeatureExtractorInceptionV3
        def __init__(self, name, features, feature_extractor_weights_path=None):
            super().__init__()
            seen["weights"] = feature_extractor_weights_path

        def forward(self, u8):
            assert u8.dtype == torch.uint8 and u8.shape[1] == 3
            return (u8.float().flatten(1)[:, :8] / 255,)

    module = types.ModuleType("torch_fidelity.feature_extractor_inceptionv3")
    module.FeatureExtractorInceptionV3 = FakeInception
    monkeypatch.setitem(sys.modules, "torch_fidelity", types.ModuleType("torch_fidelity"))
    monkeypatch.setitem(sys.modules, "torch_fidelity.feature_extractor_inceptionv3", module)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    g = torch.Generator().manual_seed(5)
    real, fake = torch.rand(12, 1, 8, 8, generator=g) * 2 - 1, torch.rand(10, 1, 8, 8, generator=g) * 2 - 1
    out = ev.kid_fid(real, fake)
    assert out["available"] is False and "not found" in out["reason"] and "weights" not in seen
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / ev.INCEPTION_WEIGHTS).write_bytes(b"")
    out = ev.kid_fid(real, fake)
    assert seen["weights"] == str(tmp_path / "checkpoints" / ev.INCEPTION_WEIGHTS)
    fr = (px.signed_to_uint8(real).expand(-1, 3, -1, -1).float().flatten(1)[:, :8] / 255).double().numpy()
    ff = (px.signed_to_uint8(fake).expand(-1, 3, -1, -1).float().flatten(1)[:, :8] / 255).double().numpy()
    assert out["available"] and (out["n_real"], out["n_fake"]) == (12, 10)
    assert out["fid"] == pytest.approx(_old_fid(fr, ff), rel=1e-6)
    assert out["kid"] == pytest.approx(ev.kernel_inception_distance(fr, ff))
