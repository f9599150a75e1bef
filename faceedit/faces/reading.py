"""What a face is before it is edited, read cheaply from what the detector already gives (its 68
points, the Face Mesh where the detector has one) and the photo's pixels, and whether the edit
takes it on (:func:`decline_reason`).

:func:`read_face` gives a :class:`FaceReading`:

- ``eye_px``: the distance between the eye centres, pixels (the face's size).
- ``yaw`` / ``pitch`` / ``roll``, degrees. From the Face Mesh (``pose_from`` ``"mesh"``): the
  head's axes in 3-D, x from the image-left eye's outer corner (vertex 33) to the other's (263),
  y from the forehead (10) to the chin (152) made square to x; yaw is x's turn out of the image
  plane (+: the face turned towards the image's right, the sign of the stage's ``head_yaw``),
  pitch y's (+: the chin out, ``head_pitch``'s sign), roll x's angle in the image (+: clockwise).
  From the 68 points alone (``"68"``): roll from the eye line, yaw from where the nose's tip
  lies between the jaw's two sides along it (:data:`YAW_GAIN`), pitch None.
- ``grey``: the face's box has no colour (Lab a and b spread under :data:`GREY_CHROMA`: a
  black-and-white or toned print).
- ``sharpness``: the variance of the Laplacian of the face's box resampled to
  :data:`SHARP_EYE_PX` px between the eyes, over the box's grey variance: detail at the face's
  own scale, whatever its size and contrast (a small face upsampled has little of it).
- ``mouth_open``: the inner lips' gap (points 61-63 to 67-65) in eye distances. On some closed
  full lips of low contrast the Face Mesh puts the inner points apart (London HD 061 neutral:
  0.095), so a gap alone does not prove an open mouth; ``teeth`` reads what is in it.
- ``teeth``: the share of the inner mouth (points 60-67) that is bright and unsaturated
  (:data:`TEETH_LIGHT`, :data:`TEETH_SATURATION`); 0 where the lips close.
- ``eye_dark``: how much darker the lids (between each eye's points and its brow's) are than
  the cheek under the eye, 1 - lid / cheek median grey (eye make-up, deep-set eyes).
- ``mouth_contrast`` and ``mouth_chroma``: the luma's spread over the lips and the skin round them
  (:func:`_mouth_contrast`) and how far the lips' colour lies from the skin's (:func:`_mouth_chroma`):
  under :data:`MOUTH_COVERED` and :data:`MOUTH_CHROMA` both, in a colour photo, the mouth is covered (a mask).
- ``eye_surround`` and ``eyes_hidden``: how light the skin just above and below the eyes is against the cheek
  beside the nose (:func:`_eye_surround`): under :data:`EYES_COVERED` the eyes are hidden (sunglasses, a deep
  shadow) and the stage holds the brows and the eyes where they are, a lens's pixels kept
  (:mod:`faceedit.stage.lenses`).
- ``iris_face`` and ``child``: a young child's face by its proportions (:func:`iris_face`: irises
  large for the face's height), None / False without the irises' points;
  ``child`` where ``iris_face`` is at least :data:`CHILD_IRIS_FACE`, or, eyes shut or squeezed (no iris
  to read), the face is round or its eye corners wide-set (:func:`reads_child`). The stage paints no adult
  teeth into a child's mouth (:func:`faceedit.stage.steps.plan_move`, ``FaceEdit.child``).

:func:`decline_reason` is the verdict the edit follows for every model: a face turned past
:data:`MAX_YAW` (a profile), smaller than :data:`MIN_EYE_PX`, or whose mouth is covered (a mask: the warp
would bend it and the mouth bank paint teeth or a dark hole onto it) is left as it is, with the reason;
:func:`split_declined` applies it to a photo's faces, :func:`face_decline_reason` to a face from its points
and, given them, the pixels round it (the API's edits, a video's frames). A face taken on may still be
declined in one output where the move the stage plans for its target is one the warp cannot hold
(:mod:`faceedit.stage.hold`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from faceedit.faces.iris import MESH_WITH_IRISES
from faceedit.faces.landmarks import JAW, L_BROW, L_EYE, LIPS_INNER, NOSE_TIP, R_BROW, R_EYE, eye_distance
from faceedit.faces.types import Face
from faceedit.pixels import to_uint8

#: A face turned further than this (degrees, either way) is declined: the warp cannot hold a
#: profile (its far side hidden, the near side stretched).
MAX_YAW = 45.0
#: A face whose eyes are closer than this (pixels) is declined: its features are a few pixels,
#: so the warp and the fills draw blocks rather than a mouth and eyes (the stage's neutral, happy
#: and surprised on London faces at 8, 10, 12, 16, 20, 24 px: a dark bar or a smear for a mouth
#: at 8 and 10, readable from 12).
MIN_EYE_PX = 12.0
#: How far inside the limits a declined video track must come to be edited again (degrees, px).
RETURN_YAW, RETURN_EYE_PX = 5.0, 1.5
#: The yaw from 68 points: asin of this times the nose tip's offset from the jaw's middle along
#: the eye line, as a share of the half jaw width.
YAW_GAIN = 0.75
#: Monochrome: the Lab a and b channels' standard deviation over the face's box under this
#: (OpenCV's 8-bit Lab).
GREY_CHROMA = 1.5
#: The face's box resampled to this eye distance (px) for the sharpness.
SHARP_EYE_PX = 32.0
#: What read_face crops around the 68 landmarks' box (a share of its size): every reading lies
#: inside that box; the margin keeps the polygons' sub-pixel edges whole.
READ_MARGIN = 0.1
#: Teeth: a pixel of the inner mouth at least this share of the way from the lips' grey to white
#: and under this HSV saturation (colour photos).
TEETH_LIGHT, TEETH_SATURATION = 0.35, 0.35
#: The inner lips' gap (eye distances) under which the mouth counts as closed (no teeth read).
CLOSED_GAP = 0.03
#: :func:`iris_face` from which a face reads as a young child's (``bench/bench_child.py``): 579 adult
#: faces (London's 86 neutral and 86 smiling at 512 px, JAFFE's 213, Yale's 164, the world set's 18,
#: 12 in 7 photos of adults from the web) read at most 0.122 (a London smile, a JAFFE face); of 38
#: children's faces in 29 photos from the web (babies to about 12 years), 20 read 0.125-0.146, the
#: babies and toddlers with their eyes open; children past about 6, three of four babies turned
#: 21-26 degrees and squeezed or shut eyes read under it (0.05-0.12): they are edited as adults are.
CHILD_IRIS_FACE = 0.124
#: Eyes shut or squeezed (:func:`mesh_opening` under :data:`CHILD_SQUEEZED`) leave the iris model
#: no iris to read (a crying baby's read 0.095, sleeping twins' 0.094 and 0.095): a face within
#: :data:`CHILD_FRONTAL` degrees of frontal is then read by two other proportions of the Face
#: Mesh's 3-D (:func:`child_proportions`, ``bench/bench_child.py``). Under :data:`CHILD_SHUT` (eyes
#: shut), its width over its height at least :data:`CHILD_ROUND`: a baby's round face (the sleeping
#: twins 0.98 and 1.00; the adults' frontal faces with shut eyes, Yale's 18, JAFFE's 2, the world
#: set's 1, at most 0.886). Squeezed, its inner eye corners' distance over its outer ones' at least
#: :data:`CHILD_WIDE_SET`: a crying baby's short, squeezed eyes between wide-set corners (0.51,
#: 0.55; the adults' frontal faces with squeezed or shut eyes, JAFFE's 26, Yale's 60, London's 6
#: smiles, the world set's 7, 3 painted, at most 0.488).
CHILD_SQUEEZED, CHILD_SHUT, CHILD_FRONTAL = 0.3, 0.2, 15.0
CHILD_ROUND, CHILD_WIDE_SET = 0.93, 0.5
#: :func:`_mouth_contrast` and :func:`_mouth_chroma` under which, both, a colour photo's mouth is
#: covered (``bench/bench_covered.py``). Bare faces: London's 172 at 512 px, JAFFE's 213, Yale's 163
#: under its side lights, the world set's 18, 50 in photos of children and adults from the web read a
#: contrast of 0.26 or more, the world set with London HD's 60 cuts (64-128 px, blurred, JPEG at
#: quality 30) 0.28; a held-out face cut to 40 px between the eyes and blurred (sigma 2.5) 0.18
#: (London HD 014; sigma 4: 0.10), its lips' colour still 3.2 or more off its skin's (pale lips at
#: 512 px: 1.0). Masks drawn over 24 London faces (light blue, white, black and pink, shaded and
#: grained): contrast 0.009-0.13, colour 0.
MOUTH_COVERED = 0.16
MOUTH_CHROMA = 2.0
#: :func:`_eye_surround` under which the eyes are hidden (the stage holds them). The same 616 bare
#: faces read 0.50 or more (Yale's side-lit faces; colour photos from 0.58, London's cuts too); Yale's one photo of
#: sunglasses 0.18; lenses drawn over 24 London faces 0.10-0.14 (black), 0.27-0.41 (brown), 0.33-0.50
#: (grey: 17 of 24 under it; the lightest pass as eyes). A face lit by one point light far to the
#: side or from high above reads so too (Extended Yale B, every 12th photo: 5 of 193, azimuth
#: 35-110 degrees at elevations 15-65): its eyes in shadow are held too.
EYES_COVERED = 0.42
#: Face Mesh vertices of :func:`iris_face`'s height: the brows' middle, the nose's tip, the lower
#: inner lip's middle, the chin.
_BROW, _NOSE_TIP, _LIP_DOWN, _CHIN = 9, 1, 14, 152
#: Face Mesh vertices of :func:`mesh_opening` (per eye: upper lid, lower lid, outer corner, inner
#: corner) and of :func:`reads_child`'s width (the face's sides at the cheeks) and height (the
#: forehead's top to the chin).
_EYE_LIDS = ((159, 145, 33, 133), (386, 374, 263, 362))
_SIDES, _TOP = (234, 454), 10


@dataclass
class FaceReading:
    """One face as :func:`read_face` reads it (see the module's text for each field)."""

    eye_px: float
    yaw: float
    pitch: float | None
    roll: float
    pose_from: str
    grey: bool
    sharpness: float
    mouth_open: float
    teeth: float
    eye_dark: float
    mouth_contrast: float = 1.0
    mouth_chroma: float = 99.0
    eye_surround: float = 1.0
    eyes_hidden: bool = False
    iris_face: float | None = None
    child: bool = False

    def to_json(self) -> dict:
        def r(v, n=2):
            return None if v is None else round(float(v), n)

        return {"eye_px": r(self.eye_px, 1), "yaw": r(self.yaw, 1), "pitch": r(self.pitch, 1),
                "roll": r(self.roll, 1), "pose_from": self.pose_from, "grey": self.grey,
                "sharpness": r(self.sharpness, 3), "mouth_open": r(self.mouth_open, 3),
                "teeth": r(self.teeth, 3), "eye_dark": r(self.eye_dark, 3),
                "mouth_contrast": r(self.mouth_contrast, 3), "mouth_chroma": r(self.mouth_chroma, 1),
                "eye_surround": r(self.eye_surround, 3),
                "eyes_hidden": self.eyes_hidden,
                "iris_face": r(self.iris_face, 4), "child": self.child}


def mesh_pose(dense: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) degrees of a (468+, 3) Face Mesh (see the module's text)."""
    p = np.asarray(dense, np.float64)[:, :3]
    x = p[263] - p[33]
    x /= max(float(np.linalg.norm(x)), 1e-9)
    y = p[152] - p[10]
    y -= x * float(y @ x)
    y /= max(float(np.linalg.norm(y)), 1e-9)
    # MediaPipe's z grows away from the camera: the far eye's corner is deeper
    yaw = np.degrees(np.arcsin(np.clip(x[2], -1, 1)))
    pitch = np.degrees(np.arcsin(np.clip(-y[2], -1, 1)))
    roll = np.degrees(np.arctan2(x[1], x[0]))
    return float(yaw), float(pitch), float(roll)


def iris_face(dense: np.ndarray | None) -> float | None:
    """How large the irises are for the face, the proportion by which a baby's or a toddler's face
    differs most from an adult's (a child's irises are nearly adult-sized in a face that is not):
    the irises' mean diameter (their rim points' mean distance from the centre, doubled: the iris
    model draws each as a circle, so a turn does not shrink it) over the face's height in the Face
    Mesh's 3-D (a turn leaves it be), the brows' middle to the nose's tip plus the lower lip's
    middle to the chin: the upper lip, which a smile raises, and the mouth's opening are left out.
    London's adults read 0.108 (median), young children 0.125-0.146. None without the irises'
    points (a mesh without them, another detector)."""
    if dense is None or np.shape(dense)[0] < MESH_WITH_IRISES or np.shape(dense)[1] < 3:
        return None
    p = np.asarray(dense, np.float64)
    irises = p[468:MESH_WITH_IRISES].reshape(2, -1, 3)
    diameter = 2.0 * float(np.linalg.norm(irises[:, 1:, :2] - irises[:, :1, :2], axis=2).mean())
    height = float(np.linalg.norm(p[_BROW] - p[_NOSE_TIP]) + np.linalg.norm(p[_LIP_DOWN] - p[_CHIN]))
    return diameter / height if height > 1e-6 else None


def mesh_opening(dense: np.ndarray) -> float:
    """The eyes' opening in a (468+, 3) Face Mesh's 3-D: each eye's lids' distance over its corners',
    the two eyes' mean (open eyes 0.3-0.5, shut 0.07-0.2)."""
    p = np.asarray(dense, np.float64)[:, :3]
    return float(np.mean([np.linalg.norm(p[a] - p[b]) / max(float(np.linalg.norm(p[c] - p[d])), 1e-9)
                          for a, b, c, d in _EYE_LIDS]))


def child_proportions(dense: np.ndarray) -> tuple[float, float, float, float]:
    """(opening, yaw, roundness, wide-set) of a (468+, 3) Face Mesh, what :func:`reads_child` reads
    where the eyes give no iris: :func:`mesh_opening`, :func:`mesh_pose`'s yaw (degrees), the face's
    width at the cheeks over its height (the forehead's top to the chin) and its inner eye corners'
    distance over its outer ones', all in the mesh's 3-D."""
    p = np.asarray(dense, np.float64)[:, :3]
    span = lambda a, b: float(np.linalg.norm(p[a] - p[b]))  # noqa: E731
    (_, _, out0, in0), (_, _, out1, in1) = _EYE_LIDS
    return (mesh_opening(p), mesh_pose(p)[0], span(*_SIDES) / max(span(_TOP, _CHIN), 1e-9),
            span(in0, in1) / max(span(out0, out1), 1e-9))


def reads_child(dense: np.ndarray | None) -> bool:
    """Whether a face's Face Mesh (with its irises) reads as a young child's: :func:`iris_face` at
    least :data:`CHILD_IRIS_FACE`; or, its eyes shut or squeezed and the face near frontal, a round
    face (shut) or wide-set eye corners (squeezed): :data:`CHILD_SQUEEZED`'s note."""
    ratio = iris_face(dense)
    if ratio is None:
        return False
    if ratio >= CHILD_IRIS_FACE:
        return True
    opening, yaw, roundness, wide = child_proportions(np.asarray(dense))
    if opening >= CHILD_SQUEEZED or abs(yaw) > CHILD_FRONTAL:
        return False
    return (opening < CHILD_SHUT and roundness >= CHILD_ROUND) or wide >= CHILD_WIDE_SET


def landmark_pose(lm: np.ndarray) -> tuple[float, float]:
    """(yaw, roll) degrees of 68 points (see the module's text)."""
    lm = np.asarray(lm, np.float64)
    axis = lm[R_EYE].mean(0) - lm[L_EYE].mean(0)
    roll = float(np.degrees(np.arctan2(axis[1], axis[0])))
    axis /= max(float(np.linalg.norm(axis)), 1e-9)
    left, right = float(lm[JAW[0]] @ axis), float(lm[JAW[-1]] @ axis)
    half = max((right - left) / 2, 1e-6)
    offset = (float(lm[NOSE_TIP] @ axis) - (left + right) / 2) / half
    return float(np.degrees(np.arcsin(np.clip(YAW_GAIN * offset, -1, 1)))), roll


def _box(lm: np.ndarray, shape, grow: float = 0.0) -> tuple[int, int, int, int]:
    x0, y0 = lm.min(0)
    x1, y1 = lm.max(0)
    gx, gy = (x1 - x0) * grow, (y1 - y0) * grow
    h, w = shape[:2]
    return (int(max(0, np.floor(x0 - gx))), int(max(0, np.floor(y0 - gy))),
            int(min(w, np.ceil(x1 + gx) + 1)), int(min(h, np.ceil(y1 + gy) + 1)))


def _poly_mask(shape, pts: np.ndarray, scale: int = 4) -> np.ndarray:
    """Pixels inside a polygon (sub-pixel vertices), as bool."""
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(np.asarray(pts) * scale).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=2)
    return mask.astype(bool)


def _rgb8(crop: np.ndarray) -> np.ndarray:
    """A crop of the photo as (h, w, 3) uint8: a 16-bit photo's brought down (v / 257), float 0..255 clipped."""
    if crop.dtype == np.uint16:
        rgb = to_uint8(crop)
    else:
        rgb = crop if crop.dtype == np.uint8 else np.clip(crop.astype(np.float64), 0, 255).astype(np.uint8)
    return np.repeat(rgb[..., None], 3, axis=2) if rgb.ndim == 2 else rgb[..., :3]


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY).astype(np.float64)


