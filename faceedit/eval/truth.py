"""Geometric truth of whole-photo edits on held-out subjects.

For each held-out pair (a subject's neutral photo, a real photo of the same subject showing the
target), the neutral photo is edited through the full ``Editor.edit`` path (detection, stage,
network, paste-back at full resolution), and the edit's landmarks, *detected again on the edited
photo*, are compared with the real target photo's: after a similarity on the expression-stable
points (eyes, nose), the mean distance of the moving points (jaw, brows, lids, lips) in
inter-ocular distances. The unedited photo gives the starting error. A classifier can be fooled
by a patch; this cannot.

Beside it: the project's expression classifier on the edited face (its own held-out accuracy is
in its card), and identity cosine / same-person rate of input and edit, all on the whole photo's
face aligned to the analysis template; and L1 (grey levels) / SSIM of the input's and the edit's
face crop against the real target photo moved onto the input by a similarity on the stable points
(pixels punish a feature in a slightly wrong place twice, so a geometric edit can score below the
unedited photo: read them beside the landmark error). A contact sheet shows input | each target |
real target.

    python -m faceedit.eval.truth -m stage -d data/london256 -d data/jaffe256 -d data/yale256 --sheet weights/stage.png
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import cv2
import numpy as np
import torch

from faceedit.api import Editor
from faceedit.data import Dataset, holdout_subjects, open_dataset, pair_groups
from faceedit.eval.metrics import l1, ssim
from faceedit.faces.align import align_face, apply_affine, similarity_transform
from faceedit.faces.detectors import get_detector
from faceedit.faces.landmarks import NOSE_BRIDGE, STABLE, eye_distance
from faceedit.faces.types import CropTemplate
from faceedit.io.decode import read_image
from faceedit.io.encode import write_image
from faceedit.pixels import levels_to_signed, luma, to_uint8
from faceedit.stage.state import ExpressionStates

MOVING = [i for i in range(68) if i not in STABLE]
#: The detector that measures (input, edit and real photo alike), whichever one drives the edits.
MEASURE_DETECTOR = "dlib"
ANALYSIS_TEMPLATE = CropTemplate(size=128)


def landmark_error(lm: np.ndarray, ref: np.ndarray) -> float:
    """Mean distance of the moving points of ``lm`` to ``ref`` after a similarity on the stable
    points, in ``ref``'s inter-ocular distances."""
    lm, ref = np.asarray(lm, np.float64), np.asarray(ref, np.float64)
    a = apply_affine(similarity_transform(lm[STABLE], ref[STABLE]), lm)
    iod = eye_distance(ref)
    return float(np.linalg.norm(a[MOVING] - ref[MOVING], axis=1).mean() / iod)


def held_out_pairs(datasets: list[Dataset], targets: list[str], per_target: int | None = None,
                   seed: int = 0) -> dict[str, list[tuple[dict, dict]]]:
    """Held-out (neutral source, real target) rows per target: one source per target photo."""
    out: dict[str, list[tuple[dict, dict]]] = {}
    for (_, t), ps in held_out_transitions(datasets, ["neutral"], targets, seed).items():
        out.setdefault(t, []).extend(ps)
    return {t: ps[:per_target] for t, ps in out.items()}


def held_out_transitions(datasets: list[Dataset], sources: list[str] | None, targets: list[str],
                         seed: int = 0) -> dict[tuple[str, str], list[tuple[dict, dict]]]:
    """Every (source photo, real target photo) of one held-out pair group (one person, one
    session) whose expressions differ, keyed by (source expression, target expression):
    JAFFE's 7 expressions give every X -> Y, Yale's 6, London neutral <-> smiling both ways.
    ``sources``: the source expressions to keep (None: all). One source per target photo and
    source expression (the group's first), so a person with three takes counts three times, not
    nine. Lighting and glasses variants are left out."""
    out: dict[tuple[str, str], list[tuple[dict, dict]]] = {}
    for d in datasets:
        held = holdout_subjects({r["subject"] for r in d.rows}, 0.2, seed)
        rows = [r for r in d.rows if r["subject"] in held and "lighting" not in r["labels"]
                and "glasses" not in r["labels"] and r["labels"].get("expression")]
        for members in pair_groups(rows):
            first: dict[str, dict] = {}
            for r in members:
                first.setdefault(r["labels"]["expression"], r)
            for g in members:
                t = g["labels"]["expression"]
                if t not in targets:
                    continue
                for e, s in first.items():
                    if e != t and (sources is None or e in sources):
                        out.setdefault((e, t), []).append((s, g))
    return out


