"""How a real smile moves the eyes against what the stage's happy edit does: London HD's neutral
and smiling photo of each person (the same session, the same framing), and the neutral photo
made happy.

    OMP_NUM_THREADS=1 python bench/bench_smile_eyes.py --split training
    OMP_NUM_THREADS=1 python bench/bench_smile_eyes.py --split held-out --crops /tmp/eyes.png

Per person the photos are read at half size (675 px; about 130 px between the eyes) by dlib's
68 points (the scale the stage plans on) and, for the edit, by dlib again on the edited photo.
Each eye is measured in the neutral face's frame (:func:`faceedit.stage.moves.face_frame`),
in its eye distances:

- ``lower``: the lower lid's rise (68-point 40, 41, 46, 47) above the chord of its eye's
  corners, the smiling photo's less the neutral's (up: above 0);
- ``upper``: the upper lid's (37, 38, 43, 44) the same way (down: below 0);
- ``open``: the eye's aperture (lower lid to upper, across the eye line) over the neutral's;
- ``b``: the inner (21, 22) and outer (17, 26) brows' rise above their eye's corners' chord;
- ``w``: the mouth's width (48 to 54) over the neutral's;
- ``outer``: the outer eye corners' (36, 45) rise, both photos put on each other by a
  similarity on the nose bridge (27-30) and the inner eye corners (39, 42).

Printed: per person and their means, for the real smile, the edit as detected and the edit's
planned goal (the stage plans on MediaPipe's 68 points here: their planned move is added to
dlib's neutral points), and the real smiles' lid and brow figures at the edit's mean mouth width
(a least-squares line through the people's). ``--crops`` writes, per person, both eyes and the
cheeks under them (300 x 120 px each) of the neutral photo, the real smile and the edit (the
held-out faces may be shown: London's licence is CC BY 4.0).

``--fer-parts IDS`` instead reads, with FER's emotion model (``bench_independent.FerClassifier``,
on the box MediaPipe finds), the happy share of each London face's small variants (each photo's own box)
(:func:`faceedit.eval.world.london_variants`: 96 and 128 px, JPEG q30): the person's own smile,
the neutral photo made happy, and that edit with one part of the person's own smile put in
(the smiling photo moved onto the edit by a similarity on the nose bridge and the eye corners,
feathered): the eyes (the lids' polygons), the brows, the cheek under each eye (0.35 eye
distances below the lower lid). Which part of a real smile the classifier reads the smile by.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from london_ids import HELD_OUT  # noqa: E402

LOWER, UPPER = ((40, 41), (46, 47)), ((37, 38), (43, 44))
CORNERS = ((36, 39), (42, 45))
ANCHORS = [27, 28, 29, 30, 39, 42]
HALF = 675


def eye_figures(lm: np.ndarray, frame_of: np.ndarray) -> np.ndarray:
    """(lower lid rise, upper lid rise, aperture) per eye (2, 3), eye distances in the frame of
    ``frame_of``: heights above the corners' chord, up the face."""
    from faceedit.stage.moves import face_frame

    _, n, e = face_frame(frame_of)
    out = []
    for k in (0, 1):
        chord = lm[list(CORNERS[k])].mean(0)
        low = -float((lm[list(LOWER[k])].mean(0) - chord) @ n) / e
        up = -float((lm[list(UPPER[k])].mean(0) - chord) @ n) / e
        out.append((low, up, up - low))
    return np.array(out)


def outer_rise(lm: np.ndarray, moved: np.ndarray) -> float:
    """The outer eye corners' (36, 45) mean rise from ``lm`` to ``moved`` (put onto ``lm`` by the
    :data:`ANCHORS`' similarity), in ``lm``'s eye distances."""
    from faceedit.stage.moves import face_frame

    m, _ = cv2.estimateAffinePartial2D(moved[ANCHORS].astype(np.float32), lm[ANCHORS].astype(np.float32))
    al = moved @ m[:, :2].T + m[:, 2]
    _, n, e = face_frame(lm)
    return -float(((al[[36, 45]] - lm[[36, 45]]) @ n).mean()) / e


def brow_rise(lm: np.ndarray, frame_of: np.ndarray) -> np.ndarray:
    """(inner, outer) brows' height above their eye's corners' chord: 21, 22 and 17, 26 (below 0
    in eye distances: up the face is -n)."""
    from faceedit.stage.moves import face_frame

    _, n, e = face_frame(frame_of)
    h = [float((lm[b] - lm[list(CORNERS[k])].mean(0)) @ n) / e for k, b in ((0, 21), (1, 22), (0, 17), (1, 26))]
    return np.array([(h[0] + h[1]) / 2, (h[2] + h[3]) / 2])


