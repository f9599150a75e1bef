"""Pinning (re)trained weights in a weights manifest (``weights/manifest.json``, read by
:mod:`faceedit.weights`): shipping a retrained model edits no code.

    python -m faceedit.models.manifest --update-manifest weights/NAME.safetensors
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from faceedit.errors import CheckpointError, UsageError
from faceedit.files import write_file_atomically
from faceedit.models import registry
from faceedit.models.checkpoint import file_sha256, load_checkpoint
from faceedit.models.registry import import_method_modules
from faceedit.weights import MANIFEST_FILE, SECTIONS, forget_manifest, read_manifest


def update_manifest(
    weights_file: str | os.PathLike,
    *,
    name: str | None = None,
    manifest: str | os.PathLike | None = None,
) -> dict[str, str]:
    """Pin a (re)trained weights file in a manifest: its sha256, under ``name`` (default: the
    entry, of either section, that already lists this file name, else a model named by the
    file's stem). An entry of the ``files`` section is pinned by its bytes alone. The file is verified
    first (a faceedit checkpoint whose tensors match their hash; for a registered model, its
    architecture). An existing entry keeps its texts; a new one takes ``license``,
    ``description`` and ``paper`` from the checkpoint header and ``card`` when ``NAME.md`` lies
    beside the file. ``manifest``: default ``manifest.json`` in the file's folder (created if
    absent). Written atomically; returns the entry."""
    path = Path(weights_file)
    target = Path(manifest) if manifest is not None else path.parent / MANIFEST_FILE
    if target.is_file():
        read_manifest(target)  # refuse to extend a malformed manifest
    doc: dict[str, Any] = json.loads(target.read_text()) if target.is_file() else {}
    doc.setdefault("models", {})
    listed = [(s, n) for s in SECTIONS for n, e in doc.get(s, {}).items()
              if (n == name if name is not None else e.get("file") == path.name)]
    section, name = listed[0] if listed else ("models", name or path.stem)
    entries = doc.setdefault(section, {})
    if section == "files":  # not an editing model (mouth bank, shading, detector...): the bytes
        if not path.is_file():
            raise CheckpointError("weights file not found", path)
        entry = dict(entries[name])
        entry.update(file=path.name, sha256=file_sha256(path))
        entries[name] = entry
        write_file_atomically(target, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
        forget_manifest(target)
        return entry
    ck = load_checkpoint(path)  # a checkpoint, tensors verified; refuses pickles
    import_method_modules()
    declared = registry.REGISTRY.get(name)
    if declared is not None and declared.arch != ck.meta.arch:
        raise CheckpointError(f"checkpoint does not match model {name!r}: architecture "
                              f"{ck.meta.arch!r} (registry: {declared.arch!r})", path)
    entry = dict(entries.get(name) or {})
    if not entry:
        card = path.with_suffix(".md")
        entry = {"file": path.name, "sha256": ck.sha256, "card": card.name if card.is_file() else "",
                 "paper": str(ck.meta.extra.get("paper", "")), "license": ck.meta.license,
                 "description": str(ck.meta.extra.get("description", ""))}
    entry.update(file=path.name, sha256=ck.sha256)
    entries[name] = entry
    write_file_atomically(target, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    forget_manifest(target)
    return entry


def main(argv: list[str] | None = None) -> int:
    """``python -m faceedit.models.manifest --update-manifest weights/NAME.safetensors``."""
    parser = argparse.ArgumentParser(
        prog="python -m faceedit.models.manifest",
        description="Pin (re)trained weights in a weights manifest: shipping a retrained model "
        "edits no code.")
    parser.add_argument("--update-manifest", metavar="FILE", nargs="+", required=True,
                        help="weights file(s) whose sha256 to write into the manifest")
    parser.add_argument("--name", help="model name of the entry (default: the entry that lists the "
                        "file, else the file's stem); one FILE only")
    parser.add_argument("--manifest", help="manifest to update (default: manifest.json beside FILE)")
    args = parser.parse_args(argv)
    if args.name and len(args.update_manifest) > 1:
        parser.error("--name takes one FILE")
    try:
        for f in args.update_manifest:
            entry = update_manifest(f, name=args.name, manifest=args.manifest)
            print(f"{f}: sha256 {entry['sha256']}")
    except (CheckpointError, UsageError, OSError, ValueError) as e:
        print(str(e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
