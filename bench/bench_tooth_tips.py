"""How a smile's carried row of upper teeth ends, at the photo's own pixels: London HD smiling
faces made surprised or fearful carry their own row into the opening
(:func:`faceedit.stage.lip_rims.shade_carried`); its lower edge should end in tips, soft as
the photo's own edges, not in a ruler's cut or a saw.

    OMP_NUM_THREADS=1 python bench/bench_tooth_tips.py [--ids 002,004,...] [--targets surprised,fearful]
        [--data ../shared/data] [--crops DIR] [--per-face]

Default ids: the trainers' (the held-out split left out); ``--ids held`` the held-out split. Per
edit, over the carried row (its columns with the carried share over 0.5; the middle 70 %):

- ``sd``: per column the lit edge, the first row below the column's brightest where the final
  luma falls under half way from its 90th percentile to the cavity's median (linear between
  pixels); the sd (px) of its deviation from its own running mean over a tenth of the row.
- ``notches``: runs where that edge stands 1 px above its running mean; ``close``: pairs of
  neighbouring notches under 0.6 of a front incisor's width apart (``TOOTH_SHARE`` of the row);
  ``under``: notches under a tooth's middle, where the carried photo's median luma down the
  column is over 0.7 of the way from the darkest to the brightest column within half a tooth.
- ``edge``: the edge's width, its rise over its steepest one-pixel step down the column (a
  box-sampled step reads 1 px), the median over the columns where it is flat.
- ``photo``: the carried row's own side edges' width the same way (across its joints between
  teeth, :func:`faceedit.stage.tooth_tips.side_soft`).

Printed per face with ``--per-face``, then per target: medians of ``sd``, ``edge`` and ``photo``,
rows with no notch and the sums of ``notches``, ``close`` and ``under``. ``--crops DIR`` writes
each carried row's mouth at 1x and 3x nearest.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from faceedit.pixels import LUMA_WEIGHTS

LUMA = np.asarray(LUMA_WEIGHTS, np.float64)


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3].astype(np.float64) @ LUMA / 255.0


def measure(car: np.ndarray, op: np.ndarray, before: np.ndarray, final: np.ndarray) -> dict | None:
    """The measures of one carried row (``car``, ``op``: shade_carried's interior and opening
    over its roi; ``before`` / ``final`` the roi's pixels as carried and as edited)."""
    from faceedit.stage.tooth_tips import TOOTH_SHARE, side_soft

    fin, bef = luma(final), luma(before)
    cols = np.flatnonzero((car > 0.5).any(0))
    if cols.size < 20:
        return None
    n = cols.size
    mid = cols[int(0.15 * n):int(0.85 * n)]
    cav = (op >= 0.99) & (car <= 0)
    tone = float(np.median(fin[cav])) if cav.any() else 0.05
    ye = np.full(fin.shape[1], np.nan)
    ew = np.full(fin.shape[1], np.nan)
    for x in mid:
        ys = np.flatnonzero(car[:, x] > 0.5)
        p = fin[ys[0]:ys[-1] + 1, x]
        hi = np.percentile(p, 90)
        if ys.size < 3 or hi - tone < 0.1:
            continue
        m = tone + 0.5 * (hi - tone)
        k0 = int(np.argmax(p))
        below = np.flatnonzero(p[k0:] < m)
        if below.size == 0:
            continue
        k = k0 + int(below[0])
        ye[x] = ys[0] + (k - 1 + (p[k - 1] - m) / max(p[k - 1] - p[k], 1e-6) if k > 0 else 0.0)
        seg = p[max(k - 4, 0):k + 4]
        c = float(seg.max() - seg.min())
        ew[x] = c / max(float(np.abs(np.diff(seg)).max()), 1e-6) if c > 0.08 else np.nan
    ok = np.isfinite(ye[mid])
    if ok.sum() < 10:
        return None
    xs, v = mid[ok], ye[mid][ok]
    win = max(int(0.1 * n), 5)
    run = np.convolve(np.pad(v, win, mode="edge"), np.ones(2 * win + 1) / (2 * win + 1), "same")[win:-win]
    dev = v - run
    notches, i = [], 0
    while i < dev.size:
        if dev[i] < -1.0:
            j = i
            while j + 1 < dev.size and dev[j + 1] < -1.0:
                j += 1
            notches.append(int(xs[i + int(np.argmin(dev[i:j + 1]))]))
            i = j + 1
        else:
            i += 1
    tooth = TOOTH_SHARE * n
    prof = np.full(fin.shape[1], np.nan)
    for x in cols:
        prof[x] = np.median(bef[car[:, x] > 0.5, x])
    under = 0
    for c in notches:
        near = prof[max(c - int(tooth / 2), 0):c + int(tooth / 2) + 1]
        near = near[np.isfinite(near)]
        under += int((prof[c] - near.min()) / max(near.max() - near.min(), 1e-6) > 0.7)
    flat = np.isfinite(ew) & (np.abs(np.gradient(ye)) < 0.3)
    return {"sd": float(dev.std()), "notches": len(notches),
            "close": int((np.diff(notches) < 0.6 * tooth).sum()) if len(notches) > 1 else 0,
            "under": under, "edge": float(np.median(ew[flat])) if flat.any() else float("nan"),
            "photo": side_soft(bef, car > 0.5, float("nan"))}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--ids", default="", help="London ids; default the trainers'; 'held' the held-out split")
    ap.add_argument("--targets", default="surprised,fearful")
    ap.add_argument("--crops", type=Path, default=None)
    ap.add_argument("--per-face", action="store_true")
    a = ap.parse_args(argv)
    import faceedit.stage.mouth_steps as steps
    from faceedit.api import Editor
    from faceedit.data import holdout_subjects

    files = sorted((a.data / "london_hd" / "smiling").glob("*.jpg"))
    held = sorted(s.split("-")[1] for s in holdout_subjects({f"london-{p.stem}" for p in files}, 0.2, 0))
    ids = ([p.stem for p in files if p.stem not in held] if not a.ids else held if a.ids == "held"
           else [i.strip() for i in a.ids.split(",") if i.strip()])
    seen: list[dict] = []
    shade = steps.shade_carried

    def hook(pixels, roi, interior, opening, amount, tuning, *, in_place=False):
        x0, y0, x1, y1 = (int(v) for v in roi)
        before = np.array(pixels[y0:y1, x0:x1], copy=True)
        out = shade(pixels, roi, interior, opening, amount, tuning, in_place=in_place)
        seen.append({"roi": (x0, y0, x1, y1), "car": np.asarray(interior, np.float32).copy(),
                     "op": np.asarray(opening, np.float32).copy(), "before": before})
        return out

    steps.shade_carried = hook
    ed = Editor.from_pretrained("stage", device="cpu")
    if a.crops:
        a.crops.mkdir(parents=True, exist_ok=True)
    for t in [s.strip() for s in a.targets.split(",") if s.strip()]:
        rows = []
        for i in ids:
            seen.clear()
            out = np.asarray(ed.edit(np.asarray(Image.open(a.data / "london_hd" / "smiling" / f"{i}.jpg").convert("RGB")),
                                     t, face="largest"))
            if not seen:
                continue
            s = seen[-1]
            x0, y0, x1, y1 = s["roi"]
            r = measure(s["car"], s["op"], s["before"], out[y0:y1, x0:x1])
            if r is None:
                continue
            rows.append(r)
            if a.per_face:
                print(f"  {i} {t}: " + " ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                                                 for k, v in r.items()), flush=True)
            if a.crops:
                ys, xs = np.nonzero(s["car"] > 0.5)
                c = out[y0 + max(ys.min() - 6, 0):y0 + ys.max() + 14, x0 + max(xs.min() - 6, 0):x0 + xs.max() + 6, :3]
                cv2.imwrite(str(a.crops / f"{i}_{t}.png"), c[..., ::-1])
                cv2.imwrite(str(a.crops / f"{i}_{t}_3x.png"),
                            cv2.resize(c[..., ::-1], None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST))
        if not rows:
            print(f"{t}: no carried row measured")
            continue
        med = {k: float(np.nanmedian([r[k] for r in rows])) for k in ("sd", "edge", "photo")}
        print(f"{t}: {len(rows)} rows, sd median {med['sd']:.2f} px, no notch {sum(r['notches'] == 0 for r in rows)}, "
              f"notches {sum(r['notches'] for r in rows)}, close {sum(r['close'] for r in rows)}, "
              f"under a tooth's middle {sum(r['under'] for r in rows)}, edge width {med['edge']:.2f} px "
              f"(the photo's side edges {med['photo']:.2f} px)", flush=True)


if __name__ == "__main__":
    main()
