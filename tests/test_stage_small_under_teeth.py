"""A small face's smile over its own upper teeth: the opening under them shows the exemplar's
lower row (:meth:`faceedit.stage.mouth_bank.MouthBank._under_teeth`), not an open mouth's
cavity, which stood as a black gap under the teeth on London 008 smiling at 128 px and 083 at
JPEG q30 made happy. A relaxed lip (fear, surprise) still opens onto the cavity. And a small
face's own teeth carried down with the lower lip just under a smile drawn from the bank
(:func:`faceedit.stage.teeth_look.carried_row`) go into the lip's shade, not a second lit row."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
from _imgs import drawn_face, mouth_opening

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.cut_curves import opening_polygon
from faceedit.stage.tuning import MouthTuning

LUMA = np.asarray(LUMA_WEIGHTS, np.float64)
TEETH = (230, 228, 222)


def _small_smile():
    """A drawn face shrunk to a mouth 44 px wide, its own upper teeth a 2-px band under the
    upper lip (left out of the opening, as the stage carries them), the opening below."""
    img = cv2.resize(drawn_face(), (120, 90), interpolation=cv2.INTER_AREA)
    up, lo, (x0, y0, x1, y1), op = mouth_opening(38, 50, 44, 1.0, 6.0, 3)
    band = np.zeros_like(op)
    for c in range(op.shape[1]):
        rows = np.flatnonzero(op[:, c] > 0.5)
        if len(rows) > 4:
            band[rows[0]:rows[0] + 2, c] = 1.0
    img[y0:y1, x0:x1][band > 0] = TEETH
    op = op * (1.0 - band)
    return img, (x0, y0, x1, y1), op, up, lo


def _under(bank, tuning, cover):
    img, roi, op, up, lo = _small_smile()
    out, _ = bank.fill(img, roi, op, up, lo, own_teeth=True, teeth_cover=cover, tuning=tuning, exemplar=14)
    x0, y0, x1, y1 = roi
    inside = op > 0.9
    return np.median(out[y0:y1, x0:x1][inside].astype(np.float64) @ LUMA), float(np.asarray((168, 92, 90)) @ LUMA)


def test_a_small_smile_under_its_own_teeth_shows_a_lower_row_not_a_dark_gap():
    from faceedit.stage.mouth_bank import MouthBank

    bank = MouthBank.load()
    tn = MouthTuning()
    smile, lip = _under(bank, tn, 0.0)
    cavity, _ = _under(bank, replace(tn, under_teeth_small=2.0), 0.0)  # the open mouth's path
    relaxed, _ = _under(bank, tn, 0.4)
    assert smile > 0.6 * lip  # teeth in the lips' light, not a gap
    assert cavity < 0.5 * lip and relaxed < 0.5 * lip  # the cavity: what a relaxed lip still shows


def _carried(lit: bool):
    """A drawn face's small smile (mouth 44 px wide) drawn from the bank whole, with (``lit``)
    or without the face's own teeth as a 2-px band just under the opening (carried down with
    the lower lip)."""
    img, roi, _, up, lo = _small_smile()
    x0, y0, x1, y1 = roi
    m = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(m, [np.round((opening_polygon(up, lo) - [x0, y0]) * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
    full = m.astype(np.float32) / 255.0  # no own teeth at the top: all of it is the opening
    band = np.zeros(full.shape, bool)
    for c in range(full.shape[1]):
        rows = np.flatnonzero(full[:, c] > 0.5)
        if len(rows) > 2:
            band[rows[-1] + 1:rows[-1] + 3, c] = True
    if lit:
        img[y0:y1, x0:x1][band] = TEETH
    return img, roi, full, up, lo, band


def test_a_small_face_s_own_teeth_carried_under_the_smile_go_into_the_lip_s_shade():
    from faceedit.stage.mouth_bank import MouthBank
    from faceedit.stage.teeth_look import carried_row

    bank = MouthBank.load()
    tn = MouthTuning()
    img, roi, op, up, lo, band = _carried(True)
    x0, y0, x1, y1 = roi
    lip = np.asarray((168, 92, 90), np.float64) / 255.0
    assert carried_row(img, roi, op, lip, 44.0, tn)
    assert not carried_row(*_carried(False)[:3], lip, 44.0, tn)
    assert not carried_row(img, roi, op, lip, 120.0, tn)  # a large face's: not a small face's smile
    out, e = bank.fill(img, roi, op, up, lo, tuning=tn, exemplar=14)
    kept, _ = bank.fill(img, roi, op, up, lo, tuning=replace(tn, carried_row_less_red=9.0), exemplar=e)
    lum_teeth = float(np.asarray(TEETH, np.float64) @ LUMA)
    shaded = out[y0:y1, x0:x1][band].astype(np.float64) @ LUMA
    left = kept[y0:y1, x0:x1][band].astype(np.float64) @ LUMA
    assert np.median(left) > 0.8 * lum_teeth  # left alone: a second, lit row
    assert np.median(shaded) < 0.6 * lum_teeth  # in the lower lip's shade
