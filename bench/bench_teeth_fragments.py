"""Lone teeth in an open mouth: London HD smiles (and the astronaut) made surprised or fearful,
read at the photo's own pixels.

    OMP_NUM_THREADS=1 python bench/bench_teeth_fragments.py [--ids 001,002,...] [--astronaut]
        [--targets surprised,fearful] [--data ../shared/data]

Each edit's opening is the one the stage draws (the warp's opening and the interior it carries,
:func:`opening_of`, over a half); inside it, pixels whose luma is over ``BRIGHT`` times the
opening's dark (its 30th percentile luma, at least 8 of 255) and over 0.4 of its 97th percentile,
as grey as teeth (red less blue under ``GREY`` of the luma: the lips' lit rims read 0.33-0.47 on
009, 137 and 006, their teeth 0.10-0.18, medians) and in the upper half of their column are lit
teeth. Read (:func:`fragments`):

* ``lone``: lit 8-connected pieces of at least ``MIN_PIECE`` of the opening's area that do not
  reach within 2 px of the opening's top in their columns (the upper lip's rim): a tooth
  floating in the cavity;
* ``span``: the columns of the lit pieces that do reach the lip, first to last, over the
  opening's width: a lone block of a few lit teeth in a wide opening is a small span;
* ``ends``: the teeth-to-cavity contrast at the row's ends: pixels as grey as teeth in the upper
  half over ``FAINT`` times the opening's dark, in the pieces that reach the lip, make the row;
  in its outer ``END`` of columns at each end, their median luma over the dark (the larger end);
  ``mid``: the same in the middle fifth. A row cut off square keeps ``ends`` near ``mid``; a row
  falling into the mouth's shadow has it a few times the dark.

Printed per edit, then the counts of edits with a lone piece or a span under ``--least``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from bench_mouth_luma import luma  # noqa: E402
from london_ids import HELD_OUT  # noqa: E402

#: A lit pixel's luma over the opening's dark.
BRIGHT = 3.0
#: Teeth's red less blue, over their luma, is under this.
GREY = 0.3
#: Teeth in shade: over this many times the opening's dark (``ends``) ...
FAINT = 1.5
#: ... read over this share of the row's columns at each end.
END = 0.1
#: The least piece counted, as a share of the opening's area.
MIN_PIECE = 0.002


def fragments(img: np.ndarray, opening: np.ndarray) -> dict[str, float]:
    """``lone``, ``span`` and ``ends`` (module docstring) of ``img``'s ``opening`` (bool, the
    image's shape); an empty dict where the opening has under 50 px."""
    y = luma(img)
    inside = np.asarray(opening, bool)
    if inside.sum() < 50:
        return {}
    dark = max(float(np.percentile(y[inside], 30)), 8.0)
    rgb = img[..., :3].astype(np.float64)
    grey = (rgb[..., 0] - rgb[..., 2]) < GREY * np.maximum(y, 1.0)
    top = np.full(y.shape[1], -1)
    cols = np.flatnonzero(inside.any(0))
    top[cols] = inside[:, cols].argmax(0)
    upper = np.arange(y.shape[0])[:, None] < top[None, :] + inside.sum(0)[None, :] / 2.0
    lit = inside & upper & grey & (y > BRIGHT * dark) & (y > 0.4 * float(np.percentile(y[inside], 97)))
    lit = lit.astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(lit, connectivity=8)
    lone, row = 0, np.zeros(y.shape[1], bool)
    for k in range(1, n):
        if stats[k, cv2.CC_STAT_AREA] < MIN_PIECE * inside.sum():
            continue
        ys, xs = np.nonzero(lab == k)
        if (ys - top[xs] <= 2).any():
            row[xs] = True
        else:
            lone += 1
    out = {"lone": float(lone), "span": 0.0, "ends": float("nan"), "mid": float("nan")}
    if row.any():
        r = np.flatnonzero(row)
        out["span"] = float(r[-1] - r[0] + 1) / float(cols[-1] - cols[0] + 1)
    faint = (inside & upper & grey & (y > FAINT * dark)).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(faint, connectivity=8)
    teeth = np.zeros(y.shape, bool)
    for k in range(1, n):
        ys, xs = np.nonzero(lab == k)
        if stats[k, cv2.CC_STAT_AREA] >= MIN_PIECE * inside.sum() and (ys - top[xs] <= 2).any():
            teeth[ys, xs] = True
    tc = np.flatnonzero(teeth.any(0))
    if tc.size >= 10:
        a, b = int(tc[0]), int(tc[-1])
        k = max(int(round(END * (b - a + 1))), 1)
        m = (a + b) // 2
        part = [teeth[:, x0:x1] for x0, x1 in ((a, a + k), (b + 1 - k, b + 1))]
        out["ends"] = max(float(np.median(y[:, x0:x1][p])) / dark
                          for (x0, x1), p in zip(((a, a + k), (b + 1 - k, b + 1)), part) if p.any())
        w = max((b - a + 1) // 10, 1)
        mp = teeth[:, m - w:m + w + 1]
        if mp.any():
            out["mid"] = float(np.median(y[:, m - w:m + w + 1][mp])) / dark
    return out


def opening_of(ed, img: np.ndarray, target: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(edit, opening): the stage's edit of ``img``'s largest face to ``target`` and the opening
    its mouth fill draws (the warp's opening and carried interior over a half, the image's shape;
    None where it fills none)."""
    from faceedit.stage import steps

    seen: list[np.ndarray] = []
    fill = steps.fill_mouth

    def record(stage, face, pixels, whites=None, teeth=None):
        r = face.warped
        if r is not None:
            x0, y0, x1, y1 = (int(v) for v in r.roi)
            m = np.zeros(pixels.shape[:2], bool)
            m[y0:y1, x0:x1] = (np.asarray(r.opening) + np.asarray(r.interior)) > 0.5
            seen.append(m)
        return fill(stage, face, pixels, whites, teeth)

    steps.fill_mouth = record
    try:
        out = ed.edit(img, target, face="largest")
    finally:
        steps.fill_mouth = fill
    return out, (seen[-1] if seen else None)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--ids", default="001,002,003,004,006,007,009,011,012,016")
    ap.add_argument("--astronaut", action="store_true")
    ap.add_argument("--targets", default="surprised,fearful")
    ap.add_argument("--least", type=float, default=0.3, help="a span under this counts as a lone block")
    a = ap.parse_args(argv)
    from faceedit.api import Editor

    ed = Editor.from_pretrained("stage", device="cpu")
    photos = []
    if a.astronaut:
        from skimage.data import astronaut

        photos.append(("astronaut", astronaut()))
    for i in (s.strip() for s in a.ids.split(",") if s.strip()):
        paths = sorted((a.data / "london_hd" / "smiling").glob(f"{i}*.jpg"))
        if paths:
            photos.append((i + (" (held out)" if i in HELD_OUT else ""), np.asarray(Image.open(paths[0]).convert("RGB"))))
    lone = narrow = total = 0
    ends: list[float] = []
    for name, img in photos:
        for t in (s.strip() for s in a.targets.split(",") if s.strip()):
            out, opening = opening_of(ed, img, t)
            r = fragments(out, opening) if opening is not None else {}
            if not r:
                print(f"{name:>18} {t:>10}  no opening read")
                continue
            total += 1
            lone += r["lone"] > 0
            narrow += 0 < r["span"] < a.least
            print(f"{name:>18} {t:>10}  lone {r['lone']:.0f}  span {r['span']:.2f}  ends {r['ends']:.1f}  "
                  f"mid {r['mid']:.1f}")
            ends.append(r["ends"])
    print(f"edits {total}: with a lone piece {lone}, with a lit row spanning under {a.least} {narrow}; "
          f"ends median {np.nanmedian(ends):.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
