"""Faces tracked through a clip, not detected again on every frame.

The detector (BlazeFace + Face Mesh, :class:`faceedit.faces.mediapipe_faces.MediaPipeFaces`)
runs on the first frame, on a scene cut (:func:`scene_cut`), on every frame while no face is
tracked, and every ``redetect`` seconds to find faces that came in beside the tracked ones.
Between, each face's Face Mesh runs on the ROI its previous mesh gives (MediaPipe's own
tracking: :func:`faceedit.faces.facemesh.roi_from_mesh`), moved by the face's last motion; a
face whose mesh presence falls below ``min_presence`` is lost.

Identity: a track keeps its number for the whole clip. Tracks are numbered in the order they
appear (the faces of one frame largest first), so ``--face 0`` is the largest face of the first
frame that shows one. A lost track is remembered; a face found again is given the number of the
lost track whose identity feature (the project's identity network,
:mod:`faceedit.analysis.identity`) is most similar, above the network's same-person threshold,
else a new one. (The stage's identity coordinates, a face's shape, do not tell people apart: on
London photos two different people lie as close in them as one person smiling and not.)

Every track's dense mesh is smoothed in time in the face's own frame (the head's pose kept as
measured, its shape through :class:`faceedit.video.smooth.OneEuro`: :meth:`FaceTracker._update`);
its 68 points are derived from the smoothed mesh, so the two always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from faceedit.faces import facemesh as fm
from faceedit.faces.align import apply_affine, invert_affine, similarity_transform
from faceedit.faces.mesh68 import mesh_to_68
from faceedit.faces.types import CropTemplate, Face
from faceedit.video.smooth import OneEuro, SlowMean


def mesh_box(dense: np.ndarray) -> np.ndarray:
    """(4,) x0, y0, x1, y1 of a mesh's points."""
    xy = np.asarray(dense)[:, :2]
    return np.concatenate([xy.min(0), xy.max(0)])


def iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def thumbnail(rgb: np.ndarray) -> np.ndarray:
    """A 32 x 18 grey thumbnail for :func:`scene_cut`."""
    step = max(1, min(rgb.shape[0] // 72, rgb.shape[1] // 128))  # a cheap pre-shrink of large frames
    small = np.ascontiguousarray(rgb[::step, ::step])
    return cv2.resize(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), (32, 18), interpolation=cv2.INTER_AREA
                      ).astype(np.float32)


def scene_cut(prev: np.ndarray | None, cur: np.ndarray, threshold: float = 30.0) -> bool:
    """Whether two consecutive thumbnails differ by more than ``threshold`` grey levels on
    average: a cut, not camera motion (a 32 x 18 thumbnail blurs motion of a few pixels a frame
    away)."""
    return prev is not None and float(np.abs(cur - prev).mean()) > threshold


IDENTITY_TEMPLATE = CropTemplate(size=128)  # the crop the identity network's features are read from

#: One-Euro settings of the head's pose (the shape's are :class:`OneEuro`'s defaults): Face Mesh's
#: points shift together from frame to frame by a few tenths of a pixel (the crop moves), which a
#: pose taken as measured passes on to the whole edit; a head in motion raises the cut-off.
POSE_FILTER = {"min_cutoff": 1.0, "beta": 4.0, "trend": 3.0}


@dataclass
class Track:
    """One person through the clip: ``id`` (stable), ``face`` (the smoothed face of the current
    frame, with its 468-point mesh in ``dense``), ``lost`` (frames since last seen, 0 =
    visible), ``identity`` (the stage's identity coordinates, averaged over the track), and
    what the edit keeps per person (``extra``: e.g. its mouth exemplar)."""

    id: int
    face: Face
    raw: np.ndarray  # (468, 3) the unsmoothed mesh of the last frame seen (the next ROI's source)
    first_area: float
    ref: np.ndarray | None = None  # (468, 2) the mesh the shape is smoothed against (see _update)
    lost: int = 0
    frames: int = 0  # frames seen
    segment: int = 0  # times the track was found again after being lost
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))
    identity: np.ndarray | None = None
    feature: np.ndarray | None = None  # the identity network's feature, summed over detections
    filter: OneEuro = field(default_factory=OneEuro)  # the shape, in the face's own frame
    pose_filter: OneEuro = field(default_factory=lambda: OneEuro(**POSE_FILTER))
    smooth_pose: bool = True
    identity_mean: SlowMean = field(default_factory=lambda: SlowMean(5.0))
    extra: dict = field(default_factory=dict)