def _largest(det, rgb):
    faces = det.detect(rgb)
    return max(faces, key=lambda f: f.area) if faces else None


def _crop_tensor(rgb, face) -> torch.Tensor:
    crop = align_face(rgb, face, ANALYSIS_TEMPLATE).crop
    return levels_to_signed(crop).permute(2, 0, 1)[None]


def _registered(real: np.ndarray, f_real, f_in, shape) -> np.ndarray:
    """The real target photo moved onto the input photo by a similarity on the expression-stable
    points (so the two can be compared pixel by pixel in the input face's crop)."""
    m = similarity_transform(f_real.landmarks[STABLE], f_in.landmarks[STABLE])
    return cv2.warpAffine(to_uint8(real), m, (shape[1], shape[0]), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)


def evaluate_truth(editor: Editor, datasets: list[Dataset], targets: list[str], *,
                   per_target: int | None = None, strength: float = 1.0, oracle: bool = False
                   ) -> tuple[dict, dict[str, list[tuple[dict, dict]]]]:
    """From neutral faces: returns (figures per target, the pairs by target)."""
    pairs = held_out_pairs(datasets, targets, per_target)
    return measure_pairs(editor, {t: (t, ps) for t, ps in pairs.items()}, strength, oracle), pairs


def evaluate_transitions(editor: Editor, datasets: list[Dataset], targets: list[str], *,
                         per_key: int | None = None, strength: float = 1.0, oracle: bool = False) -> dict:
    """From every expression to every other one (:func:`held_out_transitions`): figures keyed
    ``"source->target"``."""
    pairs = held_out_transitions(datasets, None, targets)
    jobs = {f"{e}->{t}": (t, ps[:per_key]) for (e, t), ps in sorted(pairs.items())}
    return measure_pairs(editor, jobs, strength, oracle)


def measure_pairs(editor: Editor, jobs: dict[str, tuple[str, list[tuple[dict, dict]]]],
                  strength: float = 1.0, oracle: bool = False) -> dict:
    """Per key, edit each source photo to the key's target and compare with the real photo.

    ``oracle`` (needs the editor's stage): also the same comparison in landmark space, with no
    rendering, for two moves of the input's measured landmarks: to the target's shipped state
    (``planned_closer``: what the state model asks for, before the warp, the mouth and the
    network) and to the state of the real target photo itself (``oracle_closer``: the best any
    single target state could do for that person; with few pairs and posed photos that differ
    from neutral by about the landmarks' noise, it is well under 1)."""
    from faceedit.analysis.classify import load_classifier
    from faceedit.analysis.identity import load_identity

    states = editor.stage if oracle else None
    if oracle and not isinstance(states, ExpressionStates):
        raise ValueError("the oracle figures need an editor with the stage (its state model moves the landmarks)")
    clf = load_classifier("expression")
    ident = load_identity()
    det = get_detector(MEASURE_DETECTOR)
    figures: dict = {}
    cache: dict[str, tuple] = {}

    def photo(path: str) -> tuple:
        if path not in cache:
            img = read_image(path).pixels
            cache[path] = (img, _largest(det, img))
        return cache[path]

    for key, (t, pairs) in jobs.items():
        errs_in, errs_out, hits, cos, same, lost = [], [], [], [], [], 0
        planned: list[float] = []
        best: list[float] = []
        pix: dict[str, list[float]] = {"l1_input": [], "l1_edit": [], "ssim_input": [], "ssim_edit": []}
        for s, g in pairs:
            img, f_in = photo(s["source"])
            real, f_real = photo(g["source"])
            if f_in is None or f_real is None:
                continue
            out = editor.edit(img, t, strength, face="largest")
            f_out = _largest(det, out)
            if f_out is None:
                lost += 1
                continue
            errs_in.append(landmark_error(f_in.landmarks, f_real.landmarks))
            errs_out.append(landmark_error(f_out.landmarks, f_real.landmarks))
            if isinstance(states, ExpressionStates):
                planned.append(landmark_error(states.move(f_in.landmarks, t, strength), f_real.landmarks))
                best.append(landmark_error(states.move(f_in.landmarks, t, strength, like=f_real.landmarks),
                                           f_real.landmarks))
            with torch.no_grad():
                a, b = _crop_tensor(img, f_in), _crop_tensor(out, f_in)
                hits.append(clf.predict(b)[0] == t)
                c = float(ident.similarity(a, b)[0])
                r = _crop_tensor(_registered(real, f_real, f_in, img.shape), f_in)
                for name, x in (("input", a), ("edit", b)):
                    pix[f"l1_{name}"].append(float(l1(x, r)[0]))
                    pix[f"ssim_{name}"].append(float(ssim(x, r)[0]))
            cos.append(c)
            same.append(c > ident.threshold)
        if errs_in:
            figures[key] = {
                "pairs": len(errs_in),
                "landmark_error_input": round(float(np.mean(errs_in)), 4),
                "landmark_error_edit": round(float(np.mean(errs_out)), 4),
                "closer": round(float(np.mean(np.array(errs_out) < np.array(errs_in))), 3),
                "classifier_acc": round(float(np.mean(hits)), 3),
                "identity_cos": round(float(np.mean(cos)), 3),
                "same_person": round(float(np.mean(same)), 3),
                **{k: round(float(np.mean(v)), 3) for k, v in pix.items()},
                "edit_lost_face": lost,
            }
            if oracle:
                figures[key]["planned_closer"] = round(float(np.mean(np.array(planned) < errs_in)), 3)
                figures[key]["oracle_closer"] = round(float(np.mean(np.array(best) < errs_in)), 3)
    return figures


