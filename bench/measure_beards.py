"""How bearded the stage reads each face of a folder of photos (:meth:`faceedit.stage.beard.BeardReading.bearded`).

    OMP_NUM_THREADS=1 python bench/measure_beards.py --photos DIR [--photos DIR2 ...] [--limit N] [--target surprised]

Per photo (its largest face, the stage's detector): the chin's median luma over the upper cheeks' (the dark
verdict reads it, ``EditTuning.beard_chin``), the chin's median fine relief (``BeardReading.relief``) and the upper
cheeks' (their median and lower quartile: a glasses' rim in the cheeks' boxes raises the median), their ratio
(the stranded verdict reads it against the lower quartile, ``beard_chin_strands``, where the chin's own is over
``beard_chin_grain``) and both verdicts. With ``--target`` the same read on the moved pixels and landmarks
that :func:`faceedit.stage.smile.flatten_cheeks` reads in an edit to that target (a laugh made neutral or
surprised), where it flattens the cheeks.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def read(pixels: np.ndarray, lm: np.ndarray, tuning) -> dict | None:
    from faceedit.stage.beard import BeardReading

    box = (0, 0, pixels.shape[1], pixels.shape[0])
    r = BeardReading(pixels, lm, box)
    shade = r.chin_shade() if r.ok else None
    if shade is None:
        return None
    rms, _ = r.relief(tuning)
    cheeks = np.concatenate([r.inside(rms, c) for c in r.cheeks])
    chin = float(np.median(r.inside(rms, r.chin)))
    return {"eye_px": r.ed, "chin_luma": shade[1], "chin_relief": chin, "cheeks_median": float(np.median(cheeks)),
            "cheeks_q25": float(np.percentile(cheeks, 25)), "verdicts": r.bearded(tuning)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=Path, action="append", required=True)
    ap.add_argument("--limit", type=int, default=0, help="at most this many photos a folder (0: all)")
    ap.add_argument("--target", default=None, help="also read the moved face of an edit to this target")
    a = ap.parse_args()
    import faceedit.stage.steps as steps
    from faceedit.api import Editor
    from faceedit.eval import world

    ed = Editor.from_pretrained("stage", device="cpu")
    tuning = ed.stage.tuning.edit
    seen: list[dict] = []
    flatten = steps.flatten_cheeks

    def spy(pixels, lm, amount, tn, **kw):
        seen.append(read(pixels, np.asarray(lm, np.float64), tn) or {})
        return flatten(pixels, lm, amount, tn, **kw)

    print("photo | eye px | chin luma | chin relief | cheeks median / q25 | ratio to q25 | verdicts dark, stranded")
    for folder in a.photos:
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        for p in files[:a.limit or None]:
            rgb = world.read_rgb(p)
            faces = ed.detector.detect(rgb)
            if not faces:
                print(f"{folder.name}/{p.name} | no face")
                continue
            lm = np.asarray(max(faces, key=lambda f: f.area).landmarks, np.float64)
            rows = [("", read(rgb, lm, tuning))]
            if a.target:
                seen.clear()
                steps.flatten_cheeks = spy
                try:
                    ed.edit(rgb, a.target, force=True, face="largest")
                finally:
                    steps.flatten_cheeks = flatten
                rows.append((f" ({a.target}, moved)", seen[0] if seen and seen[0] else None))
            for tag, r in rows:
                if r is None:
                    print(f"{folder.name}/{p.name}{tag} | chin off the photo or no flattening")
                    continue
                v = r["verdicts"] or (0.0, 0.0)
                print(f"{folder.name}/{p.name}{tag} | {r['eye_px']:.0f} | {r['chin_luma']:.3f} | {r['chin_relief']:.4f} | "
                      f"{r['cheeks_median']:.4f} / {r['cheeks_q25']:.4f} | {r['chin_relief'] / max(r['cheeks_q25'], 1e-6):.2f} | "
                      f"{v[0]:.2f}, {v[1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
