"""FACS action-unit (AU) intensities estimated from 68-point landmark geometry.

EGGAN (``../shared/papers/eggan.txt``) conditions its generator on the intensities of 17 AUs
(1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26 and 45), each on OpenFace's 0..5 scale.
The paper labelled its data with OpenFace's appearance-based AU regressors, which cannot be
downloaded here. This module is the stand-in: it measures how far landmarks have moved from a
neutral face and maps each movement linearly onto 0..5. It is a geometric proxy, not OpenFace.

How an intensity is made
------------------------
1. *Normalise*: the 68 iBUG points are put in an eye frame: origin midway between the eye
   centres (each eye centre = the midpoint of its two corners, which lid movements do not shift),
   x along the line through them, unit = inter-ocular distance (IOD), y pointing down the face.
   Every measurement below is therefore invariant to translation, scale and in-plane rotation;
   it works on aligned crops and on photo landmarks alike.
2. *Measure* 11 distances (:data:`MEASURES`, IOD units; left and right side averaged, so a
   mirrored face measures the same): brow heights, brow gap, upper- and lower-lid distance from
   the eye-corner line, lip-corner height relative to the inner-lip midline, mouth half-width,
   inner-lip gap, lip thickness, nose-to-chin height.
3. *Compare* with a neutral reference: the same subject's neutral face(s) when known
   (``neutral=``, or the subject's neutral rows in :func:`dataset_aus`), else the population
   neutral mean :data:`NEUTRAL_REFERENCE`. The changes drive the AUs (:func:`activations`),
   e.g. AU12 = lip corners rising relative to the inner-lip midline plus the mouth widening
   (measured when the measures were chosen, over all london/jaffe/yale rows against each
   subject's neutral photo: the sum ranks happy above the other labelled expressions with AUC
   0.94, the rise alone 0.89, and an open surprised mouth does not read as a smile).
4. *Scale*: ``intensity = clip(SCALE[au] * activation, 0, 5)``. :data:`SCALE` and
   :data:`NEUTRAL_REFERENCE` were measured by :func:`faceedit.train.au_calibration.calibrate`
   on the shared data (training subjects of the by-subject split only) and written below with
   the command that produced them.

What geometry cannot see (read before trusting a number)
---------------------------------------------------------
* AU9 (nose wrinkler), AU10 (upper-lip raiser) and AU14 (dimpler) are reported as NaN (see
  :data:`VISIBLE`), never guessed. AU9 and AU14 are texture (wrinkles, dimples); the nose wings
  of 68-point detectors do not follow AU9 (disgusted faces raise them by -0.0003 IOD, happy ones
  by 0.0075). AU10's only landmark cue, the upper lip rising toward the nose, is larger in
  smiles (0.039 IOD) than in disgust (0.027) or anger (0.024), so it would report AU12. (Both
  measured by the calibration command below, printed as ``unseen_cues``.)
* AU6 (cheek raiser) is read from the lower lid rising only: no 68-point landmark sits on the
  cheek, and crow's feet are texture. It cannot be told from the lower-lid part of AU7, and its
  signal is small (about 0.01 IOD, 0.4 px in a 128-px crop, in happy faces).
* AU5 and AU45 are the two signs of one measure (upper lid above / below its neutral height);
  AU17 and AU26 likewise (chin rising toward / dropping away from the nose: a jaw drop and a
  chin raise cannot both be read at once). AU7 (aperture narrowing from both lids) rises with
  AU45 and AU6, and lowered brows (AU4) push the upper lid down, so angry and disgusted faces
  read as partial AU45. AU12, AU15 and AU20 share the lip-corner displacement: up and out
  (AU12), down (AU15), outward beyond the upward part (AU20; weak: measured like AU12 above, it
  ranks fearful faces above the other expressions with AUC 0.64 only). AU23 is lip thinning without widening, so it also
  answers to lip pressing (AU24, not in the 17).
* Left and right are averaged: a wink or a one-sided smile reads at about half intensity.
* Head pitch and yaw change 2-D distances; a face turned or tilted relative to its reference
  reads as AU change. Use near-frontal faces, ideally with the subject's own neutral face.
* Without the subject's neutral face, identity is read as expression (high brows look like
  AU1/AU2, a thin mouth like AU23): the population reference is a fallback.
* The scale is linear and relative to this data's range: 4.5 = the 95th percentile of the
  change over the labelled expressive faces (posed, strong), unless a subject's
  neutral-to-neutral variation would then read above 1; for AU2, 6, 17, 20 and 23 that cap
  applies and their 95th-percentile faces read 1.6 (AU23) to 4.1 (AU2), not 4.5. The noise figure rests on 24 JAFFE
  photos (the only repeated same-session neutral photos in the data). It is not OpenFace's scale
  and not FACS A-E coding; intensities compare faces with each other, not with the paper.
* With the population reference, the 27 session neutral photos of the held-out subjects
  (split_rows of london, jaffe, yale; Yale's glasses/lighting variants left out) read, at the 95th percentile, 3.0 on AU1, 4.2 on AU2, 3.9 on AU4 and 5.0
  on AU15 and AU17 (mean 0.5-1.8): identity read as expression. Give the subject's neutral face
  whenever there is one.

Expression prototypes
---------------------
:func:`expression_prototype` gives a 17-vector per expression. Which AUs: Du, Tao & Martinez
(2014), "Compound facial expressions of emotion", PNAS 111(15) E1454, Table 1 (AUs active in
> 70 % of subjects, plus the bracketed inter-subject ones). How strong: the mean estimated
intensity of that AU over the shared data's faces labelled with that expression (measured by
:func:`faceedit.train.au_calibration.calibrate`), for the AUs geometry sees; prototype AUs
geometry cannot see get the nominal :data:`UNSEEN_PROTOTYPE_INTENSITY` (a choice, not a measurement).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from faceedit.conditions import canonical_target
from faceedit.errors import UsageError
from faceedit.faces.landmarks import BROWS

# --------------------------------------------------------------------------------------------
# vocabulary

#: The 17 AUs of EGGAN (and of OpenFace's intensity regressors), in the paper's order.
AU_IDS: tuple[int, ...] = (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17, 20, 23, 25, 26, 45)

#: FACS names.
AU_NAMES: dict[int, str] = {
    1: "inner brow raiser",
    2: "outer brow raiser",
    4: "brow lowerer",
    5: "upper lid raiser",
    6: "cheek raiser",
    7: "lid tightener",
    9: "nose wrinkler",
    10: "upper lip raiser",
    12: "lip corner puller",
    14: "dimpler",
    15: "lip corner depressor",
    17: "chin raiser",
    20: "lip stretcher",
    23: "lip tightener",
    25: "lips part",
    26: "jaw drop",
    45: "blink",
}

#: "AU12" style keys, in :data:`AU_IDS` order (JSON output).
AU_KEYS: tuple[str, ...] = tuple(f"AU{a}" for a in AU_IDS)

#: AUs landmark geometry cannot estimate (see the module docstring for the measured reasons).
NOT_ESTIMABLE: frozenset[int] = frozenset({9, 10, 14})

#: (17,) bool: True where :func:`estimate_aus` returns a number, False where it returns NaN.
VISIBLE: np.ndarray = np.array([a not in NOT_ESTIMABLE for a in AU_IDS])
VISIBLE.flags.writeable = False

MAX_INTENSITY = 5.0

# --------------------------------------------------------------------------------------------
# calibrated constants

# Measured on the prepared data (training subjects of faceedit.data.split_rows only) by
#   python -m faceedit.train.au_calibration data/london data/jaffe data/yale
#: Population neutral mean of each measure (IOD units): the reference when no neutral face is given
#: (mean over the 88 training subjects with neutral photos of each one's mean neutral measures).
NEUTRAL_REFERENCE: dict[str, float] = {
    "inner_brow": 0.36959,
    "outer_brow": 0.28919,
    "brow": 0.34949,
    "brow_gap": 0.37391,
    "upper_lid": 0.09247,
    "lower_lid": 0.04507,
    "corner": -0.01838,
    "half_width": 0.40573,
    "lip_gap": 0.01096,
    "lip_thickness": 0.24791,
    "chin": 1.11321,
}
#: Intensity per IOD unit of activation, per estimable AU. "noise-limited": capped so that the 95th
#: percentile of neutral-to-neutral change (24 JAFFE neutral photos against their session's other
#: neutral photos) maps to 1; the expressive 95th percentile then maps below 4.5.
SCALE: dict[int, float] = {
    1: 46.521,  # p95 expressive 0.0967, p95 neutral noise 0.0138 IOD
    2: 62.452,  # p95 expressive 0.0650, p95 neutral noise 0.0160 IOD (noise-limited)
    4: 25.705,  # p95 expressive 0.1751, p95 neutral noise 0.0323 IOD
    5: 173.916,  # p95 expressive 0.0259, p95 neutral noise 0.0057 IOD
    6: 97.264,  # p95 expressive 0.0266, p95 neutral noise 0.0103 IOD (noise-limited)
    7: 66.676,  # p95 expressive 0.0675, p95 neutral noise 0.0112 IOD
    12: 18.066,  # p95 expressive 0.2491, p95 neutral noise 0.0177 IOD
    15: 107.062,  # p95 expressive 0.0420, p95 neutral noise 0.0078 IOD
    17: 37.213,  # p95 expressive 0.1017, p95 neutral noise 0.0269 IOD (noise-limited)
    20: 92.108,  # p95 expressive 0.0382, p95 neutral noise 0.0109 IOD (noise-limited)
    23: 40.596,  # p95 expressive 0.0396, p95 neutral noise 0.0246 IOD (noise-limited)
    25: 18.553,  # p95 expressive 0.2426, p95 neutral noise 0.0106 IOD
    26: 17.523,  # p95 expressive 0.2568, p95 neutral noise 0.0211 IOD
    45: 98.504,  # p95 expressive 0.0457, p95 neutral noise 0.0083 IOD
}
#: Mean intensity of each estimable AU over the training faces labelled with each expression,
#: relative to each subject's own neutral photo(s), with the scales above.
MEASURED_EXPRESSION_MEANS: dict[str, dict[int, float]] = {
    "angry": {1: 0.05, 2: 0.16, 4: 3.04, 5: 0.07, 6: 0.55, 7: 1.46, 12: 0.50, 15: 1.44, 17: 2.19, 20: 0.39, 23: 1.09, 25: 0.67, 26: 0.15, 45: 1.66},  # 24 faces
    "disgusted": {1: 0.01, 2: 0.00, 4: 3.42, 5: 0.00, 6: 1.69, 7: 3.00, 12: 0.57, 15: 0.70, 17: 1.01, 20: 0.94, 23: 0.39, 25: 1.36, 26: 0.58, 45: 2.75},  # 23 faces
    "fearful": {1: 1.19, 2: 0.32, 4: 0.91, 5: 1.16, 6: 0.46, 7: 0.53, 12: 0.37, 15: 1.16, 17: 0.34, 20: 1.27, 23: 0.10, 25: 1.51, 26: 1.35, 45: 0.40},  # 26 faces
    "happy": {1: 0.41, 2: 0.24, 4: 0.35, 5: 0.12, 6: 1.14, 7: 1.28, 12: 2.70, 15: 0.00, 17: 0.58, 20: 0.84, 23: 0.04, 25: 1.43, 26: 0.45, 45: 0.80},  # 105 faces
    "sad": {1: 0.80, 2: 0.12, 4: 1.39, 5: 0.15, 6: 0.95, 7: 1.51, 12: 0.26, 15: 1.52, 17: 1.06, 20: 0.41, 23: 0.67, 25: 0.22, 26: 0.58, 45: 1.35},  # 36 faces
    "sleepy": {1: 2.31, 2: 2.35, 4: 0.22, 5: 0.00, 6: 0.53, 7: 3.66, 12: 0.45, 15: 0.89, 17: 0.55, 20: 0.57, 23: 0.14, 25: 0.09, 26: 0.66, 45: 4.56},  # 12 faces
    "surprised": {1: 2.68, 2: 2.07, 4: 0.05, 5: 3.37, 6: 0.01, 7: 0.00, 12: 0.33, 15: 0.42, 17: 0.00, 20: 0.13, 23: 0.27, 25: 3.38, 26: 3.28, 45: 0.02},  # 36 faces
    "wink": {1: 1.03, 2: 1.05, 4: 1.00, 5: 0.08, 6: 1.16, 7: 2.42, 12: 0.79, 15: 0.10, 17: 0.30, 20: 0.68, 23: 0.13, 25: 0.15, 26: 0.71, 45: 2.43},  # 12 faces
}

# --------------------------------------------------------------------------------------------
# geometry

#: The measures, in IOD units of the eye frame (y down), both sides averaged.
MEASURES: tuple[str, ...] = (
    "inner_brow",  # height of the inner brow (points 20,21 | 22,23) above the eye-corner line
    "outer_brow",  # height of the outer brow (17,18 | 25,26)
    "brow",  # mean height of all ten brow points
    "brow_gap",  # horizontal gap between the inner brow ends (21, 22)
    "upper_lid",  # upper lid (37,38 | 43,44) above its eye's corner midpoint
    "lower_lid",  # lower lid (40,41 | 46,47) below its eye's corner midpoint
    "corner",  # lip corners (48, 54) above the inner-lip midline (midpoint of 62 and 66)
    "half_width",  # half the corner-to-corner mouth width
    "lip_gap",  # mean inner-lip opening (61-67, 62-66, 63-65)
    "lip_thickness",  # upper (51 to 62) plus lower (66 to 57) lip height
    "chin",  # chin (8) below the nose base (33)
)

_EYE_CORNERS = ((36, 39), (42, 45))


def normalise_landmarks(landmarks) -> np.ndarray:
    """(N,68,2) or (68,2) image-pixel landmarks -> the same shape in the eye frame.

    Origin midway between the eye centres (midpoints of the eye corners 36/39 and 42/45), x
    along the line from the image-left to the image-right eye, unit = their distance, y = x
    rotated by +90 degrees (down the face for an upright face). Raises ValueError for anything
    but 68 points or for coincident eye centres."""
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.ndim not in (2, 3) or lm.shape[-2:] != (68, 2):
        raise ValueError(
            f"AU estimation needs 68 iBUG landmarks per face, shape (68,2) or (N,68,2); got {lm.shape}"
        )
    le = (lm[..., 36, :] + lm[..., 39, :]) / 2
    re = (lm[..., 42, :] + lm[..., 45, :]) / 2
    d = re - le
    iod = np.linalg.norm(d, axis=-1, keepdims=True)
    if np.any(iod < 1e-9):
        raise ValueError("degenerate landmarks: the two eye centres coincide")
    ex = d / iod
    ey = np.stack([-ex[..., 1], ex[..., 0]], -1)
    p = lm - ((le + re) / 2)[..., None, :]
    x = (p * ex[..., None, :]).sum(-1) / iod
    y = (p * ey[..., None, :]).sum(-1) / iod
    return np.stack([x, y], -1)


def measure(landmarks) -> np.ndarray:
    """(N,68,2) or (68,2) landmarks -> (N, len(MEASURES)) or (len(MEASURES),) measures.

    Every measure is a linear function of the eye-frame coordinates, so the measures of a mean
    normalised shape are the mean of the shapes' measures."""
    n = normalise_landmarks(landmarks)
    x, y = n[..., 0], n[..., 1]
    up = lambda *idx: -np.mean([y[..., i] for i in idx], axis=0)  # noqa: E731 - height above eye line
    corner_mid = [(y[..., a] + y[..., b]) / 2 for a, b in _EYE_CORNERS]
    m = {
        "inner_brow": up(20, 21, 22, 23),
        "outer_brow": up(17, 18, 25, 26),
        "brow": up(*BROWS),
        "brow_gap": x[..., 22] - x[..., 21],
        "upper_lid": ((corner_mid[0] - (y[..., 37] + y[..., 38]) / 2)
                      + (corner_mid[1] - (y[..., 43] + y[..., 44]) / 2)) / 2,
        "lower_lid": (((y[..., 40] + y[..., 41]) / 2 - corner_mid[0])
                      + ((y[..., 46] + y[..., 47]) / 2 - corner_mid[1])) / 2,
        "corner": (y[..., 62] + y[..., 66]) / 2 - (y[..., 48] + y[..., 54]) / 2,
        "half_width": (x[..., 54] - x[..., 48]) / 2,
        "lip_gap": ((y[..., 67] - y[..., 61]) + (y[..., 66] - y[..., 62]) + (y[..., 65] - y[..., 63])) / 3,
        "lip_thickness": (y[..., 62] - y[..., 51]) + (y[..., 57] - y[..., 66]),
        "chin": y[..., 8] - y[..., 33],
    }
    return np.stack([m[k] for k in MEASURES], -1)


