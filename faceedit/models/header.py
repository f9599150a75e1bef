"""Checkpoint headers without torch: the ``faceedit.*`` metadata of a model checkpoint, typed
(:class:`CheckpointMeta`), and :func:`read_meta`, which reads it from a ``.safetensors`` file with
a plain JSON parse.

A safetensors file is an 8-byte little-endian header length, that many bytes of a JSON object
(``{"__metadata__": {str: str}, NAME: {"dtype", "shape", "data_offsets"}, ...}``), then the
tensor bytes. Reading the header needs no tensor library, so listing the models
(``faceedit models``) and checking a command line against a model's vocabularies answer without
importing torch; loading the tensors is :mod:`faceedit.models.checkpoint`, which writes and reads
these headers (the keys are listed there).

A file is checked as the safetensors library checks it before its header is believed: pickles
refused unread, the header length within the file, every tensor's bytes inside the data and the
data covering them exactly (a truncated file is refused here, not when its tensors load).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from faceedit import __version__
from faceedit.errors import CheckpointError
from faceedit.faces.types import CropTemplate

FORMAT_VERSION = "1"
PREFIX = "faceedit."

# Suffixes of pickle-based formats (torch.save, pickle, joblib-style .bin): refused unread.
PICKLE_SUFFIXES = frozenset({".pt", ".pth", ".ckpt", ".bin", ".pkl", ".pickle"})
PICKLE_REFUSAL = "refusing to load a pickle-based checkpoint; faceedit only loads .safetensors"
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's default (zip) format

RESUME_STATE_KEY = PREFIX + "training_state"  # the file format's key, kept so earlier runs resume
TENSORS_HASH_KEY = PREFIX + "tensors_sha256"
# How each CheckpointMeta field is stored in the header (``template`` is JSON of a CropTemplate).
_JSON_FIELDS = ("config", "conditions", "metrics")
_INT_FIELDS = ("image_size", "channels")
_STR_FIELDS = ("arch", "training_data", "license", "version", "created", "format", "tensors_sha256")

#: The largest header the safetensors library reads (its ``MAX_HEADER_SIZE``).
MAX_HEADER_BYTES = 100_000_000
#: Bytes per element of the safetensors dtypes whose sizes are checked (a newer one is not).
DTYPE_BYTES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2, "F16": 2,
               "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8}


@dataclass
class CheckpointMeta:
    """The ``faceedit.*`` metadata of a model checkpoint, typed.

    ``conditions`` is either the list of target names, or a dict holding a ``"targets"`` list and
    further vocabularies; ``targets`` and ``vocabularies`` read both forms. ``extra`` holds
    free-form JSON-able values stored as ``faceedit.<key>``.
    """

    arch: str
    config: dict[str, Any] = field(default_factory=dict)
    conditions: list[str] | dict[str, Any] = field(default_factory=list)
    image_size: int = 0
    channels: int = 3
    template: CropTemplate | None = None
    training_data: str = ""
    license: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    version: str = ""
    created: str = ""
    format: str = FORMAT_VERSION
    tensors_sha256: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.image_size and self.template is not None:
            self.image_size = self.template.size

    @property
    def targets(self) -> list[str]:
        """Target names: the conditions list, or ``conditions["targets"]``."""
        if isinstance(self.conditions, dict):
            return list(self.conditions.get("targets", []))
        return list(self.conditions)

    @property
    def vocabularies(self) -> dict[str, Any]:
        """Condition vocabularies other than the targets (empty for a plain target list)."""
        if isinstance(self.conditions, dict):
            return {k: v for k, v in self.conditions.items() if k != "targets"}
        return {}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CheckpointMeta:
        """Build from a plain dict: known field names fill fields (``template`` may be a dict),
        an ``extra`` dict and all unknown keys go to ``extra``."""
        names = {f.name for f in fields(cls)} - {"extra"}
        known = {k: v for k, v in d.items() if k in names}
        extra = dict(d.get("extra") or {})
        extra.update({k: v for k, v in d.items() if k not in names and k != "extra"})
        if "arch" not in known:
            raise ValueError("checkpoint metadata needs an 'arch'")
        if isinstance(known.get("template"), Mapping):
            known["template"] = CropTemplate(**known["template"])
        return cls(**known, extra=extra)

    def to_header(self) -> dict[str, str]:
        """The safetensors header metadata (all values strings)."""
        header = {
            PREFIX + "format": str(self.format),
            PREFIX + "arch": self.arch,
            PREFIX + "config": json.dumps(self.config),
            PREFIX + "conditions": json.dumps(self.conditions),
            PREFIX + "image_size": str(int(self.image_size)),
            PREFIX + "channels": str(int(self.channels)),
            PREFIX + "training_data": self.training_data,
            PREFIX + "license": self.license,
            PREFIX + "metrics": json.dumps(self.metrics),
            PREFIX + "version": self.version,
            PREFIX + "created": self.created,
            TENSORS_HASH_KEY: self.tensors_sha256,
        }
        if self.template is not None:
            header[PREFIX + "template"] = json.dumps(self.template.to_json())
        reserved = {k[len(PREFIX) :] for k in header} | {"template", "extra", "training_state"}
        for key, value in self.extra.items():
            if not isinstance(key, str) or not key or key in reserved:
                raise ValueError(f"invalid extra metadata key {key!r}")
            header[PREFIX + key] = json.dumps(value)
        return header

    @classmethod
    def from_header(cls, header: Mapping[str, str]) -> CheckpointMeta:
        """Parse safetensors header metadata. Raises ValueError with a one-line reason."""
        if PREFIX + "arch" not in header:
            if RESUME_STATE_KEY in header:
                raise ValueError("this is a faceedit resume state, not a model checkpoint")
            raise ValueError("not a faceedit checkpoint (no faceedit.arch metadata)")
        check_format(header)
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, raw in header.items():
            if not key.startswith(PREFIX):
                continue  # foreign metadata (other tools) is not ours to interpret
            name = key[len(PREFIX) :]
            try:
                if name in _JSON_FIELDS:
                    values[name] = json.loads(raw)
                elif name == "template":
                    values[name] = CropTemplate(**json.loads(raw))
                elif name in _INT_FIELDS:
                    values[name] = int(raw)
                elif name in _STR_FIELDS:
                    values[name] = raw
                else:
                    extra[name] = _loads_or_raw(raw)
            except (ValueError, TypeError) as e:
                raise ValueError(f"bad {key} metadata: {one_line(e)}") from None
        for name, kind in (("config", dict), ("conditions", (list, dict)), ("metrics", dict)):
            if name in values and not isinstance(values[name], kind):
                raise ValueError(f"bad {PREFIX}{name} metadata: unexpected JSON type")
        return cls(**values, extra=extra)


def read_meta(path: str | os.PathLike) -> CheckpointMeta:
    """Read only the header metadata (cheap; no tensor data, no hashing, no torch)."""
    header = read_header(path)
    try:
        return CheckpointMeta.from_header(header)
    except ValueError as e:
        raise CheckpointError(str(e), path) from None


def read_header(path: str | os.PathLike) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file (``{}`` when it has none), after the checks
    the safetensors library makes before it reads any tensor; CheckpointError naming ``path``
    for a missing, empty, pickle-based, truncated or corrupt file."""
    check_file(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            return _parse_header(f.read(8), f, size)
    except OSError as e:
        raise CheckpointError(corrupt_reason(e), path) from None
    except ValueError as e:
        raise CheckpointError(f"truncated or corrupt safetensors file ({e})", path) from None


def _parse_header(head: bytes, f: Any, size: int) -> dict[str, str]:
    """ValueError with the safetensors library's reason for a header it would refuse."""
    if len(head) < 8:
        raise ValueError("header too small")
    n = int.from_bytes(head, "little")
    if n > MAX_HEADER_BYTES:
        raise ValueError("header too large")
    if 8 + n > size:
        raise ValueError("invalid header length")
    raw = f.read(n)
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("invalid header: not UTF-8") from None
    except ValueError as e:
        raise ValueError(f"invalid header deserialization: {e}") from None
    if not isinstance(doc, dict):
        raise ValueError("invalid header deserialization: not a JSON object")
    metadata = doc.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError("invalid header deserialization: __metadata__ is not a map of strings")
    end = 0
    # each tensor's offsets read once, in the header's order (the first bad one named), then in
    # the order of its data (a stable sort: equal offsets keep the header's order)
    spans = [(_offsets(name, info), name, info) for name, info in doc.items()]
    spans.sort(key=lambda span: span[0])
    for (begin, stop), name, info in spans:
        if begin != end or stop < begin:
            raise ValueError(f"invalid offset for tensor {name!r}")
        shape, dtype = info.get("shape"), info.get("dtype")
        if not isinstance(dtype, str) or not isinstance(shape, list) or not all(
                isinstance(d, int) and d >= 0 for d in shape):
            raise ValueError(f"invalid tensor info for {name!r}")
        if dtype in DTYPE_BYTES and math.prod(shape) * DTYPE_BYTES[dtype] != stop - begin:
            raise ValueError(f"tensor {name!r}: its shape and dtype do not fit its data offsets")
        end = stop
    if end != size - 8 - n:
        raise ValueError("metadata incomplete buffer: the tensors do not cover the data")
    return dict(metadata)


def _offsets(name: str, info: Any) -> tuple[int, int]:
    offsets = info.get("data_offsets") if isinstance(info, dict) else None
    if not isinstance(offsets, list) or len(offsets) != 2:
        raise ValueError(f"invalid tensor info for {name!r}")
    begin, stop = offsets
    if not (isinstance(begin, int) and begin >= 0 and isinstance(stop, int) and stop >= 0):
        raise ValueError(f"invalid tensor info for {name!r}")
    return begin, stop



def check_file(path: str | os.PathLike) -> None:
    """Reject missing, empty and pickle-based files before their header is read."""
    p = Path(path)
    if not p.exists():
        raise CheckpointError("checkpoint file not found", path)
    if not p.is_file():
        raise CheckpointError("not a file", path)
    size = p.stat().st_size
    if size == 0:
        raise CheckpointError("empty file (0 bytes)", path)
    if p.suffix.lower() in PICKLE_SUFFIXES:
        raise CheckpointError(PICKLE_REFUSAL, path)
    with open(p, "rb") as f:
        head = f.read(16)
    if head.startswith(_ZIP_MAGIC) or (
        _is_pickle_start(head) and not _looks_like_safetensors(head, size)
    ):
        raise CheckpointError(PICKLE_REFUSAL, path)


def _is_pickle_start(head: bytes) -> bool:
    """Pickle protocols 2-5 start with PROTO (0x80) + the protocol number."""
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    """A safetensors file: u64 little-endian header length, then a JSON object. Needed because a
    header length of e.g. 0x280 makes a valid file start with the same two bytes as a pickle."""
    if len(head) < 9 or head[8:9] != b"{":
        return False
    return 0 < int.from_bytes(head[:8], "little") <= size - 8


def check_format(header: Mapping[str, str], path: str | os.PathLike | None = None) -> None:
    """Refuse a header of another format version (ValueError without ``path``, else CheckpointError)."""
    fmt = header.get(PREFIX + "format", FORMAT_VERSION)
    if fmt != FORMAT_VERSION:
        reason = (
            f"checkpoint format {fmt!r} is not supported "
            f"(faceedit {__version__} reads format {FORMAT_VERSION})"
        )
        if path is None:
            raise ValueError(reason)
        raise CheckpointError(reason, path)


def corrupt_reason(e: Exception) -> str:
    return f"truncated or corrupt safetensors file ({one_line(e)})"


def one_line(e: BaseException) -> str:
    """The first line of an error's message (its type's name when it has none)."""
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def _loads_or_raw(raw: str) -> Any:
    """Extras are JSON-encoded; a value hand-written as a bare string is kept as is."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw
