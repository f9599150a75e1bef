"""A raised brow's space lit (faceedit.stage.brow_space): the dark band a raised brow's warp stretches
between the brow and the eye goes toward the forehead's light, in proportion to the rise; nothing
darker, nothing where no brow rises, nothing outside the space."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _bench import load_bench, mean_face_landmarks

from faceedit.stage.brow_space import lift_brow_space, space_rise
from faceedit.stage.tuning_face import BrowsTuning

YALE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "yale"


def _face() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mean face (68 points, its eyes about 60 px wide) on skin, its brows raised by the
    move (``src`` the points before it, ``lm`` after), the space under them a dark band (the
    socket's shadow the warp stretched)."""
    lm = mean_face_landmarks()
    width = float(np.linalg.norm(lm[39] - lm[36]))
    lm[17:27, 1] -= 0.4 * width  # where the move put the brows ...
    src = lm.copy()
    src[17:27, 1] += 0.35 * width  # ... from where they stood
    h, w = int(lm[:, 1].max()) + 60, int(lm[:, 0].max()) + 60
    img = np.full((h, w, 3), (200, 160, 140), np.float32)
    for brow, lid in (((17, 21), (36, 39)), ((22, 26), (42, 45))):
        x0, x1 = int(lm[brow[0], 0]), int(lm[brow[1], 0])
        y0, y1 = int(lm[brow[0]:brow[1] + 1, 1].max() + 0.3 * width), int(lm[lid[0] + 1, 1] - 0.1 * width)
        img[y0:y1, x0:x1] = (110, 80, 70)
    rng = np.random.default_rng(0)
    img += rng.normal(0.0, 3.0, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8), src, lm


def test_the_space_a_raised_brow_opens_is_lit():
    img, src, lm = _face()
    assert space_rise(src, lm, (17, 18, 19, 20, 21), (36, 37, 38, 39)) > BrowsTuning().space_rise[1]
    out = lift_brow_space(img, src, lm, np.array([0.25, 0.25]))
    width = float(np.linalg.norm(lm[39] - lm[36]))
    y = int(round(0.5 * (lm[17:22, 1].max() + 0.3 * width + lm[37, 1] - 0.1 * width)))  # (the band's middle)
    x = int(round(lm[19, 0]))
    before, after = img[y - 2:y + 3, x - 2:x + 3].astype(float), out[y - 2:y + 3, x - 2:x + 3].astype(float)
    lift, level = BrowsTuning().space_lift
    # the band's light goes most of the lift's way toward the forehead's share (200 on red)
    assert (after - before)[..., 0].mean() > 0.6 * lift * (level * 200 - 110)
    # nothing darker anywhere; the grain kept (the lift a smooth field)
    assert (out.astype(int) >= img.astype(int) - 1).all()
    assert np.std(after[..., 0] - before[..., 0]) < 0.6 * np.std(before[..., 0])
    # the mouth and the cheeks as they were
    assert np.array_equal(out[int(lm[33, 1]):], img[int(lm[33, 1]):])


def test_no_rise_no_lift():
    img, src, lm = _face()
    assert lift_brow_space(img, lm, lm, np.array([0.25, 0.25])) is img  # brows where they were
    lowered = lm.copy()
    lowered[17:27, 1] -= 0.1 * float(np.linalg.norm(lm[39] - lm[36]))  # (stood higher: the move lowered them)
    assert lift_brow_space(img, lowered, lm, np.array([0.25, 0.25])) is img
    # a smaller rise (under ``space_rise``), a smaller lift
    lower = lm + 0.3 * (src - lm)
    assert space_rise(lower, lm, (17, 18, 19, 20, 21), (36, 37, 38, 39)) < BrowsTuning().space_rise[1]
    full = lift_brow_space(img, src, lm, None).astype(float) - img
    part = lift_brow_space(img, lower, lm, None).astype(float) - img
    assert 0 < part.sum() < 0.8 * full.sum()



def test_the_space_reaches_the_brows_tail_not_past_its_head():
    """Beside the eye's outer corner, under the brow's tail, the stretched dark is lit as the space
    over the lid is (a thick brow's tail drawn down to the corner: a dark smear); the socket beside
    the inner corner, under the brow's head, keeps its shade (real surprised faces keep it there)."""
    img, src, lm = _face()
    width = float(np.linalg.norm(lm[39] - lm[36]))
    top = int(lm[17, 1] + 0.35 * width)
    outer = (slice(top, int(lm[36, 1] - 0.15 * width)), slice(int(lm[17, 0]) + 2, int(lm[36, 0]) - 2))
    inner = (slice(top, int(lm[39, 1] - 0.15 * width)), slice(int(lm[39, 0]) + 2, int(lm[21, 0]) - 2))
    assert lm[17, 0] < lm[36, 0] - 6 and lm[21, 0] > lm[39, 0] + 6  # (the brow reaches past both corners)
    dark = img.copy()
    for box in (outer, inner):
        dark[box] = (110, 80, 70)
    out = lift_brow_space(dark, src, lm, np.array([0.25, 0.25])).astype(float)
    lift, level = BrowsTuning().space_lift
    assert (out[outer] - dark[outer])[..., 0].mean() > 0.5 * lift * (level * 200 - 110)
    assert (out[inner] - dark[inner])[..., 0].mean() < 0.25 * lift * (level * 200 - 110)


@pytest.mark.skipif(not (YALE / "subject01.normal.png").is_file(), reason="../shared/data/yale absent")
def test_yale_faces_made_surprised_open_the_space_into_the_light():
    """Yale's subjects 01-06 (lit from above: deep sockets) made surprised: the brow-lid space's
    light over the forehead's, median over their eyes (``bench/measure_brow_space.py``'s reading),
    at least 0.52 (their own surprised photos 0.57; the warp alone stretched it dark, 0.44)."""
    from faceedit.api import Editor
    from faceedit.eval import world

    bench = load_bench("measure_brow_space")
    ed = Editor.from_pretrained("stage", device="cpu")
    read = []
    for i in range(1, 7):
        rgb = world.read_rgb(YALE / f"subject{i:02d}.normal.png")
        read += bench.space_light(ed.detector, ed.edit(rgb, "surprised", force=True))
    assert len(read) == 12
    assert np.median(read) >= 0.52, read