def lighting_truth(editor: Editor, photos: list[str], classes=("left", "right")) -> dict:
    """Relighting on whole photos: per class, the mean luma change of the image-left minus the
    image-right half of the face (split at the nose ridge, inside the jaw/brow outline), and the
    high-frequency share of the change (energy of the change minus its Gaussian blur at a tenth
    of the eye distance, over its energy): a smooth relighting keeps it low, halos and stripes
    raise it."""
    from faceedit.stage.warp import region_outline

    det = get_detector(MEASURE_DETECTOR)
    out: dict = {}
    for c in classes:
        diffs, hf = [], []
        for path in photos:
            img = read_image(path).pixels
            f = _largest(det, img)
            if f is None:
                continue
            edit = editor.edit(img, "keep" if "keep" in editor.targets() else "neutral", face="largest",
                               lighting=c)
            d = luma(edit.astype(np.float32) - img.astype(np.float32))
            mask = np.zeros(d.shape, np.uint8)
            cv2.fillConvexPoly(mask, region_outline(f.landmarks, 0.0, 0.3).astype(np.int32), 1)
            xs = np.arange(d.shape[1])[None, :].repeat(d.shape[0], 0)
            nose = f.landmarks[NOSE_BRIDGE, 0].mean()
            m = mask.astype(bool)
            diffs.append(float(d[m & (xs < nose)].mean() - d[m & (xs >= nose)].mean()))
            sigma = 0.1 * eye_distance(f.landmarks)
            high = d - cv2.GaussianBlur(d, (0, 0), sigma)
            hf.append(float((high[m] ** 2).sum() / max((d[m] ** 2).sum(), 1e-6)))
        out[c] = {"photos": len(diffs), "left_minus_right": round(float(np.mean(diffs)), 2),
                  "high_frequency_share": round(float(np.mean(hf)), 3)}
    return out


