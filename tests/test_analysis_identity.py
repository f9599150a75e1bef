"""Identity features: embedding API, checkpoint round trip with the calibrated threshold,
verification metrics, the trainer on a toy data set, and the shipped network on the astronaut
and (with the prepared data) on held-out London faces."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from faceedit.analysis.identity import (
    IdentityNet,
    build_identity,
    calibrate_threshold,
    load_identity,
    roc_auc,
    verification_metrics,
    verification_pairs,
)
from faceedit.analysis.store import analysis_available, save_analysis
from faceedit.errors import CheckpointError
from faceedit.train.analysis.kinds import analysis_trainer
from faceedit.train.loop import LoopConfig, train_and_export

ROOT = Path(__file__).resolve().parents[1]
CFG = {"dim": 16, "size": 32, "channels": 1, "widths": [4, 8]}


def _tiny(threshold: float = 0.5) -> IdentityNet:
    torch.manual_seed(0)
    return IdentityNet(build_identity(CFG).eval(), threshold)


def test_embeddings_unit_norm_symmetric_and_differentiable():
    ident = _tiny()
    a, b = torch.rand(2, 3, 3, 128, 128) * 2 - 1
    e = ident.embed(a)
    assert e.shape == (3, 16)
    assert torch.allclose(e.norm(dim=1), torch.ones(3), atol=1e-5)
    assert torch.allclose(ident.similarity(a, b), ident.similarity(b, a), atol=1e-6)
    assert torch.allclose(ident.similarity(a, a), torch.ones(3), atol=1e-5)
    assert ident.same_person(a, a).all() and ident.same_person(a, b).dtype == torch.bool
    x = a.clone().requires_grad_()
    (1 - ident.similarity(x, b)).sum().backward()
    assert x.grad.abs().sum() > 0
    assert torch.equal(ident.embed(a), ident.embed(a))  # eval mode: deterministic


def test_checkpoint_round_trip_keeps_threshold(tmp_path):
    ident = _tiny()
    path = tmp_path / "id.safetensors"
    save_analysis(path, ident.net, kind="identity", config=CFG, image_size=32, channels=1,
                  training_data="toy", license="MIT", metrics={}, extra={"threshold": 0.4321})
    loaded = load_identity(path)
    assert loaded.threshold == pytest.approx(0.4321)
    x = torch.rand(2, 1, 64, 64) * 2 - 1
    assert torch.allclose(loaded.embed(x), ident.embed(x), atol=2e-2)
    bad = tmp_path / "nothreshold.safetensors"
    save_analysis(bad, ident.net, kind="identity", config=CFG, image_size=32, channels=1,
                  training_data="toy", license="MIT", metrics={})
    with pytest.raises(CheckpointError, match="threshold"):
        load_identity(bad)


def test_verification_pairs_and_metrics():
    same, diff = verification_pairs(["a", "a", "a", "b", "b", "c"], seed=1)
    assert len(same) == 4 and len(diff) == 4
    subj = np.array(["a", "a", "a", "b", "b", "c"])
    assert (subj[same[:, 0]] == subj[same[:, 1]]).all() and (subj[diff[:, 0]] != subj[diff[:, 1]]).all()
    assert len({tuple(p) for p in diff}) == 4
    rng = np.random.default_rng(0)
    pos, neg = rng.normal(1, 1, 50).round(1), rng.normal(0, 1, 70).round(1)  # with ties
    brute = np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg])
    assert roc_auc(pos, neg) == pytest.approx(brute)
    m = verification_metrics(np.array([0.9, 0.8, 0.7]), np.array([0.1, 0.2, 0.75]), 0.5)
    assert m["accuracy"] == pytest.approx(5 / 6, abs=1e-4) and m["roc_auc"] == pytest.approx(8 / 9, abs=1e-4)
    assert m["tar_at_far_0.01"] == pytest.approx(2 / 3, abs=1e-4)  # no false accept: above 0.75
    t = calibrate_threshold({"x": (np.array([0.8, 0.9]), np.array([0.1, 0.3]))})
    assert 0.3 < t < 0.8


def _toy_faces(root: Path, n_subjects: int = 8) -> Path:
    """A prepared-format data set: each subject a fixed random pattern plus noise."""
    rng = np.random.default_rng(0)
    rows = []
    for s in range(n_subjects):
        base = rng.uniform(30, 220, (8, 8))
        for k in range(4):
            a = np.kron(base, np.ones((8, 8))) + rng.normal(0, 10, (64, 64))
            f = f"images/s{s}/{k}.png"
            (root / f).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).save(root / f)
            rows.append({"file": f, "subject": f"toy-{s}", "labels": {}, "grey": True})
    (root / "dataset.json").write_text(json.dumps({"format": 1, "preset": "toy", "size": 64}))
    (root / "index.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


@pytest.mark.slow
def test_train_and_export_calibrates_and_reports(tmp_path):
    from faceedit.data import open_datasets

    out = tmp_path / "id.safetensors"
    m = train_and_export(analysis_trainer("identity"), open_datasets([_toy_faces(tmp_path / "toy")]),
                         tmp_path / "run", LoopConfig(steps=3, sample_every=0, progress=False), export=out,
                         command="test", config={"dim": 16, "size": 32, "widths": [4, 8]})["metrics"]
    ident = load_identity(out)
    assert ident.threshold == pytest.approx(m["threshold"], abs=1e-4)
    assert m["heldout_subjects"] == 2 and m["calibration_identities"] == 1 and m["training_identities"] == 5
    assert m["same_pairs"] == 12 and m["different_pairs"] == 12
    assert {"accuracy", "roc_auc", "tar_at_far_0.01", "per_dataset", "calibration"} <= set(m)
    assert out.with_suffix(".md").is_file()


# -------------------------------------------------------------------- shipped weights


def _synthetic_face(size: int = 128) -> np.ndarray:
    """A drawn face (oval, brows, eyes, nose, mouth) on the default crop template's positions."""
    import cv2

    img = np.full((size, size, 3), 90, np.uint8)
    c, eye_y, d = size / 2, 0.42 * size, 0.30 * size
    p = lambda v: int(round(v))  # noqa: E731
    cv2.ellipse(img, (p(c), p(eye_y + 0.35 * d)), (p(0.9 * d), p(1.3 * d)), 0, 0, 360, (205, 170, 150), -1)
    for sx in (-1, 1):
        ex = c + sx * d / 2
        cv2.ellipse(img, (p(ex), p(eye_y)), (p(0.2 * d), p(0.09 * d)), 0, 0, 360, (250, 250, 250), -1)
        cv2.circle(img, (p(ex), p(eye_y)), p(0.07 * d), (60, 40, 30), -1)
        brow = (p(ex - 0.25 * d), p(eye_y - 0.25 * d)), (p(ex + 0.25 * d), p(eye_y - 0.3 * d))
        cv2.line(img, *brow, (70, 50, 40), 3)
    cv2.line(img, (p(c), p(eye_y + 0.1 * d)), (p(c - 0.1 * d), p(eye_y + 0.6 * d)), (150, 110, 100), 2)
    cv2.ellipse(img, (p(c), p(eye_y + 0.95 * d)), (p(0.35 * d), p(0.12 * d)), 0, 0, 180, (150, 60, 60), 3)
    return img


