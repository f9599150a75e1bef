"""A frame's edit carried to the frames after it while its faces hold still in their own frame.

The stage's edit of a 720p face costs several times what decoding, tracking and encoding the
frame do (``docs/benchmarks.md``, "The stage at video speed"), and a face that holds its
expression while the head or the camera moves gets the same edit on every frame, moved. So the
video runner edits in full only on *key frames*; on a frame after one it checks each face
(:func:`face_motion`):

* the face's 68 landmarks, the head's similarity motion since the key frame taken out, moved
  less than :attr:`Reuse.shape` eye distances (an expression that changes: talk, a blink), and
  so did the expression it is moved to (the stage's ``like`` reference, which
  :class:`~faceedit.video.edit.ExpressionHold` makes from the face's own state);
* the face's motion from the key frame's pixels to this frame's (:func:`pixel_motion`): the
  affine that aligns the face's grey levels (OpenCV's ECC, started from the landmarks'
  similarity, on a half-size crop: to a tenth of a pixel, where the smoothed landmarks lag a
  moving head by a pixel or two);
* so aligned, at most :attr:`Reuse.share` of the face's pixels differ from the key frame's by
  more than :attr:`Reuse.level` grey levels (what the landmarks miss: a glance, a hand, the
  light changing), or inside the mouth's box by more than :attr:`Reuse.mouth` (speech: the
  smoothed landmarks follow the lips a little behind, and a few levels of the lips and teeth
  are the mouth's opening, which the edit's own mouth must follow). The compared crop is
  blurred by a pixel where it is under 96 px a side (a face under about 190 px): there the
  resampling of edges a pixel wide alone moves them by tens of levels, and a still face would
  be a key frame on every frame.

Where every face passes and the key frame lies fewer than :attr:`Reuse.every` frames back, the
frame is not edited: the key frame's change to the picture (its edited pixels minus its input's,
one part per face, :func:`change_parts`) is moved by each face's motion onto the frame and added
to the frame's own pixels (:func:`carry_plan`; inside the mouth's box it follows the lips' own
motion since the key frame, found by optical flow: lips that moved a pixel under landmarks that
held keep the edit's change on their edges). The frame keeps its own grain, light and
background; only the change is the key frame's. Otherwise the frame is a key frame. A key frame
whose faces' pixels held (it comes from ``every``, or from landmarks that drifted while the
pixels did not; not from a reference that moved three times :attr:`Reuse.shape`) fades in: the last key frame's change, moved onto it, is mixed in over its first
:attr:`Reuse.fade` frames; one whose faces changed replaces it at once. The choice is made on
the tracking thread from the decoded frames alone, so the output does not depend on the number
of workers, nor on how far they have got.

On a talking clip the frames whose mouth moved are key frames, edited in full: the stage
edits a face as a whole (its warp's fields and appearance maps are solved over the face), so
there is no cheaper edit of the mouth alone to put on a carried frame.

What it costs: a carried frame takes the face's alignment (2-3 CPU-ms at 720p) and one Lanczos
resampling of the change (about 4), against the stage's 45-50; the mouth's flow (DIS, on its
box alone) about 1.6 more on a GRID frame (360x288: 2.9 CPU-ms to carry the change against 1.3
without it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, cast

import cv2
import numpy as np

from faceedit.faces.align import apply_affine, invert_affine, similarity_transform
from faceedit.faces.landmarks import eye_distance


@dataclass(frozen=True)
class Reuse:
    """When a frame takes the key frame's edit instead of its own (the module's notes)."""

    every: int = 8  # a key frame at least every this many frames (1: every frame edited in full)
    shape: float = 0.03  # the most a landmark may move in the face's own frame (eye distances)
    level: float = 20.0  # grey levels (of 255) from which an aligned pixel counts as changed
    share: float = 0.002  # the share of the face's pixels that may change so
    mouth: float = 10.0  # the same inside the mouth's box (lips, teeth: what speech moves)
    fade: int = 4  # frames over which a key frame's edit takes over from the last one's

    @property
    def enabled(self) -> bool:
        return self.every > 1


#: :meth:`KeyFrames.plan`'s ``found`` where the caller has not found the motions (found there).
FIND: object = object()


@dataclass(frozen=True)
class KeyFace:
    """One face of a key frame, as the tracker gave it: its track and segment, its 68 landmarks,
    the points its similarity is fitted on (the Face Mesh's, else the 68) and its ``like``."""

    track: int
    segment: int
    landmarks: np.ndarray
    points: np.ndarray
    like: np.ndarray | None


class Key:
    """A key frame: its index, its input pixels, its faces, the future of its edit (``(pixels,
    per-face edits)``) and, once edited, its change per face (:func:`change_parts`) and the key
    frame before it's moved onto this one (``fading``: where that fades out over this one's
    first frames; else None). ``before``: that earlier key frame and its faces' motions onto
    this one, while the planner needs them."""

    def __init__(self, index: int, rgb: np.ndarray, faces: list[KeyFace]):
        self.index, self.rgb, self.faces = index, rgb, faces
        self.future = None
        self.parts: list | None = None
        self.fading: list | None = None
        self.before: tuple[Key, list[np.ndarray]] | None = None
        self.edit: object = None  # what its edit asks for (KeyFrames.plan's ``edit``)


@dataclass
class Plan:
    """How a frame is edited (:meth:`KeyFrames.plan`): with ``motions`` None it is ``key``,
    edited in full; otherwise it takes ``key``'s change moved by ``motions`` (per face, key
    frame -> this frame). ``fade``: the weight of the key frame before (``key.fading``) in the
    change, as the key frame's edit takes over from it (0: none). ``before``: for a key frame
    that fades in, the key frame before it and its faces' motions onto this one."""

    key: Key
    motions: list[np.ndarray] | None = None
    fade: float = 0.0
    before: tuple[Key, list[np.ndarray]] | None = None

    def change(self) -> list:
        """The change per face this frame takes (the key frame edited, its ``fading`` mixed in
        by ``fade``: :func:`mix_parts`)."""
        key = self.key
        assert key.parts is not None
        if self.fade > 0 and key.fading is not None:
            return mix_parts(key.parts, key.fading, self.fade)
        return key.parts


class KeyFrames:
    """The key frames of one run: :meth:`plan` tells how a frame is edited; ``keys`` counts the
    key frames."""

    def __init__(self, reuse: Reuse | None = None):
        self.reuse = reuse or Reuse()
        self.key: Key | None = None
        self.keys = 0

    def motions(self, rgb: np.ndarray, tracks: list, likes: list | None) -> list | None:
        """Per face of ``tracks`` :func:`face_motion` from the last key frame (None: not the key
        frame's faces, or no reuse): what :meth:`plan` decides on (its ``found``)."""
        likes = likes if likes is not None else [None] * len(tracks)
        return self._motions(self.key, rgb, tracks, likes) if self.reuse.enabled else None

    def carries(self, index: int, found: list | None, edit: object = None) -> bool:
        """Whether :meth:`plan` with these ``found`` (:meth:`motions`) makes frame ``index`` take
        the last key frame's edit rather than a key frame."""
        key = self.key
        return found is not None and key is not None and all(m is not None and h for m, h in found) \
            and key.edit == edit and index - key.index < self.reuse.every

    def plan(self, index: int, rgb: np.ndarray, tracks: list, likes: list | None, edit: object = None,
             found: object = FIND) -> Plan:
        """Frame ``index`` with the faces ``tracks`` (the tracker's, in order) and their
        ``likes``: the last key frame's edit moved onto it where every face holds still
        (:func:`face_motion`) and the key frame lies fewer than ``every`` frames back; else a
        new key frame. A key frame whose faces' pixels held (it comes from ``every``, or from
        landmarks that drifted) fades in: over its first ``fade`` frames the last key frame's
        change is mixed in, from ``fade / (fade + 1)`` down; one whose faces changed does not.
        ``edit``: what the frame's edit asks for (key frames over a clip change it, :meth:`faceedit.
        models.request.EditRequest.resolved`): a frame whose ``edit`` differs from the key frame's
        is a key frame, edited in full, with nothing faded in from the key frame before.
        ``found``: :meth:`motions` of these tracks where the caller has it (else found here)."""
        r = self.reuse
        likes = likes if likes is not None else [None] * len(tracks)
        key = self.key
        if found is FIND:
            found = self.motions(rgb, tracks, likes)
        assert found is None or isinstance(found, list)
        motions = None if found is None or any(m is None for m, _ in found) else [m for m, _ in found]
        same = key is not None and key.edit == edit
        if self.carries(index, found, edit) and key is not None and motions is not None:
            return Plan(key, motions, self._fade(key, index - key.index))
        new = self._start(index, rgb, tracks, likes)
        new.edit = edit
        if key is not None:
            key.before = None  # the key frame before it is no longer needed (a chain otherwise)
        if motions is not None and key is not None and r.fade > 0 and same:
            new.before = (key, motions)
        return Plan(new, None, self._fade(new, 0), new.before)

    def _fade(self, key: Key, since: int) -> float:
        if key.before is None or since >= self.reuse.fade:
            return 0.0
        return 1.0 - (since + 1) / (self.reuse.fade + 1)

    def _motions(self, key: Key | None, rgb: np.ndarray, tracks: list, likes: list) -> list | None:
        """Per face :func:`face_motion` from ``key`` (None: not the key frame's faces)."""
        if key is None or [(f.track, f.segment) for f in key.faces] != [(tr.id, tr.segment) for tr in tracks]:
            return None
        out = []
        for f, tr, like in zip(key.faces, tracks, likes):
            out.append(face_motion(key.rgb, f, rgb, tr.face, like, self.reuse))
            if out[-1][0] is None:
                return out  # changed: a key frame without a fade, whatever the other faces do
        return out

    def _start(self, index: int, rgb: np.ndarray, tracks: list, likes: list) -> Key:
        faces = []
        for tr, like in zip(tracks, likes):
            lm = np.asarray(tr.face.landmarks, np.float64)
            dense = tr.face.dense
            points = lm if dense is None else np.asarray(dense, np.float64)[:, :2]
            faces.append(KeyFace(tr.id, tr.segment, lm, points, None if like is None else np.asarray(like)))
        self.key = Key(index, rgb, faces)
        self.keys += 1
        return self.key


def face_motion(key_rgb: np.ndarray, key: KeyFace, rgb: np.ndarray, face, like: np.ndarray | None,
                reuse: Reuse) -> tuple[np.ndarray | None, bool]:
    """``(motion, held)`` for ``key``'s face in the key frame's pixels and ``face`` in ``rgb``:
    ``motion`` the affine (2, 3) taking the one's pixels onto the other's (:func:`pixel_motion`;
    None where, so aligned, more than :attr:`Reuse.share` of them differ by more than
    :attr:`Reuse.level`, or inside the mouth's box (its 20 points, :data:`MOUTH_MARGIN` eye
    distances round them) by more than :attr:`Reuse.mouth`: the face changed); ``held`` whether its landmarks and its ``like``
    reference moved less than :attr:`Reuse.shape` eye distances in its own frame (its edit
    would be the same). A face whose pixels hold while its landmarks do not is landmark drift:
    a new key frame's edit may fade in over it. Landmarks or a ``like`` that moved three times
    as far are taken for a changed face without aligning its pixels (a reference whose lips
    closed with the speech's while the pixels barely moved: its edit replaces the last one at
    once, not faded in under an open mouth)."""
    lm = np.asarray(face.landmarks, np.float64)
    points = lm if face.dense is None else np.asarray(face.dense, np.float64)[:, :2]
    if lm.shape != (68, 2) or key.landmarks.shape != (68, 2) or points.shape != key.points.shape:
        return None, False
    limit = reuse.shape * eye_distance(lm)
    moved = float(np.abs(apply_affine(similarity_transform(key.landmarks, lm), key.landmarks) - lm).max())
    if moved >= 3 * limit:  # an expression that changed (talk): no drift, no alignment needed
        return None, False
    held = moved < limit
    if (like is None) != (key.like is None):
        held = False
    elif like is not None and key.like is not None:
        change = float(np.abs(np.asarray(like, np.float64) - key.like).max()) / eye_distance(key.like)
        if change >= 3 * reuse.shape:  # the reference changed (lips that met, with the speech's)
            return None, False
        held = held and change < reuse.shape
    start = similarity_transform(key.points, points)
    lo, hi = np.floor(lm.min(0)).astype(int), np.ceil(lm.max(0)).astype(int) + 1
    box = (int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1]))
    pad = MOUTH_MARGIN * eye_distance(lm)
    mlo, mhi = lm[48:68].min(0) - pad, lm[48:68].max(0) + pad
    mouth = (mlo[0], mlo[1], mhi[0], mhi[1], reuse.mouth)
    return pixel_motion(key_rgb, rgb, box, start, reuse.level, reuse.share, mouth=mouth), held


