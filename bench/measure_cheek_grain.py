"""The cheeks' grain that a small face made neutral keeps (freckles, pores; the flattened cheeks of
:func:`faceedit.stage.smile.flatten_cheeks`).

    OMP_NUM_THREADS=1 python bench/measure_cheek_grain.py --london ../shared/data/london_hd --ids 001,002,003,004,006,007

The astronaut (scikit-image, 512 px, 43 px between the eyes) and the London ``--ids`` smiling
photos cut to 96 and 128 px (:func:`faceedit.eval.world.london_variants`, 30 and 40 px between
the eyes) are made neutral; per photo the grain (the std of the luma less its Gaussian blur of
1.5 px) of the input and of the edit at the input's landmarks: in boxes 0.28 eye distances wide
under each eye beside the nose (``under-eye``) and over the cheeks' mask
(:func:`faceedit.stage.smile._cheek_mask`, above 0.9) above the nose's tip (``upper``) and below
it (``lower``, where the smile's folds were), then each measure's edit over input, mean over the
photos. ``-o DIR`` writes each input and edit as PNG.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np


def grain(rgb: np.ndarray, lm: np.ndarray) -> list[float]:
    """The under-eye boxes' (image left, right), the upper and the lower cheeks' grain."""
    from faceedit.faces.landmarks import eye_distance
    from faceedit.stage.smile import _cheek_mask

    y = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    hp = y - cv2.GaussianBlur(y, (0, 0), 1.5)
    e = eye_distance(lm)
    out = []
    for eye, wing in ((slice(36, 42), 31), (slice(42, 48), 35)):
        cx = 0.55 * lm[eye].mean(0)[0] + 0.45 * lm[wing][0]
        cy = 0.5 * (lm[eye][:, 1].max() + lm[wing][1])
        h = 0.14 * e
        out.append(float(hp[int(cy - h):int(cy + h) + 1, int(cx - h):int(cx + h) + 1].std()))
    mask = _cheek_mask(y.shape, lm, 0.05 * e) > 0.9
    rows = np.arange(y.shape[0])[:, None]
    out += [float(hp[mask & (rows < lm[30][1])].std()), float(hp[mask & (rows >= lm[30][1])].std())]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--london", type=Path, default=None, help="the london_hd folder")
    ap.add_argument("--ids", default="001,002,003,004,006,007")
    ap.add_argument("-o", "--out", type=Path, default=None)
    args = ap.parse_args(argv)
    from skimage.data import astronaut

    from faceedit.api import Editor
    from faceedit.eval.world import london_variants
    from faceedit.faces.landmarks import eye_distance
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    ed = Editor.from_pretrained("stage", device="cpu")
    photos = [("astronaut", astronaut())]
    if args.london is not None:
        ids = args.ids.split(",")
        variants = dict(london_variants(args.london, ids=ids, expressions=("smiling",)))
        photos += [(k, variants[k]) for i in ids for s in (96, 128)
                   if (k := f"london_{i}_smiling_small{s}") in variants]
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    ratios = []
    for name, rgb in photos:
        face = ed.detector.detect(rgb)[0]
        lm = np.asarray(face.landmarks, np.float64)
        edit = edit_faces(ed, rgb, [face], EditRequest.of("neutral", 1.0))
        if args.out is not None:
            cv2.imwrite(str(args.out / f"{name}_in.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            cv2.imwrite(str(args.out / f"{name}.png"), cv2.cvtColor(edit, cv2.COLOR_RGB2BGR))
        gi, go = grain(rgb, lm), grain(edit, lm)
        r = ((go[0] + go[1]) / (gi[0] + gi[1]), go[2] / gi[2], go[3] / gi[3])
        ratios.append(r)
        print(f"{name:28s} {eye_distance(lm):5.1f} px between the eyes; under-eye {gi[0]:.2f}/{gi[1]:.2f} -> "
              f"{go[0]:.2f}/{go[1]:.2f} ({r[0]:.2f}), upper {gi[2]:.2f} -> {go[2]:.2f} ({r[1]:.2f}), "
              f"lower {gi[3]:.2f} -> {go[3]:.2f} ({r[2]:.2f})", flush=True)
    m = np.mean(ratios, 0)
    print(f"mean edit/input over {len(ratios)}: under-eye {m[0]:.3f}, upper {m[1]:.3f}, lower {m[2]:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
