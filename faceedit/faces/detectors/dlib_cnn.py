"""The ``dlib-cnn`` backend: dlib's CNN (mmod) detector for the boxes (slower than ``dlib``, more
robust to pose and lighting), the same 68-point predictor. ``auto`` never picks it: it is an
order of magnitude slower than ``dlib`` on a CPU."""

from __future__ import annotations

import numpy as np

from faceedit.faces.detectors.base import (
    Detector,
    as_rgb8,
    downscale_max_side,
    map_box,
    set_params,
    sort_faces,
)
from faceedit.faces.detectors.dlib import (
    DlibLandmarks,
    dlib_status,
    load_mmod,
    load_shape_predictor,
)
from faceedit.faces.detectors.registry import register
from faceedit.faces.types import Face


class DlibCnnDetector(DlibLandmarks, Detector):
    """dlib's CNN (mmod) face detector + the 68-point shape predictor.

    Slower than ``dlib`` (about 2 s for a 512-px image on 2 CPU cores; it scales with the pixel
    count) but more robust to pose and lighting. The search runs on a copy downscaled to at most
    ``max_side`` (1024) px, upsampled ``upsample`` (0) times: faces down to about 80 px in that
    copy are found. Scores are the mmod confidences (about 1 for clear faces). The mmod boxes are
    tighter than the HOG boxes the shape predictor was trained on; they are converted to HOG-like
    boxes before predicting landmarks.
    """

    name = "dlib-cnn"
    max_side = 1024
    upsample = 0
    min_score = 0.0
    # mmod box -> HOG-style box: centre shift and scale as fractions of the mmod box width.
    box_dx, box_dy, box_scale = 0.04, 0.085, 1.09  # measured on London/JAFFE/Yale

    def __init__(self, **params):
        set_params(self, params)
        load_mmod()
        load_shape_predictor()

    def detect(self, rgb: np.ndarray) -> list[Face]:
        rgb = as_rgb8(rgb)
        work, sx, sy = downscale_max_side(rgb, self.max_side)
        faces = []
        for d in load_mmod()(np.ascontiguousarray(work), int(self.upsample)):
            if d.confidence < self.min_score:
                continue
            r = d.rect
            b = map_box((r.left(), r.top(), r.right() + 1, r.bottom() + 1), sx, sy)
            bw = b[2] - b[0]
            cx = (b[0] + b[2]) / 2 + self.box_dx * bw
            cy = (b[1] + b[3]) / 2 + self.box_dy * bw
            half = 0.5 * bw * self.box_scale
            pbox = np.array([cx - half, cy - half, cx + half, cy + half])
            lm = self._landmarks(rgb, pbox)
            faces.append(Face(box=b, landmarks=lm, score=float(d.confidence), detector=self.name))
        return sort_faces(faces)


register("dlib-cnn", lambda device, allow_download: DlibCnnDetector(), dlib_status, auto=False)
