"""What bench/bench_teeth_predict.py reads: its rank correlation, how far a mouth's teeth run
across its opening (none on a closed neutral mouth, most of the opening on a broad smile) and
the neutral photo's measures in eye distances."""

from __future__ import annotations

import numpy as np
import pytest
from _bench import load_bench
from conftest import SHARED_DATA
from PIL import Image


def test_spearman_reads_ranks_and_leaves_out_missing_pairs():
    bench = load_bench("bench_teeth_predict")
    x = np.array([1.0, 2.0, 3.0, 4.0, np.nan, 5.0])
    assert bench.spearman(x, x**3) == pytest.approx(1.0)
    assert bench.spearman(x, -np.exp(x)) == pytest.approx(-1.0)
    assert np.isnan(bench.spearman(x[:2], x[:2]))


def _face(kind: str, name: str):
    from faceedit.faces.detectors import get_detector

    path = SHARED_DATA / "london_hd" / kind / f"{name}.jpg"
    if not path.exists():
        pytest.skip(f"{path} is not there (../shared/data)")
    img = np.asarray(Image.open(path).convert("RGB"))
    faces = get_detector("mediapipe").detect(img)
    return img, max(faces, key=lambda f: f.area)


@pytest.mark.shared_data
def test_a_closed_mouth_has_no_reach_and_a_broad_smile_most_of_its_opening():
    bench = load_bench("bench_teeth_predict")
    assert bench.reach(*_face("neutral", "014")) == 0.0
    assert 0.4 < bench.reach(*_face("smiling", "002")) <= 1.0


@pytest.mark.shared_data
def test_the_neutral_measures_are_a_face_s_proportions():
    bench = load_bench("bench_teeth_predict")
    m = bench.neutral_measures(*_face("neutral", "001"))
    assert set(m) == set(bench.NEUTRAL)
    assert 0.6 < m["mouth_w"] < 1.1 and 0.25 < m["mouth/face"] < 0.5, m
    assert 0.05 < m["upper_lip"] < 0.2 and 0.05 < m["lower_lip"] < 0.25 and m["gap"] < 0.02, m
    assert 0.2 < m["eye_open"] < 0.5 and 0.3 < m["sclera"] < 1.0 and m["white"] > 0.0, m
