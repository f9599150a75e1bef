"""Skin tones and hair colours (faceedit/stage/skin.py, hair.py) measured against what they must not
touch: the photo outside the head, and for skin the eyes, lips and hair; and what they keep: the
hair's strands.

    python bench/bench_recolour.py --data ../shared/data   # astronaut + the 18 held-out London HD faces
    python bench/bench_recolour.py --faces 008 --crops /tmp/recolour --data ../shared/data

Each face goes through the shipped stage (`Stage.edit_photo`, target keep, one attribute at a
time, strength 1, its 68 landmarks and Face Mesh from the mediapipe detector, or
``--detector``'s). Per face and attribute it prints:

* ``out``: PSNR (dB) of the edit against the input over the pixels outside the head, as
  :func:`faceedit.eval.head.outside_head` finds them without the stage's mattes: backdrop and
  clothes beyond a guard band of 0.12 eye distances round the face's outline (grown by 0.45),
  the hair, ears, neck and chest (what is connected to the face and is neither the plain
  backdrop fitted on the photo's border strips nor white clothes); on a photo whose backdrop is
  a scene (the astronaut) the hair is taken as lying within 1.1 eye distances of the face's
  outline above the nose's tip and within 0.25 below it, the neck as the jaw's column below the
  chin. ``(n%)``: the share of those pixels changed by more than 2 levels. ``beside``: the
  same PSNR over the part of those pixels within 0.5 eye distances of the guard band
  (:func:`faceedit.eval.head.next_to_head`: the wall and clothes right round head and neck,
  where a skin or hair matte that spills over the head's outline tints a keyhole). ``wall``:
  the strictest, over the plain backdrop itself (:func:`faceedit.eval.head.backdrop`: within
  7 Lab units of the colour surface fitted to the photo's border strips) outside the face's
  outline and beyond 0.03 eye distances of any pixel that is not backdrop (a wisp's soft edge),
  with no margin round the head: the wall right up to the hair, ears, jaw and neck (``n/a`` on a
  photo whose backdrop is a scene).
* skin edits: ``skin`` the mean luma change of both cheeks and the forehead (discs of 0.12 eye
  distances); PSNR (dB) over the eyes' and the lips' inner polygons (68 points, eroded 1 px),
  the brows (a band 0.05 eye distances thick along points 17-21 and 22-26) and the hair's core.
* hair edits: ``hair`` the mean luma change over the hair's core (the stage's matte over 0.9,
  found on the input); ``hp`` the correlation over that core of the input's and the output's
  high-passed luma (less its Gaussian blur of 2 px: the strands at the photo's pixels; 1:
  every strand's light and dark kept in place); ``texture`` the ratio output / input of the luma's local standard
  deviation (7x7 px windows, at the photo's pixels) averaged over that core (``relative``: the
  same ratio of that deviation over the mean luma, the strands' light and dark relative to the
  hair's own lightness); ``corr`` the correlation of the input's and the output's luma there
  (1: every strand's light and dark in its place); ``top`` the share of the input's brightest
  tenth of the hair that stays in the output's brightest tenth (highlights stay the brightest
  part).

The header line of each face gives its hair core's own luma and local deviation: with
``--edits ''`` and other ids, what real hair of each lightness shows.

``--crops`` writes, per face and edit, PNGs at the photo's own pixels: the head (input | edit)
and the boundary at the hairline, an ear and the neck's side (input | edit, each also enlarged
3x with nearest-neighbour).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from faceedit.eval.head import LUMA, backdrop, face_hull, local_std, next_to_head, outside_head, psnr, strands_kept
from faceedit.models.request import EditRequest
from faceedit.stage.records import StageFace

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import HELD_OUT_CSV  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
#: The high-pass's Gaussian (px at the photo's pixels): what is left is the strands.
HIGH_PASS = 2.0


def wall_up_to_head(img: np.ndarray, lm: np.ndarray, d: float) -> np.ndarray | None:
    """The plain backdrop up to the head (module doc, ``wall``), or None on a scene."""
    wall = backdrop(img, lm)
    if wall is None:
        return None
    r = max(1, int(round(0.03 * d)))
    other = cv2.dilate((~wall).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2))
    face = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(face, [np.round(cv2.convexHull(face_hull(lm).astype(np.float32))[:, 0]).astype(np.int32)], 1)
    return wall & (other == 0) & (face == 0)


def every_value() -> list[tuple[str, str]]:
    """Every (attribute, word) the stage's skin and hair attributes take."""
    from faceedit.edits.attributes import worded

    words = worded()
    return [(k, v) for k in ("skin", "hair") for v in words[k]]