def _to_tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 127.5 - 1


def test_shipped_identity_astronaut_jittered_closer_than_another_face(astronaut):
    if not analysis_available("identity"):
        pytest.skip("weights/identity.safetensors absent")
    from faceedit.faces.align import align_face
    from faceedit.faces.detectors import get_detector
    from faceedit.faces.types import CropTemplate
    from faceedit.train.analysis.common import jitter

    ident = load_identity()
    (face,) = get_detector("dlib").detect(astronaut)
    crop = _to_tensor(align_face(astronaut, face, CropTemplate()).crop)
    gen = torch.Generator().manual_seed(0)
    variants = torch.cat([crop.flip(-1), jitter(crop.repeat(4, 1, 1, 1), gen, flip=True)])
    other = _to_tensor(_synthetic_face())
    with torch.no_grad():
        same = ident.similarity(crop.expand_as(variants), variants)
        diff = ident.similarity(crop, other)
    print(f"astronaut vs its flips/jitters {same.min():.3f}..{same.max():.3f}, "
          f"vs a drawn face {diff.item():.3f}, threshold {ident.threshold:.3f}")
    assert (same > diff).all()
    assert ident.same_person(crop.expand_as(variants), variants).all()
    assert not ident.same_person(crop, other).any()


@pytest.mark.shared_data
def test_shipped_identity_on_heldout_london_pairs():
    """Held-out London subjects (never trained on): a person's neutral and smiling photos are more
    alike than two people's."""
    if not analysis_available("identity"):
        pytest.skip("weights/identity.safetensors absent")
    path = ROOT / "data" / "london"
    if not (path / "index.jsonl").is_file():
        pytest.skip(f"needs the prepared data set {path}")
    from faceedit.analysis.nets import predict
    from faceedit.data import load_crops, open_datasets, split_rows

    ident = load_identity()
    _, held = split_rows(open_datasets([path]))
    emb = predict(ident.net, load_crops(held, channels=3))
    same, diff = verification_pairs([r["subject"] for r in held], seed=0)
    sim = lambda p: (emb[p[:, 0]] * emb[p[:, 1]]).sum(1).numpy()  # noqa: E731
    auc = roc_auc(sim(same), sim(diff))
    print(f"held-out London verification AUC {auc:.3f} ({len(same)} same, {len(diff)} different pairs)")
    assert auc >= 0.8
