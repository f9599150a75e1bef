"""Data types shared by detection, alignment and the models' crop templates."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from faceedit.faces.landmarks import L_EYE, MOUTH_LEFT, MOUTH_RIGHT, NOSE_TIP, R_EYE

# Mean 5-point face shape in eye-distance units, origin at the midpoint between the eye centres,
# y pointing down. Order (image coordinates, so "left" is the smaller x of a frontal face):
# left eye centre, right eye centre, nose tip, left mouth corner, right mouth corner.
# Derived from the widely used 112x112 ArcFace alignment template, normalised by its eye distance.
MEAN_FIVE_POINTS = np.array(
    [[-0.5, 0.0], [0.5, 0.0], [0.003, 0.571], [-0.407, 1.157], [0.420, 1.152]], dtype=np.float64
)


def five_from_68(lm68: np.ndarray) -> np.ndarray:
    """(68,2) iBUG landmarks -> (5,2) in MEAN_FIVE_POINTS order."""
    lm68 = np.asarray(lm68, dtype=np.float64)
    return np.stack(
        [
            lm68[L_EYE].mean(0),
            lm68[R_EYE].mean(0),
            lm68[NOSE_TIP],
            lm68[MOUTH_LEFT],
            lm68[MOUTH_RIGHT],
        ]
    )


@dataclass
class Face:
    """One detected face in image pixel coordinates (x right, y down, pixel centres at integers)."""

    box: np.ndarray  # (4,) float: x0, y0, x1, y1
    landmarks: np.ndarray  # (68,2) iBUG order, or (5,2) MEAN_FIVE_POINTS order
    score: float
    detector: str = ""
    # (468,3) MediaPipe Face Mesh points (x, y in image pixels, z relative depth in the same
    # units) when the detector produces them (``mediapipe``), else None; (478,3) where the iris
    # model ran: the two irises' points follow (faceedit.faces.iris.iris_points).
    dense: np.ndarray | None = None
    # The photo's own pixels per pixel of these coordinates: 1 where they are the photo's own; a
    # face on a copy scaled down from its photo (a preview, faceedit.ui.studio.scale_face) the
    # full size's, so the stage's choices by a face's size in pixels (a small face's) read it at
    # the photo's own size.
    photo_scale: float = 1.0

    @property
    def five(self) -> np.ndarray:
        """(5,2) landmarks in MEAN_FIVE_POINTS order."""
        lm = np.asarray(self.landmarks, dtype=np.float64)
        return five_from_68(lm) if lm.shape[0] == 68 else lm[:5]

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.box
        return float(max(0.0, x1 - x0) * max(0.0, y1 - y0))

    def to_json(self) -> dict:
        return {
            "box": [round(float(v), 2) for v in self.box],
            "score": round(float(self.score), 4),
            "detector": self.detector,
            "landmarks": [[round(float(x), 2), round(float(y), 2)] for x, y in self.landmarks],
        }


@dataclass(frozen=True)
class CropTemplate:
    """Where a model expects the face inside its square input crop.

    ``eye_dist`` is the distance between the eye centres and ``eye_y`` their height, both as
    fractions of ``size``; the eyes are centred horizontally. The other points follow the mean
    5-point shape. Larger ``eye_dist`` = tighter crop.
    """

    size: int = 128
    eye_dist: float = 0.30
    eye_y: float = 0.42

    def points(self, size: int | None = None) -> np.ndarray:
        """(5,2) canonical landmark positions in pixels of a ``size`` crop (default self.size)."""
        s = float(self.size if size is None else size)
        pts = MEAN_FIVE_POINTS * (self.eye_dist * s)
        pts[:, 0] += 0.5 * s - 0.5  # pixel-centre convention: centre of an s-px crop is (s-1)/2
        pts[:, 1] += self.eye_y * s - 0.5
        return pts

    def to_json(self) -> dict:
        return {"size": self.size, "eye_dist": self.eye_dist, "eye_y": self.eye_y}


@dataclass
class AlignedFace:
    """A face warped into a template crop, with what is needed to put it back."""

    crop: np.ndarray  # (size,size,3) uint8 RGB, the model input
    matrix: np.ndarray  # (2,3) float64 affine: image pixel -> crop pixel
    landmarks: np.ndarray  # landmarks in crop coordinates (same count as face.landmarks)
    face: Face
    template: CropTemplate
    extra: dict = field(default_factory=dict)