def luma(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float64) @ LUMA


def high_pass_corr(img: np.ndarray, out: np.ndarray, where: np.ndarray) -> float:
    """The correlation over ``where`` of the two photos' luma less its blur (:data:`HIGH_PASS`)."""
    a, b = luma(img), luma(out)
    ha = a - cv2.GaussianBlur(a, (0, 0), HIGH_PASS)
    hb = b - cv2.GaussianBlur(b, (0, 0), HIGH_PASS)
    return float(np.corrcoef(ha[where], hb[where])[0, 1])


def hair_stats(img: np.ndarray, out: np.ndarray, core: np.ndarray, under: np.ndarray) -> dict[str, float]:
    """The hair's change and what of its strands survives (module doc); empty with no hair core."""
    if int(core.sum()) < 50:
        return {}
    k = strands_kept(img, out, core)
    white = int(((out >= 245).all(-1) & ~(img >= 245).all(-1) & under).sum())
    return {"hair": k["change"], "hp": high_pass_corr(img, out, core), "texture": k["texture"],
            "relative": k["contrast"], "corr": k["corr"], "top": k["top"], "white": white}


def features(shape: tuple[int, ...], lm: np.ndarray, d: float) -> dict[str, np.ndarray]:
    """bool masks of the eyes' and lips' inner polygons (eroded 1 px) and the brows' band, drawn
    from the 68 points alone (not the painter's feature mask)."""
    h, w = shape[:2]
    out = {}
    for name, polys in (("eyes", [lm[36:42], lm[42:48]]), ("lips", [lm[48:60]])):
        m = np.zeros((h, w), np.uint8)
        cv2.fillPoly(m, [np.round(q).astype(np.int32) for q in polys], 1)
        out[name] = cv2.erode(m, np.ones((3, 3), np.uint8)) > 0
    m = np.zeros((h, w), np.uint8)
    for brow in (lm[17:22], lm[22:27]):
        cv2.polylines(m, [np.round(brow).astype(np.int32)], False, 1, max(1, int(round(0.05 * d))))
    out["brows"] = m > 0
    return out