def _teeth(rgb: np.ndarray, lm: np.ndarray, grey_photo: bool, gap: float) -> float:
    if gap < CLOSED_GAP:
        return 0.0
    inner = _poly_mask(rgb.shape, lm[LIPS_INNER])
    if inner.sum() < 4:
        return 0.0
    g = _grey(rgb)
    lips = _poly_mask(rgb.shape, lm[48:60]) & ~inner
    lip_grey = float(np.median(g[lips])) if lips.any() else float(np.median(g[inner]))
    light = g[inner] >= lip_grey + TEETH_LIGHT * (255.0 - lip_grey)
    if not grey_photo:
        sat = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2HSV)[..., 1][inner] / 255.0
        light &= sat < TEETH_SATURATION
    return float(light.mean())


def _gap(lm: np.ndarray, eye: float) -> float:
    upper, lower = lm[[61, 62, 63]], lm[[67, 66, 65]]
    return float(np.linalg.norm(upper - lower, axis=1).mean()) / max(eye, 1e-6)


def _eye_dark(g: np.ndarray, lm: np.ndarray, eye: float) -> float:
    ratios = []
    for eye_idx, brow_idx in ((L_EYE, L_BROW), (R_EYE, R_BROW)):
        pts = lm[eye_idx]
        top = pts[[1, 2]]  # the upper lid's two points (37, 38 / 43, 44)
        if not np.isfinite(top).all():
            continue
        brow = lm[brow_idx][1:4]
        below = pts[[3, 4, 5, 0]] + [0.0, 0.25 * eye]
        lid_poly = np.concatenate([pts[[0, 1, 2, 3]], brow[::-1]])
        cheek_poly = np.concatenate([pts[[0, 5, 4, 3]], below[[0]] + [0.0, 0.2 * eye], below[[3]] + [0.0, 0.2 * eye]])
        # the masks drawn on the eye's own box (a whole-pixel shift: the same pixels as on the crop)
        x0, y0, x1, y1 = _box(np.vstack([lid_poly, cheek_poly]), g.shape, grow=0.0)
        x0, y0 = max(x0 - 1, 0), max(y0 - 1, 0)
        sub = g[y0:y1, x0:x1]
        if sub.size == 0:
            continue
        shift = np.array([x0, y0], np.float64)
        inside = _poly_mask(sub.shape, pts - shift)
        lid = _poly_mask(sub.shape, lid_poly - shift) & ~inside
        cheek = _poly_mask(sub.shape, cheek_poly - shift) & ~inside
        if lid.sum() < 3 or cheek.sum() < 3:
            continue
        ratios.append(1.0 - float(np.median(sub[lid])) / max(float(np.median(sub[cheek])), 1.0))
    return float(np.mean(ratios)) if ratios else 0.0


