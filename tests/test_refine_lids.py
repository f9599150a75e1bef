"""A lid refiner (:mod:`faceedit.models.refine` with region ``lids``): its region is the closed
lid the stage draws, found from the landmarks before and after the edit
(:func:`faceedit.models.refine_regions.lid_region`), clear of the lash line; its change is
confined to that region's feathered weight, bit for bit, on the stage's own blink."""

from __future__ import annotations

import numpy as np
import pytest
from _imgs import astronaut
from test_refine import tiny_refiner

from faceedit.models.refine import refine_photo, weight_image
from faceedit.models.refine_regions import CLEAR, EYES, lid_region, opening, region_mask, skin_regions
from faceedit.train.refiner_lids import lid_config

LIDS = {"native": True, "highpass": 2.5, "stops": 1.0, "region": "lids", "feather": lid_config().feather}


def eyes(open_left: float, open_right: float) -> np.ndarray:
    """68 points: two eyes 80 px wide at y 100 (x 60-140 and 200-280) opened by the given share
    of their width, brows 40 px above, a mouth 160 px wide below (the refiner's feather reads it)."""
    lm = np.zeros((68, 2))
    for (up, low), x0, share in zip(EYES, (60.0, 200.0), (open_left, open_right)):
        h = share * 80 / 2
        lm[list(up)] = [(x0, 100), (x0 + 27, 100 - h), (x0 + 53, 100 - h), (x0 + 80, 100)]
        lm[list(low)] = [(x0, 100), (x0 + 27, 100 + h), (x0 + 53, 100 + h), (x0 + 80, 100)]
    lm[17:22] = np.c_[np.linspace(55, 145, 5), np.full(5, 60.0)]
    lm[22:27] = np.c_[np.linspace(195, 285, 5), np.full(5, 60.0)]
    t = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    lm[48:60] = np.c_[170 - 80 * np.cos(t), 250 + 20 * np.sin(t)]
    lm[60:68] = lm[[48, 49, 51, 53, 54, 55, 57, 59]] * 0.8 + np.array([170, 250]) * 0.2
    return lm


def test_the_lid_region_is_the_closed_lid_above_its_lash_line():
    before, after = eyes(0.35, 0.35), eyes(0.02, 0.35)  # the image's left eye closes, the right stays open
    assert opening(after, 0) < 0.1 * opening(before, 0) and opening(after, 1) == pytest.approx(opening(before, 1))
    region = lid_region(before, after, (300, 340))
    full = region_mask((300, 340), region) > 0.5
    ys, xs = np.nonzero(full)
    assert xs.min() >= 60 + 0.1 * 80 and xs.max() <= 140 - 0.1 * 80  # the left eye only, its corners left out
    lash = (after[37, 1] + after[41, 1]) / 2
    assert ys.max() <= lash - CLEAR * 80 + 1  # clear of the lash line
    assert ys.min() <= before[37, 1] - 4  # from above the open eye's lid contour
    assert lid_region(before, before, (300, 340)) is None  # nothing closes: no region
    skin = region_mask((300, 340), skin_regions(before, (300, 340))) > 0.5
    assert skin[:, 60:140].any() and skin[:, 200:280].any() and not skin[95:105].any()  # lid and under-eye bands


def test_a_lid_refiner_changes_only_the_closed_lid_clear_of_its_lashes():
    rng = np.random.default_rng(0)
    img = (rng.integers(80, 200, (300, 340, 1)) * np.array([[[1.0, 0.75, 0.6]]])).astype(np.uint8)
    before, after = eyes(0.35, 0.35), eyes(0.02, 0.02)
    r = tiny_refiner(1, "reggan", **LIDS)
    region = lid_region(before, after, img.shape)
    out = refine_photo(r, img, [(after, region)])
    weight = weight_image(img.shape[:2], after, region, r.cfg)
    assert np.array_equal(out[weight == 0], img[weight == 0])
    inside = region_mask(img.shape, region) > 0.99
    assert (np.abs(out.astype(int) - img)[inside].max(-1) > 0).mean() > 0.5
    assert np.array_equal(out[99:102], img[99:102])  # the closed eyes' lash line: not one pixel
    assert np.array_equal(out[:, 150:190], img[:, 150:190])  # between the eyes


@pytest.fixture(scope="module")
def blinked():
    from faceedit.faces.detectors import get_detector
    from faceedit.models.loading import load_model
    from faceedit.models.request import EditRequest

    img = astronaut()
    face = max(get_detector("mediapipe", device="cpu").detect(img), key=lambda f: f.area)
    staged, edits = load_model("stage").model.edit_photo(img, [face], EditRequest.of("keep", 1.0, controls={"blink": 1.0}))
    return np.asarray(face.landmarks, np.float64), staged, edits[0].landmarks


def test_on_the_stages_blink_a_lid_refiner_writes_only_its_lids(blinked):
    """The stage's blink closes both of the astronaut's eyes; a lid refiner's change on it is
    inside the two lids' feathered weight (bit-exact elsewhere), above the stage's lash lines."""
    before, staged, after = blinked
    region = lid_region(before, after, staged.shape)
    assert region is not None
    full = region_mask(staged.shape, region) > 0.5
    mid = (before[36, 0] + before[45, 0]) / 2
    assert full[:, : int(mid)].any() and full[:, int(mid):].any()  # both eyes
    r = tiny_refiner(2, "reggan", **LIDS)
    out = refine_photo(r, staged, [(after, region)])
    weight = weight_image(staged.shape[:2], after, region, r.cfg)
    assert np.array_equal(out[weight == 0], staged[weight == 0])
    assert (np.abs(out.astype(int) - staged)[full].max(-1) > 0).mean() > 0.5
    for up, low in EYES:  # the closed eyes' lash line (the middle of the contours), 1 px each side
        for k in (1, 2):
            x, y = after[up[k]], (after[up[k], 1] + after[low[k], 1]) / 2
            rows = slice(int(round(y)) - 1, int(round(y)) + 2)
            assert np.array_equal(out[rows, int(round(x[0]))], staged[rows, int(round(x[0]))])
