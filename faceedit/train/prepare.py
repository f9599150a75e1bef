"""``faceedit prepare``: detect and align every face of a raw photo collection once.

Output layout (a *prepared dataset*, what ``faceedit train`` and ``faceedit eval`` read)::

    DATASET/dataset.json    size, crop template, preset, source folder, counts
    DATASET/index.jsonl     one row per crop: file, source, subject, labels, pair, role,
                            grey, landmarks (crop coordinates)
    DATASET/errors.jsonl    photos that could not be used, with the reason
    DATASET/images/...      aligned crops (PNG; greyscale sources stay single-channel)

Photos in a pair group (the same person in one session: London neutral/smiling, a JAFFE or
Yale subject) are registered onto the group's first source photo on the expression-stable
landmarks (eyes and nose), so a source and its target differ by the expression, not by the crop.
Re-running resumes: photos already in the index are not processed again. An interrupted run is
fine to resume: ``dataset.json`` is written atomically (and an unreadable one is written again),
an incomplete last line of ``index.jsonl`` is dropped with a warning and its photo prepared again.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from faceedit.errors import FaceEditError, UsageError
from faceedit.faces.align import align_face, similarity_transform, warp_crop
from faceedit.faces.detectors import get_detector
from faceedit.faces.landmarks import STABLE
from faceedit.faces.types import CropTemplate
from faceedit.files import check_output_folder, os_reason, write_file_atomically
from faceedit.io.decode import read_image
from faceedit.io.encode import write_image
from faceedit.log import logger
from faceedit.train.presets import LAYOUTS, PRESETS, RawSample, csv_labels, guess_preset

MIN_SIZE, MAX_SIZE = 16, 2048
"""The crop sizes ``prepare`` accepts (``--size``), in pixels."""

# Expression-stable points: for 68-point faces the eye contours and the nose
# (faceedit.faces.landmarks.STABLE); for 5-point faces eyes + nose tip.
STABLE_5 = [0, 1, 2]

# Training crops extend beyond the photo by repeating its edge pixels, not by mirroring it: the
# cropped Extended Yale B photos hold only the inner face (about two thirds of each 128-px crop
# lies outside them), and a mirror would surround every face with copies of its own eyes and mouth
# for the discriminators to learn. The other shared sets lie wholly inside their photos.
BORDER = "replicate"
DEFAULT_TEMPLATE = CropTemplate()


def _stable(lm: np.ndarray) -> np.ndarray:
    lm = np.asarray(lm, dtype=np.float64)
    return lm[STABLE] if lm.shape[0] == 68 else lm[STABLE_5]


def _order(samples: Iterable[RawSample]) -> list[RawSample]:
    """Sources before targets within each pair group (a target registers onto its source)."""
    samples = list(samples)
    return sorted(samples, key=lambda s: (s.role != "source",))  # stable sort keeps file order


def prepare(
    raw: str | os.PathLike,
    out: str | os.PathLike,
    *,
    preset: str | None = None,
    csv_path: str | None = None,
    template: CropTemplate = DEFAULT_TEMPLATE,
    detector: str = "auto",
    limit: int | None = None,
) -> dict:
    """Prepare a dataset; returns the summary written to dataset.json, with this run's counts of
    photos prepared (``new``) and of photos that could not be (``failed``, each with its reason
    in ``errors.jsonl``; a later run tries them again)."""
    raw, out = Path(raw), Path(out)
    if not raw.is_dir():
        raise UsageError(f"{raw}: not a folder")
    check_output_folder(out, what="dataset folder")
    if not MIN_SIZE <= template.size <= MAX_SIZE:
        raise UsageError(f"`size` {template.size}: crops must be {MIN_SIZE} to {MAX_SIZE} pixels")
    if csv_path:
        try:
            samples: Iterable[RawSample] = list(csv_labels(raw, Path(csv_path)))
        except OSError as e:
            raise UsageError(f"`csv_path` {csv_path}: {os_reason(e)}") from None
        except UnicodeDecodeError:
            raise UsageError(f"`csv_path` {csv_path}: not a text file (UTF-8)") from None
        preset = "csv"
    else:
        preset = preset or guess_preset(raw)
        if preset not in PRESETS:
            raise UsageError(f"unknown preset {preset!r}; valid: {', '.join(PRESETS)}")
        samples = PRESETS[preset](raw)
    samples = _order(samples)[:limit]
    if not samples:
        raise UsageError(f"{raw}: no photos found for preset {preset}"
                         + (f" (it expects {LAYOUTS[preset]})" if preset in LAYOUTS else ""))

    from faceedit.data import read_index  # (torch: not imported for a usage error above)

    out.mkdir(parents=True, exist_ok=True)
    index_path, errors_path = out / "index.jsonl", out / "errors.jsonl"
    meta_path = out / "dataset.json"
    old = _read_meta(meta_path)
    if old is not None and old.get("template") != template.to_json():
        raise UsageError(f"{out}: prepared with template {old.get('template')}, not "
                         f"{template.to_json()}; use another output folder")
    _drop_torn_last_line(index_path, "its photo is prepared again")
    _drop_torn_last_line(errors_path, "")
    done = {row["source"]: row for row in read_index(out)} if index_path.exists() else {}
    reference: dict[str, np.ndarray] = {}  # pair group -> stable landmarks of its source, crop coords
    registered: dict[str, tuple[list, list]] = {}  # pair group -> (source matrix, source landmarks)
    for row in done.values():
        if row.get("pair") and row.get("role") == "source" and row["pair"] not in reference:
            reference[row["pair"]] = _stable(np.array(row["landmarks"]))
            if row.get("matrix"):
                registered[row["pair"]] = (row["matrix"], row["landmarks"])

    det = get_detector(detector)
    n_new = n_err = 0
    t0 = time.time()
    with open(index_path, "a") as index, open(errors_path, "a") as errors:
        for s in samples:
            if s.path in done:
                continue
            try:
                row = _prepare_one(s, out, det, template, reference, registered)
            except FaceEditError as e:
                n_err += 1
                errors.write(json.dumps({"source": s.path, "error": e.reason}) + "\n")
                errors.flush()
                logger.warning("%s: %s", s.path, e.reason)
                continue
            index.write(json.dumps(row) + "\n")
            index.flush()
            n_new += 1
    rows = list(read_index(out))
    summary = {
        "format": 1,
        "preset": preset,
        "raw": str(raw),
        "size": template.size,
        "template": template.to_json(),
        "detector": det.name,
        "count": len(rows),
        "subjects": len({r["subject"] for r in rows}),
        "labels": _label_counts(rows),
    }
    write_file_atomically(meta_path, json.dumps(summary, indent=1))
    logger.info("prepared %d new crops (%d total, %d failed) in %.0f s -> %s",
                n_new, len(rows), n_err, time.time() - t0, out)
    return {**summary, "new": n_new, "failed": n_err}


def _prepare_one(s: RawSample, out: Path, det, template: CropTemplate, reference: dict,
                 registered: dict) -> dict:
    img = read_image(s.path)
    ref = reference.get(s.pair) if s.pair else None
    matrix_used = None
    if s.registered and s.role == "target" and s.pair in registered:
        # pixel-registered with its source (same camera and pose): reuse the source's alignment
        m, lm = registered[s.pair]
        matrix_used = np.asarray(m, np.float64)
        crop = warp_crop(img.pixels, matrix_used, template.size, BORDER)[0]
        lm = np.asarray(lm, np.float64)
        return _write_row(s, out, img, crop, lm)
    faces = det.detect(img.rgb8())
    if not faces:
        raise FaceEditError("no face found", s.path)
    face = faces[0]  # largest
    if s.role == "target" and ref is not None:
        # register onto the pair's source on the expression-stable points
        matrix = similarity_transform(_stable(face.landmarks), ref)
        crop = warp_crop(img.pixels, matrix, template.size, BORDER)[0]
        lm = np.asarray(face.landmarks, np.float64) @ matrix[:, :2].T + matrix[:, 2]
    else:
        aligned = align_face(img.pixels, face, template, border=BORDER)
        crop, lm = aligned.crop, aligned.landmarks
        if s.pair and s.role == "source" and s.pair not in reference:
            reference[s.pair] = _stable(lm)
            if s.registered:
                matrix_used = aligned.matrix
                registered[s.pair] = (aligned.matrix.tolist(), np.round(lm, 2).tolist())
    return _write_row(s, out, img, crop, lm, matrix_used)


def _write_row(s: RawSample, out: Path, img, crop: np.ndarray, lm: np.ndarray,
               matrix: np.ndarray | None = None) -> dict:
    src = Path(s.path)  # parent folder in the name: london's neutral/001 and smiling/001 differ
    rel = Path("images") / s.subject / f"{src.parent.name}-{src.stem}.png"
    (out / rel.parent).mkdir(parents=True, exist_ok=True)
    write_image(str(out / rel), crop, like=img)  # greyscale sources stay greyscale
    return {
        "file": rel.as_posix(),
        "source": s.path,
        "subject": s.subject,
        "labels": s.labels,
        "pair": s.pair,
        "role": s.role,
        "grey": bool(img.is_grey),
        "landmarks": np.round(lm, 2).tolist(),
        **({"matrix": np.asarray(matrix).round(6).tolist()} if matrix is not None and s.role == "source" else {}),
    }


def _label_counts(rows: list[dict]) -> dict:
    counts: dict = {}
    for r in rows:
        for k, v in r["labels"].items():
            if isinstance(v, (str, bool)):
                counts.setdefault(k, {}).setdefault(str(v), 0)
                counts[k][str(v)] += 1
    return counts


def _read_meta(path: Path) -> dict | None:
    """An earlier run's dataset.json, or None if there is none or it cannot be read (an empty
    or torn file from an interrupted run, which this run writes again), with a warning."""
    if not path.exists():
        return None
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
    except ValueError as e:
        logger.warning("%s: unreadable (%s), probably left by an interrupted run; ignored and "
                       "written again", path, e)
        return None
    return meta


def _drop_torn_last_line(path: Path, consequence: str) -> None:
    """Cut an incomplete last line (a run killed while appending it) off a JSON-lines file, with a
    warning, so that appending starts on a line of its own; a complete last line that only lacks
    its newline gets one."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    if not data or data.endswith(b"\n"):
        return
    cut = data.rfind(b"\n") + 1
    try:
        json.loads(data[cut:])
    except ValueError:
        logger.warning("%s: dropped an incomplete last line, left by an interrupted run%s", path,
                       f"; {consequence}" if consequence else "")
        with open(path, "r+b") as fh:
            fh.truncate(cut)
    else:
        with open(path, "ab") as fh:
            fh.write(b"\n")
