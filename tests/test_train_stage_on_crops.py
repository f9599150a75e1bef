"""The stage as a training-time operator (faceedit.train.stage_on_crops): it reproduces the stage's own
edit of a photo, leaves crops alone where no target is given, undoes its warp on the way back,
and every method's trainer attaches it and trains on it."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
import torch
from _imgs import astronaut

from faceedit.models.hub import weights_present
from faceedit.models.registry import get_spec
from faceedit.models.request import EditRequest
from faceedit.stage.warp import face_grid

pytestmark = pytest.mark.skipif(not weights_present(get_spec("stage")),
                                reason="the stage's statistics (weights/stage.safetensors) are not installed")

SIZE = 128


@lru_cache(maxsize=1)
def _face():
    """The astronaut's face region, square, at SIZE px, with its landmarks there."""
    import cv2

    from faceedit.faces.detectors import get_detector

    img = astronaut()
    face = max(get_detector("dlib").detect(img), key=lambda f: f.area)
    lm = np.asarray(face.landmarks, np.float64)
    c = lm.mean(0)
    half = 1.6 * float(np.ptp(lm[:, 0]))
    x0, y0 = int(c[0] - half), int(c[1] - half)
    crop = img[max(y0, 0):y0 + int(2 * half), max(x0, 0):x0 + int(2 * half)]
    s = SIZE / crop.shape[1]
    crop = cv2.resize(crop, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    return crop, (lm - [max(x0, 0), max(y0, 0)]) * s


def _training_stage(expressions=("neutral", "happy", "surprised"), lighting=("front", "left")):
    from faceedit.train.stage_on_crops import StageOnCrops, load_stage

    crop, lm = _face()
    rows = [{"labels": {"expression": "neutral"}, "subject": "a"}]
    return StageOnCrops(load_stage(), rows, torch.tensor(lm[None], dtype=torch.float32), SIZE,
                      list(expressions), list(lighting)), crop, lm


def _tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(img).permute(2, 0, 1)[None].float().div(127.5).sub(1)


def _pixels(t: torch.Tensor) -> np.ndarray:
    return t[0].add(1).mul(127.5).permute(1, 2, 0).numpy()


def test_no_target_is_the_identity():
    ts, crop, _ = _training_stage()
    x = _tensor(crop)
    none = torch.tensor([-1])
    assert torch.equal(ts.forward(x, torch.tensor([0]), none, none), x)
    assert torch.equal(ts.back(x, torch.tensor([0]), none), x)


@pytest.mark.parametrize("target,light", [("happy", None), ("surprised", "left")])
def test_forward_reproduces_the_stage_edit(target, light):
    """The torch operator against Stage.edit_photo on the same crop: the same edit up to
    resampling (bilinear vs the photo path's bicubic) and the shading's landmarks and colour (R, G
    and B scaled here, the luma there, and the stage looks for a scene beside the head), outside
    the mouth (the stage cuts the lips and paints real teeth there; the operator does not: see
    faceedit/train/stage_on_crops.py)."""
    import cv2

    ts, crop, lm = _training_stage()
    e = torch.tensor([ts.expressions.index(target)])
    lt = torch.tensor([ts.lighting.index(light)]) if light else None
    got = _pixels(ts.forward(_tensor(crop), torch.tensor([0]), e, lt))
    want, done = ts.stage.edit_photo(crop, [lm], EditRequest.of(target, lighting=light))
    mouth = np.zeros(crop.shape[:2], np.uint8)
    for pts in (lm, done[0].landmarks):  # the lips before and after, grown by a tenth of the face
        cv2.fillConvexPoly(mouth, cv2.convexHull(np.round(pts[48:68]).astype(np.int32)), 1)
    mouth = cv2.dilate(mouth, np.ones((7, 7), np.uint8)) > 0
    # changed by more than a grey level (not resampling's rounding), beyond the mouth
    region = (np.abs(want.astype(np.float32) - crop).max(-1) > 1) & ~mouth
    change = np.abs(want.astype(np.float32) - crop)[region].mean()
    err = np.abs(got - want)[region].mean()
    assert region.mean() > 0.05 and change > 3.0, (region.mean(), change)
    # (happy 0.336, surprised 0.350 of the change: its jaw dropped as real surprises drop it, the
    # stage slides the chin over the neck, stage/chin_slide.py, where the operator stretches it)
    assert err < 0.37 * change, (err, change)
    moved = ts.moved_landmarks(torch.tensor([0]), e, torch.tensor(lm[None], dtype=torch.float32))[0]
    assert np.abs(moved.numpy() - ts.stage.move(lm, target)).max() < 0.5


def test_back_undoes_the_warp():
    """A crop moved towards surprise and warped back is the crop again inside the face (up to
    two bilinear resamplings and what the move stretched), at most half as far from it as the
    moved crop is."""
    ts, crop, lm = _training_stage(lighting=())
    x = _tensor(crop)
    idx, e = torch.tensor([0]), torch.tensor([2])
    m = ts.maps(0, 2)
    moved = torch.nn.functional.grid_sample(x, m["fwd"][None], align_corners=False, padding_mode="border")
    back = ts.back(moved, idx, e)
    x0, y0, x1, y1 = face_grid(lm).roi(crop.shape)
    inner = (slice(None), slice(None), slice(y0 + 8, y1 - 8), slice(x0 + 8, x1 - 8))
    assert (back - x)[inner].abs().mean() < 0.5 * (moved - x)[inner].abs().mean()


def test_paired_inputs_follow_the_target_geometry(tmp_path):
    """A pair whose target is its own source photo: nothing moves and, for a target without a
    mouth map, the input is the crop itself."""
    from PIL import Image

    from faceedit.train.stage_on_crops import load_stage, paired_inputs

    crop, lm = _face()
    Image.fromarray(crop).save(tmp_path / "a.png")
    row = {"dataset": str(tmp_path), "file": "a.png", "landmarks": lm.tolist(),
           "labels": {"expression": "keep-as-is"}}
    out = paired_inputs(load_stage(), [(row, row)], 3, SIZE)
    assert out.shape == (1, 3, SIZE, SIZE)
    assert (out[0] - _tensor(crop)[0]).abs().max() < 1 / 127.5 + 1e-6


def test_trainers_attach_the_stage_and_index_both_splits(tmp_path):
    """The loop numbers held-out rows after the training rows, so the training stage (built over both)
    finds the right face for a sample batch as for a training batch."""
    from _datasets import make_dataset

    from faceedit.data import open_dataset
    from faceedit.train.crops import load_train_data

    root = make_dataset(tmp_path / "d", subjects=6, size=32)
    data = load_train_data([open_dataset(root)], holdout=0.34)
    assert len(data.held) and len(data.train)
    b = data.held.batch(torch.arange(len(data.held)))
    assert b["index"].tolist() == list(range(len(data.train), len(data.train) + len(data.held)))


def _tiny_legan_run(tmp_path, name, stage, init=None, steps=1, **extra):
    from _datasets import make_dataset

    from faceedit.data import open_dataset
    from faceedit.train.legan import LEGANTrainer
    from faceedit.train.loop import LoopConfig, run

    torch.set_num_threads(1)
    ds = open_dataset(make_dataset(tmp_path / "d", subjects=6, labels=("neutral", "happy"), size=32, grey=True))
    cfg = LoopConfig(steps=steps, batch_size=4, ckpt_every=0, sample_every=0, progress=False, stage=stage,
                     init=init)
    config = {"image_size": 32, "base_channels": 8, "max_channels": 16, "n_res": 1, "d_channels": 8, "d_max_channels": 32,
              "n_critic": 1, "lambda_id": 0.0, "lambda_qual": 0.0, "residual": True, **extra}
    return run(LEGANTrainer, [ds], tmp_path / name, cfg, config).trainer


def test_the_loop_attaches_the_stage_unless_told_not_to(tmp_path):
    """Default: the trainer edits through the stage (its inputs differ from the crops for a
    target that moves the face); ``stage=None``: the crops themselves."""
    on = _tiny_legan_run(tmp_path, "on", "stage")
    off = _tiny_legan_run(tmp_path, "off", None)
    assert on.training_stage is not None and off.training_stage is None
    batch = on.data.train.batch(torch.arange(len(on.data.train)))
    happy = torch.full((len(on.data.train),), on.expr_vocab.index("happy"))
    staged = on.stage_input(batch["image"], batch, happy)
    assert (staged - batch["image"]).abs().max() > 0.05
    assert torch.equal(off.stage_input(batch["image"], batch, happy), batch["image"])


def test_a_generator_trained_without_the_stage_starts_as_the_identity(tmp_path):
    """Fine-tuning onto the stage a residual generator that was trained on unedited crops: it
    would apply its whole edit a second time, so it starts as the identity."""
    from faceedit.train.legan import LEGANTrainer

    first = _tiny_legan_run(tmp_path, "plain", None, steps=3, lr=0.05)
    path = tmp_path / "plain.safetensors"
    from faceedit.faces.types import CropTemplate
    from faceedit.train.export import export_model

    info = first.export_info()
    export_model(first.generator(), path, arch="legan", config=info["config"], targets=info["targets"],
                 template=CropTemplate(size=32), datasets=[], metrics={}, command="test", budget={},
                 method="LEGAN", extra=info["extra"], conditions=info["conditions"], channels=1)
    tuned = _tiny_legan_run(tmp_path, "tuned", "stage", init=str(path))
    assert isinstance(tuned, LEGANTrainer)
    last = tuned.net("G").fusion.body[-2]
    # one step of training moved it off zero a little, but nowhere near the plain run's layer
    assert last.weight.abs().max() < 0.1 * first.net("G").fusion.body[-2].weight.abs().max()
