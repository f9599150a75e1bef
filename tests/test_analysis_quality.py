"""Quality estimator (LEGAN's Q, synthetic proxy): degradations, score, loss, training smoke run,
and the shipped weights on the astronaut's aligned face (skipped when the weights are absent)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from faceedit.analysis import quality as Q
from faceedit.train.analysis.quality import natural_variation


def _faces(b: int = 3, c: int = 3, size: int = 48) -> torch.Tensor:
    """Smooth synthetic 'crops' in [-1, 1] with some detail (a gradient, a disc, stripes)."""
    g = torch.Generator().manual_seed(1)
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    base = 0.5 * xx + 0.3 * yy - 0.4 * ((xx**2 + yy**2) < 0.4).float() + 0.1 * torch.sin(12 * xx)
    x = base.expand(b, c, size, size) + 0.2 * torch.rand(b, c, 1, 1, generator=g)
    return x.clamp(-1, 1).contiguous()


@pytest.mark.parametrize("kind", Q.KINDS)
@pytest.mark.parametrize("channels", [1, 3])
def test_degradation_shape_range_determinism_identity(kind, channels):
    x = _faces(3, channels)
    s = torch.tensor([0.0, 0.5, 1.0])
    a = Q.degrade(x, kind, s, torch.Generator().manual_seed(7))
    b = Q.degrade(x, kind, s, torch.Generator().manual_seed(7))
    assert a.shape == x.shape and a.dtype == x.dtype
    assert a.min() >= -1 and a.max() <= 1
    assert torch.equal(a, b)  # same seed, same result
    assert torch.equal(a[0], x[0])  # severity 0: identity
    assert (a[2] - x[2]).abs().mean() > 1e-3  # severity 1 changes the image
    assert torch.equal(Q.degrade(x, kind, 0.0), x)


def test_degradation_strength_grows_with_severity():
    x = _faces(1)
    for kind in ("blur", "noise", "checker", "contrast", "downup"):
        d = [float((Q.degrade(x, kind, s, torch.Generator().manual_seed(0)) - x).abs().mean())
             for s in (0.2, 0.6, 1.0)]
        assert d[0] < d[1] < d[2], (kind, d)


def test_degradation_rejects_bad_input():
    x = _faces(2)
    with pytest.raises(ValueError, match="unknown degradation"):
        Q.degrade(x, "sepia", 0.5)
    with pytest.raises(ValueError, match="severity"):
        Q.degrade(x, "blur", 1.5)
    with pytest.raises(ValueError, match="severity has 3 values"):
        Q.degrade(x, "blur", torch.tensor([0.1, 0.2, 0.3]))


def test_combinations_and_targets():
    x = _faces(4)
    g = torch.Generator().manual_seed(3)
    sev = Q.sample_severities(4, g, combo=1.0)
    assert all(int(sum(v[i] > 0 for v in sev.values())) in (2, 3) for i in range(4))
    y1 = Q.degrade_many(x, sev, torch.Generator().manual_seed(5))
    y2 = Q.degrade_many(x, sev, torch.Generator().manual_seed(5))
    assert torch.equal(y1, y2) and y1.shape == x.shape
    t = Q.target_score(sev)
    assert t.shape == (4,) and (t < Q.REAL_SCORE).all() and (t >= 0).all()
    assert torch.equal(Q.target_score({"blur": torch.zeros(2)}), torch.full((2,), Q.REAL_SCORE))
    both = Q.target_score({"blur": torch.tensor([0.5]), "noise": torch.tensor([0.5])})
    assert float(both) == pytest.approx(Q.REAL_SCORE - 0.5 * (Q.PENALTY["blur"] + Q.PENALTY["noise"]))
    assert float(Q.target_score({"shuffle": 1.0, "ghost": 1.0}, 1)) == 0.0  # clamped
    assert torch.equal(Q.degrade_many(x, {}), x)


def test_score_shape_range_and_gradient():
    net = Q.build_quality({}).eval()
    for c, size in ((3, 128), (1, 64), (3, 200)):
        x = _faces(2, c, size).requires_grad_(True)
        s = net.score(x)
        assert s.shape == (2,) and (s >= 0).all() and (s <= 10).all()
        Q.quality_loss(s).backward()
        assert x.grad is not None and x.grad.abs().sum() > 0


def test_quality_loss_is_legan_eq6():
    s = torch.tensor([7.0, 9.0, 8.5])
    assert float(Q.quality_loss(s)) == pytest.approx((1 + 1 + 0.5) / 3)
    assert float(Q.quality_loss(s, q=9.5)) == pytest.approx((2.5 + 0.5 + 1) / 3)
    real, recon = torch.tensor([9.0, 9.0]), torch.tensor([8.0, 9.5])
    assert float(Q.quality_loss(s, real_scores=real, recon_scores=recon)) == pytest.approx(2.5 / 3 + 0.75)
    with pytest.raises(ValueError, match="both"):
        Q.quality_loss(s, real_scores=real)


def test_spearman_and_exposure_helpers():
    a = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert Q._spearman(a, a * 10) == pytest.approx(1.0)
    assert Q._spearman(a, -a) == pytest.approx(-1.0)
    # ties get average ranks: ranks (1, 2.5, 2.5, 4) vs (1, 2, 3, 4)
    assert Q._spearman(torch.tensor([1.0, 2, 2, 3]), a) == pytest.approx(0.9486833, abs=1e-6)
    crops = torch.stack([torch.full((3, 128, 128), 20, dtype=torch.uint8),
                         torch.full((3, 128, 128), 120, dtype=torch.uint8)])
    assert Q.well_exposed(crops).tolist() == [False, True]


def test_natural_variation_keeps_grey_grey():
    x = _faces(4)
    x[2:] = x[2:, :1].expand(-1, 3, -1, -1)  # replicated greyscale crops
    y = natural_variation(x, torch.Generator().manual_seed(0), p=1.0)
    assert y.shape == x.shape and y.min() >= -1 and y.max() <= 1
    assert torch.equal(y[2:], x[2:])
    assert (y[:2] - x[:2]).abs().mean() > 1e-3
    assert torch.equal(y, natural_variation(x, torch.Generator().manual_seed(0), p=1.0))


def _tiny_prepared(root, astronaut) -> str:
    """A hand-written prepared dataset: 5 'subjects', 2 shifted astronaut face crops each."""
    (root / "images").mkdir(parents=True)
    rows = []
    for i in range(10):
        dy, dx = 8 * (i % 5), 6 * (i // 5)
        crop = np.ascontiguousarray(astronaut[20 + dy : 276 + dy, 120 + dx : 376 + dx])
        name = f"images/{i}.png"
        Image.fromarray(crop).resize((64, 64), Image.Resampling.BILINEAR).save(root / name)
        rows.append({"file": name, "subject": f"s{i % 5}", "labels": {}, "grey": False})
    (root / "dataset.json").write_text(json.dumps({"format": 1, "preset": "mine", "size": 64}))
    (root / "index.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(root)


def test_train_and_save_smoke(tmp_path, astronaut):
    from typer.testing import CliRunner

    from faceedit.cli import app

    data = _tiny_prepared(tmp_path / "mine", astronaut)
    out = tmp_path / "q.safetensors"
    r = CliRunner().invoke(app, ["train-analysis", "quality", "--data", data, "-o", str(out),
                                 "--budget", "0.02"])
    assert r.exit_code == 0, r.output
    metrics = json.loads(r.stdout.strip().splitlines()[-1])
    for key in ("spearman", "rank_acc_real_vs_degraded", "real_mean", "mean_at_severity_0.5"):
        assert key in metrics
    assert set(metrics["mean_at_severity_0.5"]) == set(Q.KINDS)
    report = json.loads((tmp_path / "q.run" / "report.json").read_text())  # the run folder beside --out
    assert report["budget"]["steps"] >= 1 and report["metrics"] == metrics
    assert (tmp_path / "q.run" / "state.safetensors").is_file()
    assert out.with_suffix(".md").is_file() and "synthetic proxy" in out.with_suffix(".md").read_text()
    net = Q.load_quality(out)
    assert not any(p.requires_grad for p in net.parameters())
    x = torch.zeros(1, 3, 128, 128, requires_grad=True)
    net.score(x).sum().backward()
    assert x.grad.abs().sum() > 0


# --- the shipped weights -------------------------------------------------------------------


@pytest.fixture(scope="module")
def astronaut_crop() -> torch.Tensor:
    from skimage.data import astronaut

    from faceedit.faces.align import align_face
    from faceedit.faces.detectors import get_detector
    from faceedit.faces.types import CropTemplate

    img = np.ascontiguousarray(astronaut())
    faces = get_detector("dlib").detect(img)
    assert len(faces) == 1
    crop = align_face(img, faces[0], CropTemplate()).crop
    return torch.from_numpy(crop).permute(2, 0, 1)[None].float() / 127.5 - 1


def _shipped_scores(crop, kinds):
    """The shipped Q's scores of ``crop`` and of its copies degraded by ``kinds`` at severity 0.9."""
    from faceedit.analysis.store import analysis_available

    if not analysis_available("quality"):
        pytest.skip("weights/quality.safetensors absent (train it: see weights/quality.md)")
    worse = [Q.degrade(crop, k, 0.9, torch.Generator().manual_seed(0)) for k in kinds]
    return Q.load_quality().score(torch.cat([crop, *worse]))


def test_shipped_weights_rank_astronaut(astronaut_crop):
    s = _shipped_scores(astronaut_crop, ("blur", "downup", "shuffle"))
    assert (s[0] > s[1:] + 1.0).all(), s


@pytest.mark.xfail(strict=True, reason="known limit of the shipped Q (weights/quality.md): on the "
                   "astronaut, a photo unlike the training studios, fine high-frequency artefacts "
                   "(checkerboard, noise, JPEG) cost well under a point; held-out in-domain crops rank "
                   "them correctly. Retrain Q with more varied real photos to lift this.")
def test_shipped_weights_see_fine_artefacts_on_astronaut(astronaut_crop):
    s = _shipped_scores(astronaut_crop, ("checker", "noise", "jpeg"))
    assert (s[0] > s[1:] + 1.0).all(), s
