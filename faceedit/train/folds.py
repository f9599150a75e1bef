"""Fit the stage's fold statistics (:mod:`faceedit.stage.folds`) from the same people's neutral
and posed photos: JAFFE's neutral -> angry, disgusted, fearful, surprised, happy, sad and Yale's
normal -> surprised, happy, sad.

    python -m faceedit.train.folds --jaffe ../shared/data/jaffe --yale ../shared/data/yale -o weights/folds.safetensors

For each training subject (the held-out 20 %, the trainers' seeded split, are left out) and each
posed photo, every neutral photo of that person is warped onto the posed photo's landmarks (a
thin-plate spline), the luma log ratio posed / neutral taken and high-passed (:data:`HIGH_PASS`:
what is left are lines and creases). Across each fold line that
:func:`faceedit.stage.folds.fold_curves` lays out on the posed photo's landmarks it is sampled at
signed distances of up to :attr:`faceedit.stage.tuning_folds.FoldsTuning.reach` eye distances and averaged along the
line: as laid out, and centred on the line's own groove (:func:`centred`). Averaged per target
and less the same average over one person's neutral -> other neutral photos (the floor), the
profiles of the targets that make a kind (:data:`SOURCES`) give its parameters
(:func:`fit_kind`: where the fold lies, which side is sharp, the soft side's width); the depths
are set by looking (:data:`DRAWN_DEPTH`), and AU9's and AU10's level per target is its FACS
prototype's. Only these numbers are kept (statistics, as the data's terms allow: no image or
crop of JAFFE or Yale); ``--report`` writes the profiles and each target's dip at each fold.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from faceedit.data import holdout_subjects
from faceedit.faces.au import AU_IDS, estimate_aus, expression_prototype, prototype_names
from faceedit.faces.landmarks import eye_distance
from faceedit.stage.folds import GEOMETRIC, KINDS, FoldStats, au_sum, fold_curves
from faceedit.stage.tuning_folds import FoldsTuning
from faceedit.stage.warp import ThinPlateSpline

#: The posed targets whose folds set each kind's profile (and, for AU4 and AU1+2, its AU level).
SOURCES = {"forehead": ("surprised", "fearful"), "glabella": ("angry", "disgusted"),
           "nose": ("disgusted",), "nasolabial": ("disgusted",)}
#: AU9's and AU10's level at the fitted depth (landmarks do not show them): FACS's "marked"
#: intensity, the level the stage raises its posed targets to (:mod:`faceedit.train.stage`).
TEXTURE_AU_REF = 3.5
#: The profiles are read as far across a fold as the stage draws one at least (its default).
REACH = FoldsTuning().reach
#: The signed distances (eye distances) the profiles are sampled at.
STEPS = np.linspace(-REACH, REACH, 49)
#: The blur (eye distances) taken off the ratio: what is left are lines and creases.
HIGH_PASS = 0.06
#: How far (eye distances) a fold may lie from its laid-out curve on one face: each line's
#: profile is centred on its lowest point within this before the profiles are averaged, so
#: the spread of where people fold does not smear the groove.
SEEK = 0.04
#: The narrowest soft side the photos resolve: this many of their pixels (over their eye
#: distance in pixels: about 0.024 eye distances on JAFFE's 256-px photos). A narrower fitted
#: half is the centring's pick of noise.
RESOLVED_PX = 1.5
#: A fold's depth as drawn at its fitted AU level (a luma ratio's drop in the groove) and its
#: highlight (a share of that depth, at one and a half soft widths onto the soft side): set by
#: looking at 1350-px London faces. The data's 256-px photos (an eye distance of about 62 px)
#: resolve a line of one or two pixels: their ratios find where each fold lies, on which side
#: it is sharp and how wide its soft side is, but not how dark a groove a few pixels wide is.
DRAWN_DEPTH = {"forehead": 0.12, "glabella": 0.1, "nose": 0.14, "nasolabial": 0.12}
DRAWN_LIGHT = 0.3
#: The widest soft side drawn (eye distances): a wider one is the smooth change the appearance
#: maps draw, not a fold.
MAX_SOFT = 0.03
#: The soft side's width (eye distances) of a kind whose profile shows no groove above the floor,
#: set by looking: the nasolabial furrow is a broad shadow beside its crease (the posed photos'
#: mean ratio shows a band about 0.05 eye distances wide there).
DEFAULT_SOFT = {"forehead": 0.02, "glabella": 0.02, "nose": 0.02, "nasolabial": 0.04}
TARGETS = ("angry", "disgusted", "fearful", "surprised", "happy", "sad")


def _photos(jaffe: Path | None, yale: Path | None) -> list[tuple[str, str, str, str]]:
    """(dataset, subject, expression, path) rows of the posed photos and their neutrals (Yale's
    ``normal``, not its lit or glasses photos)."""
    from faceedit.train.presets import jaffe as read_jaffe
    from faceedit.train.presets import yale as read_yale

    rows = []
    for name, root, reader in (("jaffe", jaffe, read_jaffe), ("yale", yale, read_yale)):
        if root is None:
            continue
        for s in reader(root):
            e = s.labels.get("expression")
            if e is None or e == "neutral" and len(s.labels) > 1:  # Yale's lit and glasses photos
                continue
            rows.append((name, s.subject, e, s.path))
    return rows


def _luma(path: str) -> np.ndarray:
    img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise SystemExit(f"{path}: cannot be read")
    return img.astype(np.float32) / 255.0


def log_ratio(posed: np.ndarray, lm_posed: np.ndarray, neutral: np.ndarray, lm_neutral: np.ndarray) -> np.ndarray:
    """log(posed / neutral warped onto the posed landmarks), less its blur over
    :data:`HIGH_PASS` eye distances: the folds, without the smooth change of light and of the
    face's shape that the appearance maps already draw (and the mismatch of hair and brows the
    warp leaves beyond the landmarks)."""
    h, w = posed.shape
    gy, gx = np.mgrid[0:h, 0:w]
    xy = ThinPlateSpline(lm_posed, lm_neutral, reg=1e-2)(np.stack([gx, gy], -1).reshape(-1, 2).astype(np.float64))
    xy = xy.reshape(h, w, 2).astype(np.float32)
    warped = cv2.remap(neutral, xy[..., 0], xy[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    r = np.log(np.maximum(posed, 1e-3)) - np.log(np.maximum(warped, 1e-3))
    r = r - cv2.GaussianBlur(r, (0, 0), HIGH_PASS * eye_distance(lm_posed))
    return r.astype(np.float32)


def profiles(ratio: np.ndarray, lm: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per kind the mean log ratio across its fold lines (at :data:`STEPS`) on a face at ``lm``:
    each line's as sampled, and each line's centred on its groove (:func:`centred`)."""
    ed = eye_distance(lm)
    acc: dict[str, list[tuple[np.ndarray, float]]] = {}
    raw: dict[str, list[tuple[np.ndarray, float]]] = {}
    for c in fold_curves(lm):
        tangent = np.gradient(c.points, axis=0)
        tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-9)
        normal = np.stack([-tangent[:, 1], tangent[:, 0]], 1)  # the positive side (folds.Curve)
        at = c.points[:, None, :] + STEPS[None, :, None] * ed * normal[:, None, :]
        s = cv2.remap(ratio, at[..., 0].astype(np.float32), at[..., 1].astype(np.float32), cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_REPLICATE)
        wt = c.weight / max(float(c.weight.sum()), 1e-9)
        line = (s * wt[:, None]).sum(0)
        raw.setdefault(c.kind, []).append((line, float(c.weight.sum())))
        acc.setdefault(c.kind, []).append((centred(line), float(c.weight.sum())))

    def mean(d: dict[str, list[tuple[np.ndarray, float]]]) -> dict[str, np.ndarray]:
        return {k: np.sum([p * w for p, w in v], 0) / sum(w for _, w in v) for k, v in d.items()}

    return mean(raw), mean(acc)


