"""Sad's forehead lines drawn as creases in the photo's light (faceedit.stage.forehead_creases):
short lines over the inner brows when they rise alone, a darker valley under a lit wall, nothing
when the brows do not rise, nothing off the forehead or on the hair (a dark fringe, a blond one's
strands)."""

from __future__ import annotations

import numpy as np
import pytest

from faceedit.faces.au import AU_IDS
from faceedit.stage import forehead_creases as fc
from faceedit.stage.folds import fold_ratio, paint_folds, shipped_stats
from faceedit.stage.model import Stage
from faceedit.stage.moves import face_frame
from faceedit.stage.tuning_folds import FoldsTuning

SHAPE = (1100, 1100, 3)
ABOVE = np.array([0.0, -1.0])


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    """The stage's mean neutral face at 4x its 256-px frame (an eye distance near 250 px)."""
    return Stage.from_pretrained("stage")._a("mean_shape").astype(np.float64) * 4.0


def _full(face, spread=0.0, amount=1.0, hair=None, light=ABOVE):
    made = fc.forehead_log_ratio(SHAPE, face, amount, spread, None, light, 1.0, hair=hair)
    assert made is not None
    (x0, y0, x1, y1), lr = made
    full = np.zeros(SHAPE[:2])
    full[y0:y1, x0:x1] = lr
    return full


def _aus(**rise):
    v = np.zeros(len(AU_IDS))
    for k, x in rise.items():
        v[AU_IDS.index(int(k[2:]))] = x
    return v


def test_spread_reads_which_brows_rose():
    none = np.zeros(len(AU_IDS))
    assert fc.forehead_spread(none, none) == 0.0
    assert fc.forehead_spread(none, _aus(au1=3.8, au2=-2.0, au4=2.7)) == 0.0  # sad: the inner brows alone
    assert fc.forehead_spread(none, _aus(au1=4.2, au2=4.1)) == pytest.approx(4.1 / 4.2)  # surprise
    assert fc.across_share(0.0) == 0.0 and fc.across_share(1.0) == 1.0


