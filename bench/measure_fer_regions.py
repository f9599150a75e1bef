"""Which part of a face FER reads an edit's expression in: the edit and the photo mixed by region.

    OMP_NUM_THREADS=1 python bench/measure_fer_regions.py --only posed_surprise,posed_anger_15,portrait_112

Per face of the world's wheel photos (:func:`faceedit.eval.world.world_set`; ``--only`` keeps the
photos whose name contains one of its parts, ``--faces`` how many of each photo's largest faces)
the stage's edit to ``--target`` (every face of the photo edited, as ``bench/bench_world.py``
does) is read by FER's emotion model on the face's box (:class:`bench_independent.FerClassifier`),
and so are, per region of the face (:data:`REGIONS`: soft ellipses about the photo's 68 points,
in its eye distances), four mixes: the edit with the photo's own pixels there (``edit+photo``),
the photo with the edit's there (``photo+edit``), the edit blurred there (``edit~``) and the photo
blurred there (``photo~``; a Gaussian of ``--blur`` eye distances). Each cell is FER's label and
its probability of the target. A region whose photo pixels in the edit bring the target back,
or whose blur alone does, holds what FER reads instead; where the photo's blur there moves FER
too, FER reads the person's own features there rather than what the edit drew.
"""

from __future__ import annotations

import argparse
import sys

import cv2
import numpy as np

#: name -> (centre as weights over 68 points, or a point and an offset in eye distances down the
#: image; half-axes in eye distances). The upper and lower halves are cut at the nose's middle.
REGIONS: dict[str, tuple[dict[int, float], tuple[float, float], tuple[float, float]]] = {
    "brows": ({i: 0.1 for i in range(17, 27)}, (0.0, 0.0), (1.0, 0.2)),
    "glabella": ({21: 0.5, 22: 0.5}, (0.0, -0.1), (0.25, 0.25)),
    "eyes": ({i: 1 / 12 for i in range(36, 48)}, (0.0, 0.0), (1.0, 0.22)),
    "nostrils": ({33: 1.0}, (0.0, 0.0), (0.3, 0.12)),
    "nose+cheeks": ({30: 1.0}, (0.0, 0.0), (0.9, 0.35)),
    "mouth": ({i: 1 / 20 for i in range(48, 68)}, (0.0, 0.0), (0.55, 0.3)),
    "chin": ({8: 0.6, 57: 0.4}, (0.0, 0.0), (0.45, 0.25)),
}
HALVES = ("upper", "lower")


def masks(shape: tuple[int, ...], lm: np.ndarray) -> dict[str, np.ndarray]:
    """(H, W, 1) float32 soft masks (0..1) of :data:`REGIONS` and :data:`HALVES` on a photo of
    ``shape`` about the 68 points ``lm``."""
    eye = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
    out: dict[str, np.ndarray] = {}
    for name, (weights, (dx, dy), (rx, ry)) in REGIONS.items():
        c = sum(w * lm[i] for i, w in weights.items()) + eye * np.array([dx, dy])
        m = np.zeros(shape[:2], np.float32)
        cv2.ellipse(m, (int(round(c[0])), int(round(c[1]))), (max(1, int(rx * eye)), max(1, int(ry * eye))),
                    0, 0, 360, 1.0, -1)
        out[name] = cv2.GaussianBlur(m, (0, 0), max(0.06 * eye, 0.5))[..., None]
    cut = np.zeros(shape[:2], np.float32)
    cut[:int(round((lm[29, 1] + lm[30, 1]) / 2))] = 1.0
    upper = cv2.GaussianBlur(cut, (0, 0), max(0.04 * eye, 0.5))[..., None]
    out["upper"], out["lower"] = upper, 1.0 - upper
    return out


def mix(base: np.ndarray, other: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``other`` where ``m`` is 1, ``base`` where it is 0 (uint8)."""
    return np.clip(other * m + base * (1.0 - m) + 0.5, 0, 255).astype(np.uint8)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="posed_surprise,posed_anger_15,portrait_112",
                    help="comma-separated parts of the wheel photos' names")
    ap.add_argument("--target", default="neutral")
    ap.add_argument("--faces", type=int, default=1, help="each photo's largest faces read")
    ap.add_argument("--blur", type=float, default=0.03, help="the blur's sigma, eye distances")
    a = ap.parse_args(argv)
    from bench_independent import FerClassifier

    from faceedit.api import Editor
    from faceedit.eval import world
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    ed = Editor.from_pretrained("stage", device="cpu")
    fer = FerClassifier()
    photos = [p for p in world.world_set(wheels=True) if any(part in p.name for part in a.only.split(","))]
    for photo in photos:
        faces = sorted(ed.detector.detect(photo.rgb), key=lambda f: -f.area)
        if not faces:
            print(f"{photo.name}: no face found")
            continue
        out = edit_faces(ed, photo.rgb, faces, EditRequest.of(a.target, 1.0))
        for k, f in enumerate(faces[:a.faces]):
            box = (f.box[0], f.box[1], f.box[2] - f.box[0], f.box[3] - f.box[1])
            lm = np.asarray(f.landmarks, np.float64)
            eye = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))

            def read(rgb: np.ndarray) -> str:
                p = fer.probabilities_on_box(rgb, box)
                return f"{max(p, key=p.__getitem__)[:4]} {p[a.target]:.2f}"

            blur = max(a.blur * eye, 0.3)
            soft_in, soft_out = cv2.GaussianBlur(photo.rgb, (0, 0), blur), cv2.GaussianBlur(out, (0, 0), blur)
            print(f"{photo.name}#{k} (eyes {eye:.0f} px) made {a.target}; FER label and p({a.target}): "
                  f"photo {read(photo.rgb)}, edit {read(out)}, all blurred: photo {read(soft_in)}, edit {read(soft_out)}")
            print(f"  {'region':12s} {'edit+photo':>12s} {'photo+edit':>12s} {'edit~':>12s} {'photo~':>12s}")
            for name, m in masks(photo.rgb.shape, lm).items():
                print(f"  {name:12s} {read(mix(out, photo.rgb, m)):>12s} {read(mix(photo.rgb, out, m)):>12s} "
                      f"{read(mix(out, soft_out, m)):>12s} {read(mix(photo.rgb, soft_in, m)):>12s}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
