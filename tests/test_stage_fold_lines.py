"""A laugh's fold lines left round an opened mouth are lifted; pores and hair stay (faceedit.stage.fold_lines)."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from faceedit.stage.fold_lines import lift_lines
from faceedit.stage.tuning import EditTuning

ED = 200.0  # eye distance, px: a 1350-px portrait's


def _skin(seed: int = 0) -> np.ndarray:
    """(300, 300, 3) float skin at about 170 grey levels with a pore every few px (dark dots 1-2 px wide,
    6-10 levels deep) and a pixel's noise."""
    rng = np.random.default_rng(seed)
    lum = np.full((300, 300), 170.0, np.float32) + rng.normal(0, 1.0, (300, 300)).astype(np.float32)
    for y, x in rng.integers(5, 295, (900, 2)):
        cv2.circle(lum, (int(x), int(y)), 1, float(lum[y, x] - rng.uniform(6, 10)), -1)
    return np.stack([lum * 1.08, lum, lum * 0.9], -1)


def _arc(img: np.ndarray, depth: float, centre=(150, 150), radius=80) -> np.ndarray:
    """``img`` with a 2-px dark arc ``depth`` of its light deep over 100 degrees: a fold's core."""
    mask = np.zeros(img.shape[:2], np.uint8)
    cv2.ellipse(mask, centre, (radius, radius), 0, 130, 230, 255, 2)
    return img * (1 - depth * (mask[..., None] > 0))


def _depth(img: np.ndarray, mask: np.ndarray) -> float:
    lum = img.mean(-1)
    return float(1 - lum[mask].mean() / np.median(lum))


def test_a_fold_line_is_lifted_and_pores_stay():
    skin = _skin()
    folded = _arc(skin, 0.08)
    line = np.zeros(skin.shape[:2], np.uint8)
    cv2.ellipse(line, (150, 150), (80, 80), 0, 140, 220, 255, 2)
    line = line > 0
    region = np.ones(skin.shape[:2], np.float32)
    out = lift_lines(folded, region, ED, EditTuning())
    assert _depth(folded, line) > 0.08
    assert _depth(out, line) < 0.35 * _depth(folded, line), (_depth(folded, line), _depth(out, line))
    # the pores off the line keep their depth: the skin's detail away from it is as it was
    off = cv2.dilate(line.astype(np.uint8), np.ones((9, 9), np.uint8)) == 0
    fine = lambda a: np.abs(a.mean(-1) - cv2.GaussianBlur(a.mean(-1), (0, 0), 2.0))[off].mean()  # noqa: E731
    assert fine(out) > 0.9 * fine(folded)


def test_outside_the_region_and_on_deep_strands_nothing_changes():
    skin = _skin(1)
    folded = _arc(skin, 0.08)
    region = np.zeros(skin.shape[:2], np.float32)
    assert lift_lines(folded, region, ED, EditTuning()) is folded
    # strands of hair (dark, 0.4 deep, 20 px apart): hair, not folds; read as folds (no depth or crowd
    # gate) they would be lifted
    hair = skin.copy()
    for x in range(40, 260, 20):
        cv2.line(hair, (x, 60), (x + 15, 240), (0, 0, 0), 1)
    hair = np.where(hair.sum(-1, keepdims=True) == 0, skin * 0.6, hair).astype(np.float32)
    everywhere = np.ones(skin.shape[:2], np.float32)
    core = hair.sum(-1) < 0.7 * skin.sum(-1)
    kept = np.abs(lift_lines(hair, everywhere, ED, EditTuning()) - hair)
    # the strands as they were (a pore beside one may be lifted: the pieces, sparse, pass as alone)
    assert kept[core].max() < 2.0 and kept.mean() < 0.5, (kept[core].max(), kept.mean())
    ungated = dataclasses.replace(EditTuning(), fold_line_depth=(1.0, 2.0), fold_line_alone=10.0)
    lifted = np.abs(lift_lines(hair, everywhere, ED, ungated) - hair)
    assert lifted.mean() > 1.0 and lifted[core].mean() > 10.0


def test_a_large_face_s_wider_fold_is_lifted():
    """On a larger face (eye distance 300 px: a 2000-px portrait) a fold's core is 5 px wide; its own width and
    the spurs its curve raises across the directions are not a crowd of strands."""
    skin = _skin(2)
    mask = np.zeros(skin.shape[:2], np.uint8)
    cv2.ellipse(mask, (150, 150), (100, 100), 0, 130, 230, 255, 5)
    folded = skin * (1 - 0.08 * (mask[..., None] > 0))
    line = np.zeros(skin.shape[:2], np.uint8)
    cv2.ellipse(line, (150, 150), (100, 100), 0, 140, 220, 255, 5)
    line = line > 0
    out = lift_lines(folded, np.ones(skin.shape[:2], np.float32), 300.0, EditTuning())
    assert _depth(out, line) < 0.35 * _depth(folded, line), (_depth(folded, line), _depth(out, line))