def activations(delta: np.ndarray) -> np.ndarray:
    """(N, len(MEASURES)) changes from neutral -> (N, 17) activations in IOD units (>= 0 means
    the AU's direction; NaN for AUs geometry cannot see)."""
    d = {k: delta[:, i] for i, k in enumerate(MEASURES)}
    pos = lambda v: np.maximum(v, 0.0)  # noqa: E731
    up_corner = pos(d["corner"])
    a = {
        1: d["inner_brow"],
        2: d["outer_brow"],
        4: -d["brow_gap"] - d["brow"],  # brows drawn together and lowered
        5: d["upper_lid"],
        6: -d["lower_lid"],  # lower lid pushed up (from below)
        7: -(d["upper_lid"] + d["lower_lid"]),  # aperture narrowed by both lids
        12: pos(d["corner"] + d["half_width"]),  # corners rise (vs the inner-lip midline) and widen
        15: pos(-d["corner"]),  # corners fall relative to it
        17: -d["chin"],  # chin rises toward the nose
        20: d["half_width"] - up_corner,  # widening not explained by an oblique (AU12) pull
        23: -(d["lip_thickness"] + d["half_width"]),  # lips thinner without being stretched wider
        25: d["lip_gap"],
        26: d["chin"],  # chin drops away from the nose
        45: -d["upper_lid"],  # upper lid lowered toward closure
    }
    nan = np.full(delta.shape[0], np.nan)
    return np.stack([a.get(au, nan) for au in AU_IDS], -1)


