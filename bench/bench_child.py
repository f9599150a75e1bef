"""How young a face reads: :func:`faceedit.faces.reading.iris_face` on adults' and children's photos, against
:data:`~faceedit.faces.reading.CHILD_IRIS_FACE`, and what the stage's happy and surprised do to the children's
mouths.

    OMP_NUM_THREADS=1 python bench/bench_child.py --data ../shared/data [--world] [--adults DIR ...] \\
        [--children DIR ...] [--edits]

Every face the stage's detector (MediaPipe's, with its irises) finds is read. The adults: ``--data``'s London
neutral and smiling photos (512 px), JAFFE and Yale, the world set's photos (``--world``: the astronaut and the
wheels' photos, :func:`faceedit.eval.world.world_set`) and any ``--adults`` folders; the children: any
``--children`` folders (the project ships no photo of a child: any folder of them, a face per photo or a group,
for a group ``--adults`` takes the adults' photos and a face of a group is the children's). Per set: the faces'
count, median, 99th percentile and largest reading, how many read as children (by it alone and by
:func:`~faceedit.faces.reading.reads_child`, which reads a face with shut or squeezed eyes by its roundness and its
eye corners' spacing, :func:`~faceedit.faces.reading.child_proportions`), and the largest of those two among its
frontal faces whose eyes are shut or squeezed; per child face (and any adult read as one) its readings.
``--edits``: each child face made happy and surprised, and the share of its inner mouth that reads as teeth
(:func:`~faceedit.faces.reading.read_face`'s ``teeth``) on the photo and on each edit, the edit's face found again
by the detector: a child read as one gets none it did not show.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

IMAGES = ("*.jpg", "*.jpeg", "*.png")


def _photos(folder: Path) -> list[Path]:
    return sorted(p for pattern in IMAGES for p in folder.glob(pattern))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, help="the shared data folder (london/, jaffe/, yale/)")
    ap.add_argument("--world", action="store_true", help="the world set's photos as adults")
    ap.add_argument("--adults", type=Path, nargs="*", default=[])
    ap.add_argument("--children", type=Path, nargs="*", default=[])
    ap.add_argument("--edits", action="store_true", help="make each child face happy and surprised")
    a = ap.parse_args(argv)

    from faceedit.api import Editor
    from faceedit.eval.world import read_rgb, world_set
    from faceedit.faces.reading import (
        CHILD_FRONTAL,
        CHILD_IRIS_FACE,
        CHILD_SHUT,
        CHILD_SQUEEZED,
        child_proportions,
        iris_face,
        read_face,
        reads_child,
    )
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    ed = Editor.from_pretrained("stage", device="cpu")
    sets: list[tuple[str, bool, list[tuple[str, np.ndarray]]]] = []
    if a.data is not None:
        for name, folder in (("london neutral", "london/neutral"), ("london smiling", "london/smiling"),
                             ("jaffe", "jaffe"), ("yale", "yale")):
            paths = _photos(a.data / folder)
            if paths:
                sets.append((name, False, [(p.name, read_rgb(p)) for p in paths]))
    if a.world:
        sets.append(("world", False, [(p.name, p.rgb) for p in world_set(None)]))
    sets += [(str(d), False, [(p.name, read_rgb(p)) for p in _photos(d)]) for d in a.adults]
    sets += [(str(d), True, [(p.name, read_rgb(p)) for p in _photos(d)]) for d in a.children]
    for name, children, photos in sets:
        read, young, shut_round, squeezed_wide = [], [], [], []
        for photo, rgb in photos:
            for k, face in enumerate(sorted(ed.detector.detect(rgb), key=lambda f: -f.area)):
                v = iris_face(face.dense)
                if v is None:
                    continue
                child = reads_child(face.dense)
                opening, yaw, roundness, wide = child_proportions(face.dense)
                read.append(v)
                young.append(child)
                if abs(yaw) <= CHILD_FRONTAL and opening < CHILD_SQUEEZED:
                    squeezed_wide.append(wide)
                    if opening < CHILD_SHUT:
                        shut_round.append(roundness)
                if not children and not child:
                    continue
                line = (f"  {photo}#{k}  {v:.4f}  opening {opening:.3f} yaw {yaw:.0f} round {roundness:.3f} "
                        f"wide-set {wide:.3f}{'  child' if child else ''}")
                if a.edits and children and child:
                    line += f"  teeth: photo {read_face(rgb, face).teeth:.3f}"
                    centre = (face.box[:2] + face.box[2:]) / 2
                    for target in ("happy", "surprised"):
                        out = edit_faces(ed, rgb, [face], EditRequest.of(target, 1.0))
                        near = min(ed.detector.detect(out), default=None,
                                   key=lambda g: float(np.linalg.norm((g.box[:2] + g.box[2:]) / 2 - centre)))
                        teeth = read_face(out, near).teeth if near is not None else float("nan")
                        line += f", {target} {teeth:.3f}"
                print(line, flush=True)
        v = np.asarray(read)
        if len(v):
            most = lambda x: f"{max(x):.3f} of {len(x)}" if x else "none"  # noqa: E731
            print(f"{name}: {len(v)} faces, iris_face median {np.median(v):.4f}, 99th percentile "
                  f"{np.percentile(v, 99):.4f}, largest {v.max():.4f}; iris_face >= {CHILD_IRIS_FACE}: "
                  f"{int((v >= CHILD_IRIS_FACE).sum())}; read as children (reads_child): {sum(young)}; frontal faces "
                  f"with shut eyes, roundness largest {most(shut_round)}; squeezed, wide-set largest "
                  f"{most(squeezed_wide)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
