"""What each named control of the stage moves, read again on the edit, and how long it takes.

    OMP_NUM_THREADS=1 python bench/bench_controls.py [--photos astronaut,019,142] [--sheets DIR]

For the astronaut and held-out London neutral faces at 1350 px (``../shared/data/london_hd``,
skipped where absent), each control at its end value is applied by the stage alone
(:class:`faceedit.api.Editor`, MediaPipe's detector with the Face Mesh) and the edit is read by
dlib's 68 points against the photo's own:

* blink, winks: each eye's lid distance over the photo's (image-left eye, image-right eye);
* gaze: each iris's move (the iris search of :func:`faceedit.stage.eyes.find_iris` inside the
  photo's Face Mesh eye contour) in eye widths, x and y (+ right, + down);
* head_yaw: the nose tip's (30) move along x less the jaw sides' (0-3, 13-16), eye distances;
  head_pitch: the nose tip's move along y less the jaw sides'; head_roll: the eye line's turn,
  degrees;
* lip shapes: the mouth's width (48-54) and the outer lips' height (51-57) over the photo's,
  and the inner lips' gap (:func:`faceedit.stage.state.lip_gap`);

the identity kept: the distance between dlib's face descriptors (ResNet, 128-D) of the photo
and of the edit (dlib counts under 0.6 as the same person); and the seconds one edit takes
(one core). ``--sheets DIR`` writes each photo's face crops, the
photo's own pixels, one tile per control, to ``DIR/controls_NAME.png``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from faceedit.api import Editor
from faceedit.faces.detectors import get_detector
from faceedit.faces.landmarks import eye_distance
from faceedit.stage.eyes import eye_apertures, eye_polygon, find_iris
from faceedit.stage.state import lip_gap

ROOT = Path(__file__).resolve().parents[1]
LONDON = ROOT.parent / "shared" / "data" / "london_hd" / "neutral"
CONTROLS = ("blink=1", "wink_left=1", "wink_right=1", "gaze_x=1", "gaze_x=-1", "gaze_y=1", "gaze_y=-1",
            "head_yaw=1", "head_yaw=-1", "head_pitch=1", "head_pitch=-1", "head_roll=1", "pout=1", "purse=1",
            "grin=1", "aaa=1", "eee=1", "woo=1")


def load(name: str) -> np.ndarray | None:
    if name == "astronaut":
        from skimage import data

        return np.array(data.astronaut())
    path = LONDON / (name if name.endswith(".jpg") else f"{name}.jpg")
    if not path.exists():
        print(f"{path}: absent, skipped")
        return None
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def irises(img: np.ndarray, mesh: np.ndarray) -> np.ndarray | None:
    out = []
    for k in (0, 1):
        poly = eye_polygon(mesh, k, 0.1)
        x0, y0 = np.floor(poly.min(0)).astype(int) - 4
        x1, y1 = np.ceil(poly.max(0)).astype(int) + 5
        found = find_iris(img[y0:y1, x0:x1].astype(np.float32) / 255, poly - [x0, y0])
        if found is None:
            return None
        out.append(found[0] + [x0, y0])
    return np.array(out)


class Identity:
    """dlib's face descriptor of the largest face its HOG detector finds."""

    def __init__(self) -> None:
        import dlib

        from faceedit.faces.detectors.dlib import SHAPE68, dlib_model

        self.find = dlib.get_frontal_face_detector()
        self.shape = dlib.shape_predictor(str(dlib_model(SHAPE68)))
        self.net = dlib.face_recognition_model_v1(str(dlib_model("dlib_face_recognition_resnet_model_v1.dat")))

    def __call__(self, rgb: np.ndarray) -> np.ndarray | None:
        boxes = self.find(rgb, 1)
        if not boxes:
            return None
        box = max(boxes, key=lambda b: b.area())
        return np.array(self.net.compute_face_descriptor(rgb, self.shape(rgb, box)))