#: The margin round the mouth's 20 points (eye distances) of the box :attr:`Reuse.mouth` applies in.
MOUTH_MARGIN = 0.15


def _grey(pixels: np.ndarray, k: int) -> np.ndarray:
    """Grey levels, float32, averaged over k x k blocks (a whole number of them: the crop's
    last rows and columns dropped, so that block (u, v) is centred on pixel k u + (k - 1) / 2)."""
    g = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY) if pixels.ndim == 3 else pixels
    if k > 1:
        h, w = g.shape[0] // k * k, g.shape[1] // k * k
        g = cv2.resize(g[:h, :w], (w // k, h // k), interpolation=cv2.INTER_AREA)
    return g.astype(np.float32)


def _m3(m: np.ndarray) -> np.ndarray:
    return np.vstack([np.asarray(m, np.float64)[:2], [0.0, 0.0, 1.0]])


def _shift(x: float, y: float) -> np.ndarray:
    return np.array([[1.0, 0.0, x], [0.0, 1.0, y], [0.0, 0.0, 1.0]])


def pixel_motion(before: np.ndarray, after: np.ndarray, box: tuple[int, int, int, int], start: np.ndarray,
                 level: float = 20.0, share: float = 0.002, iterations: int = 30,
                 mouth: tuple[float, float, float, float, float] | None = None) -> np.ndarray | None:
    """The affine (2, 3) taking ``before``'s pixels onto ``after``'s over ``box`` (x0, y0, x1,
    y1 in ``after``), refined from ``start`` (e.g. the landmarks' similarity) by OpenCV's ECC
    on the grey levels (a half-size crop where the box is 96 px or more); None where ECC does
    not converge, or where, aligned, more than ``share`` of the box's pixels differ by more
    than ``level`` grey levels (of 255), or inside ``mouth`` ((x0, y0, x1, y1, levels), in
    ``after``'s pixels) by more than its levels. A compared crop under 96 px a side is blurred
    by a pixel first (its edges a pixel wide, where resampling alone moves them by tens of
    levels)."""
    h, w = after.shape[:2]
    x0, y0, x1, y1 = max(box[0], 0), max(box[1], 0), min(box[2], w), min(box[3], h)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    k = 2 if min(x1 - x0, y1 - y0) >= 96 else 1
    inv = invert_affine(start)  # after -> before
    corners = apply_affine(inv, np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]], np.float64))
    margin = 8 * k
    bx0, by0 = (int(max(np.floor(v - margin), 0)) for v in corners.min(0))
    bx1 = int(min(np.ceil(corners[:, 0].max() + margin), before.shape[1]))
    by1 = int(min(np.ceil(corners[:, 1].max() + margin), before.shape[0]))
    if bx1 - bx0 < 8 or by1 - by0 < 8:
        return None
    template, source = _grey(after[y0:y1, x0:x1], k), _grey(before[by0:by1, bx0:bx1], k)
    # a crop's pixel (u, v) at k-th size is its full-size pixel k u + (k - 1) / 2
    c = (k - 1) / 2
    scale = _shift(c, c) @ np.diag([k, k, 1.0])
    warp = np.linalg.inv(scale) @ _shift(-bx0, -by0) @ _m3(inv) @ _shift(x0, y0) @ scale
    try:
        _, found = cv2.findTransformECC(template, source, warp[:2].astype(np.float32), cv2.MOTION_AFFINE,
                                        (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, 1e-6),
                                        cast(Any, None), 1)  # no mask (the stubs want one), no pre-blur
    except cv2.error:  # no convergence: edited in full
        return None
    aligned = cv2.warpAffine(source, found, template.shape[::-1], flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_REPLICATE)
    if min(template.shape) < 96:  # a small crop: resampling its pixel-wide edges moves them by tens of levels
        aligned, template = (cv2.GaussianBlur(a, (0, 0), 1.0) for a in (aligned, template))
    top = 65535.0 if after.dtype == np.uint16 else 255.0
    diff = np.abs(aligned - template)
    changed = diff > level * top / 255.0
    if mouth is not None:  # the mouth's box (after's pixels) against its own level
        mx0, my0 = (max(int(np.floor((v - o - c) / k)), 0) for v, o in zip(mouth[:2], (x0, y0)))
        mx1, my1 = (max(int(np.ceil((v - o - c) / k)) + 1, 0) for v, o in zip(mouth[2:4], (x0, y0)))
        changed[my0:my1, mx0:mx1] |= diff[my0:my1, mx0:mx1] > mouth[4] * top / 255.0
    if float(np.mean(changed)) > share:
        return None
    back = _shift(bx0, by0) @ scale @ _m3(found) @ np.linalg.inv(scale) @ _shift(-x0, -y0)  # after -> before
    return invert_affine(back[:2])


