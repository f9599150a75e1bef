"""Overlay of detected faces (``faceedit detect --overlay``)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from faceedit.faces.types import Face

# RGB colours
_BOX = (0, 255, 0)
_POINT = (255, 40, 40)
_EYE = (40, 160, 255)
_TEXT_BG = (0, 0, 0)
_TEXT = (255, 255, 255)


def draw_faces(rgb8: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
    """A copy of ``rgb8`` ((H,W,3) uint8, or (H,W) greyscale) with, for each face, its box, its
    landmarks (68 or 5; the eye centres highlighted) and a ``#index score`` label. ``faces[i]``
    is labelled ``#i``. Line widths and text scale with the image size."""
    img = np.asarray(rgb8)
    if img.dtype != np.uint8:
        raise ValueError(f"draw_faces expects uint8 pixels, got {img.dtype}")
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    img = np.ascontiguousarray(img[:, :, :3]).copy()
    h, w = img.shape[:2]
    unit = max(h, w) / 512.0
    thick = max(1, int(round(2 * unit)))
    font_scale = max(0.4, 0.55 * unit)
    font_thick = max(1, int(round(1.2 * unit)))
    shift = 4  # sub-pixel drawing: coordinates in 1/16 px
    mul = 1 << shift

    def pt(x, y):
        return int(round(x * mul)), int(round(y * mul))

    for i, face in enumerate(faces):
        x0, y0, x1, y1 = [float(v) for v in face.box]
        bw = max(x1 - x0, 1.0)
        cv2.rectangle(img, pt(x0, y0), pt(x1, y1), _BOX, thick, cv2.LINE_AA, shift)
        lm = np.asarray(face.landmarks, dtype=np.float64)
        r = max(1.0, min(3.0 * unit, bw / 60.0))
        for x, y in lm:
            cv2.circle(img, pt(x, y), int(round(r * mul)), _POINT, -1, cv2.LINE_AA, shift)
        for x, y in face.five[:2]:
            cv2.circle(img, pt(x, y), int(round(1.6 * r * mul)), _EYE, max(1, thick // 2),
                       cv2.LINE_AA, shift)
        score = float(face.score)
        label = f"#{i} {score:.2f}" if np.isfinite(score) else f"#{i}"
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, font_thick)
        tx = int(np.clip(x0, 0, max(0, w - tw - 2)))
        ty = int(y0) - thick - 2
        if ty - th - base < 0:  # no room above the box: put it inside
            ty = int(max(y0, 0)) + th + thick + 2
        cv2.rectangle(img, (tx, ty - th - base), (tx + tw + 2, ty + base // 2), _TEXT_BG, -1)
        cv2.putText(img, label, (tx + 1, ty), cv2.FONT_HERSHEY_SIMPLEX, font_scale, _TEXT,
                    font_thick, cv2.LINE_AA)
    return img