def _mouth_contrast(g: np.ndarray, lm: np.ndarray) -> float:
    """The luma's spread (its 90th less its 10th percentile, over its median) over the lips and the skin
    round them (the outer lips' polygon, points 48-59, grown 1.6x about its middle), in the grey ``g``: the
    lips, their line and the skin round them differ; a mask or a hand over the mouth is one even surface.
    1.0 where the region holds under 8 pixels."""
    pts = lm[48:60]
    zone = _poly_mask(g.shape, pts.mean(0) + 1.6 * (pts - pts.mean(0)))
    if zone.sum() < 8:
        return 1.0
    lo, mid, hi = np.percentile(g[zone], [10, 50, 90])
    return float((hi - lo) / max(mid, 1.0))


#: The 68 points at the nose's wings (the image's left, right): :func:`nose_cheek` squares beside them.
NOSE_WINGS = (31, 35)


def nose_cheek(wing: np.ndarray, side: float, eye: float) -> tuple[slice, slice]:
    """The (rows, columns) of a square 0.24 eye distances wide whose middle lies 0.35 eye distances out from a
    nose's wing (``wing``, one of :data:`NOSE_WINGS`' points; ``side`` -1 for the image's left, 1 for its right):
    cheek that sunglasses and the shadows round the eyes do not reach."""
    x0, y0 = np.maximum(np.round(wing + [side * 0.35 * eye - 0.12 * eye, -0.12 * eye]).astype(int), 0)
    x1, y1 = np.round(wing + [side * 0.35 * eye + 0.12 * eye, 0.12 * eye]).astype(int)
    return slice(int(y0), int(max(y1, y0))), slice(int(x0), int(max(x1, x0)))


