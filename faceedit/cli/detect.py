"""``faceedit detect`` and ``faceedit au``: the faces, landmarks and expression states of photos."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from faceedit.cli.common import (
    AUTO_DETECTOR,
    DETECTOR_HELP,
    EXIT_FAILED,
    DetectorName,
    DetectorOption,
    atomic_json,
    errors_to_exit_codes,
    in_flag_words,
    model_template,
)
from faceedit.errors import FaceEditError, UsageError
from faceedit.files import InputFiles, check_output_folder
from faceedit.io.outputs import check_output
from faceedit.log import logger

if TYPE_CHECKING:
    from faceedit.io.inputs import InputItem
    from faceedit.stage.model import Stage


def detect(
    inputs: Annotated[list[str], typer.Argument(help="Image files, folders, globs, or '-'.")],
    out_text: Annotated[str, typer.Option("--out", "-o", help="Folder for overlays and JSON.")],
    detector: DetectorOption = AUTO_DETECTOR,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Descend into sub-folders.")] = False,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Also write the aligned crops of this model's template.")] = None,
    max_pixels: Annotated[int, typer.Option("--max-pixels", min=1, help="Refuse images with more pixels than this.")] = 100_000_000,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per image on stdout.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace outputs that already exist.")] = False,
) -> None:
    """Detect faces and landmarks; write overlay PNGs and JSON (to debug alignment). Each face's
    record holds its expression state as the stage reads it (``expression``: AU intensities
    against the face's own identity, the state, the nearest named expression). Outputs that
    exist (or are inputs) are found before any photo is read: a usage error."""
    from faceedit.api import expression_states
    from faceedit.faces.align import align_face
    from faceedit.faces.detectors import get_detector
    from faceedit.faces.draw import draw_faces
    from faceedit.io.decode import read_image
    from faceedit.io.encode import write_image
    from faceedit.io.formats import PHOTO
    from faceedit.io.inputs import expand_inputs

    failed = 0
    with errors_to_exit_codes():
        check_output_folder(out_text)
        out = Path(out_text)
        # folders list videos too (apply edits them): detect passes over those it finds
        items = [it for it in expand_inputs(inputs, recursive=recursive, stdin=sys.stdin)
                 if not (it.listed and it.kind != PHOTO)]
        read = InputFiles(it.path for it in items if it.error is None)
        crops = _earlier_crops(out) if model is not None else {}
        for item in items:
            if item.error is None:
                for path in [*_outputs(out, item), *crops.get(_stem(item), [])]:
                    check_output(path, inputs=read, overwrite=overwrite)
        det = get_detector(detector.value)
        stage = _shipped_stage()
        template = model_template(model) if model is not None else None
        out.mkdir(parents=True, exist_ok=True)
        for item in items:
            rec: dict[str, Any] = {"input": item.path, "faces": [], "overlay": None, "status": "ok", "error": None}
            try:
                if item.error:
                    raise FaceEditError(item.error, item.path)
                if item.kind != PHOTO:
                    raise FaceEditError(f"a {item.kind}: detect reads photos", item.path)
                img = read_image(item.path, max_pixels=max_pixels)
                rgb = img.rgb8()
                faces = det.detect(rgb)
                overlay, record = _outputs(out, item)
                made = {"command": "detect"}  # faceedit's record (faceedit.io.outputs)
                write_image(overlay, draw_faces(rgb, faces), record=made)
                states = expression_states(faces, stage)
                rec.update(faces=[{**f.to_json(), "expression": st} for f, st in zip(faces, states)],
                           overlay=str(overlay))
                if template is not None:
                    for i, f in enumerate(faces):
                        write_image(_crop_path(out, item, i), align_face(img.pixels, f, template).crop,
                                    record={**made, "model": model})
                atomic_json(record, rec)
            except FaceEditError as e:
                failed += 1
                reason = in_flag_words(e.reason)
                rec.update(status="error", error=reason)
                logger.error("%s: %s", item.path, reason)
            if as_json:
                sys.stdout.write(json.dumps(rec) + "\n")
                sys.stdout.flush()
    if failed:
        raise typer.Exit(EXIT_FAILED)


def _stem(item: InputItem) -> str:
    """The name part of ``detect``'s outputs of ``item``: its path under its spec's folder."""
    return Path(item.rel).with_suffix("").as_posix().replace("/", "__")


def _crop_path(out: Path, item: InputItem, face: int) -> Path:
    return out / f"{_stem(item)}_face{face}.png"


def _outputs(out: Path, item: InputItem) -> tuple[Path, Path]:
    """``detect``'s overlay and record of ``item``."""
    stem = _stem(item)
    return out / f"{stem}_faces.png", out / f"{stem}.json"


def _earlier_crops(out: Path) -> dict[str, list[Path]]:
    """The face crops already in ``out`` (an earlier run's ``STEM_faceN.png``) by stem: how many
    faces this run finds is not known before it reads the photos."""
    found: dict[str, list[Path]] = {}
    if out.is_dir():
        for p in sorted(out.iterdir()):
            m = re.fullmatch(r"(.+)_face[0-9]+\.png", p.name)
            if m:
                found.setdefault(m.group(1), []).append(p)
    return found


def au_(
    inputs: Annotated[list[str], typer.Argument(help="Image files, folders, globs, or '-' to read paths from stdin.")],
    neutral: Annotated[Path | None, typer.Option("--neutral", help="Photo of the same person's neutral face (its largest face) as the reference; default: the face's own identity as the stage's shape model reads it.")] = None,
    detector: Annotated[DetectorName, typer.Option("--detector", case_sensitive=False, help=f"{DETECTOR_HELP} AU estimation needs 68 landmarks (opencv finds 5).")] = AUTO_DETECTOR,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Descend into sub-folders.")] = False,
    max_pixels: Annotated[int, typer.Option("--max-pixels", min=1, help="Refuse images with more pixels than this.")] = 100_000_000,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per face on stdout instead of a table.")] = False,
    blendshapes: Annotated[bool, typer.Option("--blendshapes", help="Also read each face's ARKit blendshape coefficients, 0..1 (the 51 of ARKit's 52 that MediaPipe's blendshapes model reads: all but tongueOut; implies --json; photos only): `apply --blendshapes FILE` takes a face's line.")] = False,
) -> None:
    """Estimate the 17 EGGAN action-unit intensities (0..5) of every face from its landmarks, and
    its expression state (with --blendshapes also its ARKit blendshapes: docs/blendshapes.md).

    A geometric proxy for OpenFace (see faceedit/faces/au.py for what it can and cannot see):
    AU9, AU10 and AU14 are not estimable and come out as null. Without --neutral the reference is
    the face's own identity (the stage's shape model separates it from the expression); each
    record also holds ``state`` (the expression state in standard deviations of the stage's axes)
    and ``nearest`` (the named expression it is closest to)."""
    import numpy as np

    from faceedit.api import expression_states
    from faceedit.faces.au import AU_KEYS, VISIBLE, aus_to_json, estimate_aus
    from faceedit.faces.blendshapes import BlendshapeReader
    from faceedit.faces.blendshapes import to_json as blendshapes_json
    from faceedit.faces.detectors import get_detector, require_points
    from faceedit.io.decode import read_image
    from faceedit.io.formats import PHOTO
    from faceedit.io.inputs import expand_inputs

    def faces_68(path) -> list:
        seen["rgb"] = rgb = read_image(path, max_pixels=max_pixels).rgb8()
        faces = det.detect(rgb)
        if not faces:
            raise FaceEditError("no face found", path)
        if any(np.asarray(f.landmarks).shape != (68, 2) for f in faces):
            raise FaceEditError(f"detector {det.name} gave no 68-point landmarks (AU estimation needs them)", path)
        return faces

    failed, table_rows = 0, []
    seen: dict[str, Any] = {}  # the photo faces_68 read last
    as_json = as_json or blendshapes
    with errors_to_exit_codes():
        require_points(detector.value, 68, "AU estimation")
        reader = BlendshapeReader() if blendshapes else None
        det = get_detector(detector.value)
        reference = None
        if neutral is not None:  # a reference that cannot serve is a usage error, as apply's --like
            try:
                reference = faces_68(str(neutral))[0].landmarks
            except FaceEditError as e:
                raise UsageError(f"`neutral` {neutral}: {e.reason}") from None
        stage = _shipped_stage()
        for item in expand_inputs(inputs, recursive=recursive, stdin=sys.stdin):
            if item.listed and item.kind != PHOTO:  # folders list videos too: apply edits them
                continue
            try:
                if item.error:
                    raise FaceEditError(item.error, item.path)
                if item.kind != PHOTO:
                    raise FaceEditError(f"a {item.kind}: au reads photos", item.path)
                faces = faces_68(item.path)
                # every face has 68 landmarks (faces_68), so every face has a state
                states = [st for st in expression_states(faces, stage) if st is not None]
                try:
                    if reference is not None:
                        aus = estimate_aus(np.stack([f.landmarks for f in faces]), neutral=reference)
                    else:
                        aus = np.array([[np.nan if v is None else v for v in st["aus"].values()] for st in states])
                except ValueError as e:
                    raise FaceEditError(str(e), item.path) from e
                # "input" as in the other commands' records; "file" kept for older scripts
                recs = [{"input": item.path, "file": item.path, "face": i,
                         "box": [round(float(v), 2) for v in f.box],
                         "aus": aus_to_json(a), "state": st["state"], "nearest": st["nearest"],
                         "status": "ok", "error": None}
                        for i, (f, a, st) in enumerate(zip(faces, aus, states))]
                if reader is not None:
                    for rec, b in zip(recs, reader.read(seen["rgb"], faces)):
                        rec["blendshapes"] = blendshapes_json(b)
                table_rows += [(item.path, i, a) for i, a in enumerate(aus)]
            except FaceEditError as e:
                failed += 1
                reason = in_flag_words(e.reason)
                logger.error("%s: %s", item.path, reason)
                recs = [{"input": item.path, "file": item.path, "face": None, "box": None, "aus": None,
                         "status": "error", "error": reason}]
            if as_json:
                for rec in recs:
                    sys.stdout.write(json.dumps(rec) + "\n")
                sys.stdout.flush()
    if not as_json and table_rows:
        from rich.console import Console
        from rich.table import Table

        keys = [k for k, v in zip(AU_KEYS, VISIBLE) if v]
        table = Table("file", "face", *keys, caption=(
            "AU intensity 0..5 from landmark geometry, relative to "
            + ("the --neutral face" if neutral is not None
               else "the face's own identity as the stage's shape model reads it")
            + f"; not estimable: {', '.join(k for k, v in zip(AU_KEYS, VISIBLE) if not v)}"))
        for path, i, a in table_rows:
            table.add_row(path, str(i), *(f"{v:.1f}" for v in a[VISIBLE]))
        Console(width=None if sys.stdout.isatty() else 200).print(table)
    if failed:
        raise typer.Exit(EXIT_FAILED)


def _shipped_stage() -> Stage:
    """The shipped stage, which reads the faces' expression states."""
    from faceedit.models.loading import load_model
    from faceedit.stage.model import Stage

    stage = load_model("stage").model
    assert isinstance(stage, Stage)
    return stage