def figures(lm: np.ndarray, other: np.ndarray) -> np.ndarray:
    """(lower, upper, open ratio, outer) of ``other`` against the neutral ``lm``."""
    a, b = eye_figures(lm, lm), eye_figures(other, lm)
    d = (b - a).mean(0)
    brows = brow_rise(lm, lm) - brow_rise(other, lm)
    width = float(np.linalg.norm(other[54] - other[48]) / np.linalg.norm(lm[54] - lm[48]))
    return np.array([d[0], d[1], float(b[:, 2].mean() / max(a[:, 2].mean(), 1e-9)), outer_rise(lm, other), width, *brows])


def half(path: Path) -> np.ndarray:
    rgb = np.asarray(Image.open(path).convert("RGB"))
    return cv2.resize(rgb, (HALF, HALF), interpolation=cv2.INTER_AREA)


def eyes_crop(rgb: np.ndarray, lm: np.ndarray, scale: float = 2.0) -> np.ndarray:
    """Both eyes and the cheeks under them, ``scale`` times the photo's pixels."""
    from faceedit.faces.landmarks import eye_distance

    e = eye_distance(lm)
    c = lm[36:48].mean(0)
    x0, x1 = int(c[0] - 1.0 * e), int(c[0] + 1.0 * e)
    y0, y1 = int(c[1] - 0.35 * e), int(c[1] + 0.45 * e)
    crop = rgb[max(y0, 0):y1, max(x0, 0):x1]
    side = int(round(2.0 * e * scale))
    return cv2.resize(crop, (side, int(round(side * 0.4))), interpolation=cv2.INTER_NEAREST)


PART_ANCHORS = [27, 28, 29, 30, 36, 39, 42, 45]


