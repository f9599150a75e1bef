"""Mouth interiors from real exemplars: what fills the hole a warp opens between the lips.

(The measurements the bank's builder :mod:`faceedit.train.mouths` shares with it, its file and
columns, and the seam of closed lips are in :mod:`faceedit.stage.mouth`; what a photo's mouth
shows and the lip curves both read are in :mod:`faceedit.stage.lips`.)

The bank (``weights/mouths.safetensors``, built by :mod:`faceedit.train.mouths` from the London
smiles) holds real mouth interiors cut from 1350-px photos at a normalised scale (inner-lip
corner distance :data:`faceedit.stage.mouth.BANK_WIDTH` px, corners level), each with its inner-lip curves, a soft
interior mask and descriptors (opening shape and size, teeth brightness, lip and skin colour,
skin noise). :meth:`MouthBank.fill` paints one of them into an ``opening`` mask:

1. choose the exemplar by the opening's aspect and the skin tone around the mouth (and, with the
   face's landmarks, the opening's size in eye distances), unless the caller fixes one (a face track in a video);
2. map every destination pixel to (u, v): u along the mouth from the left corner (0) to the right
   (1), v from the upper inner lip (0) to the lower (1) -- a thin-plate spline through the two
   curves -- and read the exemplar at the same (u, v) of its own curves; the exemplar is first
   area-downsampled to the photo's scale (never upsampled into blur without grain);
3. openings much taller than the exemplar's (surprise, a dropped jaw) keep the exemplar's upper
   teeth at their own size under the upper lip (their lower part, down to the exemplar's own
   incisal edge: its tips and the notches between them, over at most a share of the opening's
   height; in the lip's shade, warm, the side teeth receding into the mouth's shadow), a hint
   of its lower row above the lower lip, and between them a
   cavity whose luminance is the bank's (u, v) profile measured on open mouths (statistics of
   greyscale JAFFE/Yale surprised faces) times the photo's skin luma, darkest at the throat
   under the upper teeth, with a smooth random texture, and in tall openings a tongue low in
   it, dark at its back and lighter towards its front; so are lower openings under a relaxed
   upper lip (parted lips, no smile) and openings under the face's own upper teeth (a small
   face's smile over its own teeth is painted whole instead:
   :func:`~faceedit.stage.teeth_look.small_smile`);
4. a soft shadow under the upper lip and darker corners (on a small face's smile, the lip's
   shadow a photo pixel deep and the lower row in shade:
   :func:`~faceedit.stage.teeth_look.small_teeth_shade`), the cavity lit just under the upper
   teeth; over an open mouth each lip's inner margin, a rim of the lips' local colour that
   darkens into the interior, and the parted crease's dark line on the lips just outside the
   opening lifted to their colour, and under a relaxed mouth into which a smile was carried
   the lower lip's inner margin (the smile's lower teeth's tips and the gaps between them)
   covered by the lip, lit along the opening's curve, the cavity's floor lit off it
   (:mod:`faceedit.stage.lower_margin`); where the opening is a thin gap the lips meeting, not
   the cavity: under carried teeth in the closed lips' shade, toward an open mouth's corners
   over a dark that narrows to a point (:mod:`faceedit.stage.lip_rims`, :mod:`~faceedit.stage.lips_meet`);
5. colour and exposure: a part of the exposure change from the exemplar's lip and skin rings to
   the destination's (a darkening only as far as the eye whites are darker), the white balance from the eye whites (with landmarks; else half-way from
   the rings), limited; a smile's teeth no brighter than real teeth beside the photo's eye whites
   (and skin), no bluer, no more saturated and, eyes open, not much less red than its eye whites
   (:func:`~faceedit.stage.teeth_look.teeth_cap`, :func:`~faceedit.stage.teeth_look.warm_to_sclera`,
   :func:`~faceedit.stage.teeth_look.limit_chroma`);
   then sharpness and noise: a smile's teeth blurred by the photo's own blur beyond the fill's
   (:func:`~faceedit.stage.blur_reading.photo_blur`, also widening the edge's blur; a small face's
   open mouth, lighter, :func:`~faceedit.stage.cavity.small_open`, inside its edge), grain added (or a blur) so the filled
   interior carries the destination skin's high-pass noise, and the opening's edge blurred
   from inside (``edge_focus`` px) as the lips' edges are.

Only pixels where ``opening > 0`` change, and around an open mouth the lips' edge within
``rim_outside`` of it (lifted where darker than the lips) and, under the face's own teeth and
a relaxed lip, the lower lip's margin just under it (shaded where lighter); the result in the opening is
``photo * (1 - opening) + fill * opening``. Greyscale photos stay grey; uint8 and uint16 both work; the same inputs give the same
output (the grain is seeded by the inputs).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from faceedit.faces.landmarks import eye_distance
from faceedit.pixels import LUMA_WEIGHTS, from_unit, pixel_max
from faceedit.stage.blur_reading import photo_blur
from faceedit.stage.cavity import black_floor, draw_cavity, open_blur, photo_black, small_open
from faceedit.stage.cut_curves import opening_polygon
from faceedit.stage.lip_rims import (
    along_row,
    bare_top,
    column_gaps,
    lift_margin,
    lip_at,
    lip_field,
    lip_shade,
    rims,
    shade_below,
    shade_teeth_beside,
    smoothstep,
    teeth_below,
)
from faceedit.stage.lips import box_around, join_corners, opening_aspect, sample_points
from faceedit.stage.lips_meet import lip_above, meeting
from faceedit.stage.lower_margin import cover_lower_row, lower_falloff
from faceedit.stage.mouth import (
    BANK_WIDTH,
    DESCRIPTORS,
    SCLERA_SKIN,
    SKIN_RING,
    ring_stats,
    sclera_colour,
    skin_round_mouth,
    whites_shown,
)
from faceedit.stage.paint import looks_grey
from faceedit.stage.small_cavity import open_edge, soft_smile_edge
from faceedit.stage.teeth_ends import row_end_fade
from faceedit.stage.teeth_few import few_teeth, few_weight
from faceedit.stage.teeth_look import (
    carried_row,
    incisal_edge,
    limit_chroma,
    small_detail,
    small_edge,
    small_teeth_shade,
    small_weight,
    smile_sides,
    teeth_cap,
    to_seen_teeth,
    under_skin_cast,
    warm_darks,
    warm_to_sclera,
)
from faceedit.stage.teeth_tone import thin_row_tone
from faceedit.stage.tuning import MouthTuning
from faceedit.stage.warp import ThinPlateSpline

_LUMA = np.asarray(LUMA_WEIGHTS, np.float32)


# --------------------------------------------------------------------------------------------
# the bank


@dataclass
class MouthBank:
    """Real mouth interiors and what :meth:`fill` needs to paint them into a photo.

    ``images`` (N,H,W,3) uint8 crops at :data:`~faceedit.stage.mouth.BANK_WIDTH` px corner distance; ``masks`` (N,H,W)
    uint8 soft interior masks; ``upper`` / ``lower`` (N,K,2) float32 inner-lip curves in crop
    pixels; ``descriptors`` (N,D) float32 named by :data:`DESCRIPTORS`; ``cavity`` (V,U) float32
    luminance of an open mouth's interior relative to the skin over (v, u); ``cavity_rgb`` (3,)
    the colour of the dark interior relative to its luma; ``subjects`` the source ids."""

    images: np.ndarray
    masks: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    descriptors: np.ndarray
    cavity: np.ndarray
    cavity_rgb: np.ndarray
    subjects: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ io

    @classmethod
    def load(cls, path: str | Path | None = None) -> MouthBank:
        """Read a bank written by :meth:`save` (default: the shipped :data:`~faceedit.stage.mouth.BANK_FILE` in the
        weights folder: ``$FACEEDIT_WEIGHTS``, a checkout's ``weights/``, or an installed one)."""
        from safetensors import safe_open

        from faceedit.weights import shipped_file

        path = Path(path) if path is not None else shipped_file("mouths")
        with safe_open(str(path), framework="numpy") as f:
            meta = dict(f.metadata() or {})
            t = {k: f.get_tensor(k) for k in f.keys()}
        names = json.loads(meta.get("descriptors", "[]"))
        if tuple(names) != DESCRIPTORS:
            raise ValueError(f"{path}: descriptor columns {names} are not {list(DESCRIPTORS)}")
        return cls(t["images"], t["masks"], t["upper"], t["lower"], t["descriptors"], t["cavity"],
                   t["cavity_rgb"], json.loads(meta.get("subjects", "[]")), meta)

    def save(self, path: str | Path, meta: dict | None = None) -> None:
        from safetensors.numpy import save_file

        header = {**self.meta, **(meta or {}), "descriptors": json.dumps(list(DESCRIPTORS)),
                  "subjects": json.dumps(self.subjects), "bank_width": str(BANK_WIDTH)}
        save_file({"images": np.ascontiguousarray(self.images, np.uint8),
                   "masks": np.ascontiguousarray(self.masks, np.uint8),
                   "upper": np.ascontiguousarray(self.upper, np.float32),
                   "lower": np.ascontiguousarray(self.lower, np.float32),
                   "descriptors": np.ascontiguousarray(self.descriptors, np.float32),
                   "cavity": np.ascontiguousarray(self.cavity, np.float32),
                   "cavity_rgb": np.ascontiguousarray(self.cavity_rgb, np.float32)},
                  str(path), metadata=header)

    def __len__(self) -> int:
        return len(self.images)

    def desc(self, name: str) -> np.ndarray:
        return self.descriptors[:, DESCRIPTORS.index(name)]

    # ------------------------------------------------------------------ choice

    def choose(self, aspect: float, *, size_ed: float | None = None, skin: np.ndarray | None = None,
               tuning: MouthTuning | None = None) -> int:
        """Index of the exemplar nearest to an opening of ``aspect`` (mean height / corner
        distance); ``size_ed`` (corner distance in eye distances) and ``skin`` (unit RGB of the
        skin ring) weigh in when given, each by ``tuning``'s tolerance. Openings taller than the
        bank pick among its tallest."""
        tuning = tuning if tuning is not None else MouthTuning()
        a = self.desc("aspect").astype(np.float64)
        d = np.log(min(aspect, a.max()) + tuning.aspect_offset) - np.log(a + tuning.aspect_offset)
        # an exemplar shorter than the opening is stretched (or filled as a wide-open mouth):
        # worse than a taller one squeezed
        score = (d / np.where(d > 0, tuning.aspect_tolerance_stretched, tuning.aspect_tolerance_squeezed)) ** 2
        if size_ed is not None:
            score += ((np.log(size_ed) - np.log(self.desc("width_ed"))) / tuning.size_tolerance) ** 2
        if skin is not None:
            es = np.stack([self.desc("skin_r"), self.desc("skin_g"), self.desc("skin_b")], 1)
            s = np.asarray(skin, np.float64)
            lum_d, lum_e = float(s @ _LUMA), es @ _LUMA
            chroma = s / max(lum_d, 1e-3) - es / np.maximum(lum_e, 1e-3)[:, None]
            score += (np.log(max(lum_d, 1e-3) / np.maximum(lum_e, 1e-3)) / tuning.skin_luma_tolerance) ** 2
            score += (np.linalg.norm(chroma, axis=1) / tuning.skin_chroma_tolerance) ** 2
        return int(np.argmin(score))

    # ------------------------------------------------------------------ fill

    def fill(self, pixels: np.ndarray, roi, opening: np.ndarray, upper: np.ndarray, lower: np.ndarray,
             *, face_lm: np.ndarray | None = None, exemplar: int | None = None,
             own_teeth: bool = False, teeth_cover: float = 0.0, tuning: MouthTuning | None = None,
             in_place: bool = False, sclera: np.ndarray | None = None, whites_open: bool | None = None,
             photo_scale: float = 1.0, seen: Callable[[], np.ndarray | None] | None = None
             ) -> tuple[np.ndarray, int]:
        """A new photo with ``opening`` (float 0..1 over ``roi`` = (x0, y0, x1, y1)) painted with
        a real mouth interior fitted between the destination inner-lip curves ``upper`` and
        ``lower`` ((N,2) photo coordinates, left corner first). ``face_lm``: the face's 68
        landmarks (the opening's size in eye distances joins the exemplar's choice); ``sclera``: the
        photo's eye whites (unit RGB (3,), :func:`~faceedit.stage.mouth.sclera_colour`) read before
        any warp (a smile narrows the eyes and mixes lid into them; default: read from ``pixels``
        at ``face_lm``); ``whites_open``: the eyes showed their whites (:func:`~faceedit.stage.mouth.whites_shown`,
        default: at ``face_lm``); ``exemplar``: use this bank index; ``photo_scale``: the photo's own
        pixels per pixel of ``pixels`` (over 1 on a preview scaled down from it), at which a small
        face's choices read the opening's size (:func:`~faceedit.stage.teeth_look.small_weight`);
        ``seen``: what returns the teeth the photo shows (unit RGB (3,) or None,
        :func:`~faceedit.stage.teeth_look.seen_teeth`, read before any warp), called for a smile alone: its
        teeth's brightness cap is at least theirs (:func:`~faceedit.stage.teeth_look.teeth_cap`), and where the
        eyes show no whites (``whites_open`` false: what is read there is mostly lid and skin) they take those
        teeth's colour (:func:`~faceedit.stage.teeth_look.to_seen_teeth`) rather than the eye whites'.
        ``own_teeth``: the face's own upper teeth are already shown in the opening (carried with its
        upper lip): paint what lies below them in an open mouth (the cavity, a hint of the lower
        row), not a second row of upper teeth. ``teeth_cover`` (0..1): in a wide-open mouth, that
        share of the exemplar's upper teeth lies under the upper lip (a relaxed lip, as in
        surprise; 0: their whole depth shows, as a smile lifts the lip off them), and the hint of
        the lower row's tips fades with twice it (a relaxed lower lip covers them: gone at 0.5).
        ``tuning``: how the interior is chosen and drawn (:class:`faceedit.stage.tuning.MouthTuning`;
        default its defaults). Returns (pixels, exemplar index). Pixels where ``opening == 0`` are
        left as they were, but for an open mouth's lips within ``rim_outside`` of the opening,
        lifted where darker than the lips (:func:`faceedit.stage.lip_rims.lift_margin`), and with
        ``own_teeth`` and ``teeth_cover`` from ``open_cover`` the lower lip's margin under it,
        shaded where lighter (:func:`faceedit.stage.lip_rims.shade_below`) and what the smile
        carried there covered by the lip (:func:`faceedit.stage.lower_margin.cover_lower_row`). The
        pixels returned are a new array, or ``pixels`` written over with ``in_place`` (a
        buffer the caller owns)."""
        tuning = tuning if tuning is not None else MouthTuning()
        pixels = np.asarray(pixels)
        unit = pixel_max(pixels.dtype)
        x0, y0, x1, y1 = (int(v) for v in roi)
        op = np.clip(np.asarray(opening, np.float32), 0.0, 1.0)
        if op.shape != (y1 - y0, x1 - x0):
            raise ValueError(f"opening is {op.shape}, roi {roi} needs {(y1 - y0, x1 - x0)}")
        if face_lm is not None and np.shape(face_lm) != (68, 2):
            raise ValueError(f"face_lm must be the 68 iBUG landmarks (68, 2), got {np.shape(face_lm)}")
        rgb = pixels[..., None].repeat(3, -1) if pixels.ndim == 2 else pixels[..., :3]
        up, lo = join_corners(np.asarray(upper, np.float64), np.asarray(lower, np.float64))
        if up[0, 0] > up[-1, 0]:  # given right corner first: the exemplar's left goes left
            up, lo = up[::-1].copy(), lo[::-1].copy()
        aspect, wd = opening_aspect(up, lo)

        # the destination's colour and noise around the mouth (a local window of the photo)
        poly = opening_polygon(up, lo)
        wx0, wy0, wx1, wy1 = box_around(np.vstack([poly, [[x0, y0], [x1 - 1, y1 - 1]]]),
                                     SKIN_RING[1] * wd + 4, pixels.shape)
        off = np.array([wx0, wy0], np.float64)
        rings = ring_stats(rgb[wy0:wy1, wx0:wx1], up - off, lo - off)
        if face_lm is not None:
            rings = skin_round_mouth(rgb, rings, face_lm)  # (a beard's ring: the cheeks')
        if sclera is None and face_lm is not None:
            sclera = sclera_colour(pixels, face_lm)
        rings["sclera"] = None if sclera is None else np.asarray(sclera, np.float64)[:3]
        grey = pixels.ndim == 2 or looks_grey(rgb[wy0:wy1, wx0:wx1])
        rings["small"] = small_weight(wd, photo_scale)  # a small face (its open mouth reads the blur)
        rings["few"] = few_weight(eye_distance(face_lm), photo_scale) if face_lm is not None else 0.0

        if exemplar is None:
            size_ed = wd / eye_distance(face_lm) if face_lm is not None else None
            exemplar = self.choose(aspect, size_ed=size_ed, skin=rings["skin"], tuning=tuning)
        exemplar = int(exemplar)
        if not 0 <= exemplar < len(self):
            raise IndexError(f"exemplar {exemplar} not in a bank of {len(self)}")
        ys, xs = np.nonzero(op > 0)
        out = pixels if in_place else pixels.copy()
        if len(ys) == 0:
            return out, exemplar
        cover = float(np.clip(teeth_cover, 0.0, 1.0))
        smile = not self._opens(exemplar, aspect, own_teeth, cover, tuning)
        # a smile's teeth as soft as the photo round them and no brighter than its eye whites (or its own teeth)
        rings["cap"] = smile
        rings["seen"] = seen() if smile and seen is not None and not grey else None
        # a small face's own teeth carried down with the lower lip: lit, a second row under the smile
        carried = smile and not own_teeth and carried_row(out, (x0, y0, x1, y1), op, rings["lip"], wd, tuning,
                                                                   photo_scale)
        # the photo's blur round the opening (an open mouth's only on a small face) and its black
        # (an open mouth's cavity's)
        rings["blur"] = (photo_blur(rgb[wy0:wy1, wx0:wx1], poly - off)
                         if smile or rings["small"] > 0.0 else 0.0)
        rings["black"] = None if smile else photo_black(pixels, face_lm)
        if not smile:  # a small face's open mouth at the photo's focus, its cavity and rims lighter
            rings["blur"] = open_blur(rings["blur"], wd, photo_scale)
            tuning = small_open(tuning, wd, cavity=not own_teeth, photo_scale=photo_scale)
            # the lips' own colour round the opening: the rims' colour, and the parted crease's
            # dark line lifted to it before the opening's anti-aliased edge is blended over it
            rings["lip_field"] = lip_field(out, (x0, y0, x1, y1), up, lo, wd, rings["lip"], tuning)
            box, field, near, target, _ = rings["lip_field"]
            out = lift_margin(out, box, field, near, target, in_place=True)  # ``out`` is this call's own
            if own_teeth and cover >= tuning.open_cover:  # a smile carried into a relaxed mouth
                out = shade_below(out, (x0, y0, x1, y1), op, wd, tuning, in_place=True)
                out = shade_teeth_beside(out, box, target, up, lo, rings["lip"], tuning.teeth_beside_reach * wd,
                                         in_place=True)
                out = cover_lower_row(out, (x0, y0, x1, y1), op, wd, rings["lip"], tuning, in_place=True)
            rgb = out[..., None].repeat(3, -1) if out.ndim == 2 else out[..., :3]
        gap, above = column_gaps(op)
        if not smile:  # an open mouth's column heights, smoothed along the row (no steps at teeth's edges)
            gap = along_row(gap, op > 0, tuning.column_smooth * wd)
        teeth = (teeth_below(out, (x0, y0, x1, y1), op, rings["lip"], wd, tuning.column_smooth * wd)[ys, xs]
                 if own_teeth else None)
        rings["lip_above"] = lip_above(out, (x0, y0, x1, y1), op, rings["lip"], wd, tuning)[ys, xs] if own_teeth else None
        fill = self._render(exemplar, xs + x0, ys + y0, up, lo, wd, aspect, rings,
                            seed=(x0, y0, x1, y1, exemplar, len(ys)), own_teeth=own_teeth,
                            cover=cover, tuning=tuning, below_top=above[ys, xs], gap=gap[ys, xs], teeth=teeth,
                            photo_scale=photo_scale)
        if grey:
            fill = np.repeat((fill @ _LUMA)[:, None], 3, 1)
        elif smile and (rings["sclera"] is not None or rings["seen"] is not None):
            red = whites_shown(face_lm) if whites_open is None and face_lm is not None else bool(whites_open)
            if rings["seen"] is not None and (not red or rings["sclera"] is None):  # squinted whites are lid: its teeth
                fill = to_seen_teeth(fill, rings["seen"], tuning)
            else:
                fill = limit_chroma(warm_to_sclera(fill, rings["sclera"], red), rings["sclera"])
                fill = under_skin_cast(fill, rings["skin"])  # sharing the skin's cast where the eyes' balance stops
        if smile and not grey:  # its gaps, corridor and corners in the mouth's warm shade
            fill = warm_darks(fill, rings["lip"], tuning, rings.pop("lip_cover", None))
        a = op[ys, xs][:, None]
        dst = rgb[ys + y0, xs + x0].astype(np.float32) / unit
        new = from_unit(np.clip(dst * (1 - a) + fill * a, 0, 1), pixels.dtype)
        if pixels.ndim == 2:
            out[ys + y0, xs + x0] = new[:, 0]
        else:
            out[ys + y0, xs + x0, :3] = new
        if tuning.edge_focus > 0:
            open_edge(out, (x0, y0, x1, y1), op, tuning, rings, wd, photo_scale, smile=smile, own_teeth=own_teeth)
        if smile:  # a small face's smile: the photo's blur, the lips' dark (never an open mouth's cavity)
            if carried:  # the second row taken into the lower lip's shade
                out = shade_below(out, (x0, y0, x1, y1), op, wd, tuning, in_place=True)
            small_edge(out, (x0, y0, x1, y1), op, wd, photo_scale, rings["blur"])
            soft_smile_edge(out, (x0, y0, x1, y1), op, tuning, rings["blur"])  # a soft photo's: both sides
        return out, exemplar

    def _opens(self, e: int, aspect: float, own_teeth: bool, cover: float, tn: MouthTuning) -> bool:
        """Whether an opening is drawn as an open mouth (teeth under the upper lip, a cavity,
        the lips' rims) rather than exemplar ``e`` read whole: the face's own teeth shown above
        it, an opening much taller than the exemplar's, or a relaxed upper lip (a mouth with
        no smile is an open mouth at any height: parted lips over the teeth's edges, not a
        smile's rows squeezed into a slit)."""
        return own_teeth or aspect > tn.large_ratio * float(self.desc("aspect")[e]) or cover >= tn.open_cover

    def _render(self, e: int, px: np.ndarray, py: np.ndarray, up: np.ndarray, lo: np.ndarray, wd: float,
                aspect: float, rings: dict, seed, own_teeth: bool, cover: float, tuning: MouthTuning,
                below_top: np.ndarray | None = None, gap: np.ndarray | None = None,
                teeth: np.ndarray | None = None, photo_scale: float = 1.0) -> np.ndarray:
        """Unit RGB (n,3) of exemplar ``e`` at photo pixels (px, py) of the opening;
        ``below_top``: how far (px) each lies below the opening's top edge in its column (under
        the face's own teeth carried into it, the teeth's edge); ``gap``: the height (px) of
        its column (:func:`faceedit.stage.lip_rims.column_gaps`; thin gaps are the lips meeting,
        :func:`faceedit.stage.lip_rims.meet`); ``teeth``: where teeth lie below its column (a
        smile's lower row, with the face's own upper teeth; :func:`~faceedit.stage.lip_rims.teeth_below`),
        no lower lip's rim; ``photo_scale``: as :meth:`fill` takes it."""
        tn = tuning
        n = len(up)
        u_k = np.linspace(0.0, 1.0, n)
        # (u, v) of every pixel: a thin-plate spline through the curves (corners at v = 1/2)
        mid = (up + lo) / 2
        src = np.vstack([up[1:-1], lo[1:-1], mid[1:-1], up[[0, -1]]])
        dst = np.vstack([np.c_[u_k[1:-1], np.zeros(n - 2)], np.c_[u_k[1:-1], np.ones(n - 2)],
                         np.c_[u_k[1:-1], np.full(n - 2, 0.5)], [[0.0, 0.5], [1.0, 0.5]]])
        uv = ThinPlateSpline(src, dst, reg=1e-4)(np.stack([px, py], 1).astype(np.float64))
        u, v = np.clip(uv[:, 0], 0.0, 1.0), uv[:, 1]

        eu, el = self.upper[e].astype(np.float64), self.lower[e].astype(np.float64)
        ue = np.linspace(0.0, 1.0, len(eu))
        we = float(np.linalg.norm(eu[-1] - eu[0]))
        k = wd / we  # destination px per bank px
        img = self.images[e]
        if k < 1.0:  # area-downsample first: the photo is coarser than the bank
            h, w = img.shape[:2]
            size = (max(1, round(w * k)), max(1, round(h * k)))
            img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
            ks = (size[0] / w, size[1] / h)
            if not self._opens(e, aspect, own_teeth, cover, tn):  # a small face's smile: its separations
                img = small_detail(img, float(rings.get("small", 0.0)), tn.small_teeth_sharpen, rings["blur"])
        else:
            ks = (1.0, 1.0)
        src_img = img.astype(np.float32) / 255.0

        def at(curve, uu):
            return np.stack([np.interp(uu, ue, curve[:, 0]), np.interp(uu, ue, curve[:, 1])], 1)

        def sample(pts):
            s = sample_points(src_img, pts[:, 0] * ks[0], pts[:, 1] * ks[1], cv2.INTER_CUBIC, cv2.BORDER_REFLECT)
            return np.clip(s, 0.0, 1.0)

        pu, pl = at(eu, u), at(el, u)
        he = np.linalg.norm(pl - pu, axis=1)  # exemplar column height (bank px)
        hd = np.interp(u, u_k, np.linalg.norm(lo - up, axis=1))  # destination column height (px)
        t = v * hd  # px below the destination upper lip
        large = self._opens(e, aspect, own_teeth, cover, tn)
        gains = self._gains(e, rings, tn)
        if not large:
            # read the exemplar inside its curves (edge_inset bank px from the corners and the
            # lower lip, twice that from the upper, whose edge runs over the gum between the
            # teeth): its colour-refined edges still hold a trace of its own lips, which the
            # destination's lips around the opening replace
            inset = tn.edge_inset
            uu = inset / we + u * (1 - 2 * inset / we)
            pu, pl = at(eu, uu), at(el, uu)
            he_in = np.linalg.norm(pl - pu, axis=1)
            top = np.where(he_in > 6 * inset, 2 * inset / np.maximum(he_in, 1e-6), 0.0)
            bottom = np.where(he_in > 6 * inset, inset / np.maximum(he_in, 1e-6), 0.0)
            lit = np.clip(float(self.desc("upper_depth")[e]) / np.maximum(he, 1e-6), 0.0, 1.0) * hd
            col = sample(pu + (top + v * (1 - top - bottom))[:, None] * (pl - pu))
            # a small face: the upper lip's shadow and the lower row in shade, not a flat plate
            lip_rgb = np.asarray(rings["lip"], np.float64) / np.maximum(gains, 1e-6)
            col = col * small_teeth_shade(t, wd, lit, lip_rgb, tn.teeth_bounce, u, photo_scale).astype(col.dtype)
            # the side teeth in the mouth's shadow, the lips meeting at the corners
            sides, close, lip_cover = smile_sides(u, lip_rgb, tn, v, hd, 1.0 - float(rings["small"]))
            col = col * sides.astype(col.dtype)
            col = few_teeth(col, u, lip_rgb, float(rings.get("few", 0.0)))  # a very small face: a few front teeth
            shadow, corner = tn.lip_shadow, tn.corner_shadow
        else:
            # wide open: upper teeth at their own size, a hint of the lower row, a cavity between
            depth = np.minimum(he, float(self.desc("upper_depth")[e]))
            # the exemplar's own incisal edge down each column (its teeth's shapes and the
            # notches between their tips); ``front``: its front teeth's
            eu_k, er_k, row_k = incisal_edge(self.upper[e], self.lower[e], self.images[e], float(
                self.desc("upper_depth")[e]), float(self.desc("teeth_luma")[e]), tn, k)
            er, row = np.interp(u, eu_k, er_k), np.interp(u, eu_k, row_k)
            front = float(row_k[(eu_k > 0.35) & (eu_k < 0.65)].max())
            # a relaxed lip covers the teeth from the gum: the front teeth show down to their edge over at most
            # upper_teeth_share of the column; the shorter side teeth less, by incisal_follow of their shortfall
            # covered less (a lip as deep on each hid all but the front teeth's tips in a thin opening, cut off at
            # one tooth's side)
            seen = np.minimum((1.0 - cover) * front, tn.upper_teeth_share * hd / k)
            te = t / k + front - seen - tn.incisal_follow * (front - row)
            # each column ends at its own edge over upper_teeth_fade_width of the depth (a pixel at least): the cavity
            # shows below the tips and up the gaps between them
            side_lit = smoothstep(tn.side_teeth_to, tn.side_teeth_from, np.minimum(u, 1.0 - u))
            fw = np.maximum(tn.upper_teeth_fade_width * depth, 0.5 / k)
            shown = 1.0 - min(1.0, cover / tn.side_teeth_cover) * (1.0 - side_lit)
            a_up = (1.0 - smoothstep(0.0, 1.0, (te - er + fw) / (2.0 * fw))) * shown
            bare = 0.0 if own_teeth else bare_top(te - t / k, er, fw, shown)
            # in the upper lip's shade (a relaxed lip does not lift them into the light), the incisal edge a
            # little darker (translucent), the side teeth receding into shadow, the row's last teeth darker
            tint = (tn.open_teeth_shade * (tn.side_teeth_shade + (1.0 - tn.side_teeth_shade) * side_lit)
                    * (1.0 - tn.incisal_shade * smoothstep(0.0, 1.0, 1.0 - (er - te) / max(tn.incisal_reach * front, 1.0)))
                    * row_end_fade(er - te + t / k, a_up, u, tn.row_end_span, tn.row_end_shade))
            # lit as a carried row in a thin opening; the shade warm, the darker a tooth the nearer real teeth's in shade
            tint, warm = thin_row_tone(tint, t, hd, wd, tn)
            upper_teeth = (tint[:, None] * warm) * sample(pu + np.c_[np.zeros_like(te), np.minimum(te, he)])
            if own_teeth:  # the face's own upper teeth are there already
                a_up = np.zeros_like(a_up)
            tl = (1.0 - v) * hd / k
            lower_teeth = sample(pl - np.c_[np.zeros_like(tl), np.minimum(tl, he)])
            low_depth = np.clip(he - depth, 0.0, tn.lower_teeth_depth * he)
            fade = tn.lower_teeth_fade * low_depth
            a_lo = tn.lower_teeth_opacity * (1.0 - smoothstep(0.0, 1.0, (tl - fade) / np.maximum(fade, 1.0)))
            # a relaxed lower lip covers them
            a_lo *= (low_depth > tn.lower_teeth_min_depth) * max(0.0, 1.0 - tn.lower_teeth_cover_rate * cover)
            # the tongue's luma follows the photo's lips and the cavity's its skin, not the exemplar's: the gains
            # keep teeth bright on dark skin, where a tongue or a cavity as bright would glow
            g_l = max(float(gains @ _LUMA), 1e-6)
            lip_luma = float(np.asarray(rings["lip"], np.float64) @ _LUMA) / g_l
            skin_luma = float(np.asarray(rings["skin"], np.float64) @ _LUMA) / g_l
            cav = draw_cavity(self.cavity, self.cavity_rgb, u, v, seed, tn, lip_luma, skin_luma, hd / wd)
            col = cav * (1 - a_lo[:, None]) + lower_teeth * a_lo[:, None]
            col = col * (1 - a_up[:, None]) + upper_teeth * a_up[:, None]
            # the back of the upper teeth and the palate behind them catch the light coming in:
            # just under the teeth's edge the cavity is lit, darkest further back
            if own_teeth and below_top is not None:
                below = np.asarray(below_top, np.float64)
            else:
                below = np.maximum(t - (er - te + t / k) * k, 0.0)
            a_lit = (tn.under_teeth_light * np.exp(-below / max(tn.under_teeth_reach * wd, 0.5))
                     * (1.0 - a_up) * (1.0 - a_lo))
            drawn = (1.0 - a_up) * (1.0 - a_lo)  # the cavity and tongue: drawn, no exemplar's grain
            shadow, corner = tn.open_lip_shadow, tn.open_corner_shadow
        shade = lip_shade(t, wd, shadow, tn.lip_shadow_reach)  # under the upper lip; the corners darker
        if large:  # the inner side of the lower lip, in shade
            shade *= 1.0 - tn.lower_lip_shade * np.exp(-np.maximum(hd - t, 0.0) / (tn.lower_lip_shade_reach * wd))
        corners = 1.0 - corner * np.exp(-np.minimum(u, 1.0 - u) / tn.corner_shadow_reach)
        col = col * (shade if large else shade * corners)[:, None]
        col = col * gains
        if large and rings.get("black") is not None:  # in the photo's flare and black level
            col = black_floor(col, tn.cavity_black * np.asarray(rings["black"]), drawn)
        lip = lip_at(rings, px, py)
        if large and own_teeth:  # the cavity's floor lit off the lower lip's margin
            col = lower_falloff(col, t, hd, wd, lip, tn)
        if not large:  # the upper lip over the crowns' tops, the lips meeting at the corners
            col = col * (1.0 - lip_cover[:, None]) + (tn.smile_cover_tone * lip) * lip_cover[:, None]
            col = col * (1.0 - close[:, None]) + (tn.smile_close_tone * lip) * close[:, None]
            rings["lip_cover"] = lip_cover * (1.0 - close)  # kept out of the dark's shade (:func:`warm_darks`)
        if large:
            col = col * (1.0 - a_lit[:, None]) + (tn.under_teeth_luma * lip) * a_lit[:, None]
            # the lips' rims too lie in the corners' shade (lit there they met in a light wedge)
            gain = float(rings["lip_field"][4]) if "lip_field" in rings else 1.0
            col = rims(col, u, t, hd, wd, lip, tn, teeth, gain, bare) * corners[:, None]
            # the lips close at the corners as a soft shadowed point, not the cavity's black
            # (by the distance to the nearer corner point: an opening that ends in a tall edge
            # closes there too)
            to_corner = np.minimum(np.hypot(px - up[0, 0], py - up[0, 1]), np.hypot(px - up[-1, 0], py - up[-1, 1]))
            close = 1.0 - smoothstep(0.0, max(tn.corner_close * wd, 1.0), to_corner)
            col = col * (1.0 - close[:, None]) + (tn.corner_close_tone * lip) * close[:, None]
        col = meeting(col, gap, below_top, wd, lip, tn, rings, large)
        return self._grain(col, px, py, k, e, rings, seed, drawn if large else None, tn.cavity_grain)

    def _gains(self, e: int, rings: dict, tn: MouthTuning) -> np.ndarray:
        """Per-channel gains taking the exemplar's colours towards the destination's. Exposure:
        the luma of the least-squares gains through the lip and skin rings; it differs with the
        photo's exposure but also with the person's skin (teeth stay bright on dark skin), so
        only a part of it is applied (``exposure_power``; ``brighten_power`` where it brightens:
        the person-to-person slope; within ``exposure_min``..``exposure_max``;
        the exemplar's choice matches the tone), and where it would darken the teeth, only as far
        as the eye whites are darker than the bank's (:meth:`_eye_exposure`, at most 1): darker
        skin with eye whites as bright as the bank's is the person's tone (in one studio exposure
        real teeth are as bright on the darkest skin as on the lightest). The eye whites alone,
        shaded by the lids, are too noisy to set the exposure. White balance: the
        chromaticity ratio of the eye whites when both are known (``rings["sclera"]``, from the
        face's landmarks) and of the ring gains, geometrically weighted (``sclera_weight``);
        else of the ring gains alone, part-way (``ring_chroma_power``: skin chromaticity is
        partly the person's); a cast (the channel ratios' logs) shorter than ``chroma_dead_zone``
        is taken as the person's, not the photo's, and the rest of its length moves the channels, at most
        ``chroma_limit`` from the luma gain (a wrong measurement cannot paint the teeth green). A
        smile's (``rings["cap"]``) teeth are no brighter than :func:`~faceedit.stage.teeth_look.teeth_cap`. The
        values are ``tn``'s (:class:`faceedit.stage.tuning.MouthTuning`)."""
        d = self.descriptors[e]
        lip_e = d[[DESCRIPTORS.index(c) for c in ("lip_r", "lip_g", "lip_b")]].astype(np.float64)
        skin_e = d[[DESCRIPTORS.index(c) for c in ("skin_r", "skin_g", "skin_b")]].astype(np.float64)
        lip_d, skin_d = np.asarray(rings["lip"], np.float64), np.asarray(rings["skin"], np.float64)
        g = (lip_e * lip_d + skin_e * skin_d) / np.maximum(lip_e**2 + skin_e**2, 1e-6)
        gl = max(float(g @ _LUMA), 1e-6)
        sc_e = d[[DESCRIPTORS.index(c) for c in ("sclera_r", "sclera_g", "sclera_b")]].astype(np.float64)
        sc_d = rings.get("sclera")
        exposure = gl ** (tn.exposure_power if gl < 1.0 else tn.brighten_power)
        # (an exemplar's whites read darker than SCLERA_SKIN of its skin ring were its iris and lids: london-013's
        # squint, 0.28; the rest 0.75-1.72)
        if (sc_d is not None and (sc_e > 0.02).all() and (np.asarray(sc_d) > 0.02).all()
                and float(sc_e @ _LUMA) >= SCLERA_SKIN * float(skin_e @ _LUMA)):
            ratio = np.asarray(sc_d, np.float64) / sc_e
            if exposure < 1.0:  # darker skin is a darker photo only as far as its eye whites are
                exposure = min(1.0, max(exposure, self._eye_exposure(sc_d)))
            eyes = ratio / max(float(ratio @ _LUMA), 1e-6)
            # both follow a change of white balance fully; their person-to-person errors average
            chroma = eyes**tn.sclera_weight * (g / gl) ** (1 - tn.sclera_weight)
        else:
            chroma = (g / gl) ** tn.ring_chroma_power
        # a dead zone: differences the size of the person-to-person spread are not a cast; taken
        # off the cast's length, not channel by channel (a warm cast's small drop in green kept,
        # or the teeth turn yellow-green)
        lc = np.log(np.maximum(chroma, 1e-6))
        size = float(np.linalg.norm(lc))
        chroma = np.exp(lc * max(size - tn.chroma_dead_zone, 0.0) / max(size, 1e-9))
        chroma = np.clip(chroma, 1 - tn.chroma_limit, 1 + tn.chroma_limit)
        exposure = float(np.clip(exposure, tn.exposure_min, tn.exposure_max))
        if rings.get("cap"):
            # a smile's teeth no brighter than real teeth beside the photo's own eye whites (or, where they cannot be
            # read, its skin)
            teeth_e = max(float(self.desc("teeth_luma")[e]), 1e-3)
            exposure = min(exposure, teeth_cap(sc_d, skin_d, rings.get("seen")) / teeth_e)
        return chroma * exposure

    def _eye_exposure(self, sclera: np.ndarray) -> float:
        """The photo's exposure read from its eye whites: their luma over the median of the
        bank's (one studio exposure; one exemplar's own eye whites, squinted by its smile, range
        0.17-0.72 and would make a poor reference)."""
        sc = np.stack([self.desc("sclera_r"), self.desc("sclera_g"), self.desc("sclera_b")], 1) @ _LUMA
        return float(np.asarray(sclera, np.float64) @ _LUMA) / max(float(np.median(sc)), 1e-3)

    def _grain(self, col: np.ndarray, px, py, k: float, e: int, rings: dict, seed,
               drawn: np.ndarray | None = None, grain: float = 1.0) -> np.ndarray:
        """Match the destination's high-pass noise: the exemplar's skin noise after resampling by
        ``k`` is its bank noise * k when downsampled (area averaging) or / k when upsampled; the
        difference is added as luma grain, or an excess is blurred away. ``drawn`` (n,): the
        share of each pixel drawn rather than read from the exemplar (a wide-open mouth's cavity
        and tongue, smooth but for their coarse texture), which gets the photo's grain whole: the
        skin ring's high-pass noise, as high in a photo's dark parts as on its skin (London
        neutrals, the nostrils' shadow at 0.07-0.16 luma against the cheeks: 0.5-2.8 times,
        median 1.5), times ``grain`` (:attr:`MouthTuning.cavity_grain`); ``rings["blur"]`` (px, the
        photo's blur beyond the fill's) joins any blur."""
        noise_e = float(self.desc("skin_noise")[e]) * (k if k < 1 else 1.0 / k)
        noise_d = float(rings["noise"])
        x0, y0 = int(px.min()), int(py.min())
        h, w = int(py.max()) - y0 + 1, int(px.max()) - x0 + 1
        canvas = np.zeros((h, w, 3), np.float32)
        canvas[py - y0, px - x0] = col
        sigma = 0.0
        if noise_e > 1.25 * noise_d and noise_e > 0:
            # a white noise's std falls by about 1 / (2 sqrt(pi) sigma) under a Gaussian blur
            sigma = float(np.clip(noise_e / max(noise_d, 1e-6) / (2 * np.sqrt(np.pi)), 0.3, 1.5))
        # and the photo's own softness beyond the fill's (a smile's teeth in a soft photo)
        sigma = float(np.hypot(sigma, rings.get("blur", 0.0)))
        if sigma > 0:
            filled = np.zeros((h, w), np.float32)
            filled[py - y0, px - x0] = 1
            num = cv2.GaussianBlur(canvas, (0, 0), sigma)
            den = cv2.GaussianBlur(filled, (0, 0), sigma)[..., None]
            canvas = np.where(den > 1e-3, num / np.maximum(den, 1e-3), canvas)
        # the grain each pixel carries: the exemplar's (after any blur, at most the photo's) in
        # the share read from it; the rest is added
        if sigma > 0:
            noise_e = noise_e * min(1.0, 1.0 / (2 * np.sqrt(np.pi) * sigma))
        share = np.zeros(len(px)) if drawn is None else np.asarray(drawn)
        carried = min(noise_e, noise_d) * (1.0 - share)
        add = np.zeros((h, w), np.float64)
        want = noise_d * (1.0 + (grain - 1.0) * share)  # the photo's darks: grainier than its skin ring reads
        add[py - y0, px - x0] = np.sqrt(np.maximum(want**2 - carried**2, 0.0))
        if add.max() > 0:
            rng = np.random.default_rng([abs(int(s)) for s in seed])
            canvas += (add * rng.standard_normal((h, w))).astype(np.float32)[..., None]
        return np.clip(canvas[py - y0, px - x0], 0.0, 1.0)
