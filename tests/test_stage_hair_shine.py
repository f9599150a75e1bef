"""A crown's shine is hair: light and grey as the wall, ringed by hair, it takes the new colour
(:func:`faceedit.stage.regions.reaches_border`, used by the hair matte's wall seeds and the
outline's wall)."""

from __future__ import annotations

import numpy as np
import pytest
from _bench import load_bench
from conftest import SHARED_DATA

from faceedit.stage.regions import reaches_border

LONDON_HD = SHARED_DATA / "london_hd" / "neutral"


def test_only_what_reaches_the_border_is_open():
    mask = np.zeros((40, 50), bool)
    mask[:5] = True  # the wall along the top
    mask[5:12, 20:24] = True  # ... running down into the hair
    mask[25:30, 10:15] = True  # a spot ringed by hair
    mask[20:22, 40:42] = True
    out = reaches_border(mask)
    assert out[:12].sum() == mask[:12].sum()
    assert not out[12:].any()
    assert not reaches_border(np.zeros((8, 8), bool)).any()


@pytest.mark.skipif(not (LONDON_HD / "003.jpg").exists(), reason="../shared/data/london_hd is absent")
def test_the_crowns_shine_takes_the_new_colour():
    """London 003 (dark hair, a light grey shine over the crown) made blond: the pixels of the
    hair over the forehead the edit leaves within 8 levels of the photo's. Measured: 27 of
    35,530 (212, in round grey spots on the shine, when the shine as grey as the wall was
    seeded as wall)."""
    import cv2

    from faceedit.faces.detectors import get_detector
    from faceedit.stage.hair import recolour

    img = cv2.cvtColor(cv2.imread(str(LONDON_HD / "003.jpg")), cv2.COLOR_BGR2RGB)
    face = max(get_detector("mediapipe").detect(img), key=lambda f: f.area)
    lm = np.asarray(face.landmarks, np.float64)
    out = recolour(img, lm, "blond", mesh=face.dense)
    core = load_bench("measure_forehead_hair").crown_core(img, lm)  # found without the stage's matte
    kept = np.abs(out.astype(int) - img.astype(int)).max(-1) < 8
    assert core.sum() > 10000
    assert (kept & core).sum() < 60, (kept & core).sum()