def fer_parts(london: Path, ids: list[str]) -> None:
    """The ``--fer-parts`` figures (see the module's text)."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from bench_independent import LABELS, FerClassifier

    from faceedit.api import Editor
    from faceedit.eval.world import london_variants
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    fer, ed = FerClassifier(), Editor.from_pretrained("stage", allow_download=False)

    def happy(rgb: np.ndarray, box) -> float:
        fer.on_box(rgb, box)
        p = fer.net.get_tensor(fer.out["index"])[0].astype(np.float64)
        return float(p[LABELS.index("happy")] / max(p.sum(), 1e-9))

    def soft(shape, polys, e: float) -> np.ndarray:
        m = np.zeros(shape[:2], np.float32)
        for p in polys:
            cv2.fillConvexPoly(m, cv2.convexHull(p.astype(np.int32)), 1.0)
        m = cv2.dilate(m, np.ones((max(int(0.12 * e), 1),) * 2, np.uint8))
        return cv2.GaussianBlur(m, (0, 0), 0.08 * e)[..., None]

    variants = dict(london_variants(london, ids=ids))
    for i in ids:
        for v in ("small96", "small128", "jpeg30"):
            neutral, smiling = variants[f"london_{i}_neutral_{v}"], variants[f"london_{i}_smiling_{v}"]
            faces = sorted(ed.detector.detect(neutral), key=lambda f: -f.area)
            found = ed.detector.detect(smiling)
            if not faces or not found:
                continue
            box = (faces[0].box[0], faces[0].box[1], faces[0].box[2] - faces[0].box[0],
                   faces[0].box[3] - faces[0].box[1])
            out = edit_faces(ed, neutral, faces, EditRequest.of("happy", 1.0))
            redone = ed.detector.detect(out)
            lo = np.asarray((redone[0] if redone else faces[0]).landmarks, np.float64)
            ls = np.asarray(max(found, key=lambda f: f.area).landmarks, np.float64)
            m, _ = cv2.estimateAffinePartial2D(ls[PART_ANCHORS].astype(np.float32), lo[PART_ANCHORS].astype(np.float32))
            moved = cv2.warpAffine(smiling, m, smiling.shape[1::-1], borderMode=cv2.BORDER_REPLICATE)
            e = float(np.linalg.norm(lo[42:48].mean(0) - lo[36:42].mean(0)))
            below = [0.0, 0.35 * e]
            parts = {"eyes": [lo[36:42], lo[42:48]], "brows": [lo[17:22], lo[22:27]],
                     "cheeks": [np.concatenate([lo[[36, 41, 40, 39]], lo[[39, 40, 41, 36]] + below]),
                                np.concatenate([lo[[42, 47, 46, 45]], lo[[45, 46, 47, 42]] + below])]}
            own = max(found, key=lambda f: f.area).box
            got = {"own smile": happy(smiling, (own[0], own[1], own[2] - own[0], own[3] - own[1])),
                   "edit": happy(out, box)}
            for name, polys in parts.items():
                w = soft(out.shape, polys, e)
                got[f"+{name}"] = happy((out * (1 - w) + moved * w).round().astype(np.uint8), box)
            print(f"{i} {v}: " + " ".join(f"{k} {x:.2f}" for k, x in got.items()), flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--london", type=Path, default=Path("../shared/data/london_hd"))
    ap.add_argument("--split", choices=("training", "held-out"), default="training")
    ap.add_argument("--limit", type=int, default=0, help="the first N people only")
    ap.add_argument("--crops", type=Path, default=None, help="write the eyes' sheet here (PNG)")
    ap.add_argument("--target", default="happy")
    ap.add_argument("--fer-parts", default=None, help="London ids: FER on their smiles' parts put into the edit")
    a = ap.parse_args(argv)
    if a.fer_parts:
        fer_parts(a.london, a.fer_parts.split(","))
        return 0
    import dlib

    from faceedit.api import Editor
    from faceedit.faces.detectors.dlib import SHAPE68, dlib_model
    from faceedit.models.request import EditRequest

    ed = Editor.from_pretrained("stage", allow_download=False)
    finder, shape = dlib.get_frontal_face_detector(), dlib.shape_predictor(str(dlib_model(SHAPE68)))

    def points(rgb: np.ndarray) -> np.ndarray | None:
        boxes = finder(rgb, 0)
        if not boxes:
            return None
        box = max(boxes, key=lambda b: b.area())
        s = shape(rgb, box)
        return np.array([(p.x, p.y) for p in s.parts()], np.float64)

    ids = sorted(p.stem for p in (a.london / "smiling").glob("*.jpg")
                 if (a.london / "neutral" / p.name).is_file())
    ids = [i for i in ids if (i in HELD_OUT) == (a.split == "held-out")]
    if a.limit:
        ids = ids[:a.limit]
    rows: dict[str, list[np.ndarray]] = {"real": [], "edit": [], "goal": []}
    sheet = []
    print(f"{len(ids)} people ({a.split}); (lower lid rise, upper lid rise, aperture ratio, outer corner "
          "rise), eye distances")
    for i in ids:
        neutral, smiling = half(a.london / "neutral" / f"{i}.jpg"), half(a.london / "smiling" / f"{i}.jpg")
        lm, sm = points(neutral), points(smiling)
        faces = [f for f in ed.detector.detect(neutral) if np.shape(f.landmarks) == (68, 2)]
        if lm is None or sm is None or not faces:
            continue
        face = max(faces, key=lambda f: f.area)
        assert ed.stage is not None
        out, done = ed.stage.edit_photo(neutral, [face], EditRequest.of(a.target))
        em = points(out)
        if em is None:
            continue
        # the goal: MediaPipe's planned move carried onto dlib's neutral points
        goal = lm + (np.asarray(done[0].landmarks, np.float64) - np.asarray(face.landmarks, np.float64))
        r = {"real": figures(lm, sm), "edit": figures(lm, em), "goal": figures(lm, goal)}
        for k, v in r.items():
            rows[k].append(v)
        print(f"{i}: " + "  ".join(f"{k} ({v[0]:+.3f} {v[1]:+.3f} {v[2]:.2f} {v[3]:+.3f} w{v[4]:.2f} "
                                   f"b{v[5]:+.3f},{v[6]:+.3f})" for k, v in r.items()), flush=True)
        if a.crops:
            cells = [eyes_crop(neutral, lm), eyes_crop(smiling, sm), eyes_crop(out, lm)]
            sheet.append(np.concatenate([cv2.resize(c, (300, 120), interpolation=cv2.INTER_AREA) for c in cells], 1))
    for k, got in rows.items():
        m = np.mean(got, 0)
        sd = np.std(got, 0)
        print(f"mean {k:5s} ({len(got)}): lower {m[0]:+.3f}±{sd[0]:.3f} upper {m[1]:+.3f}±{sd[1]:.3f} "
              f"open x{m[2]:.2f}±{sd[2]:.2f} outer {m[3]:+.3f}±{sd[3]:.3f} mouth width x{m[4]:.2f}±{sd[4]:.2f} "
              f"brows inner {m[5]:+.3f}±{sd[5]:.3f} outer {m[6]:+.3f}±{sd[6]:.3f}")
    real, edit = np.asarray(rows["real"]), np.asarray(rows["edit"])
    if len(real) > 2:  # the real smiles' lid figures at the edit's mouth width (a line through them)
        w = float(edit[:, 4].mean())
        at = [np.polyval(np.polyfit(real[:, 4], real[:, k], 1), w) for k in (0, 1, 2, 5, 6)]
        print(f"real smiles at the edit's mouth width x{w:.2f} (a least-squares line): lower {at[0]:+.3f} "
              f"upper {at[1]:+.3f} open x{at[2]:.2f} brows inner {at[3]:+.3f} outer {at[4]:+.3f}")
    if a.crops and sheet:
        Image.fromarray(np.concatenate(sheet, 0)).save(a.crops)
        print(f"crops: {a.crops} (columns: neutral, real smile, edit)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
