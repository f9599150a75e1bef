"""The cheek under the eye in a smile (AU6, the cheek raiser), drawn as shading at the photo's
own resolution: a lit roll of skin just under the lower lid, the infraorbital crease below it,
and the raised cheek apple's light below that.

The warp lifts the lower lid and the appearance map (a 256-px mean) darkens a soft band under
it; what a real smile shows beyond that is measured, not set by looking: London HD's training
pairs (neutral and smiling photos of the same person, the same session; the held-out ids
skipped), each photo's luma sampled below its own lower lid (dlib's 68 points, the lid's curve
through 36, 41, 40, 39 and 42, 47, 46, 45 in the face's frame), ±0.15 eye distances about the
lid's middle, less the nose bridge's log luma::

    OMP_NUM_THREADS=1 python bench/measure_cheek_apple.py --limit 16          # the real smiles
    OMP_NUM_THREADS=1 python bench/measure_cheek_apple.py --limit 16 --edit   # the stage's happy

The log ratio smiling / neutral, per distance below the lid (eye distances), the first 16
training people, both eyes, the real smile and the stage's happy edit without this module:

    below the lid   0.04    0.06    0.10    0.12    0.20    0.30    0.36    0.44    0.60
    real           +0.053  +0.038  -0.045  -0.051  +0.007  +0.013  +0.021  -0.007  -0.056
    edit           -0.005  -0.016  -0.043  -0.043  -0.014  +0.001  +0.013  +0.004  -0.088

Over all 68 training people the real smile's crease lies 0.120 eye distances below the lid
(per eye, median; p25 0.110, p75 0.143), its high-passed dip 0.048 deep (median; p25 0.074),
the roll above it +0.031 at 0.045, the apple +0.013 at 0.37. The edit's band already lies where
the crease does, about as dark; it lacks the roll's light above it (0.058 at 0.04-0.06) and the
cheek's light below it (+0.01 to +0.02 from 0.16 to 0.36), and its lower edge is 0.01 too light
(0.42-0.48): :data:`PROFILE` is that difference, a sum of Gaussians across the lid's curve. Its
last rows (the edit 0.03 darker than a real smile from 0.55 down) are the appearance map's and
are not drawn here.

Along the lid the roll and the crease are drawn full from the lid's middle out to its outer
corner, fading to nothing at the inner corner and 0.12 eye distances past the outer one (AU6
bunches the orbit's outer part); the cheek's light and its lower edge round the lid's middle, a
Gaussian of 0.22 eye distances across the face (drawn the lid's length they read as a bright
slab with square ends); how far is ``FoldsTuning.apple_along`` (set by looking). The roll's light is
the share of the photo's light that comes from above the face (London's comes from straight
above; under a light across the face or from below the roll is not lit). It is drawn by
the AU6 of the target the move heads for (its FACS prototype's, over happy's) times the
progress made towards it, for ``FoldsTuning.apple_targets`` only (the profile is a smile's).
"""

from __future__ import annotations

import numpy as np

from faceedit.faces.au import AU_IDS, expression_prototype
from faceedit.stage.folds import shade_box
from faceedit.stage.moves import face_frame
from faceedit.stage.shading import light_direction
from faceedit.stage.tuning_folds import FoldsTuning

#: The log luma ratio a smile's AU6 adds under each lower lid beyond the stage's warp and map, at
#: amount 1: (height, centre below the lid, sigma), eye distances; measured (module docstring):
#: the roll's light, the crease's little extra depth, the apple's light, its lower edge. The
#: lid's rows lie 0.015 lower than dlib measured them: the stage draws on its own landmarks,
#: whose lower lid lies higher (the edit re-measured by dlib put a roll drawn 0.05 under the
#: stage's lid at 0.035 under dlib's).
PROFILE: tuple[tuple[float, float, float], ...] = (
    (0.085, 0.065, 0.02),
    (-0.010, 0.13, 0.02),
    (0.016, 0.24, 0.10),
    (-0.010, 0.45, 0.035),
)
#: The lower lids (68-point indices from the outer corner to the inner one).
LIDS = ((36, 41, 40, 39), (45, 46, 47, 42))


