"""MediaPipe's face pipeline with its networks as torch modules: BlazeFace boxes -> rotated crops
-> Face Mesh, batched across all photos and faces of a call, on the given device (CPU or CUDA);
resampling (letterbox, crops) is done on the CPU with OpenCV.

The steps are :class:`faceedit.faces.mediapipe_common.FacesPipeline`'s (the module doc there
describes them); this runtime supplies the networks (:mod:`faceedit.faces.blazeface`,
:mod:`faceedit.faces.facemesh`, weights converted from MediaPipe's .tflite files), anchor
decoding and NMS in torch. :class:`faceedit.faces.litert_faces.LiteRTFaces` is the same pipeline
on MediaPipe's own .tflite files with LiteRT, the CPU default (no torch).
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

from faceedit.faces import blazeface as bf
from faceedit.faces import facemesh as fm
from faceedit.faces.mediapipe_common import (  # noqa: F401 (Window ... warp_crop: this module's names before)
    Detection,
    FacesPipeline,
    Window,
    warp_crop,
    window_input,
    window_keep,
    windows,
)

WEIGHT_FILES = {"short": "blazeface_short.safetensors", "full": "blazeface_full.safetensors",
                "mesh": "facemesh.safetensors"}

_Det = Detection  # its name before the torch-free module held it

_Net = TypeVar("_Net", bound=torch.nn.Module)


def load_net(cls: type[_Net], path: Path, device) -> _Net:
    from safetensors.torch import load_file

    net = cls()
    net.load_state_dict({k: v.float() for k, v in load_file(str(path)).items()})
    # NHWC: PyTorch's CPU kernels for these depthwise/1x1 stacks run ~1.3-1.6x faster on it
    # (measured on this repo's nets, batch 1 and 8); outputs equal NCHW's to float rounding.
    # Module.to takes memory_format (as Tensor.to does); torch's overloads of it do not list it
    return net.eval().to(device, memory_format=torch.channels_last)  # type: ignore[call-overload]


class MediaPipeFaces(FacesPipeline):
    """BlazeFace + Face Mesh as torch modules, batched; see
    :mod:`faceedit.faces.mediapipe_common` and :func:`~faceedit.faces.mediapipe_common.windows`.
    ``iris``: the iris model's .tflite file, run on LiteRT (the lids refined,
    :mod:`faceedit.faces.iris`), or None."""

    runtime = "torch"

    def __init__(self, weights: Path, device: str = "cpu", min_score: float = 0.5,
                 nms_iou: float = 0.3, tile_from: int = 600, zoom_out: float = 1.5,
                 refine: int = 1, min_presence: float = 0.5, max_batch: int = 64, iris: Path | None = None):
        super().__init__(min_score=min_score, nms_iou=nms_iou, tile_from=tile_from,
                         zoom_out=zoom_out, refine=refine, min_presence=min_presence)
        self.device = torch.device(device)
        self.dets: dict[str, bf.BlazeFaceShort | bf.BlazeFaceFull] = {
            v: load_net(bf.VARIANTS[v], Path(weights) / WEIGHT_FILES[v], self.device)
            for v in self.variants}
        self.anchors = {v: bf.anchors(v).to(self.device) for v in self.variants}
        self.mesh = load_net(fm.FaceMesh, Path(weights) / WEIGHT_FILES["mesh"], self.device)
        self.max_batch = max_batch
        if iris is not None:  # the iris model has no torch port: LiteRT runs it (faceedit.faces.iris)
            from faceedit.faces.litert_faces import LiteRTIris

            self.iris = LiteRTIris(iris)

    # ---------------------------------------------------------------------------------------

    def _run(self, net, batch: list[np.ndarray], scale: float, shift: float):
        """uint8 NHWC crops -> the net's outputs, in chunks of ``max_batch``."""
        outs = []
        for i in range(0, len(batch), self.max_batch):
            x = torch.from_numpy(np.stack(batch[i:i + self.max_batch])).to(self.device)
            x = (x.permute(0, 3, 1, 2).float() * scale + shift).contiguous(memory_format=torch.channels_last)
            with torch.inference_mode():
                outs.append(net(x))
        return [torch.cat([o[k] for o in outs]) for k in range(len(outs[0]))]

    def _detect_windows(self, images, variant: str, todo, per_image) -> None:
        net = self.dets[variant]
        s = net.size
        reg, logits = self._run(net, [window_input(images[i], w, s) for i, w in todo], 1 / 127.5, -1.0)
        boxes, kps, scores = bf.decode(reg, logits, self.anchors[variant], s)
        for j, (i, win) in enumerate(todo):
            h, w = images[i].shape[:2]
            keep = window_keep(boxes[j], scores[j] >= self.min_score, variant, win, h, w,
                               self.zoom_min_width)
            if keep.any():
                # normalised input coords (pixel edges) -> photo pixel centres
                off = torch.tensor([win.x0, win.y0], device=self.device, dtype=torch.float32) - 0.5
                per_image[i].append((boxes[j][keep] * win.side + off.repeat(2),
                                     kps[j][keep] * win.side + off, scores[j][keep]))

    def _merge(self, parts):
        b, k, sc = (torch.cat(t) for t in zip(*parts))
        b, k, sc = bf.weighted_nms(b, k, sc, self.nms_iou)
        return (b.cpu().numpy().astype(np.float64), k.cpu().numpy().astype(np.float64),
                sc.cpu().numpy())

    def _run_mesh(self, crops):
        pts, flag = self._run(self.mesh, crops, 1 / 255, 0.0)  # batch-invariant: FaceMesh.forward
        return pts.cpu().numpy().astype(np.float64), torch.sigmoid(flag).cpu().numpy()
