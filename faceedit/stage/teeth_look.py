"""How a smile's teeth from the mouth bank follow a small or soft photo
(:meth:`faceedit.stage.mouth_bank.MouthBank.fill`): on a face whose eyes are 25-50 px apart, or a
soft photo, the bank's sharp studio teeth painted as they are read as a plate of large, bright,
even teeth. Here the teeth are blurred by what the photo's own blur has beyond the fill's
(:func:`blur_reading.photo_blur`), the brightest the teeth are drawn beside the
photo's eye whites, skin and own teeth (:func:`teeth_cap`) and their chroma no stronger than the eye
whites' (:func:`limit_chroma`), or the colour of the teeth the photo shows where its eyes show no
whites (:func:`seen_teeth`, :func:`to_seen_teeth`); down the opening of a small face, the upper lip's shadow on the teeth's
top and the lower row in shade below the upper teeth (:func:`small_teeth_shade`: the
exemplar's studio rows, both lit, read as one flat bright plate filling the opening). And where
an open mouth's upper teeth end: an exemplar's own incisal edge (:func:`incisal_edge`).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from faceedit.faces.reading import TEETH_LIGHT, TEETH_SATURATION
from faceedit.pixels import LUMA_WEIGHTS, pixel_max
from faceedit.stage.blur_reading import FILL_BLUR, edge_blur
from faceedit.stage.columns import shade_under
from faceedit.stage.lips import opening_aspect
from faceedit.stage.tuning import MouthTuning

_LUMA = np.asarray(LUMA_WEIGHTS, np.float64)

#: A smile's teeth are drawn no brighter than this times the photo's eye whites
#: (:func:`faceedit.stage.mouth.sclera_colour`'s luma; the exemplar's ``teeth_luma`` times the exposure gain): real
#: smiles' teeth over their own eye whites read 1.15-1.77 on London HD smiles shrunk to eyes
#: 25-50 px apart (teeth: the opening's 75th-percentile luma), 1.2-1.9 (median 1.43) on the
#: bank's 1350-px exemplars. The stage reads the eye whites before the edit, unsquinted: the
#: bank's 26 smiles' ``teeth_luma`` over the same person's neutral eye whites read 0.97-1.49
#: (median 1.21). 1.4: 1.5 let London 022 at 25 px between the eyes made happy read 1.531 of its
#: eye whites (``tests/test_stage_small_teeth.py``, real smiles at most 1.53); 1.3 dims a large
#: face's teeth where squinted eyes read dark whites (``docs/stage-tuning.md``).
TEETH_OVER_SCLERA = 1.4
#: ... but that cap is never under this times the skin round the mouth (its ring's luma):
#: a small face's eye whites are a few pixels mixed with lid and iris and often read darker
#: than the skin (real smiles in world photos read teeth over them 0.5-4.6). Real teeth over
#: the skin ring: 1.07-1.34 on the world photos' real smiles (insightface's groups, single_smile,
#: posed_laugh), 0.96-2.7 on London smiles shrunk; this is their middle.
TEETH_OVER_SKIN = 1.25
#: A smile's teeth's chroma (their brightest quarter's colour over its luma, less grey) at most
#: this times the eye whites' plus :data:`TEETH_CHROMA_MARGIN`: real teeth take the photo's
#: white balance as the eye whites do, no more saturated.
TEETH_CHROMA_OVER_SCLERA, TEETH_CHROMA_MARGIN = 1.0, 0.05
#: A smile's teeth (their brightest quarter's median colour) are no bluer than the eye whites by
#: more than this in Cb over luma (BT.601), nor moved yellower than the second: real smiles'
#: teeth read -0.088 to +0.024 over their own eye whites (median -0.019) and -0.063 to -0.009
#: themselves (26 London HD training smiles showing teeth); a bank's neutral white beside a
#: dark-skinned face's warm eye whites (London 061: teeth -0.012, eye whites -0.059) read blue.
TEETH_CB_OVER_SCLERA, TEETH_CB_MIN = 0.025, -0.06
#: ... nor less red by more than this in Cr/Y (Cb kept), nor lifted past the second: real teeth read -0.069 to
#: +0.066 over their eye whites (10th percentile -0.039; 33 London HD training smiles), the bank's on group_t1's
#: 29-px turned face -0.078 (yellow-green); real teeth's Cr/Y: London at most 0.11, group_t1 (warm) 0.16-0.20.
TEETH_CR_UNDER_SCLERA, TEETH_CR_MAX = 0.04, 0.2
#: ... nor bluer than the skin round the mouth by more than the first in Cb over luma, nor less red by the second in
#: Cr over luma: 56 real smiles (44 London HD, the wheels', web photos' children) read 0.014-0.133 and 0.053-0.219.
#: A cast the eye whites' balance follows only within its limits (a varnished painting, a tungsten-lit photo) left
#: the bank's teeth lilac on amber skin (the Mona Lisa's 0.28 bluer).
TEETH_CB_OVER_SKIN, TEETH_CR_UNDER_SKIN = 0.133, 0.219

#: A smile's opening whose corners are at most this far apart (px) gets :func:`small_teeth_shade`
#: whole, none from the second (the group photos' faces: 30-50 px; a 1350-px portrait's: about
#: 250 px), in the photo's own pixels (:func:`small_weight`).
SMALL_MOUTH_PX = (60.0, 100.0)
#: On a small face the upper teeth are lit down to the exemplar's own upper teeth's share of
#: its column, over at most this share of the corner distance: the bright band of real smiles
#: at 35-45 px (insightface's group_five, single_smile) runs 0.10-0.12 of it down the middle,
#: half of the opening.
SMALL_TEETH_HEIGHT = 0.12
#: ... below it the lower row and the dark behind it fall to this share of the teeth's luma
#: (real smiles' centre columns there: 0.44-0.9 of the teeth's 75th percentile, most 0.7-0.8),
#: over this share of the corner distance (a soft step, not a line).
SMALL_LOWER_SHADE, SMALL_LOWER_SOFT = 0.72, 0.05
#: The upper lip's shadow on the side teeth's top: this much darker at the lip, falling over
#: this many photo px (real smiles' first row under the lip: 0.4-0.7 of the teeth with the
#: lip's pixel in it; the plate's 0.85-1.0). The front teeth (:data:`SMALL_SIDE_SPAN`) are lit
#: up to the lip: real small smiles' bright part's top row is 0.91-1.01 of their teeth
#: (``bench_small_teeth.py``'s shade, London 008 022 061), and on a 25-px mouth the shadow over
#: their one lit row left no front teeth to read (FER read London 008 and 061 made happy at 64
#: and 96 px as neutral).
SMALL_LIP_SHADE, SMALL_LIP_REACH = 0.3, 1.0
#: The lower row's shade takes the lips' chromaticity to this further power (times
#: :func:`small_weight`) beyond the bounce of its depth: real small smiles' lower rows read warm,
#: r, g, b over luma 1.10-1.60, 0.81-0.98, 0.43-0.97 (median about 1.28, 0.88, 0.78: the world
#: photos' own smiles, ``bench_small_teeth.py --photos``); the bounce alone left it a darkened
#: grey that reads grey-green beside the lips.
SMALL_LOWER_WARM = 0.5
#: Across a small face's opening the side teeth fall into the mouth's shadow toward the corners:
#: full from this share of the corner distance from a corner (the front 4 teeth lit, the middle
#: 0.4 of the opening), down to :data:`SMALL_SIDE_SHADE` of it at the second (as an open
#: mouth's ``side_teeth_shade``); side over front 0.78-0.88 (``bench_small_teeth.py``, London
#: 008 022 061; their real smiles 0.68-0.86).
SMALL_SIDE_SPAN, SMALL_SIDE_SHADE = (0.3, 0.05), 0.7

#: :func:`small_detail` keeps the exemplar's luma at this percentile (its teeth) as it was.
SMALL_DETAIL_TOP = 95.0
#: ... and sharpens wholly in a photo no softer than the fill (:func:`blur_reading.photo_blur` up to this, px), none from the
#: second: a camera's sharpening keeps real small teeth's gaps (group_five, blur 0.0: their luma's horizontal
#: high-pass over the teeth 0.055-0.078), a soft photo blurs them (group_t1, 0.45-0.92: 0.025-0.040).
SMALL_DETAIL_BLUR = (0.15, 0.3)


def small_weight(wd: float, photo_scale: float = 1.0) -> float:
    """How much of :func:`small_teeth_shade` an opening whose corners are ``wd`` px apart gets:
    1 up to :data:`SMALL_MOUTH_PX`'s first, 0 from its second, smooth between, read at the
    photo's own pixels (``wd * photo_scale``: ``photo_scale`` the photo's own pixels per pixel
    edited, over 1 on a preview scaled down from it, :attr:`faceedit.stage.records.StageFace.photo_scale`),
    so a preview draws the face as its full-size edit does."""
    lo, hi = SMALL_MOUTH_PX
    x = float(np.clip((hi - wd * photo_scale) / (hi - lo), 0.0, 1.0))
    return x * x * (3.0 - 2.0 * x)


def small_detail(img: np.ndarray, weight: float, amount: float, blur: float = 0.0) -> np.ndarray:
    """``img`` (an exemplar area-downsampled to the photo's pixels, uint8 or unit float) with ``amount`` times
    ``weight`` of its luma's high-pass (it less its Gaussian of 1 px) added back, less as the photo's ``blur``
    (:func:`blur_reading.photo_blur`) rises through :data:`SMALL_DETAIL_BLUR`, each pixel's colour kept (its RGB scaled by its new
    luma over its old: a channel's own high-pass put cyan and grey-green fringes round the teeth's warm gaps), and the
    whole scaled so that its brightest pixels (:data:`SMALL_DETAIL_TOP` percentile of luma, the teeth) read as before,
    in its own dtype and range: the teeth's separations at a small face's scale, the teeth no brighter."""
    x = float(np.clip((SMALL_DETAIL_BLUR[1] - blur) / (SMALL_DETAIL_BLUR[1] - SMALL_DETAIL_BLUR[0]), 0.0, 1.0))
    a = float(amount) * float(weight) * x * x * (3.0 - 2.0 * x)
    if a <= 0.0:
        return img
    f = img.astype(np.float32)
    y = f @ _LUMA.astype(np.float32)
    sharp = np.maximum(y + a * (y - cv2.GaussianBlur(y, (0, 0), 1.0)), 0.0)
    sharp *= float(np.percentile(y, SMALL_DETAIL_TOP)) / max(float(np.percentile(sharp, SMALL_DETAIL_TOP)), 1e-6)
    top = 255.0 if img.dtype == np.uint8 else 1.0
    return np.clip(f * (sharp / np.maximum(y, 1e-6))[..., None], 0.0, top).astype(img.dtype)


def small_smile(upper: np.ndarray, lower: np.ndarray, cover: float, tn: MouthTuning,
                photo_scale: float = 1.0) -> bool:
    """Whether the opening between inner-lip curves ``upper`` and ``lower`` ((N, 2) photo px) is a small face's smile:
    its corners close enough for ``tn.under_teeth_small`` of :func:`small_weight` (at ``photo_scale``), the upper lip
    lifted off the teeth (``cover``, the share of them it covers, under ``tn.open_cover``). Over such a face's own upper
    teeth the stage paints the whole opening from the bank (:func:`faceedit.stage.mouth_steps.fill_mouth`): its own teeth
    there are a band of a few px, which over the bank's lower row stood as a thin lit seam above a grey wall (London 008
    smiling at 64-128 px made happy)."""
    return cover < tn.open_cover and small_weight(opening_aspect(upper, lower)[1], photo_scale) >= tn.under_teeth_small


def small_teeth_shade(t: np.ndarray, wd: float, teeth: np.ndarray, lip: np.ndarray, bounce: float,
                      u: np.ndarray | None = None, photo_scale: float = 1.0) -> np.ndarray:
    """(n, 3) what a small face's smile's pixels are multiplied by (1 where the face is large): ``t`` px below the upper
    lip, in an opening whose corners are ``wd`` px apart, whose exemplar's upper teeth reach ``teeth`` px down (its
    upper teeth's depth over its column's, times the column's height here). The upper lip's shadow
    (:data:`SMALL_LIP_SHADE` over :data:`SMALL_LIP_REACH` px) and, below the upper teeth (at most
    :data:`SMALL_TEETH_HEIGHT` of ``wd`` down), the lower row in shade (:data:`SMALL_LOWER_SHADE`), both times
    :func:`small_weight` (at ``photo_scale``); with ``u`` (0..1 from corner to corner) the side teeth falling to
    :data:`SMALL_SIDE_SHADE` toward the corners (:data:`SMALL_SIDE_SPAN`) and the lip's shadow on the side teeth only,
    the front ones lit up to the lip. The shade warm, as an open mouth's teeth's: the lips' chromaticity (``lip``, RGB)
    to ``bounce`` times its depth, the lower row's :data:`SMALL_LOWER_WARM` further (a darkened white reads
    grey-green)."""
    w = small_weight(wd, photo_scale)
    t = np.asarray(t, np.float64)
    if w <= 0.0:
        return np.ones((len(t), 3))
    edge = np.minimum(np.asarray(teeth, np.float64), SMALL_TEETH_HEIGHT * wd)
    soft = max(SMALL_LOWER_SOFT * wd, 1.0)
    x = np.clip((t - edge) / soft + 0.5, 0.0, 1.0)
    lower = 1.0 - (1.0 - SMALL_LOWER_SHADE) * x * x * (3.0 - 2.0 * x)
    lip_shade = np.full_like(t, SMALL_LIP_SHADE)
    side = np.ones_like(t)
    if u is not None:
        d = np.minimum(np.asarray(u, np.float64), 1.0 - np.asarray(u, np.float64))
        s = np.clip((d - SMALL_SIDE_SPAN[1]) / (SMALL_SIDE_SPAN[0] - SMALL_SIDE_SPAN[1]), 0.0, 1.0)
        front = s * s * (3.0 - 2.0 * s)
        side = SMALL_SIDE_SHADE + (1.0 - SMALL_SIDE_SHADE) * front
        lip_shade = lip_shade * (1.0 - front)  # the front teeth lit up to the lip
    lip_shadow = 1.0 - lip_shade * np.exp(-np.maximum(t, 0.0) / SMALL_LIP_REACH)
    shade = 1.0 - w * (1.0 - lower * lip_shadow * side)
    c = np.asarray(lip, np.float64)
    c = np.maximum(c / max(float(c @ _LUMA), 1e-6), 1e-3)
    warm = bounce * (1.0 - shade) + SMALL_LOWER_WARM * w * x * x * (3.0 - 2.0 * x)
    return shade[:, None] * c[None, :] ** warm[:, None]


def smile_sides(u: np.ndarray, lip: np.ndarray, tn: MouthTuning, v: np.ndarray | None = None,
                hd: np.ndarray | None = None, weight: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A smile's side teeth in the mouth's shadow (the buccal corridor), at ``u`` (0..1 from corner to corner): (n, 3)
    what its pixels are multiplied by, falling from 1 at ``tn.smile_side_from`` of the width from a corner to
    ``tn.smile_side_shade`` at ``tn.smile_side_to``, warm as an open mouth's side teeth (the lips' chromaticity, ``lip``
    RGB, to ``tn.teeth_bounce`` times the shade's depth); and (n,) how much of each pixel is the lips meeting at the
    corners (1 at a corner, 0 from ``tn.smile_close`` of the width); and (n,) how much of each is the upper lip covering
    the crowns' tops, at ``v`` (0 at the upper lip, 1 at the lower) in a column ``hd`` px tall: ``tn.smile_cover_front``
    of the column over the front teeth to ``tn.smile_cover_side`` over the side teeth, over a 1-px edge. All three times
    ``weight`` (a small face's smile has :func:`small_teeth_shade`'s side fall-off instead: 1 less its
    :func:`small_weight`)."""
    d = np.minimum(np.asarray(u, np.float64), 1.0 - np.asarray(u, np.float64))
    s = np.clip((d - tn.smile_side_to) / max(tn.smile_side_from - tn.smile_side_to, 1e-6), 0.0, 1.0)
    shade = 1.0 - weight * (1.0 - tn.smile_side_shade) * (1.0 - s * s * (3.0 - 2.0 * s))
    c = np.asarray(lip, np.float64)
    c = np.maximum(c / max(float(c @ _LUMA), 1e-6), 1e-3)
    x = np.clip(d / max(tn.smile_close, 1e-6), 0.0, 1.0)
    close = weight * (1.0 - x * x * (3.0 - 2.0 * x))
    cover = np.zeros_like(d)
    if v is not None and hd is not None:
        share = tn.smile_cover_side + (tn.smile_cover_front - tn.smile_cover_side) * s * s * (3.0 - 2.0 * s)
        y = np.clip((np.asarray(v, np.float64) - share) * np.maximum(np.asarray(hd, np.float64), 1.0) + 0.5, 0.0, 1.0)
        cover = weight * (1.0 - y * y * (3.0 - 2.0 * y))
    return shade[:, None] * c[None, :] ** (tn.teeth_bounce * (1.0 - shade))[:, None], close, cover


