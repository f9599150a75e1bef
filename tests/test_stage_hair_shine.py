"""A crown's shine is hair: light and grey as the wall, ringed by hair, it takes the new colour
(:func:`faceedit.stage.regions.reaches_border`, used by the hair matte's wall seeds and the
outline's wall)."""

from __future__ import annotations

import numpy as np
import pytest
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


def _crown_core(img: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """The hair over the forehead, found without the stage's matte (as
    bench/measure_forehead_hair.py's crown_core finds it): the head
    (:func:`faceedit.eval.head.head_mask`) less the plain backdrop and the face, its holes
    (a shine as grey as the wall) filled, 0.06 eye distances in from its edge, from 0.4 eye
    distances above the brows up, within the stage's head box."""
    import cv2

    from faceedit.eval.head import backdrop, face_hull, head_mask
    from faceedit.faces.landmarks import eye_distance
    from faceedit.stage.matting import head_box

    d = eye_distance(lm)
    face = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(face, [np.round(face_hull(lm)).astype(np.int32)], 1)
    hair = head_mask(img, lm) & (face == 0) & ~backdrop(img, lm)
    n, labels = cv2.connectedComponents((~hair).astype(np.uint8), connectivity=4)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    hair |= ~np.isin(labels, border) & (face == 0)
    k = 2 * int(0.06 * d) + 1
    core = cv2.erode(hair.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
    core[int(lm[17:27, 1].min() - 0.4 * d):] = False
    x0, y0, x1, y1 = head_box(lm, img.shape).box
    inside = np.zeros_like(core)
    inside[y0:y1, x0:x1] = True
    return core & inside


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
    core = _crown_core(img, lm)
    kept = np.abs(out.astype(int) - img.astype(int)).max(-1) < 8
    assert core.sum() > 10000
    assert (kept & core).sum() < 60, (kept & core).sum()
