"""Where a face grows a beard's hair, for the steps that take a laugh's shade away.

A laugh made neutral or surprised leaves its shade and folds beside the mouth; the steps that take
them away (:func:`faceedit.stage.smile.flatten_cheeks`, :func:`faceedit.stage.corners.lift_pockets`)
read them as what is darker than the skin around. A moustache and the beard beside the mouth are
darker too, and flattened or painted over they become bare patches of skin colour with a blurred
outline. :func:`beard_hair` tells the two apart: a face is bearded when its chin is darker than its
upper cheeks or its chin is stranded (a grey beard is nearly as light as the skin), and on a bearded
face hair is what is both dark and stranded (its fine relief stronger than the skin's); a laugh's
shade is dark and smooth, a crease as light as skin.
:func:`hair_strands` reads the strands darker than the skin, bearded or not (stubble's lines are not a fold's).
"""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.faces.landmarks import eye_centres, eye_distance
from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.tuning import EditTuning

_LUMA = np.asarray(LUMA_WEIGHTS, np.float32)


def _boxes(lm: np.ndarray, ed: float) -> tuple[list[tuple[int, int, int, int]], tuple[int, int, int, int]]:
    """The upper cheeks' boxes (below each eye, from 0.15 eye distances under its lower lid to the
    nose's tip, between the eye's corners) and the chin's (from a quarter to 0.8 of the way from
    the lower lip to the chin, between landmarks 7 and 9), (x0, y0, x1, y1) in the landmarks'
    frame, unclipped."""
    cheeks = []
    for a, b in ((36, 39), (42, 45)):
        low = float(lm[a:b + 1, 1].max()) + 0.15 * ed
        cheeks.append((int(round(lm[a, 0])), int(round(low)), int(round(lm[b, 0])), int(round(lm[30, 1]))))
    lip, chin = lm[57], lm[8]
    top, bottom = (int(round(lip[1] + f * (chin[1] - lip[1]))) for f in (0.25, 0.8))
    return cheeks, (int(round(lm[7, 0])), top, int(round(lm[9, 0])), bottom)


