"""The cheek under the eye in a real smile against the same person's neutral photo (AU6: the
infraorbital crease and the cheek apple's light): London HD's training pairs (the held-out ids
are skipped), each photo sampled in its own landmarks' frame below its lower lid.

    OMP_NUM_THREADS=1 python bench/measure_cheek_apple.py --london ../shared/data/london_hd

Per photo: dlib's 68 points on the photo at half size (675 px), the luma of the full 1350-px photo
sampled on a grid under each eye: across it, at ``ACROSS`` eye distances about the lower lid's
middle (40-41, 46-47), the distance below the lower lid's curve (36, 41, 40, 39; 42, 47, 46, 45,
a quadratic through them in the face's frame) from -0.05 to 0.6 eye distances. Log luma, less
the mean log luma of the nose's bridge (27-29) in the same photo (exposure). Printed: the mean
over the people and both eyes of the log ratio smiling / neutral per distance below the lid, its
high-passed form (less a Gaussian of 0.06 eye distances along the distance: the crease) and
the person's deepest high-passed dip (where, how deep) within 0.05-0.35 eye distances.
``--edit``: the neutral photo made happy by the stage (``faceedit.flow.edit_faces``, strength 1)
in place of the real smile: what the edit draws there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import HELD_OUT  # noqa: E402

DOWN = np.round(np.arange(-0.05, 0.6001, 0.01), 3)
ACROSS = np.linspace(-0.15, 0.15, 13)
LIDS = ((36, 41, 40, 39), (45, 46, 47, 42))


def profile(rgb: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """(2, len(DOWN)): per eye the mean log luma below its lower lid, less the nose bridge's."""
    from faceedit.stage.moves import face_frame

    u, n, ed = face_frame(lm)
    luma = (rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)) / 255.0
    log_l = np.log(np.maximum(cv2.GaussianBlur(luma, (0, 0), 0.5), 1e-3))
    bridge = lm[27:30].mean(0)
    patch = [bridge + a * ed * u + b * ed * n for a in (-0.03, 0, 0.03) for b in (-0.1, 0, 0.1)]
    ref = float(np.mean([cv2.getRectSubPix(log_l, (1, 1), tuple(map(float, p)))[0, 0] for p in patch]))
    rows = []
    for lid in LIDS:
        pts = lm[list(lid)]
        mid = (lm[lid[1]] + lm[lid[2]]) / 2
        a = (pts - mid) @ u / ed
        b = (pts - mid) @ n / ed
        c = np.polyfit(a, b, 2)
        grid = np.zeros((len(ACROSS), len(DOWN), 2), np.float32)
        for i, x in enumerate(ACROSS):
            y0 = np.polyval(c, x)
            for j, s in enumerate(DOWN):
                grid[i, j] = mid + x * ed * u + (y0 + s) * ed * n
        vals = cv2.remap(log_l, grid[..., 0], grid[..., 1], cv2.INTER_LINEAR)
        rows.append(vals.mean(0) - ref)
    return np.array(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--london", type=Path, default=Path("../shared/data/london_hd"))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--edit", action="store_true",
                    help="the neutral photo made happy by the stage (at 1350 px) in place of the real smile")
    a = ap.parse_args(argv)
    import dlib
    from PIL import Image

    from faceedit.faces.detectors.dlib import SHAPE68, dlib_model

    finder, shape = dlib.get_frontal_face_detector(), dlib.shape_predictor(str(dlib_model(SHAPE68)))

    def read(path: Path):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        half = cv2.resize(rgb, (rgb.shape[1] // 2, rgb.shape[0] // 2), interpolation=cv2.INTER_AREA)
        boxes = finder(half, 0)
        if not boxes:
            return None
        s = shape(half, max(boxes, key=lambda b: b.area()))
        return rgb, np.array([(p.x, p.y) for p in s.parts()], np.float64) * 2.0 + 0.5

    ids = sorted(p.stem for p in (a.london / "smiling").glob("*.jpg")
                 if (a.london / "neutral" / p.name).is_file() and p.stem not in HELD_OUT)
    if a.limit:
        ids = ids[:a.limit]
    editor = None
    if a.edit:
        from faceedit.api import Editor
        from faceedit.models.request import EditRequest

        editor = Editor.from_pretrained("stage", allow_download=False)
    ratios, dips = [], []
    step = DOWN[1] - DOWN[0]
    for i in ids:
        ne = read(a.london / "neutral" / f"{i}.jpg")
        if editor is not None and ne is not None:
            from faceedit.flow import edit_faces

            faces = sorted(editor.detector.detect(ne[0]), key=lambda f: -f.area)
            out = edit_faces(editor, ne[0], faces[:1], EditRequest.of("happy", 1.0)) if faces else None
            tmp = Path("/tmp") / f"measure_cheek_apple_{i}.png"
            if out is None:
                continue
            Image.fromarray(out).save(tmp)
            sm = read(tmp)
            tmp.unlink()
        else:
            sm = read(a.london / "smiling" / f"{i}.jpg")
        if ne is None or sm is None:
            continue
        r = profile(*sm) - profile(*ne)
        ratios.append(r)
        hp = r - cv2.GaussianBlur(r.astype(np.float64), (0, 0), sigmaX=0.06 / step, sigmaY=1e-3)
        for e in range(2):
            win = (DOWN >= 0.05) & (DOWN <= 0.35)
            k = int(np.argmin(np.where(win, hp[e], np.inf)))
            dips.append((DOWN[k], hp[e, k]))
        print(f"{i}: dips at {dips[-2][0]:.2f} {dips[-2][1]:+.3f}, {dips[-1][0]:.2f} {dips[-1][1]:+.3f}; "
              f"ratio at 0.1/0.2/0.3/0.4: " + " ".join(f"{r.mean(0)[np.argmin(abs(DOWN - s))]:+.3f}"
                                                      for s in (0.1, 0.2, 0.3, 0.4)), flush=True)
    r = np.array(ratios)  # people x eyes x DOWN
    m = r.mean((0, 1))
    hp = m - cv2.GaussianBlur(m[None].astype(np.float64), (0, 0), sigmaX=0.06 / step, sigmaY=1e-3)[0]
    print(f"{len(ratios)} people; distance below the lid: mean log ratio (high-passed), p25, p75")
    q25, q75 = np.percentile(r.reshape(-1, len(DOWN)), (25, 75), axis=0)
    for j, s in enumerate(DOWN):
        print(f"{s:+.2f}: {m[j]:+.4f} ({hp[j]:+.4f})  {q25[j]:+.4f} {q75[j]:+.4f}")
    d = np.array(dips)
    print(f"per-eye deepest high-passed dip in 0.05-0.35: at median {np.median(d[:, 0]):.3f} "
          f"(p25 {np.percentile(d[:, 0], 25):.3f}, p75 {np.percentile(d[:, 0], 75):.3f}), "
          f"depth median {np.median(d[:, 1]):+.4f} (p25 {np.percentile(d[:, 1], 25):+.4f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