def _reference(neutral) -> np.ndarray:
    """Mean measures of one or more neutral faces ((68,2) or (K,68,2)), or the population mean."""
    if neutral is None:
        return np.array([NEUTRAL_REFERENCE[k] for k in MEASURES])
    m = np.atleast_2d(measure(neutral))
    return m.mean(0)


def scaled_intensities(activation: np.ndarray, scale: dict[int, float], clip: bool = True) -> np.ndarray:
    s = np.array([scale.get(a, np.nan) for a in AU_IDS])
    with np.errstate(invalid="ignore"):
        out = activation * s
        if clip:
            out = np.clip(out, 0.0, MAX_INTENSITY) + 0.0  # + 0.0: no -0.0
    out[:, ~VISIBLE] = np.nan
    return out


def estimate_aus(landmarks, neutral=None, clip: bool = True) -> np.ndarray:
    """AU intensities 0..5 from 68-point landmarks.

    ``landmarks``: (68,2) or (N,68,2), any pixel frame. ``neutral``: landmarks of the same
    subject's neutral face, (68,2) or (K,68,2) (averaged in the eye frame), or None for the
    population neutral mean. Returns (17,) or (N,17) float in :data:`AU_IDS` order, NaN where
    :data:`VISIBLE` is False (and for faces whose landmarks are not finite). ``clip=False``:
    the linear readings before clipping to 0..5 (below 0 = the opposite movement; for
    solving towards an intensity, where a clipped reading has no slope)."""
    lm = np.asarray(landmarks, dtype=np.float64)
    single = lm.ndim == 2
    m = np.atleast_2d(measure(lm))
    out = scaled_intensities(activations(m - _reference(neutral)), SCALE, clip)
    return out[0] if single else out


