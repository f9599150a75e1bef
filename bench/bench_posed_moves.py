"""Where an edit moves a face's features against where real posed expressions move them: JAFFE's
neutral photo of each person edited to a target, beside the same person's real posed photos of it.

    OMP_NUM_THREADS=1 python bench/bench_posed_moves.py --targets angry,disgusted,fearful
    OMP_NUM_THREADS=1 python bench/bench_posed_moves.py --split held-out --figure /tmp/posed.png
    OMP_NUM_THREADS=1 python bench/bench_posed_moves.py --targets surprised --split all --detector dlib \
        --yale ../shared/data/yale

For each JAFFE person of ``--split`` (the trainers' split: seed 0, 20 % held out; ``training``
are the people the stage's statistics came from, ``held-out`` the 2 it never saw, ``all``
both) the first neutral photo (NE1) is edited to the target through :class:`faceedit.api.Editor`
and its landmarks found again; every real posed photo of the target (about 3 a person) is put
onto the neutral one by a similarity on the eye corners and the nose bridge (the head moves
between two photos; the edit's does not). Each move is measured in the neutral face's frame (along
the eye line towards the face's middle, ``in``; up the face, ``up``) in its eye distances, and
printed per feature as the mean over the people: real posed photos, the edit as detected, and
the edit's planned goal (the landmarks the stage heads for, before any detector reads them;
MediaPipe's points read about half of a move dlib's do, the stage plans on dlib's scale; ``--detector
dlib`` measures with dlib's). ``--yale`` measures Yale's 15 people too (their normal photo edited to
happy, sad or surprised, beside their real one), each set printed alone.

``--figure`` draws the moves as arrows on the mean neutral shape, one panel per target, real
posed (green) and the edit (red), magnified: a drawing of statistics (the data's licence lets
no JAFFE image ship, its statistics may). ``--london-sheet`` draws held-out London faces
(``--london``, 1350 px) neutral and edited to each target, cropped to the face: the pictures
that may ship beside it (CC BY 4.0).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from faceedit.api import Editor
from faceedit.data import holdout_subjects
from faceedit.faces.detectors import get_detector
from faceedit.models.request import EditRequest
from faceedit.stage.moves import face_frame

CODES = {"angry": "AN", "disgusted": "DI", "fearful": "FE", "surprised": "SU", "happy": "HA", "sad": "SA"}
#: The features printed: name -> 68-point indices (left-side points and their mirror images).
FEATURES = {"inner brows": (21, 22), "middle brows": (19, 24), "outer brows": (17, 26),
            "upper lids": (37, 38, 43, 44), "lower lids": (40, 41, 46, 47), "mouth corners": (48, 54),
            "upper lip": (51,), "lower lip": (57,), "inner upper lip": (62,), "inner lower lip": (66,),
            "chin": (8,), "nose wings": (31, 35)}
#: The points a real photo is put onto the neutral one by: eye corners and the nose bridge.
ANCHORS = [27, 28, 29, 30, 36, 39, 42, 45]
MAGNIFY = 4.0


def aligned(to: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """``lm`` moved onto ``to`` by the similarity that best matches their anchor points."""
    m, _ = cv2.estimateAffinePartial2D(lm[ANCHORS].astype(np.float32), to[ANCHORS].astype(np.float32),
                                       method=cv2.LMEDS)
    return lm @ m[:, :2].T + m[:, 2]


def frame_moves(lm: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """(68, 2) moves from ``lm`` to ``moved`` in ``lm``'s frame and eye distances: (inward, up)."""
    u, n, e = face_frame(lm)
    d = (moved - lm) / e
    side = np.where((lm - lm[27]) @ u < 0, 1.0, -1.0)  # image-left points move inward along +u
    return np.stack([side * (d @ u), -(d @ n)], 1)


#: Yale's file names of the targets it has (``subjectNN.<name>.png``; neutral: ``normal``).
YALE = ("happy", "sad", "surprised")


