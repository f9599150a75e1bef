"""The regions of a head that the attribute edits share: the work box around the head, the face
(the Face Mesh's oval, or the 68 points with a forehead), a soft hair matte found from the photo,
the skin of face, ears and neck, and the features (eyes, brows, lips) kept out of it.

* **Work box**: the head and neck around a face, worked on at a small scale; every matte is
  brought back to the photo's own pixels by a guided filter (:mod:`faceedit.stage.matting`),
  so a matte's edges follow the photo's own hair strands and outline.
* **Hair** (:func:`hair_matte`): OpenCV's GrabCut on the work box, seeded by the face: the face
  within its 68 points, the neck below the chin, the forehead's skin (the cheeks' colour), the
  box's sides and a smooth surface fitted to the wall round the head are sure not hair; a cap round
  the face's outline above the eyes, and beside the face down to the chin, probably hair; a lock
  over the forehead or round the head whose strands show (:func:`strands`: fine texture running
  one way, stronger than the cheeks') is sure hair, whatever its colour (a dark fringe's chroma
  over its lightness reads as shaded skin, an ash lock's colour is near the skin's). The hair
  is the part connected to the cap; where the guided filter's matte is unsure, the share of hair
  a pixel's lightness says (:func:`~faceedit.stage.matting.consistent`); the face within its 68 points is taken out of
  the matte again (hair over the forehead is left in it, the face's skin is never in it).
* **Skin** (:func:`skin_matte`): pixels whose chroma relative to their lightness is close to the
  cheeks' and forehead's (:func:`skin_likeness`: shaded skin is skin) and not much greyer than
  theirs (white clothes), near the face (the ears only at their height) and the neck, not the
  wall (:func:`wall_like`: a wall of the skin's colour beside the jaw), connected to them,
  holes filled, the soft matte kept within ``skin_reach`` of that, less the hair matte and
  the features (eyes, brows and lips as the 68 points draw them, grown a little).

The values that set how far hair and skin reach (``cap``, ``min_hair``, ``core``, ``reach``,
``background_delta``, ``skin_reach``, ``neck_fade``) are
:class:`~faceedit.stage.tuning_face.RegionsTuning`'s (the stage's ``tuning.regions``); a function
given none takes its defaults.

numpy and OpenCV only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from faceedit.faces.landmarks import eye_distance
from faceedit.faces.mesh68 import FACE_OVAL
from faceedit.stage.hair_tone import quantiles
from faceedit.stage.matting import Work, consistent, fill, head_box, refine, unit
from faceedit.stage.tuning_face import RegionsTuning

#: GrabCut's rounds, and the seed of the random start of its colour models.
GRABCUT_ROUNDS, GRABCUT_SEED = 4, 0


#: Hair's strands (:func:`strands`) read at most this many px an eye distance; at least
#: STRAND_SURE times the cheeks' one-way texture over the forehead or the cap round it is sure hair
#: (a blond or ash lock that GrabCut's colours take for the forehead's skin).
STRAND_PX = 260.0
STRAND_SURE = 1.4
#: ... except within a band this many eye distances wide along each brow's points.
STRAND_BROW = 0.12
#: ... nor within STRAND_WALL eye distances of the wall, nor in pieces under STRAND_AREA eye
#: distances squared.
STRAND_WALL = 0.08
STRAND_AREA = 0.06
#: A hole in the hair over the brows, ringed by hair, under this many eye distances squared and
#: with pixels of the wall's colour, is the hair's shine (hair's).
SHINE_AREA = 0.05


def face_outline(lm: np.ndarray, mesh: np.ndarray | None = None) -> np.ndarray:
    """(N, 2) the face's outline in image px: the Face Mesh's oval (forehead to its hairline,
    temples, jaw) where there is a mesh, else the 68 points' jaw closed over the brows lifted by
    half an eye distance (the forehead they do not reach)."""
    if mesh is not None and np.shape(mesh)[0] == 468:
        return np.asarray(mesh, np.float64)[FACE_OVAL, :2]
    lm = np.asarray(lm, np.float64)
    d = eye_distance(lm)
    up = lm[27] - lm[8]
    up = up / max(float(np.linalg.norm(up)), 1e-6)
    brows = lm[26:16:-1] + 0.5 * d * up
    return np.concatenate([lm[:17], brows])


# -- the hair ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HeadRegions:
    """What is found once per face: the work box, the face's soft coverage at the photo's
    pixels of the box (``face``, 0..1), the soft hair matte there (``hair``)."""

    work: Work
    face: np.ndarray
    hair: np.ndarray


def _face_masks(work: Work, lm: np.ndarray, mesh: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(work-scale face coverage, full-box face coverage): the face's outline filled."""
    outline = face_outline(lm, mesh)
    w, h = work.size
    small = fill((h, w), [work.to_work(outline)])
    x0, y0, x1, y1 = work.box
    full = fill((y1 - y0, x1 - x0), [outline - [x0, y0]])
    return small, full


