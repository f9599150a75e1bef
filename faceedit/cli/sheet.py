"""``faceedit sheet``: a contact sheet of a model's edits."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from faceedit.cli.common import (
    AUTO_DETECTOR,
    DETECTOR_HELP,
    EXIT_FAILED,
    DetectorName,
    dataset_files,
    errors_to_exit_codes,
    model_file,
    named_path,
    split_list,
)
from faceedit.errors import FaceEditError, UsageError
from faceedit.log import logger


def sheet(
    inputs: Annotated[list[str] | None, typer.Argument(help="Photos (photo mode); omit with --data.")] = None,
    *,
    model: Annotated[str, typer.Option("--model", "-m", help="Registered model name or a .safetensors path.")],
    target: Annotated[list[str], typer.Option("--target", "-t", help="Target(s), comma-separated.")],
    out_text: Annotated[str, typer.Option("--out", "-o", help="PNG file to write (never one of the photos).")],
    data: Annotated[Path | None, typer.Option("--data", "-d", help="Prepared dataset: sheet of its held-out (neutral, target) pairs.")] = None,
    stages: Annotated[str, typer.Option("--phases", help="Comma-separated model phases to show (RegGAN: expression,refined).")] = "",
    rows: Annotated[int, typer.Option("--rows", "-n", help="Pairs to show per target (data mode).")] = 8,
    detector: Annotated[DetectorName, typer.Option("--detector", case_sensitive=False, help=f"Photo mode: {DETECTOR_HELP}")] = AUTO_DETECTOR,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out if it exists.")] = False,
) -> None:
    """Contact sheet: held-out pairs (input | stages | real) or photos (input | each target,
    cut to the face), with the columns and rows labelled."""
    from faceedit.api import Editor
    from faceedit.conditions import canonical_target
    from faceedit.eval.sheet import labelled_grid, pair_row, photo_sheet
    from faceedit.io.decode import read_image
    from faceedit.io.encode import write_image
    from faceedit.io.formats import output_format
    from faceedit.io.outputs import check_output

    failed = 0
    with errors_to_exit_codes():
        out = named_path(out_text, "out", "file")
        check_output(out, inputs=[*(inputs or []), *dataset_files([data] if data is not None else []),
                                  *model_file(model)], overwrite=overwrite)
        output_format(out)
        editor = Editor.from_pretrained(model, detector=detector.value)
        targets = [editor.check_target(canonical_target(t)) for t in split_list(target, "--target")]
        if data is not None:
            from faceedit.data import expression_pairs, load_crop, open_dataset

            held = set(editor.loaded.meta.extra.get("heldout_subjects", []))
            by_target = expression_pairs(open_dataset(data).rows)
            stage_list: list[str | None] = [*split_list([stages] if stages else [], "--phases")] or [None]
            channels = editor.spec.channels
            row_images, labels = [], []
            for t in targets:
                pairs = [p for p in by_target.get(t, []) if not held or p[1]["subject"] in held]
                if not pairs:
                    logger.warning("%s: no held-out (neutral, %s) pairs: %s is not on the sheet", data, t, t)
                    continue
                for a, b in pairs[:: max(1, len(pairs) // rows)][:rows]:
                    row_images.append(pair_row(editor, load_crop(a, channels), load_crop(b, channels), t,
                                               stage_list))
                    labels.append(f"{b['subject']} {t}")
            if not row_images:
                raise UsageError(f"{data}: no held-out (neutral, target) pairs for {', '.join(targets)}")
            img = labelled_grid(row_images, ["input", *(s or "edited" for s in stage_list), "real"], labels)
        else:
            if not inputs:
                raise UsageError("give photos, or --data DATASET for a sheet of held-out pairs")
            photos = []
            for path in inputs:
                try:
                    photos.append((path, read_image(path).rgb8()))
                except FaceEditError as e:
                    failed += 1
                    logger.error("%s: %s; not on the sheet", path, e.reason)
            shown, left_out = photo_sheet(editor, photos, targets, face="all", max_faces=0)
            for path, reason in left_out:
                failed += 1
                logger.error("%s: %s; not on the sheet", path, reason)
            if shown is None:
                raise FaceEditError("no photo could be shown: no sheet written")
            img = shown
        write_image(str(out), img, record={"command": "sheet", "model": model})  # faceedit's record
        logger.info("wrote %s", out)
    if failed:
        raise typer.Exit(EXIT_FAILED)