def _eye_surround(g: np.ndarray, lm: np.ndarray, eye: float) -> float:
    """How light the skin just above and below the eyes is against the cheek beside the nose, in the grey
    ``g``: per eye the lighter of two bands' medians (over its upper lid's points 0.05-0.22 eye distances
    up, under its lower lid's as far down: one of them lit under a light from above or below) over the
    median of a square beside the nose's wing on its side (points 31, 35; 0.35 eye distances out, 0.24
    wide), the lighter eye's (a light from one side leaves the other eye and its cheek in shadow alike).
    A lid and the skin under the eye are skin; a sunglass lens covers both. 1.0 where a region holds
    under 4 pixels."""
    def band(pts: np.ndarray, d0: float, d1: float) -> np.ndarray:
        return _poly_mask(g.shape, np.vstack([pts + [0.0, d0 * eye], (pts + [0.0, d1 * eye])[::-1]]))

    ratios = []
    for a, side, p in ((36, -1.0, lm[NOSE_WINGS[0]]), (42, 1.0, lm[NOSE_WINGS[1]])):
        bands = [band(lm[[a, a + 1, a + 2, a + 3]], -0.22, -0.05), band(lm[[a, a + 5, a + 4, a + 3]], 0.05, 0.22)]
        cheek = g[nose_cheek(p, side, eye)]
        if cheek.size < 4 or not all(m.sum() >= 4 for m in bands):
            return 1.0
        ratios.append(max(float(np.median(g[m])) for m in bands) / max(float(np.median(cheek)), 1.0))
    return max(ratios)


