"""The planned moves' slide of the mouth under the nose, and which edits the stage declines.

    OMP_NUM_THREADS=1 python bench/bench_hold.py [--world DIR] [--london ../shared/data/london_hd]
        [--side 450] [--top 12]

For every face of the world photos (``DIR``: default ``faceedit.eval.world.cache_dir()/images``,
fetched by ``faceedit.eval.world``, never committed), skimage's astronaut and the London HD
neutral and smiling photos (resized to ``--side`` px on the long side), and every named target
of the stage, the move the stage plans (:func:`faceedit.stage.steps.planned`) is measured:
:func:`faceedit.stage.hold.mouth_shear`, the inner lips' gap (eye distances) and the verdict
(:func:`faceedit.stage.hold.judged`). Prints every declined edit, then the ``--top``
held edits nearest their limit (the slide over the limit that applies), then per source the
largest slide. Faces the edit declines as they are (turned past 45 degrees, eyes under 12 px:
:func:`faceedit.faces.reading.decline_reason`) are left out.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np


def _load(path: Path, side: int | None) -> np.ndarray:
    bgr = cv2.imread(str(path))
    assert bgr is not None, f"cannot read {path}"
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    if side and max(rgb.shape[:2]) > side:
        f = side / max(rgb.shape[:2])
        rgb = cv2.resize(rgb, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    return rgb


def main() -> None:
    from faceedit.api import Editor
    from faceedit.eval.world import cache_dir
    from faceedit.faces.reading import decline_reason, read_face
    from faceedit.models.request import EditRequest
    from faceedit.stage import hold
    from faceedit.stage.records import StageFace
    from faceedit.stage.state import lip_gap

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--world", type=Path, default=None)
    ap.add_argument("--london", type=Path, default=Path("../shared/data/london_hd"))
    ap.add_argument("--side", type=int, default=450)
    ap.add_argument("--top", type=int, default=12)
    args = ap.parse_args()

    editor = Editor.from_pretrained("stage", device="cpu")
    stage = editor.stage
    assert stage is not None
    t = stage.tuning.turned
    photos: list[tuple[str, str, np.ndarray]] = []
    world = args.world or cache_dir() / "images"
    for p in sorted(q for q in world.glob("*") if q.suffix.lower() in (".jpg", ".jpeg", ".png")) if world.is_dir() else []:
        photos.append(("world", p.name, _load(p, None)))
    from skimage.data import astronaut

    photos.append(("astronaut", "astronaut", astronaut()))
    for kind in ("neutral", "smiling"):
        for p in sorted((args.london / kind).glob("*.jpg")) if (args.london / kind).is_dir() else []:
            photos.append((f"london {kind}", p.name, _load(p, args.side)))
    requests = {target: stage.request(editor.check_request(EditRequest.of(target))) for target in stage.expressions}
    rows = []
    for source, name, rgb in photos:
        for k, face in enumerate(editor.detector.detect(rgb)):
            if np.shape(face.landmarks) != (68, 2):
                continue
            r = read_face(rgb, face)
            if decline_reason(r) is not None:
                continue
            for target, req in requests.items():
                sf = StageFace(face.landmarks, face.dense)
                edit, why = hold.judged(stage, sf, req, rgb)  # the move planned once, and its verdict
                assert edit is not None and edit.goal is not None
                shear = hold.mouth_shear(edit.landmarks, edit.goal)
                gap = lip_gap(edit.landmarks)
                limit = t.hold_shear_open if gap > t.hold_open_gap else t.hold_shear
                rows.append((source, name, k, target, r.yaw, r.pitch, gap, shear, abs(shear) / limit, why))
    print(f"{len(rows)} planned moves, {len({(s, n, k) for s, n, k, *_ in rows})} faces")

    def line(row) -> str:
        source, name, k, target, yaw, pitch, gap, shear, share, _ = row
        p = "-" if pitch is None else f"{pitch:.0f}"
        return (f"  {source:15s} {name:24s} face {k} {target:10s} yaw {yaw:4.0f} pitch {p:>3s} "
                f"lips {gap:.3f} slide {shear:+.3f} ({share:.2f} of its limit)")

    print("declined:")
    for row in rows:
        if row[-1] is not None:
            print(line(row))
    print(f"held, nearest their limit (top {args.top}):")
    for row in sorted((r for r in rows if r[-1] is None), key=lambda r: -r[8])[: args.top]:
        print(line(row))
    print("largest slide per source (held edits):")
    for source in dict.fromkeys(r[0] for r in rows):
        held = [abs(r[7]) for r in rows if r[0] == source and r[-1] is None]
        print(f"  {source:15s} {max(held) if held else float('nan'):.3f} over {len(held)} moves")


if __name__ == "__main__":
    main()
