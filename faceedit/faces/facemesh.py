"""Face Mesh (MediaPipe's 468-point face landmark network) as a torch module (the ROI geometry that
feeds it is in :mod:`faceedit.faces.mediapipe_common`, imported here under its old names).

The network is layer for layer MediaPipe's ``face_landmark.tflite`` (2019 "blaze_shift30"
model): input (N,3,192,192) RGB in [0,1], a face crop rotated upright, the face about 1/1.5 of the
crop; outputs (N,468,3) points in crop pixels (x, y, and a relative depth z in the same units)
and a face-presence logit (N,). Weights are converted by :mod:`faceedit.faces.convert_mediapipe`.
"""

from __future__ import annotations

import torch
from torch import nn

from faceedit.faces.blazeface import BlazeBlock, Conv

# The ROI geometry that feeds the network lives beside the rest of the torch-free pipeline (the
# LiteRT runtime uses it without torch); these names are kept here for their callers.
from faceedit.faces.mediapipe_common import (  # noqa: F401
    DETECTION_ROI_GROW,
    DETECTION_ROI_UP,
    EYE_CORNERS,
    ROI_SCALE,
    crop_to_image,
    roi_from_detection,
    roi_from_mesh,
    roi_matrix,
    roi_moved,
)


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
