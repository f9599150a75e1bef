"""A smile's eyes widened (surprised by default): the white just outside the kept iris against the
person's own open eyes, and the eye's dark pixels against the input.

    OMP_NUM_THREADS=1 python bench/bench_eye_ring.py [--data ../shared/data/london_hd]
        [--ids 001,041,003,012,016,029] [--targets surprised] [-o DIR]

For each London face at 1350 px (``smiling/NNN.jpg`` made the target by the stage alone,
:class:`faceedit.api.Editor`; ``neutral/NNN.jpg`` the person's own open eyes) each photo is read by
MediaPipe's Face Mesh, each eye's iris found on it (:func:`faceedit.stage.eyes.find_iris`, centre
``c``, radius ``r``) and, inside the mesh's eyelid contour, the median luma at 1.0-1.3 ``r`` over
the white's (the 90th percentile of the opening beyond 1.4 ``r``): ``top`` on the upper half (the
pixels over 0.3 ``r`` above ``c``: a grey halo over the iris reads low; so does the lid's margin
where the lid meets the iris), ``side`` within 35 degrees of the eye line (the neutral's ``side``
is the truth for both: its iris's top lies under its lid). ``dark``: the pixels of each eye's
region darker than the input's threshold (``bench_small_open.eye_dark``, on the input's 68
points): a lash line stretched into a band or doubled reads high. Prints per face and the medians
over the eyes; ``-o``: per eye neutral | smile | each target at 2x (nearest) as PNG.

``--ids`` defaults to training ids (none of the held-out ones).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_small_open import eye_dark  # noqa: E402

from faceedit.api import Editor  # noqa: E402
from faceedit.faces.detectors import get_detector  # noqa: E402
from faceedit.pixels import luma  # noqa: E402
from faceedit.stage.eyes import eye_polygon, find_iris, in_polygon  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LONDON = ROOT.parent / "shared" / "data" / "london_hd"


def ring(rgb: np.ndarray, mesh: np.ndarray) -> list[tuple[float, float]]:
    """Per eye (image left first): (top, side) as the module's text reads them (nan where unread)."""
    lum = luma(rgb.astype(np.float32) / 255)
    out = []
    for k in (0, 1):
        poly = eye_polygon(mesh, k, 0.0)
        width = float(np.linalg.norm(poly[0] - poly[8]))
        x0, y0 = np.maximum(np.floor(poly.min(0) - width).astype(int), 0)
        x1, y1 = np.ceil(poly.max(0) + width).astype(int)
        found = find_iris(rgb[y0:y1, x0:x1].astype(np.float32) / 255, eye_polygon(mesh, k, 0.1) - [x0, y0])
        if found is None:
            out.append((np.nan, np.nan))
            continue
        c, r = found[0] + [x0, y0], found[1]
        here = lum[y0:y1, x0:x1]
        yy, xx = np.mgrid[y0:y0 + here.shape[0], x0:x0 + here.shape[1]]
        inside = in_polygon(poly, np.stack([xx, yy], -1).reshape(-1, 2)).reshape(xx.shape)
        d = np.hypot(xx - c[0], yy - c[1])
        white = inside & (d > 1.4 * r)
        near = inside & (d >= 1.0 * r) & (d <= 1.3 * r)
        top = near & (yy - c[1] < -0.3 * r)
        side = near & (d >= 1.05 * r) & (np.abs(yy - c[1]) < np.tan(np.radians(35)) * np.abs(xx - c[0]))
        if white.sum() < 20:
            out.append((np.nan, np.nan))
            continue
        wl = float(np.percentile(here[white], 90))
        out.append(tuple(float(np.median(here[m]) / wl) if m.sum() >= 10 else np.nan for m in (top, side)))
    return out


def crop(bgr: np.ndarray, lm: np.ndarray, k: int) -> np.ndarray:
    e = lm[[36, 39]] if k == 0 else lm[[42, 45]]
    w = float(np.linalg.norm(e[1] - e[0]))
    cx, cy = e.mean(0)
    c = bgr[int(cy - 0.7 * w):int(cy + 0.5 * w), int(cx - 0.8 * w):int(cx + 0.8 * w)]
    return cv2.resize(c, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=LONDON)
    ap.add_argument("--ids", default="001,041,003,012,016,029")
    ap.add_argument("--targets", default="surprised")
    ap.add_argument("-o", "--out", type=Path)
    args = ap.parse_args()
    editor = Editor.from_pretrained("stage", detector="mediapipe")
    det = get_detector("mediapipe")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    reads: dict[str, list[tuple[float, float, float]]] = {}
    for i in args.ids.split(","):
        photos = {kind: cv2.imread(str(args.data / kind / f"{i}.jpg")) for kind in ("neutral", "smiling")}
        if any(v is None for v in photos.values()):
            continue
        rgb = {kind: cv2.cvtColor(v, cv2.COLOR_BGR2RGB) for kind, v in photos.items()}
        shots = [("neutral", rgb["neutral"]), ("smile", rgb["smiling"])] + [
            (t, editor.edit(rgb["smiling"], t, face="largest")) for t in args.targets.split(",")]
        faces = {}
        for name, img in shots:
            found = det.detect(img)
            faces[name] = max(found, key=lambda f: f.area) if found else None
        if faces["smile"] is None or faces["neutral"] is None:
            continue
        lm_in = np.asarray(faces["smile"].landmarks, np.float64)
        thr = [eye_dark(rgb["smiling"], lm_in, k)[1] for k in (0, 1)]
        line, rows = [], {0: [], 1: []}
        for name, img in shots:
            face = faces[name]
            if face is None or face.dense is None:
                line.append(f"{name} -")
                continue
            lm = np.asarray(face.landmarks, np.float64) if name == "neutral" else lm_in
            got = ring(img, np.asarray(face.dense)[:468, :2])
            dark = [eye_dark(img, lm, k, None if name == "neutral" else thr[k])[0] for k in (0, 1)]
            reads.setdefault(name, []).extend((a, b, float(n)) for (a, b), n in zip(got, dark))
            line.append(f"{name} top/side " + " ".join(f"{a:.2f}/{b:.2f}" for a, b in got)
                        + " dark " + " ".join(str(n) for n in dark))
            for k in (0, 1):
                rows[k].append(crop(img[..., ::-1], lm, k))
        print(f"{i}: " + " | ".join(line), flush=True)
        if args.out:
            for k, cells in rows.items():
                h = max(c.shape[0] for c in cells)
                cv2.imwrite(str(args.out / f"{i}_{k}.png"), np.hstack([cv2.copyMakeBorder(
                    c, 0, h - c.shape[0], 0, 4, cv2.BORDER_CONSTANT, value=(255, 255, 255)) for c in cells]))
    for name, got in reads.items():
        v = np.array(got)
        print(f"{name}: top median {np.nanmedian(v[:, 0]):.2f} (lowest {np.nanmin(v[:, 0]):.2f}), side median "
              f"{np.nanmedian(v[:, 1]):.2f} (lowest {np.nanmin(v[:, 1]):.2f}, highest {np.nanmax(v[:, 1]):.2f}), "
              f"dark median {np.median(v[:, 2]):.0f}; {len(v)} eyes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