#: BT.601's Cb and Cr weights (its blue and red differences over RGB).
_CB, _CR = np.array([-0.168736, -0.331264, 0.5]), np.array([0.5, -0.418688, -0.081312])
_CR_RGB = np.array([1.402, -0.714136, 0.0])  # the RGB step of one unit of Cr, luma and Cb kept


def _teeth_colour(fill: np.ndarray) -> np.ndarray:
    """The median colour of ``fill``'s (n, 3) brightest quarter: a smile's teeth."""
    y = fill @ _LUMA
    return np.median(fill[y >= np.percentile(y, 75)], 0).astype(np.float64)


def warm_to_sclera(fill: np.ndarray, sclera: np.ndarray, red: bool = True) -> np.ndarray:
    """``fill`` (n, 3) unit RGB times the channel gains that move its teeth's (:func:`_teeth_colour`)
    chromaticity toward ``sclera``'s, their luma kept, until their Cb over luma is at most
    :data:`TEETH_CB_OVER_SCLERA` over the eye whites' (never under :data:`TEETH_CB_MIN`); then, where ``red``
    (eyes open to their whites), their Cr alone up to :data:`TEETH_CR_UNDER_SCLERA` under it (:data:`TEETH_CR_MAX`)."""
    if len(fill) < 4:
        return fill
    sclera = np.asarray(sclera, np.float64)
    teeth = _teeth_colour(fill)
    if float(sclera @ _LUMA) < 1e-3 or float(teeth @ _LUMA) < 1e-3:
        return fill
    c_t, c_s = teeth / float(teeth @ _LUMA), sclera / float(sclera @ _LUMA)
    gap, target = float(c_t @ _CB - c_s @ _CB), max(float(c_s @ _CB) + TEETH_CB_OVER_SCLERA, TEETH_CB_MIN)
    c = c_t + ((float(c_t @ _CB) - target) / gap if gap > 0.0 and float(c_t @ _CB) > target else 0.0) * (c_s - c_t)
    lift = min(float(c_s @ _CR) - TEETH_CR_UNDER_SCLERA, TEETH_CR_MAX) - float(c @ _CR) if red else 0.0
    c = c + max(lift, 0.0) * _CR_RGB
    gain = np.maximum(c, 1e-3) / np.maximum(c_t, 1e-3)
    return fill if np.array_equal(c, c_t) else np.clip(fill * gain, 0.0, 1.0).astype(fill.dtype)