def wall_surface(lab: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """A quadratic colour surface fitted to the wall at ``seen`` (bool, over 30 pixels; a studio's
    wall shades across the head) of ``lab`` ((h, w, 3)), its coordinates x and y over max(h, w):
    (its coefficients (6, 3): 1, x, y, x^2, xy, y^2; how far (Lab units) each pixel lies from it;
    the fit's 90th-percentile residual at ``seen``)."""
    h, w = lab.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / max(h, w)
    terms = np.stack([np.ones_like(xx), xx, yy, xx * xx, xx * yy, yy * yy], -1)
    coef = np.linalg.lstsq(terms[seen], lab[seen], rcond=None)[0]
    residual = np.linalg.norm(lab - terms @ coef, axis=-1)
    return coef, residual, float(np.percentile(residual[seen], 90))


def wall_residual(lab: np.ndarray, seen: np.ndarray) -> tuple[np.ndarray, float]:
    """How far (Lab units) each pixel of ``lab`` lies from the wall's surface fitted at ``seen``
    (:func:`wall_surface`), and the fit's 90th-percentile residual there."""
    _, residual, fit = wall_surface(lab, seen)
    return residual, fit


def wall_strips(work: Work, lm: np.ndarray, shape: tuple[int, ...], tuning: RegionsTuning) -> np.ndarray | None:
    """The head box's side strips above the chin (``tuning.wall_strip`` of its width each side) in
    an image of ``shape`` at the work scale, where the wall is read; None where under 30 pixels."""
    h, w = shape[:2]
    chin = int(np.clip(work.to_work(np.asarray(lm, np.float64)[8:9])[0, 1], 0, h))
    sx = max(2, int(tuning.wall_strip * w))
    strips = np.zeros((h, w), bool)
    strips[:chin, :sx] = strips[:chin, -sx:] = True
    return strips if int(strips.sum()) >= 30 else None


def hair_matte(pixels: np.ndarray, lm: np.ndarray, mesh: np.ndarray | None = None,
               tuning: RegionsTuning | None = None) -> HeadRegions:
    """The hair of the face at 68 landmarks ``lm`` (and its Face Mesh points ``mesh``, or None)
    in ``pixels`` ((H, W, 3) uint8/uint16 RGB) as a soft matte over its head box (module doc)."""
    tn = tuning if tuning is not None else RegionsTuning()
    lm = np.asarray(lm, np.float64)
    d = eye_distance(lm)
    work = head_box(lm, pixels.shape, tn)
    full = unit(work.crop(pixels))
    small = work.small(full)
    h, w = small.shape[:2]
    face_small, face_full = _face_masks(work, lm, mesh)
    s = d * work.scale  # eye distance in work px
    outline = work.to_work(face_outline(lm, mesh))
    centre = outline.mean(0)
    top = float(outline[:, 1].min())
    half = 0.5 * float(np.ptp(outline[:, 0]))
    chin = work.to_work(lm[8:9])[0]

    mask = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    # a cap round the face's outline above the eyes: probably hair
    eyes_y = float(work.to_work(lm[36:48])[:, 1].mean())
    k = max(3, int(round(tn.cap * s)) * 2 + 1)
    cap = cv2.dilate((face_small > 0.5).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    cap[int(max(eyes_y, 0)):] = 0
    # the face below the brows is never hair; above them (the forehead) hair may hang over it
    brows_y = float(work.to_work(lm[17:27])[:, 1].min())
    inside = fill((h, w), [work.to_work(np.concatenate([lm[:17], lm[26:16:-1]]))]) > 0.5
    face_in = cv2.erode(inside.astype(np.uint8), np.ones((3, 3), np.uint8))
    face_in[: int(max(brows_y, 0))] = 0
    forehead = (face_small > 0.5) & (face_in == 0)
    cap[face_in > 0] = 0
    mask[cap > 0] = cv2.GC_PR_FGD
    mask[forehead] = cv2.GC_PR_BGD
    # the forehead's skin (the cheeks' colour) is not hair; hair hanging over it may be
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2Lab)
    cheeks = sample_mask(work, skin_samples(lm, d)[:2])
    like = skin_likeness(lab, cheeks, tn)
    if like is not None:
        mask[forehead & (like > 0.5)] = cv2.GC_BGD
    # the face and the neck below the chin: not hair
    mask[face_in > 0] = cv2.GC_BGD
    neck = np.array([[chin[0] - 0.45 * s, chin[1] + 0.15 * s], [chin[0] + 0.45 * s, chin[1] + 0.15 * s],
                     [chin[0] + 0.45 * s, chin[1] + 0.9 * s], [chin[0] - 0.45 * s, chin[1] + 0.9 * s]])
    cv2.fillPoly(mask, [np.round(neck).astype(np.int32)], cv2.GC_BGD)
    # far above and beside the head: background
    far = np.zeros((h, w), np.uint8)
    cv2.ellipse(far, (int(centre[0]), int(eyes_y)),
                (int(half + tn.far_side * s), int(eyes_y - top + tn.far_above * s)), 0, 0, 360, 1, -1)
    above = np.arange(h)[:, None] < eyes_y
    beside = (np.arange(h)[:, None] < chin[1]) & (np.abs(np.arange(w)[None] - centre[0]) > half - 0.1 * s)
    mask[(far > 0) & (above | beside) & (face_small <= 0.5)] = cv2.GC_PR_FGD
    mask[(far == 0) & above] = cv2.GC_BGD
    # the box's sides and its top corners: background
    edge = max(1, int(round(0.04 * s)))
    mask[:, :edge] = mask[:, -edge:] = cv2.GC_BGD
    mask[:edge, : int(centre[0] - half)] = mask[:edge, int(centre[0] + half):] = cv2.GC_BGD

    # pixels close to the background's colour, as a smooth surface fitted to the sure
    # background, are background (a studio's wall shades across the head)
    seen = (mask == cv2.GC_BGD) & (face_small <= 0.5) & above
    seen[int(max(chin[1], 0)):] = False
    wall = np.zeros((h, w), bool)
    if int(seen.sum()) > 30:
        residual, spread = wall_residual(lab, seen)
        wall = (residual < max(tn.background_delta, 1.5 * spread)) & (face_small <= 0.5) & (mask != cv2.GC_BGD)
        mask[wall] = cv2.GC_BGD

    # a lock over the forehead or round the head whose strands show is hair, whatever its colour
    low = int(max(float(work.to_work(lm[17:27])[:, 1].max()), 0))  # to the brows (the face below them is never hair)
    lock = (cv2.GaussianBlur(strands(work, full, lm, low), (0, 0), max(0.03 * s, 0.5)) > STRAND_SURE)
    lock &= (mask == cv2.GC_PR_FGD) | forehead
    brows = np.zeros((h, w), np.uint8)  # the brows' own hairs run one way too
    for part in (lm[17:22], lm[22:27]):
        cv2.polylines(brows, [np.round(work.to_work(part)).astype(np.int32)], False, 1,
                      max(1, int(round(STRAND_BROW * s))))
    lock &= brows == 0
    # nor at the head's outline against the wall (an edge runs one way) nor in specks (stubble)
    k = 2 * max(1, int(round(STRAND_WALL * s))) + 1
    lock &= cv2.dilate(((mask == cv2.GC_BGD) & (face_small <= 0.5)).astype(np.uint8),
                       cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) == 0
    count, labels, stats, _ = cv2.connectedComponentsWithStats(lock.astype(np.uint8), connectivity=8)
    big = stats[:, cv2.CC_STAT_AREA] >= STRAND_AREA * s * s
    big[0] = False
    mask[big[labels]] = cv2.GC_FGD

    img = np.clip(small * 255 + 0.5, 0, 255).astype(np.uint8)[..., ::-1].copy()
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    # GrabCut starts its colour models with k-means++, drawn from OpenCV's random generator (one
    # per thread, never reset): seeded here, a photo's matte does not depend on what ran before
    cv2.setRNGSeed(GRABCUT_SEED)
    try:
        cv2.grabCut(img, mask, (0, 0, 0, 0), bgd, fgd, GRABCUT_ROUNDS, cv2.GC_INIT_WITH_MASK)  # rect unused: the mask seeds it
    except cv2.error:  # a model with no samples of one side (a box all face): no hair found
        zero = np.zeros(face_full.shape, np.float32)
        return HeadRegions(work, face_full, zero)
    hair = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    # the ears: beside the face from the brows to below the nose, as red as skin (Lab a) where
    # the hair above them is not
    rows = np.arange(h)[:, None]
    ear_rows = (rows > brows_y) & (rows < float(work.to_work(lm[33:34])[0, 1]) + 0.3 * s)
    head_hair = (hair > 0) & ~ear_rows & (rows < brows_y)
    if cheeks.any():
        hair_a = float(np.median(lab[..., 1][head_hair])) if head_hair.any() else 0.0
        red = max(hair_a + tn.ear_redder, tn.ear_cheek * float(np.median(lab[..., 1][cheeks])))
        hair[ear_rows & (face_small <= 0.5) & (lab[..., 1] > red)] = 0
    if int(hair.sum()) < tn.min_hair * s * s:  # a bald or shaven head: no hair
        return HeadRegions(work, face_full, np.zeros(face_full.shape, np.float32))
    # the hair is what touches the cap, and what lies beside the face within reach of that (locks
    # below the ears, parted from the rest by an ear)
    n, labels = cv2.connectedComponents(hair, connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(labels[(cap > 0) & (hair > 0)])] = True
    keep[0] = False
    k = 2 * max(1, int(round(tn.reach * s))) + 1
    reach = cv2.dilate(keep[labels].astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
    keep[np.unique(labels[reach & beside & (hair > 0)])] = True
    keep[0] = False
    hard = keep[labels]
    # a hole in the hair over the brows that the wall outside does not reach (ringed by hair),
    # under SHINE_AREA and with pixels as light and grey as the wall: the crown's shine, hair's
    count, holes, stats, _ = cv2.connectedComponentsWithStats((~hard & (face_small <= 0.5)).astype(np.uint8),
                                                              connectivity=8)
    shine = (stats[:, cv2.CC_STAT_AREA] < SHINE_AREA * s * s) & (stats[:, cv2.CC_STAT_TOP] < brows_y)
    shine[np.unique(np.concatenate([holes[0], holes[-1], holes[:, 0], holes[:, -1]]))] = False
    shine[np.setdiff1d(np.arange(count), np.unique(holes[wall]))] = False
    shine[0] = False
    hard = (hard | shine[holes]).astype(np.float32)
    soft = consistent(work, full, refine(work, full, hard, d, tn), d, face_full, tn)
    return HeadRegions(work, face_full, soft * (1.0 - _inside_face(work, lm, face_full.shape)))


def reaches_border(mask: np.ndarray) -> np.ndarray:
    """bool: the pixels of ``mask`` connected (8-way) to its box's border (a crown's shine as
    light and grey as the wall, ringed by hair, is not)."""
    n, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    out = np.zeros(n, bool)
    out[np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))] = True
    out[0] = False
    return out[labels]


