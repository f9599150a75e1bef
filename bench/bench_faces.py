"""Benchmark the ``mediapipe`` face backend (BlazeFace + Face Mesh; LiteRT and torch) against ``dlib``.

    python bench/bench_faces.py [--threads 1] [--device cpu] [--batch 16] [--yaleb 10]

Prints, for both backends on the same photos and the same machine:

1. speed: photos/s of detection + landmarks on the London Set's 512-px neutral photos (decoded
   once beforehand); mediapipe on LiteRT (the CPU default; one photo per call) and on torch (one
   photo per call and ``--batch`` photos per call); best of 3 rounds, the backends taking turns;
2. recall: share of photos with at least one face (and with exactly one) on
   ../shared/data/{london/neutral, jaffe, yale} (and every ``--yaleb``-th Extended Yale B crop);
3. eye-centre error on London: the mean of each eye's six 68-point landmarks against the
   Psychomorph pupil centres (landmarks/NNN.txt points 0 and 1), / inter-pupil distance;
   "held-out" = the even-numbered subjects the 468 -> 68 mapping was not fitted on;
4. small faces: the astronaut's head scaled so its face is N px wide (dlib's box), on a
   512 x 512 and a 1024 x 1024 grey canvas: eye-centre error in px, or "miss";
5. rotation: the astronaut rotated by -90 .. 90 degrees: eye-centre error in px, or "miss";
0. start-up of the mediapipe backend in a fresh process (import, create, first photo).

Rows 2-5 are the default runtime's (LiteRT where installed). LiteRT, torch and dlib all run on
``--threads`` CPU threads (default 1: dlib's detector is single threaded, so this is the
like-for-like figure). See bench/bench_perception.py for throughput with decoding and encoding
against MediaPipe's own pipeline.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
ASTRONAUT_EYES = np.array([[203.0, 101.5], [246.5, 103.5]])  # as in tests/test_faces_detectors.py


def load(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def pupils(stem: str) -> np.ndarray:
    lines = (SHARED / "london" / "landmarks" / f"{stem}.txt").read_text().split("\n")
    return np.array([[float(v) for v in lines[k].split()[:2]] for k in (1, 2)])


def eyes(face) -> np.ndarray:
    return face.five[:2]


def run_all(det, images, batch: int = 1):
    if batch > 1 and hasattr(det, "detect_batch"):
        out = []
        for i in range(0, len(images), batch):
            out += det.detect_batch(images[i:i + batch])
        return out
    return [det.detect(im) for im in images]


def speed(runs: dict, images, repeat: int = 3) -> dict:
    """photos/s of each ``name -> (detector, batch)``, best of ``repeat`` rounds; the rounds
    alternate between the backends so that a busy machine slows them alike."""
    for det, batch in runs.values():
        run_all(det, images[:4], batch)  # warm-up
    best = {name: np.inf for name in runs}
    for _ in range(repeat):
        for name, (det, batch) in runs.items():
            t0 = time.perf_counter()
            run_all(det, images, batch)
            best[name] = min(best[name], time.perf_counter() - t0)
    return {name: len(images) / t for name, t in best.items()}


def eye_errors(det, paths, images):
    errs, held = [], []
    for p, faces in zip(paths, run_all(det, images)):
        if not faces:
            continue
        pu = pupils(p.stem)
        e = float(np.linalg.norm(eyes(faces[0]) - pu, axis=1).mean() / np.linalg.norm(pu[1] - pu[0]))
        errs.append(e)
        if int(p.stem) % 2 == 0:
            held.append(e)
    return {"n": len(errs), "mean": round(float(np.mean(errs)), 4), "max": round(float(np.max(errs)), 4),
            "heldout_mean": round(float(np.mean(held)), 4)}


def recall(det, images) -> dict:
    n = [len(f) for f in run_all(det, images)]
    return {"n": len(n), "found": round(float(np.mean([k >= 1 for k in n])), 3),
            "exactly_one": round(float(np.mean([k == 1 for k in n])), 3)}


def astronaut_head():
    from skimage.data import astronaut

    a = np.ascontiguousarray(astronaut())
    return a, a[0:300, 80:380]  # head and shoulders; eyes at ASTRONAUT_EYES - (80, 0)


def best_match(faces, truth):
    if not faces:
        return None
    errs = [float(np.linalg.norm(eyes(f) - truth, axis=1).mean()) for f in faces]
    return min(errs)


def small_faces(dets, sizes, canvases=(512, 1024)):
    a, head = astronaut_head()
    ref = dets["dlib"].detect(a)[0].box
    ref_w = ref[2] - ref[0]
    rows = []
    for canvas in canvases:
        for px in sizes:
            k = px / ref_w
            h = cv2.resize(head, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
            img = np.full((canvas, canvas, 3), 120, np.uint8)
            oy, ox = canvas // 3, canvas // 4
            img[oy:oy + h.shape[0], ox:ox + h.shape[1]] = h
            truth = (ASTRONAUT_EYES - [80, 0] + 0.5) * k - 0.5 + [ox, oy]
            row = {"canvas": canvas, "face_px": px}
            for name, det in dets.items():
                m = best_match(det.detect(img), truth)
                row[name] = "miss" if m is None or m > 0.25 * px else f"{m:.1f}px"
            rows.append(row)
    return rows


def rotations(dets, angles):
    a, _ = astronaut_head()
    rows = []
    for ang in angles:
        m = cv2.getRotationMatrix2D((225.0, 130.0), ang, 1.0)
        img = cv2.warpAffine(a, m, (512, 512), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        truth = ASTRONAUT_EYES @ m[:, :2].T + m[:, 2]
        row = {"angle": ang}
        for name, det in dets.items():
            e = best_match(det.detect(img), truth)
            row[name] = "miss" if e is None or e > 10 else f"{e:.1f}px"  # eyes 44 px apart
        rows.append(row)
    return rows


def start_up(device: str) -> dict:
    """Seconds to import the detect module, create the mediapipe backend (LiteRT: no torch; torch:
    imports it; reads the weights) and run it on one photo, in a fresh Python process."""
    code = (
        "import time, json, numpy as np\n"
        "t0 = time.perf_counter()\n"
        "from faceedit.faces.detectors import get_detector\n"
        "t1 = time.perf_counter()\n"
        f"d = get_detector('mediapipe', device={device!r})\n"
        "t2 = time.perf_counter()\n"
        "d.detect(np.full((512, 512, 3), 128, np.uint8))\n"
        "t3 = time.perf_counter()\n"
        "import sys\n"
        "print(json.dumps({'import_s': round(t1 - t0, 2), 'create_s': round(t2 - t1, 2),"
        " 'first_photo_s': round(t3 - t2, 2), 'runtime': d.runtime, 'torch': 'torch' in sys.modules}))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def table(rows) -> str:
    keys = list(rows[0])
    lines = ["  ".join(f"{k:>10}" for k in keys)]
    lines += ["  ".join(f"{str(r[k]):>10}" for k in keys) for r in rows]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--yaleb", type=int, default=0, help="every N-th Extended Yale B crop (0: skip)")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    sys.path.insert(0, str(ROOT))
    from faceedit.faces.detectors import get_detector
    from faceedit.faces.detectors.mediapipe import MediaPipeDetector

    load_s = start_up(args.device)
    mp = MediaPipeDetector(device=args.device, num_threads=args.threads)
    ported = mp if mp.runtime == "torch" else MediaPipeDetector(device=args.device, runtime="torch")
    dets = {"dlib": get_detector("dlib"), "mediapipe": mp}
    out: dict = {"threads": args.threads, "device": args.device, "mediapipe_start_up_s": load_s}
    print(f"mediapipe backend on {args.device} ({mp.runtime}), {args.threads} thread(s); start-up in a "
          f"fresh process: import {load_s['import_s']:.2f}s, create ({load_s['runtime']}; torch "
          f"imported: {load_s['torch']}) {load_s['create_s']:.2f}s, first photo {load_s['first_photo_s']:.2f}s")

    if SHARED.is_dir():
        paths = sorted((SHARED / "london" / "neutral").glob("*.jpg"))
        imgs = [load(p) for p in paths]
        runs = {"dlib": (dets["dlib"], 1), f"mediapipe_{mp.runtime}": (mp, 1)}
        if ported is not mp:
            runs["mediapipe_torch"] = (ported, 1)
        runs[f"mediapipe_torch_batch{args.batch}"] = (ported, args.batch)
        sp = speed(runs, imgs)
        out["photos_per_s"] = {k: round(v, 1) for k, v in sp.items()}
        print(f"\n1. photos/s, detection + landmarks, London neutral 512 px ({len(imgs)} photos)")
        for k, v in sp.items():
            print(f"   {k:>20}: {v:6.1f}")

        print("\n2. recall (photos with >= 1 face; exactly one)")
        sets = {"london": imgs,
                "jaffe": [load(p) for p in sorted((SHARED / "jaffe").glob("*.png"))],
                "yale": [load(p) for p in sorted((SHARED / "yale").glob("subject*"))]}
        if args.yaleb:
            sets["yaleb"] = [load(p) for p in sorted((SHARED / "yaleb").glob("*.png"))[::args.yaleb]]
        out["recall"] = {}
        for name, ims in sets.items():
            r = {k: recall(d, ims) for k, d in dets.items()}
            out["recall"][name] = r
            print(f"   {name:>7} ({len(ims)}): " + "   ".join(
                f"{k} {v['found']:.3f} / {v['exactly_one']:.3f}" for k, v in r.items()))

        print("\n3. London eye-centre error / inter-pupil distance (mean of each eye's 6 points)")
        out["london_eye_error"] = {k: eye_errors(d, paths, imgs) for k, d in dets.items()}
        for k, v in out["london_eye_error"].items():
            print(f"   {k:>10}: mean {v['mean']:.4f}  max {v['max']:.4f}  "
                  f"held-out subjects {v['heldout_mean']:.4f}  ({v['n']} faces)")
    else:
        print(f"(no {SHARED}: speed, recall and eye error skipped)")

    print("\n4. small faces (astronaut, face width = dlib box) : eye error or miss")
    out["small_faces"] = small_faces(dets, [20, 25, 30, 40, 50, 80])
    print(table(out["small_faces"]))
    print("\n5. rotated astronaut (degrees) : eye error or miss")
    out["rotation"] = rotations(dets, [-90, -60, -45, -30, -15, 0, 15, 30, 45, 60, 90])
    print(table(out["rotation"]))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
