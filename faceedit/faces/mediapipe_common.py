"""What MediaPipe's face pipeline is made of besides its networks, in numpy and OpenCV (no torch):
the windows the detectors see, anchor decoding and weighted NMS, the mesh's ROI geometry (its
crops in :mod:`faceedit.faces.crops`), and :class:`FacesPipeline`, the steps from photos to faces
that both runtimes share.

Two runtimes run the networks (:attr:`FacesPipeline.runtime`):

* ``litert`` (:class:`faceedit.faces.litert_faces.LiteRTFaces`): MediaPipe's own .tflite files on
  LiteRT (XNNPACK), one photo and one face at a time; the CPU default, and it imports no torch;
* ``torch`` (:class:`faceedit.faces.mediapipe_faces.MediaPipeFaces`): the same networks as torch
  modules with converted weights, batched across photos and faces, on the CPU or a GPU.

Stages (MediaPipe's face_detection + face_landmark_front graphs):

1. the detectors see square windows of each photo (:func:`windows`), resized to their input
   (:func:`faceedit.faces.crops.warp_crop`): the whole photo letterboxed for the full-range model (faces down to ~6 %
   of the long side); the photo zoomed out 1.5x for the short-range model (faces that fill the
   frame, which the full-range model misses); overlapping tiles of photos longer than
   ``tile_from`` px;
2. anchors decoded, scores >= ``min_score`` kept, weighted NMS (IoU 0.3) per photo, across tiles;
3. ROI per face: the box centre, 1.5x its long side, rolled so the eyes are level (keypoints 0/1),
   moved to where the mesh's own ROI lies on average (:func:`roi_from_detection`);
   a 192-px crop of it goes through the mesh network; the points are mapped back to the photo;
4. up to ``refine`` more passes re-crop from the mesh itself (roll from the outer eye corners,
   box of the points) as MediaPipe does when tracking from frame to frame, for the faces whose
   mesh lies off its crop (:func:`roi_moved`: 12 of the 86 London faces, most turned ones);
   faces whose mesh face-presence probability is below ``min_presence`` are dropped, and a face
   whose mesh lies on one kept before it (a better detection's) is that face (:func:`same_face`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from faceedit.faces.crops import MESH_SIZE, crop_to_image, roi_matrix, warp_crop  # noqa: F401 (this module's names before)
from faceedit.faces.iris import contour_to_image, eye_crops, refine_lids, with_irises
from faceedit.faces.mesh68 import mesh_to_68
from faceedit.faces.types import Face
from faceedit.log import timed

DETECTOR_SIZE = {"short": 128, "full": 192}  # input side of each BlazeFace variant
MESH_POINTS = 468

# --------------------------------------------------------------------------------------------
# windows and crops


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


def window_keep(boxes: Any, keep: Any, variant: str, win: Window, h: int, w: int,
                zoom_min_width: float) -> Any:
    """``keep`` (a bool mask over ``boxes``, (A,4) in [0,1] of the window; numpy or torch alike)
    narrowed to the faces this window may report: on the zoomed-out short-range window only
    boxes at least ``zoom_min_width`` wide (the large faces it is for), on a tile none cut by
    one of its edges that lie inside the photo."""
    if variant == "short":
        keep = keep & ((boxes[:, 2] - boxes[:, 0]) >= zoom_min_width)
    if win.tile:
        m = 0.01
        keep = keep & ~(((boxes[:, 0] < m) & (win.x0 > 0)) | ((boxes[:, 1] < m) & (win.y0 > 0))
                        | ((boxes[:, 2] > 1 - m) & (win.x0 + win.side < w))
                        | ((boxes[:, 3] > 1 - m) & (win.y0 + win.side < h)))
    return keep


# --------------------------------------------------------------------------------------------
# anchors, decoding, NMS (numpy, float32: the same arithmetic as faceedit.faces.blazeface's)


def anchors(variant: str) -> np.ndarray:
    """(A,2) float32 anchor centres in [0,1] (MediaPipe's SSD anchors with fixed size 1: only
    centres). short: strides 8, 16, 16, 16 (2 anchors per 16x16 cell, 6 per 8x8 cell); full:
    stride 4. Equal to :func:`faceedit.faces.blazeface.anchors`."""
    size, layers = (128, [(8, 2), (16, 6)]) if variant == "short" else (192, [(4, 1)])
    out = []
    for stride, per_cell in layers:
        g = size // stride
        c = (np.arange(g, dtype=np.float32) + np.float32(0.5)) / np.float32(g)
        xy = np.stack(np.meshgrid(c, c, indexing="xy"), -1).reshape(-1, 1, 2)
        out.append(np.broadcast_to(xy, (g * g, per_cell, 2)).reshape(-1, 2))
    return np.concatenate(out).astype(np.float32)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """MediaPipe's score: the sigmoid of the logit clipped to +-100."""
    x = np.clip(np.asarray(logits, np.float64), -100, 100)  # float64: exp(100) overflows float32
    return (1 / (1 + np.exp(-x))).astype(np.float32)


