"""Covered mouths and eyes: :func:`faceedit.faces.reading.read_face`'s ``mouth_contrast`` and ``eye_surround`` on
bare faces and on faces with masks and sunglasses drawn on them, against
:data:`~faceedit.faces.reading.MOUTH_COVERED` (with ``mouth_chroma`` under ``MOUTH_CHROMA``) and
:data:`~faceedit.faces.reading.EYES_COVERED`.

    OMP_NUM_THREADS=1 python bench/bench_covered.py --data ../shared/data [--world [--london-hd DIR]] \\
        [--photos DIR ...] [--drawn 12] [--sheet covered.png]

Bare faces: ``--data``'s London neutral and smiling photos (512 px), JAFFE and Yale (its ``glasses`` photo of
subject 03 is of sunglasses: counted apart), the world set (``--world``; with ``--london-hd`` its London HD cuts:
64-128 px, blurred, JPEG) and any ``--photos`` folders. Drawn: on the first ``--drawn`` London neutral and smiling
photos, a mask from below the nose's bridge to the jaw (light blue, white, black, pink; shaded top to bottom and
grained) and sunglasses (black, brown, grey lenses 1.9 eye widths wide with a bridge and a reflection). Per set:
the faces' count, the smallest, the median and the largest of each reading, and how many read covered (the
mouth: declined) or hidden (the eyes: held);
``--sheet``: each drawn photo made happy and surprised beside it (a masked face declined: left as it is), to look at;
``--time``: the CPU-ms a face of :func:`~faceedit.faces.reading.covered` (the mouth's verdict the API and a video's
frames read) and of the whole :func:`~faceedit.faces.reading.read_face` (``apply``'s), per set.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

IMAGES = ("*.jpg", "*.jpeg", "*.png")
MASKS = {"blue": (150, 190, 215), "white": (235, 235, 232), "black": (25, 25, 28), "pink": (225, 170, 180)}
LENSES = {"black": (18, 18, 20), "brown": (70, 45, 30), "grey": (60, 62, 66)}


def _photos(folder: Path) -> list[Path]:
    return sorted(p for pattern in IMAGES for p in folder.glob(pattern))


def draw_mask(rgb: np.ndarray, lm: np.ndarray, colour, seed: int = 0) -> np.ndarray:
    """``rgb`` with a cloth mask over the face from the nose's bridge (point 29's height) to the jaw (2-14)."""
    out = rgb.copy()
    top = lm[29][1]
    poly = np.vstack([[lm[1][0], top], lm[2:15], [lm[15][0], top]])
    m = np.zeros(out.shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(poly).astype(np.int32)], 1)
    shade = 0.85 + 0.15 * np.linspace(0, 1, out.shape[0])[:, None]
    grain = np.random.default_rng(seed).normal(0, 3, out.shape[:2])
    cloth = np.clip(np.asarray(colour, np.float64) * shade[..., None] + grain[..., None], 0, 255)
    out = np.where(m[..., None] > 0, cloth, out).astype(np.uint8)
    return np.where(m[..., None] > 0, cv2.GaussianBlur(out, (0, 0), 0.8), out)


def draw_lenses(rgb: np.ndarray, lm: np.ndarray, colour) -> np.ndarray:
    """``rgb`` with sunglasses: an oval lens 1.9 eye widths wide over each eye, a bridge, a reflection."""
    out = rgb.copy()
    light = tuple(min(255, v + 60) for v in colour)
    for e in (lm[36:42], lm[42:48]):
        c, w = e.mean(0), float(np.linalg.norm(e[3] - e[0]))
        cv2.ellipse(out, (int(c[0]), int(c[1] - 0.05 * w)), (int(w * 0.95), int(w * 0.72)), 0, 0, 360, colour, -1,
                    cv2.LINE_AA)
        cv2.ellipse(out, (int(c[0] - 0.3 * w), int(c[1] - 0.3 * w)), (int(w * 0.25), int(w * 0.08)), -20, 0, 360,
                    light, -1, cv2.LINE_AA)
    cv2.line(out, tuple(lm[39].astype(int)), tuple(lm[42].astype(int)), colour, 3, cv2.LINE_AA)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, help="the shared data folder (london/, jaffe/, yale/)")
    ap.add_argument("--world", action="store_true", help="the world set's photos")
    ap.add_argument("--london-hd", type=Path, help="with --world: its London HD cuts too (small, blurred, JPEG)")
    ap.add_argument("--photos", type=Path, nargs="*", default=[])
    ap.add_argument("--drawn", type=int, default=12, help="London photos (neutral and smiling each) to draw on")
    ap.add_argument("--sheet", type=Path, help="write the drawn faces made happy and surprised here")
    ap.add_argument("--time", action="store_true", help="print the CPU-ms a face of covered() and read_face()")
    a = ap.parse_args(argv)

    from faceedit.api import Editor
    from faceedit.eval.world import read_rgb, world_set
    from faceedit.faces.reading import covered, decline_reason, read_face

    ed = Editor.from_pretrained("stage", device="cpu")
    sets: list[tuple[str, list[tuple[str, np.ndarray]]]] = []
    if a.data is not None:
        for name, folder in (("london neutral", "london/neutral"), ("london smiling", "london/smiling"),
                             ("jaffe", "jaffe"), ("yale", "yale")):
            paths = _photos(a.data / folder)
            bare = [p for p in paths if p.name != "subject03.glasses.png"]
            if bare:
                sets.append((name, [(p.name, read_rgb(p)) for p in bare]))
            if len(bare) < len(paths):
                sets.append(("yale's sunglasses", [(p.name, read_rgb(p)) for p in paths if p not in bare]))
    if a.world:
        sets.append(("world", [(p.name, p.rgb) for p in world_set(a.london_hd)]))
    sets += [(str(d), [(p.name, read_rgb(p)) for p in _photos(d)]) for d in a.photos]
    drawn: dict[str, list[tuple[str, np.ndarray]]] = {}
    if a.data is not None and a.drawn > 0:
        for kind in ("neutral", "smiling"):
            for i, p in enumerate(_photos(a.data / "london" / kind)[:a.drawn]):
                rgb = read_rgb(p)
                faces = ed.detector.detect(rgb)
                if not faces:
                    continue
                lm = np.asarray(max(faces, key=lambda f: f.area).landmarks, np.float64)
                for name, colour in MASKS.items():
                    drawn.setdefault(f"mask {name}", []).append((f"{kind}/{p.name}", draw_mask(rgb, lm, colour, i)))
                for name, colour in LENSES.items():
                    drawn.setdefault(f"lenses {name}", []).append((f"{kind}/{p.name}", draw_lenses(rgb, lm, colour)))
    sets += list(drawn.items())
    for name, photos in sets:
        mouths, chromas, eyes, declined = [], [], [], 0
        for _, rgb in photos:
            for face in ed.detector.detect(rgb):
                if np.shape(face.landmarks) != (68, 2):
                    continue
                r = read_face(rgb, face)
                mouths.append(r.mouth_contrast)
                eyes.append(r.eye_surround)
                chromas.append(r.mouth_chroma)
                declined += decline_reason(r) is not None or r.eyes_hidden
        if a.time and photos:
            faces = [(rgb, f) for _, rgb in photos for f in ed.detector.detect(rgb) if np.shape(f.landmarks) == (68, 2)]
            for fn in (covered, read_face):
                t = time.process_time()
                for rgb, f in faces:
                    fn(rgb, f)
                print(f"  {fn.__name__}: {1000 * (time.process_time() - t) / max(len(faces), 1):.2f} CPU-ms a face "
                      f"({photos[0][1].shape[1]}x{photos[0][1].shape[0]} px photos)", flush=True)
        if mouths:
            print(f"{name}: {len(mouths)} faces; mouth_contrast {min(mouths):.3f} / {np.median(mouths):.3f} / "
                  f"{max(mouths):.3f}; mouth_chroma {min(chromas):.1f} / {np.median(chromas):.1f}; eye_surround {min(eyes):.3f} / {np.median(eyes):.3f} / {max(eyes):.3f} "
                  f"(smallest / median / largest); read covered {declined}", flush=True)
    if a.sheet is not None and drawn:
        from faceedit.flow import edit_faces
        from faceedit.models.request import EditRequest

        rows = []
        for name, photos in drawn.items():
            _, rgb = photos[0]
            face = max(ed.detector.detect(rgb), key=lambda f: f.area)
            why = decline_reason(read_face(rgb, face))
            outs = [rgb] + [edit_faces(ed, rgb, [face], EditRequest.of(t, 1.0)) if why is None else rgb
                            for t in ("happy", "surprised")]
            x0, y0, x1, y1 = (int(v) for v in face.box)
            rows.append(np.hstack([cv2.resize(o[max(y0, 0):y1, max(x0, 0):x1], (256, 256)) for o in outs]))
            print(f"{name} ({photos[0][0]}): {why or 'edited'}", flush=True)
        cv2.imwrite(str(a.sheet), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))
    return 0


if __name__ == "__main__":
    sys.exit(main())
