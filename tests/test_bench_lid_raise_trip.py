"""What ``bench/measure_lid_raise_trip.py`` reads of a face: the eyes' opening as
tests/test_stage_expressive.py reads it (the upper and lower lids' distance over the eye
distance) and the irises' radius from the iris model's rim points, in eye distances."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from _bench import load_bench


def _eyes(half_height: float) -> np.ndarray:
    """68 points whose eyes are centred at (0, 0) and (100, 0), their upper lids (37, 38, 43, 44)
    ``half_height`` above and lower lids (40, 41, 46, 47) as far below."""
    lm = np.zeros((68, 2))
    for base, x0 in ((36, 0.0), (42, 100.0)):
        lm[base:base + 6] = [(x0 - 15, 0), (x0 - 5, -half_height), (x0 + 5, -half_height), (x0 + 15, 0),
                             (x0 + 5, half_height), (x0 - 5, half_height)]
    return lm


def test_opening_is_the_lids_distance_over_the_eye_distance():
    bench = load_bench("measure_lid_raise_trip")
    assert np.isclose(bench.opening(_eyes(7.0)), 0.14)
    assert bench.opening(_eyes(9.0)) > bench.opening(_eyes(7.0))


def test_iris_radius_reads_the_rim_points_in_eye_distances():
    bench = load_bench("measure_lid_raise_trip")
    dense = np.zeros((478, 3))
    for k, cx in enumerate((0.0, 100.0)):
        r = 9.0 if k == 0 else 11.0
        dense[468 + 5 * k:473 + 5 * k, :2] = [(cx, 1), (cx + r, 1), (cx, 1 - r), (cx - r, 1), (cx, 1 + r)]
    face = SimpleNamespace(dense=dense, landmarks=_eyes(7.0))
    assert np.isclose(bench.iris_radius(face), 0.10)