def fine_texture(y: np.ndarray, fine: float, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Luma ``y``'s fine texture (detail finer than ``fine`` px): its energy (RMS over ``sigma``
    px) and how much of it runs one way (the structure tensor's coherence, 0..1: strands near 1,
    pores near 0)."""
    detail = y - cv2.GaussianBlur(y, (0, 0), fine)
    energy = np.sqrt(cv2.GaussianBlur(detail * detail, (0, 0), sigma))
    gx, gy = cv2.Sobel(detail, cv2.CV_32F, 1, 0), cv2.Sobel(detail, cv2.CV_32F, 0, 1)
    jxx, jyy, jxy = (cv2.GaussianBlur(g, (0, 0), sigma) for g in (gx * gx, gy * gy, gx * gy))
    return energy, np.sqrt((jxx - jyy) ** 2 + 4.0 * jxy * jxy) / np.maximum(jxx + jyy, 1e-6)


def strands(work: Work, full: np.ndarray, lm: np.ndarray, rows: int) -> np.ndarray:
    """(h, w) float32 at ``work``'s scale, over its top ``rows`` work rows (0 below): the photo's
    fine texture (``full``: the head box at the photo's pixels, float RGB) that runs one way,
    over the cheeks' (:func:`fine_texture` at most :data:`STRAND_PX` px an eye distance, detail
    finer than 0.006 eye distances, read over 0.03): hair's strands read 1.5-6 times the cheeks',
    skin, pores and a forehead's lines under 1."""
    w, h = work.size
    out = np.zeros((h, w), np.float32)
    d = eye_distance(lm)
    scale = min(1.0, STRAND_PX / max(d, 1e-6))
    top = min(full.shape[0], int(np.ceil((rows + 0.5) / work.scale)))
    if top < 4 or rows < 1:
        return out

    def luma(rgb: np.ndarray) -> np.ndarray:
        rgb = rgb if scale >= 1.0 else cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return (rgb @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.float32) * 255.0

    fine, sigma = max(0.006 * d * scale, 0.5), max(0.03 * d * scale, 1.0)
    x0, y0 = work.box[:2]
    own = []
    for centre, radius in skin_samples(lm, d)[:2]:
        cx, cy, r = int(round(centre[0])) - x0, int(round(centre[1])) - y0, max(int(radius), 2)
        patch = full[max(cy - r, 0):max(cy + r, 0), max(cx - r, 0):max(cx + r, 0)]
        if patch.shape[0] >= 4 and patch.shape[1] >= 4:
            own.append(fine_texture(luma(patch), fine, sigma)[0].ravel())
    if not own:
        return out
    ref = max(float(np.median(np.concatenate(own))), 1e-3)
    energy, one_way = fine_texture(luma(full[:top]), fine, sigma)
    out[:rows] = cv2.resize(energy / ref * one_way, (w, rows), interpolation=cv2.INTER_AREA)
    return out


