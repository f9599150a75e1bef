"""The structure inside an open mouth, at a scale normalised by the opening: real open mouths
(GRID's talking clips in colour, JAFFE's posed surprise and fear, Yale's surprised faces) against
the stage's (London HD faces at 1350 px made surprised, fearful, or ``--control aaa=1``).

    OMP_NUM_THREADS=1 python bench/measure_cavity_structure.py --real [--data ../shared/data] \\
        [--ids 001,003,...] [--targets surprised,fearful,aaa] [--smiling] [--crops DIR]

Every photo is read by dlib's 68 points (the inner lips 60-67; the stage's edits detected again),
its luma over the cheeks' median (:func:`bench_mouth_luma.cheek_mask`), in the opening's own
coordinates: ``u`` 0..1 from the inner corner 60 to 64, ``v`` 0..1 from the upper inner lip down
to the lower in each column. The luma is first blurred by a Gaussian of ``LOW`` (0.04) of the
corner distance, weighted by the opening's own pixels (the form, not the grain, at every photo's
size: GRID's mouths are 25-40 px wide, the stage's 200). Read (:func:`structure`):

* ``col``: the median down the centre column (``|u - 0.5| < 0.15``) in :data:`V_BINS` bins of v;
* ``row``: the median across the middle rows (v 0.25-0.75) in :data:`U_BINS` bins of u;
* ``lf_sd``: the standard deviation of the blurred luma inside the opening, over the cheeks; and
  ``lf_rel``: the same over the opening's median (its structure for its darkness);
* ``fall``: the rim (the outer fifth of the depth from the opening's edge) over the core (the
  deepest two fifths), medians: above 1 the rims lit, the inside darker;
* ``low_high``: the lower half's median over the upper half's (the tongue and lower rim lit,
  the throat under the teeth dark), centre columns;
* ``sides``: the middle rows' outer sixths (``|u - 0.5| > 1/3``) over their middle third, medians: under
  1 the corners darker than the middle;
* ``median``: the opening's median over the cheeks';
* ``rim_up`` / ``rim_lo``: how soft each lip's inner rim falls into the opening (:func:`rim_width`): the
  distance (over the corner distance) over which the centre columns' luma, unblurred, falls from 80 % to
  20 % of the way from the lip's (just outside dlib's curve) to the opening's darkest, going in;
  ``rim_side``: the upper rim's at the columns beside the centre's (u 0.12-0.3 and 0.7-0.88: past a
  smile's or a shown row's front teeth);
* ``under``: the luma within 0.06 of the corner distance under the upper inner lip over the
  opening's darkest (centre columns; the teeth's lower part or the lip's inner surface against the back).

Openings at least ``--min-aspect`` (0.25; GRID's talking ones ``--grid-aspect`` 0.2) tall for
their corner distance and 12 px wide count. Prints per group the medians and, for the stage, per
face; ``--crops DIR`` writes each edit's mouth at its own pixels and 3x nearest (PNG).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from bench_mouth_luma import cheek_mask, crop, grid_frames, largest, luma  # noqa: E402

LOW = 0.04
V_BINS = 6
U_BINS = 6
KEYS = ("median", "lf_sd", "lf_rel", "fall", "low_high", "sides", "rim_up", "rim_side", "rim_lo", "under")
#: The offsets (over the corner distance) :func:`rim_width` reads the centre columns at, from dlib's curve inward.
RIM_D = np.linspace(-0.12, 0.3, 85)


def opening(shape, lm: np.ndarray, erode: float = 0.02) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(whole polygon mask, eroded mask, corner distance, aspect) of dlib's inner lips 60-67."""
    lm = np.asarray(lm, np.float64)
    wd = float(np.linalg.norm(lm[64] - lm[60]))
    up, lo = lm[[60, 61, 62, 63, 64]], lm[[60, 67, 66, 65, 64]]
    aspect = float(np.mean(np.linalg.norm(up[1:4] - lo[1:4], axis=1))) / max(wd, 1e-6)
    whole = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(whole, [np.round(lm[60:68] * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    r = max(1, round(erode * wd))
    inner = cv2.erode(whole, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    return whole > 0, inner > 0, wd, aspect


def rim_width(y: np.ndarray, lm: np.ndarray, wd: float, upper: bool,
              cols: tuple[tuple[float, float], ...] = ((0.3, 0.7),)) -> tuple[float, float]:
    """(rim falloff width over ``wd``, the luma within 0.06 ``wd`` of the curve over the darkest) at the
    upper (``upper``) or lower inner lip of dlib's ``lm``: the median over the columns at ``cols`` (ranges of u;
    default the centre's, ``|u - 0.5| < 0.2``) of the
    profiles of ``y`` (luma over the cheeks', unblurred, bilinear) at :data:`RIM_D` ``wd`` in from the curve (no
    further than the column's middle); the lip's level the profile's most at -0.12..0 ``wd`` (dlib's curve
    strays by a few px), the inside's its least beyond; the width between its first 80 % and its first 20 %
    of the way down from there. nan where the
    lip is not 1.5x the inside or the profile never falls so far."""
    up, lo = lm[[60, 61, 62, 63, 64]], lm[[60, 67, 66, 65, 64]]
    span = lm[64, 0] - lm[60, 0]
    xs = np.concatenate([np.arange(np.ceil(lm[60, 0] + a * span), np.floor(lm[60, 0] + b * span) + 1) for a, b in cols])
    if len(xs) < 2:
        return float("nan"), float("nan")
    yu, yl = np.interp(xs, up[:, 0], up[:, 1]), np.interp(xs, lo[:, 0], lo[:, 1])
    d = RIM_D[None, :] * wd
    rows = (yu[:, None] + d) if upper else (yl[:, None] - d)
    half = ((yl - yu) / 2.0)[:, None]
    vals = cv2.remap(y.astype(np.float32), np.repeat(xs[:, None], len(RIM_D), 1).astype(np.float32),
                     rows.astype(np.float32), cv2.INTER_LINEAR)
    vals = np.where(d <= half, vals, np.nan)
    prof = np.nanmedian(vals, 0)
    outer = np.flatnonzero(RIM_D <= 0.0)
    top = int(outer[np.nanargmax(prof[outer])])
    lip = float(prof[top])
    inner = np.arange(len(RIM_D)) >= top
    low = float(np.nanmin(prof[inner]))
    near = float(np.nanmedian(prof[(RIM_D >= 0.0) & (RIM_D <= 0.06)]))
    if not np.isfinite(low) or lip < 1.5 * low:
        return float("nan"), near / max(low, 1e-6)
    p = prof[inner]
    dd = RIM_D[inner]
    hi_i = np.flatnonzero(p <= low + 0.8 * (lip - low))
    lo_i = np.flatnonzero(p <= low + 0.2 * (lip - low))
    if len(hi_i) == 0 or len(lo_i) == 0:
        return float("nan"), near / max(low, 1e-6)
    return float(dd[lo_i[0]] - dd[hi_i[0]]), near / max(low, 1e-6)


def structure(img: np.ndarray, lm: np.ndarray) -> dict | None:
    """The figures the module's docstring lists, or None where the opening is under 30 pixels."""
    lm = np.asarray(lm, np.float64)
    whole, inside, wd, aspect = opening(img.shape, lm)
    if inside.sum() < 30:
        return None
    y = luma(img)
    cheek = max(float(np.median(y[cheek_mask(img.shape, lm)])), 1e-6)
    s = max(LOW * wd, 0.5)
    w = inside.astype(np.float32)
    num = cv2.GaussianBlur((y / cheek).astype(np.float32) * w, (0, 0), s)
    den = cv2.GaussianBlur(w, (0, 0), s)
    low = num / np.maximum(den, 1e-6)
    ys, xs = np.nonzero(inside)
    up, lo = lm[[60, 61, 62, 63, 64]], lm[[60, 67, 66, 65, 64]]
    yu, yl = np.interp(xs, up[:, 0], up[:, 1]), np.interp(xs, lo[:, 0], lo[:, 1])
    v = (ys - yu) / np.maximum(yl - yu, 1.0)
    u = (xs - lm[60, 0]) / max(lm[64, 0] - lm[60, 0], 1.0)
    val = low[ys, xs]

    def med(m) -> float:
        return float(np.median(val[m])) if m.sum() >= 3 else float("nan")

    centre = np.abs(u - 0.5) < 0.15
    col = [med(centre & (v >= b / V_BINS) & (v < (b + 1) / V_BINS)) for b in range(V_BINS)]
    mid = (v > 0.25) & (v < 0.75)
    row = [med(mid & (u >= b / U_BINS) & (u < (b + 1) / U_BINS)) for b in range(U_BINS)]
    dist = cv2.distanceTransform(whole.astype(np.uint8), cv2.DIST_L2, 5)
    dn = dist[ys, xs] / max(float(dist.max()), 1e-6)
    rim, core = med(dn <= 0.2), med(dn > 0.6)
    mval = float(np.median(val))
    lf_sd = float(np.std(val))
    rim_up, under = rim_width(y / cheek, lm, wd, True)
    rim_lo, _ = rim_width(y / cheek, lm, wd, False)
    rim_side, _ = rim_width(y / cheek, lm, wd, True, ((0.12, 0.3), (0.7, 0.88)))
    return {"col": np.asarray(col), "row": np.asarray(row), "median": mval, "lf_sd": lf_sd,
            "lf_rel": lf_sd / max(mval, 1e-6), "fall": rim / max(core, 1e-6),
            "low_high": med(centre & (v >= 0.5)) / max(med(centre & (v < 0.5)), 1e-6),
            "sides": med(mid & (np.abs(u - 0.5) > 1 / 3)) / max(med(mid & (np.abs(u - 0.5) < 1 / 6)), 1e-6),
            "rim_up": rim_up, "rim_side": rim_side, "rim_lo": rim_lo, "under": under, "aspect": aspect, "wd": wd}


def line(name: str, ms: list[dict]) -> str:
    """One line of the medians over ``ms``."""
    if not ms:
        return f"{name:>26}: -"
    c = np.nanmedian(np.stack([m["col"] for m in ms]), 0)
    r = np.nanmedian(np.stack([m["row"] for m in ms]), 0)
    k = {key: float(np.nanmedian([m[key] for m in ms])) for key in (*KEYS, "wd", "aspect")}
    return (f"{name:>26} (n={len(ms):3d}, wd {k['wd']:4.0f}, aspect {k['aspect']:.2f}): median {k['median']:.3f} "
            f"lf_sd {k['lf_sd']:.3f} lf_rel {k['lf_rel']:.2f} fall {k['fall']:.2f} low/high {k['low_high']:.2f} "
            f"sides {k['sides']:.2f} rim_up {k['rim_up']:.3f} rim_side {k['rim_side']:.3f} rim_lo {k['rim_lo']:.3f} under {k['under']:.2f} | col "
            + " ".join(f"{x:.3f}" for x in c) + " | row " + " ".join(f"{x:.3f}" for x in r))


def real(data: Path, det, min_aspect: float, grid_aspect: float) -> None:
    photos: list[tuple[str, np.ndarray, float]] = []
    for name, files in (("JAFFE surprise+fear", sorted((data / "jaffe").glob("*.SU*.*"))
                         + sorted((data / "jaffe").glob("*.FE*.*"))),
                        ("Yale surprised", sorted((data / "yale").glob("*.surprised*")))):
        photos += [(name, np.asarray(Image.open(p).convert("L")), min_aspect) for p in files]
    photos += [("GRID frames", f, grid_aspect) for f in grid_frames(data)]
    groups: dict[str, list[dict]] = {}
    for name, img, least in photos:
        f = largest(det, img)
        if f is None:
            continue
        m = structure(img, f.landmarks)
        if m is not None and m["aspect"] >= least and m["wd"] >= 12:
            groups.setdefault(name, []).append(m)
    for name, ms in groups.items():
        print(line(f"real {name}", ms), flush=True)
    print(line("real all", [m for ms in groups.values() for m in ms]), flush=True)


def edited(ed, det, img: np.ndarray, target: str, as_real: float = 0.0):
    """The stage's edit of ``img``'s largest face to ``target`` (``aaa``: neutral with the ``aaa`` control) and the
    face ``det`` finds on it (None where none); with ``as_real`` the edit first scaled so that its inner-lip corners
    lie that many px apart (a real photo's mouth width), the face found again there."""
    out = (ed.edit(img, "neutral", controls={"aaa": 1.0}, face="largest") if target == "aaa"
           else ed.edit(img, target, face="largest"))
    f = largest(det, out)
    if as_real and f is not None:
        k = as_real / max(float(np.linalg.norm(f.landmarks[64] - f.landmarks[60])), 1e-6)
        out = cv2.resize(out, (round(out.shape[1] * k), round(out.shape[0] * k)), interpolation=cv2.INTER_AREA)
        f = largest(det, out)
    return out, f


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--ids", default="", help="London ids (NNN), comma-separated; none: real mouths only")
    ap.add_argument("--targets", default="surprised,fearful,aaa")
    ap.add_argument("--smiling", action="store_true", help="edit the smiling photos")
    ap.add_argument("--real", action="store_true")
    ap.add_argument("--min-aspect", type=float, default=0.25)
    ap.add_argument("--grid-aspect", type=float, default=0.2)
    ap.add_argument("--crops", type=Path, default=None)
    ap.add_argument("--size", type=int, default=0, help="edit the photo scaled to this height (px)")
    ap.add_argument("--as-real", type=float, default=0.0, help="measure each edit scaled to this mouth width (px)")
    a = ap.parse_args(argv)
    warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)  # a thin opening has no core
    from faceedit.faces.detectors import get_detector

    det = get_detector("dlib")
    if a.real:
        real(a.data, det, a.min_aspect, a.grid_aspect)
    ids = [i.strip() for i in a.ids.split(",") if i.strip()]
    if not ids:
        return 0
    from faceedit.api import Editor

    ed = Editor.from_pretrained("stage", device="cpu")
    folder = "smiling" if a.smiling else "neutral"
    targets = [t.strip() for t in a.targets.split(",") if t.strip()]
    if a.crops:
        a.crops.mkdir(parents=True, exist_ok=True)
    per: dict[str, list[dict]] = {t: [] for t in targets}
    for i in ids:
        img = np.asarray(Image.open(a.data / "london_hd" / folder / f"{i}.jpg").convert("RGB"))
        if a.size:
            img = cv2.resize(img, (round(img.shape[1] * a.size / img.shape[0]), a.size), interpolation=cv2.INTER_AREA)
        for t in targets:
            out, f = edited(ed, det, img, t, a.as_real)
            m = structure(out, f.landmarks) if f is not None else None
            if m is not None:
                per[t].append(m)
                print(line(f"{i} {folder} {t}", [m]), flush=True)
            if a.crops and f is not None:
                c = crop(out, f.landmarks)
                stem = a.crops / f"{i}_{folder}_{t}"
                Image.fromarray(c).save(f"{stem}.png")
                Image.fromarray(cv2.resize(c, None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)).save(f"{stem}_3x.png")
    for t in targets:
        print(line(f"stage {folder} {t}", per[t]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