def skin_stats(img: np.ndarray, out: np.ndarray, lm: np.ndarray, d: float, hair: np.ndarray) -> dict[str, float]:
    """The cheeks' and forehead's luma change, and PSNR over eyes, lips, brows and the hair's core."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    up = (lm[27] - lm[8]) / np.linalg.norm(lm[27] - lm[8])
    skin = np.zeros((h, w), bool)
    for c in (lm[[2, 31, 41]].mean(0), lm[[14, 35, 46]].mean(0), (lm[19] + lm[24]) / 2 + 0.35 * d * up):
        skin |= (xx - c[0]) ** 2 + (yy - c[1]) ** 2 <= (0.12 * d) ** 2
    stats = {"skin": float(luma(out)[skin].mean() - luma(img)[skin].mean())}
    for name, m in features(img.shape, lm, d).items():
        stats[name] = psnr(img, out, m)
    if hair.sum() >= 50:
        stats["hair_kept"] = psnr(img, out, hair)
    return stats


def _fmt(stats: dict[str, float]) -> str:
    if not stats:
        return "no hair core"
    return ", ".join(f"{k} {v:+.1f}" if k in ("skin", "hair") else
                     (f"{k} {v:.1f} dB" if k in ("eyes", "lips", "brows", "hair_kept") else
                      f"{k} {v:.0f}" if k == "white" else f"{k} {v:.2f}")
                     for k, v in stats.items())


def crops(folder: Path, name: str, img: np.ndarray, out: np.ndarray, lm: np.ndarray, d: float) -> None:
    """The head, and 3x-enlarged boundaries (hairline, ear, neck's side), input | edit."""
    folder.mkdir(parents=True, exist_ok=True)
    h, w = img.shape[:2]

    def box(cx: float, cy: float, half: float) -> tuple[int, int, int, int]:
        r = int(half)
        x0, y0 = int(np.clip(cx - r, 0, w - 2 * r)), int(np.clip(cy - r, 0, h - 2 * r))
        return x0, y0, x0 + 2 * r, y0 + 2 * r

    c = lm[27]
    x0, x1 = int(max(c[0] - 1.9 * d, 0)), int(min(c[0] + 1.9 * d, w))
    y0, y1 = int(max(c[1] - 1.9 * d, 0)), int(min(c[1] + 2.3 * d, h))
    head = np.concatenate([img[y0:y1, x0:x1], out[y0:y1, x0:x1]], 1)
    cv2.imwrite(str(folder / f"{name}_head.png"), cv2.cvtColor(head, cv2.COLOR_RGB2BGR))
    up = (lm[27] - lm[8]) / np.linalg.norm(lm[27] - lm[8])
    spots = {"hairline": (lm[19] + lm[24]) / 2 + 1.0 * d * up, "ear": lm[0] + [-0.25 * d, 0.0],
             "neck": lm[4] + [0.0, 0.9 * d]}
    for spot, (cx, cy) in spots.items():
        bx0, by0, bx1, by1 = box(cx, cy, 0.3 * d)
        pair = np.concatenate([img[by0:by1, bx0:bx1], out[by0:by1, bx0:bx1]], 1)
        big = cv2.resize(pair, None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)
        cv2.imwrite(str(folder / f"{name}_{spot}.png"), cv2.cvtColor(pair, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(folder / f"{name}_{spot}_3x.png"), cv2.cvtColor(big, cv2.COLOR_RGB2BGR))


def summary(rows: list[dict]) -> None:
    """Per value: the median and the worst (lowest PSNR and correlation, extreme ratio) of each
    measure over the photos."""
    print("\n| value | out dB, lowest | beside dB, lowest | wall dB, lowest | changed > 2 outside, most | inside (median; worst) |")
    print("|---|---|---|---|---|---|")
    for edit in dict.fromkeys(r["edit"] for r in rows):
        sel = [r for r in rows if r["edit"] == edit]
        inside = []
        for k in ("eyes", "lips", "brows", "hair_kept", "hp", "texture", "relative", "corr", "top", "white"):
            v = np.array([r[k] for r in sel if k in r])
            if v.size:
                unit = " dB" if k in ("eyes", "lips", "brows", "hair_kept") else ""
                worst = v.max() if k == "white" or (k in ("texture", "relative") and np.median(v) > 1) else v.min()
                inside.append(f"{k} {np.median(v):.2f}{unit}; {worst:.2f}")
        print(f"| {edit} | {min(r['out'] for r in sel):.1f} | {min(r['beside'] for r in sel):.1f} | "
              f"{np.nanmin([r['wall'] for r in sel] + [np.inf]):.1f} | "
              f"{100 * max(r['moved'] for r in sel):.2f} % | {', '.join(inside)} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", default=HELD_OUT_CSV, help="London HD neutral ids (comma separated; '' for none)")
    ap.add_argument("--smiling", action="store_true", help="the London HD smiling photos instead of the neutral")
    ap.add_argument("--no-astronaut", action="store_true", help="leave out scikit-image's astronaut")
    ap.add_argument("--edits", default=",".join(f"{k}={v}" for k, v in every_value()),
                    help="attribute=value, comma separated (default: every skin and hair value)")
    ap.add_argument("--data", type=Path, default=DATA, help="the shared face data (london_hd/neutral/NNN.jpg)")
    ap.add_argument("--detector", default="mediapipe", help="the face detector (its landmarks and mesh feed the stage)")
    ap.add_argument("--crops", type=Path, help="write crops at the photo's own pixels to this folder")
    ap.add_argument("--json", type=Path, help="write every photo's and value's measures here")
    args = ap.parse_args()

    from faceedit.faces.detectors.registry import get_detector
    from faceedit.faces.landmarks import eye_distance
    from faceedit.models.loading import load_model
    from faceedit.stage.regions import hair_matte

    edits = [tuple(e.split("=", 1)) for e in args.edits.split(",") if e]
    photos: list[tuple[str, np.ndarray]] = []
    if not args.no_astronaut:
        from skimage import data

        photos.append(("astronaut", data.astronaut()))
    kind = "smiling" if args.smiling else "neutral"
    for n in filter(None, args.faces.split(",")):
        p = args.data / "london_hd" / kind / f"{n}.jpg"
        if not p.exists():
            print(f"{p}: not found (../shared/data absent?); skipped")
            continue
        photos.append((f"london_hd {kind} {n}", cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)))
    stage = load_model("weights/stage.safetensors").model
    det = get_detector(args.detector)
    rows: list[dict] = []
    for name, img in photos:
        face = max(det.detect(img), key=lambda f: f.area)
        lm = np.asarray(face.landmarks, np.float64)
        d = eye_distance(lm)
        outside = outside_head(img, lm)
        beside = next_to_head(img, lm)
        wall = wall_up_to_head(img, lm, d)
        regions = hair_matte(img, lm, face.dense)  # the hair's core, as the stage finds it
        core = np.zeros(img.shape[:2], bool)
        bx0, by0, bx1, by1 = regions.work.box
        core[by0:by1, bx0:bx1] = regions.hair > 0.9
        under = np.zeros(img.shape[:2], bool)
        under[by0:by1, bx0:bx1] = regions.hair > 0.05
        y = luma(img)
        own = (f" (luma {y[core].mean():.1f}, local deviation {local_std(y)[core].mean():.2f})"
               if core.sum() >= 50 else "")
        print(f"{name}: {img.shape[1]}x{img.shape[0]} px, eye distance {d:.0f} px, outside the head "
              f"{100 * outside.mean():.0f} % of the photo (beside it {100 * beside.mean():.1f} %, wall "
              f"{'n/a' if wall is None else f'{100 * wall.mean():.0f} %'}), "
              f"hair core {int(core.sum())} px{own}", flush=True)
        for key, value in edits:
            request = EditRequest.of("keep", 1.0, attrs={key: value})
            out, _ = stage.edit_photo(img, [StageFace(lm, face.dense)], request)
            db, near = psnr(img, out, outside), psnr(img, out, beside)
            on_wall = float("nan") if wall is None else psnr(img, out, wall)
            moved = float((np.abs(out.astype(int) - img.astype(int)).max(2)[outside] > 2).mean())
            stats = hair_stats(img, out, core, under) if key == "hair" else skin_stats(img, out, lm, d, core)
            rows.append({"photo": name, "edit": f"{key}={value}", "out": db, "beside": near, "wall": on_wall, "moved": moved, **stats})
            print(f"  {key}={value:<6} out {db:6.1f} dB ({100 * moved:.2f} %), beside {near:6.1f} dB, wall {on_wall:6.1f} dB; "
                  f"{_fmt(stats)}", flush=True)
            if args.crops:
                crops(args.crops, f"{name.replace(' ', '_')}_{key}-{value}", img, out, lm, d)
    summary(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float).replace("Infinity", '"inf"'))


if __name__ == "__main__":
    main()