def contact_sheet(editor: Editor, photos: list[tuple[str, str | None, str]], targets: list[str],
                  cell: int = 192, **options) -> np.ndarray:
    """Rows: input | each target | the real target photo (when given), face-sized cells cut
    around the input's largest face; ``photos``: (input, real target photo or None, what the
    real photo shows). Labelled columns and rows."""
    from faceedit.eval.sheet import labelled_grid

    det = get_detector(MEASURE_DETECTOR)
    rows, labels = [], []
    for src, real_path, real_label in photos:
        img = read_image(src).pixels
        face = _largest(det, img)
        if face is None:
            continue
        x0, y0, x1, y1 = face.box
        r = 0.95 * max(x1 - x0, y1 - y0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - 0.1 * r
        m = np.array([[cell / (2 * r), 0, cell / 2 - cx * cell / (2 * r)],
                      [0, cell / (2 * r), cell / 2 - cy * cell / (2 * r)]])

        def cut(a):
            return cv2.warpAffine(to_uint8(a), m, (cell, cell), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)

        row = [cut(img)] + [cut(editor.edit(img, t, face="largest", **options)) for t in targets]
        if real_path:
            real = read_image(real_path).pixels
            fr = _largest(det, real)
            if fr is not None:  # register the real photo onto the input's face (stable points)
                sim = np.vstack([similarity_transform(fr.landmarks[STABLE], face.landmarks[STABLE]), [0, 0, 1]])
                real = cv2.warpAffine(real, (np.vstack([m, [0, 0, 1]]) @ sim)[:2], (cell, cell),
                                      flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)
                row.append(to_uint8(real))
        while len(row) < len(targets) + 2:
            row.append(np.zeros((cell, cell, 3), np.uint8))
        rows.append(row)
        labels.append(f"{os.path.basename(src)} (real: {real_label})")
    return labelled_grid(rows, ["input", *targets, "real target"], labels)


def pooled(figs: dict[str, dict], keys: tuple[str, ...]) -> dict[str, float]:
    """Each of ``keys`` over every entry of ``figs`` (figures by target or move, each with its
    ``pairs``), weighted by its pairs; the entries without pairs (neutral made neutral: held-out
    pairs run from each subject's neutral photo) left out, and nothing where none has any."""
    used = [f for f in figs.values() if f.get("pairs", 0) > 0]
    if not used:
        return {}
    return {k: round(float(np.average([f[k] for f in used], weights=[f["pairs"] for f in used])), 4) for k in keys}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-m", "--model", required=True)
    p.add_argument("-d", "--data", action="append", required=True, help="prepared datasets")
    p.add_argument("-t", "--targets", default="happy,surprised,sad,angry,disgusted,fearful")
    p.add_argument("--per-target", type=int, default=None)
    p.add_argument("--sheet", help="write the contact sheet here (PNG)")
    p.add_argument("--sheet-smiling", help="write a contact sheet of held-out smiling faces (London) made "
                   "neutral, sad, surprised and happy here (PNG; the real column is their neutral photo)")
    p.add_argument("--no-stage", action="store_true", help="the network alone, without the stage")
    p.add_argument("--detector", default="auto", help="the detector that drives the edits (dlib measures)")
    p.add_argument("--transitions", action="store_true",
                   help="also from every expression to every other one (JAFFE, Yale, London both ways) and neutral")
    p.add_argument("--oracle", action="store_true",
                   help="also the share of pairs brought closer in landmark space, without rendering, by the "
                        "target's state (planned_closer) and by the real target photo's own state (oracle_closer)")
    a = p.parse_args(argv)
    if a.oracle and a.no_stage:
        p.error("--oracle needs the stage (its state model moves the landmarks)")
    editor = Editor.from_pretrained(a.model, detector=a.detector, stage=not a.no_stage)
    targets = [t for t in a.targets.split(",") if t in editor.targets()]
    sets = [open_dataset(d) for d in a.data]
    figures, pairs = evaluate_truth(editor, sets, targets, per_target=a.per_target, oracle=a.oracle)
    keys = ("landmark_error_input", "landmark_error_edit", "closer", "classifier_acc", "identity_cos", "same_person",
            "l1_input", "l1_edit", "ssim_input", "ssim_edit") + (("planned_closer", "oracle_closer") if a.oracle else ())

    report = {"model": a.model, "stage": not a.no_stage, "detector": editor.detector.name,
              "targets": figures, "all": pooled(figures, keys)}
    if a.transitions:
        ends = [t for t in ["neutral", *targets] if t in editor.targets()]
        moves = evaluate_transitions(editor, sets, ends, per_key=a.per_target, oracle=a.oracle)
        report["transitions"] = moves
        report["transitions_all"] = pooled(moves, keys)
    lights = [c for c in ("left", "right") if editor.stage is not None and c in editor.stage.lighting]
    if lights:
        photos = sorted({s["source"] for ps in pairs.values() for s, _ in ps if "london" in s["source"]})
        report["lighting"] = lighting_truth(editor, photos, lights)
    json.dump(report, sys.stdout, indent=1)
    sys.stdout.write("\n")
    if a.sheet:  # three subjects each for happy (colour London) and surprised (JAFFE, Yale)
        photos = []
        for t in ("happy", "surprised"):
            subjects: set[str] = set()
            for s, g in pairs.get(t, []):
                if s["subject"] not in subjects and len(subjects) < 3:
                    subjects.add(s["subject"])
                    photos.append((s["source"], g["source"], t))
        write_image(a.sheet, contact_sheet(editor, photos, targets))  # atomically
    if a.sheet_smiling:
        moves = held_out_transitions(sets, ["happy"], ["neutral"])
        photos = [(s["source"], g["source"], "neutral") for s, g in moves.get(("happy", "neutral"), [])
                  if "london" in s["source"]][:4]
        ends = [t for t in ("neutral", "sad", "surprised", "happy") if t in editor.targets()]
        write_image(a.sheet_smiling, contact_sheet(editor, photos, ends))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