def centred(p: np.ndarray) -> np.ndarray:
    """Profile ``p`` (at :data:`STEPS`) moved so its lowest point within :data:`SEEK` of the
    curve lies on it (the ends filled with the edge values)."""
    near = np.flatnonzero(np.abs(STEPS) <= SEEK)
    i = int(near[np.argmin(p[near])])
    shift = i - len(STEPS) // 2
    return np.interp(np.arange(len(p)) + shift, np.arange(len(p)), p)


#: The half-width (eye distances) of the local dip a groove is measured by.
DIP = 0.03


def dip(p: np.ndarray) -> np.ndarray:
    """At each of :data:`STEPS`, how far profile ``p`` lies below the mean of its values
    :data:`DIP` either side: a groove's depth there, blind to a linear trend across it (the
    fold's two sides, cheek and lip, differ in light)."""
    k = int(round(DIP / (STEPS[1] - STEPS[0])))
    padded = np.pad(p, k, mode="edge")
    return (padded[:-2 * k] + padded[2 * k:]) / 2 - p


def groove(p: np.ndarray) -> float:
    """How deep a centred profile's groove is: its value at the curve below that at the ends."""
    return float(np.mean(p[np.abs(STEPS) > 0.8 * REACH]) - p[len(STEPS) // 2])


def _half_width(p: np.ndarray, i: int, step: int) -> float:
    """Eye distances from ``STEPS[i]`` to where ``p`` rises above half its value there, going ``step``."""
    half = p[i] / 2
    j = i
    while 0 <= j + step < len(p) and p[j + step] < half:
        j += step
    return abs(float(STEPS[j] - STEPS[i])) + (STEPS[1] - STEPS[0]) / 2


def fit_kind(p: np.ndarray, kind: str, laid: np.ndarray, min_soft: float) -> dict[str, float]:
    """A kind's :data:`faceedit.stage.folds.PARAMS` from its mean centred log-ratio profile
    ``p`` (less the neutral floor): the sharp side the narrower half of the groove, the soft
    side's width with the narrow half's taken out (both halves are spread alike by the photos'
    resolution and the centring; at least ``min_soft``, what the photos resolve), the depth and highlight as drawn (:data:`DRAWN_DEPTH`); the
    offset from the mean profile across the lines as laid out (``laid``): its deepest local dip
    (:func:`dip`) within :data:`SEEK` of them."""
    i = len(STEPS) // 2
    soft, sharp_side = DEFAULT_SOFT[kind], 1.0
    if groove(p) > 0:
        q = p - float(np.mean(p[np.abs(STEPS) > 0.8 * REACH]))
        left, right = _half_width(q, i, -1), _half_width(q, i, 1)
        sharp_side = 1.0 if right < left else -1.0
        narrow, wide = min(left, right), max(left, right)
        soft = float(np.clip(np.sqrt(max(wide ** 2 - narrow ** 2, 0.0)), min_soft, MAX_SOFT))
    near = np.flatnonzero(np.abs(STEPS) <= SEEK)
    dips = dip(laid)
    j = int(near[np.argmax(dips[near])])
    offset = float(STEPS[j]) if dips[j] > 0 else 0.0
    depth = DRAWN_DEPTH[kind]
    return {"depth": depth, "soft": soft, "sharp_side": sharp_side, "light": DRAWN_LIGHT * depth,
            "light_at": 1.5 * soft, "light_width": soft, "offset": offset}


def fit(jaffe: Path | None, yale: Path | None, detector: str = "auto", seed: int = 0,
        holdout: float = 0.2) -> tuple[FoldStats, dict]:
    """The fold statistics and a report (pairs per target, each target's mean profile)."""
    from faceedit.faces.detectors import get_detector

    rows = _photos(jaffe, yale)
    held: set[str] = set()
    for name in {r[0] for r in rows}:
        held |= holdout_subjects({r[1] for r in rows if r[0] == name}, holdout, seed)
    det = get_detector(detector)
    marks: dict[str, np.ndarray] = {}
    for _, subj, _, path in rows:
        if subj in held:
            continue
        g = _luma(path)
        grey = np.round(g * 255).astype(np.uint8)
        faces = [f for f in det.detect(np.repeat(grey[..., None], 3, -1)) if np.shape(f.landmarks) == (68, 2)]
        if faces:
            marks[path] = np.asarray(max(faces, key=lambda f: f.area).landmarks, np.float64)
    by_target: dict[str, list[dict[str, np.ndarray]]] = {}  # centred profiles
    as_laid: dict[str, list[dict[str, np.ndarray]]] = {}  # as sampled across the laid-out lines
    au_rise: dict[str, list[float]] = {k: [] for k in GEOMETRIC}
    eds = []
    for _, subj, e, path in rows:
        if subj in held or e not in (*TARGETS, "neutral") or path not in marks:
            continue
        neutrals = [p for _, s, x, p in rows if s == subj and x == "neutral" and p in marks and p != path]
        if not neutrals:
            continue
        lm = marks[path]
        eds.append(eye_distance(lm))
        posed = _luma(path)
        per = [profiles(log_ratio(posed, lm, _luma(n), marks[n]), lm) for n in neutrals]
        by_target.setdefault(e, []).append({k: np.mean([q[1][k] for q in per], 0) for k in KINDS})
        as_laid.setdefault(e, []).append({k: np.mean([q[0][k] for q in per], 0) for k in KINDS})
        for kind in GEOMETRIC:
            if e in SOURCES[kind]:
                rise = [au_sum(estimate_aus(lm, neutral=marks[n]), kind) for n in neutrals]
                au_rise[kind].append(float(np.mean(rise)))
    if "neutral" not in by_target:
        raise SystemExit("no subject with two neutral photos: the noise of a groove found on any face is not known")
    # a groove sought on any ratio finds some: neutral -> neutral of one person is that floor
    mean = {t: {k: np.mean([q[k] for q in v], 0) for k in KINDS} for t, v in by_target.items()}
    floor = mean.pop("neutral")
    laid = {t: {k: np.mean([q[k] for q in v], 0) for k in KINDS} for t, v in as_laid.items()}
    laid_floor = laid.pop("neutral")
    params: dict[str, dict[str, float]] = {}
    au_ref: dict[str, float] = {}
    levels: dict[str, dict[str, float]] = {t: {} for t in mean}  # AU9's and AU10's per target
    found: dict[str, dict[str, float]] = {t: {} for t in mean}  # the local dip at each fold
    for kind in KINDS:
        src = [q[kind] for t in SOURCES[kind] for q in by_target.get(t, [])]
        if not src:
            raise SystemExit(f"no posed {' or '.join(SOURCES[kind])} photo with a neutral of the same person")
        src_laid = np.mean([q[kind] for t in SOURCES[kind] for q in as_laid.get(t, [])], 0) - laid_floor[kind]
        params[kind] = fit_kind(np.mean(src, 0) - floor[kind], kind, src_laid, RESOLVED_PX / float(np.median(eds)))
        au_ref[kind] = float(np.mean(au_rise[kind])) if kind in GEOMETRIC else TEXTURE_AU_REF
        i = int(np.argmin(np.abs(STEPS - params[kind]["offset"])))
        for t, m in laid.items():  # the mean groove where the fold is drawn: no centring's bias
            q = m[kind] - laid_floor[kind]
            found[t][kind] = float(dip(q)[i])
            if kind not in GEOMETRIC:  # the target's AU in its FACS prototype, at the fitted level
                proto = expression_prototype(t) if t in prototype_names() else np.zeros(len(AU_IDS))
                levels[t][kind] = au_sum(proto, kind) / TEXTURE_AU_REF
    report = {
        "pairs": {t: len(v) for t, v in sorted(by_target.items())},
        "held_out_subjects": sorted(held),
        "eye_distance_px": round(float(np.median(eds)), 1),
        "params": {k: {p: round(v, 4) for p, v in d.items()} for k, d in params.items()},
        "au_ref": {k: round(v, 3) for k, v in au_ref.items()},
        "levels": {t: {k: round(v, 3) for k, v in d.items()} for t, d in sorted(levels.items())},
        # the mean log ratio's local dip at each kind's fold (its offset), less neutral -> neutral's
        "grooves_found": {t: {k: round(v, 4) for k, v in d.items()} for t, d in sorted(found.items())},
        "profiles": {t: {k: [round(float(x), 4) for x in v] for k, v in m.items()}
                     for t, m in sorted({**laid, "neutral": laid_floor}.items())},
    }
    return FoldStats(params, au_ref, levels), report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m faceedit.train.folds", description=__doc__.split("\n\n")[0])
    ap.add_argument("--jaffe", type=Path, help="JAFFE's folder (KA.NE1.26.png ...)")
    ap.add_argument("--yale", type=Path, help="the Yale Face Database's folder (subject01.normal.png ...)")
    ap.add_argument("-o", "--out", type=Path, required=True, help="the .safetensors file to write")
    ap.add_argument("--report", type=Path, help="also write the report (JSON: pairs, parameters, profiles)")
    ap.add_argument("--detector", default="auto")
    args = ap.parse_args(argv)
    for name in ("jaffe", "yale"):
        root = getattr(args, name)
        if root is not None and not root.is_dir():
            ap.error(f"--{name} {root}: not a folder")
    if args.jaffe is None and args.yale is None:
        ap.error("give --jaffe and/or --yale")
    stats, report = fit(args.jaffe, args.yale, args.detector)
    used = [n for n in ("jaffe", "yale") if getattr(args, n) is not None]
    stats.save(args.out, {"data": ",".join(used), "command": " ".join(["python -m faceedit.train.folds", *(argv or sys.argv[1:])]),
                          "license": "non-commercial research use (JAFFE; Yale: research use with citation); statistics only"})
    if args.report is not None:
        args.report.write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "profiles"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