def test_a_crease_is_darker_in_its_valley_than_on_its_shoulders(face):
    full = _full(face)
    ed = face_frame(face)[2]
    for line in fc.forehead_points(face, 0.0):
        x, y = np.round(line[len(line) // 2]).astype(int)
        col = full[:, x]
        valley = col[y - 2:y + 3].min()
        beside = 4 * int(round(FoldsTuning().forehead_width * ed))
        assert valley < -0.05
        assert valley < col[y - beside] - 0.04 and valley < col[y + beside] - 0.04
    # never a bright streak: what the light lifts is a small share of what the valleys darken
    assert full.max() < 0.35 * -full.min()


def test_the_lit_wall_is_on_the_lights_side(face):
    ed = face_frame(face)[2]
    line = fc.forehead_points(face, 0.0)[0]
    x, y = np.round(line[len(line) // 2]).astype(int)
    off = int(round(1.2 * FoldsTuning().forehead_width * ed))
    below = _full(face, light=np.array([0.0, 1.0]))
    above = _full(face)
    # a groove's wall facing the light is lighter than the one facing away
    assert above[y + off, x] > above[y - off, x]
    assert below[y - off, x] > below[y + off, x]


def test_sad_lines_lie_over_the_forehead_middle_only(face):
    u, n, ed = face_frame(face)
    origin = (face[21] + face[22]) / 2
    gy, gx = np.mgrid[0:SHAPE[0], 0:SHAPE[1]]
    a = ((gx - origin[0]) * u[0] + (gy - origin[1]) * u[1]) / ed
    b = ((gx - origin[0]) * n[0] + (gy - origin[1]) * n[1]) / ed
    brows_top = float(min(((face[17:27] - origin) @ n) / ed))
    sad, across = np.abs(_full(face, 0.0)) > 1e-4, np.abs(_full(face, 0.45)) > 1e-4
    assert sad.any()
    # above the brows, within the forehead's middle for sad; further out as the outer brows rise too
    assert (b[sad] < brows_top).all()
    reach = FoldsTuning().forehead_reach
    assert np.abs(a[sad]).max() < reach[0] + 0.1
    assert np.abs(a[across]).max() > np.abs(a[sad]).max() + 0.1


def test_knit_reads_au4_over_au1():
    assert fc.forehead_knit(_aus(au1=4.8, au4=2.6)) == 1.0  # the stage's sad
    assert fc.forehead_knit(_aus(au1=2.2, au2=0.4)) == 0.0  # its fearful: no knit
    assert 0.0 < fc.forehead_knit(_aus(au1=2.0, au4=0.4)) < 1.0
    assert fc.forehead_knit(np.zeros(len(AU_IDS))) == 1.0


def test_fear_rows_lie_across_the_middle_longer_than_sads_and_not_bowed(face):
    u, n, ed = face_frame(face)
    origin = (face[21] + face[22]) / 2

    def rows(knit):
        out = []
        for line in fc.forehead_points(face, 0.0, knit=knit):
            a = (line - origin) @ u / ed
            out.append((a.max() - a.min(), abs(a.mean())))
        return np.array(out)

    def bows(knit):  # how far each row's middle lies above (b smaller) its course 0.2 either side
        return np.array([ln.c2 * 0.04 for ln in fc.forehead_lines(face, 0.0, knit=knit)[0]])

    sad, fear = rows(1.0), rows(0.0)
    # sad's rows bow up over the middle well beyond the brows' own arch; fear's far less
    assert (bows(1.0) > bows(0.0) + 0.015).all()
    # fear's rows are longer than sad's, shorter than surprise's lines across, and about the middle
    assert (fear[:, 0] > sad[:, 0] + 0.1).all()
    assert (fear[:, 0] < 2 * FoldsTuning().forehead_reach[1]).all() and (fear[:, 1] < 0.05).all()
    # and closer together
    lines = fc.forehead_lines(face, 0.0, knit=0.0)[0], fc.forehead_lines(face, 0.0, knit=1.0)[0]
    assert lines[0][0].c0 - lines[0][-1].c0 < lines[1][0].c0 - lines[1][-1].c0


def test_nothing_on_the_hair(face):
    full = _full(face)
    (x0, y0, x1, y1), _ = fc.forehead_log_ratio(SHAPE, face, 1.0, 0.0, None, ABOVE, 1.0)
    mid = (x0 + x1) // 2
    matte = np.zeros((y1 - y0, x1 - x0), np.float32)
    matte[:, :mid - x0] = 1.0  # hair over the image's left half of the lines
    masked = _full(face, hair=((int(x0), int(y0), int(x1), int(y1)), matte))
    assert np.abs(masked[:, :mid]).max() == 0.0
    np.testing.assert_allclose(masked[:, mid:], full[:, mid:])


def test_nothing_drawn_when_the_brows_do_not_rise(face):
    assert fc.forehead_log_ratio(SHAPE, face, 0.0, 0.0, None, ABOVE, 1.0) is None
    stats = shipped_stats()
    if stats is None:
        pytest.skip("fold statistics not installed")
    pixels = np.full(SHAPE, 170, np.uint8)
    assert paint_folds(pixels, face, {"forehead": 0.0, "glabella": 0.0}, stats.params, spread=0.0) is pixels


def test_fold_ratio_draws_sad_as_creases_and_surprise_as_its_lines_across(face):
    stats = shipped_stats()
    if stats is None:
        pytest.skip("fold statistics not installed")
    own = _full(face)
    (x0, y0, x1, y1), r = fold_ratio(SHAPE, face, {"forehead": 1.0}, stats.params, ABOVE, spread=0.0)
    full = np.zeros(SHAPE[:2])
    full[y0:y1, x0:x1] = np.log(r)
    np.testing.assert_allclose(full, own, atol=1e-9)
    (x0, y0, x1, y1), r = fold_ratio(SHAPE, face, {"forehead": 1.0}, stats.params, ABOVE, spread=1.0)
    across = np.zeros(SHAPE[:2])
    across[y0:y1, x0:x1] = np.log(r)
    assert (np.abs(across) > 1e-3).sum() > (np.abs(own) > 1e-3).sum()


def _skin(seed=0):
    rng = np.random.default_rng(seed)
    skin = np.array([190.0, 150.0, 130.0]) + rng.normal(0.0, 3.0, SHAPE[:2])[..., None]
    return skin


def test_forehead_hair_reads_a_dark_fringe_and_strands_and_not_bare_skin(face):
    (x0, y0, x1, y1), _ = fc.forehead_log_ratio(SHAPE, face, 1.0, 0.0, None, ABOVE, 1.0)
    box = (x0, y0, x1, y1)
    mid = (x0 + x1) // 2
    bare = np.clip(_skin(), 0, 255).astype(np.uint8)
    assert fc.forehead_hair(bare, face, box).max() < 0.05
    dark = _skin(1)
    dark[:y1 + 50, :mid] = [60.0, 45.0, 35.0]  # a dark fringe over the image's left half of the lines
    hair = fc.forehead_hair(np.clip(dark, 0, 255).astype(np.uint8), face, box)
    assert hair[:, :mid - x0 - 45].min() > 0.95 and hair[:, mid - x0 + 45:].max() < 0.05
    blond = _skin(2)
    gy, gx = np.mgrid[0:SHAPE[0], 0:SHAPE[1]]
    strands = 40.0 * np.sin(2 * np.pi * (gx + 0.5 * gy) / 7.0)  # fine lines all one way, the skin's own luma
    blond[:, :mid] += (strands[:, :mid] * (gy[:, :mid] < y1 + 50))[..., None]
    hair = fc.forehead_hair(np.clip(blond, 0, 255).astype(np.uint8), face, box)
    assert hair[:, :mid - x0 - 45].mean() > 0.9 and hair[:, mid - x0 + 45:].max() < 0.05
    # the lines stop there when painted on the photo
    made = fc.forehead_log_ratio(SHAPE, face, 1.0, 0.0, None, ABOVE, 1.0,
                                 pixels=np.clip(dark, 0, 255).astype(np.uint8))
    assert made is not None
    lr = made[1]
    assert np.abs(lr[:, :mid - x0 - 45]).max() < 1e-3 and np.abs(lr[:, mid - x0 + 45:]).max() > 0.05