def change_parts(before: np.ndarray, after: np.ndarray, centres: list[np.ndarray]) -> list:
    """The change an edit made to a frame (``after`` minus ``before``), one part per face
    (``centres``: each face's centre; a changed pixel belongs to the nearest): per face ``(box,
    change)``, ``box`` (x0, y0, x1, y1) around its changed pixels and ``change`` float32 there
    (zero at pixels that are another face's), or None where it changed nothing."""
    moved = cv2.absdiff(after, before)
    flat = moved.reshape(moved.shape[0], -1)
    rows = np.flatnonzero(cv2.reduce(flat, 1, cv2.REDUCE_MAX).ravel())
    cols = np.flatnonzero(cv2.reduce(flat, 0, cv2.REDUCE_MAX).reshape(moved.shape[1], -1).max(1))
    if len(rows) == 0 or not centres:
        return [None] * len(centres)
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    diff = after[y0:y1, x0:x1].astype(np.float32) - before[y0:y1, x0:x1].astype(np.float32)
    if len(centres) == 1:
        return [((x0, y0, x1, y1), diff)]
    box = moved[y0:y1, x0:x1]
    changed = box.any(-1) if box.ndim == 3 else box > 0
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    nearest = np.argmin([(xx - c[0]) ** 2 + (yy - c[1]) ** 2 for c in centres], 0)
    parts: list = []
    for i in range(len(centres)):
        mine = changed & (nearest == i)
        r, c = np.flatnonzero(mine.any(1)), np.flatnonzero(mine.any(0))
        if len(r) == 0:
            parts.append(None)
            continue
        sl = np.s_[r[0]:r[-1] + 1, c[0]:c[-1] + 1]
        part = diff[sl] * (mine[sl][..., None] if diff.ndim == 3 else mine[sl])
        parts.append(((x0 + int(c[0]), y0 + int(r[0]), x0 + int(c[-1]) + 1, y0 + int(r[-1]) + 1), part))
    return parts


