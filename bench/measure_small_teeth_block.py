"""Small faces' open mouths: do the upper teeth read as a row across the opening, as none, or as a lone block?

    OMP_NUM_THREADS=1 python bench/measure_small_teeth_block.py [--london ../shared/data/london_hd] [--ids 001,002]
        [--sides 128,256] [--photos group_t1.jpg,group_five.jpg] [--held-out] [-o runs/small_teeth_block]

London neutrals cut to ``--sides`` px (:func:`faceedit.eval.world.small_face`, a face 90 px tall at 128) and the
world group photos' faces 50-150 px tall (dlib's box), made surprised, fearful and ``aaa`` 1 by the stage. In the
stage's own opening (the mask :meth:`faceedit.stage.mouth_bank.MouthBank.fill` is given, eroded by a pixel: the
anti-aliased edge is the lips') the pixels lighter than :data:`LIGHT` of the cheeks' median luma (dlib's cheeks on
the input), in 8-connected blocks of 2 px or more: ``none`` without any, ``lone`` one block narrower than a third
of the opening's width, ``row`` blocks spanning a third of it or more, ``bits`` the rest. Per opening and the
counts per size and edit. ``-o``: the edits and masks as PNG. ``--ids`` defaults to the London training ids (the
first 24 not held out); ``--held-out`` reads the held-out ones instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_mouth_luma import cheek_mask, luma  # noqa: E402
from london_ids import HELD_OUT  # noqa: E402

LIGHT = 0.6
EDITS = (("surprised", {}), ("fearful", {}), ("neutral", {"controls": {"aaa": 1.0}}))


def classify(y: np.ndarray, inside: np.ndarray, cheek: float) -> tuple[str, int, int]:
    """(kind, the opening's width, the light blocks' span) of the opening ``inside`` of luma ``y``."""
    xs = np.nonzero(inside.any(0))[0]
    width = int(xs.max() - xs.min() + 1)
    light = (inside & (y > LIGHT * cheek)).astype(np.uint8)
    n, _, st, _ = cv2.connectedComponentsWithStats(light, connectivity=8)
    blocks = [st[k] for k in range(1, n) if st[k][4] >= 2]
    if not blocks:
        return "none", width, 0
    span = int(max(b[0] + b[2] for b in blocks) - min(b[0] for b in blocks))
    if len(blocks) == 1 and blocks[0][2] < width / 3:
        return "lone", width, span
    return ("row" if span >= width / 3 else "bits"), width, span


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--london", type=Path, default=Path("../shared/data/london_hd"))
    ap.add_argument("--ids", default="")
    ap.add_argument("--held-out", action="store_true")
    ap.add_argument("--sides", default="128,256")
    ap.add_argument("--photos", default="group_t1.jpg,group_five.jpg")
    ap.add_argument("-o", "--out", type=Path)
    args = ap.parse_args(argv)
    import faceedit.stage.mouth_bank as mouth_bank
    from faceedit.api import Editor
    from faceedit.eval.world import _pupils, cache_dir, read_rgb, small_face
    from faceedit.faces.detectors import get_detector

    if args.ids:
        ids = args.ids.split(",")
    else:
        have = sorted(p.stem for p in (args.london / "neutral").glob("*.jpg"))
        ids = [i for i in have if i in HELD_OUT] if args.held_out else [i for i in have if i not in HELD_OUT][:24]
    inputs = []
    for i in ids:
        rgb = read_rgb(args.london / "neutral" / f"{i}.jpg")
        pupils = _pupils(args.london / "templates" / f"{i}.tem")
        inputs += [(f"london_{i}_{s}", small_face(rgb, pupils, s), s) for s in map(int, args.sides.split(","))]
    inputs += [(Path(p).stem, read_rgb(cache_dir() / "images" / p), 0) for p in args.photos.split(",") if p]
    openings: list[tuple[tuple[int, ...], np.ndarray]] = []
    fill = mouth_bank.MouthBank.fill

    def kept(self, pixels, roi, opening, *a, **k):  # the opening each fill is given
        openings.append((tuple(int(v) for v in roi), np.asarray(opening, np.float32).copy()))
        return fill(self, pixels, roi, opening, *a, **k)

    mouth_bank.MouthBank.fill = kept
    ed = Editor.from_pretrained("stage", device="cpu")
    dlib = get_detector("dlib")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, dict[str, int]] = {}
    for name, rgb, side in inputs:
        faces = [np.asarray(f.landmarks, np.float64) for f in dlib.detect(rgb)
                 if side or 50 <= f.box[3] - f.box[1] <= 150]
        for target, kw in EDITS:
            openings.clear()
            out = ed.edit(rgb, target, 1.0, **kw, **({"face": "largest"} if side else {}))
            mask = np.zeros(out.shape[:2], np.float32)
            for (x0, y0, x1, y1), op in openings:
                if op.shape == (y1 - y0, x1 - x0) and y1 <= mask.shape[0] and x1 <= mask.shape[1]:
                    mask[y0:y1, x0:x1] = np.maximum(mask[y0:y1, x0:x1], op)
            edit = "aaa" if kw else target
            if args.out:
                cv2.imwrite(str(args.out / f"{name}_{edit}.png"), cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
                cv2.imwrite(str(args.out / f"{name}_{edit}.mask.png"), (mask * 255).astype(np.uint8))
            m = cv2.erode((mask > 0.5).astype(np.uint8), np.ones((3, 3), np.uint8))
            n, lab, st, cen = cv2.connectedComponentsWithStats(m)
            y = luma(out)
            row = []
            for k in range(1, n):
                if st[k][4] < 6 or not faces:
                    continue
                lm = min(faces, key=lambda f: float(np.linalg.norm(f[48:68].mean(0) - cen[k])))
                if np.linalg.norm(lm[48:68].mean(0) - cen[k]) > 0.5 * np.ptp(lm[:, 1]):
                    continue
                cheek = float(np.median(y[cheek_mask(out.shape, lm)]))
                kind, width, span = classify(y, lab == k, cheek)
                row.append(f"{kind} (width {width}, span {span})")
                group = f"{'london ' + str(side) if side else 'world'} {edit}"
                counts.setdefault(group, {}).setdefault(kind, 0)
                counts[group][kind] += 1
            print(f"{name:24s} {edit:9s} " + "; ".join(row), flush=True)
    total: dict[str, int] = {}
    for group in sorted(counts):
        print(f"== {group}: " + " ".join(f"{k} {v}" for k, v in sorted(counts[group].items())))
        for k, v in counts[group].items():
            total[k] = total.get(k, 0) + v
    print("== all: " + " ".join(f"{k} {v}" for k, v in sorted(total.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