def hair_colour(pixels: np.ndarray, regions: HeadRegions, tuning: RegionsTuning | None = None) -> np.ndarray | None:
    """The hair's own colour in ``pixels`` under ``regions``' matte (where over ``tuning``'s
    ``core``): its mean Lab (L 0..100), the spread of its lightness (standard deviation + 1) and
    its lightness at :data:`~faceedit.stage.hair_tone.QUANTILES`, as (13,) float32; None where
    the matte holds too little hair to read."""
    core = regions.hair > (tuning if tuning is not None else RegionsTuning()).core
    if int(core.sum()) < 20:
        return None
    lab = cv2.cvtColor(unit(regions.work.crop(pixels)), cv2.COLOR_RGB2Lab)[core]
    return np.array([*lab.mean(0), float(lab[:, 0].std()) + 1.0, *quantiles(lab[:, 0])], np.float32)


def _inside_face(work: Work, lm: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The face within its 68 points (jaw and brows) over ``work``'s box at the photo's pixels,
    its edge softened: never hair."""
    x0, y0 = work.box[:2]
    inside = fill(shape, [np.concatenate([lm[:17], lm[26:16:-1]]) - [x0, y0]])
    return cv2.GaussianBlur(inside, (0, 0), max(0.5, 0.02 * eye_distance(lm)))


# -- the skin (its tuned values: RegionsTuning's) ----------------------------------------------------


def _grow(poly: np.ndarray, by: float) -> np.ndarray:
    c = poly.mean(0)
    v = poly - c
    n = np.linalg.norm(v, axis=1, keepdims=True)
    return c + v * (1 + by / np.maximum(n, 1e-6))


def feature_mask(shape: tuple[int, int], lm: np.ndarray, d: float, origin: tuple[float, float] = (0.0, 0.0),
                 scale: float = 1.0, tuning: RegionsTuning | None = None) -> np.ndarray:
    """float32 ``shape``: eyes, brows and lips of 68 landmarks ``lm`` (photo px), filled at
    ``scale`` px per photo px with ``origin`` (photo px) at the array's corner, grown by
    ``tuning``'s ``eye_grow``, ``lip_grow`` and ``brow_half``."""
    tn = tuning if tuning is not None else RegionsTuning()
    lm = (np.asarray(lm, np.float64) - origin + 0.5) * scale - 0.5
    s = d * scale
    polys = [_grow(lm[36:42], tn.eye_grow * s), _grow(lm[42:48], tn.eye_grow * s), _grow(lm[48:60], tn.lip_grow * s)]
    out = fill(shape, polys)
    for brow in (lm[17:22], lm[22:27]):
        t = max(1, int(round(2 * tn.brow_half * s)))
        cv2.polylines(out, [np.round(brow * 16).astype(np.int32)], False, 1.0, t, cv2.LINE_AA, shift=4)
    return np.clip(out, 0.0, 1.0)


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """``mask`` (bool) with what it encloses filled (what the box's border cannot reach)."""
    outside = np.pad(~mask, 1, constant_values=True).astype(np.uint8)
    cv2.floodFill(outside, None, (0, 0), 2)
    return mask | (outside[1:-1, 1:-1] != 2)


def skin_samples(lm: np.ndarray, d: float) -> list[tuple[np.ndarray, float]]:
    """Where the skin is surely seen (photo px centre, radius): both cheeks and the forehead."""
    lm = np.asarray(lm, np.float64)
    up = lm[27] - lm[8]
    up = up / max(float(np.linalg.norm(up)), 1e-6)
    return [(lm[[2, 31, 41]].mean(0), 0.14 * d), (lm[[14, 35, 46]].mean(0), 0.14 * d),
            ((lm[19] + lm[24]) / 2 + 0.35 * d * up, 0.12 * d)]


def skin_likeness(lab: np.ndarray, seen: np.ndarray, tuning: RegionsTuning | None = None) -> np.ndarray | None:
    """(h, w) 0..1 how like the skin at ``seen`` (bool) each pixel of ``lab`` (float32 Lab) is: its
    chroma relative to its lightness (shaded skin keeps its hue, its chroma falls with it) near
    the seen skin's (a Gaussian, ``skin_near`` .. ``skin_far`` of ``tuning``), neither much
    darker nor much lighter. None where too little skin is seen."""
    tn = tuning if tuning is not None else RegionsTuning()
    own = float(np.median(lab[seen][:, 0])) if seen.any() else 0.0
    if int(seen.sum()) < 5 or own <= 1.0:
        return None
    light = lab[..., 0]
    rel = lab[..., 1:] * (own / np.maximum(light, 0.2 * own))[..., None]
    ab = rel[seen].astype(np.float64)
    mean = ab.mean(0)
    cov = np.cov(ab.T) + tn.skin_spread**2 * np.eye(2)
    diff = rel - mean
    m = np.sqrt(np.einsum("...i,ij,...j->...", diff, np.linalg.inv(cov), diff))
    p = np.clip((tn.skin_far - m) / (tn.skin_far - tn.skin_near), 0.0, 1.0)
    p *= np.clip((light - 0.25 * own) / (0.15 * own), 0.0, 1.0)  # too dark: hair, nostrils, shadow lines
    p *= np.clip((1.35 * own - light) / (0.1 * own), 0.0, 1.0)  # too light: a white collar
    return p.astype(np.float32)


def sample_mask(work: Work, samples: list[tuple[np.ndarray, float]]) -> np.ndarray:
    """bool at work scale: the discs of ``samples`` ((photo px centre, radius), as
    :func:`skin_samples` gives them)."""
    w, h = work.size
    yy, xx = np.mgrid[0:h, 0:w]
    out = np.zeros((h, w), bool)
    for centre, radius in samples:
        c = work.to_work(np.asarray(centre)[None])[0]
        out |= (xx - c[0]) ** 2 + (yy - c[1]) ** 2 <= (radius * work.scale) ** 2
    return out


def skin_matte(pixels: np.ndarray, lm: np.ndarray, regions: HeadRegions,
               tuning: RegionsTuning | None = None) -> np.ndarray:
    """Soft skin of face, ears and neck over ``regions``' box at the photo's pixels (0..1): the
    colour of the cheeks and forehead (a Gaussian in Lab's a, b; the lightness free), connected
    to the face, less the hair matte and the eyes, brows and lips."""
    return skin_without_features(skin_area(pixels, lm, regions, tuning), lm, regions, tuning)


def skin_area(pixels: np.ndarray, lm: np.ndarray, regions: HeadRegions,
              tuning: RegionsTuning | None = None) -> np.ndarray:
    """:func:`skin_matte` before the hair and the features are taken out of it."""
    tn = tuning if tuning is not None else RegionsTuning()
    lm = np.asarray(lm, np.float64)
    d = eye_distance(lm)
    up = (lm[8] - lm[27]) / max(float(np.linalg.norm(lm[8] - lm[27])), 1e-6)  # down the face
    work = regions.work
    full = unit(work.crop(pixels))
    small = work.small(full)
    h, w = small.shape[:2]
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2Lab)
    seen = sample_mask(work, skin_samples(lm, d))
    yy, xx = np.mgrid[0:h, 0:w]
    p = skin_likeness(lab, seen, tn)
    if p is None:
        return np.zeros(regions.face.shape, np.float32)
    chroma = np.hypot(lab[..., 1], lab[..., 2]) * (np.median(lab[seen][:, 0]) / np.maximum(lab[..., 0], 1.0))
    own = float(np.median(chroma[seen]))
    p *= np.clip((chroma - tn.grey_below * own) / ((tn.grey_above - tn.grey_below) * max(own, 1e-3)), 0.0, 1.0)
    # near the face: its outline grown a little, more beside it at the ears' height, and the
    # neck's column below the chin (the wall beside the jaw, under the ears, is not skin)
    face = (fill((h, w), [work.to_work(face_outline(lm))]) > 0.5).astype(np.uint8)

    def grown(by: float) -> np.ndarray:
        return cv2.dilate(face, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * int(by * d * work.scale) + 1,) * 2))

    near = grown(tn.outline)
    ear_top = float(work.to_work(lm[17:27])[:, 1].min())
    ear_bottom = float(work.to_work(lm[33:34])[0, 1]) + tn.ear_lobe * d * work.scale
    ears = grown(tn.ears)
    rows = slice(int(np.clip(ear_top, 0, h)), int(np.clip(np.ceil(ear_bottom), 0, h)))
    near[rows] = np.maximum(near[rows], ears[rows])
    jaw = work.to_work(lm[[3, 13]])
    chin_y = float(work.to_work(lm[8:9])[0, 1])
    near[int(max(chin_y - 0.5 * d * work.scale, 0)):, int(max(jaw[:, 0].min(), 0)):int(max(jaw[:, 0].max(), 0))] = 1
    p *= near
    p[(wall_like(lab, work, lm, tn) & (face == 0))] = 0.0
    hair_small = work.small(regions.hair)
    p *= 1.0 - np.clip(2.0 * hair_small, 0.0, 1.0)
    hard = (p > 0.5).astype(np.uint8)
    n, labels = cv2.connectedComponents(hard, connectivity=8)
    keep = np.zeros(n, bool)
    # the neck below the chin (a beard's shadow may part it from the face) is a seed of its own
    neck = work.to_work((lm[8] + 0.45 * d * up)[None])[0]
    near_neck = (xx - neck[0]) ** 2 + (yy - neck[1]) ** 2 <= (0.15 * d * work.scale) ** 2
    keep[np.unique(labels[(seen | near_neck) & (hard > 0)])] = True
    keep[0] = False
    hard = fill_holes(keep[labels]).astype(np.float32)  # a blemish, a nostril: the skin's
    soft = refine(work, full, hard, d, tn)
    # no further than skin_reach beyond the skin found (a wall of the skin's colour)
    reach = cv2.resize(hard, (soft.shape[1], soft.shape[0]), interpolation=cv2.INTER_LINEAR)
    r = max(1, int(round(tn.skin_reach * d)))
    reach = cv2.dilate((reach > 0.5).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2))
    soft = soft * cv2.GaussianBlur(reach.astype(np.float32), (0, 0), 0.5 * r)
    x0, y0 = work.box[:2]
    # faded out over the box's bottom (the neck goes on below it)
    fade = np.clip((work.box[3] - 1 - (np.arange(soft.shape[0]) + y0)) / (tn.neck_fade * d), 0.0, 1.0)
    return soft * fade[:, None].astype(np.float32)


