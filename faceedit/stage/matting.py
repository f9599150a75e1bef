"""A head's work box and the guided filter that brings a matte found there back to the photo's
own pixels (the regions of :mod:`faceedit.stage.regions` are found with these).

* **Work box**: the head and neck around a face (:func:`head_box`), worked on at a scale where
  the eyes lie :data:`WORK_EYE_DISTANCE` px apart (:class:`Work`).
* **Guided filter** (:func:`refine`): a work-scale matte fitted by He et al.'s guided filter on
  the box's colours, its coefficients upsampled and applied to the full-resolution photo (He &
  Sun's fast guided filter), so a matte's edges follow the photo's own hair strands and outline;
  :func:`consistent` moves a matte's unsure pixels to the share of hair their lightness says.

numpy and OpenCV only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from faceedit.faces.landmarks import eye_distance
from faceedit.pixels import pixel_max
from faceedit.stage.tuning_face import RegionsTuning

#: The work box is worked on where the eyes lie this many px apart (GrabCut's speed; the matte
#: comes back to the photo's pixels through the guided filter).
WORK_EYE_DISTANCE = 48.0


@dataclass(frozen=True)
class Work:
    """The head box of a face (``box``: x0, y0, x1, y1 in the photo) and the scale it is worked
    on at (``scale`` work px per photo px)."""

    box: tuple[int, int, int, int]
    scale: float

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) at work scale."""
        x0, y0, x1, y1 = self.box
        return max(2, round((x1 - x0) * self.scale)), max(2, round((y1 - y0) * self.scale))

    def to_work(self, xy: np.ndarray) -> np.ndarray:
        """Photo px -> work px (pixel centres at integers in both)."""
        return (np.asarray(xy, np.float64) - self.box[:2] + 0.5) * self.scale - 0.5

    def crop(self, pixels: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = self.box
        return pixels[y0:y1, x0:x1]

    def small(self, image: np.ndarray) -> np.ndarray:
        """A box-sized float32 image brought to work scale."""
        return cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)


def head_box(lm: np.ndarray, shape: tuple[int, ...], tuning: RegionsTuning | None = None) -> Work:
    """The head and neck around a face at 68 landmarks ``lm`` in a photo of ``shape`` (``box_side``,
    ``box_above``, ``box_below`` of ``tuning``, default its defaults)."""
    tn = tuning if tuning is not None else RegionsTuning()
    lm = np.asarray(lm, np.float64)
    d = max(eye_distance(lm), 1.0)
    h, w = shape[:2]
    mid = (lm[36:42].mean(0) + lm[42:48].mean(0)) / 2
    top = float(lm[17:27, 1].min()) - tn.box_above * d
    bottom = float(lm[8, 1]) + tn.box_below * d
    x0, x1 = int(np.floor(mid[0] - tn.box_side * d)), int(np.ceil(mid[0] + tn.box_side * d))
    y0, y1 = int(np.floor(top)), int(np.ceil(bottom))
    box = (max(x0, 0), max(y0, 0), min(x1, w), min(y1, h))
    return Work(box, min(1.0, WORK_EYE_DISTANCE / d))


def unit(pixels: np.ndarray) -> np.ndarray:
    """uint8/uint16 RGB -> float32 0..1."""
    return pixels.astype(np.float32) / np.float32(pixel_max(pixels.dtype))


def fill(shape: tuple[int, int], polygons: list[np.ndarray], value: float = 1.0) -> np.ndarray:
    """float32 ``shape`` with ``polygons`` (work px) filled anti-aliased."""
    out = np.zeros(shape, np.float32)
    for p in polygons:
        cv2.fillPoly(out, [np.round(np.asarray(p) * 16).astype(np.int32)], float(value), cv2.LINE_AA, shift=4)
    return out


