"""Landmark-drawn face masks and the parser network (no data needed; the shipped-weights check
uses skimage's astronaut aligned by the dlib detector)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from faceedit.faces import landmarks as L
from faceedit.faces.parsing import (
    CLASS_INDEX,
    CLASSES,
    CLASSES_HAIR,
    FLIP_CLASSES,
    HAIR,
    PALETTE,
    colorize,
    hair_colour,
    one_hot,
    overlay,
    parse_from_landmarks,
    parse_with_mattes,
)

C = CLASS_INDEX


def synthetic_landmarks(mouth_open: float = 0.0) -> np.ndarray:
    """A plausible frontal iBUG-68 face in a 128-px crop of the default template (eyes at
    y = 53.76, 38.4 px apart); ``mouth_open`` px between the inner lip contours."""
    lm = np.zeros((68, 2))
    t = np.pi - np.arange(17) * np.pi / 16
    lm[0:17] = np.stack([63.5 + 42 * np.cos(t), 55 + 65 * np.sin(t)], 1)
    s = np.linspace(0, 1, 5)
    lm[17:22] = np.stack([30 + 28 * s, 40 - 4 * np.sin(np.pi * s)], 1)
    lm[22:27] = np.stack([69 + 28 * s, 40 - 4 * np.sin(np.pi * s)], 1)
    lm[27:31] = [[63.5, y] for y in (54, 61, 68, 75)]
    lm[31:36] = [[55, 80], [59, 82], [63.5, 83], [68, 82], [72, 80]]
    eye = np.array([[-8, 0], [-3, -3], [3, -3], [8, 0], [3, 3], [-3, 3]], float)
    lm[36:42] = eye + [44.3, 53.76]
    lm[42:48] = eye + [82.7, 53.76]
    cx, cy, o = 63.5, 100.0, mouth_open / 2
    lm[48:55] = [[cx - 18, cy], [cx - 12, cy - 5 - o], [cx - 5, cy - 7 - o], [cx, cy - 6 - o],
                 [cx + 5, cy - 7 - o], [cx + 12, cy - 5 - o], [cx + 18, cy]]
    lm[55:60] = [[cx + 12, cy + 6 + o], [cx + 5, cy + 8 + o], [cx, cy + 8 + o], [cx - 5, cy + 8 + o],
                 [cx - 12, cy + 6 + o]]
    lm[60:68] = [[cx - 14, cy], [cx - 6, cy - o], [cx, cy - o], [cx + 6, cy - o], [cx + 14, cy],
                 [cx + 6, cy + o], [cx, cy + o], [cx - 6, cy + o]]
    return lm


def _at(labels: np.ndarray, xy) -> int:
    return int(labels[int(round(xy[1])), int(round(xy[0]))])


# ---------------------------------------------------------------------------------------------
# masks drawn from landmarks


def test_classes_land_where_the_landmarks_say():
    lm = synthetic_landmarks(mouth_open=8)
    lab = parse_from_landmarks(lm, 128)
    assert lab.shape == (128, 128) and lab.dtype == np.uint8
    assert _at(lab, lm[L.L_EYE].mean(0)) == C["l_eye"]
    assert _at(lab, lm[L.R_EYE].mean(0)) == C["r_eye"]
    assert _at(lab, lm[19]) == C["l_brow"] and _at(lab, lm[24]) == C["r_brow"]
    assert _at(lab, lm[29]) == C["nose"]
    assert _at(lab, lm[51] + [0, 2]) == C["u_lip"] and _at(lab, lm[57] - [0, 2]) == C["l_lip"]
    assert _at(lab, lm[60:68].mean(0)) == C["mouth"]
    assert _at(lab, [40, 80]) == C["skin"]  # cheek
    assert _at(lab, [63.5, 30]) == C["skin"]  # forehead just above the brows
    assert _at(lab, [63.5, 2]) == C["background"] and _at(lab, [2, 120]) == C["background"]
    # the eye label stays inside the eye polygon (a 1-px margin for the rasteriser)
    import cv2

    for idx, name in ((L.L_EYE, "l_eye"), (L.R_EYE, "r_eye")):
        ys, xs = np.nonzero(lab == C[name])
        inside = [cv2.pointPolygonTest(lm[idx].astype(np.float32), (float(x), float(y)), True) > -1.0
                  for x, y in zip(xs, ys)]
        assert len(xs) > 20 and all(inside)
    assert set(np.unique(lab)) == set(range(len(CLASSES)))


def test_mattes_add_hair_and_the_brows_the_photo_shows():
    lm = synthetic_landmarks()
    drawn = parse_from_landmarks(lm, 128)
    assert CLASSES_HAIR[HAIR] == "hair" and parse_with_mattes(lm, 128).tolist() == drawn.tolist()
    hair = np.zeros((128, 128), np.float32)
    hair[:20] = 1.0  # above the forehead estimate, and a strip down the face's middle
    hair[:, 60:68] = 1.0
    brows = np.zeros((128, 128), np.float32)
    brows[30:46, 28:60] = 1.0  # the left brow, thicker than the drawn band
    out = parse_with_mattes(lm, 128, hair=hair, brows=brows)
    assert (out[:20][drawn[:20] == C["background"]] == HAIR).all()  # hair on the background
    for name in ("l_eye", "r_eye", "nose", "u_lip", "l_lip"):  # the features are never hair
        assert ((out == C[name]) == (drawn == C[name])).all(), name
    assert (out[30:46, 28:60][drawn[30:46, 28:60] == C["skin"]] == C["l_brow"]).all()  # thick
    assert (out == C["r_brow"]).sum() == 0  # no matte over the right brow: skin, not the drawn band
    assert np.isin(out[drawn == C["r_brow"]], [C["skin"], HAIR]).all()  # hair only where the strip is
    assert (out[:, 60:68] == HAIR).any() and (out[:, :60][drawn[:, :60] == C["r_brow"]] == C["skin"]).all()


def test_hair_colour_classes():
    assert hair_colour([15, 1, 0]) == "black"
    assert hair_colour([28, 2, 4]) == "brown"
    assert hair_colour([52, 2, 12]) == "blond"
    assert hair_colour([35, 6, 9]) == "red"
    assert hair_colour([55, 0, 1]) == "grey"
    assert hair_colour([15, 0, 0]) == "black"  # dark and colourless is black, not grey


def test_mouth_interior_only_when_the_lips_are_apart():
    closed = parse_from_landmarks(synthetic_landmarks(mouth_open=0), 128)
    assert not (closed == C["mouth"]).any()
    assert (closed == C["u_lip"]).sum() > 50 and (closed == C["l_lip"]).sum() > 50
    opened = parse_from_landmarks(synthetic_landmarks(mouth_open=10), 128)
    n_mouth = int((opened == C["mouth"]).sum())
    assert n_mouth > 150  # about the inner polygon's area: 2 * 14 * 10 / 2 + ...
    ys, _ = np.nonzero(opened == C["mouth"])
    assert 100 - 6 <= ys.min() and ys.max() <= 100 + 6


def test_rescaled_masks_agree_and_garbage_is_refused():
    lm = synthetic_landmarks(6)
    big = parse_from_landmarks(lm, 128)
    small = parse_from_landmarks(lm, 64, crop_size=128)
    assert (small == big[::2, ::2]).mean() > 0.93
    assert not parse_from_landmarks(np.full((68, 2), np.nan), 32).any()
    with pytest.raises(ValueError, match="68"):
        parse_from_landmarks(np.zeros((5, 2)), 32)


def test_flipped_landmarks_give_the_flipped_mask():
    lm = synthetic_landmarks(6)
    lm[:, 0] += np.linspace(-3, 3, 68)  # break the exact symmetry
    lab = parse_from_landmarks(lm, 128)
    flipped = parse_from_landmarks(L.flip_landmarks(lm, 128), 128)
    expect = np.asarray(FLIP_CLASSES, np.uint8)[lab[:, ::-1]]
    assert (flipped == expect).mean() > 0.98
    assert CLASSES[FLIP_CLASSES[C["l_eye"]]] == "r_eye" and FLIP_CLASSES[C["u_lip"]] == C["u_lip"]


def test_one_hot_colours_and_overlay():
    lab = parse_from_landmarks(synthetic_landmarks(4), 64, crop_size=128)
    oh = one_hot(lab)
    assert oh.shape == (len(CLASSES), 64, 64) and oh.dtype == torch.float32
    assert torch.equal(oh.sum(0), torch.ones(64, 64))
    assert torch.equal(oh.argmax(0), torch.from_numpy(lab).long())
    assert one_hot(torch.from_numpy(np.stack([lab, lab]))).shape == (2, len(CLASSES), 64, 64)
    with pytest.raises(ValueError, match="labels"):
        one_hot(np.full((4, 4), len(CLASSES)))
    assert PALETTE.shape == (len(CLASSES), 3) and len({tuple(c) for c in PALETTE}) == len(CLASSES)
    assert colorize(lab).shape == (64, 64, 3)
    grey = np.full((128, 128), 100, np.uint8)
    ov = overlay(grey, lab)  # label map of another size is resized to the image
    assert ov.shape == (128, 128, 3) and ov.dtype == np.uint8
    assert (ov[0, 0] == 100).all()  # background untouched
    assert not (ov[60, 63] == 100).all()  # the face is tinted


# ---------------------------------------------------------------------------------------------
# the parser network

from faceedit.analysis.parser import ParserNet, build_parser, parse, parser_metrics  # noqa: E402


@pytest.fixture(scope="module")
def fresh_net() -> ParserNet:
    torch.manual_seed(0)
    net = build_parser({}).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def test_parser_output_shape_any_size_and_channels(fresh_net):
    out = fresh_net(torch.rand(2, 3, 100, 90) * 2 - 1)
    assert out.shape == (2, len(CLASSES), 100, 90)
    assert fresh_net(torch.zeros(1, 1, 64, 64)).shape == (1, len(CLASSES), 64, 64)
    soft = parse(torch.zeros(1, 1, 128, 128), fresh_net)
    assert soft.shape == (1, len(CLASSES), 128, 128)
    torch.testing.assert_close(soft.sum(1), torch.ones(1, 128, 128))
    with pytest.raises(ValueError):
        fresh_net(torch.zeros(1, 2, 64, 64))


def test_parser_is_deterministic_and_batch_independent_in_eval(fresh_net):
    x = torch.rand(3, 3, 128, 128, generator=torch.Generator().manual_seed(1)) * 2 - 1
    a, b = fresh_net(x), fresh_net(x)
    assert torch.equal(a, b)
    torch.testing.assert_close(fresh_net(x[1:2]), a[1:2], rtol=1e-4, atol=1e-4)


def test_gradients_flow_to_the_input(fresh_net):
    x = (torch.rand(2, 3, 96, 96) * 2 - 1).requires_grad_(True)
    # a parsing loss as LSSL uses it: cross-entropy of P(x) against fixed soft masks
    target = parse(x.detach().flip(-1), fresh_net)
    loss = -(target * parse(x, fresh_net).clamp_min(1e-8).log()).sum(1).mean()
    loss.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def _synthetic_dataset(root, name: str, n_subjects: int, rng) -> object:
    """A tiny prepared dataset: rendered faces (class colours -> grey levels, with noise)."""
    from PIL import Image

    from faceedit.data import Dataset

    levels = np.array([40, 170, 60, 60, 20, 20, 150, 110, 110, 10], np.float64)
    rows = []
    for s in range(n_subjects):
        for k in range(2):
            lm = synthetic_landmarks(mouth_open=6.0 * k) + rng.normal(0, 1.0, (68, 2)) + rng.uniform(-4, 4, 2)
            img = levels[parse_from_landmarks(lm, 128)] + rng.normal(0, 8, (128, 128))
            f = f"images/{name}-{s}/{k}.png"
            (root / f).parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(root / f)
            rows.append({"file": f, "subject": f"{name}-{s}", "labels": {}, "grey": True,
                         "landmarks": np.round(lm, 2).tolist(), "dataset": str(root)})
    meta = {"size": 128, "preset": "london"}
    (root / "dataset.json").write_text(json.dumps(meta))
    return Dataset(root, meta, rows)


def test_train_and_export_end_to_end(tmp_path):
    from faceedit.analysis.parser import load_parser
    from faceedit.analysis.store import analysis_meta
    from faceedit.train.analysis.kinds import analysis_trainer
    from faceedit.train.loop import LoopConfig, train_and_export

    rng = np.random.default_rng(0)
    ds = [_synthetic_dataset(tmp_path / "a", "a", 5, rng)]
    out = tmp_path / "parser.safetensors"
    loop = LoopConfig(steps=10**9, budget_minutes=1 / 60, progress=False)
    metrics = train_and_export(analysis_trainer("parser"), ds, tmp_path / "run", loop, export=out,
                               command="pytest")["metrics"]
    assert out.is_file() and out.with_suffix(".md").is_file()
    assert set(metrics["iou"]) == set(CLASSES) and 0.0 <= metrics["miou"] <= 1.0
    assert metrics["n"] == 2  # one held-out subject, two crops
    meta = analysis_meta(out)
    assert meta.arch == "analysis/parser" and list(meta.conditions) == CLASSES
    assert meta.metrics["miou"] == metrics["miou"]
    net = load_parser(out)
    assert not any(p.requires_grad for p in net.parameters())
    assert "landmark-drawn" in out.with_suffix(".md").read_text()


@pytest.fixture(scope="module")
def astronaut_crop():
    from skimage.data import astronaut

    from faceedit.faces.align import align_face
    from faceedit.faces.detectors import get_detector
    from faceedit.faces.types import CropTemplate

    img = np.ascontiguousarray(astronaut())
    faces = get_detector("dlib").detect(img)
    assert len(faces) == 1
    return align_face(img, faces[0], CropTemplate())


def test_astronaut_mask_has_every_part(astronaut_crop):
    lab = parse_from_landmarks(astronaut_crop.landmarks, 128)
    for c in ("skin", "l_brow", "r_brow", "l_eye", "r_eye", "nose", "u_lip", "l_lip"):
        assert (lab == C[c]).sum() > 10, c
    lm = astronaut_crop.landmarks
    assert _at(lab, lm[L.L_EYE].mean(0)) == C["l_eye"] and _at(lab, lm[L.R_EYE].mean(0)) == C["r_eye"]
    assert abs(lm[L.L_EYE].mean(0)[0] - 44.3) < 4 and abs(lm[L.R_EYE].mean(0)[0] - 82.7) < 4  # template
    assert (lab == C["mouth"]).sum() > 20  # she smiles with her teeth showing


def test_shipped_parser_reproduces_the_astronauts_landmark_mask(astronaut_crop):
    from faceedit.analysis.store import analysis_available

    if not analysis_available("parser"):
        pytest.skip("weights/parser.safetensors not present (train it: see weights/parser.md)")
    from faceedit.analysis.parser import load_parser

    net = load_parser()
    x = torch.from_numpy(astronaut_crop.crop).permute(2, 0, 1)[None].float() / 127.5 - 1
    lab = torch.from_numpy(parse_from_landmarks(astronaut_crop.landmarks, 128))
    m = parser_metrics(net, x, lab[None])  # every class is present in her mask (teeth showing)
    # measured when the weights were trained: mean IoU 0.70, eyes 0.77 / 0.83, nose 0.86,
    # lips 0.60 / 0.79, mouth 0.75 (brows 0.42 / 0.23: her fringe covers them)
    assert m["miou"] > 0.55, m
    for c in ("skin", "l_eye", "r_eye", "nose", "u_lip", "l_lip", "mouth"):
        assert m["iou"][c] > 0.4, (c, m["iou"])
    soft = parse(x, net)
    torch.testing.assert_close(soft.sum(1), torch.ones(1, 128, 128))
    assert torch.equal(soft.argmax(1), net(x).argmax(1))
