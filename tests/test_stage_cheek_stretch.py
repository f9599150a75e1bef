"""A laugh made surprised or neutral: the skin beside its mouth, bunched into creases by the laugh,
is stretched by the dropped jaw and the narrower mouth. :func:`faceedit.stage.smile.flatten_cheeks`
takes the creases off that skin down to a finer blur (``cheek_stretch_fine``) than off the rest of
the cheeks, where the warp stretched it (:func:`faceedit.stage.smile._stretched`), and keeps its
pores; skin the warp did not stretch keeps the finer lines as before."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from faceedit.api import Editor
from faceedit.faces.landmarks import eye_distance
from faceedit.stage.smile import _stretched, flatten_cheeks
from faceedit.stage.tuning import EditTuning


@pytest.fixture(scope="module")
def mean_face() -> np.ndarray:
    stage = Editor.from_pretrained("stage", device="cpu").stage
    return stage._a("mean_shape").astype(np.float64) * 3.0 + 60.0


def _scaled(centre: np.ndarray, sx: float, sy: float):
    """source_points of a warp that stretched the photo by ``sx`` across and ``sy`` down about ``centre``."""
    def source_points(box):
        x0, y0, x1, y1 = box
        gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
        return np.stack([centre[0] + (gx - centre[0]) / sx, centre[1] + (gy - centre[1]) / sy], -1).astype(np.float32)
    return source_points


def test_stretch_reads_the_warps_most_stretched_direction():
    tn = EditTuning()
    lo, hi = tn.cheek_stretch
    c = np.array([50.0, 50.0])
    box = (0, 0, 100, 100)
    for sx, sy, want in ((1.0, 1.0, 0.0), (1.0, 0.8, 0.0), (1.0, hi + 0.1, 1.0), (hi + 0.1, 0.7, 1.0),
                         (1.0, 0.5 * (lo + hi), 0.5)):
        share = _stretched(_scaled(c, sx, sy)(box), 100.0, tn)
        assert share[20:80, 20:80] == pytest.approx(want, abs=1e-3), (sx, sy)
    # a rotation stretches nothing
    a = np.deg2rad(20.0)
    gx, gy = np.meshgrid(np.arange(100, dtype=np.float32), np.arange(100, dtype=np.float32))
    rot = np.stack([c[0] + np.cos(a) * (gx - c[0]) - np.sin(a) * (gy - c[1]),
                    c[1] + np.sin(a) * (gx - c[0]) + np.cos(a) * (gy - c[1])], -1)
    assert np.abs(_stretched(rot, 100.0, tn)[20:80, 20:80]).max() < 1e-3


def _creased_cheek(lm: np.ndarray) -> tuple[np.ndarray, list[int], int, tuple[int, int]]:
    """Skin with pores (+-6 levels a pixel) and three thin dark creases (0.014 eye distances, 22
    levels deep) across the image's right cheek beside the mouth corner, as a laugh leaves them:
    the image, the creases' rows, their column and the corner of a patch of skin between them."""
    ed = eye_distance(lm)
    h, w = int(lm[:, 1].max() + 80), int(lm[:, 0].max() + 80)
    rng = np.random.default_rng(1)
    img = np.full((h, w, 3), (200.0, 150.0, 130.0)) + rng.choice([-6.0, 6.0], size=(h, w, 1))
    x = int(round(lm[54, 0] + 0.3 * ed))
    rows = [int(round(lm[54, 1] + k * 0.12 * ed)) for k in (-1, 0, 1)]
    yy = np.arange(h, dtype=np.float64)[:, None, None]
    for r in rows:
        img -= 22.0 * np.exp(-0.5 * ((yy - r) / (0.014 * ed)) ** 2)
    return np.clip(img, 0, 255).astype(np.uint8), rows, x, (rows[0] + int(0.04 * ed), x)


