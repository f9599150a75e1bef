"""SeCGAN trained on the attributes (``--set task=attributes``, faceedit.train.secgan_attributes):
the crops' photos found again, the labels read off them, one stage-rendered attribute per
example, and a 2-step ``faceedit train`` run exported and reloaded. Data: crops the test cuts
from recoloured copies of skimage's astronaut (dlib's landmarks)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from _imgs import astronaut, astronaut_face
from PIL import Image
from typer.testing import CliRunner

from faceedit.cli import app
from faceedit.data import open_dataset
from faceedit.errors import UsageError
from faceedit.faces.align import apply_affine, similarity_transform, warp_crop
from faceedit.faces.parsing import CLASSES_HAIR, HAIR
from faceedit.faces.types import CropTemplate
from faceedit.models.checkpoint import load_checkpoint
from faceedit.models.secgan import SeCGAN
from faceedit.models.stargan import KEEP
from faceedit.train.secgan_attributes import KEYS, VALUES, load_attribute_data

SIZE = 64
ONE_TORCH_THREAD = True  # see conftest._one_torch_thread
#: Per subject the astronaut's colours scaled (a lighter or darker, warmer or cooler face and hair).
TINTS = [(1.0, 1.0, 1.0), (1.15, 1.1, 1.05), (0.8, 0.78, 0.75), (1.05, 0.95, 0.9), (0.9, 0.95, 1.1)]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """A prepared dataset of 64-px crops cut from recoloured astronaut photos (each photo kept
    as the row's source), a neutral and a happy crop per subject (the second cut 4 px lower)."""
    root = tmp_path_factory.mktemp("secgan-attr-data")
    (root / "images").mkdir()
    (root / "raw").mkdir()
    face = astronaut_face()
    template = CropTemplate(size=SIZE)
    rows = []
    for s, tint in enumerate(TINTS):
        photo = np.clip(astronaut().astype(np.float32) * np.array(tint, np.float32), 0, 255).astype(np.uint8)
        src = root / "raw" / f"s{s}.png"
        Image.fromarray(photo).save(src)
        for j, label in enumerate(("neutral", "happy")):
            m = similarity_transform(face.five, template.points(SIZE) + [0, 4 * j])
            crop = warp_crop(photo, m, SIZE, "replicate")[0]
            rel = f"images/s{s}-{label}.png"
            Image.fromarray(crop).save(root / rel)
            rows.append({"file": rel, "source": str(src), "subject": f"s{s}", "labels": {"expression": label},
                         "pair": None, "role": None, "grey": False,
                         "landmarks": apply_affine(m, face.landmarks).round(2).tolist()})
    (root / "index.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    meta = {"format": 1, "preset": "custom", "raw": "synthetic", "size": SIZE,
            "template": {"size": SIZE, "eye_dist": 0.3, "eye_y": 0.42}, "detector": "dlib",
            "count": len(rows), "subjects": len(TINTS), "labels": {"expression": {"neutral": 5, "happy": 5}}}
    (root / "dataset.json").write_text(json.dumps(meta))
    return root


def test_photos_found_again_and_labels_read_off_them(dataset) -> None:
    data = load_attribute_data([open_dataset(dataset)], SIZE)
    face = astronaut_face()
    assert len(data.photos) == 10 and all(p.matched for p in data.photos)
    for p in data.photos:  # the crop's similarity recovered: the photo's own landmarks
        assert np.abs(p.landmarks - face.landmarks).max() < 3.0  # photo px: under 1 crop px
        assert p.pixels.shape == (512, 512, 3) and p.regions is not None
    labels = {k: torch.cat([data.train.labels[k], data.held.labels[k]]) for k in KEYS}
    assert (labels["hair"] >= 0).all()  # the astronaut's hair is found on every copy
    assert (labels["glasses"] == VALUES["glasses"].index("False")).all()  # not Yale: no glasses
    # skin by the lightness of the training photos: the lightest copy pale, the darkest tan
    skin = {p.scores["skin"]: int(labels["skin"][i]) for i, p in enumerate(data.photos)}
    assert skin[max(skin)] == VALUES["skin"].index("pale") and skin[min(skin)] == VALUES["skin"].index("tan")
    assert data.masks is not None and data.masks.shape == (10, SIZE, SIZE)
    assert (data.masks == HAIR).sum() > 0.05 * data.masks.numel()  # the hair is in the masks
    assert data.mask_batch(torch.tensor([0, 1])).shape == (2, len(CLASSES_HAIR), SIZE, SIZE)


def test_one_attribute_rendered_per_example(dataset) -> None:
    data = load_attribute_data([open_dataset(dataset)], SIZE)
    idx = torch.arange(len(data.train))
    batch = data.train.batch(idx)
    src = {k: batch[k] for k in KEYS}
    eff, x_in = data.staged(batch["index"], src, np.random.default_rng(0))
    changed = torch.stack([eff[k] != src[k] for k in KEYS], 1)
    assert (changed.sum(1) == 1).all()  # one attribute per example, always one that can change
    assert x_in.shape == batch["image"].shape
    # the render differs from the real crop (tolerance: the crop cut again from the photo)
    assert ((x_in - batch["image"]).abs().flatten(1).max(1).values > 0.1).all()
    eff, blond = data.rendered(batch["index"], src, "hair", "blond", np.random.default_rng(0))
    assert (eff["hair"] == VALUES["hair"].index("blond")).all()
    top = (blond - batch["image"])[:, :, : SIZE // 6]  # above the brows: the hair lightened
    assert float(top.mean()) > 0.05


def test_train_cli_runs_the_attribute_task(dataset, tmp_path) -> None:
    out = tmp_path / "run"
    tiny = ["image_size=64", "base_channels=8", "max_channels=16", "n_res=1", "d_channels=8", "n_critic=1",
            "seg_base_channels=8", "source_size=32", "source_widths=[8,16]", "task=\"attributes\""]
    args = ["train", "-m", "secgan", "-d", str(dataset), "-o", str(out), "--steps", "2", "--batch-size", "4",
            "--threads", "1", "--sample-every", "0"]
    for t in tiny:
        args += ["--set", t]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    ckpt = load_checkpoint(out / "secgan.safetensors")
    assert ckpt.meta.extra["task"] == "attributes" and ckpt.meta.targets == [KEEP]
    model = SeCGAN(ckpt.meta.config)
    model.load_state_dict({k: v.float() for k, v in ckpt.tensors.items()})
    assert model.targets() == [KEEP] and model.channels == 3
    x = torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    assert model.edit(x, KEEP, attrs={"hair": "blond", "brows": "bushy"}).shape == x.shape
    assert torch.count_nonzero(model.difference(x, KEEP)) == 0
    with pytest.raises(UsageError, match="unknown hair"):
        model.edit(x, KEEP, attrs={"hair": "green"})
    with pytest.raises(UsageError, match="valid: hair, skin, brows, glasses"):
        model.edit(x, KEEP, attrs={"moustache": "on"})
    samples = sorted((out / "samples").glob("*.png"))
    assert samples  # input | 7 x (render, network) | masks
    with Image.open(samples[-1]) as im:
        assert im.size[0] == SIZE * 17


def test_unknown_task_is_refused(dataset, tmp_path) -> None:
    r = CliRunner().invoke(app, ["train", "-m", "secgan", "-d", str(dataset), "-o", str(tmp_path / "run"),
                                 "--steps", "1", "--set", "task=\"hair\""])
    assert r.exit_code == 2 and "task='hair'" in r.output
