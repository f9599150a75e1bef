"""How an open mouth's upper teeth fall into the dark below them, down the opening's centre
columns: real teeth (London HD training smiles whose upper row ends over a dark gap, GRID's
talking frames) against the stage's (London HD training neutrals made surprised, fearful or
``--control aaa=1``).

    OMP_NUM_THREADS=1 python bench/measure_teeth_falloff.py --real [--data ../shared/data] \\
        [--ids 001,003,...] [--targets surprised,fearful,aaa] [--profiles] [--as-real 34]

Every photo is read by dlib's 68 points; its luma over the cheeks' median
(:func:`bench_mouth_luma.cheek_mask`) down the centre columns (``|u - 0.5| < 0.15`` of the inner
corner distance ``wd``), at :data:`D` ``wd`` below the upper inner lip (bilinear, unblurred) down to the lower
inner lip, the median over the columns. Read (:func:`falloff`), where the profile's brightest within
``0.02-0.2 wd`` (the teeth's ``peak``) is over 1.5 times its darkest below (``low``):

* ``tip``: the first offset below the peak where the profile falls half way from the peak to
  ``low``: the teeth's lower edge; ``span`` the peak's offset to it (``wd``);
* ``last``: the profile at ``tip - 0.3 span`` (the last third of the lit teeth above the edge)
  over the peak: under 1 the teeth darkening into the mouth's shadow;
* ``e75`` / ``e75px``: from the peak, the first offset under 3/4 of the peak to the first under
  1/4 (``tests/test_stage_open_teeth.py``'s edge), over ``wd`` and in px at that test's 180-px
  opening (``e75 * 180``; the test's bar: 3 px);
* ``e82``: the fall from 80 % to 20 % of the way from the peak to ``low`` (``wd``);
* ``grey``: the profile 0.03 ``wd`` below ``tip`` over ``low``: the cavity right under the teeth
  a grey deepening into the dark (over 1), or already its black (1).

Real smiles count where the teeth's edge stands over a dark gap (``low`` under ``--smile-gap``, 0.5,
of the peak; at 0.8 the rows ending over a lower row in shade count too),
JAFFE's surprise and fear and Yale's surprised faces (grey) whose opening is ``--min-aspect`` (0.25) tall, and GRID frames whose opening is ``--grid-aspect`` (0.2) tall for its corner distance and 16 px
wide. ``--as-real W``: each edit scaled to a mouth ``W`` px wide (area) before it is read, the
real mouths' size (JAFFE, Yale and GRID 34-36 px). Prints each group's medians and quartiles (per face with ``--per-face``) and with
``--profiles`` the median profile (from 0.1 ``wd`` above the peak) over the peak.
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
from bench_mouth_luma import cheek_mask, grid_frames, largest, luma  # noqa: E402
from measure_cavity_structure import edited  # noqa: E402

#: The offsets (over the corner distance) below dlib's upper inner lip the profile reads.
D = np.linspace(-0.06, 0.4, 93)
KEYS = ("span", "last", "e75", "e75px", "e82", "grey")
#: The profile printed with ``--profiles``: these offsets (``wd``) from the teeth's peak.
SHOW = np.round(np.arange(-0.02, 0.13, 0.01), 3)


def profile(img: np.ndarray, lm: np.ndarray) -> tuple[np.ndarray, float]:
    """(luma over the cheeks' at :data:`D` ``wd`` below the upper inner lip, nan past the column's
    middle; ``wd``) down the centre columns of dlib's ``lm``."""
    lm = np.asarray(lm, np.float64)
    wd = float(np.linalg.norm(lm[64] - lm[60]))
    y = luma(img)
    cheek = max(float(np.median(y[cheek_mask(img.shape, lm)])), 1e-6)
    up, lo = lm[[60, 61, 62, 63, 64]], lm[[60, 67, 66, 65, 64]]
    span = lm[64, 0] - lm[60, 0]
    xs = np.arange(np.ceil(lm[60, 0] + 0.35 * span), np.floor(lm[60, 0] + 0.65 * span) + 1)
    if len(xs) < 2:
        return np.full(len(D), np.nan), wd
    yu, yl = np.interp(xs, up[:, 0], up[:, 1]), np.interp(xs, lo[:, 0], lo[:, 1])
    rows = yu[:, None] + D[None, :] * wd
    vals = cv2.remap((y / cheek).astype(np.float32), np.repeat(xs[:, None], len(D), 1).astype(np.float32),
                     rows.astype(np.float32), cv2.INTER_LINEAR)
    vals = np.where(rows <= yl[:, None], vals, np.nan)
    return np.nanmedian(vals, 0), wd


