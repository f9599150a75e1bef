"""A laugh closed: the cut found from colour (its teeth) is eased out onto the mouth's outer corners
before the lips close (faceedit.stage.mouth_steps.interior_cut), so the dark between the lips beyond the
teeth (the corridor, a back tooth) closes with them instead of standing at the closed corners as dark,
torn ends."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from _bench import load_bench

from faceedit.stage.cut_curves import MAX_LIP_TURN, sharpest_turn
from faceedit.stage.mouth_steps import interior_cut
from faceedit.stage.tuning import EditTuning

LONDON_HD = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "london_hd"


def _laugh() -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """68 points of a mouth 100 px from outer corner to outer corner (48 at x 0, 54 at x 100; the inner
    corners 60, 64 at 8 and 92) and the teeth found from colour between x 15 and 85: a lens 16 px tall
    whose ends turn up into the corners, as a laugh's teeth end short of its corners."""
    lm = np.zeros((68, 2))
    lm[48], lm[54], lm[60], lm[64] = (0.0, 0.0), (100.0, 0.0), (8.0, 0.0), (92.0, 0.0)
    lm[[61, 62, 63]] = [(30.0, -6.0), (50.0, -6.0), (70.0, -6.0)]
    lm[[65, 66, 67]] = [(70.0, 10.0), (50.0, 10.0), (30.0, 10.0)]
    lm[36:42] = (20.0, -60.0)  # (the eyes, 60 px apart: the lips' gap is read in eye distances)
    lm[42:48] = (80.0, -60.0)
    x = np.linspace(15.0, 85.0, 41)
    bulge = np.sin(np.pi * (x - 15.0) / 70.0)
    return lm, (np.stack([x, -6.0 * bulge], 1), np.stack([x, 10.0 * bulge], 1))


def test_a_closing_laughs_cut_reaches_its_outer_corners_in_its_own_shape():
    lm, shown = _laugh()
    tn = EditTuning()
    up, lo = interior_cut(shown, lm, 1.0, tn)
    # both curves from outer corner to outer corner
    for c in (up, lo):
        assert np.allclose(c[0], lm[48]) and np.allclose(c[-1], lm[54])
    # the teeth found all stay between them: at every place across the found lens, the cut is no narrower
    for x in np.linspace(17.0, 83.0, 15):
        top, bottom = np.interp(x, up[:, 0], up[:, 1]), np.interp(x, lo[:, 0], lo[:, 1])
        assert top <= np.interp(x, *shown[0].T) + 1e-6 and bottom >= np.interp(x, *shown[1].T) - 1e-6, x
    # no sharp turn (the warp takes a curve turning past MAX_LIP_TURN for a loop folded across the teeth, and
    # cuts along the 68 points instead: a line on from each end turned the lower curve so where it rose)
    assert max(sharpest_turn(up), sharpest_turn(lo)) < MAX_LIP_TURN
    # the middle of the cut as found, widened by the closing margins only
    mid = len(up) // 2
    assert abs(up[mid, 0] - 50.0) < 0.5 and up[mid, 1] < -6.0 and lo[mid, 1] > 10.0
    # a mouth that opens keeps them (within ``interior_corner_gap`` of its inner corners, 60 and 64)
    assert interior_cut(shown, lm, 0.0, tn) is shown


def test_ends_near_the_corners_stay_and_no_reach_keeps_the_cut():
    lm, shown = _laugh()
    tn = EditTuning()
    near = tuple(np.vstack([lm[48] + (1.0, 0.0), c[1:-1], lm[54] - (1.0, 0.0)]) for c in shown)
    up, _ = interior_cut(near, lm, 1.0, tn)
    assert np.allclose(up[[0, -1]], near[0][[0, -1]])  # (within ``interior_corner_gap``: left)
    up, _ = interior_cut(shown, lm, 1.0, dataclasses.replace(tn, closing_ends=0.0))
    assert np.allclose(up[[0, -1]], shown[0][[0, -1]])


@pytest.mark.skipif(not (LONDON_HD / "smiling" / "018.jpg").is_file(), reason="../shared/data/london_hd absent")
def test_london_018s_laugh_made_neutral_closes_without_dark_ends():
    """London HD 018 smiling (1350 px, teeth apart at the corners, a back tooth in the right one) made neutral: the
    share of its closed lips (dlib's outer lip) darker than 0.45 of their median luma
    (``bench/bench_laugh_neutral.py``'s ``dark_inside``) no more than on its own neutral photo (0.0078; 0.0019 with
    the cut eased onto the corners, 0.0092 cut at its teeth's ends, the corners' dark carried)."""
    from faceedit.api import Editor
    from faceedit.eval import world

    bench = load_bench("bench_laugh_neutral")
    read = bench.Dlib68()
    ed = Editor.from_pretrained("stage", device="cpu")
    edit = ed.edit(world.read_rgb(LONDON_HD / "smiling" / "018.jpg"), "neutral", force=True)
    own = world.read_rgb(LONDON_HD / "neutral" / "018.jpg")
    lm_edit, lm_own = read(edit), read(own)
    assert lm_edit is not None and lm_own is not None
    assert bench.dark_inside(edit, lm_edit) <= bench.dark_inside(own, lm_own)
