"""The hair recolour's time: a whole ``Stage.edit_photo`` with ``hair=COLOUR`` and its outline step
(:func:`faceedit.stage.hair_edge.outline`) alone, median of ``--runs`` runs each, on one thread.

    OMP_NUM_THREADS=1 python bench/bench_hair_speed.py --data ../shared/data [--faces 004,016,063,117]
        [--colour blond] [--runs 5] [--save DIR] [--against DIR]

The astronaut (scikit-image's) and the London HD neutrals ``--faces`` (training ids by default),
landmarks and Face Mesh from the mediapipe detector (found once, outside the clock). ``--save``
writes each edit to DIR/NAME.png; ``--against`` reads a saved run's edits and prints the PSNR
(8-bit, all three channels) of this run's against them over the stage's head box and the largest
change of a pixel in levels.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from faceedit.models.request import EditRequest
from faceedit.stage.records import StageFace

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA, help="the shared face data (london_hd/neutral/NNN.jpg)")
    ap.add_argument("--faces", default="004,016,063,117", help="London HD neutral ids (comma separated)")
    ap.add_argument("--colour", default="blond", help="the hair colour")
    ap.add_argument("--runs", type=int, default=5, help="runs of each (the median is printed)")
    ap.add_argument("--save", type=Path, help="write each edit to this folder (NAME.png)")
    ap.add_argument("--against", type=Path, help="a saved run's folder to compare each edit with")
    args = ap.parse_args()

    from skimage import data

    from faceedit.faces.detectors.registry import get_detector
    from faceedit.faces.landmarks import eye_distance
    from faceedit.models.loading import load_model
    from faceedit.stage.hair_edge import outline
    from faceedit.stage.matting import unit
    from faceedit.stage.regions import hair_matte

    photos: list[tuple[str, np.ndarray]] = [("astronaut", data.astronaut())]
    for n in filter(None, args.faces.split(",")):
        img = cv2.imread(str(args.data / "london_hd" / "neutral" / f"{n}.jpg"))
        if img is None:
            raise SystemExit(f"{args.data}/london_hd/neutral/{n}.jpg: not found")
        photos.append((f"london_{n}", cv2.cvtColor(img, cv2.COLOR_BGR2RGB)))
    stage = load_model("weights/stage.safetensors").model
    det = get_detector("mediapipe")
    request = EditRequest.of("keep", 1.0, attrs={"hair": args.colour})
    whole, step, worst = [], [], []
    for name, img in photos:
        face = max(det.detect(img), key=lambda f: f.area)
        lm = np.asarray(face.landmarks, np.float64)
        faces = [StageFace(lm, face.dense)]
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            out, _ = stage.edit_photo(img, faces, request)
            times.append(time.perf_counter() - t)
        r = hair_matte(img, lm, face.dense, stage.tuning.regions)
        x0, y0, x1, y1 = r.work.box
        lab = cv2.cvtColor(unit(img[y0:y1, x0:x1]), cv2.COLOR_RGB2Lab)
        d = eye_distance(lm)
        parts = []
        for _ in range(args.runs):
            t = time.perf_counter()
            outline(r.work, lab, r.hair, r.face, lm, d, stage.tuning.hair, stage.tuning.regions)
            parts.append(time.perf_counter() - t)
        whole.append(float(np.median(times)))
        step.append(float(np.median(parts)))
        line = f"{name}: {img.shape[1]}x{img.shape[0]}, edit {whole[-1]:.3f} s, outline {step[-1]:.3f} s"
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(args.save / f"{name}.png"), cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
        if args.against:
            saved = cv2.imread(str(args.against / f"{name}.png"))
            if saved is None:
                raise SystemExit(f"{args.against}/{name}.png: not found")
            ref = cv2.cvtColor(saved, cv2.COLOR_BGR2RGB)
            a, b = ref[y0:y1, x0:x1].astype(np.float64), out[y0:y1, x0:x1].astype(np.float64)
            mse = float(np.mean((a - b) ** 2))
            db = float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)
            big = int(np.abs(ref.astype(int) - out.astype(int)).max())
            worst.append(db)
            line += f"; against {args.against.name}: head box {db:.1f} dB, largest change {big} levels"
        print(line, flush=True)
    print(f"median over {len(photos)} photos: edit {np.median(whole):.3f} s, outline {np.median(step):.3f} s"
          + (f"; lowest PSNR {min(worst):.1f} dB" if worst else ""))


if __name__ == "__main__":
    main()
