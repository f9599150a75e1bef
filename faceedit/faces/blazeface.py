"""BlazeFace (MediaPipe's face detector) as torch modules, with its anchors, box decoding and
MediaPipe's weighted non-maximum suppression; batched on any device.

Two variants, layer for layer the networks of MediaPipe's ``face_detection_short_range.tflite``
(128 px input, faces within about 2 m of a phone camera: at least ~15 % of the image side) and
``face_detection_full_range.tflite`` (192 px input, an FPN head: faces down to ~6 % of the side).
Weights are converted from those files by :mod:`faceedit.faces.convert_mediapipe`.

Input: (N,3,S,S) RGB in [-1, 1]. Output of the network: raw regressors (N,A,16) and logits (N,A);
:func:`decode` turns them into boxes and the six keypoints (right eye, left eye, nose tip, mouth
centre, right ear tragion, left ear tragion; "right" = the subject's, image left), normalised
to [0,1] of the input square.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# --------------------------------------------------------------------------------------------
# layers shared with the Face Mesh network


def pad_same(x: torch.Tensor, k: int, s: int) -> torch.Tensor:
    """TensorFlow's 'SAME' padding: the extra pixel of an odd total goes bottom/right."""
    out = []
    for n in (x.shape[-1], x.shape[-2]):
        total = max((math.ceil(n / s) - 1) * s + k - n, 0)
        out += [total // 2, total - total // 2]
    return F.pad(x, out) if any(out) else x


class Conv(nn.Conv2d):
    """nn.Conv2d with TensorFlow 'SAME' padding (depthwise when ``groups`` = channels)."""

    def __init__(self, cin: int, cout: int, k: int = 1, stride: int = 1, depthwise: bool = False):
        # At stride 1 an odd kernel's 'SAME' padding is symmetric: the convolution pads itself
        # (no padded copy of the input); strided ones pad bottom/right by what the size needs.
        super().__init__(cin, cout, k, stride, padding=(k - 1) // 2 if stride == 1 and k % 2 else 0,
                         groups=cin if depthwise else 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kernel_size == (1, 1) and self.stride == (1, 1):
            # a 1x1 convolution is a matrix product over the channels: on channels-last input
            # one GEMM, where PyTorch's CPU convolution takes a slow im2col path (~2x here)
            return F.linear(x.permute(0, 2, 3, 1), self.weight.flatten(1), self.bias).permute(0, 3, 1, 2)
        if self.padding == (0, 0):
            x = pad_same(x, self.kernel_size[0], self.stride[0])
        return super().forward(x)


class BlazeBlock(nn.Module):
    """Residual block: 3x3 depthwise (stride 1 or 2) + 1x1 conv, plus the input (max-pooled when
    strided, zero-padded in channels when widening), then the activation. With ``mid`` it is
    the full-range model's double block: dw, 1x1 to ``mid``, ReLU, dw, 1x1 to ``cout``."""

    def __init__(self, cin: int, cout: int, stride: int = 1, act: str = "relu", mid: int | None = None):
        super().__init__()
        self.stride, self.extra = stride, cout - cin
        layers: list[nn.Module] = [Conv(cin, cin, 3, stride, depthwise=True)]
        if mid is None:
            layers.append(Conv(cin, cout))
        else:
            layers += [Conv(cin, mid), nn.ReLU(inplace=True), Conv(mid, mid, 3, depthwise=True), Conv(mid, cout)]
        self.convs = nn.Sequential(*layers)
        self.act = nn.PReLU(cout) if act == "prelu" else nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.convs(x)  # a new tensor: added to and activated in place
        if self.stride == 2:
            x = F.max_pool2d(x, 2, 2)
        if self.extra:  # the input zero-padded in channels: only the first cin channels get it
            y[:, : x.shape[1]] += x
        else:
            y += x
        return self.act(y)


# --------------------------------------------------------------------------------------------
# networks


class BlazeFaceShort(nn.Module):
    """face_detection_short_range: 128 px, 896 anchors (16x16x2 + 8x8x6)."""

    size = 128

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(Conv(3, 24, 5, 2), nn.ReLU(inplace=True))
        chans = [(24, 24, 1), (24, 28, 1), (28, 32, 2), (32, 36, 1), (36, 42, 1), (42, 48, 2),
                 (48, 56, 1), (56, 64, 1), (64, 72, 1), (72, 80, 1), (80, 88, 1)]
        self.body16 = nn.Sequential(*[BlazeBlock(a, b, s) for a, b, s in chans])
        self.body8 = nn.Sequential(BlazeBlock(88, 96, 2), *[BlazeBlock(96, 96) for _ in range(4)])
        # heads named by stride: 8 on the 16x16 map (2 anchors a cell), 16 on the 8x8 map (6)
        self.cls8, self.cls16 = Conv(88, 2), Conv(96, 6)
        self.reg8, self.reg16 = Conv(88, 32), Conv(96, 96)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = x.shape[0]
        f16 = self.body16(self.stem(x))
        f8 = self.body8(f16)

        def flat(t, c):  # NCHW -> (N, H*W*anchors, c), anchors fastest (TFLite's NHWC order)
            return t.permute(0, 2, 3, 1).reshape(n, -1, c)

        logits = torch.cat([flat(self.cls8(f16), 1), flat(self.cls16(f8), 1)], 1)[..., 0]
        reg = torch.cat([flat(self.reg8(f16), 16), flat(self.reg16(f8), 16)], 1)
        return reg, logits


class _FPNStage(nn.Module):
    """Upsample the coarser map (1x1 conv + ReLU, bilinear x2), add the finer one (1x1 conv + ReLU),
    then double blocks."""

    def __init__(self, c_top: int, c_lat: int, c: int, mid: int, blocks: int):
        super().__init__()
        self.top = nn.Sequential(Conv(c_top, c), nn.ReLU(inplace=True))
        self.lat = nn.Sequential(Conv(c_lat, c), nn.ReLU(inplace=True))
        self.blocks = nn.Sequential(*[BlazeBlock(c, c, mid=mid) for _ in range(blocks)])

    def forward(self, top: torch.Tensor, lat: torch.Tensor) -> torch.Tensor:
        up = F.interpolate(self.top(top), scale_factor=2, mode="bilinear", align_corners=False)
        return self.blocks(self.lat(lat) + up)


class BlazeFaceFull(nn.Module):
    """face_detection_full_range: 192 px, 2304 anchors (48x48x1), FPN from 6x6 up to 48x48."""

    size = 192

    def __init__(self):
        super().__init__()

        def stage(specs):
            return nn.Sequential(*[BlazeBlock(a, b, s, mid=m) for a, m, b, s in specs])

        self.stem = nn.Sequential(Conv(3, 32, 3, 2), nn.ReLU(inplace=True))
        # (cin, mid, cout, stride)
        self.s96 = stage([(32, 8, 32, 1), (32, 8, 32, 1)])
        self.s48 = stage([(32, 12, 48, 2), (48, 12, 48, 1), (48, 16, 64, 1)])
        self.s24 = stage([(64, 24, 96, 2), (96, 32, 128, 1), (128, 32, 128, 1)])
        self.s12 = stage([(128, 36, 144, 2), (144, 48, 192, 1), (192, 64, 256, 1)])
        self.s6 = stage([(256, 96, 384, 2)] + [(384, 96, 384, 1)] * 3)
        self.up12 = _FPNStage(384, 256, 96, 48, 2)
        self.up24 = _FPNStage(96, 128, 64, 32, 2)
        self.up48 = _FPNStage(64, 64, 48, 24, 1)
        self.cls, self.reg = Conv(48, 1), Conv(48, 16)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = x.shape[0]
        f48 = self.s48(self.s96(self.stem(x)))
        f24 = self.s24(f48)
        f12 = self.s12(f24)
        f6 = self.s6(f12)
        y = self.up48(self.up24(self.up12(f6, f12), f24), f48)
        logits = self.cls(y).permute(0, 2, 3, 1).reshape(n, -1)
        reg = self.reg(y).permute(0, 2, 3, 1).reshape(n, -1, 16)
        return reg, logits


VARIANTS: dict[str, type[BlazeFaceShort] | type[BlazeFaceFull]] = {
    "short": BlazeFaceShort, "full": BlazeFaceFull}


# --------------------------------------------------------------------------------------------
# anchors, decoding, NMS


def anchors(variant: str) -> torch.Tensor:
    """(A,2) anchor centres in [0,1] (MediaPipe's SSD anchors with fixed size 1: only centres).
    short: strides 8, 16, 16, 16 (2 anchors per 16x16 cell, 6 per 8x8 cell); full: stride 4."""
    size, layers = (128, [(8, 2), (16, 6)]) if variant == "short" else (192, [(4, 1)])
    out = []
    for stride, per_cell in layers:
        g = size // stride
        ys, xs = torch.meshgrid(torch.arange(g), torch.arange(g), indexing="ij")
        c = torch.stack([(xs + 0.5) / g, (ys + 0.5) / g], -1).reshape(-1, 1, 2)
        out.append(c.expand(-1, per_cell, 2).reshape(-1, 2))
    return torch.cat(out).float()


def decode(reg: torch.Tensor, logits: torch.Tensor, anchor: torch.Tensor, size: int):
    """Raw outputs -> (boxes (N,A,4) x0,y0,x1,y1; keypoints (N,A,6,2); scores (N,A)), all in [0,1]
    of the input square. Scores: sigmoid of the logits clipped to +-100, as MediaPipe does."""
    r = reg.float() / size
    centre = r[..., 0:2] + anchor
    half = r[..., 2:4] / 2
    boxes = torch.cat([centre - half, centre + half], -1)
    kps = r[..., 4:16].reshape(*r.shape[:-1], 6, 2) + anchor[:, None, :]
    scores = torch.sigmoid(logits.float().clamp(-100, 100))
    return boxes, kps, scores


def _iou(box: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    lt = torch.maximum(box[:2], boxes[:, :2])
    rb = torch.minimum(box[2:], boxes[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = (box[2:] - box[:2]).clamp(min=0).prod()
    areas = (boxes[:, 2:] - boxes[:, :2]).clamp(min=0).prod(-1)
    return inter / (area + areas - inter).clamp(min=1e-12)


def weighted_nms(boxes: torch.Tensor, kps: torch.Tensor, scores: torch.Tensor, iou: float = 0.3):
    """MediaPipe's WEIGHTED non-maximum suppression for one image.

    Best score first: every remaining candidate overlapping it by IoU > ``iou`` joins its cluster
    and leaves the pool; the cluster's box and keypoints are the score-weighted mean of its
    members, its score the best one. Returns (boxes (K,4), keypoints (K,6,2), scores (K,)).
    """
    order = torch.argsort(scores, descending=True)
    boxes, kps, scores = boxes[order], kps[order], scores[order]
    out_b, out_k, out_s = [], [], []
    alive = torch.ones(len(scores), dtype=torch.bool, device=scores.device)
    for i in range(len(scores)):
        if not alive[i]:
            continue
        members = alive & (_iou(boxes[i], boxes) > iou)
        members[i] = True
        alive &= ~members
        w = scores[members][:, None]
        out_b.append((boxes[members] * w).sum(0) / w.sum())
        out_k.append((kps[members] * w[:, :, None]).sum(0) / w.sum())
        out_s.append(scores[i])
    if not out_s:
        return boxes[:0], kps[:0], scores[:0]
    return torch.stack(out_b), torch.stack(out_k), torch.stack(out_s)