def wall_like(lab: np.ndarray, work: Work, lm: np.ndarray, tuning: RegionsTuning | None = None) -> np.ndarray:
    """bool over the work box (``lab``: its Lab at work scale): the pixels of the wall behind the
    head, as a smooth surface fitted to the box's side strips above the chin explains them
    (``tuning``'s ``wall_strip``, ``wall_fit``; within ``background_delta`` of it, or 1.5 times
    its fit); none where the strips are not one smooth surface (hair down to the box's sides, a
    scene)."""
    tn = tuning if tuning is not None else RegionsTuning()
    h, w = lab.shape[:2]
    strips = wall_strips(work, lm, lab.shape, tn)
    if strips is None:
        return np.zeros((h, w), bool)
    residual, fit = wall_residual(lab, strips)
    if fit > tn.wall_fit:
        return np.zeros((h, w), bool)
    return residual < max(tn.background_delta, 1.5 * fit)


def skin_without_features(area: np.ndarray, lm: np.ndarray, regions: HeadRegions,
                          tuning: RegionsTuning | None = None) -> np.ndarray:
    """The skin ``area`` (over ``regions``' box at the photo's pixels, 0..1) less the hair matte
    and the features of the face at 68 landmarks ``lm`` (eyes, brows and lips, grown a little,
    their edges softened)."""
    lm = np.asarray(lm, np.float64)
    d = eye_distance(lm)
    features = feature_mask(area.shape, lm, d, regions.work.box[:2], tuning=tuning)
    features = cv2.GaussianBlur(features, (0, 0), max(0.5, 0.02 * d))
    return area * (1.0 - features) * (1.0 - regions.hair)


