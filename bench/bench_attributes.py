"""The stage's hair colour, skin tone and brows (faceedit/stage/hair.py, skin.py, brows.py): the
contact sheet, crops at the photo's own pixels, what each changes and how long it takes.

    python bench/bench_attributes.py --sheet weights/attributes.jpg --crops /tmp/attributes/crops

Faces: scikit-image's astronaut and, where ../shared/data is present, 1350-px London neutral
photos of several hair colours (``--faces`` names them). Each face goes through the shipped stage
(`Stage.edit_photo`, target keep, one attribute at a time, its landmarks and Face Mesh from the
mediapipe detector). The sheet: a row per face at face size (the head), the input then each
attribute; the crops: each edit's head region at the photo's own pixels (PNG). Prints per face
and attribute: the mean luma change of the hair's core (its matte over 0.9, found on the input),
the largest change anywhere, the cheeks' mean (and largest) change, the brow band's; the stage's
milliseconds.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from faceedit.models.request import EditRequest
from faceedit.stage.records import StageFace

EDITS = [("hair", "black"), ("hair", "brown"), ("hair", "blond"), ("hair", "red"), ("hair", "grey"),
         ("skin", "pale"), ("skin", "tan"), ("brows", "bushy"), ("brows", "thin")]
LONDON = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "london_hd" / "neutral"
LUMA = np.array([0.299, 0.587, 0.114])


def faces(names: list[str]) -> dict[str, np.ndarray]:
    from skimage import data

    out = {"astronaut": data.astronaut()}
    for n in names:
        p = LONDON / f"{n}.jpg"
        if p.exists():
            out[f"london {n}"] = cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)
    return out


def shift_stability(stage, det, img: np.ndarray, dx: int) -> str:
    """hair=blond's change on ``img`` and on it moved ``dx`` px right and JPEG-encoded again at
    quality 90 (faces found again), compared where either changes a pixel by over 20 levels."""
    changes = []
    for shift in (0, dx):
        moved = cv2.warpAffine(img, np.float32([[1, 0, shift], [0, 1, 0]]), (img.shape[1], img.shape[0]),
                               borderMode=cv2.BORDER_REPLICATE)
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(moved, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        moved = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        face = max(det.detect(moved), key=lambda f: f.area)
        out, _ = stage.edit_photo(moved, [face], EditRequest.of("keep", 1.0, attrs={"hair": "blond"}))
        changes.append(np.abs(out.astype(int) - moved.astype(int)).max(2)[:, shift:img.shape[1] - dx + shift])
    a, b = changes
    hair = (a > 20) | (b > 20)
    if not hair.any():
        return f"shifted {dx} px: no hair changed"
    diff = np.abs(a - b)[hair]
    return (f"shifted {dx} px and re-encoded: hair=blond's change differs by {diff.mean():.1f} levels on average, "
            f"95th percentile {np.percentile(diff, 95):.0f}, over 20 levels on {100 * (diff > 20).mean():.1f} % of "
            "the hair")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sheet", type=Path, help="write the contact sheet here")
    ap.add_argument("--crops", type=Path, help="write crops at the photo's own pixels to this folder")
    ap.add_argument("--faces", default="004,013,081,129,136,041,062,012,021", help="London photos (comma separated)")
    ap.add_argument("--tile", type=int, default=150, help="sheet tile width in px (face size)")
    ap.add_argument("--shift", type=int, default=0,
                    help="also: hair=blond on the photo moved this many px and JPEG-encoded again (a next video "
                         "frame), its change compared with the photo's where either changes the hair")
    args = ap.parse_args()

    from faceedit.faces.detectors.registry import get_detector
    from faceedit.faces.landmarks import eye_distance
    from faceedit.models.loading import load_model
    from faceedit.stage.regions import hair_matte

    stage = load_model("weights/stage.safetensors").model
    det = get_detector("mediapipe")
    rows = []
    for name, img in faces(args.faces.split(",")).items():
        face = max(det.detect(img), key=lambda f: f.area)
        lm = np.asarray(face.landmarks, np.float64)
        d = eye_distance(lm)
        regions = hair_matte(img, lm, face.dense)
        hair = np.zeros(img.shape[:2], bool)
        bx0, by0, bx1, by1 = regions.work.box
        hair[by0:by1, bx0:bx1] = regions.hair > 0.9
        cheeks = np.zeros_like(hair)
        r = int(0.12 * d)
        for c in (lm[[2, 31, 41]].mean(0), lm[[14, 35, 46]].mean(0)):
            cheeks[int(c[1]) - r:int(c[1]) + r, int(c[0]) - r:int(c[0]) + r] = True
        band = np.zeros(img.shape[:2], np.uint8)
        for brow in (lm[17:22], lm[22:27]):
            cv2.polylines(band, [np.round(brow).astype(np.int32)], False, 1, max(1, int(0.15 * d)))
        band = band > 0
        c = lm[27]
        x0, x1 = int(max(c[0] - 1.9 * d, 0)), int(min(c[0] + 1.9 * d, img.shape[1]))
        y0, y1 = int(max(c[1] - 1.9 * d, 0)), int(min(c[1] + 2.3 * d, img.shape[0]))
        tiles = [img[y0:y1, x0:x1]]
        luma = img.astype(float) @ LUMA
        report = []
        for key, value in EDITS:
            t = time.perf_counter()
            out, _ = stage.edit_photo(img, [StageFace(l, d) for l, d in zip([lm], [face.dense])], EditRequest.of("keep", 1.0, attrs={key: value}))
            ms = 1000 * (time.perf_counter() - t)
            new = out.astype(float) @ LUMA
            change = np.abs(out.astype(int) - img.astype(int)).max(2)
            hair_change = f"{new[hair].mean() - luma[hair].mean():+.1f}" if hair.any() else "- (none found)"
            report.append(f"{key}={value}: hair {hair_change}, largest change anywhere {change.max()}, cheeks "
                          f"{new[cheeks].mean() - luma[cheeks].mean():+.1f} (max {change[cheeks].max()}), brows "
                          f"{new[band].mean() - luma[band].mean():+.1f}, {ms:.0f} ms")
            tiles.append(out[y0:y1, x0:x1])
            if args.crops:
                args.crops.mkdir(parents=True, exist_ok=True)
                both = np.concatenate([img[y0:y1, x0:x1], out[y0:y1, x0:x1]], 1)
                cv2.imwrite(str(args.crops / f"{name.replace(' ', '_')}_{key}-{value}.png"),
                            cv2.cvtColor(both, cv2.COLOR_RGB2BGR))
        if args.shift:
            report.append(shift_stability(stage, det, img, args.shift))
        h = int(round(args.tile * (y1 - y0) / (x1 - x0)))
        rows.append(np.concatenate([cv2.resize(t, (args.tile, h), interpolation=cv2.INTER_AREA) for t in tiles], 1))
        hair_luma = f"{luma[hair].mean():.0f}" if hair.any() else "-"
        print(f"{name}: eye distance {d:.0f} px, hair core {int(hair.sum())} px (luma {hair_luma}); "
              + "; ".join(report))
    if args.sheet:
        w = max(r.shape[1] for r in rows)
        header = np.full((24, w, 3), 255, np.uint8)
        for i, label in enumerate(["input", *(f"{k}={v}" for k, v in EDITS)]):
            cv2.putText(header, label, (i * args.tile + 4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1,
                        cv2.LINE_AA)
        sheet = np.concatenate([header, *rows], 0)
        cv2.imwrite(str(args.sheet), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
        print(f"wrote {args.sheet} ({sheet.shape[1]}x{sheet.shape[0]} px)")


if __name__ == "__main__":
    main()