class BeardReading:
    """A face's luma over one region holding a box, its upper cheeks and its chin (margined for the blurs),
    and what is read off it, read once: the steps of one flattening (:func:`hair_strands`, :func:`beard_hair`,
    :func:`moustache`) share one reading of the same pixels, face and box."""

    def __init__(self, pixels: np.ndarray, lm: np.ndarray, box: tuple[int, int, int, int]):
        self.lm = np.asarray(lm, np.float64)
        self.ed = eye_distance(self.lm)
        self.box = box
        h, w = pixels.shape[:2]
        self.cheeks, self.chin = _boxes(self.lm, self.ed)
        pad = int(np.ceil(0.15 * self.ed))
        xs = [box[0], box[2]] + [c[0] for c in self.cheeks] + [c[2] for c in self.cheeks] + [self.chin[0], self.chin[2]]
        ys = [box[1], box[3]] + [c[1] for c in self.cheeks] + [c[3] for c in self.cheeks] + [self.chin[1], self.chin[3]]
        self.rx0, self.ry0 = max(min(xs) - pad, 0), max(min(ys) - pad, 0)
        self.rx1, self.ry1 = min(max(xs) + pad, w), min(max(ys) + pad, h)
        self.ok = self.rx1 > self.rx0 and self.ry1 > self.ry0
        self._light: dict[float, np.ndarray] = {}
        self._relief: dict[float, tuple[np.ndarray, float]] = {}
        self._bearded: dict[tuple, tuple[float, float] | None] = {}
        if self.ok:
            region = pixels[self.ry0:self.ry1, self.rx0:self.rx1].astype(np.float32)
            self.y = np.ascontiguousarray(region if region.ndim == 2 else region[..., :3] @ _LUMA, np.float32)

    def inside(self, a: np.ndarray, b: tuple[int, int, int, int]) -> np.ndarray:
        """``a`` (over the region) within box ``b``, flattened."""
        return a[max(b[1] - self.ry0, 0):max(b[3] - self.ry0, 0), max(b[0] - self.rx0, 0):max(b[2] - self.rx0, 0)].ravel()

    def relief(self, tuning: EditTuning) -> tuple[np.ndarray, float]:
        """Over the region, each pixel's fine relief: the RMS of its luma finer than a blur of 0.01 eye
        distances, over 0.03, over its :meth:`light`; and its median over the upper cheeks."""
        key = tuning.beard_blur
        if key not in self._relief:
            self._relief[key] = self._fine_relief(self.light(tuning))
        return self._relief[key]

    def _fine_relief(self, light: np.ndarray) -> tuple[np.ndarray, float]:
        y, ed = self.y, self.ed
        ref = max(float(np.median(np.concatenate([self.inside(y, c) for c in self.cheeks]))), 1e-3)
        fine = y - cv2.GaussianBlur(y, (0, 0), max(0.01 * ed, 0.7))
        rms = np.sqrt(cv2.GaussianBlur(fine * fine, (0, 0), max(0.03 * ed, 0.5))) / np.maximum(light, 1e-3 * ref)
        return rms, max(float(np.median(np.concatenate([self.inside(rms, c) for c in self.cheeks]))), 1e-6)

    def strands(self, tuning: EditTuning) -> np.ndarray:
        """0..1 over the region: how stranded each pixel is (its :meth:`relief` against the upper cheeks'
        median: ``tuning.beard_strands``)."""
        rms, skin = self.relief(tuning)
        lo, hi = tuning.beard_strands
        return np.clip((rms / skin - lo) / max(hi - lo, 1e-6), 0.0, 1.0)

    def chin_shade(self) -> tuple[float, float] | None:
        """(the upper cheeks' median luma, the chin's median over it), or None where either lies off the photo."""
        upper = np.concatenate([self.inside(self.y, c) for c in self.cheeks])
        below = self.inside(self.y, self.chin)
        if below.size == 0 or upper.size == 0:
            return None
        ref = max(float(np.median(upper)), 1e-3)
        return ref, float(np.median(below)) / ref

    def light(self, tuning: EditTuning) -> np.ndarray:
        """The region's luma blurred over ``tuning.beard_blur`` eye distances."""
        key = tuning.beard_blur
        if key not in self._light:
            self._light[key] = cv2.GaussianBlur(self.y, (0, 0), max(key * self.ed, 0.5))
        return self._light[key]

    def bearded(self, tuning: EditTuning) -> tuple[float, float] | None:
        """How bearded the face is (0..1) by its chin's two verdicts, or None where its chin or upper cheeks
        lie off the photo: dark (its median luma against the upper cheeks', ``tuning.beard_chin``: none over
        the second share, all under the first; a chin in a top light's shadow reads dark too) and stranded
        (the chin's median :meth:`relief` over the upper cheeks' lower quartile, ``tuning.beard_chin_strands``,
        where the chin's own is at least ``tuning.beard_chin_grain``: a retouched face's smooth cheeks make a
        shaven chin's fine relief over three times theirs, but not that of a beard; a grey beard is stranded,
        not dark; glasses' rims in the cheeks' boxes raise their median, not their lower quartile)."""
        key = (tuning.beard_blur, tuning.beard_chin, tuning.beard_chin_strands, tuning.beard_chin_grain)
        if key not in self._bearded:
            self._bearded[key] = self._verdicts(tuning)
        return self._bearded[key]

    def _verdicts(self, tuning: EditTuning) -> tuple[float, float] | None:
        read = self.chin_shade()
        if read is None:
            return None
        lo, hi = tuning.beard_chin
        dark = float(np.clip((hi - read[1]) / max(hi - lo, 1e-6), 0.0, 1.0))
        rms, _ = self.relief(tuning)
        skin = max(float(np.percentile(np.concatenate([self.inside(rms, c) for c in self.cheeks]), 25)), 1e-6)
        chin = float(np.median(self.inside(rms, self.chin)))
        lo, hi = tuning.beard_chin_strands
        stranded = float(np.clip((chin / skin - lo) / max(hi - lo, 1e-6), 0.0, 1.0))
        lo, hi = tuning.beard_chin_grain
        return dark, stranded * float(np.clip((chin - lo) / max(hi - lo, 1e-6), 0.0, 1.0))

    def dark(self, tuning: EditTuning) -> np.ndarray:
        """Over the region, how dark each pixel is for a beard (its :meth:`light`: all as dark as the chin's
        median, none from half-way to the upper cheeks'); the chin read (:meth:`chin_shade` not None)."""
        ref, shade = self.chin_shade()  # type: ignore[misc]
        half = 0.5 * (1.0 + shade)
        return np.clip((half - self.light(tuning) / ref) / max(half - shade, 1e-3), 0.0, 1.0)

    def over_box(self, a: np.ndarray) -> np.ndarray:
        """``a`` (over the region) over the box, 0 beyond the region."""
        box = self.box
        out = np.zeros((box[3] - box[1], box[2] - box[0]), np.float32)
        bx0, by0 = max(box[0], self.rx0), max(box[1], self.ry0)
        bx1, by1 = min(box[2], self.rx1), min(box[3], self.ry1)
        if bx1 > bx0 and by1 > by0:
            out[by0 - box[1]:by1 - box[1], bx0 - box[0]:bx1 - box[0]] = \
                a[by0 - self.ry0:by1 - self.ry0, bx0 - self.rx0:bx1 - self.rx0]
        return out


