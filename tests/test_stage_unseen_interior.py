"""Where colour finds no inside between the lips and no row of teeth is carried, the whole new
opening is painted (:func:`faceedit.stage.mouth_steps.fill_mouth`): the loop's carried lip, crease
and slit, read pixel by pixel as lip or not, left a saw-toothed top edge on insightface's group_t1
face 1 (a smile parted over a line of teeth tips) made surprised."""

from __future__ import annotations

import cv2
import numpy as np
from _imgs import group_t1_face

from faceedit.pixels import LUMA_WEIGHTS


def _top_edge_roughness(out: np.ndarray, lm: np.ndarray) -> float:
    """The RMS (px) of the opening's top edge off its smoothed course: per column between the
    mouth's corners, where the luma first falls under 0.35 of the skin's above the upper lip
    (sub-pixel, between the two rows it falls between), over the middle 80 % of those columns."""
    y = out.astype(np.float32) @ np.asarray(LUMA_WEIGHTS, np.float32)
    x0, x1 = int(lm[48, 0]), int(lm[54, 0])
    ya, yb = int(lm[51, 1] - 10), int(lm[57, 1] + 20)
    thr = 0.35 * float(np.median(y[ya - 20:ya, x0:x1]))
    tops = []
    for x in range(x0, x1 + 1):
        col = y[ya:yb, x]
        dark = np.flatnonzero(col < thr)
        if len(dark) < 2 or dark[0] == 0:
            continue
        i = int(dark[0])
        tops.append(ya + i - 1 + (col[i - 1] - thr) / max(float(col[i - 1] - col[i]), 1e-6))
    t = np.asarray(tops, np.float32)
    t = t[int(0.1 * len(t)):int(0.9 * len(t))]
    assert len(t) >= 15, len(t)
    smooth = cv2.GaussianBlur(t[None], (0, 0), 3.0, borderType=cv2.BORDER_REFLECT)[0]
    return float(np.sqrt(np.mean((t - smooth) ** 2)))


def test_a_smile_parted_over_no_teeth_found_made_surprised_opens_with_a_smooth_top():
    """group_t1's face 1 made surprised: the dark opening's top edge lies within 0.6 px RMS of its
    smoothed course (the loop's carried slit kept, 0.74 px: a saw-toothed edge at 4x)."""
    from faceedit.api import Editor
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    rgb, face = group_t1_face(1)
    out = edit_faces(Editor.from_pretrained("stage"), rgb, [face], EditRequest.of("surprised", 1.0))
    rough = _top_edge_roughness(out, np.asarray(face.landmarks, np.float64))
    assert rough < 0.6, rough