# --------------------------------------------------------------------------------------------
# datasets


def _reference_groups(rows: list[dict]) -> list[list[int]]:
    """For each row, the indices of its neutral reference rows: the neutral rows of its pair
    group when it has one with neutral rows, else those of its subject (possibly empty)."""
    by_pair, by_subject = defaultdict(list), defaultdict(list)
    for i, r in enumerate(rows):
        if r.get("labels", {}).get("expression") == "neutral":
            if r.get("pair"):
                by_pair[r["pair"]].append(i)
            by_subject[r.get("subject")].append(i)
    return [(by_pair.get(r.get("pair")) if r.get("pair") else None) or by_subject.get(r.get("subject"), [])
            for r in rows]


def dataset_measures(rows: list[dict]) -> tuple[np.ndarray, np.ndarray, list[list[int]]]:
    """(row measures, per-row reference measures (NaN where the subject has no neutral row),
    reference groups)."""
    m = measure(np.array([r["landmarks"] for r in rows], dtype=np.float64)) if rows else np.zeros((0, len(MEASURES)))
    groups = _reference_groups(rows)
    ref = np.full_like(m, np.nan)
    for i, g in enumerate(groups):
        if g:
            ref[i] = m[g].mean(0)
    return m, ref, groups


def dataset_aus(rows: list[dict]) -> np.ndarray:
    """(N,17) AU intensities of prepared-dataset rows (``landmarks`` in crop pixels), each
    relative to its own subject's neutral rows (its pair group's when it has neutral rows, else
    the subject's; a neutral row is part of its own reference), or to the population neutral
    mean for subjects without a neutral row."""
    m, ref, _ = dataset_measures(rows)
    missing = np.isnan(ref).any(1)
    if missing.any():
        ref[missing] = _reference(None)
    return scaled_intensities(activations(m - ref), SCALE)


