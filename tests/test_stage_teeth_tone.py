"""The upper teeth in a thin opening (faceedit.stage.teeth_tone, with the shipped mouth bank and
tooth_steps): warm as real teeth in shade (green over blue, less red than the lips' bounce made
them), lit, not a dim band, and darker under the upper lip than further down."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from _imgs import drawn_face

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.cut_curves import opening_polygon
from faceedit.stage.mouth_bank import MouthBank
from faceedit.stage.teeth_tone import SHADE_TONE, shade_warmth, thin_row_tone, thin_weight
from faceedit.stage.tooth_steps import tooth_steps
from faceedit.stage.tuning import MouthTuning

LUMA = np.asarray(LUMA_WEIGHTS)


@pytest.fixture(scope="module")
def bank() -> MouthBank:
    return MouthBank.load()


def test_shade_warmth_is_ivory_not_grey():
    w = shade_warmth(np.array([1.0, 1.2, 0.6]), 1.0)
    # each row keeps the luma; no shade, no colour
    assert np.allclose(w @ LUMA, 1.0)
    assert np.allclose(w[:2], 1.0)
    # in shade: red over green over blue (real teeth's: their blue falls furthest)
    r, g, b = w[2]
    assert r > g > b, w[2]
    assert SHADE_TONE[1] > SHADE_TONE[2]


def test_thin_row_lit_as_carried_only_when_thin():
    tn = MouthTuning()
    t = np.linspace(0.0, 8.0, 9)
    tint = np.full(9, 0.85)
    thin, _ = thin_row_tone(tint, t, np.full(9, 0.15 * 300), 300.0, tn)
    wide, warm = thin_row_tone(tint, t, np.full(9, 0.4 * 300), 300.0, tn)
    assert thin_weight(0.15) == 1.0 and thin_weight(0.4) == 0.0
    assert np.array_equal(wide, tint)
    assert np.allclose(warm, shade_warmth(tint, tn.teeth_bounce))
    # a thin row lighter than the open mouth's shade, the lift largest away from the lip
    assert (thin > tint).all()
    assert thin[-1] / tint[-1] > thin[0] / tint[0]


def thin_mouth(bank: MouthBank, tuning: MouthTuning | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(the drawn face with a fearful-like thin opening, 180 px wide, 6 px above its middle line and
    22 below, filled from the bank under a relaxed lip and drawn by :func:`tooth_steps`; the
    opening's upper row of lit teeth over the opening's roi: in each column the first run from the
    top of pixels over 0.45 of the opening's 98th-percentile luma) and the roi's pixels."""
    img = drawn_face()
    t = np.linspace(0.0, 1.0, 15)
    x, bump = 150 + 180 * t, np.sin(np.pi * t)
    up, lo = np.c_[x, 200 - 6.0 * bump], np.c_[x, 200 + 22.0 * bump]
    poly = opening_polygon(up, lo)
    x0, y0 = np.floor(poly.min(0)).astype(int) - 4
    x1, y1 = np.ceil(poly.max(0)).astype(int) + 5
    m = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(m, [np.round((poly - [x0, y0]) * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
    op = m.astype(np.float32) / 255.0
    out, _ = bank.fill(img, (x0, y0, x1, y1), op, up, lo, teeth_cover=0.4, tuning=tuning)
    out = tooth_steps(out, (x0, y0, x1, y1), op, 240.0, 180.0)
    f = out[y0:y1, x0:x1, :3].astype(np.float64) / 255.0
    y = f @ LUMA
    inside = op > 0.99
    lit = inside & (y > 0.45 * np.percentile(y[inside], 98))
    row = np.zeros_like(lit)
    for c in np.flatnonzero(lit.any(0)):
        ys = np.flatnonzero(lit[:, c])
        br = np.flatnonzero(np.diff(ys) > 1)
        row[ys[0]:(ys[br[0]] if br.size else ys[-1]) + 1, c] = True
    return row, f


def colour(f: np.ndarray, mask: np.ndarray) -> np.ndarray:
    y = f @ LUMA
    return np.median(f[mask] / y[mask][:, None], 0)


def test_thin_gap_teeth_are_warm_ivory_and_lit(bank):
    """The thin row's colour toward real teeth's: green over blue in its darker half and its brightest
    quarter (14 London HD training smiles' upper rows 0.003-0.129 and 0.007-0.093), its brightest
    quarter's red over green under 0.15 (darkened toward the drawn face's red lips it read 0.215, 0.083 now;
    real 0.017-0.065); and lit: its brightest quarter's luma over 0.5 (0.44 in the open mouth's
    shade, 0.54 lit as a carried row)."""
    row, f = thin_mouth(bank)
    core = cv2.erode(row.astype(np.uint8), np.ones((3, 1), np.uint8)) > 0
    y = f @ LUMA
    yt = y[core]
    assert yt.size > 100
    bright, dark = core & (y >= np.percentile(yt, 75)), core & (y < np.percentile(yt, 50))
    cb, cd = colour(f, bright), colour(f, dark)
    assert cd[1] - cd[2] > 0.0, cd
    assert cb[1] - cb[2] > 0.0, cb
    assert cb[0] - cb[1] < 0.15, cb
    assert float(np.median(y[bright])) > 0.5


def test_thin_gap_teeth_darker_under_the_upper_lip(bank):
    """Down the middle columns of the thin row the first pixel (under the upper lip) is darker
    than the column's brightest, which lies below it (real rows: their upper quarter 0.71-0.91 of
    the column's brightest)."""
    row, f = thin_mouth(bank)
    y = f @ LUMA
    cols = np.flatnonzero(row.any(0))
    tops, peaks = [], []
    for c in cols[int(0.35 * cols.size):int(0.65 * cols.size)]:
        p = y[row[:, c], c]
        tops.append(p[0] / p.max())
        peaks.append(int(np.argmax(p)))
    assert np.median(tops) < 0.9, np.median(tops)
    assert np.median(peaks) >= 1
