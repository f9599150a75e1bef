"""The stage's glasses (faceedit/stage/glasses.py): the contact sheet and the time to draw them.

    python bench/bench_glasses.py --sheet weights/glasses.png --crops /tmp/glasses

Faces: scikit-image's astronaut and, where ../shared/data is present, the held-out London
photos 019 and 142 at 1350 px, and 019 turned 20 degrees and scaled 0.8 (roll). Each face goes
through the shipped stage (`Stage.edit_photo`, target keep, `attrs={"glasses": STYLE}`, its
landmarks and Face Mesh from the mediapipe detector). The sheet: a row per face (its eyes'
region at face size), the input then each style; the crops: the same regions at the photo's own
pixels. Prints the pose read for each face, the milliseconds per face of the stage's edit with each
style and of the drawing alone, how far each lens centre lies from its eye centre, and how much
the glasses change the mouth and chin.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from faceedit.models.request import EditRequest
from faceedit.stage.records import StageFace

STYLES = ["rectangular", "rectangular-tortoise", "round", "round-black", "aviator", "aviator-silver", "rimless"]
LONDON = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "london_hd" / "neutral"


def faces() -> dict[str, np.ndarray]:
    from skimage import data

    out = {"astronaut": data.astronaut()}
    for n in ("019", "142"):
        p = LONDON / f"{n}.jpg"
        if p.exists():
            out[f"london {n}"] = cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)
    if "london 019" in out:
        m = cv2.getRotationMatrix2D((675, 600), 20, 0.8)
        out["london 019, turned 20 deg"] = cv2.warpAffine(out["london 019"], m, (1350, 1350),
                                                          borderMode=cv2.BORDER_REPLICATE)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sheet", type=Path, help="write the contact sheet here (PNG)")
    ap.add_argument("--crops", type=Path, help="write crops at the photo's own pixels to this folder")
    ap.add_argument("--tile", type=int, default=220, help="sheet tile width in px (face size)")
    args = ap.parse_args()

    from faceedit.faces.detectors.registry import get_detector
    from faceedit.models.loading import load_model
    from faceedit.stage.glasses import draw_glasses, fit_pose, place, style_of

    stage = load_model("weights/stage.safetensors").model
    det = get_detector("mediapipe")
    rows = []
    for name, img in faces().items():
        face = max(det.detect(img), key=lambda f: f.area)
        lm = np.asarray(face.landmarks, np.float64)
        yaw, pitch, roll = fit_pose(lm).angles()
        le, re = lm[36:42].mean(0), lm[42:48].mean(0)
        d = float(np.linalg.norm(re - le))
        c = (le + re) / 2
        x0, x1 = int(max(c[0] - 1.55 * d, 0)), int(c[0] + 1.55 * d)
        y0, y1 = int(max(c[1] - 0.95 * d, 0)), int(c[1] + 1.05 * d)
        tiles = [img[y0:y1, x0:x1]]
        times, drawing, kept, off_eye = [], [], 0, 0.0
        mx0, my0 = lm[48:68].min(0).astype(int) - 3
        mx1, my1 = lm[48:68].max(0).astype(int) + 3
        cy0, cy1 = int(lm[6:11, 1].min()) - 5, int(lm[6:11, 1].max())
        # the glasses' own change: against the same stage edit without them (target keep moves
        # a face's lips a little where its mouth reads as parted)
        base, _ = stage.edit_photo(img, [StageFace(l, d) for l, d in zip([lm], [face.dense])], EditRequest.of("keep", 1.0))
        for style in STYLES:
            t = time.perf_counter()
            out, _ = stage.edit_photo(img, [StageFace(l, d) for l, d in zip([lm], [face.dense])], EditRequest.of("keep", 1.0, attrs={"glasses": style}))
            times.append(1000 * (time.perf_counter() - t))
            t = time.perf_counter()
            draw_glasses(img, lm, style)
            drawing.append(1000 * (time.perf_counter() - t))
            diff = np.abs(out.astype(int) - base.astype(int)).max(2)
            kept = max(kept, int(diff[my0:my1, mx0:mx1].max()),
                       int(diff[cy0:cy1, int(lm[6, 0]):int(lm[10, 0])].max()))
            placed = place(lm, style_of(style)[0])
            off_eye = max(off_eye, *(float(np.linalg.norm(lens.mean(0) - eye)) / d
                                     for lens, eye in zip(placed.lenses, (le, re))))
            tiles.append(out[y0:y1, x0:x1])
            if args.crops:
                args.crops.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(args.crops / f"{name.replace(' ', '_').replace(',', '')}_{style}.png"),
                            cv2.cvtColor(out[y0:y1, x0:x1], cv2.COLOR_RGB2BGR))
        h = int(round(args.tile * (y1 - y0) / (x1 - x0)))
        rows.append(np.concatenate([cv2.resize(t, (args.tile, h), interpolation=cv2.INTER_AREA) for t in tiles], 1))
        print(f"{name}: {img.shape[1]}x{img.shape[0]} px, eye distance {d:.0f} px, pose yaw {yaw:+.1f} "
              f"pitch {pitch:+.1f} roll {roll:+.1f} deg; stage edit with glasses, ms per style: "
              + ", ".join(f"{s} {t:.0f}" for s, t in zip(STYLES, times))
              + f"; drawing alone {min(drawing):.0f}..{max(drawing):.0f} ms"
              + f"; lens centre to eye centre at most {off_eye:.3f} eye distances; mouth and chin changed "
              f"by the glasses at most {kept} levels")
    if args.sheet:
        header = np.full((26, rows[0].shape[1], 3), 255, np.uint8)
        for i, label in enumerate(["input", *STYLES]):
            cv2.putText(header, label, (i * args.tile + 6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1,
                        cv2.LINE_AA)
        w = rows[0].shape[1]
        sheet = np.concatenate([header, *[r[:, :w] for r in rows]], 0)
        cv2.imwrite(str(args.sheet), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
        print(f"wrote {args.sheet} ({sheet.shape[1]}x{sheet.shape[0]} px)")


if __name__ == "__main__":
    main()