# --------------------------------------------------------------------------------------------
# expression prototypes

#: Du, Tao & Martinez 2014 (PNAS 111(15) E1454), Table 1: (AUs active in > 70 % of subjects,
#: bracketed inter-subject AUs), restricted to the 17 AUs here (AU11 and AU24 are not among them).
DU_2014_TABLE1: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "happy": ((12, 25), (6,)),
    "sad": ((4, 15), (1, 6, 17)),  # + AU11
    "fearful": ((1, 4, 20, 25), (2, 5, 26)),
    "angry": ((4, 7), (10, 17, 23)),  # + AU24
    "surprised": ((1, 2, 25, 26), (5,)),
    "disgusted": ((9, 10, 17), (4,)),  # + AU24
}

#: Intensity given to a prototype AU that geometry cannot measure (AU9, AU10 of disgust, AU10
#: of anger): FACS "C" (marked), a nominal choice, not a measurement.
UNSEEN_PROTOTYPE_INTENSITY = 3.0

#: Expressions beyond Du et al.: sleepy = drooping upper lids (AU45 partial closure; FACS AU43
#: "eyes closed" is not among the 17), its intensity measured on Yale's sleepy faces.
#: "wink" is refused: a 17-AU vector has no left and right, so it cannot say which eye closes.
EXTRA_PROTOTYPES: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {"sleepy": ((45,), ())}


