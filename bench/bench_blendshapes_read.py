"""The blendshape reader on real faces: does each coefficient rise where the face does the move?

    OMP_NUM_THREADS=1 python bench/bench_blendshapes_read.py [--data ../shared/data] [--detector-mesh]

* London (``london/{neutral,smiling}/NNN.jpg``, every pair): ``mouthSmileLeft``/``Right``
  (their mean) on the smiling photo against the neutral one; also ``browInnerUp`` on the
  neutral ones (a neutral face should read low);
* JAFFE (``jaffe/*.SU*.png`` against ``*.NE*.png``, per subject's medians): ``jawOpen`` and
  ``browInnerUp`` on posed surprise against neutral;
* GRID (``grid/*.mpg``, every frame): each frame's eye aspect from the detector's 68 points
  (height over width of each eye, both eyes' mean) and ``eyeBlinkLeft``/``Right`` (their
  mean): Pearson r across frames per clip, and the blink's mean on the clip's frames whose
  aspect is below 0.6 of its median (closed) against the others.

MediaPipe's detector finds the faces (:mod:`faceedit.faces.detectors`);
:class:`faceedit.faces.blendshapes.BlendshapeReader` reads them.
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

import cv2
import numpy as np

from faceedit.faces.blendshapes import NAMES, BlendshapeReader
from faceedit.faces.detectors import get_detector
from faceedit.io.decode import read_image

ROOT = Path(__file__).resolve().parents[1]


def eye_aspect(lm: np.ndarray) -> float:
    """Both eyes' mean height over width from the 68 points ((|p2-p6| + |p3-p5|) / (2 |p1-p4|))."""
    out = []
    for a in (36, 42):
        p = lm[a:a + 6]
        out.append((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / (2 * np.linalg.norm(p[0] - p[3])))
    return float(np.mean(out))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--detector-mesh", action="store_true", help="Give the blendshapes model the detector's own "
                    "478 points (Face Mesh v1, the iris model's lids and irises) instead of Face Mesh v2's.")
    args = ap.parse_args()
    data = Path(args.data)
    det, reader = get_detector("mediapipe"), BlendshapeReader()

    def read(path: str) -> dict[str, float] | None:
        img = read_image(path).rgb8()
        faces = det.detect(img)
        if not faces:
            return None
        if args.detector_mesh:
            return dict(zip(NAMES, reader.scores(faces[0].dense)))
        return reader.read(img, faces[:1])[0]

    def smile(b):
        return (b["mouthSmileLeft"] + b["mouthSmileRight"]) / 2

    neutral, smiling, brow = [], [], []
    for p in sorted(glob.glob(str(data / "london" / "neutral" / "*.jpg"))):
        q = p.replace("/neutral/", "/smiling/")
        a, b = read(p), read(q) if Path(q).is_file() else None
        if a is None or b is None:
            continue
        neutral.append(smile(a))
        smiling.append(smile(b))
        brow.append(a["browInnerUp"])
    n, s = np.array(neutral), np.array(smiling)
    print(f"London {len(n)} pairs: mouthSmile neutral median {np.median(n):.3f} (90th pct {np.percentile(n, 90):.3f}), "
          f"smiling median {np.median(s):.3f} (10th pct {np.percentile(s, 10):.3f}); smiling > neutral in "
          f"{int((s > n).sum())}/{len(n)}; browInnerUp on neutral median {np.median(brow):.3f}")

    jaw = {"NE": [], "SU": []}
    browj = {"NE": [], "SU": []}
    for subject in sorted({Path(p).name.split(".")[0] for p in glob.glob(str(data / "jaffe" / "*.png"))}):
        for kind in jaw:
            rs = [r for r in (read(p) for p in sorted(glob.glob(str(data / "jaffe" / f"{subject}.{kind}*.png")))) if r]
            if rs:
                jaw[kind].append(float(np.median([r["jawOpen"] for r in rs])))
                browj[kind].append(float(np.median([r["browInnerUp"] for r in rs])))
    ne, su = np.array(jaw["NE"]), np.array(jaw["SU"])
    print(f"JAFFE {len(su)} subjects (per-subject medians): jawOpen neutral {np.median(ne):.3f}, surprise "
          f"{np.median(su):.3f}, surprise > neutral for {int((su > ne).sum())}/{len(su)}; browInnerUp neutral "
          f"{np.median(browj['NE']):.3f}, surprise {np.median(browj['SU']):.3f}")

    for clip in sorted(glob.glob(str(data / "grid" / "*.mpg"))):
        cap = cv2.VideoCapture(clip)
        ear, blink = [], []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            rgb = np.ascontiguousarray(frame[..., ::-1])
            faces = det.detect(rgb)
            if not faces:
                continue
            b = dict(zip(NAMES, reader.scores(faces[0].dense))) if args.detector_mesh else reader.read(rgb, faces[:1])[0]
            ear.append(eye_aspect(np.asarray(faces[0].landmarks)))
            blink.append((b["eyeBlinkLeft"] + b["eyeBlinkRight"]) / 2)
        e, k = np.array(ear), np.array(blink)
        closed = e < 0.6 * np.median(e)
        r = float(np.corrcoef(e, k)[0, 1])
        on = f"{k[closed].mean():.3f}" if closed.any() else "-"
        print(f"GRID {Path(clip).stem}: {len(e)} frames, r(eye aspect, eyeBlink) {r:+.3f}; closed frames "
              f"{int(closed.sum())}: eyeBlink {on} vs open {k[~closed].mean():.3f} (open frames' 95th pct "
              f"{np.percentile(k[~closed], 95):.3f})")


if __name__ == "__main__":
    main()
