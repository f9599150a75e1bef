"""Where a closed mouth's corners and line sit at rest, and where a neutral edit leaves them.

    OMP_NUM_THREADS=1 python bench/measure_rest_line.py --london ../shared/data/london_hd --ids 25 \
        --world posed_surprise --fer [--corner-drop 0.021]

Heights below where the lips meet at the middle (68-point 62 and 66's midpoint, across the eye
line of :func:`faceedit.stage.moves.face_frame`), in eye distances, > 0 lower: the outer corners
(48, 54) and the inner ones (60, 64) of MediaPipe's 68 points, and the line between the lips (at
each share 0.5 ... 1.0 of the way from the middle to a corner, the darkest place across the line
within 0.12 eye distances; the two sides' mean, less the middle's own).

``--london``: the first ``--ids`` London HD neutral photos not held out, at 512 px (real mouths
at rest: medians and 10th / 90th percentiles, the two sides pooled). ``--world``: each face of
the world photos whose name holds one of its comma-separated parts, made neutral by the stage:
the goal's corners as the plan leaves them (after :func:`faceedit.stage.rest.at_rest`), and the
corners and line read again on the edit; ``--fer`` adds FER's probabilities
(:class:`bench_independent.FerClassifier`, on the face's box); ``--corner-drop`` sets
``RestTuning.corner_drop`` for the run. With ``--fer``, FER reads two blends of photo and edit
too: the edit below the nose (the rows past 0.3 of the way from 68-point 30 to 33, a 4-px ramp)
under the photo's eyes and brows (``lower``), and the photo's mouth under the edit's (``upper``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import cv2
import numpy as np

SHARES = (0.5, 0.7, 0.8, 0.9, 0.95, 1.0)


def heights(lm: np.ndarray) -> dict[str, float]:
    """The corners' heights below where the lips meet at the middle (eye distances)."""
    from faceedit.stage.moves import face_frame

    _, n, eye = face_frame(lm)
    mid = (lm[62] + lm[66]) / 2
    return {f"c{k}": round(float((lm[k] - mid) @ n) / eye, 3) for k in (48, 54, 60, 64)}


def line(rgb: np.ndarray, lm: np.ndarray) -> list[float]:
    """The line between the lips' height below its middle at each of :data:`SHARES` of the way
    to the corners (the two sides' mean; eye distances)."""
    from faceedit.pixels import luma
    from faceedit.stage.moves import face_frame

    u, n, eye = face_frame(lm)
    grey = luma(rgb.astype(np.float32))
    mid = (lm[62] + lm[66]) / 2
    across = np.arange(-0.12 * eye, 0.12 * eye + 0.5, 0.5)

    def at(p: np.ndarray) -> float:
        pts = (p[None] + across[:, None] * n[None]).astype(np.float32)
        v = cv2.remap(grey, pts[None, :, 0], pts[None, :, 1], cv2.INTER_LINEAR)[0]
        return float(across[int(np.argmin(v))]) / eye

    base = at(mid)
    return [round(float(np.mean([at(mid + s * float((lm[c] - mid) @ u) * u) for c in (48, 54)])) - base, 3)
            for s in SHARES]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--london", type=Path, default=None, help="the london_hd folder")
    ap.add_argument("--ids", type=int, default=25)
    ap.add_argument("--world", default=None, help="comma-separated parts of world photo names")
    ap.add_argument("--fer", action="store_true")
    ap.add_argument("--corner-drop", type=float, default=None)
    a = ap.parse_args(argv)
    from london_ids import HELD_OUT

    from faceedit.api import Editor
    from faceedit.eval import world

    ed = Editor.from_pretrained("stage", device="cpu")
    stage = ed.stage
    assert stage is not None
    if a.corner_drop is not None:
        tn = stage.tuning
        stage.tuning = dataclasses.replace(tn, rest=dataclasses.replace(tn.rest, corner_drop=a.corner_drop))

    def points(rgb: np.ndarray, face=None) -> np.ndarray:
        return np.asarray((face or ed.detector.detect(rgb)[0]).landmarks, np.float64)

    if a.london is not None:
        folder = a.london / "neutral"
        ids = [p.stem for p in sorted(folder.glob("*.jpg")) if p.stem not in HELD_OUT][:a.ids]
        corners: dict[str, list[float]] = {"outer": [], "inner": []}
        lines = []
        for i in ids:
            rgb = cv2.resize(world.read_rgb(folder / f"{i}.jpg"), (512, 512), interpolation=cv2.INTER_AREA)
            lm = points(rgb)
            h = heights(lm)
            corners["outer"] += [h["c48"], h["c54"]]
            corners["inner"] += [h["c60"], h["c64"]]
            lines.append(line(rgb, lm))
        for k, v in corners.items():
            print(f"London neutral ({len(ids)} ids, 512 px) {k} corners: median {np.median(v):.3f} "
                  f"p10 {np.percentile(v, 10):.3f} p90 {np.percentile(v, 90):.3f}")
        for q, name in ((50, "median"), (10, "p10"), (90, "p90")):
            print(f"London neutral line at {SHARES}: {name} {np.round(np.percentile(lines, q, 0), 3).tolist()}")
    if a.world:
        import faceedit.stage.steps as steps
        from faceedit.flow import edit_faces
        from faceedit.models.request import EditRequest

        fer = None
        if a.fer:
            from bench_independent import FerClassifier

            fer = FerClassifier()
        planned: list[np.ndarray] = []
        at_rest = steps.at_rest

        def recorded(*args, **kw):
            planned.append(at_rest(*args, **kw))
            return planned[-1]

        steps.at_rest = recorded  # the goal as the plan leaves it
        for photo in world.world_set(wheels=True):
            if not any(part in photo.name for part in a.world.split(",")):
                continue
            for n, face in enumerate(ed.detector.detect(photo.rgb)):
                planned.clear()
                out = edit_faces(ed, photo.rgb, [face], EditRequest.of("neutral", 1.0))
                again = min(ed.detector.detect(out), key=lambda g: float(np.abs(g.box - face.box).sum()))
                row = f"{photo.name}#{n} planned {heights(planned[-1]) if planned else None}; edit " \
                      f"{heights(points(out, again))} line {line(out, points(out, again))}"
                if fer is not None:
                    x0, y0, x1, y1 = face.box
                    lm = points(photo.rgb, face)
                    cut = lm[30, 1] + 0.3 * (lm[33, 1] - lm[30, 1])
                    below = np.clip((np.arange(out.shape[0]) - cut) / 4 + 0.5, 0, 1)[:, None, None]
                    for name, im in (("", out), (" lower", below * out + (1 - below) * photo.rgb),
                                     (" upper", below * photo.rgb + (1 - below) * out)):
                        p = fer.probabilities_on_box(np.round(im).astype(np.uint8), (x0, y0, x1 - x0, y1 - y0))
                        row += f" FER{name} " + " ".join(f"{c} {v:.2f}" for c, v in sorted(p.items(),
                                                                                     key=lambda t: -t[1])[:2])
                print(row, flush=True)
        steps.at_rest = at_rest
    return 0


if __name__ == "__main__":
    sys.exit(main())
