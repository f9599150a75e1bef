"""What bench/measure_corner_ends.py reads at a mouth's corners: how pale the line where the lips
meet is, and the lips' red on the skin beside the corner."""

from __future__ import annotations

import cv2
import numpy as np

from tests._bench import load_bench

SKIN, LIP = (205, 165, 145), (185, 100, 105)


def _face(line: bool, smear: bool) -> tuple[np.ndarray, np.ndarray]:
    """Skin with red lips (68 points 48-59 an ellipse 100 px wide about (100, 150); inner
    corners 60 and 64 25 px in from the outer ones), eyes 200 px apart at y 40; ``line``: a dark
    line where the lips meet at each corner; ``smear``: the lips' red on the skin past each corner."""
    lm = np.zeros((68, 2))
    lm[36], lm[45] = (0, 40), (200, 40)
    a = np.linspace(np.pi, -np.pi, 12, endpoint=False)
    lm[48:60] = np.c_[100 + 50 * np.cos(a), 150 - 18 * np.sin(a)]
    lm[60], lm[64] = (75, 150), (125, 150)
    img = np.full((240, 220, 3), SKIN, np.uint8)
    cv2.fillPoly(img, [np.round(lm[48:60]).astype(np.int32)], LIP)
    if line:
        cv2.line(img, (50, 150), (150, 150), (90, 50, 55), 1)
    if smear:
        cv2.rectangle(img, (30, 146), (49, 154), LIP, -1)
        cv2.rectangle(img, (151, 146), (170, 154), LIP, -1)
    return img, lm


def test_a_corner_without_its_line_reads_paler():
    bench = load_bench("measure_corner_ends")
    pale = bench.pale_sides(*_face(line=False, smear=False))
    lined = bench.pale_sides(*_face(line=True, smear=False))
    assert all(p > q + 0.2 for p, q in zip(pale, lined)), (pale, lined)
    # a closed mouth's reading over a given share in from its corners sees the same line
    assert all(abs(x - y) < 0.05 for x, y in zip(bench.pale_sides(*_face(True, False), along=0.08), lined))


def test_red_left_beside_the_corner_reads_above_the_skin():
    bench = load_bench("measure_corner_ends")
    clean = bench.red_sides(*_face(line=True, smear=False), [0.0, 0.0])
    smeared = bench.red_sides(*_face(line=True, smear=True), [0.0, 0.0])
    assert all(abs(c) < 1.0 for c in clean), clean
    assert all(s > c + 10 for s, c in zip(smeared, clean)), (smeared, clean)