def _no_colour(box: np.ndarray) -> bool:
    """Whether an RGB uint8 box has no colour (Lab a and b spread under :data:`GREY_CHROMA`)."""
    if not box.size:
        return False
    lab_sd = cv2.meanStdDev(cv2.cvtColor(np.ascontiguousarray(box), cv2.COLOR_RGB2LAB))[1].ravel()
    return bool(max(lab_sd[1], lab_sd[2]) < GREY_CHROMA)


def _mouth_chroma(rgb: np.ndarray, lm: np.ndarray) -> float:
    """How far the lips' colour (the outer lips' polygon less the inner's) lies from the skin's round them (the
    outer lips grown 1.15-1.6x about their middle): the distance of their Lab a, b medians (OpenCV's 8-bit Lab).
    Lips are redder than their skin, blurred and small too (3 or more; pale lips at 512 px from 1); a mask is
    one cloth. 99.0 where either region holds under 4 pixels."""
    pts = lm[48:60]
    mid = pts.mean(0)
    lips = _poly_mask(rgb.shape, pts) & ~_poly_mask(rgb.shape, lm[60:68])
    ring = _poly_mask(rgb.shape, mid + 1.6 * (pts - mid)) & ~_poly_mask(rgb.shape, mid + 1.15 * (pts - mid))
    if lips.sum() < 4 or ring.sum() < 4:
        return 99.0
    ab = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2LAB)[..., 1:].astype(np.float64)
    return float(np.linalg.norm(np.median(ab[lips], 0) - np.median(ab[ring], 0)))