def largest(ed: Editor, rgb: np.ndarray, detector=None):
    """The largest face with 68 points ``detector`` (default the editor's) finds in ``rgb``."""
    faces = [f for f in (detector or ed.detector).detect(rgb) if np.shape(f.landmarks) == (68, 2)]
    return max(faces, key=lambda f: f.area) if faces else None


def photos(data: Path, person: str, target: str, yale: bool) -> tuple[list[Path], list[Path]]:
    """A person's neutral photos and real posed photos of ``target`` (JAFFE's names, or Yale's)."""
    if yale:
        return sorted(data.glob(f"{person}.normal.*")), sorted(data.glob(f"{person}.{target}.*"))
    return sorted(data.glob(f"{person}.NE*")), sorted(data.glob(f"{person}.{CODES[target]}*"))


def measure(ed: Editor, data: Path, target: str, people: list[str], yale: bool = False,
            detector=None) -> dict[str, list[np.ndarray]]:
    """Per person: the real posed photos' mean move, the detected edit's, the planned goal's, and
    the neutral landmarks (for the figure); the points ``detector``'s (default the editor's)."""
    out: dict[str, list[np.ndarray]] = {"real": [], "edit": [], "goal": [], "neutral": []}
    for p in people:
        neutral, posed = photos(data, p, target, yale)
        if not neutral or not posed:
            continue
        rgb = np.asarray(Image.open(neutral[0]).convert("RGB"))
        face = largest(ed, rgb)
        seen = largest(ed, rgb, detector) if detector is not None else face
        if face is None or seen is None:
            continue
        lm = np.asarray(seen.landmarks, np.float64)
        real = [largest(ed, np.asarray(Image.open(f).convert("RGB")), detector) for f in posed]
        real = [frame_moves(lm, aligned(lm, np.asarray(r.landmarks, np.float64))) for r in real if r is not None]
        edited = largest(ed, ed.edit(rgb, target, face="largest"), detector)
        if not real or edited is None:
            continue
        _, done = ed.stage.edit_photo(rgb, [face], EditRequest.of(target))
        out["real"].append(np.mean(real, 0))
        out["edit"].append(frame_moves(lm, aligned(lm, np.asarray(edited.landmarks, np.float64))))
        start = np.asarray(face.landmarks, np.float64)
        out["goal"].append(frame_moves(start, np.asarray(done[0].landmarks, np.float64)))
        out["neutral"].append(lm)
    return out


