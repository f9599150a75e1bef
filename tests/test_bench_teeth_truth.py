"""What bench/bench_teeth_truth.py reads on London's own photos (the truth a happy edit is held
to): a closed neutral mouth shows no teeth, a smile showing them reads them as real teeth read
(a share of the opening, brighter than the cheeks, near the eye whites' colour)."""

from __future__ import annotations

import numpy as np
import pytest
from _bench import load_bench
from conftest import SHARED_DATA
from PIL import Image


def _read(bench, kind: str, name: str):
    from faceedit.faces.detectors import get_detector

    path = SHARED_DATA / "london_hd" / kind / f"{name}.jpg"
    if not path.exists():
        pytest.skip(f"{path} is not there (../shared/data)")
    img = np.asarray(Image.open(path).convert("RGB"))
    return bench.truth(img, bench.largest(get_detector("mediapipe"), img))


@pytest.mark.shared_data
def test_a_closed_neutral_mouth_shows_no_teeth():
    s = _read(load_bench("bench_teeth_truth"), "neutral", "014")
    assert s is not None and not s["teeth"] and s["area"] < 0.002, s


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["099", "126"])
def test_a_smile_s_teeth_read_as_real_teeth(name):
    """099's and 126's smiles bare their upper teeth (0.087 and 0.114 of the corner distance
    squared): part of the opening, brighter than the cheeks, within 0.05 of the eye whites' Cb/Y."""
    s = _read(load_bench("bench_teeth_truth"), "smiling", name)
    assert s is not None and s["teeth"], s
    assert 0.03 < s["area"] < 0.9 * s["open"], s
    assert s["t/ck"] > 1.2 and s["tb/eye"] > 1.0, s
    assert abs(s["dcb"]) < 0.05, s