def cheek_boxes(lm: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The upper cheeks' boxes (x0, y0, x1, y1) of the face at ``lm`` (68 landmarks), unclipped: the face's skin in
    its light, under the eyes and above a beard."""
    lm = np.asarray(lm, np.float64)
    return _boxes(lm, eye_distance(lm))[0]


def beard_hair(pixels: np.ndarray, lm: np.ndarray, box: tuple[int, int, int, int],
               tuning: EditTuning, reading: BeardReading | None = None) -> np.ndarray | None:
    """(y1 - y0, x1 - x0) float32 0..1 over ``box`` (x0, y0, x1, y1) of ``pixels`` ((H, W[, C])):
    how far each pixel is a beard's hair on the face at ``lm`` (68 landmarks in the photo's
    frame), or None on a face without a beard. How bearded the face is: the more of its chin's
    verdicts, dark or stranded (:meth:`BeardReading.bearded`). Each pixel is hair as far as it is dark
    (:meth:`BeardReading.dark`) and stranded (:func:`hair_strands`). ``reading``: these pixels, face and box
    read already (:class:`BeardReading`)."""
    r = reading or BeardReading(pixels, lm, box)
    read = r.bearded(tuning) if r.ok else None
    if read is None or max(read) <= 0:
        return None
    return r.over_box(max(read) * r.dark(tuning) * r.strands(tuning))


def moustache(pixels: np.ndarray, lm: np.ndarray, box: tuple[int, int, int, int],
              tuning: EditTuning, reading: BeardReading | None = None) -> np.ndarray | None:
    """(y1 - y0, x1 - x0) float32 0..1 over ``box`` of ``pixels``: a moustache, stranded or not, or None on a
    face whose chin is not stranded (:meth:`BeardReading.bearded`): each pixel as far as it is dark
    (:meth:`BeardReading.dark`) and, down the face (across the eye line), below the nose's base (the mean of the
    68 points 31-35) and above the mouth's corners (48, 54: the line through them), each by a ramp of
    ``tuning.moustache_feather`` eye distances. A moustache carried and stretched by a dropped jaw, or small
    and compressed, can be as smooth as the cheeks' skin (a grey one nearly as light); below the corners a
    laugh's crease is as dark as a beard's hair and stays to :func:`beard_hair`. A chin dark in a top
    light's shadow alone does not read (Yale's laughs keep no folds). ``reading``: as :func:`beard_hair`'s."""
    r = reading or BeardReading(pixels, lm, box)
    read = r.bearded(tuning) if r.ok else None
    if read is None or read[1] <= 0:
        return None
    reach = max(tuning.moustache_feather * r.ed, 0.5)
    left, right = eye_centres(r.lm)
    u = (right - left) / max(float(np.linalg.norm(right - left)), 1e-9)
    yy, xx = np.mgrid[r.ry0:r.ry1, r.rx0:r.rx1].astype(np.float32)
    across = r.lm[[48, 54]] - r.lm[48]  # the corners' line
    along = across[1] / max(float(np.linalg.norm(across[1])), 1e-9)
    down = np.array([-along[1], along[0]]) if along[0] >= 0 else np.array([along[1], -along[0]])
    nose = ((xx - r.lm[31:36, 0].mean()) * -u[1] + (yy - r.lm[31:36, 1].mean()) * u[0]) / reach
    corners = ((xx - r.lm[48, 0]) * down[0] + (yy - r.lm[48, 1]) * down[1]) / reach
    zone = np.clip(nose, 0.0, 1.0) * np.clip(-corners, 0.0, 1.0)
    return r.over_box(read[1] * r.dark(tuning) * zone)


def hair_strands(pixels: np.ndarray, lm: np.ndarray, box: tuple[int, int, int, int],
                 tuning: EditTuning, reading: BeardReading | None = None) -> np.ndarray | None:
    """(y1 - y0, x1 - x0) float32 0..1 over ``box`` of ``pixels``: how far each pixel is a hair's strands,
    bearded or not: stranded (the RMS of its relief finer than a blur of 0.01 eye distances, over 0.03, over
    its luma blurred over ``tuning.beard_blur`` eye distances, against the upper cheeks' median: none under
    the first of ``tuning.beard_strands``, all from the second; about 1 on skin, 2-4 on a moustache's or
    stubble's hair) and darker than the skin (that blurred luma over the upper cheeks' median: all under the
    first of ``tuning.strand_dark``, none over the second; a retouched face's smooth cheeks set the skin's
    RMS so low that its lips, nose and a laugh's fold lines read as strands), or on a bearded face (its chin
    darker than its upper cheeks or stranded, :meth:`BeardReading.bearded`) as far as it is bearded: the sparse
    hairs at a moustache's ends are as light as the skin blurred; a chin off the photo reads unbearded). None
    where the cheeks lie off the photo. ``reading``: as :func:`beard_hair`'s."""
    r = reading or BeardReading(pixels, lm, box)
    if not r.ok or min(r.inside(r.y, c).size for c in r.cheeks) == 0:
        return None
    light = r.light(tuning)
    ref = max(float(np.median(np.concatenate([r.inside(light, c) for c in r.cheeks]))), 1e-3)
    lo, hi = tuning.strand_dark
    read = r.bearded(tuning)
    dark = np.maximum(np.clip((hi - light / ref) / max(hi - lo, 1e-6), 0.0, 1.0), 0.0 if read is None else max(read))
    return r.over_box(r.strands(tuning) * dark)