def prototype_names() -> list[str]:
    return ["neutral", *DU_2014_TABLE1, *EXTRA_PROTOTYPES]


def expression_prototype(name: str) -> np.ndarray:
    """(17,) AU intensities of a named expression (aliases of :mod:`faceedit.conditions` work).

    The AUs are those of :data:`DU_2014_TABLE1` (main and bracketed), or
    :data:`EXTRA_PROTOTYPES`; each gets the measured mean intensity
    (:data:`MEASURED_EXPRESSION_MEANS`) where geometry sees it, else
    :data:`UNSEEN_PROTOTYPE_INTENSITY`; every other AU is 0. ``neutral`` is all zeros."""
    key = canonical_target(name)
    out = np.zeros(len(AU_IDS))
    if key == "neutral":
        return out
    table = {**DU_2014_TABLE1, **EXTRA_PROTOTYPES}
    if key not in table:
        why = " (a 17-AU vector has no left/right, so it cannot express a one-eyed wink)" if key == "wink" else ""
        raise UsageError(f"no AU prototype for expression {name!r}{why}; choose from {', '.join(prototype_names())}")
    main, extra = table[key]
    measured = MEASURED_EXPRESSION_MEANS.get(key, {})
    for au in (*main, *extra):
        j = AU_IDS.index(au)
        out[j] = UNSEEN_PROTOTYPE_INTENSITY if au in NOT_ESTIMABLE else measured[au]
    return out


# --------------------------------------------------------------------------------------------
# user input


def parse_au_spec(spec: str) -> dict[int, float]:
    """``"12=3.5,6=2"`` (or ``"AU12=3.5 AU6=2"``) -> {12: 3.5, 6: 2.0}; UsageError on an unknown
    AU, a value outside 0..5, a repeated AU or a malformed item."""
    out: dict[int, float] = {}
    items = [p for p in spec.replace(";", ",").replace(" ", ",").split(",") if p.strip()]
    if not items:
        raise UsageError(f"empty AU specification {spec!r}; expected e.g. 12=3.5,6=2")
    for item in items:
        if "=" not in item:
            raise UsageError(f"AU specification item {item!r}: expected AU=INTENSITY, e.g. 12=3.5")
        k, v = (s.strip() for s in item.split("=", 1))
        k_num = k[2:] if k.upper().startswith("AU") else k
        try:
            au = int(k_num)
        except ValueError:
            raise UsageError(f"AU specification item {item!r}: {k!r} is not an AU number") from None
        if au not in AU_IDS:
            raise UsageError(f"unknown AU {k!r}; the 17 AUs are {', '.join(map(str, AU_IDS))}")
        if au in out:
            raise UsageError(f"AU{au} is given twice in {spec!r}")
        try:
            val = float(v)
        except ValueError:
            raise UsageError(f"AU{au}: intensity {v!r} is not a number") from None
        if not (0.0 <= val <= MAX_INTENSITY) or math.isnan(val):
            raise UsageError(f"AU{au}: intensity {val:g} is outside 0..{MAX_INTENSITY:g}")
        out[au] = val
    return out


def aus_to_json(intensities) -> dict[str, float | None]:
    """(17,) intensities -> {"AU1": 1.23, ..., "AU9": None} (NaN -> None, rounded to 3 places)."""
    return {k: (None if not np.isfinite(v) else round(float(v), 3)) for k, v in zip(AU_KEYS, intensities)}