def apple_amount(heads_for: str | None, progress: float, tuning: FoldsTuning | None = None) -> float:
    """How much of :data:`PROFILE` an edit draws: the AU6 of ``heads_for``'s FACS prototype over
    happy's, times ``progress``, for ``tuning.apple_targets`` only (0 otherwise), at most
    ``tuning.max_amount``."""
    tn = tuning if tuning is not None else FoldsTuning()
    if not heads_for or heads_for not in tn.apple_targets:
        return 0.0
    k = AU_IDS.index(6)
    level = float(expression_prototype(heads_for)[k]) / max(float(expression_prototype("happy")[k]), 1e-6)
    return float(np.clip(level * progress, 0.0, tn.max_amount))


#: The rows of :data:`PROFILE` that are the lid's own (the roll and the crease, drawn along the
#: lid); the others are the cheek's (a mound, drawn round the lid's middle).
LID_ROWS = 2


def across(s: np.ndarray, rows: slice = slice(None), blur: float = 0.0, lit: float = 1.0) -> np.ndarray:
    """:data:`PROFILE`'s ``rows`` at ``s`` eye distances below the lid (log ratio, amount 1),
    seen through a blur of ``blur`` eye distances (each row's Gaussian widened, its area kept:
    on a small face the roll and the crease merge as a camera would merge them, no 1-px line),
    the roll's light (the first row) times ``lit``."""
    out = np.zeros(np.shape(s))
    for k, (h, c, w) in enumerate(PROFILE[rows], start=rows.start or 0):
        wide = float(np.hypot(w, blur))
        out += h * (lit if k == 0 else 1.0) * (w / wide) * np.exp(-0.5 * ((s - c) / wide) ** 2)
    return out


def _band_rows(curve: np.ndarray, lo: float, hi: float, depth: float, across_x: np.ndarray,
               across_y: np.ndarray) -> tuple[int, int]:
    """The rows (r0, r1) of a box holding every pixel within ``depth`` below a lid's ``curve``
    (its across-lid coordinate ``across_x[col] + across_y[row]``, eye distances, less the curve's
    height at most within [lo, hi]), a row to spare each side; (0, 0) where none is."""
    vertex = -curve[1] / (2 * curve[0]) if curve[0] != 0 else lo
    heights = np.polyval(curve, np.array([lo, hi, min(max(vertex, lo), hi)]))
    low, high = float(heights.min()) - 0.01, float(heights.max()) + depth
    ok = np.flatnonzero((across_y > low - across_x.max()) & (across_y < high - across_x.min()))
    if ok.size == 0:
        return 0, 0
    return max(int(ok[0]) - 1, 0), min(int(ok[-1]) + 2, len(across_y))


