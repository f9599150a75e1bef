"""The light of the space between the brows and the eyes: real surprised faces against neutral ones made surprised.

    OMP_NUM_THREADS=1 python bench/measure_brow_space.py --jaffe ../shared/data/jaffe --yale ../shared/data/yale
    OMP_NUM_THREADS=1 python bench/measure_brow_space.py --photos PHOTOS --part outer

Each photo's largest face is read by the stage's own detector (MediaPipe's 68 points). Under each brow's three
middle points (18-20, 23-25), from 0.45 to 0.8 of the way down to its upper lid's middle (37-38, 43-44), the
median luma, over the forehead's (0.3-0.5 eye widths above the same points): the brow-lid space's light, one
value per eye. Read on each subject's real surprised photos (JAFFE's ``*.SU*``, Yale's ``*.surprised``), on
their neutral photos (``*.NE*``, ``*.normal``) and on those neutral photos made surprised by the stage
(strength 1; read again on the edit); ``--part outer`` or ``inner`` reads under the brow's end point
down to its eye's corner instead (the socket beside the eye: a raised brow's tail or head drawn down
over it reads dark); ``--photos`` edits a folder's photos (no real ones to set beside). Prints, per
data set, the median and the 10th percentile of each.
A real surprise opens the space into the light; the warp alone stretches it as dark as it was.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

#: Where along the way from a brow's points to its upper lid the space is read, and how far above
#: the points the forehead is (eye widths).
SPACE = (0.45, 0.8)
FOREHEAD = (0.3, 0.5)
SETS = {"jaffe": ("*.NE*.png", "*.SU*.png"), "yale": ("*.normal.png", "*.surprised.png")}


#: Each eye's brow points over its upper lid: (middle brow points, middle lid points, corners (the
#: image's left, right), outer brow end, inner brow end).
EYES = (((18, 19, 20), (37, 38), (36, 39), 17, 21), ((23, 24, 25), (43, 44), (42, 45), 26, 22))


def space_light(detector, rgb: np.ndarray, part: str = "middle") -> list[float]:
    """Each eye's brow-lid space light over the forehead's (none where no face is found): under the
    brow's middle points down to the lid's middle (``part`` "middle"), or under its outer or inner end
    point down to the height of the eye's corner on that side ("outer", "inner")."""
    faces = detector.detect(rgb)
    if not faces:
        return []
    lm = np.asarray(max(faces, key=lambda f: f.area).landmarks, np.float64)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    h, w = grey.shape

    def at(p: np.ndarray) -> float:
        return float(grey[int(np.clip(round(p[1]), 0, h - 1)), int(np.clip(round(p[0]), 0, w - 1))])

    out = []
    for brow, lid, corners, outer, inner in EYES:
        width = float(np.linalg.norm(lm[corners[1]] - lm[corners[0]]))
        if part == "middle":
            pairs = [(j, float(lm[list(lid), 1].mean())) for j in brow]
        else:
            end = outer if part == "outer" else inner
            corner = min(corners, key=lambda c: abs(lm[c, 0] - lm[end, 0]))
            pairs = [(end, float(lm[corner, 1]))]
        space, forehead = [], []
        for j, lid_y in pairs:
            p = lm[j]
            below = np.array([p[0], lid_y])
            space += [at(p + t * (below - p)) for t in np.linspace(*SPACE, 8)]
            forehead += [at(p - [0.0, t * width]) for t in np.linspace(*FOREHEAD, 5)]
        out.append(float(np.median(space) / max(np.median(forehead), 1.0)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jaffe", type=Path, help="../shared/data/jaffe")
    ap.add_argument("--yale", type=Path, help="../shared/data/yale")
    ap.add_argument("--photos", type=Path, help="a folder of photos without real surprised ones (edits only)")
    ap.add_argument("--part", choices=("middle", "outer", "inner"), default="middle",
                    help="under the brow's middle points, or under its outer or inner end")
    args = ap.parse_args()
    from faceedit.api import Editor
    from faceedit.eval import world

    ed = Editor.from_pretrained("stage", device="cpu")
    for name, folder in (("jaffe", args.jaffe), ("yale", args.yale), ("photos", args.photos)):
        if folder is None or not folder.is_dir():
            continue
        neutral_glob, surprised_glob = SETS.get(name, ("*.[jp][pn]g", None))
        read: dict[str, list[float]] = {"neutral": [], "real surprised": [], "made surprised": []}
        for p in sorted(folder.glob(surprised_glob)) if surprised_glob else []:
            read["real surprised"] += space_light(ed.detector, world.read_rgb(p), args.part)
        for p in sorted(folder.glob(neutral_glob)):
            rgb = world.read_rgb(p)
            read["neutral"] += space_light(ed.detector, rgb, args.part)
            read["made surprised"] += space_light(ed.detector, ed.edit(rgb, "surprised", force=True), args.part)
        print(name, args.part, "  ".join(
            f"{'input' if k == 'neutral' and not surprised_glob else k} {np.median(v):.3f} "
            f"(p10 {np.percentile(v, 10):.3f}, {len(v)} eyes)" for k, v in read.items() if v), flush=True)


if __name__ == "__main__":
    main()
