"""Where shipped weights are: the weights folder and its manifest (no torch, so any layer can ask).

``weights/manifest.json`` (:data:`MANIFEST_FILE`) lists every shipped weights file, data rather
than code. Two sections, both ``{NAME: {"file", "sha256", "card", "license", "description", ...}}``:

* ``models``: the registered editing models (``--model NAME``), with ``paper`` besides; the
  registry fills a shipped model's weights from its entry and checks the sha256 on every load.
* ``files``: the other networks and statistics the pipeline loads by name (the analysis
  networks, the MediaPipe detector and mesh, the mouth bank, the shading model):
  :func:`shipped_file` gives their path.

``file`` is a name inside the weights folder (:func:`weights_dir`); ``sha256`` 64 lowercase hex
digits. Pin a retrained file with ``python -m faceedit.models.manifest --update-manifest FILE``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import faceedit
from faceedit.errors import CheckpointError

MANIFEST_FILE = "manifest.json"
SECTIONS = ("models", "files")
ENTRY_FIELDS = ("file", "sha256", "card", "paper", "license", "description")
_MANIFESTS: dict[Path, dict[str, dict[str, dict[str, str]]]] = {}


def weights_dir() -> Path:
    """Folder of shipped weights: ``$FACEEDIT_WEIGHTS``, else ``weights/`` of a source checkout
    (next to the ``faceedit`` package, beside pyproject.toml), else
    ``<sys.prefix>/share/faceedit/weights`` (an installed wheel)."""
    env = os.environ.get("FACEEDIT_WEIGHTS")
    if env:
        return Path(env).expanduser()
    return installed_weights_dir()


def installed_weights_dir() -> Path:
    """The weights folder that comes with faceedit (``weights_dir`` without the variable)."""
    root = Path(faceedit.__file__).resolve().parents[1]
    if (root / "weights").is_dir() and (root / "pyproject.toml").is_file():
        return root / "weights"
    return Path(sys.prefix) / "share" / "faceedit" / "weights"


def manifest_paths() -> list[Path]:
    """The manifests read, first match wins: ``weights_dir()``'s own (when ``FACEEDIT_WEIGHTS``
    names a folder that has one; its entries override, name by name), then the one that comes
    with faceedit."""
    own, shipped = weights_dir() / MANIFEST_FILE, installed_weights_dir() / MANIFEST_FILE
    return [own] if own == shipped else [own, shipped]


def read_manifest(path: str | os.PathLike | None = None, section: str = "models") -> dict[str, dict[str, str]]:
    """The entries of one section of a manifest (default: the one that comes with faceedit),
    read and checked once per file (:func:`forget_manifest` drops it); ``{}`` for a file that
    does not exist. CheckpointError naming the file and the problem for a malformed one."""
    if section not in SECTIONS:
        raise ValueError(f"unknown manifest section {section!r}; sections: {', '.join(SECTIONS)}")
    p = Path(path) if path is not None else installed_weights_dir() / MANIFEST_FILE
    key = p.resolve()
    if key not in _MANIFESTS:
        _MANIFESTS[key] = _parse_manifest(p) if p.is_file() else {s: {} for s in SECTIONS}
    return _MANIFESTS[key][section]


def forget_manifest(path: str | os.PathLike) -> None:
    """Read ``path`` again on its next use (after writing it)."""
    _MANIFESTS.pop(Path(path).resolve(), None)


def _parse_manifest(p: Path) -> dict[str, dict[str, dict[str, str]]]:
    try:
        doc = json.loads(p.read_text())
    except (OSError, ValueError) as e:
        raise CheckpointError(f"unreadable weights manifest: {e}", p) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("models"), dict):
        raise CheckpointError('weights manifest: expected {"models": {NAME: {...}}}', p)
    out = {}
    for section in SECTIONS:
        entries = doc.get(section, {})
        if not isinstance(entries, dict):
            raise CheckpointError(f"weights manifest: {section!r} is not an object", p)
        for name, entry in entries.items():
            check_entry(name, entry, p)
        out[section] = entries
    return out


def check_entry(name: str, entry: object, path: str | os.PathLike) -> None:
    """CheckpointError naming ``path`` when a manifest entry is malformed."""
    if not isinstance(entry, dict):
        raise CheckpointError(f"weights manifest: entry {name!r} is not an object", path)
    unknown = [k for k in entry if k not in ENTRY_FIELDS]
    if unknown:
        raise CheckpointError(f"weights manifest: entry {name!r} has unknown field {unknown[0]!r} "
                              f"(fields: {', '.join(ENTRY_FIELDS)})", path)
    if not all(isinstance(v, str) for v in entry.values()):
        raise CheckpointError(f"weights manifest: entry {name!r}: every value must be a string", path)
    if not entry.get("file") or "/" in entry["file"] or "\\" in entry["file"]:
        raise CheckpointError(f"weights manifest: entry {name!r} needs a 'file' name inside the "
                              "weights folder", path)
    if not is_hex(entry.get("sha256"), 64):
        raise CheckpointError(f"weights manifest: entry {name!r} needs a 'sha256' of 64 lowercase "
                              f"hex digits, got {entry.get('sha256')!r}", path)


def manifest_entry(name: str, section: str = "models") -> dict[str, str]:
    """The manifest entry of ``name`` in ``section`` (see :func:`manifest_paths`);
    CheckpointError when no manifest lists it."""
    paths = manifest_paths()
    for path in paths:
        entry = read_manifest(path, section).get(name)
        if entry is not None:
            return entry
    raise CheckpointError(f"no weights manifest lists {name!r} among its {section} (add it with "
                          f"python -m faceedit.models.manifest --update-manifest "
                          f"weights/{name}.safetensors)", paths[-1])


def shipped_file(name: str) -> Path:
    """Path of the shipped file ``name`` of the manifests' ``files`` section (``expression``,
    ``facemesh``, ``mouths``...) in :func:`weights_dir`; it may not exist (callers say what
    is missing). CheckpointError when no manifest lists it."""
    return weights_dir() / manifest_entry(name, "files")["file"]


def refiner_entry(method: str) -> dict[str, Any] | None:
    """The ``files`` entry of ``method``'s refiner of what the stage invents (``METHOD_refiner``,
    :mod:`faceedit.models.refine`) with ``present`` (its file installed), or None where no
    manifest lists one: what ``faceedit models`` says of it (its description carries what the
    refiner adds, measured). Reads no weights."""
    try:
        entry: dict[str, Any] = dict(manifest_entry(f"{method}_refiner", "files"))
    except CheckpointError:
        return None
    entry["present"] = (weights_dir() / entry["file"]).is_file()
    return entry


def is_hex(s: object, length: int) -> bool:
    return isinstance(s, str) and len(s) == length and set(s) <= set("0123456789abcdef")