def move_parts(parts: list, motions: list[np.ndarray], shape: tuple) -> list:
    """Each face's part of a change (:func:`change_parts`) moved by its affine (the key frame ->
    a frame of ``shape``) as the same kind of part there: resampled with Lanczos (cubic
    resampling blurs its edges by an amount that varies with the sub-pixel motion: a shimmer).
    A part that has not moved (the identity) is itself, bit for bit."""
    h, w = shape[:2]
    out: list = []
    for part, m in zip(parts, motions):
        if part is None:
            out.append(None)
            continue
        (x0, y0, x1, y1), change = part
        ends = np.array([[x0, y0], [x1 - 1, y0], [x0, y1 - 1], [x1 - 1, y1 - 1]], np.float64)
        corners = apply_affine(m, ends)
        dx0, dy0 = (int(max(np.floor(v) - 2, 0)) for v in corners.min(0))
        dx1 = int(min(np.ceil(corners[:, 0].max()) + 3, w))
        dy1 = int(min(np.ceil(corners[:, 1].max()) + 3, h))
        if dx1 <= dx0 or dy1 <= dy0:
            out.append(None)
            continue
        to_crop = (_shift(-dx0, -dy0) @ _m3(m) @ _shift(x0, y0))[:2]
        moved = cv2.warpAffine(change, to_crop, (dx1 - dx0, dy1 - dy0), flags=cv2.INTER_LANCZOS4,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        out.append(((dx0, dy0, dx1, dy1), moved.reshape(moved.shape[:2] + change.shape[2:])))
    return out


def mix_parts(parts: list, others: list, weight: float) -> list:
    """Per face ``(1 - weight)`` of its part in ``parts`` plus ``weight`` of its part in
    ``others`` (both parts of the same frame, :func:`change_parts`), over both boxes."""
    out: list = []
    for a, b in zip(parts, others):
        if a is None or b is None:
            one = a if b is None else b
            out.append(None if one is None else (one[0], one[1] * np.float32(1 - weight if b is None else weight)))
            continue
        (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = a[0], b[0]
        x0, y0, x1, y1 = min(ax0, bx0), min(ay0, by0), max(ax1, bx1), max(ay1, by1)
        mixed = np.zeros((y1 - y0, x1 - x0) + a[1].shape[2:], np.float32)
        mixed[ay0 - y0:ay1 - y0, ax0 - x0:ax1 - x0] += np.float32(1 - weight) * a[1]
        mixed[by0 - y0:by1 - y0, bx0 - x0:bx1 - x0] += np.float32(weight) * b[1]
        out.append(((x0, y0, x1, y1), mixed))
    return out


def carry_change(pixels: np.ndarray, parts: list, motions: list[np.ndarray]) -> np.ndarray:
    """``pixels`` (a frame, not changed) with a key frame's change added, each face's part
    (:func:`change_parts`) moved by its affine (key frame -> this frame, :func:`move_parts`).
    A new array; faces that have not moved (the identity) get the key frame's change itself,
    bit for bit."""
    out = pixels.copy()
    for part in move_parts(parts, motions, out.shape):
        if part is not None:
            (x0, y0, x1, y1), change = part
            region = out[y0:y1, x0:x1]
            region[...] = np.clip(np.rint(region + change), 0, np.iinfo(out.dtype).max).astype(out.dtype)
    return out


def moved_edits(edits: list, motions: list[np.ndarray]) -> list:
    """A key frame's per-face edits (:class:`~faceedit.stage.records.StageEdit` or None) with
    their landmarks moved by each face's motion onto a frame that takes its change."""
    out = []
    for e, m in zip(edits, motions):
        if e is None or np.shape(e.landmarks) != (68, 2):
            out.append(e)
        else:
            out.append(dataclasses.replace(e, landmarks=apply_affine(m, e.landmarks)))
    return out


#: The margin round the mouth's 20 points (eye distances) of the box whose change follows the
#: lips' own motion on a carried frame (:func:`carry_plan`), and its feathered edge's width.
FLOW_MARGIN = 0.3
FLOW_FEATHER = 0.1
#: The longest side (pixels) the mouth's flow is found at: a larger box is shrunk by a whole factor
#: (a 720p face's mouth; GRID's, about 80 px, at its own size).
FLOW_SIDE = 96


def carry_plan(plan: Plan, pixels: np.ndarray) -> np.ndarray:
    """A carried frame (``plan.motions``, :meth:`KeyFrames.plan`): the key frame's change
    (:meth:`Plan.change`) moved by each face's motion and added to ``pixels``, where inside
    each face's mouth box (its 20 points, :data:`FLOW_MARGIN` eye distances round them) the
    change follows the lips' own motion since the key frame: the key frame's input, moved by the
    face's motion, is matched to this frame's by optical flow (OpenCV's DIS) and the change
    resampled along it, blended into the head's motion over :data:`FLOW_FEATHER` eye distances
    at the box's edge. The lips that moved by a pixel under landmarks that held (speech) keep
    the edit's change on their own edges, not a pixel beside them (a doubled lip edge)."""
    key, motions = plan.key, plan.motions
    assert motions is not None
    h, w = pixels.shape[:2]
    moved = move_parts(plan.change(), motions, pixels.shape)
    out = pixels.copy()
    for part, face, m in zip(moved, key.faces, motions):
        if part is None:
            continue
        (x0, y0, x1, y1), change = part
        if face.landmarks.shape == (68, 2):
            change = _mouth_follows(key.rgb, pixels, change, (x0, y0), apply_affine(m, face.landmarks), m)
        region = out[y0:y1, x0:x1]
        region[...] = np.clip(np.rint(region + change), 0, np.iinfo(out.dtype).max).astype(out.dtype)
    return out


def _mouth_follows(key_rgb: np.ndarray, pixels: np.ndarray, change: np.ndarray, at: tuple[int, int],
                   lm: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``change`` (a moved part at ``at`` in ``pixels``, changed in place) with its mouth box
    resampled along the flow from this frame's pixels to the key frame's moved by ``m``
    (:func:`carry_plan`)."""
    ed = eye_distance(lm)
    pad, feather = FLOW_MARGIN * ed, max(FLOW_FEATHER * ed, 1.0)
    ch, cw = change.shape[:2]
    lo, hi = lm[48:68].min(0) - pad, lm[48:68].max(0) + pad
    bx0, by0 = max(int(np.floor(lo[0])) - at[0], 0), max(int(np.floor(lo[1])) - at[1], 0)
    bx1, by1 = min(int(np.ceil(hi[0])) - at[0], cw), min(int(np.ceil(hi[1])) - at[1], ch)
    if bx1 - bx0 < 8 or by1 - by0 < 8:
        return change
    fx0, fy0 = at[0] + bx0, at[1] + by0
    size = (bx1 - bx0, by1 - by0)
    to_box = (_shift(-fx0, -fy0) @ _m3(m))[:2]
    then = cv2.warpAffine(key_rgb, to_box, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    now = pixels[fy0:fy0 + size[1], fx0:fx0 + size[0]]
    top = 257.0 if pixels.dtype == np.uint16 else 1.0
    grey: list[np.ndarray] = [np.ascontiguousarray((_grey(a, 1) / top).clip(0, 255).astype(np.uint8))
                              for a in (now, then)]
    k = max(1, int(np.ceil(max(size) / FLOW_SIDE)))  # a large mouth's flow found on a smaller copy
    small = (int(np.ceil(size[0] / k)), int(np.ceil(size[1] / k)))
    if k > 1:
        grey = [cv2.resize(g, small, interpolation=cv2.INTER_AREA) for g in grey]
    side = max(small[0], small[1], 16)  # DIS fails (a crash) on a crop narrow for its pyramid: a square
    square = [cv2.copyMakeBorder(g, 0, side - small[1], 0, side - small[0], cv2.BORDER_REPLICATE) for g in grey]
    dis = cast(Any, cv2).DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)  # not in the stubs
    flow = dis.calc(square[0], square[1], None)[:small[1], :small[0]]  # now's pixel p is then's p + flow(p)
    if k > 1:
        flow = cv2.resize(flow, size, interpolation=cv2.INTER_LINEAR) * np.float32(k)
    yy, xx = np.mgrid[0:size[1], 0:size[0]].astype(np.float32)
    box = np.ascontiguousarray(change[by0:by1, bx0:bx1])
    followed = cv2.remap(box, xx + flow[..., 0], yy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inner = np.minimum(np.minimum(xx + 1, size[0] - xx), np.minimum(yy + 1, size[1] - yy))
    weight = np.clip(inner / feather, 0.0, 1.0)
    wgt = weight[..., None] if box.ndim == 3 else weight
    change[by0:by1, bx0:bx1] = box + wgt * (followed.reshape(box.shape) - box)  # a moved part: its own array
    return change
