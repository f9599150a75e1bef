"""The recolours' contact sheet: skin tones and hair colours at the photo's own pixels, beside real
hair of each colour.

    OMP_NUM_THREADS=1 python bench/sheet_recolour.py [--out docs/recolour_sheet.jpg]
        [--faces neutral/014,smiling/014,neutral/061,smiling/131] [--real black:062,brown:139,blond:081]

Each held-out London face at 1350 px (``../shared/data/london_hd``, neutral and smiling) gives
two rows of crops at the photo's own pixels, 0.85 eye distances square: the side of the head
above the ear (hair, hairline, temple and the wall beside them) and the jaw's side (jaw, ear
lobe, neck and the wall beside them). Columns: the photo, then each ``--attr skin=`` and
``hair=`` value the stage takes, made by the stage alone (:class:`faceedit.api.Editor`, target
``keep``). The last row is real hair: the same crop above the ear of London faces outside the
held-out ones (``--real COLOUR:ID``, CC BY 4.0), under the column of the colour they come
nearest (their hair core's mean Lab, :func:`faceedit.stage.regions.hair_colour`, is printed):
062 black (L 15), 139 brown (L 36), 081 dark blond (L 51, b 12.6: the lightest hair in the
set); none of London's heads is red, grey or as light as the stage's blond (L 68). The astronaut (scikit-image) gives a first row, her hair above the ear at her photo's
512 px, enlarged 4x (nearest neighbour; her eyes are 43 px apart).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from sheet_folds import read_rgb  # bench/ is the script's folder: on sys.path when run

from faceedit.api import Editor
from faceedit.edits.attributes import worded

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
FACES = "neutral/014,smiling/014,neutral/061,smiling/131"
REAL = "black:062,brown:139,blond:081"
FONT = cv2.FONT_HERSHEY_SIMPLEX
#: A crop's side (eye distances) and the sheet's tile side (px; crops larger than it are cut to
#: its middle, never scaled: the photo's own pixels).
SIDE, TILE = 0.85, 180


def values() -> list[tuple[str, str]]:
    words = worded()
    return [(k, v) for k in ("skin", "hair") for v in words[k]]


def spots(lm: np.ndarray, d: float) -> dict[str, np.ndarray]:
    """The crops' centres: above the image-left ear (hair, temple, wall) and the jaw's side."""
    up = (lm[27] - lm[8]) / np.linalg.norm(lm[27] - lm[8])
    return {"temple": lm[0] + 0.55 * d * up + [-0.15 * d, 0.0], "jaw": lm[4] + [-0.1 * d, 0.25 * d]}


def crop(img: np.ndarray, c: np.ndarray, d: float, zoom: int = 1) -> np.ndarray:
    """A square of ``SIDE`` eye distances round ``c`` at the photo's pixels (``zoom`` times,
    nearest neighbour), cut to ``TILE``."""
    h, w = img.shape[:2]
    half = min(int(SIDE * d / 2), TILE // (2 * zoom))
    x0 = int(np.clip(c[0] - half, 0, w - 2 * half))
    y0 = int(np.clip(c[1] - half, 0, h - 2 * half))
    tile = np.full((TILE, TILE, 3), 255, np.uint8)
    piece = img[y0:y0 + 2 * half, x0:x0 + 2 * half]
    if zoom > 1:
        piece = cv2.resize(piece, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST)
    oy, ox = (TILE - piece.shape[0]) // 2, (TILE - piece.shape[1]) // 2
    tile[oy:oy + piece.shape[0], ox:ox + piece.shape[1]] = piece
    return tile


def labelled(tile: np.ndarray, text: str) -> np.ndarray:
    strip = np.full((18, tile.shape[1], 3), 255, np.uint8)
    cv2.putText(strip, text, (3, 13), FONT, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([tile, strip], 0)


def row(tiles: list[np.ndarray], texts: list[str]) -> np.ndarray:
    gap = np.full((TILE + 18, 4, 3), 255, np.uint8)
    cells = [labelled(t, s) for t, s in zip(tiles, texts)]
    return np.concatenate([x for c in cells for x in (c, gap)][:-1], 1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "recolour_sheet.jpg")
    ap.add_argument("--faces", default=FACES)
    ap.add_argument("--real", default=REAL, help="London HD ids whose real hair makes the last row")
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--quality", type=int, default=80)
    args = ap.parse_args(argv)
    hd = args.data / "london_hd"
    if not hd.exists():
        print(f"{hd}: not found; the sheet needs the shared London HD photos")
        return 1
    from skimage.data import astronaut

    from faceedit.faces.landmarks import eye_distance
    from faceedit.stage.regions import hair_colour, hair_matte

    ed = Editor.from_pretrained("stage")
    edits = values()
    header = ["photo"] + [f"{k}={v}" for k, v in edits]
    rows = []
    photos: list[tuple[str, np.ndarray, tuple[str, ...], int]] = [("astronaut x4", astronaut(), ("temple",), 4)]
    for f in args.faces.split(","):
        img = read_rgb(hd / f"{f}.jpg")
        photos.append((f.replace("/", " "), img, ("temple", "jaw"), 1))
    for name, img, where, zoom in photos:
        faces = ed.detector.detect(img)
        lm = np.asarray(max(faces, key=lambda f: f.area).landmarks, np.float64)
        d = eye_distance(lm)
        shots = [img] + [ed.edit(img, "keep", 1.0, attrs={k: v}, face="largest") for k, v in edits]
        for spot in where:
            c = spots(lm, d)[spot]
            rows.append(row([crop(s, c, d, zoom) for s in shots], [f"{name} {spot}"] + header[1:]))
        print(f"{name}: eye distance {d:.0f} px", flush=True)
    # real hair, under the colour it comes nearest
    real: list[np.ndarray | None] = [None] * len(header)
    texts = [""] * len(header)
    for item in args.real.split(","):
        colour, n = item.split(":")
        img = read_rgb(hd / "neutral" / f"{n}.jpg")
        face = max(ed.detector.detect(img), key=lambda f: f.area)
        lm = np.asarray(face.landmarks, np.float64)
        seen = hair_colour(img, hair_matte(img, lm, face.dense))
        lab = "no hair found" if seen is None else f"Lab {np.round(seen[:3], 1).tolist()}"
        print(f"real {n} under hair={colour}: {lab}", flush=True)
        col = header.index(f"hair={colour}")
        real[col], texts[col] = crop(img, spots(lm, eye_distance(lm))["temple"], eye_distance(lm)), f"real {n}"
    blank = np.full((TILE, TILE, 3), 255, np.uint8)
    texts[0] = "real hair (London)"
    rows.append(row([t if t is not None else blank for t in real], texts))
    sheet = np.concatenate([np.concatenate([r, np.full((4, r.shape[1], 3), 255, np.uint8)], 0) for r in rows], 0)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, args.quality])
    print(f"wrote {args.out}: {sheet.shape[1]}x{sheet.shape[0]} px, {args.out.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