def measure(name: str, value: float, img, out, lm, got, mesh) -> str:
    ed = eye_distance(lm)
    if name in ("blink", "wink_left", "wink_right"):
        return "lids " + " ".join(f"{v:.2f}" for v in eye_apertures(got) / eye_apertures(lm))
    if name.startswith("gaze"):
        a, b = irises(img, mesh), irises(out, mesh)
        if a is None or b is None:
            return "no iris found"
        width = float(np.linalg.norm(mesh[133] - mesh[33]))
        return "iris " + "  ".join(f"{dx:+.2f},{dy:+.2f}" for dx, dy in (b - a) / width)
    jaw = [0, 1, 2, 3, 13, 14, 15, 16]
    if name in ("head_yaw", "head_pitch"):
        axis = 0 if name == "head_yaw" else 1
        rel = (got[30, axis] - lm[30, axis]) - float((got[jaw, axis] - lm[jaw, axis]).mean())
        return f"nose-jaw {rel / ed:+.3f} ed"
    if name == "head_roll":
        turn = [np.degrees(np.arctan2(*(p[42:48].mean(0) - p[36:42].mean(0))[::-1])) for p in (lm, got)]
        return f"eye line {turn[1] - turn[0]:+.1f} deg"
    width = np.linalg.norm(got[54] - got[48]) / np.linalg.norm(lm[54] - lm[48])
    height = np.linalg.norm(got[57] - got[51]) / np.linalg.norm(lm[57] - lm[51])
    return f"mouth width {width:.2f} height {height:.2f} gap {lip_gap(lm):.3f}->{lip_gap(got):.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", default="astronaut,019,142")
    ap.add_argument("--sheets", type=Path, default=None)
    args = ap.parse_args()
    editor = Editor.from_pretrained("stage", device="cpu")
    dlib = get_detector("dlib")
    identity = Identity()
    for photo in args.photos.split(","):
        img = load(photo)
        if img is None:
            continue
        face = max(editor.detector.detect(img), key=lambda f: f.area)
        mesh = np.asarray(face.dense, np.float64)[:, :2]
        lm = np.asarray(max(dlib.detect(img), key=lambda f: f.area).landmarks, np.float64)
        zero = editor.edit(img, "keep", face="largest", controls={c.split("=")[0]: 0.0 for c in CONTROLS})
        print(f"{photo} {img.shape[1]}x{img.shape[0]}: every control at 0 bit-exact: {np.array_equal(zero, img)}")
        own = identity(img)
        tiles = []
        for spec in CONTROLS:
            name, value = spec.split("=")
            t = time.perf_counter()
            out = editor.edit(img, "keep", face="largest", controls={name: float(value)})
            took = time.perf_counter() - t
            found = dlib.detect(out)
            got = np.asarray(max(found, key=lambda f: f.area).landmarks, np.float64) if found else None
            read = "no face" if got is None else measure(name, float(value), img, out, lm, got, mesh)
            desc = identity(out)
            same = "-" if desc is None or own is None else f"{np.linalg.norm(desc - own):.3f}"
            print(f"  {spec:14s} {took:5.2f} s  identity {same}  {read}")
            tiles.append(out)
        if args.sheets:
            x0, y0 = lm.min(0)
            x1, y1 = lm.max(0)
            w = x1 - x0
            ys = slice(max(int(y0 - 0.45 * w), 0), int(y1 + 0.15 * w))
            xs = slice(max(int(x0 - 0.2 * w), 0), int(x1 + 0.2 * w))
            crops = [img[ys, xs]] + [t[ys, xs] for t in tiles]
            crops += [np.zeros_like(crops[0])] * (-len(crops) % 5)
            sheet = np.concatenate([np.concatenate(crops[i:i + 5], 1) for i in range(0, len(crops), 5)], 0)
            args.sheets.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(args.sheets / f"controls_{photo}.png"), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    main()