def decode(reg: np.ndarray, anchor: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw regressors (..., 16) of anchors ``anchor`` (..., 2) -> boxes (..., 4) x0,y0,x1,y1 and
    keypoints (..., 6, 2), in [0,1] of the input square."""
    r = reg.astype(np.float32) / np.float32(size)
    centre = r[..., 0:2] + anchor
    half = r[..., 2:4] / np.float32(2)
    boxes = np.concatenate([centre - half, centre + half], -1)
    kps = r[..., 4:16].reshape(*r.shape[:-1], 6, 2) + anchor[..., None, :]
    return boxes, kps


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    lt = np.maximum(box[:2], boxes[:, :2])
    rb = np.minimum(box[2:], boxes[:, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area = np.clip(box[2:] - box[:2], 0, None).prod()
    areas = np.clip(boxes[:, 2:] - boxes[:, :2], 0, None).prod(-1)
    return inter / np.maximum(area + areas - inter, np.float32(1e-12))


def weighted_nms(boxes: np.ndarray, kps: np.ndarray, scores: np.ndarray, iou: float = 0.3):
    """MediaPipe's WEIGHTED non-maximum suppression for one image (numpy twin of
    :func:`faceedit.faces.blazeface.weighted_nms`).

    Best score first: every remaining candidate overlapping it by IoU > ``iou`` joins its cluster
    and leaves the pool; the cluster's box and keypoints are the score-weighted mean of its
    members, its score the best one. Returns (boxes (K,4), keypoints (K,6,2), scores (K,)).
    """
    order = np.argsort(-scores, kind="stable")
    boxes, kps, scores = boxes[order], kps[order], scores[order]
    out_b, out_k, out_s = [], [], []
    alive = np.ones(len(scores), bool)
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
    return np.stack(out_b), np.stack(out_k), np.stack(out_s)


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


#: Two meshes whose points' boxes overlap by more than this (intersection over union) are one face
#: (:func:`same_face`), as MediaPipe's own tracking associates a detection with a face it holds by
#: their rects' overlap (0.5).
SAME_FACE_IOU = 0.5


def same_face(a: np.ndarray, b: np.ndarray, iou: float = SAME_FACE_IOU) -> bool:
    """Whether meshes ``a`` and ``b`` ((468+, 2|3) photo pixels) are one face: their points' boxes
    overlap by more than ``iou``. Two detections of one face whose boxes overlap too little for
    the NMS (a tile's and the whole photo's at different sizes: Renoir's Bal du moulin de la
    Galette, one woman found twice, IoU 0.27) lead the mesh to the same face, which an edit
    then widened twice."""
    def box(p: np.ndarray) -> np.ndarray:
        return np.concatenate([np.min(p[:, :2], 0), np.max(p[:, :2], 0)]).astype(np.float64)

    return bool(_iou(box(a), box(b)[None])[0] > iou)


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


# --------------------------------------------------------------------------------------------
# the pipeline


@dataclass
class Detection:
    """One face BlazeFace found, merged across windows: photo index, box (4,) and keypoints
    (6,2) in photo pixels, score."""

    image: int
    box: np.ndarray
    kps: np.ndarray
    score: float


class FacesPipeline:
    """BlazeFace boxes -> rotated crops -> Face Mesh (see the module doc): photos (any sizes) in,
    per photo the faces with 468 dense points, the 68-point iBUG layout derived from them, a box
    and a score. A runtime supplies three steps: :meth:`_detect_windows` (the detector on
    windows, decoded and filtered), :meth:`_merge` (NMS of one photo's detections) and
    :meth:`_run_mesh` (the mesh on crops)."""

    runtime = ""
    # the iris model (uint8 (K,64,64,3) eye crops -> (K,71,3) contours), both runtimes run it
    # on LiteRT (:class:`faceedit.faces.litert_faces.LiteRTIris`); None: the mesh's lids stay
    iris: Any = None

    # Boxes narrower than this share of the zoomed-out window (0.3 of the photo's long side at
    # zoom_out 1.5) are left to the full-range model, which places small faces better.
    zoom_min_width = 0.2

    def __init__(self, min_score: float = 0.5, nms_iou: float = 0.3, tile_from: int = 600,
                 zoom_out: float = 1.5, refine: int = 1, min_presence: float = 0.5):
        self.min_score, self.nms_iou = min_score, nms_iou
        self.tile_from, self.zoom_out = tile_from, zoom_out
        self.refine, self.min_presence = refine, min_presence
        self.variants = ["full"] + (["short"] if zoom_out else [])

    # -- the runtime's steps -------------------------------------------------------------------
    def _detect_windows(self, images: list[np.ndarray], variant: str, todo: list[tuple[int, Window]],
                        per_image: list[list]) -> None:
        """Run detector ``variant`` on the windows ``todo`` ((photo index, window) pairs) and
        append each window's kept detections to ``per_image[photo index]``, in photo pixels
        (in whatever array type :meth:`_merge` takes)."""
        raise NotImplementedError

    def _merge(self, parts: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One photo's detections from all its windows -> weighted NMS: boxes (K,4), keypoints
        (K,6,2) (float64) and scores (K,), best first."""
        raise NotImplementedError

    def _run_mesh(self, crops: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """uint8 (192,192,3) crops -> points (K,468,3) float64 in crop pixels as the network
        gives them (pixel edges) and the face-presence probability (K,)."""
        raise NotImplementedError

    def _run_iris(self, crops: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
        """uint8 (64,64,3) eye crops -> the iris model's eye contours (K,71,3) and iris points
        (K,5,3) in crop pixels (pixel edges), or None without an iris model (the mesh's lids
        stay)."""
        return None if self.iris is None else self.iris(crops)

    # -- the shared steps ----------------------------------------------------------------------
    def detect_boxes(self, images: list[np.ndarray]) -> list[list[Detection]]:
        """BlazeFace on every window of every photo: detections in photo pixels, per photo."""
        jobs: dict[str, list] = {v: [] for v in self.variants}  # variant -> [(photo index, window)]
        for i, img in enumerate(images):
            h, w = img.shape[:2]
            for win in windows(h, w, self.tile_from, self.zoom_out):
                jobs[win.variant].append((i, win))
        per_image: list[list] = [[] for _ in images]
        for variant, todo in jobs.items():
            if todo:
                self._detect_windows(images, variant, todo, per_image)
        out: list[list[Detection]] = []
        for i, parts in enumerate(per_image):
            if not parts:
                out.append([])
                continue
            b, k, sc = self._merge(parts)
            out.append([Detection(i, bb, kk, float(ss)) for bb, kk, ss in zip(b, k, sc)])
        return out

    def _mesh(self, images: list[np.ndarray], rois: list) -> tuple[np.ndarray, np.ndarray]:
        """Mesh every ROI (image index, centre, side, angle): (K,468,3) photo points, (K,) presence."""
        mats = [roi_matrix(c, side, a, MESH_SIZE) for _, c, side, a in rois]
        crops = [warp_crop(images[i], m, MESH_SIZE) for (i, *_), m in zip(rois, mats)]
        pts, presence = self._run_mesh(crops)
        pts[..., :2] -= 0.5  # model outputs pixel edges; crop pixel centres are at integers
        return np.stack([crop_to_image(p, m) for p, m in zip(pts, mats)]), presence

    def __call__(self, images: list[np.ndarray]) -> list[list[Face]]:
        with timed("detect"):
            dets = self.detect_boxes(images)
        flat = [d for per in dets for d in per]
        if not flat:
            return [[] for _ in images]
        with timed("landmarks"):
            rois = [(d.image, *roi_from_detection(d.box, d.kps)) for d in flat]
            pts, presence = self._mesh(images, rois)
            for _ in range(self.refine):
                # re-crop the faces whose mesh lies off its crop; the others would barely move
                new = [(d.image, *roi_from_mesh(p)) for d, p in zip(flat, pts)]
                todo = [k for k, (a, b) in enumerate(zip(rois, new)) if roi_moved(a[1:], b[1:])]
                if not todo:
                    break
                p2, pr2 = self._mesh(images, [new[k] for k in todo])
                for j, k in enumerate(todo):
                    rois[k], pts[k], presence[k] = new[k], p2[j], pr2[j]
        faces: list[list[Face]] = [[] for _ in images]
        with timed("landmarks"):
            pts = self._refine_eyes(images, [d.image for d in flat], pts)
            for d, p, pr in zip(flat, pts, presence):
                if pr < self.min_presence or any(f.dense is not None and same_face(p, f.dense) for f in faces[d.image]):
                    continue
                faces[d.image].append(Face(box=d.box, landmarks=mesh_to_68(p), score=d.score,
                                           detector="mediapipe", dense=p.astype(np.float32)))
        return faces

    def _refine_eyes(self, images: list[np.ndarray], owners: list[int], pts: np.ndarray) -> np.ndarray:
        """Each mesh (``pts``, (K,468,3) photo pixels, mesh k on photo ``owners[k]``) with its
        lids moved to the iris model's (:mod:`faceedit.faces.iris`) where the runtime runs it
        (the Face Mesh's own lids barely follow a raised upper lid) and the two irises' points
        added after its 468 (:func:`~faceedit.faces.iris.with_irises`: (K,478,3), MediaPipe's
        refined layout); without the iris model the meshes as they are."""
        if not len(pts) or self.iris is None:
            return pts
        crops, mats = [], []
        for i, p in zip(owners, pts):
            c, m = eye_crops(images[i], p)
            crops += c
            mats += m
        found = self._run_iris(crops)
        if found is None:
            return pts
        contours, irises = found
        out = []
        for k in range(len(pts)):
            left, right = (contour_to_image(contours[2 * k + e], mats[2 * k + e], e == 1) for e in (0, 1))
            centres = [contour_to_image(irises[2 * k + e], mats[2 * k + e], e == 1) for e in (0, 1)]
            out.append(with_irises(refine_lids(pts[k], (left, right)), centres))
        return np.stack(out)
