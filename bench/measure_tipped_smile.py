"""What a tipped or turned face's smile reads as, however the face is turned to the front.

    OMP_NUM_THREADS=1 python bench/measure_tipped_smile.py --london ../shared/data/london_hd --pairs 6

Per face of the world's wheel photos that the stage plans turned to the front
(:func:`faceedit.stage.turned.head_frame`; ``--only`` keeps the photos whose name contains one
of its parts), and per London HD pair (the first ``--pairs`` ids that are not held out, neutral
and smiling, at half size) as a reference: the head's pitch and yaw; in the head's own frame
(the Face Mesh's points and depth, in its eye distances) the mouth's width (mesh corners 61 to
291) and the corners' height over the lips' middle (13, 14; above 0: corners higher), and that
height in the photo's own plane (``image``: across the 68 points' eye line, in their eye
distances; a bowed head's mouth arcs up there, its corners lying deeper than its middle); the
stage's AU12 (in units of the mean AU12 of the smiles its smile map was fitted on, as
:func:`faceedit.stage.smile.smile_taken` reads it) on the photo's 68 points, on the points
turned to the front with the pitch kept (the yaw alone undone), turned to the front whole
(:meth:`~faceedit.stage.turned.HeadFrame.frontal`), and turned with a share (0.5, 0) of the
depth counted down the face; beside each its nose-bridge-to-chin length (68 points 27 to 8, in
the 68 points' eye distances); and MediaPipe's own blendshapes' ``mouthSmileLeft`` /
``mouthSmileRight`` (:class:`faceedit.faces.blendshapes.BlendshapeReader`). ``--target T``: each
world face's edit to ``T`` by the stage is read alike (the face found again on the edit).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import cv2
import numpy as np

SHARES = (0.5, 0.0)


def _length(lm: np.ndarray) -> float:
    eye = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
    return float(np.linalg.norm(lm[8] - lm[27])) / max(eye, 1e-9)


def _turned(turn, lm: np.ndarray, keep_pitch: bool = False, share: float = 1.0) -> np.ndarray:
    """``lm`` turned to the front by ``turn`` (a HeadFrame, whole): with its pitch kept (the yaw
    alone undone), or with ``share`` of the depth counted down the face."""
    q = np.column_stack([lm, turn.depth68]) - turn.centre
    h = q @ turn.axes.T  # across, down and into the face
    if keep_pitch:
        r = np.radians(turn.pitch)
        h[:, 1] = h[:, 1] * np.cos(r) + h[:, 2] * np.sin(r)
        return turn.centre[:2] + h[:, :2]
    front = turn.centre[:2] + h[:, :2]
    front[:, 1] -= (1.0 - share) * q[:, 2] * turn.axes[1, 2]
    return front


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--london", type=Path, default=None, help="the london_hd folder")
    ap.add_argument("--pairs", type=int, default=6)
    ap.add_argument("--only", default=None)
    ap.add_argument("--target", default=None, help="read each world face's edit to this target too")
    a = ap.parse_args(argv)
    from london_ids import HELD_OUT

    from faceedit.api import Editor
    from faceedit.eval.world import world_set
    from faceedit.faces.au import AU_IDS
    from faceedit.faces.blendshapes import BlendshapeReader
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest
    from faceedit.stage.moves import face_frame
    from faceedit.stage.records import mesh_depth, mesh_points
    from faceedit.stage.tuning_face import TurnedTuning
    from faceedit.stage.turned import head_frame

    ed = Editor.from_pretrained("stage", device="cpu")
    stage, reader = ed.stage, BlendshapeReader()
    every = TurnedTuning(frontal_yaw=-1.0, frontal_pitch=-1.0)  # a frame for every face

    def au12(lm: np.ndarray) -> float:
        cur = stage.state(lm, None, True)
        v = float(np.nan_to_num(stage.state_aus_cached(cur.expression, cur.identity)[AU_IDS.index(12)]))
        return v / max(float(stage.array("smile_au12")[0]), 1e-3)

    def row(name: str, rgb: np.ndarray, face, planned_only: bool) -> None:
        mesh, depth = mesh_points(face.dense), mesh_depth(face.dense)
        if mesh is None or depth is None or (planned_only and head_frame(mesh, depth, stage.tuning.turned) is None):
            return
        turn = head_frame(mesh, depth, every)
        assert turn is not None
        turn = dataclasses.replace(turn, ramp=1.0)
        p = np.column_stack([mesh[:468], depth[:468]]) - turn.centre
        h = p @ turn.axes.T
        eye = float(np.linalg.norm(h[263] - h[33]))
        width = float(h[291, 0] - h[61, 0]) / eye
        lift = float(h[[13, 14], 1].mean() - h[[61, 291], 1].mean()) / eye
        lm = np.asarray(face.landmarks, np.float64)
        _, down, eye2d = face_frame(lm)
        image = float((mesh[[13, 14], :2].mean(0) - mesh[[61, 291], :2].mean(0)) @ down) / eye2d
        reads = [(lm, "photo"), (_turned(turn, lm, keep_pitch=True), "yaw undone"), (turn.frontal(lm), "front")]
        reads += [(_turned(turn, lm, share=s), f"depth {s:g}") for s in SHARES]
        bs = reader.read(rgb, [face])[0]
        print(f"{name:18s} pitch {turn.pitch:+5.1f} yaw {turn.yaw:+5.1f} width {width:.2f} lift {lift:+.3f} image {image:+.3f} | "
              + " ".join(f"{tag} {au12(pts):.2f} ({_length(pts):.2f})" for pts, tag in reads)
              + f" | mouthSmile {bs['mouthSmileLeft']:.2f} {bs['mouthSmileRight']:.2f}", flush=True)

    for photo in world_set(None):
        if photo.source in ("skimage.data.astronaut", "london_hd"):
            continue
        if a.only and not any(part in photo.name for part in a.only.split(",")):
            continue
        for k, face in enumerate(sorted(ed.detector.detect(photo.rgb), key=lambda f: -f.area)):
            row(f"{photo.name}#{k}", photo.rgb, face, True)
            if a.target is not None:
                out = edit_faces(ed, photo.rgb, [face], EditRequest.of(a.target, 1.0))
                again = ed.detector.detect(out)
                if again:
                    near = min(again, key=lambda g: float(np.abs(g.box - face.box).sum()))
                    row(f"{photo.name}#{k} {a.target}", out, near, False)
    if a.london is not None:
        held = set(HELD_OUT)
        ids = [p.stem for p in sorted((a.london / "neutral").glob("*.jpg")) if p.stem not in held][:a.pairs]
        for i in ids:
            for expression in ("neutral", "smiling"):
                bgr = cv2.imread(str(a.london / expression / f"{i}.jpg"))
                rgb = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), None, fx=0.5, fy=0.5,
                                 interpolation=cv2.INTER_AREA)
                faces = ed.detector.detect(rgb)
                if faces:
                    row(f"{expression} {i}", rgb, max(faces, key=lambda f: f.area), False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