# -- a head found once, carried to the later frames of a video ---------------------------------------
#: The points a head's mattes are carried by from frame to frame (iBUG: the nose and the eyes'
#: corners move with the skull; the jaw, mouth and brows move with the expression).
SKULL = [27, 28, 29, 30, 31, 33, 35, 36, 39, 42, 45]


@dataclass(frozen=True)
class HeadLook:
    """A head's hair matte and skin area as one frame of a video showed them (``regions``, at
    68 landmarks ``landmarks``; ``skin``: the skin area before the features and the hair are taken
    out, or None where no skin edit found it; the hair's own colour), carried to the later frames of the same person by
    the similarity of the skull's points (:meth:`on`). Found again on every frame, the mattes
    vary with each frame's noise (GrabCut's cut, the skin's colour model): a recoloured head of
    hair would flicker."""

    landmarks: np.ndarray
    regions: HeadRegions
    skin: np.ndarray | None = None
    hair_colour: np.ndarray | None = None  # the hair's own colour there (:func:`hair_colour`)

    def on(self, lm: np.ndarray, pixels: np.ndarray,
           tuning: RegionsTuning | None = None) -> tuple[HeadRegions, np.ndarray | None]:
        """(the head's regions, its skin area or None) moved onto the face at 68 landmarks ``lm``
        in ``pixels`` ((H, W, 3) RGB): the mattes warped by the skull's similarity into the
        face's own head box, the hair's edges laid again on the frame's own (:func:`refine`,
        :func:`consistent`: a matte carried a pixel off the hair's edge would recolour the wall
        behind it), the face within its 68 points taken out of the hair again (a jaw that moved);
        the box and the edges by ``tuning`` (default its defaults)."""
        shape = pixels.shape
        from faceedit.faces.align import similarity_transform, to_3x3

        lm = np.asarray(lm, np.float64)
        work = head_box(lm, shape, tuning)
        if work.box == self.regions.work.box and np.array_equal(lm, self.landmarks):  # where it was found
            return self.regions, self.skin
        m = similarity_transform(self.landmarks[SKULL], lm[SKULL])
        ox, oy = self.regions.work.box[:2]
        nx, ny = work.box[:2]
        to_box = np.array([[1.0, 0.0, -nx], [0.0, 1.0, -ny], [0.0, 0.0, 1.0]])
        from_box = np.array([[1.0, 0.0, ox], [0.0, 1.0, oy], [0.0, 0.0, 1.0]])
        a = (to_box @ to_3x3(m) @ from_box)[:2]
        x0, y0, x1, y1 = work.box
        size = (x1 - x0, y1 - y0)

        def carry(matte: np.ndarray) -> np.ndarray:
            return cv2.warpAffine(matte, a, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                  borderValue=0.0)

        shape2 = (size[1], size[0])
        # the hair's edges laid on this frame's own, as the matte was made (guided filter)
        full = unit(work.crop(pixels))
        d = eye_distance(lm)
        face = carry(self.regions.face)
        hair = consistent(work, full, refine(work, full, work.small(carry(self.regions.hair)), d, tuning), d, face, tuning)
        hair = hair * (1.0 - _inside_face(work, lm, shape2))
        regions = HeadRegions(work, face, hair.astype(np.float32))
        return regions, None if self.skin is None else carry(self.skin)



def head_look(pixels: np.ndarray, lm: np.ndarray, mesh: np.ndarray | None, carried: HeadLook | None,
              skin: bool, tuning: RegionsTuning | None = None) -> HeadLook:
    """The head's mattes for the face at 68 landmarks ``lm`` in ``pixels`` (``mesh``: its Face Mesh
    points, or None), with its skin area where ``skin``: ``carried`` (an earlier frame's, or
    found for an attribute painted before on this photo) where given, its skin area found here
    where it has none; else found here (by ``tuning``,
    :class:`~faceedit.stage.tuning_face.RegionsTuning`)."""
    lm = np.asarray(lm, np.float64)
    if carried is None:
        regions = hair_matte(pixels, lm, mesh, tuning)
        return HeadLook(lm, regions, skin_area(pixels, lm, regions, tuning) if skin else None,
                        hair_colour(pixels, regions, tuning))
    if skin and carried.skin is None:
        regions, _ = carried.on(lm, pixels, tuning)
        return HeadLook(lm, regions, skin_area(pixels, lm, regions, tuning), carried.hair_colour)
    return carried