# -- the guided filter ----------------------------------------------------------------------------
def _box(x: np.ndarray, r: int) -> np.ndarray:
    return cv2.blur(x, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


def guided_coefficients(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """He et al.'s guided filter with a colour guide: the per-pixel linear model ``q = a . I + b``
    ((H, W, 3) ``a``, (H, W) ``b``, box-averaged) fitting ``src`` ((H, W) float32) from ``guide``
    ((H, W, 3) float32) in windows of radius ``r``."""
    g = guide.astype(np.float32)
    p = src.astype(np.float32)
    mean_i = _box(g, r)
    mean_p = _box(p, r)
    cov_ip = _box(g * p[..., None], r) - mean_i * mean_p[..., None]
    var = np.empty(g.shape[:2] + (3, 3), np.float32)
    for i in range(3):
        for j in range(i, 3):
            v = _box(g[..., i] * g[..., j], r) - mean_i[..., i] * mean_i[..., j]
            var[..., i, j] = var[..., j, i] = v
    var += eps * np.eye(3, dtype=np.float32)
    a = np.linalg.solve(var, cov_ip[..., None])[..., 0]
    b = mean_p - (a * mean_i).sum(-1)
    return _box(a, r), _box(b, r)


def refine(work: Work, full: np.ndarray, hard: np.ndarray, d: float, tuning: RegionsTuning | None = None) -> np.ndarray:
    """A work-scale matte ``hard`` ((h, w) 0..1) as a soft matte at the photo's pixels of the box:
    the guided filter fitted at work scale on the box's colours, its coefficients upsampled to
    ``full`` (the box at the photo's pixels, float32 0..1 RGB) and applied there (its radius and
    regulariser ``tuning``'s ``matte_radius`` and ``matte_eps``)."""
    tn = tuning if tuning is not None else RegionsTuning()
    small = work.small(full)
    r = max(1, int(round(tn.matte_radius * d * work.scale)))
    a, b = guided_coefficients(small, hard, r, tn.matte_eps)
    size = (full.shape[1], full.shape[0])
    a = cv2.resize(a, size, interpolation=cv2.INTER_LINEAR)
    b = cv2.resize(b, size, interpolation=cv2.INTER_LINEAR)
    return np.clip((a * full).sum(-1) + b, 0.0, 1.0)


def consistent(work: Work, full: np.ndarray, matte: np.ndarray, d: float, face: np.ndarray,
               tuning: RegionsTuning | None = None) -> np.ndarray:
    """``matte`` (the box at the photo's pixels, 0..1) where it is unsure (between
    ``unsure`` and 1 - it, of ``tuning``) moved to the share of hair each pixel's lightness says it holds
    (up always, down only where the photo is smooth there: a highlight is hair):
    between the hair's own (its sure part's median) and what lies behind it there (the pixels
    sure not to be hair nearby, averaged over ``behind``), where the two differ by
    ``contrast_min`` Lab units or more: a pixel as light as the wall behind thin strands is no hair, one as dark as
    the hair is all hair."""
    tn = tuning if tuning is not None else RegionsTuning()
    small = work.small(full)
    m = work.small(matte)
    light = cv2.cvtColor(small, cv2.COLOR_RGB2Lab)[..., 0]
    sure = m > 1.0 - tn.unsure
    if int(sure.sum()) < 20:
        return matte
    hair_l = float(np.median(light[sure]))
    away = (m < tn.unsure).astype(np.float32)
    sigma = max(1.0, tn.behind * d * work.scale)
    seen = cv2.GaussianBlur(light * away, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(away, (0, 0), sigma), 1e-3)
    size = (full.shape[1], full.shape[0])
    behind = cv2.resize(seen, size, interpolation=cv2.INTER_LINEAR)
    light_full = cv2.cvtColor(full, cv2.COLOR_RGB2Lab)[..., 0]
    gap = behind - hair_l
    share = np.clip((behind - light_full) / np.where(np.abs(gap) < 1e-3, 1e-3, gap), 0.0, 1.0)
    trust = np.clip((np.abs(gap) - tn.contrast_min) / tn.contrast_min, 0.0, 1.0)
    unsure = np.clip(np.minimum(matte, 1.0 - matte) / tn.unsure, 0.0, 1.0)  # 0 where sure, 1 where unsure
    # a strand darker than the matte says is taken in; a pixel lighter than it says is let out
    # only where it is smooth (a wall; a highlight on hair has the strands' texture)
    mean = cv2.blur(light_full, (5, 5))
    rough = np.sqrt(np.maximum(cv2.blur(light_full * light_full, (5, 5)) - mean * mean, 0.0))
    smooth = np.clip((2.0 * tn.smooth_rough - rough) / tn.smooth_rough, 0.0, 1.0)
    # ... or where it lies at the hair's outer edge (within ``hair_edge`` of the matte's outside), sure or
    # not: the guided filter calls the strands' tips, half wall, nearly all hair, and the new
    # colour's shift on them drew a bright line round a dark head made blond
    # (the outside reaching the box's border, less the face (``face``: its coverage over the box):
    # a gap inside the hair, a parting, is hair's; the hairline is the skin's and the hair's alone)
    r = max(1, int(round(tn.hair_edge * d)))
    n, labels = cv2.connectedComponents((matte < 0.5).astype(np.uint8), connectivity=4)
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    outer = np.zeros(n, bool)
    outer[border] = True
    outer[0] = False  # label 0: the hair itself
    outside = (outer[labels] & (face <= 0.5)).astype(np.uint8)
    edge = cv2.dilate(outside, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))) > 0
    step = share - matte
    step = np.where(step > 0, unsure * step, step * np.where(edge, 1.0, unsure * smooth))
    return np.clip(matte + trust * step, 0.0, 1.0).astype(np.float32)