def apple_log_ratio(shape: tuple[int, ...], lm: np.ndarray, amount: float, tuning: FoldsTuning | None = None,
                    light: np.ndarray | None = None) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """The log luma ratio under both lower lids of the face at 68 landmarks ``lm`` (image px) in
    an image of ``shape``: (box (x0, y0, x1, y1), log ratio over it), None where nothing is drawn.
    ``light``: the image direction toward the photo's light (None: from straight above, as
    London's, where :data:`PROFILE` was measured); the roll's light is its share from above
    the face (none under a light from below or straight across)."""
    tn = tuning if tuning is not None else FoldsTuning()
    if amount <= 0:
        return None
    lm = np.asarray(lm, np.float64)
    u, n, ed = face_frame(lm)
    inner, outer, spread = tn.apple_along
    blur = tn.sharp_px / ed  # the photo's own pixels: no row drawn finer than a fold's edge
    toward = np.array([0.0, -1.0]) if light is None else np.asarray(light, np.float64)
    lit = float(np.clip(-(toward @ n) / max(float(np.linalg.norm(toward)), 1e-9), 0.0, 1.0))
    depth = max(c + 3 * w for _, c, w in PROFILE)
    corners = np.concatenate([lm[list(lid)] for lid in LIDS])
    pad = (depth + max(outer, 2 * spread)) * ed + 2
    h, w = shape[:2]
    x0, y0 = (int(max(v, 0)) for v in np.floor(corners.min(0) - pad))
    x1, y1 = int(min(np.ceil(corners[:, 0].max() + pad) + 1, w)), int(min(np.ceil(corners[:, 1].max() + depth * ed + 2) + 1, h))
    if x1 <= x0 or y1 <= y0:
        return None
    # the pixels' positions as a row and a column: each lid's frame coordinates are their outer
    # sums (the same values as from the whole grid of positions), on the rows its band can reach
    cols, rows = np.arange(x0, x1, dtype=np.float64), np.arange(y0, y1, dtype=np.float64)
    out = np.zeros((y1 - y0, x1 - x0))
    for lid in LIDS:
        pts = lm[list(lid)]
        mid = (pts[1] + pts[2]) / 2
        lateral = 1.0 if float((pts[0] - pts[3]) @ u) > 0 else -1.0  # +: towards the outer corner
        a = lateral * (pts - mid) @ u / ed
        b = (pts - mid) @ n / ed
        curve = np.polyfit(a, b, 2)
        lo, hi = float(a.min()), float(a.max())
        r0, r1 = _band_rows(curve, lo, hi, depth, (cols - mid[0]) * n[0] / ed, (rows - mid[1]) * n[1] / ed)
        dx, dy = cols - mid[0], rows[r0:r1] - mid[1]
        ga = lateral * ((dx * u[0])[None, :] + (dy * u[1])[:, None]) / ed
        gb = ((dx * n[0])[None, :] + (dy * n[1])[:, None]) / ed
        s = gb - np.polyval(curve, np.clip(ga, lo, hi))
        band = (s > -0.01) & (s < depth)  # only the band below the lid's line is drawn
        near = np.zeros(out.shape, bool)
        near[r0:r1] = band
        sn, ga = s[band], ga[band]
        # full from the lid's middle to its outer corner, fading to the inner corner and past the outer
        rise = np.clip((ga - lo) / max(inner * -lo, 1e-6), 0.0, 1.0) if inner > 0 else (ga >= lo) * 1.0
        fall = np.clip((hi + outer - ga) / max(outer, 1e-6), 0.0, 1.0)
        along = rise * rise * (3 - 2 * rise) * fall * fall * (3 - 2 * fall)
        mound = np.exp(-0.5 * (ga / spread) ** 2)
        ramp = np.clip((sn + 0.01) / 0.02, 0.0, 1.0)  # nothing above the lid's line
        out[near] += (across(sn, slice(None, LID_ROWS), blur, lit) * along
                      + across(sn, slice(LID_ROWS, None), blur) * mound) * ramp
    return (x0, y0, x1, y1), out * amount


def paint_apple(pixels: np.ndarray, lm: np.ndarray, amount: float, *, in_place: bool = False,
                tuning: FoldsTuning | None = None) -> np.ndarray:
    """``pixels`` with :func:`apple_log_ratio` drawn (R, G and B by the folds' powers of the
    ratio, :func:`faceedit.stage.folds.shade_box`), the roll lit by the photo's light
    (:func:`faceedit.stage.shading.light_direction`); ``pixels`` themselves where nothing is."""
    if amount <= 0:
        return pixels
    made = apple_log_ratio(pixels.shape, lm, amount, tuning, light_direction(pixels, lm))
    if made is None:
        return pixels
    return shade_box(pixels, made[0], made[1], in_place=in_place, tuning=tuning)