class FaceTracker:
    """Track faces frame by frame: ``tracker(rgb, t)`` -> the visible tracks (id order).

    ``faces``: a :class:`MediaPipeFaces`; ``stage``: the :class:`Stage` whose identity
    coordinates each track averages (for the held expression); ``identity``: an
    :class:`IdentityNet` that tells people apart again after a face was lost (None: a face found
    again is a new track). Counters: :attr:`detections` (frames the detector ran on), :attr:`cuts`."""

    forget_after = 10_000  # frames a lost track is remembered

    def __init__(self, faces, stage=None, *, identity=None, min_presence: float = 0.5,
                 redetect: float = 2.0, cut_threshold: float = 30.0, filter_args: dict | None = None):
        self.faces, self.stage, self.identity = faces, stage, identity
        self.min_presence, self.redetect, self.cut_threshold = min_presence, redetect, cut_threshold
        self.filter_args = filter_args or {}
        self.tracks: list[Track] = []
        self.next_id = 0
        self.detections = 0
        self.cuts = 0
        self.recrops = 0  # faces meshed a second time in a frame (their mesh moved off the ROI)
        self._thumb: np.ndarray | None = None
        self._last_detect: float | None = None

    # ---------------------------------------------------------------------------------------
    def __call__(self, rgb: np.ndarray, t: float) -> list[Track]:
        thumb = thumbnail(rgb)
        cut = scene_cut(self._thumb, thumb, self.cut_threshold)
        self._thumb = thumb
        if cut:
            self.cuts += 1
            for tr in self.tracks:
                if tr.lost == 0:
                    self._lose(tr)
        live = [tr for tr in self.tracks if tr.lost == 0]
        seen: dict[int, np.ndarray] = {}
        if live:
            seen = self._follow(rgb, live)
        for tr in live:
            if tr.id not in seen:
                self._lose(tr)
        visible = [tr for tr in self.tracks if tr.lost == 0]
        if not visible or cut or self._last_detect is None or t - self._last_detect >= self.redetect:
            self._last_detect = t
            self.detections += 1
            for f in sorted(self.faces([rgb])[0], key=lambda f: -f.area):
                if f.dense is None:  # the tracker's detector meshes every face it finds
                    continue
                # the mesh's own 468 points, as the frames followed give them (a detection's
                # irises, after them where the iris model ran, are not tracked)
                mesh = np.asarray(f.dense, np.float64)[:468]
                box = mesh_box(mesh)
                if any(iou(box, mesh_box(seen[tr.id])) > 0.3 for tr in visible if tr.id in seen):
                    continue  # a face already tracked
                feature = self._embedding(rgb, f)
                found = self._match_lost(f, feature)
                if found is None:
                    tr = Track(self.next_id, f, mesh, f.area, filter=OneEuro(**self.filter_args))
                    self.next_id += 1
                    self.tracks.append(tr)
                else:
                    tr = found
                if feature is not None:  # the track's feature: the mean of its sightings'
                    tr.feature = feature if tr.feature is None else tr.feature + feature
                if tr.frames > 0:
                    tr.segment += 1
                    tr.lost, tr.velocity, tr.raw = 0, np.zeros(2), mesh
                    tr.filter.reset()
                seen[tr.id] = mesh
                visible.append(tr)
        for tr in self.tracks:
            if tr.id in seen:
                self._update(tr, seen[tr.id], t)
            elif tr.lost:
                tr.lost += 1
        self.tracks = [tr for tr in self.tracks if tr.lost <= self.forget_after]
        return sorted((tr for tr in self.tracks if tr.lost == 0), key=lambda tr: tr.id)

    # ---------------------------------------------------------------------------------------
    def _follow(self, rgb: np.ndarray, live: list[Track]) -> dict[int, np.ndarray]:
        """The mesh of every live track on its predicted ROI (one re-crop pass for the faces
        whose mesh moved off it); tracks whose presence is too low are left out."""
        rois = []
        for tr in live:
            centre, side, angle = fm.roi_from_mesh(tr.raw)
            rois.append((0, centre + tr.velocity, side, angle))
        pts, presence = self.faces._mesh([rgb], rois)
        new = [(0, *fm.roi_from_mesh(p)) for p in pts]
        todo = [k for k, (a, b) in enumerate(zip(rois, new)) if fm.roi_moved(a[1:], b[1:])]
        if todo:
            self.recrops += len(todo)
            p2, pr2 = self.faces._mesh([rgb], [new[k] for k in todo])
            for j, k in enumerate(todo):
                pts[k], presence[k] = p2[j], pr2[j]
        return {tr.id: p for tr, p, pr in zip(live, pts, presence) if pr >= self.min_presence}

    def _update(self, tr: Track, dense: np.ndarray, t: float) -> None:
        """Smooth the new mesh in the face's own frame: the similarity (pose) that brings it
        onto the segment's first mesh, and the shape in that frame, each through a One-Euro
        filter of its own (the pose's: its rotation-scale part and where the face's centre lies,
        in pixels; it follows a moving head with a higher cut-off than the shape), and the
        smoothed shape is put back with the smoothed pose."""
        if tr.frames > 0:
            tr.velocity = dense[:, :2].mean(0) - np.asarray(tr.raw)[:, :2].mean(0)
        if tr.ref is None or tr.filter.x is None:
            tr.ref = np.asarray(dense, np.float64)[:, :2].copy()
            tr.pose_filter.reset()
        pose = similarity_transform(dense[:, :2], tr.ref)
        k = float(np.sqrt(abs(np.linalg.det(pose[:, :2]))))
        shape = np.column_stack([apply_affine(pose, dense[:, :2]), dense[:, 2] * k])
        ref_box = mesh_box(tr.ref)
        width = float(ref_box[2] - ref_box[0])
        shape = tr.filter(shape, t, scale=width)
        back = invert_affine(pose)  # canonical -> image: [[a, -b, tx], [b, a, ty]]
        centre = tr.ref.mean(0)
        v = np.array([back[0, 0] * width, back[1, 0] * width, *(back[:, :2] @ centre + back[:, 2])])
        if tr.smooth_pose:
            v = tr.pose_filter(v, t, scale=width)
        a, b = v[0] / width, v[1] / width
        back = np.array([[a, -b, 0.0], [b, a, 0.0]])
        back[:, 2] = v[2:] - back[:, :2] @ centre
        smooth = np.column_stack([apply_affine(back, shape[:, :2]), shape[:, 2] / k])
        lm = mesh_to_68(smooth)
        tr.face = Face(box=mesh_box(smooth), landmarks=lm, score=1.0, detector="mediapipe",
                       dense=smooth.astype(np.float32))
        tr.raw = dense
        tr.frames += 1
        if self.stage is not None:
            tr.identity = tr.identity_mean(self.stage.state(lm, mediapipe=True).identity, t)

    def _lose(self, tr: Track) -> None:
        tr.lost = 1
        tr.filter.reset()

    def _embedding(self, rgb: np.ndarray, f: Face) -> np.ndarray | None:
        """The identity network's unit feature of face ``f`` (None without a network)."""
        if self.identity is None:
            return None
        import torch

        from faceedit.faces.align import align_face
        from faceedit.pixels import levels_to_signed

        crop = align_face(rgb, f, IDENTITY_TEMPLATE).crop
        x = levels_to_signed(torch.from_numpy(np.ascontiguousarray(crop))).permute(2, 0, 1)[None].float()
        with torch.inference_mode():
            return self.identity.embed(x)[0].cpu().numpy().astype(np.float64)

    def _match_lost(self, f: Face, feature: np.ndarray | None) -> Track | None:
        """The lost track this newly found face belongs to: the one whose identity feature is
        most similar, above the identity network's same-person threshold (None without a
        network: a face found again is then a new track)."""
        best, score = None, -np.inf
        if feature is None:
            return None
        for tr in self.tracks:
            if tr.lost > 0 and tr.feature is not None:
                c = float(feature @ tr.feature / max(np.linalg.norm(tr.feature), 1e-9))
                if c > score:
                    best, score = tr, c
        return best if score > self.identity.threshold else None
