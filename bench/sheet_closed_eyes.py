"""The closed-eyes contact sheet: held-out faces' eyes closed by the stage beside a real blink.

    OMP_NUM_THREADS=1 python bench/sheet_closed_eyes.py [--out docs/closed_eyes.jpg]
        [--faces neutral/014,neutral/137,neutral/144,smiling/022,smiling/126,smiling/142]
        [--grid ../shared/data/grid/bbaf2n.mpg]

Each row is one held-out London face at 1350 px (``../shared/data/london_hd``), both eyes at the
photo's own pixels: the photo, ``blink=1``, ``blink=0.6`` and ``wink_left=1`` (the person's left
eye, the image's right, closed) made by the stage alone (:class:`faceedit.api.Editor`), with
dlib's eye aspect of each edit over the photo's printed under it (image left eye first): read
whole, then each eye by itself after the slash (``bench_blink.eye_by_eye``: dlib's shape couples
the eyes, so a wink read whole reads half-open beside an open eye that reads narrower). The
last row is a real blink from a GRID talking clip (CC BY 4.0, Cooke et al. 2006): the clip's
frame whose eyes dlib reads narrowest and one that reads as the clip's median, at the clip's own
pixels and enlarged 6x (nearest neighbour; the face is 140 px wide).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from bench_blink import aspect, eye_by_eye, largest  # bench/ is the script's folder: on sys.path when run

from faceedit.api import Editor
from faceedit.faces.detectors import get_detector

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
FACES = "neutral/014,neutral/137,neutral/144,smiling/022,smiling/126,smiling/142"
EDITS = ("blink=1", "blink=0.6", "wink_left=1")
FONT = cv2.FONT_HERSHEY_SIMPLEX
#: The GRID frames' enlargement (nearest neighbour) beside their own pixels.
ZOOM = 6


def landmarks(dlib, img: np.ndarray) -> np.ndarray | None:
    return largest(dlib.detect(img))


def eye_box(lm: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): both eyes with their brows' lower edge and the skin under them."""
    span = lm[45, 0] - lm[36, 0]
    cy = lm[36:48, 1].mean()
    return (int(lm[36, 0] - 0.22 * span), int(cy - 0.3 * span),
            int(lm[45, 0] + 0.22 * span), int(cy + 0.18 * span))


def labelled(tile: np.ndarray, text: str) -> np.ndarray:
    """``tile`` with a white strip under it holding ``text``."""
    strip = np.full((22, tile.shape[1], 3), 255, np.uint8)
    cv2.putText(strip, text, (4, 16), FONT, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([tile, strip], 0)


def row(tiles: list[np.ndarray], width: int) -> np.ndarray:
    h = max(t.shape[0] for t in tiles)
    gap = np.full((h, 6, 3), 255, np.uint8)
    parts = []
    for t in tiles:
        parts += [np.pad(t, ((0, h - t.shape[0]), (0, 0), (0, 0)), constant_values=255), gap]
    out = np.concatenate(parts, 1)
    return np.pad(out, ((0, 8), (0, max(width - out.shape[1], 0)), (0, 0)), constant_values=255)[:, :width]


def grid_blink(path: Path, dlib) -> list[np.ndarray]:
    """The clip's median frame and its narrowest-eyed one, each at its own pixels and at :data:`ZOOM`."""
    cap = cv2.VideoCapture(str(path))
    frames, aspects = [], []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        rgb = cv2.cvtColor(f, cv2.COLOR_BGR2RGB)
        lm = landmarks(dlib, rgb)
        if lm is not None:
            frames.append((rgb, lm))
            aspects.append(aspect(lm).mean())
    a = np.array(aspects)
    shut, typical = int(np.argmin(a)), int(np.argmin(np.abs(a - np.median(a))))
    tiles = []
    for i, name in ((typical, "open"), (shut, "blink")):
        img, lm = frames[i]
        x0, y0, x1, y1 = eye_box(frames[typical][1])
        crop = img[y0:y1, x0:x1]
        ratio = aspect(lm) / np.median([aspect(f[1]) for f in frames], 0)
        tiles.append(labelled(crop, ""))
        tiles.append(labelled(cv2.resize(crop, None, fx=ZOOM, fy=ZOOM, interpolation=cv2.INTER_NEAREST),
                              f"real: GRID {path.stem} frame {i} ({name}), {ZOOM}x  dlib {ratio[0]:.2f} {ratio[1]:.2f}"))
    return tiles


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "closed_eyes.jpg")
    ap.add_argument("--faces", default=FACES)
    ap.add_argument("--grid", type=Path, default=SHARED / "grid" / "bbaf2n.mpg")
    ap.add_argument("--data", type=Path, default=SHARED / "london_hd")
    args = ap.parse_args()
    editor = Editor.from_pretrained("stage", device="cpu")
    dlib = get_detector("dlib")
    rows = []
    for item in args.faces.split(","):
        path = args.data / f"{item}.jpg"
        if not path.exists():
            print(f"{path}: absent, skipped")
            continue
        bgr = cv2.imread(str(path))
        if bgr is None:
            print(f"{path}: unreadable, skipped")
            continue
        img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        lm = landmarks(dlib, img)
        if lm is None:
            continue
        x0, y0, x1, y1 = eye_box(lm)
        tiles = [labelled(img[y0:y1, x0:x1], f"{item} photo")]
        own = eye_by_eye(dlib, img, lm)
        for spec in EDITS:
            key, value = spec.split("=")
            out = editor.edit(img, "keep", face="largest", controls={key: float(value)})
            again = landmarks(dlib, out)
            read = "no face" if again is None else " ".join(f"{r:.2f}" for r in aspect(again) / aspect(lm))
            read += " / " + " ".join(f"{r:.2f}" for r in eye_by_eye(dlib, out, lm) / own)
            tiles.append(labelled(out[y0:y1, x0:x1], f"{spec} dlib {read}"))
            print(item, spec, read, flush=True)
        rows.append(tiles)
    width = max(sum(t.shape[1] + 6 for t in r) for r in rows)
    sheet = [row(r, width) for r in rows]
    if args.grid.exists():
        g = grid_blink(args.grid, dlib)
        sheet.append(row(g[:2], width))
        sheet.append(row(g[2:], width))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), cv2.cvtColor(np.concatenate(sheet, 0), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