def figure(results: dict[str, dict[str, list[np.ndarray]]], path: Path, size: int = 420) -> None:
    """One panel per target: the mean neutral shape (grey dots) with the real posed moves (green)
    and the detected edit's (red) drawn from each point, :data:`MAGNIFY` times their size."""
    panels = []
    for target, r in results.items():
        if not r["neutral"]:
            continue
        shapes = []
        for lm in r["neutral"]:
            u, n, e = face_frame(lm)
            shapes.append(np.stack([(lm - lm[27]) @ u, (lm - lm[27]) @ n], 1) / e)  # face frame, eye distances
        mean = np.mean(shapes, 0)
        scale = size / 2.6
        origin = np.array([size / 2, size * 0.22])
        canvas = np.full((size, size, 3), 255, np.uint8)

        def px(p: np.ndarray) -> tuple[int, int]:
            q = origin + p * scale
            return int(round(q[0])), int(round(q[1]))

        side = np.where(mean[:, 0] < 0, 1.0, -1.0)
        for kind, colour in (("real", (40, 150, 40)), ("edit", (200, 40, 40))):
            move = np.mean(r[kind], 0)
            vec = np.stack([side * move[:, 0], -move[:, 1]], 1) * MAGNIFY  # back to the frame's axes
            for a, v in zip(mean, vec, strict=True):
                cv2.arrowedLine(canvas, px(a), px(a + v), colour, 1, cv2.LINE_AA, tipLength=0.25)
        for a in mean:
            cv2.circle(canvas, px(a), 2, (110, 110, 110), -1, cv2.LINE_AA)
        cv2.putText(canvas, f"{target} (x{MAGNIFY:g})", (10, size - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.55,
                    (0, 0, 0), 1, cv2.LINE_AA)
        panels.append(canvas)
    if panels:
        Image.fromarray(np.concatenate(panels, 1)).save(path)
        print(f"figure: {path} (green: real posed photos, red: the edit as detected)")


def london_sheet(ed: Editor, data: Path, people: list[str], targets: list[str], path: Path,
                 width: int = 400) -> None:
    """Rows of held-out London faces: the neutral photo and each target's edit, cropped to the
    face (the middle 40 % across, 42 % down from 30 %) and scaled to ``width`` px."""
    rows = []
    for p in people:
        rgb = np.asarray(Image.open(data / "neutral" / f"{p}.jpg").convert("RGB"))
        h, w = rgb.shape[:2]
        cells = [rgb] + [ed.edit(rgb, t, face="largest") for t in targets]
        crops = [c[int(h * 0.30):int(h * 0.72), int(w * 0.30):int(w * 0.70)] for c in cells]
        rows.append(np.concatenate([cv2.resize(c, (width, int(width * c.shape[0] / c.shape[1])),
                                               interpolation=cv2.INTER_AREA) for c in crops], 1))
    Image.fromarray(np.concatenate(rows, 0)).save(path, quality=90)
    print(f"sheet: {path} (columns: neutral, {', '.join(targets)})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/jaffe"))
    ap.add_argument("--model", default="stage")
    ap.add_argument("--targets", default="angry,disgusted,fearful")
    ap.add_argument("--split", choices=("training", "held-out", "all"), default="training")
    ap.add_argument("--figure", type=Path, default=None, help="write the arrows' drawing here (PNG)")
    ap.add_argument("--london", type=Path, default=Path("../shared/data/london_hd"))
    ap.add_argument("--london-sheet", type=Path, default=None, help="write the London faces' sheet here")
    ap.add_argument("--faces", default="014,022,061,131,144", help="London ids of the sheet (held-out people)")
    ap.add_argument("--yale", type=Path, default=None, help="the Yale Face Database's folder: its people too")
    ap.add_argument("--detector", default=None, help="measure with this detector's points (default the editor's)")
    a = ap.parse_args(argv)
    if not a.data.is_dir():
        raise SystemExit(f"{a.data}: no JAFFE folder (see ../shared/data/README.md)")
    people = sorted({f.name.split(".")[0] for f in a.data.iterdir() if f.name.count(".") >= 2})
    held = {s.split("-", 1)[1] for s in holdout_subjects({f"jaffe-{p}" for p in people}, 0.2, 0)}
    chosen = [p for p in people if a.split == "all" or (p in held) == (a.split == "held-out")]
    ed = Editor.from_pretrained(a.model, allow_download=False)
    det = get_detector(a.detector) if a.detector else None
    sets = [("JAFFE", a.data, chosen, False)]
    if a.yale is not None:
        if not a.yale.is_dir():
            raise SystemExit(f"{a.yale}: no Yale folder (see ../shared/data/README.md)")
        yale_people = sorted({f.name.split(".")[0] for f in a.yale.glob("subject*.normal.*")})
        sets.append(("Yale", a.yale, yale_people, True))
    results = {}
    for target in a.targets.split(","):
        for name, data, people, yale in sets:
            if yale and target not in YALE:
                continue
            r = measure(ed, data, target, people, yale, det)
            if not yale:
                results[target] = r
            print(f"{target}: {len(r['real'])} people of {name} ({'all' if yale else a.split}), "
                  f"moves (inward, up) in eye distances")
            if not r["real"]:
                continue
            print(f"  {'feature':16s} {'real posed':>16s} {'edit':>16s} {'planned':>16s}")
            for feature, idx in FEATURES.items():
                cells = []
                for kind in ("real", "edit", "goal"):
                    m = np.mean([x[list(idx)].mean(0) for x in r[kind]], 0)
                    cells.append(f"({m[0]:+.3f}, {m[1]:+.3f})")
                print(f"  {feature:16s} " + " ".join(f"{c:>16s}" for c in cells))
    if a.figure:
        figure(results, a.figure)
    if a.london_sheet:
        london_sheet(ed, a.london, a.faces.split(","), a.targets.split(","), a.london_sheet)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
