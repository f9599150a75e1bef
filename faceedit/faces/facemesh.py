"""Face Mesh (MediaPipe's 468-point face landmark network) as a torch module, the ROI geometry
that feeds it, and a fixed mapping from its 468 points to the 68-point iBUG layout.

The network is layer for layer MediaPipe's ``face_landmark.tflite`` (2019 "blaze_shift30"
model): input (N,3,192,192) RGB in [0,1], a face crop rotated upright, the face about 1/1.5 of the
crop; outputs (N,468,3) points in crop pixels (x, y, and a relative depth z in the same units)
and a face-presence logit (N,). Weights are converted by :mod:`faceedit.faces.convert_mediapipe`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from faceedit.faces.blazeface import BlazeBlock, Conv


def _block(cin: int, cout: int, stride: int = 1) -> BlazeBlock:
    return BlazeBlock(cin, cout, stride, act="prelu")


class FaceMesh(nn.Module):
    """The Face Mesh network: a PReLU BlazeBlock trunk down to 6x6, then two heads (468 points,
    face flag) each with a block to 3x3 and a 3x3 convolution to 1x1."""

    size = 192

    def __init__(self):
        super().__init__()
        specs = [(16, 16, 1), (16, 16, 1), (16, 32, 2), (32, 32, 1), (32, 32, 1), (32, 64, 2),
                 (64, 64, 1), (64, 64, 1), (64, 128, 2), (128, 128, 1), (128, 128, 1),
                 (128, 128, 2), (128, 128, 1), (128, 128, 1)]
        self.trunk = nn.Sequential(Conv(3, 16, 3, 2), nn.PReLU(16), *[_block(*s) for s in specs])
        # Registration order = the order of the Keras layer names in the .tflite (mesh head
        # first, then the face-flag head); the converter relies on it.
        self.mesh_head = nn.Sequential(
            _block(128, 128, 2), _block(128, 128), _block(128, 128),
            Conv(128, 32), nn.PReLU(32), _block(32, 32), Conv(32, 1404, 3, 3))
        self.flag_head = nn.Sequential(
            _block(128, 128, 2), Conv(128, 32), nn.PReLU(32), _block(32, 32), Conv(32, 1, 3, 3))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = x.shape[0]
        f = self.trunk(x)
        if n == 1:
            # On the CPU the heads' small maps (6x6, 3x3) take other matrix kernels for a batch
            # of one, which round differently (1e-4 on the points): a face's points, and so its
            # edit, would depend on how many faces shared its batch. From two on they do not
            # (measured 2..16, and the trunk at every size), so one face runs the heads twice.
            f = f.expand(2, -1, -1, -1).contiguous(memory_format=torch.channels_last)
        pts = self.mesh_head(f)[:n].reshape(n, 468, 3)
        return pts, self.flag_head(f)[:n].reshape(n)


# --------------------------------------------------------------------------------------------
# ROI geometry (MediaPipe's face_landmark_front graph)

ROI_SCALE = 1.5  # the crop is 1.5x the face box (square on its long side)
EYE_CORNERS = (33, 263)  # mesh points used for the roll of a refined ROI (outer eye corners)
# The mesh's ROI against the detection's, in the detection ROI's frame (mean over the faces of
# London, every 4th of JAFFE and of Yale; std in brackets): centre 0.037 (0.012) of the side
# higher, side exp(0.045) (0.025) = 1.046x larger, roll 0 (1.4 degrees).
DETECTION_ROI_UP = 0.037
DETECTION_ROI_GROW = 1.046


def roi_from_detection(box: np.ndarray, keypoints: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Detection (pixels) -> ROI (centre (2,), side, angle in radians). The angle makes the line
    from the right eye (keypoint 0, image left) to the left eye (keypoint 1) horizontal.

    MediaPipe's graph takes the box centre and 1.5x its long side. Here that ROI is moved up by
    :data:`DETECTION_ROI_UP` of its side and widened by :data:`DETECTION_ROI_GROW`, to where the
    mesh's own ROI (:func:`roi_from_mesh`) lies on average, so one mesh pass lands where a
    second, re-cropped one would."""
    d = keypoints[1] - keypoints[0]
    angle = float(np.arctan2(d[1], d[0]))
    side = float(max(box[2] - box[0], box[3] - box[1])) * ROI_SCALE
    up = np.array([np.sin(angle), -np.cos(angle)])  # the face's up in the photo
    centre = (box[:2] + box[2:]) / 2 + up * DETECTION_ROI_UP * side
    return centre.astype(np.float64), side * DETECTION_ROI_GROW, angle


def roi_from_mesh(pts: np.ndarray) -> tuple[np.ndarray, float, float]:
    """A refined ROI from a mesh (pixels): roll from the outer eye corners, the box of all points
    measured in the rotated frame, scaled by 1.5 on its long side."""
    d = pts[EYE_CORNERS[1], :2] - pts[EYE_CORNERS[0], :2]
    angle = float(np.arctan2(d[1], d[0]))
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, s], [-s, c]])  # image -> upright frame
    q = pts[:, :2] @ rot.T
    lo, hi = q.min(0), q.max(0)
    centre = ((lo + hi) / 2) @ rot
    return centre, float((hi - lo).max()) * ROI_SCALE, angle


def roi_moved(a: tuple, b: tuple, centre: float = 0.025, scale: float = 0.05,
              roll: float = np.radians(2.5)) -> bool:
    """Whether ROI ``b`` (centre, side, angle) is off ROI ``a`` by more than ``centre`` of its side,
    a factor exp(``scale``) in size or ``roll`` radians: about twice the spread of the mesh's ROI
    around a detection's (:data:`DETECTION_ROI_UP`), so a second pass re-crops only the faces
    where it can help."""
    (ca, sa, aa), (cb, sb, ab) = a, b
    turn = (ab - aa + np.pi) % (2 * np.pi) - np.pi
    return bool(np.linalg.norm(np.asarray(cb) - ca) > centre * sa or abs(np.log(sb / sa)) > scale
                or abs(turn) > roll)


def roi_matrix(centre: np.ndarray, side: float, angle: float, size: int = 192) -> np.ndarray:
    """(2,3) affine image pixel -> crop pixel (pixel centres at integers) of a ``size`` crop."""
    k = size / side
    c, s = np.cos(angle) * k, np.sin(angle) * k
    m = np.array([[c, s, 0.0], [-s, c, 0.0]])
    m[:, 2] = (size - 1) / 2 - m[:, :2] @ centre
    return m


def crop_to_image(pts: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """(K,3) crop points -> image points; z is scaled like x and y."""
    a = matrix[:, :2]
    inv = np.linalg.inv(a)
    out = pts.astype(np.float64).copy()
    out[:, :2] = (pts[:, :2] - matrix[:, 2]) @ inv.T
    out[:, 2] = pts[:, 2] / np.sqrt(abs(np.linalg.det(a)))
    return out