def test_a_stretched_cheek_loses_its_laughs_creases_and_keeps_its_pores(mean_face):
    lm = mean_face
    ed = eye_distance(lm)
    img, rows, x, (py, px) = _creased_cheek(lm)
    tn = EditTuning(cheek_wing_close=0.0, rest_fold_reach=0.0)
    centre = lm[48:60].mean(0)
    half = int(round(0.03 * ed))

    def depth(im):
        col = im[:, x - half:x + half + 1].astype(np.float64).mean((1, 2))
        gap = int(round(0.05 * ed))
        return float(np.mean([0.5 * (col[r - gap] + col[r + gap]) - col[r - 1:r + 2].mean() for r in rows]))

    def pores(im):
        patch = im[py:py + int(0.04 * ed), px - half:px + half + 1].astype(np.float64).mean(2)
        return float(np.abs(np.diff(patch, axis=1)).mean())

    assert depth(img) > 15
    src = lm.copy()
    src[:, 1] = centre[1] + (lm[:, 1] - centre[1]) / 1.6
    warp = (src, _scaled(centre, 1.0, 1.6))
    kept = flatten_cheeks(img, lm, 1.0, replace(tn, cheek_stretch=(1.0, 1.0)), carried=warp)
    stretched = flatten_cheeks(img, lm, 1.0, tn, carried=warp)
    # the cheeks' own band leaves most of a crease this thin; stretched skin loses most of it
    assert depth(kept) > 0.35 * depth(img)
    assert depth(stretched) < 0.75 * depth(kept)  # (0.63)
    # the pores (a pixel's grain) stay on the stretched skin
    assert pores(stretched) > 0.7 * pores(img)
    # the lips and the nose stay the photo's own
    for i in (51, 57, 30):
        qx, qy = np.round(lm[i]).astype(int)
        assert np.array_equal(stretched[qy, qx], img[qy, qx])


def test_no_stretch_no_change(mean_face):
    """A warp that stretched nothing flattens as the cheeks' own band alone did (the bytes)."""
    lm = mean_face
    img, *_ = _creased_cheek(lm)
    tn = EditTuning(cheek_wing_close=0.0, rest_fold_reach=0.0)
    centre = lm[48:60].mean(0)
    off = EditTuning(cheek_wing_close=0.0, rest_fold_reach=0.0, cheek_stretch=(1.0, 1.0))
    a = flatten_cheeks(img, lm, 1.0, tn, carried=(lm, _scaled(centre, 1.0, 1.0)))
    b = flatten_cheeks(img, lm, 1.0, off, carried=(lm, _scaled(centre, 1.0, 1.0)))
    assert np.array_equal(a, b)


def test_a_beards_strands_on_stretched_skin_stay(mean_face):
    """Skin darker than the upper cheeks (a beard, a moustache: 0.5 of their luma here) keeps its
    fine detail where the warp stretched it: its strands are not a laugh's creases."""
    lm = mean_face
    ed = eye_distance(lm)
    img, rows, x, _ = _creased_cheek(lm)
    dark = img.astype(np.float64)
    dark[int(lm[33, 1] + 0.05 * ed):] *= 0.5  # below the nose's base: a beard's tone
    dark = np.clip(dark, 0, 255).astype(np.uint8)
    tn = EditTuning(cheek_wing_close=0.0, rest_fold_reach=0.0)
    centre = lm[48:60].mean(0)
    src = lm.copy()
    src[:, 1] = centre[1] + (lm[:, 1] - centre[1]) / 1.6
    warp = (src, _scaled(centre, 1.0, 1.6))
    kept = flatten_cheeks(dark, lm, 1.0, replace(tn, cheek_stretch=(1.0, 1.0)), carried=warp)
    stretched = flatten_cheeks(dark, lm, 1.0, tn, carried=warp)
    half, gap = int(round(0.03 * ed)), int(round(0.05 * ed))

    def depth(im):
        col = im[:, x - half:x + half + 1].astype(np.float64).mean((1, 2))
        return float(np.mean([0.5 * (col[r - gap] + col[r + gap]) - col[r - 1:r + 2].mean() for r in rows]))

    assert depth(kept) > 4
    assert depth(stretched) > 0.95 * depth(kept)  # (on light skin 0.63 of it)
