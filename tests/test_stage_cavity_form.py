"""The form inside a wide-open mouth's drawn cavity (faceedit.stage.cavity): its corners darker than
its middle (the side walls turned from the light), the tongue's hint low and dim in a tall opening and
none in a thin one, the whole still dark."""

from __future__ import annotations

import numpy as np
from _imgs import drawn_open_mouth

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.cavity import draw_cavity, walls
from faceedit.stage.tuning import MouthTuning

LUMA = np.asarray(LUMA_WEIGHTS)


def test_the_walls_darken_the_corners_and_leave_the_middle():
    """At the tuning's values the factor at a corner is 1 less the wall's dark, rising to 1 at
    ``cavity_wall_reach`` of the width in and staying there to the middle."""
    tn = MouthTuning()
    f = walls(np.array([0.0, 1.0, 0.5 * tn.cavity_wall_reach, tn.cavity_wall_reach, 0.5]), tn)
    assert np.allclose(f[:2], 1.0 - tn.cavity_wall_dark), f
    assert f[0] < f[2] < f[3] == 1.0 == f[4], f


def _fill(tuning: MouthTuning | None = None):
    """(luma of the filled drawn open mouth, the opening's box, its coverage) from the mouth bank."""
    from faceedit.stage.mouth_bank import MouthBank

    img, up, lo, roi, op, _ = drawn_open_mouth()
    out, _ = MouthBank.load().fill(img, roi, op, up, lo, teeth_cover=0.4, tuning=tuning or MouthTuning())
    return out.astype(np.float64) @ LUMA, roi, op


def _sides_over_middle(tuning: MouthTuning | None = None) -> tuple[float, float]:
    """(the opening's middle rows (v 0.25-0.75) between 0.15 and 0.3 of its width from each end over
    their middle third, medians of the luma; the opening's median over the skin's) on the drawn open
    mouth filled by the mouth bank (its outer sixths, which ``bench/measure_cavity_structure.py``
    reads on photos, hold the lips meeting at its pointed ends here)."""
    y, (x0, y0, x1, y1), op = _fill(tuning)
    inside = op > 0.5
    cols = np.flatnonzero(inside.any(0))
    c0, c1 = cols[0], cols[-1]
    top = np.argmax(inside, 0)
    bottom = inside.shape[0] - 1 - np.argmax(inside[::-1], 0)
    rr, cc = np.nonzero(inside)
    v = (rr - top[cc]) / np.maximum(bottom[cc] - top[cc], 1)
    u = (cc - c0) / max(c1 - c0, 1)
    val = y[y0:y1, x0:x1][rr, cc]
    mid = (v > 0.25) & (v < 0.75)
    sides = float(np.median(val[mid & (np.abs(u - 0.5) > 0.2) & (np.abs(u - 0.5) < 0.35)]))
    middle = float(np.median(val[mid & (np.abs(u - 0.5) < 1 / 6)]))
    return sides / middle, float(np.median(val)) / float(np.median(y[300:340, 40:120]))


def test_an_open_mouth_is_darker_toward_its_corners_than_without_walls():
    """Through the mouth bank: toward its ends the middle rows read at most 1.1 of their middle third
    (1.04 at the tuning's values; the bank's profile is lighter at its sides); with the walls' dark at 0
    at least 0.2 more (1.30); the opening stays dark, its median at most 0.15 of the skin's (0.090)."""
    with_walls, dark = _sides_over_middle()
    flat, _ = _sides_over_middle(MouthTuning(cavity_wall_dark=0.0))
    assert with_walls <= 1.1, with_walls
    assert flat >= with_walls + 0.2, (flat, with_walls)
    assert dark <= 0.15, dark


def test_a_tall_opening_shows_its_tongue_low_and_dim():
    """draw_cavity on a grid of (u, v): in a tall opening (0.5 of the corner distance) the middle
    column is lightest in its lowest fifth, no lighter there than a third of the lips' luma, and
    darkest above the middle; in a thin one (0.1) there is no tongue, its lowest fifth darker."""
    tn = MouthTuning()
    v = np.linspace(0.0, 1.0, 41)
    u = np.full_like(v, 0.5)
    prof = np.zeros((24, 16), np.float32) + 0.05
    rgb = np.array([1.2, 0.9, 0.85])

    def column(height: float) -> np.ndarray:
        col = draw_cavity(prof, rgb, u, v, (1, 2), tn, 0.5, 0.7, np.full_like(v, height))
        return col @ LUMA

    tall, thin = column(0.5), column(0.1)
    assert int(np.argmax(tall)) >= 32, tall
    assert tall.max() <= 0.5 / 3, tall.max()
    assert int(np.argmin(tall)) < 20, tall
    assert thin[32:].max() < tall[32:].max(), (thin[32:].max(), tall[32:].max())
