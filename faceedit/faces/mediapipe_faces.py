"""MediaPipe-style face pipeline in torch: BlazeFace boxes -> rotated crops -> Face Mesh.

:class:`MediaPipeFaces` takes a batch of photos (any sizes) and returns, per photo, faces with
468 dense points, the 68-point iBUG layout derived from them, a box and a score. Each stage is
batched across all photos and faces of the call and runs on the given device (CPU or CUDA);
resampling (letterbox, crops) is done on the CPU with OpenCV.

Stages (MediaPipe's face_detection + face_landmark_front graphs):

1. the detectors see square windows of each photo (:func:`windows`), resized to their input
   (:func:`warp_crop`): the whole photo letterboxed for the full-range model (faces down to ~6 %
   of the long side); the photo zoomed out 1.5x for the short-range model (faces that fill the
   frame, which the full-range model misses); overlapping tiles of photos longer than
   ``tile_from`` px;
2. anchors decoded, scores >= ``min_score`` kept, weighted NMS (IoU 0.3) per photo, across tiles;
3. ROI per face: the box centre, 1.5x its long side, rolled so the eyes are level (keypoints 0/1),
   moved to where the mesh's own ROI lies on average (:func:`facemesh.roi_from_detection`);
   a 192-px crop of it goes through the mesh network; the points are mapped back to the photo;
4. up to ``refine`` more passes re-crop from the mesh itself (roll from the outer eye corners,
   box of the points) as MediaPipe does when tracking from frame to frame, for the faces whose
   mesh lies off its crop (:func:`facemesh.roi_moved`: 12 of the 86 London faces, most turned
   ones); faces whose mesh face-presence probability is below ``min_presence`` are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np
import torch

from faceedit.faces import blazeface as bf
from faceedit.faces import facemesh as fm
from faceedit.faces.mesh68 import mesh_to_68
from faceedit.faces.types import Face
from faceedit.log import timed

WEIGHT_FILES = {"short": "blazeface_short.safetensors", "full": "blazeface_full.safetensors",
                "mesh": "facemesh.safetensors"}


_Net = TypeVar("_Net", bound=torch.nn.Module)


def load_net(cls: type[_Net], path: Path, device) -> _Net:
    from safetensors.torch import load_file

    net = cls()
    net.load_state_dict({k: v.float() for k, v in load_file(str(path)).items()})
    # NHWC: PyTorch's CPU kernels for these depthwise/1x1 stacks run ~1.3-1.6x faster on it
    # (measured on this repo's nets, batch 1 and 8); outputs equal NCHW's to float rounding.
    # Module.to takes memory_format (as Tensor.to does); torch's overloads of it do not list it
    return net.eval().to(device, memory_format=torch.channels_last)  # type: ignore[call-overload]


@dataclass
class _Det:
    image: int
    box: np.ndarray  # (4,) pixels
    kps: np.ndarray  # (6,2) pixels
    score: float


@dataclass(frozen=True)
class Window:
    """A square part of a photo (x0, y0, side in photo pixels; it may reach past the photo's
    edges, where it is black) that one detector variant sees, scaled to its input size."""

    x0: int
    y0: int
    side: int
    variant: str  # "full" or "short"
    tile: bool = False  # a tile inside the photo: faces cut by its inner edges are dropped


def windows(h: int, w: int, tile_from: int, zoom_out: float) -> list[Window]:
    """What the detectors see of an h x w photo:

    * the whole photo, letterboxed (black right/bottom), full-range model;
    * with ``zoom_out`` > 0, the whole photo centred in a black square ``zoom_out`` times its
      long side, short-range model: faces that fill the frame (tight crops), which the
      full-range model misses, become ~1/zoom_out of the input, where the short-range one works;
    * for a photo longer than ``tile_from`` px (0: never), tiles of half its long side (at least
      ``tile_from``), half a tile apart (3x3 on a square photo), full-range model.
    """
    long = max(h, w)
    out = [Window(0, 0, long, "full")]
    if zoom_out:
        side = int(round(zoom_out * long))
        out.append(Window((w - side) // 2, (h - side) // 2, side, "short"))
    if not tile_from or long <= tile_from:
        return out
    side = min(max(tile_from, -(-long // 2)), h, w)
    step = side // 2
    xs = sorted({*range(0, max(w - side, 0) + 1, step), max(w - side, 0)})
    ys = sorted({*range(0, max(h - side, 0) + 1, step), max(h - side, 0)})
    return out + [Window(x, y, side, "full", tile=True) for y in ys for x in xs]


def window_input(img: np.ndarray, win: Window, size: int) -> np.ndarray:
    """The window's pixels (black outside the photo) resized to ``size`` x ``size`` by
    :func:`warp_crop`. Input pixel u covers photo pixels x0 + (u + 0.5) * side / size - 0.5."""
    s = size / win.side
    matrix = np.array([[s, 0.0, (0.5 - win.x0) * s - 0.5], [0.0, s, (0.5 - win.y0) * s - 0.5]])
    return warp_crop(img, matrix, size)


def warp_crop(img: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """The ``size`` crop that ``matrix`` (image -> crop) describes, black outside the photo.
    When the crop is more than 2x smaller, the part of the photo it covers is first halved
    (INTER_AREA; its 2x case is several times faster than any other factor) until less than 2x
    is left, which the bilinear warp does without aliasing."""
    k = np.sqrt(abs(np.linalg.det(matrix[:, :2])))
    if k < 0.5:
        inv = cv2.invertAffineTransform(matrix)
        corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], float) @ inv.T
        h, w = img.shape[:2]
        m = int(np.ceil(1 / k))  # room for the last kernels
        x0, y0 = (max(0, int(np.floor(v)) - m) for v in corners.min(0))
        x1, y1 = min(w, int(np.ceil(corners[:, 0].max())) + m), min(h, int(np.ceil(corners[:, 1].max())) + m)
        part, f = img[y0:y1, x0:x1], 1
        while k * f < 0.5 and min(part.shape[:2]) >= 4:
            nh, nw = part.shape[0] // 2, part.shape[1] // 2
            part = cv2.resize(part[: 2 * nh, : 2 * nw], (nw, nh), interpolation=cv2.INTER_AREA)
            f *= 2
        if f > 1:
            # small pixel u <-> image pixel (u + 0.5) * f - 0.5 + x0
            matrix = matrix @ np.array([[f, 0, x0 + 0.5 * f - 0.5], [0, f, y0 + 0.5 * f - 0.5], [0, 0, 1]])
            img = part
    return cv2.warpAffine(img, matrix, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT)  # black: better than replicate at photo edges


class MediaPipeFaces:
    """BlazeFace + Face Mesh, batched; see the module doc and :func:`windows`."""

    # Boxes narrower than this share of the zoomed-out window (0.3 of the photo's long side at
    # zoom_out 1.5) are left to the full-range model, which places small faces better.
    zoom_min_width = 0.2

    def __init__(self, weights: Path, device: str = "cpu", min_score: float = 0.5,
                 nms_iou: float = 0.3, tile_from: int = 600, zoom_out: float = 1.5,
                 refine: int = 1, min_presence: float = 0.5, max_batch: int = 64):
        self.device = torch.device(device)
        variants = ["full"] + (["short"] if zoom_out else [])
        self.dets: dict[str, bf.BlazeFaceShort | bf.BlazeFaceFull] = {
            v: load_net(bf.VARIANTS[v], Path(weights) / WEIGHT_FILES[v], self.device)
            for v in variants}
        self.anchors = {v: bf.anchors(v).to(self.device) for v in variants}
        self.mesh = load_net(fm.FaceMesh, Path(weights) / WEIGHT_FILES["mesh"], self.device)
        self.min_score, self.nms_iou = min_score, nms_iou
        self.tile_from, self.zoom_out = tile_from, zoom_out
        self.refine, self.min_presence, self.max_batch = refine, min_presence, max_batch

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

    def detect_boxes(self, images: list[np.ndarray]) -> list[list[_Det]]:
        """BlazeFace on every window of every photo: detections in photo pixels, per photo."""
        jobs: dict[str, list] = {v: [] for v in self.dets}  # variant -> [(photo index, window)]
        for i, img in enumerate(images):
            h, w = img.shape[:2]
            for win in windows(h, w, self.tile_from, self.zoom_out):
                jobs[win.variant].append((i, win))
        per_image: list[list] = [[] for _ in images]
        for variant, todo in jobs.items():
            if todo:
                self._detect_windows(images, variant, todo, per_image)
        out: list[list[_Det]] = []
        for i, parts in enumerate(per_image):
            if not parts:
                out.append([])
                continue
            b, k, sc = (torch.cat(t) for t in zip(*parts))
            b, k, sc = bf.weighted_nms(b, k, sc, self.nms_iou)
            out.append([_Det(i, bb, kk, float(ss)) for bb, kk, ss in
                        zip(b.cpu().numpy().astype(np.float64), k.cpu().numpy().astype(np.float64),
                            sc.cpu().numpy())])
        return out

    def _detect_windows(self, images, variant: str, todo, per_image) -> None:
        net = self.dets[variant]
        s = net.size
        reg, logits = self._run(net, [window_input(images[i], w, s) for i, w in todo], 1 / 127.5, -1.0)
        boxes, kps, scores = bf.decode(reg, logits, self.anchors[variant], s)
        for j, (i, win) in enumerate(todo):
            keep = scores[j] >= self.min_score
            if variant == "short":  # the zoomed-out window is for large faces only
                keep &= (boxes[j][:, 2] - boxes[j][:, 0]) >= self.zoom_min_width
            if win.tile:  # drop faces cut by a tile edge that lies inside the photo
                h, w = images[i].shape[:2]
                b, m = boxes[j], 0.01
                keep &= ~(((b[:, 0] < m) & (win.x0 > 0)) | ((b[:, 1] < m) & (win.y0 > 0))
                          | ((b[:, 2] > 1 - m) & (win.x0 + win.side < w))
                          | ((b[:, 3] > 1 - m) & (win.y0 + win.side < h)))
            if keep.any():
                # normalised input coords (pixel edges) -> photo pixel centres
                off = torch.tensor([win.x0, win.y0], device=self.device, dtype=torch.float32) - 0.5
                per_image[i].append((boxes[j][keep] * win.side + off.repeat(2),
                                     kps[j][keep] * win.side + off, scores[j][keep]))

    def _mesh(self, images, rois) -> tuple[np.ndarray, np.ndarray]:
        """Mesh every ROI (image index, centre, side, angle): (K,468,3) photo points, (K,) presence."""
        size = self.mesh.size
        mats = [fm.roi_matrix(c, side, a, size) for _, c, side, a in rois]
        crops = [warp_crop(images[i], m, size) for (i, *_), m in zip(rois, mats)]
        pts, flag = self._run(self.mesh, crops, 1 / 255, 0.0)  # batch-invariant: FaceMesh.forward
        pts = pts.cpu().numpy().astype(np.float64)
        pts[..., :2] -= 0.5  # model outputs pixel edges; crop pixel centres are at integers
        out = np.stack([fm.crop_to_image(p, m) for p, m in zip(pts, mats)])
        return out, torch.sigmoid(flag).cpu().numpy()

    def __call__(self, images: list[np.ndarray]) -> list[list[Face]]:
        with timed("detect"):
            dets = self.detect_boxes(images)
        flat = [d for per in dets for d in per]
        if not flat:
            return [[] for _ in images]
        with timed("landmarks"):
            rois = [(d.image, *fm.roi_from_detection(d.box, d.kps)) for d in flat]
            pts, presence = self._mesh(images, rois)
            for _ in range(self.refine):
                # re-crop the faces whose mesh lies off its crop; the others would barely move
                new = [(d.image, *fm.roi_from_mesh(p)) for d, p in zip(flat, pts)]
                todo = [k for k, (a, b) in enumerate(zip(rois, new)) if fm.roi_moved(a[1:], b[1:])]
                if not todo:
                    break
                p2, pr2 = self._mesh(images, [new[k] for k in todo])
                for j, k in enumerate(todo):
                    rois[k], pts[k], presence[k] = new[k], p2[j], pr2[j]
        faces: list[list[Face]] = [[] for _ in images]
        with timed("landmarks"):
            for d, p, pr in zip(flat, pts, presence):
                if pr < self.min_presence:
                    continue
                faces[d.image].append(Face(box=d.box, landmarks=mesh_to_68(p), score=d.score,
                                           detector="mediapipe", dense=p.astype(np.float32)))
        return faces