def falloff(prof: np.ndarray, wd: float) -> dict | None:
    """The figures the module's docstring lists, or None where no lit teeth stand over the dark."""
    teeth = np.flatnonzero((D >= 0.02) & (D <= 0.2) & np.isfinite(prof))
    if teeth.size == 0:
        return None
    p = int(teeth[np.nanargmax(prof[teeth])])
    peak = float(prof[p])
    after = prof[p:]
    if not np.isfinite(after).any():
        return None
    low = float(np.nanmin(after))
    if not peak > 1.5 * low:
        return None
    half = np.flatnonzero(after <= low + 0.5 * (peak - low))
    tip = float(D[p + half[0]])
    span = tip - float(D[p]) if tip > D[p] else np.nan

    def first(level: float) -> float:
        k = np.flatnonzero(after <= level)
        return float(D[p + k[0]]) if k.size else np.nan

    e75 = first(0.25 * peak) - first(0.75 * peak)
    at = np.interp([0.7 * tip, tip + 0.03], D, np.nan_to_num(prof, nan=low))
    show = np.interp(D[p] + SHOW, D, np.nan_to_num(prof, nan=low)) / peak
    return {"span": span, "last": float(at[0]) / peak, "e75": e75, "e75px": 180.0 * e75,
            "e82": first(low + 0.2 * (peak - low)) - first(low + 0.8 * (peak - low)),
            "grey": float(at[1]) / max(low, 1e-6), "peak": peak, "low": low, "wd": wd, "show": show}


def line(name: str, ms: list[dict]) -> str:
    if not ms:
        return f"{name:>28}: -"
    parts = []
    for k in KEYS:
        v = np.asarray([m[k] for m in ms], np.float64)
        v = v[np.isfinite(v)]
        parts.append(f"{k} {np.median(v):.3f} ({np.percentile(v, 25):.3f}-{np.percentile(v, 75):.3f})" if v.size
                     else f"{k} -")
    wd = float(np.median([m["wd"] for m in ms]))
    return f"{name:>28} (n={len(ms):3d}, wd {wd:4.0f}): " + " ".join(parts)


def show(name: str, ms: list[dict]) -> str:
    s = np.nanmedian(np.stack([m["show"] for m in ms]), 0) if ms else np.full(len(SHOW), np.nan)
    return f"{name:>28} profile over peak at " + " ".join(f"{d:+.2f}:{x:.2f}" for d, x in zip(SHOW, s))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--real", action="store_true")
    ap.add_argument("--smiles", default="001,002,003,004,006,007,009,011,012,013,016,017,018,021,024,026,027,029,"
                    "031,032,033,034,036,037,038,039,041,042,043,044",
                    help="London training smiles read with --real")
    ap.add_argument("--ids", default="", help="London ids to edit (NNN), comma-separated")
    ap.add_argument("--targets", default="surprised,fearful,aaa")
    ap.add_argument("--smile-gap", type=float, default=0.5,
                    help="a smile counts where its darkest below the teeth is under this share of their peak")
    ap.add_argument("--min-aspect", type=float, default=0.25)
    ap.add_argument("--grid-aspect", type=float, default=0.2)
    ap.add_argument("--per-face", action="store_true")
    ap.add_argument("--as-real", type=float, default=0.0, help="measure each edit scaled to this mouth width (px)")
    ap.add_argument("--profiles", action="store_true")
    a = ap.parse_args(argv)
    warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
    from faceedit.faces.detectors import get_detector

    det = get_detector("dlib")
    groups: dict[str, list[dict]] = {}
    if a.real:
        for i in [s.strip() for s in a.smiles.split(",") if s.strip()]:
            img = np.asarray(Image.open(a.data / "london_hd" / "smiling" / f"{i}.jpg").convert("RGB"))
            f = largest(det, img)
            m = falloff(*profile(img, f.landmarks)) if f is not None else None
            if m is not None and m["low"] < a.smile_gap * m["peak"]:
                groups.setdefault("real London smiles", []).append(m)
                if a.per_face:
                    print(line(f"{i} smiling", [m]), flush=True)
        photos = [("real JAFFE+Yale", np.asarray(Image.open(p).convert("RGB")), a.min_aspect)
                  for p in sorted((a.data / "jaffe").glob("*.SU*.*")) + sorted((a.data / "jaffe").glob("*.FE*.*"))
                  + sorted((a.data / "yale").glob("*.surprised*"))]
        photos += [("real GRID frames", frame, a.grid_aspect) for frame in grid_frames(a.data)]
        for name, frame, least in photos:
            f = largest(det, frame)
            if f is None:
                continue
            lm = np.asarray(f.landmarks, np.float64)
            wd = float(np.linalg.norm(lm[64] - lm[60]))
            aspect = float(np.mean(np.linalg.norm(lm[[61, 62, 63]] - lm[[67, 66, 65]], axis=1))) / max(wd, 1e-6)
            if aspect < least or wd < 16:
                continue
            m = falloff(*profile(frame, lm))
            if m is not None:
                groups.setdefault(name, []).append(m)
    ids = [i.strip() for i in a.ids.split(",") if i.strip()]
    if ids:
        from faceedit.api import Editor

        ed = Editor.from_pretrained("stage", device="cpu")
        for i in ids:
            img = np.asarray(Image.open(a.data / "london_hd" / "neutral" / f"{i}.jpg").convert("RGB"))
            for t in [t.strip() for t in a.targets.split(",") if t.strip()]:
                out, f = edited(ed, det, img, t, a.as_real)
                m = falloff(*profile(out, f.landmarks)) if f is not None else None
                if m is not None:
                    groups.setdefault(f"stage {t}", []).append(m)
                    if a.per_face:
                        print(line(f"{i} {t}", [m]), flush=True)
    for name, ms in groups.items():
        print(line(name, ms), flush=True)
        if a.profiles:
            print(show(name, ms), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
