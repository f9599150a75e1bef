"""The folds' contact sheet: an expression's creases at the photo's own pixels, from neutral and
from smiling faces, beside the same person's real smile.

    OMP_NUM_THREADS=1 python bench/sheet_folds.py [--out docs/folds_sheet.jpg]
        [--faces neutral/014,neutral/097,neutral/061,smiling/131] [--targets angry,disgusted,sad,happy]

Each held-out London face at 1350 px (``../shared/data/london_hd``) gives two rows of crops at
the photo's own pixels (never scaled): the brows, glabella and lower forehead (1.3 x 0.75 eye
distances round the brows' inner ends, raised 0.2), and the nose's sides, nasolabial furrows and
upper lip (1.3 x 0.7 round the nose wings and mouth corners). Columns: the photo, each target made
by the stage alone (:class:`faceedit.api.Editor`, strength 1), and the same person's real photo of
the other kind (a neutral face's real smile; a smiling face's real neutral), cut at the same
place of its own landmarks: the real happy move's nasolabial fold beside the painted one. Angry,
disgusted and sad have no colour photograph in the data that may be shown (JAFFE and Yale may be
used as statistics only: ``docs/folds.md`` gives their profiles).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from faceedit.api import Editor

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
FACES = "neutral/014,neutral/097,neutral/061,smiling/131"
TARGETS = "angry,disgusted,sad,happy"
FONT = cv2.FONT_HERSHEY_SIMPLEX
#: The crops: centre (from the 68 points, eye distances up the face), width, height (eye distances).
REGIONS = {"brows": (lambda lm: lm[[21, 22]].mean(0), 0.2, 1.3, 0.75),
           "nose & lip": (lambda lm: lm[[31, 35, 48, 54]].mean(0), 0.05, 1.3, 0.7)}


def box(lm: np.ndarray, d: float, region: str, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    centre, raise_by, w, h = REGIONS[region]
    up = (lm[27] - lm[8]) / np.linalg.norm(lm[27] - lm[8])
    c = centre(lm) + raise_by * d * up
    ww, hh = int(w * d), int(h * d)
    x0 = int(np.clip(c[0] - ww / 2, 0, shape[1] - ww))
    y0 = int(np.clip(c[1] - hh / 2, 0, shape[0] - hh))
    return x0, y0, x0 + ww, y0 + hh


def read_rgb(path: Path) -> np.ndarray:
    """The photo at ``path`` as RGB (FileNotFoundError where it cannot be read)."""
    img = cv2.imread(str(path))
    if img is None:
        raise FileNotFoundError(path)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def labelled(tile: np.ndarray, text: str) -> np.ndarray:
    strip = np.full((18, tile.shape[1], 3), 255, np.uint8)
    cv2.putText(strip, text, (3, 13), FONT, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([tile, strip], 0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "folds_sheet.jpg")
    ap.add_argument("--faces", default=FACES)
    ap.add_argument("--targets", default=TARGETS)
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--quality", type=int, default=82)
    ap.add_argument("--crops", type=Path, help="also write each row enlarged 3x (nearest neighbour) here")
    args = ap.parse_args(argv)
    hd = args.data / "london_hd"
    if not hd.exists():
        print(f"{hd}: not found; the sheet needs the shared London HD photos")
        return 1
    from faceedit.faces.landmarks import eye_distance

    ed = Editor.from_pretrained("stage")
    targets = [t for t in args.targets.split(",") if t]
    rows: list[np.ndarray] = []
    for f in args.faces.split(","):
        kind, n = f.split("/")
        other = "smiling" if kind == "neutral" else "neutral"
        img = read_rgb(hd / f"{f}.jpg")
        real = read_rgb(hd / other / f"{n}.jpg")
        lm = np.asarray(max(ed.detector.detect(img), key=lambda x: x.area).landmarks, np.float64)
        lm_real = np.asarray(max(ed.detector.detect(real), key=lambda x: x.area).landmarks, np.float64)
        d = eye_distance(lm)
        shots = [img] + [ed.edit(img, t, 1.0, face="largest") for t in targets]
        texts = [f"{n} {kind}"] + targets
        for region in REGIONS:
            x0, y0, x1, y1 = box(lm, d, region, img.shape)
            rx0, ry0, rx1, ry1 = box(lm_real, eye_distance(lm_real), region, real.shape)
            rw, rh = min(rx1 - rx0, x1 - x0), min(ry1 - ry0, y1 - y0)
            cells = [s[y0:y1, x0:x1] for s in shots]
            piece = np.full_like(cells[0], 255)
            piece[:rh, :rw] = real[ry0:ry0 + rh, rx0:rx0 + rw]
            cells.append(piece)
            names = texts + [f"real {other} (same person)"]
            gap = np.full((y1 - y0 + 18, 4, 3), 255, np.uint8)
            line = np.concatenate([x for c, t in zip(cells, names) for x in (labelled(c, t), gap)][:-1], 1)
            rows.append(line)
            if args.crops:
                args.crops.mkdir(parents=True, exist_ok=True)
                big = cv2.resize(line, None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)
                stem = f"{n}_{kind}_{region.replace(' & ', '_')}"
                cv2.imwrite(str(args.crops / f"{stem}_3x.png"), cv2.cvtColor(big, cv2.COLOR_RGB2BGR))
                cv2.imwrite(str(args.crops / f"{stem}.png"), cv2.cvtColor(line, cv2.COLOR_RGB2BGR))
        print(f"{f}: eye distance {d:.0f} px", flush=True)
    width = max(r.shape[1] for r in rows)
    padded = [np.pad(r, ((0, 6), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    sheet = np.concatenate(padded, 0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, args.quality])
    print(f"wrote {args.out}: {sheet.shape[1]}x{sheet.shape[0]} px, {args.out.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