def _face_crop(pixels: np.ndarray, lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The face's crop (:data:`READ_MARGIN` round its 68 points) as RGB uint8, and the points on it."""
    pixels = np.asarray(pixels)
    x0, y0, x1, y1 = _box(lm, pixels.shape, grow=READ_MARGIN)
    return _rgb8(pixels[y0:y1, x0:x1]), lm - (x0, y0)


def covered(pixels: np.ndarray, face: Face) -> str | None:
    """Why ``face`` is left as it is because its mouth reads covered in ``pixels`` (a mask, a hand:
    :func:`_covered_why`), or None: :func:`read_face`'s readings alone, on the face's crop."""
    lm = np.asarray(face.landmarks, np.float64)
    if lm.shape != (68, 2):
        return None
    rgb, lm = _face_crop(pixels, lm)
    x0, y0, x1, y1 = _box(lm, rgb.shape)
    return _covered_why(_mouth_contrast(_grey(rgb), lm), _mouth_chroma(rgb, lm), _no_colour(rgb[y0:y1, x0:x1]))


def eyes_hidden(pixels: np.ndarray, landmarks: np.ndarray) -> bool:
    """Whether the eyes of the face at ``landmarks`` (68 points) read hidden in ``pixels`` (sunglasses,
    a deep shadow: :data:`EYES_COVERED`): the stage then holds its brows and eyes where they are."""
    lm = np.asarray(landmarks, np.float64)
    if lm.shape != (68, 2):
        return False
    rgb, lm = _face_crop(pixels, lm)
    return _eye_surround(_grey(rgb), lm, eye_distance(lm)) < EYES_COVERED


def _covered_why(contrast: float, chroma: float, grey_photo: bool) -> str | None:
    """The mouth covered: in a colour photo, one even surface (``contrast`` under :data:`MOUTH_COVERED`) of one
    colour (``chroma`` under :data:`MOUTH_CHROMA`); a black-and-white photo's is not read (its blurred
    mouths are as even)."""
    if not grey_photo and contrast < MOUTH_COVERED and chroma < MOUTH_CHROMA:
        return (f"mouth covered (a mask or a hand: the mouth's contrast {contrast:.2f} and colour {chroma:.1f}, "
                f"a bare one's {MOUTH_COVERED} or {MOUTH_CHROMA} up)")
    return None


def read_face(pixels: np.ndarray, face: Face) -> FaceReading:
    """The :class:`FaceReading` of ``face`` (68 landmarks; its Face Mesh where it has one) in
    ``pixels`` ((H, W, 3) RGB, uint8 or float 0..255)."""
    lm = np.asarray(face.landmarks, np.float64)
    if lm.shape != (68, 2):
        raise ValueError(f"read_face needs 68 landmarks, got {lm.shape}")
    eye = eye_distance(lm)
    if face.dense is not None and np.shape(face.dense)[0] >= 468 and np.shape(face.dense)[1] >= 3:
        yaw, pitch, roll = mesh_pose(face.dense)
        pitch_out: float | None = pitch
        pose_from = "mesh"
    else:
        yaw, roll = landmark_pose(lm)
        pitch_out, pose_from = None, "68"
    # every reading looks inside the landmarks' box: work on that crop (READ_MARGIN), so a 4K
    # photo's small face costs its crop, not the photo
    pixels = np.asarray(pixels)
    cx0, cy0, cx1, cy1 = _box(lm, pixels.shape, grow=READ_MARGIN)
    rgb = _rgb8(pixels[cy0:cy1, cx0:cx1])
    gap = _gap(lm, eye)
    lm = lm - (cx0, cy0)
    x0, y0, x1, y1 = _box(lm, rgb.shape)
    box = rgb[y0:y1, x0:x1]
    grey_photo = _no_colour(box)
    # detail at the face's own scale: the box resampled to SHARP_EYE_PX between the eyes
    g = _grey(box) if box.size else np.zeros((2, 2))
    f = SHARP_EYE_PX / max(eye, 1e-6)
    small = cv2.resize(g, (max(2, round(g.shape[1] * f)), max(2, round(g.shape[0] * f))), interpolation=cv2.INTER_AREA
                       if f < 1 else cv2.INTER_LINEAR)
    lap_sd, small_sd = cv2.meanStdDev(cv2.Laplacian(small, cv2.CV_64F))[1][0, 0], cv2.meanStdDev(small)[1][0, 0]
    sharp = float(lap_sd ** 2 / max(small_sd ** 2, 1e-6))
    grey = _grey(rgb)
    surround = _eye_surround(grey, lm, eye)
    return FaceReading(eye_px=eye, yaw=yaw, pitch=pitch_out, roll=roll, pose_from=pose_from, grey=grey_photo,
                       sharpness=sharp, mouth_open=gap, teeth=_teeth(rgb, lm, grey_photo, gap),
                       eye_dark=_eye_dark(grey, lm, eye), mouth_contrast=_mouth_contrast(grey, lm),
                       mouth_chroma=_mouth_chroma(rgb, lm), eye_surround=surround, eyes_hidden=surround < EYES_COVERED, iris_face=iris_face(face.dense),
                       child=reads_child(face.dense))


def decline_reason(reading: FaceReading, *, max_yaw: float = MAX_YAW, min_eye_px: float = MIN_EYE_PX) -> str | None:
    """Why a face is left as it is, or None where the edit takes it on (the same for every model)."""
    return _why(reading.yaw, reading.eye_px, max_yaw, min_eye_px) \
        or _covered_why(reading.mouth_contrast, reading.mouth_chroma, reading.grey)


def _why(yaw: float, eye_px: float, max_yaw: float, min_eye_px: float) -> str | None:
    if abs(yaw) > max_yaw:
        return f"turned {abs(yaw):.0f} degrees (a profile; the edit holds to {max_yaw:.0f})"
    if eye_px < min_eye_px:
        return f"too small: eyes {eye_px:.0f} px apart (the edit holds from {min_eye_px:.0f})"
    return None


def face_decline_reason(face: Face, *, margin: float = 0.0, pixels: np.ndarray | None = None) -> str | None:
    """:func:`decline_reason` of ``face`` from its points (eye distance and yaw, as
    :func:`read_face` gets them) and, given ``pixels``, whether its mouth is covered
    (:func:`covered`); None for a face without 68 landmarks. ``margin`` tightens the size and turn
    limits (:data:`MAX_YAW` less ``margin`` x :data:`RETURN_YAW`, :data:`MIN_EYE_PX` plus ``margin``
    x :data:`RETURN_EYE_PX`): a video's track, once declined, is edited again only past that (no
    flicker at a limit)."""
    lm = np.asarray(face.landmarks, np.float64)
    if lm.shape != (68, 2):
        return None
    if face.dense is not None and np.shape(face.dense)[0] >= 468 and np.shape(face.dense)[1] >= 3:
        yaw = mesh_pose(face.dense)[0]
    else:
        yaw = landmark_pose(lm)[0]
    why = _why(yaw, eye_distance(lm), MAX_YAW - margin * RETURN_YAW, MIN_EYE_PX + margin * RETURN_EYE_PX)
    return why if why is not None or pixels is None else covered(pixels, face)


def split_declined(pixels: np.ndarray, faces: list[Face], force: bool = False
                   ) -> tuple[list[Face], list[tuple[int, str]], list[FaceReading | None]]:
    """The faces to edit; for the others ``(their index in faces, the reason)``; and every face's
    reading (None for a face without 68 landmarks, which is edited: nothing to read). With
    ``force`` every face is edited."""
    kept: list[Face] = []
    declined: list[tuple[int, str]] = []
    readings: list[FaceReading | None] = []
    for i, f in enumerate(faces):
        r = read_face(pixels, f) if np.shape(f.landmarks) == (68, 2) else None
        readings.append(r)
        why = None if force or r is None else decline_reason(r)
        if why is None:
            kept.append(f)
        else:
            declined.append((i, why))
    return kept, declined, readings
