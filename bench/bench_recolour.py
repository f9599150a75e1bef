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
  chin. ``(n%)``: the share of those pixels changed by more than 2 levels.
* skin edits: ``skin`` the mean luma change of both cheeks and the forehead (discs of 0.12 eye
  distances); ``kept`` the largest mean absolute change (levels, any channel) over the eyes'
  and the lips' inner polygons (68 points) and the hair's core.
* hair edits: ``hair`` the mean luma change over the hair's core (the stage's matte over 0.9,
  found on the input); ``texture`` the ratio output / input of the luma's local standard
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
from pathlib import Path

import cv2
import numpy as np

from faceedit.eval.head import LUMA, local_std, outside_head, psnr, strands_kept
from faceedit.models.request import EditRequest
from faceedit.stage.records import StageFace

EDITS = [("skin", "tan"), ("skin", "pale"), ("hair", "blond"), ("hair", "black"), ("hair", "brown"),
         ("hair", "red"), ("hair", "grey")]
HELD_OUT = "008,014,019,022,061,083,094,096,097,099,114,126,131,136,137,142,144,173"
DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def luma(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float64) @ LUMA


def hair_stats(img: np.ndarray, out: np.ndarray, core: np.ndarray) -> str:
    """The hair's change and what of its strands survives (module doc)."""
    if int(core.sum()) < 50:
        return "no hair core"
    k = strands_kept(img, out, core)
    return (f"hair {k['change']:+6.1f}, texture {k['texture']:.2f} (relative {k['contrast']:.2f}), "
            f"corr {k['corr']:.2f}, top {k['top']:.2f}")


def skin_stats(img: np.ndarray, out: np.ndarray, lm: np.ndarray, d: float, hair: np.ndarray) -> str:
    """The cheeks' and forehead's change, and the largest change over eyes, lips and hair."""
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    up = (lm[27] - lm[8]) / np.linalg.norm(lm[27] - lm[8])
    skin = np.zeros((h, w), bool)
    for c in (lm[[2, 31, 41]].mean(0), lm[[14, 35, 46]].mean(0), (lm[19] + lm[24]) / 2 + 0.35 * d * up):
        skin |= (xx - c[0]) ** 2 + (yy - c[1]) ** 2 <= (0.12 * d) ** 2
    change = np.abs(out.astype(int) - img.astype(int)).max(2)
    kept = []
    for name, poly in (("eyes", [lm[36:42], lm[42:48]]), ("lips", [lm[48:60]])):
        m = np.zeros((h, w), np.uint8)
        cv2.fillPoly(m, [np.round(p).astype(np.int32) for p in poly], 1)
        m = cv2.erode(m, np.ones((3, 3), np.uint8)) > 0
        kept.append((float(change[m].mean()), name))
    if hair.any():
        kept.append((float(change[hair].mean()), "hair"))
    worst = max(kept)
    return (f"skin {luma(out)[skin].mean() - luma(img)[skin].mean():+6.1f}, kept: largest mean change "
            f"{worst[0]:.1f} ({worst[1]})")


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", default=HELD_OUT, help="London HD neutral ids (comma separated; '' for none)")
    ap.add_argument("--no-astronaut", action="store_true", help="leave out scikit-image's astronaut")
    ap.add_argument("--edits", default=",".join(f"{k}={v}" for k, v in EDITS), help="attribute=value, comma separated")
    ap.add_argument("--data", type=Path, default=DATA, help="the shared face data (london_hd/neutral/NNN.jpg)")
    ap.add_argument("--detector", default="mediapipe", help="the face detector (its landmarks and mesh feed the stage)")
    ap.add_argument("--crops", type=Path, help="write crops at the photo's own pixels to this folder")
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
    for n in filter(None, args.faces.split(",")):
        p = args.data / "london_hd" / "neutral" / f"{n}.jpg"
        if not p.exists():
            print(f"{p}: not found (../shared/data absent?); skipped")
            continue
        photos.append((f"london_hd {n}", cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)))
    stage = load_model("weights/stage.safetensors").model
    det = get_detector(args.detector)
    worst: dict[str, float] = {}
    for name, img in photos:
        face = max(det.detect(img), key=lambda f: f.area)
        lm = np.asarray(face.landmarks, np.float64)
        d = eye_distance(lm)
        outside = outside_head(img, lm)
        regions = hair_matte(img, lm, face.dense)  # the hair's core, as the stage finds it
        core = np.zeros(img.shape[:2], bool)
        bx0, by0, bx1, by1 = regions.work.box
        core[by0:by1, bx0:bx1] = regions.hair > 0.9
        y = luma(img)
        own = (f" (luma {y[core].mean():.1f}, local deviation {local_std(y)[core].mean():.2f})"
               if core.sum() >= 50 else "")
        print(f"{name}: {img.shape[1]}x{img.shape[0]} px, eye distance {d:.0f} px, outside the head "
              f"{100 * outside.mean():.0f} % of the photo, hair core {int(core.sum())} px{own}")
        for key, value in edits:
            out, _ = stage.edit_photo(img, [StageFace(l, d) for l, d in zip([lm], [face.dense])], EditRequest.of("keep", 1.0, attrs={key: value}))
            db = psnr(img, out, outside)
            moved = float((np.abs(out.astype(int) - img.astype(int)).max(2)[outside] > 2).mean())
            worst[f"{key}={value}"] = min(worst.get(f"{key}={value}", np.inf), db)
            stats = hair_stats(img, out, core) if key == "hair" else skin_stats(img, out, lm, d, core)
            print(f"  {key}={value:<6} out {db:6.1f} dB ({100 * moved:.2f} %); {stats}")
            if args.crops:
                crops(args.crops, f"{name.replace(' ', '_')}_{key}-{value}", img, out, lm, d)
    print("lowest PSNR outside the head: " + ", ".join(f"{k} {v:.1f} dB" for k, v in worst.items()))


if __name__ == "__main__":
    main()
