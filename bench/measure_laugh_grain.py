"""The grain a laugh made neutral keeps on its cheeks and on its closed lips, on small faces.

    OMP_NUM_THREADS=1 python bench/measure_laugh_grain.py --london ../shared/data/london_hd -o runs/lg
    OMP_NUM_THREADS=1 python bench/measure_laugh_grain.py --london ../shared/data/london_hd --target surprised

Faces: the astronaut, the wheels' laughing faces (:data:`WHEEL_FACES`, where
:func:`faceedit.eval.world.fetch` has them) and the London ``--ids`` smiling photos cut to 96 and
128 px (:func:`faceedit.eval.world.london_variants`; ``train``, the default: training 001-004, 006,
007, 009). Each is made neutral (``--target``: another target; ``faceedit.flow.edit_faces``, the
photo's faces as the detector reads them). Grain is the std of the luma less its Gaussian blur of
``--sigma`` px (1.0: a 96-px cut's pores and freckles are a pixel or two across), over the cheeks' mask
(:func:`faceedit.stage.smile._cheek_mask`, above 0.9) above the nose's tip (``upper``) and below
it (``lower``) at the input's landmarks, and over the lips' body (``lips``: the outer lips'
polygon less the inner lips' and less a band 1.5 px either side of the inner lips' line, eroded
1 px, the blur normalised over it; the edit's lips at its own landmarks read again). Per face the
edit's grain over the input's; for London also the person's neutral photo cut alike over the
smiling one's (real closed lips and resting cheeks at that size). Means per measure. ``-o DIR``
writes per face ``NAME_x1.png`` and ``NAME_x4.png`` (``NAME_x6.png`` under 35 px between the eyes):
input | edit | neutral photo, brows to chin. ``--only`` keeps the photos whose name holds one of its
comma-separated parts.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

#: The wheels' photos whose faces laugh or smile (every face the detector finds is measured).
WHEEL_FACES = ("group_t1", "group_five", "posed_laugh", "single_smile")
#: London HD training ids with a smiling photo (``--ids train``).
TRAIN = "001,002,003,004,006,007,009"


def _luma(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _poly(shape, pts) -> np.ndarray:
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(np.asarray(pts) * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    return m


def lip_mask(shape, lm: np.ndarray) -> np.ndarray:
    """The lips' body at 68 points ``lm``: the outer polygon less the inner one and a band 1.5 px
    either side of the inner lips' line, eroded 1 px (bool)."""
    outer = _poly(shape, lm[48:60])
    inner = _poly(shape, lm[60:68])
    line = np.zeros(shape[:2], np.uint8)
    pts = np.round(np.vstack([lm[60:65], lm[[64, 65, 66, 67, 60]]]) * 16).astype(np.int32)
    cv2.polylines(line, [pts], False, 1, thickness=3, lineType=cv2.LINE_8, shift=4)
    body = (outer > 0) & (inner == 0) & (line == 0)
    return cv2.erode(body.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0


def grain(rgb: np.ndarray, lm_cheeks: np.ndarray, lm_lips: np.ndarray, sigma: float) -> list[float]:
    """The upper and lower cheeks' grain at ``lm_cheeks``, the lips' body's at ``lm_lips``."""
    from faceedit.faces.landmarks import eye_distance
    from faceedit.stage.smile import _cheek_mask

    y = _luma(rgb)
    hp = y - cv2.GaussianBlur(y, (0, 0), sigma)
    e = eye_distance(lm_cheeks)
    mask = _cheek_mask(y.shape, lm_cheeks, 0.05 * e) > 0.9
    rows = np.arange(y.shape[0])[:, None]
    out = [float(hp[mask & (rows < lm_cheeks[30][1])].std()), float(hp[mask & (rows >= lm_cheeks[30][1])].std())]
    lips = lip_mask(y.shape, lm_lips).astype(np.float32)
    if lips.sum() < 6:
        return out + [float("nan")]
    smooth = cv2.GaussianBlur(y * lips, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(lips, (0, 0), sigma), 1e-6)
    return out + [float((y - smooth)[lips > 0].std())]


def _nearest(faces, lm: np.ndarray):
    centre = lm.mean(0)
    return min(faces, key=lambda f: float(np.linalg.norm(np.asarray(f.landmarks, np.float64).mean(0) - centre)))


def _crop(rgb: np.ndarray, lm: np.ndarray) -> np.ndarray:
    from faceedit.faces.landmarks import eye_distance

    e = eye_distance(lm)
    x0, x1 = int(lm[:, 0].min() - 0.1 * e), int(lm[:, 0].max() + 0.1 * e)
    y0, y1 = int(lm[17:27, 1].min()), int(lm[:, 1].max() + 0.1 * e)
    h, w = rgb.shape[:2]
    return rgb[max(y0, 0):min(y1, h), max(x0, 0):min(x1, w)]


def photos(london: Path | None, ids: list[str]) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
    """``(name, smiling RGB, neutral RGB or None)``."""
    from skimage.data import astronaut

    from faceedit.eval import world

    out: list[tuple[str, np.ndarray, np.ndarray | None]] = [("astronaut", astronaut(), None)]
    try:
        paths = world.fetch()
        out += [(n, world.read_rgb(paths[n]), None) for n in WHEEL_FACES]
    except world.WorldUnavailable:
        pass
    if london is not None and ids:
        v = dict(world.london_variants(london, ids=ids))
        for i in ids:
            for s in (96, 128):
                k = f"london_{i}_smiling_small{s}"
                if k in v:
                    out.append((k, v[k], v.get(f"london_{i}_neutral_small{s}")))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--london", type=Path, default=None, help="the london_hd folder")
    ap.add_argument("--ids", default="train", help="London ids (comma-separated; train; none)")
    ap.add_argument("--sigma", type=float, default=1.0)
    ap.add_argument("--only", default=None, help="keep the photos whose name holds one of these parts")
    ap.add_argument("--target", default="neutral", help="the target each face is made (a laugh made surprised: surprised)")
    ap.add_argument("-o", "--out", type=Path, default=None)
    args = ap.parse_args(argv)
    from faceedit.api import Editor
    from faceedit.faces.landmarks import eye_distance
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    ids = [] if args.ids == "none" else (TRAIN if args.ids == "train" else args.ids).split(",")
    ed = Editor.from_pretrained("stage", device="cpu")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    rows, real = [], []
    for name, rgb, neutral in photos(args.london, ids):
        if args.only and not any(p in name for p in args.only.split(",")):
            continue
        faces = ed.detector.detect(rgb)
        if not faces:
            continue
        edit = edit_faces(ed, rgb, faces, EditRequest.of(args.target, 1.0))
        again = ed.detector.detect(edit)
        for j, face in enumerate(faces):
            lm = np.asarray(face.landmarks, np.float64)
            e = eye_distance(lm)
            if e < 20:
                continue
            tag = name if len(faces) == 1 else f"{name}#{j}"
            lm_e = np.asarray(_nearest(again, lm).landmarks, np.float64) if again else lm
            gi, go = grain(rgb, lm, lm, args.sigma), grain(edit, lm, lm_e, args.sigma)
            r = [b / a if a > 0 else float("nan") for a, b in zip(gi, go)]
            rows.append(r)
            line = (f"{tag:30s} {e:5.1f} px; upper {gi[0]:.2f} -> {go[0]:.2f} ({r[0]:.2f}), lower {gi[1]:.2f} -> "
                    f"{go[1]:.2f} ({r[1]:.2f}), lips {gi[2]:.2f} -> {go[2]:.2f} ({r[2]:.2f})")
            cells = [_crop(rgb, lm), _crop(edit, lm)]
            if neutral is not None:
                nf = ed.detector.detect(neutral)
                if nf:
                    ln = np.asarray(_nearest(nf, lm).landmarks, np.float64)
                    gn = grain(neutral, ln, ln, args.sigma)
                    rn = [b / a if a > 0 else float("nan") for a, b in zip(gi, gn)]
                    real.append(rn)
                    line += f"; real neutral {rn[0]:.2f} {rn[1]:.2f} {rn[2]:.2f}"
                    cells.append(_crop(neutral, ln))
            print(line, flush=True)
            if args.out is not None:
                hh = max(c.shape[0] for c in cells)
                cells = [cv2.copyMakeBorder(c, 0, hh - c.shape[0], 0, 2, cv2.BORDER_CONSTANT) for c in cells]
                sheet = cv2.cvtColor(np.hstack(cells), cv2.COLOR_RGB2BGR)
                k = 6 if e < 35 else 4
                cv2.imwrite(str(args.out / f"{tag}_x1.png"), sheet)
                cv2.imwrite(str(args.out / f"{tag}_x{k}.png"),
                            cv2.resize(sheet, None, fx=k, fy=k, interpolation=cv2.INTER_NEAREST))
    m = np.nanmean(rows, 0)
    print(f"mean edit/input over {len(rows)}: upper {m[0]:.3f}, lower {m[1]:.3f}, lips {m[2]:.3f}")
    if real:
        n = np.nanmean(real, 0)
        print(f"mean real neutral/smiling over {len(real)}: upper {n[0]:.3f}, lower {n[1]:.3f}, lips {n[2]:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