def under_skin_cast(fill: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """``fill`` (n, 3) unit RGB times the channel gains that take its teeth's (:func:`_teeth_colour`) chromaticity
    toward ``skin``'s (unit RGB (3,), the skin round the mouth), their luma kept, until they are no bluer than it by
    more than :data:`TEETH_CB_OVER_SKIN` and no less red by more than :data:`TEETH_CR_UNDER_SKIN`: teeth share
    the photo's cast with the skin beside them."""
    teeth, skin = _teeth_colour(fill) if len(fill) >= 4 else None, np.asarray(skin, np.float64)
    if teeth is None or float(skin @ _LUMA) < 1e-3 or float(teeth @ _LUMA) < 1e-3:
        return fill
    c_t, c_s = teeth / float(teeth @ _LUMA), skin / float(skin @ _LUMA)
    bluer, paler = float((c_t - c_s) @ _CB), float((c_s - c_t) @ _CR)
    share = max(1.0 - TEETH_CB_OVER_SKIN / bluer if bluer > TEETH_CB_OVER_SKIN else 0.0,
                1.0 - TEETH_CR_UNDER_SKIN / paler if paler > TEETH_CR_UNDER_SKIN else 0.0)
    if share <= 0.0:
        return fill
    gain = np.maximum(c_t + share * (c_s - c_t), 1e-3) / np.maximum(c_t, 1e-3)
    return np.clip(fill * gain, 0.0, 1.0).astype(fill.dtype)


def seen_teeth(pixels: np.ndarray, face_lm: np.ndarray,
               below: np.ndarray | Callable[[], np.ndarray | None] | None = None,
               tn: MouthTuning | None = None) -> np.ndarray | None:
    """Unit RGB (3,) of the teeth the photo shows: the median of the whitest quarter (luma less 3x
    the channels' spread, as :func:`~faceedit.stage.mouth.sclera_colour` reads the eye whites) of
    the pixels between the 68 landmarks' inner lips (60-67, grown by 1 px) at least
    :data:`~faceedit.faces.reading.TEETH_LIGHT` of the way from the lips' median grey (between the
    outer lines, 48-59, and the inner) to white and under
    :data:`~faceedit.faces.reading.TEETH_SATURATION` HSV saturation (the face reading's rule for
    teeth); None where fewer than ``tn.seen_teeth_px`` are (:class:`~faceedit.stage.tuning.MouthTuning`,
    default its defaults), or in a grey photo. ``below``: a lower line ((N, 2), left corner first;
    or what returns it or None) past the lower teeth (the Face Mesh's inner lower lip moved past
    them, :func:`~faceedit.stage.sealed.lower_teeth_line`): the region reaches down to it too (on a
    small smile the 68 points' inner lower lip runs along the top of the lower teeth: insightface's
    group_t1 face 2). A lip's highlight, outside those lines, is no tooth (London's closed neutral
    lips' highlights pass the light and saturation rule)."""
    if np.ndim(pixels) != 3:
        return None
    lm = np.asarray(face_lm, np.float64)
    unit = pixel_max(pixels.dtype)
    outer, inner = lm[48:60], lm[60:68]
    below = below() if callable(below) else below
    regions = [inner] if below is None else [inner, np.vstack([lm[60:65], np.asarray(below, np.float64)[::-1]])]
    h, w = pixels.shape[:2]
    pts = np.vstack([outer, *regions])
    x0, y0 = (max(int(np.floor(v)) - 2, 0) for v in pts.min(0))
    x1, y1 = min(int(np.ceil(pts[:, 0].max())) + 3, w), min(int(np.ceil(pts[:, 1].max())) + 3, h)
    if x1 - x0 < 3 or y1 - y0 < 3 or pixels.shape[-1] < 3:
        return None

    def inside(poly):
        m = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(m, [np.round((poly - [x0, y0]) * 4).astype(np.int32)], 1, cv2.LINE_8, 2)
        return m > 0

    opening = np.logical_or.reduce([inside(r) for r in regions])
    mouth = cv2.dilate(opening.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    lips = inside(outer) & ~inside(inner)
    if lips.sum() < 4:
        return None
    crop = pixels[y0:y1, x0:x1, :3].astype(np.float64) / unit
    y = crop @ _LUMA
    lip = float(np.median(y[lips]))
    sat = 1.0 - crop.min(-1) / np.maximum(crop.max(-1), 1e-6)
    teeth = mouth & (y >= lip + TEETH_LIGHT * (1.0 - lip)) & (sat < TEETH_SATURATION)
    if teeth.sum() < (tn or MouthTuning()).seen_teeth_px:
        return None
    px = crop[teeth]
    white = px @ _LUMA - 3.0 * (px.max(1) - px.min(1))  # as the eye whites are read: bright and grey
    return np.median(px[white >= np.percentile(white, 75)], 0)


def to_seen_teeth(fill: np.ndarray, seen: np.ndarray, tn: MouthTuning) -> np.ndarray:
    """``fill`` (n, 3) unit RGB times the channel gains that give its teeth (:func:`_teeth_colour`)
    the chromaticity of ``seen`` (:func:`seen_teeth`: the photo's own teeth), less of it in the darker
    pixels (``tn.seen_teeth_dark``), and a luma within ``tn.seen_teeth_luma`` of theirs (their own where
    it already is)."""
    if len(fill) < 4:
        return fill
    seen = np.asarray(seen, np.float64)
    teeth = _teeth_colour(fill)
    lt, ls = float(teeth @ _LUMA), float(seen @ _LUMA)
    if lt < 1e-3 or ls < 1e-3:
        return fill
    luma = float(np.clip(lt, tn.seen_teeth_luma[0] * ls, tn.seen_teeth_luma[1] * ls))
    chroma = (seen / ls) / np.maximum(teeth / lt, 1e-3)
    f = np.asarray(fill, np.float64)
    lo, hi = tn.seen_teeth_dark
    x = np.clip(((f @ _LUMA) / lt - lo) / max(hi - lo, 1e-6), 0.0, 1.0)
    w = (x * x * (3.0 - 2.0 * x))[:, None]
    return np.clip(f * chroma[None] ** w * (luma / lt), 0.0, 1.0).astype(fill.dtype)


def limit_chroma(fill: np.ndarray, sclera: np.ndarray) -> np.ndarray:
    """``fill`` (n, 3) unit RGB with its chroma scaled down, the luma kept, so that its brightest
    quarter's median colour lies no further from grey (the norm of colour over luma less 1) than
    :data:`TEETH_CHROMA_OVER_SCLERA` times ``sclera``'s plus :data:`TEETH_CHROMA_MARGIN`."""
    if len(fill) < 4:
        return fill
    y = fill @ _LUMA
    teeth = _teeth_colour(fill)
    c_t = float(np.linalg.norm(teeth / max(float(teeth @ _LUMA), 1e-6) - 1.0))
    c_s = float(np.linalg.norm(sclera / max(float(sclera @ _LUMA), 1e-6) - 1.0))
    most = TEETH_CHROMA_OVER_SCLERA * c_s + TEETH_CHROMA_MARGIN
    if c_t <= most:
        return fill
    return np.clip(y[:, None] + (most / c_t) * (fill - y[:, None]), 0.0, 1.0).astype(fill.dtype)


def warm_darks(fill: np.ndarray, lip: np.ndarray, tn: MouthTuning, lip_cover: np.ndarray | None = None
               ) -> np.ndarray:
    """``fill`` (n, 3) unit RGB, a smile's interior, with its dark (the gaps between the teeth,
    the buccal corridor beside the side teeth, the lips meeting at the corners) in the mouth's
    warm shade: a pixel from ``tn.smile_dark_from`` of the luma of ``lip`` (the lips, unit RGB
    (3,)) down, wholly from ``tn.smile_dark_to``, takes the lips' chromaticity to
    ``tn.smile_dark_warm`` (geometrically, by that share) and ``tn.smile_dark_shade`` less luma;
    the teeth keep theirs, and so does the upper lip's margin over them (``lip_cover`` (n,): how
    much of each pixel it is, :func:`smile_sides`; darkened, the row read as teeth under a dark
    band). Inside a mouth the dark is lit by light off the lips and gums: darker and redder
    than the lips (the bank's fill, its chroma limited to the eye whites' and its corners faded
    to the lips' colour, read a grey dark)."""
    if len(fill) < 4:
        return fill
    f = np.asarray(fill, np.float64)
    y = f @ _LUMA
    c_l = np.maximum(np.asarray(lip, np.float64), 1e-3)
    x = np.clip((tn.smile_dark_from - y / float(c_l @ _LUMA)) / max(tn.smile_dark_from - tn.smile_dark_to, 1e-6),
                0.0, 1.0)
    w = x * x * (3.0 - 2.0 * x)
    if lip_cover is not None:
        w = w * (1.0 - np.clip(np.asarray(lip_cover, np.float64), 0.0, 1.0))
    if not (w > 0).any():
        return fill
    target = (c_l / float(c_l @ _LUMA)) ** tn.smile_dark_warm
    target = target / float(target @ _LUMA)
    c = np.maximum(f, 1e-3) / np.maximum(y, 1e-3)[:, None]
    c = c ** (1.0 - w[:, None]) * target[None] ** w[:, None]
    c = c / np.maximum(c @ _LUMA, 1e-6)[:, None]
    out = c * (y * (1.0 - tn.smile_dark_shade * w))[:, None]
    return np.where(w[:, None] > 0, np.clip(out, 0.0, 1.0), f).astype(fill.dtype)


def teeth_cap(sclera: np.ndarray | None, skin: np.ndarray, seen: np.ndarray | None = None) -> float:
    """The brightest a smile's teeth are drawn (unit luma): :data:`TEETH_OVER_SCLERA` times the
    eye whites' luma, at least :data:`TEETH_OVER_SKIN` times the skin ring's (``sclera`` and
    ``skin``: unit RGB (3,); ``sclera`` None where the whites cannot be read: the skin's alone), and at least the
    luma of the teeth the photo shows (``seen``, :func:`seen_teeth`, or None: a blurred photo's eye whites read
    dark, and its own teeth showed the cap drew them dimmer than they are)."""
    caps = [TEETH_OVER_SKIN * float(np.asarray(skin, np.float64) @ _LUMA)]
    caps += [] if sclera is None else [TEETH_OVER_SCLERA * float(np.asarray(sclera, np.float64) @ _LUMA)]
    return max(caps + ([] if seen is None else [float(np.asarray(seen, np.float64) @ _LUMA)]))


def incisal_edge(upper: np.ndarray, lower: np.ndarray, image: np.ndarray, depth: float, teeth_luma: float,
                 tn: MouthTuning, k: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(u, edge, row): a mouth bank exemplar's (its ``upper`` and ``lower`` inner-lip curves and
    ``image``, RGB uint8, bank px) upper teeth's lower (incisal) edge, bank px straight down
    from its upper curve at u (one sample per bank px along the mouth): the first point from
    ``incisal_min`` of its ``upper_depth`` down where the luma falls under ``incisal_drop``
    of its ``teeth_luma`` (the dark between the tips, the gaps, the cavity and the dark
    corners behind the side teeth) or under ``incisal_dip`` of the column's brightest above
    (the shade line where a tip meets a lower tooth behind it), at most ``incisal_max`` of its depth (a lower row
    touching the upper) and the lower curve; blurred over ``incisal_blur`` of a photo pixel
    (``incisal_blur / k`` bank px, at least 1: the tips' round and the notches' V, not
    steps a pixel wide). ``row`` is its median over
    ``incisal_span`` of the mouth's width, blurred over a quarter of that: the row's edge
    over a tooth; ``edge`` lies no lower than ``row`` (a column the luma misses, where a
    lower tooth meets an upper one, hung below the row as a sliver) and no higher than
    ``row`` less ``incisal_notch`` of its deepest (the notch between two tips; where the
    luma dips on a shaded side tooth, the edge's columns stood up into the row as a
    jagged skyline)."""
    eu, el = np.asarray(upper, np.float64), np.asarray(lower, np.float64)
    ue = np.linspace(0.0, 1.0, len(eu))
    uu = np.linspace(0.0, 1.0, max(int(round(float(np.linalg.norm(eu[-1] - eu[0])))), 8) + 1)
    pu = np.stack([np.interp(uu, ue, eu[:, 0]), np.interp(uu, ue, eu[:, 1])], 1)
    pl = np.stack([np.interp(uu, ue, el[:, 0]), np.interp(uu, ue, el[:, 1])], 1)
    he = np.linalg.norm(pl - pu, axis=1)
    grey = (np.asarray(image, np.float32) @ _LUMA.astype(np.float32)) / 255.0
    ss = np.arange(0.0, float(he.max()) + 1.0, 0.5)
    prof = cv2.remap(grey, np.repeat(pu[:, :1], len(ss), 1).astype(np.float32),
                     (pu[:, 1:2] + ss[None]).astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    dip = (prof < tn.incisal_drop * teeth_luma) | (
        prof < tn.incisal_dip * np.maximum.accumulate(prof, axis=1))
    dark = dip & (ss[None] >= tn.incisal_min * depth) | (ss[None] >= np.minimum(he, tn.incisal_max * depth)[:, None])
    edge = ss[np.argmax(dark, 1)]
    half = max(int(round(tn.incisal_span * len(uu) / 2)), 1)
    padded = np.pad(edge, half, mode="edge")
    median = np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1), axis=1)

    def blur(x, sigma):
        return cv2.GaussianBlur(x.astype(np.float32)[None], (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)[0]

    edge = blur(edge, max(tn.incisal_blur / max(k, 1e-3), 1.0))
    row = blur(median, max(half / 2, 1.0))
    return uu, np.clip(edge, row - tn.incisal_notch * float(np.max(row)), row), row


#: On a small face (:func:`small_weight`) the pixels within this many px inside the filled
#: opening are no darker than the lips' own dark (:func:`small_edge`; the exemplar's dark under
#: a small smile's teeth stands 2-3 px high: 84, 73 at group_t1's face at x 780 against lips at
#: 190-208); lifting only what is darker, it leaves the teeth as they are.
SMALL_EDGE_LIFT_BAND = 3.0
#: ... no darker than this share of this percentile of the luma of the lips just outside the
#: opening (1 to :data:`SMALL_EDGE_RING` px out): the darkest pixel of real small smiles'
#: openings (the inner lips' polygon grown by 1 px) is 0.33-1.04 of that percentile, median
#: 0.76 (London held-out 008-126 smiling at 64 and 96 px, 22 with an opening); lifted to the
#: whole percentile the small smile lost the dark corners and gap round its teeth that real
#: ones have.
SMALL_EDGE_DARK_PERCENTILE, SMALL_EDGE_DARK_SHARE, SMALL_EDGE_RING = 10.0, 0.76, 3
#: The opening's lowest pixel in each column is no lighter than this share of the lower lip's
#: median luma 4-7 px below it (:func:`under_shade`): real small smiles' darkest pixel there
#: reads 0.47-0.91 of it, median 0.67 (``bench_small_teeth.py``'s edge line: London 008 022 061
#: at 25-50 px, group_five's four smiles and group_t1's one, ``--photos``); the exemplar's lit
#: lower row, read inside its lower lip and lightened at the rim, left 0.85-0.92 (group_t1's
#: faces at x 61, 263, 450 made happy): a plate with no shadow under it. 0.75, lighter than the
#: median: at 0.7 and 0.8 FER read London 008 smiling at 128 px made happy as neutral. Not in
#: the columns within this share of the opening's width of either corner (no dark gaps there),
#: nor in those under this many px high (a slit's lowest row is its teeth: the astronaut's
#: smile at 0.58 has a 1-2 px opening, and MediaPipe read its ``mouthSmileLeft`` lower with it).
SMALL_EDGE_UNDER, SMALL_EDGE_UNDER_SPAN, SMALL_EDGE_UNDER_MIN = 0.75, 0.15, 4


def covered_box(roi, opening: np.ndarray, box, reach: int):
    """((x0, y0, x1, y1), op): the part of ``box`` within ``reach`` px of a pixel ``opening``
    (float, over ``roi`` = (x0, y0, x1, y1)) covers, and ``opening`` over it as float32 (0
    outside ``roi``); None where it covers none. An edit of the covered pixels whose filters
    reach less than ``reach`` px reads the same there in it as in ``box`` (pixels at its
    edges see ``box``'s own edges)."""
    x0, y0, x1, y1 = roi
    bx0, by0, bx1, by1 = box
    cover = np.asarray(opening) > 0
    rows, cols = np.flatnonzero(cover.any(1)), np.flatnonzero(cover.any(0))
    if rows.size == 0:
        return None
    bx0, bx1 = max(x0 + int(cols[0]) - reach, bx0), min(x0 + int(cols[-1]) + 1 + reach, bx1)
    by0, by1 = max(y0 + int(rows[0]) - reach, by0), min(y0 + int(rows[-1]) + 1 + reach, by1)
    op = np.zeros((by1 - by0, bx1 - bx0), np.float32)
    oy0, ox0 = max(by0 - y0, 0), max(bx0 - x0, 0)
    oy1, ox1 = min(by1 - y0, y1 - y0), min(bx1 - x0, x1 - x0)
    op[y0 + oy0 - by0:y0 + oy1 - by0, x0 + ox0 - bx0:x0 + ox1 - bx0] = np.asarray(opening)[oy0:oy1, ox0:ox1]
    return (bx0, by0, bx1, by1), op


def small_edge(out: np.ndarray, roi, opening: np.ndarray, wd: float, photo_scale: float = 1.0,
               blur: float = 0.0) -> None:
    """A small face's filled opening's edge (``opening``, float 0..1 over ``roi`` = (x0, y0, x1,
    y1) of ``out``; corners ``wd`` px apart) kept to the photo's own lips, in place: its
    part-covered rim (``opening`` up to 0.5) lightened toward a Gaussian blur of the photo's own
    blur at the lips (:func:`edge_blur` of the ring outside it, at least :data:`FILL_BLUR`;
    never darkened), and within
    :data:`SMALL_EDGE_LIFT_BAND` px inside it raised to no darker than the lips' own dark
    (:data:`SMALL_EDGE_DARK_SHARE` of :data:`SMALL_EDGE_DARK_PERCENTILE` of the ring's luma),
    and its lower edge no lighter than the shadow under real small smiles' teeth
    (:func:`under_shade`, spread up and down by the photo's blur ``blur``, px, as
    :func:`blur_reading.photo_blur` reads it), by :func:`small_weight` of
    ``wd`` at ``photo_scale`` (nothing on a studio face).
    The exemplar's lower lip's inner edge and the corners' shade, drawn as they are at a
    small face's scale, stood as a line darker than any of the photo's lips."""
    w_s = small_weight(wd, photo_scale)
    if w_s <= 0.0:
        return
    x0, y0, x1, y1 = (int(v) for v in roi)
    pad = SMALL_EDGE_RING + 6
    bx0, by0 = max(x0 - pad, 0), max(y0 - pad, 0)
    bx1, by1 = min(x1 + pad, out.shape[1]), min(y1 + pad, out.shape[0])
    # only pixels the opening covers change: the box the blurs reach round them (17 px: the
    # rim's blur at its largest sigma, 4 px, is a 33-tap kernel; the ring and edge_blur's blur
    # and gradients there reach 3 + 5)
    box = covered_box((x0, y0, x1, y1), opening, (bx0, by0, bx1, by1), 17)
    if box is None:
        return
    (bx0, by0, bx1, by1), op = box
    crop = out[by0:by1, bx0:bx1].astype(np.float32)
    rgb = np.repeat(crop[..., None], 3, -1) if crop.ndim == 2 else crop[..., :3]
    inside = (op > 0.5).astype(np.uint8)
    ring = (cv2.dilate(inside, np.ones((2 * SMALL_EDGE_RING + 1,) * 2, np.uint8)) > 0) & (op <= 0)
    if int(ring.sum()) < 16 or int(inside.sum()) < 4:
        return
    unit = float(pixel_max(out.dtype))
    luma = (rgb @ _LUMA.astype(np.float32)) / unit
    # the opening's outer, part-covered pixels (under half) lightened toward the photo's own
    # blur there (a crisp dark outline softened; never darkened: the lit teeth stay)
    sigma = max(edge_blur(luma, ring), FILL_BLUR)
    step = cv2.GaussianBlur(rgb, (0, 0), sigma) - rgb
    rim = ((op > 0) & (op <= 0.5) & ((step @ _LUMA.astype(np.float32)) > 0)).astype(np.float32) * w_s
    soft = rgb + rim[..., None] * step
    depth = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
    w_lift = np.where(op > 0, np.clip(SMALL_EDGE_LIFT_BAND + 1.0 - depth, 0.0, 1.0), 0.0) * w_s
    dark = SMALL_EDGE_DARK_SHARE * float(np.percentile(luma[ring], SMALL_EDGE_DARK_PERCENTILE)) * unit
    y = np.maximum(soft @ _LUMA.astype(np.float32), 1e-3)
    lift = 1.0 + w_lift * (np.maximum(dark / y, 1.0) - 1.0)
    soft = soft * lift[..., None]
    # the dark under the teeth as soft as the photo: the line's shade spread up and down by the
    # photo's blur (``blur`` beyond the fill's own, FILL_BLUR), as deep as a line at FILL_BLUR and
    # as much shade in all as that line, spread shallower on a softer photo
    line = 1.0 - under_shade(soft @ _LUMA.astype(np.float32), inside > 0, dark)
    s_line = max(sigma, float(np.hypot(FILL_BLUR, blur)))
    ky, k0 = 2 * int(np.ceil(3.0 * s_line)) + 1, 2 * int(np.ceil(3.0 * FILL_BLUR)) + 1
    peak = float(cv2.getGaussianKernel(k0, FILL_BLUR)[k0 // 2, 0])
    spread = np.minimum(cv2.GaussianBlur(line, (1, ky), 0, sigmaY=s_line) / peak, 1.0)
    soft = soft * (1.0 - w_s * spread * op)[..., None]
    soft = np.clip(np.round(soft), 0, unit)
    if crop.ndim == 2:
        out[by0:by1, bx0:bx1] = (soft @ _LUMA.astype(np.float32)).round().astype(out.dtype)
    else:
        out[by0:by1, bx0:bx1, :3] = soft.astype(out.dtype)


def under_shade(y: np.ndarray, inside: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """What each pixel of luma ``y`` is multiplied by (1 but at the opening's lower edge): the
    lowest pixel of ``inside`` in each of its columns but the :data:`SMALL_EDGE_UNDER_SPAN` at
    either end (the corners) no lighter than :data:`SMALL_EDGE_UNDER` of the median luma of the
    lower lip 4-7 px below it, nor darker than ``floor`` (:func:`small_edge`'s lips' own dark);
    columns under :data:`SMALL_EDGE_UNDER_MIN` px high left as they are."""
    f = np.ones(y.shape, np.float32)
    cols = np.flatnonzero(inside.any(0))
    cut = int(np.ceil(SMALL_EDGE_UNDER_SPAN * cols.size))
    if cols.size - 2 * cut < 1:
        return f
    # (a slit's lowest row is the teeth themselves; all columns at once, :mod:`.columns`)
    return shade_under(f, y, inside, cols[cut:cols.size - cut], SMALL_EDGE_UNDER_MIN, SMALL_EDGE_UNDER, floor)


def row_under(pixels: np.ndarray, roi, opening: np.ndarray, lip: np.ndarray, wd: float) -> tuple[float, float]:
    """How the photo just under an opening (``opening``, float 0..1 over ``roi`` = (x0, y0, x1,
    y1) of ``pixels``; corners ``wd`` px apart) differs from the lips (``lip``, unit RGB), read
    from 1 px to 3 % of ``wd`` (at least 2 px) under each column's lowest pixel: the
    90th-percentile luma over ``lip``'s, and how much less red (red over luma) the median
    colour of its brightest tenth is than ``lip``."""
    x0, y0, x1, y1 = (int(v) for v in roi)
    op = np.asarray(opening, np.float32) > 0.5
    cols = np.flatnonzero(op.any(0))
    if cols.size == 0:
        return 0.0, 0.0
    d = max(2, int(round(0.03 * wd)))
    bottom = y0 + (op.shape[0] - 1 - np.argmax(op[::-1, cols], 0))
    rows = np.clip(bottom[None, :] + np.arange(1, d + 1)[:, None], 0, pixels.shape[0] - 1)
    px = pixels[rows, np.broadcast_to(x0 + cols, rows.shape)].astype(np.float64) / pixel_max(pixels.dtype)
    rgb = np.repeat(px[..., None], 3, -1) if px.ndim == 2 else px[..., :3]
    luma = rgb @ _LUMA
    top = float(np.percentile(luma, 90))
    c = np.median(rgb[luma >= top], 0)
    lip = np.asarray(lip, np.float64)
    lip_l = max(float(lip @ _LUMA), 1e-3)
    return top / lip_l, float(lip[0] / lip_l - c[0] / max(float(c @ _LUMA), 1e-3))


def carried_row(pixels: np.ndarray, roi, opening: np.ndarray, lip: np.ndarray, wd: float, tn: MouthTuning,
                photo_scale: float = 1.0) -> bool:
    """Whether a small face's (:func:`small_weight` of ``wd`` at ``photo_scale`` over 0) opening to be filled as a
    smile has the face's own teeth just under it (:func:`row_under` at least
    ``tn.carried_row_light`` and ``tn.carried_row_less_red``): teeth the Face Mesh's lower inner
    lip lay above, carried down with the lower lip, which stand under the smile's rows as a
    second, lit one (London 008 smiling at 64 and 96 px read 1.39, 0.14 and 1.56, 0.20; 061
    smiling at 64-128 px 1.16-2.36, 0.10-0.20; their neutral faces -0.10-0.03 less red; three
    of the wheels' smiling faces read over both too: two of group_t1's, corners 38 and 32 px
    apart, 1.18, 0.09 and 1.38, 0.28, and group_five's man, 1.43, 0.14)."""
    if small_weight(wd, photo_scale) <= 0.0:
        return False
    light, less_red = row_under(pixels, roi, opening, lip, wd)
    return light >= tn.carried_row_light and less_red >= tn.carried_row_less_red
