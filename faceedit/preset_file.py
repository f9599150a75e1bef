"""Presets: a named set of ``faceedit apply`` options in a small TOML or JSON file (by its
suffix), read by ``faceedit apply --preset FILE``, written by ``--save-preset FILE`` and by the
page's "save settings" (:mod:`faceedit.ui`).

A preset is one table of keys, each named as the edit request's field
(:data:`faceedit.models.request.FIELDS`) or the run option's (:class:`faceedit.apply_options.ApplyOptions`)::

    name = "soft smile"          # the preset's own name (optional)
    model = "stage"
    target = "happy"             # or a list: ["happy", "sad"]
    strength = 0.6               # or a list: [0.5, 1]
    controls = { smile = 0.4, brows = -0.2 }
    light = [35, 15]             # AZ,EL degrees (or "35,15")
    quality = 90

A job (``faceedit apply --job FILE``) is a preset with ``faces``: a list of tables, each one
person's edit, ``face = N`` (numbered as ``--face N`` numbers them: largest first, from 0) and
the request's keys (:data:`FACE_KEYS`), over the preset's own request keys::

    model = "stage"
    [[faces]]
    face = 0
    target = "happy"
    [[faces]]
    face = 1
    target = "surprised"
    controls = { brows = 0.3 }

Request keys: :data:`REQUEST_KEYS`; run keys: :data:`RUN_KEYS` (every run option but where the
outputs go and the machine's: ``out_dir``, ``batch_size``, ``workers``, ``max_pixels``). A path
(``like``) is read as the command line reads it, from the current folder. :func:`read_preset`
checks every value as the command line checks its flag's, before any model loads: an unknown key
or a bad value is a :class:`~faceedit.errors.UsageError` naming the file, the key and the reason.
Nothing is evaluated: TOML and JSON are data only.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_type_hints

from faceedit.apply_options import ApplyOptions, face_choice, flags
from faceedit.errors import UsageError
from faceedit.files import write_file_atomically
from faceedit.models.request import FIELD, FIELDS, EditRequest, attr_word

SUFFIXES = (".toml", ".json")
#: The keys named as the edit request's fields (``target`` and ``strength`` may be lists: a series).
REQUEST_KEYS = tuple(f.name for f in FIELDS)
#: The run options a preset leaves to the command line: where the outputs go, and the machine's.
NOT_IN_PRESETS = ("out_dir", "batch_size", "workers", "max_pixels")
#: The keys named as :class:`~faceedit.apply_options.ApplyOptions`' run options.
RUN_KEYS = tuple(n for n in flags() if n not in (*NOT_IN_PRESETS, *REQUEST_KEYS, "targets", "strengths"))
#: Every key a preset takes, in the order a written one lists them (``faces``: a job, one edit per
#: person: :func:`job_requests`).
KEYS = ("name", "model", *REQUEST_KEYS, *RUN_KEYS, "faces")
#: The keys of one face's edit in ``faces``: its number, and the request's keys but the face choice.
FACE_KEYS = tuple(k for k in REQUEST_KEYS if k != "max_faces")
#: ApplyOptions' names for the request keys that hold a series.
SERIES = {"targets": "target", "strengths": "strength"}


def read_preset(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The checked values of the preset file ``path`` by key (``target``: a tuple of targets,
    ``strength``: a tuple of numbers; the others as :class:`~faceedit.models.request.EditRequest`
    and :class:`~faceedit.apply_options.ApplyOptions` hold them). UsageError naming the file, the
    key and the reason."""
    values = _parse(path)
    unknown = [k for k in values if k not in KEYS]
    if unknown:
        raise UsageError(f"key {unknown[0]!r}: not a preset's key (keys: {', '.join(KEYS)})", path)
    out: dict[str, Any] = {}
    for key in ("name", "model"):
        if key in values:
            out[key] = _text(path, key, values[key])
    for key, single in (("target", _text), ("strength", _number)):
        if key in values:
            given = values[key] if isinstance(values[key], list) else [values[key]]
            if not given:
                raise UsageError(f"key {key!r}: an empty list; give one {key} or more", path)
            out[key] = tuple(single(path, key, v) for v in given)
    for key in RUN_KEYS:
        if key in values:
            out[key] = _run_value(path, key, values[key])
    fields = {k: values[k] for k in REQUEST_KEYS if k in values and k not in ("target", "strength")}
    if "face" in fields:
        try:
            fields["face"] = face_choice(_text(path, "face", fields["face"]))
        except ValueError as e:
            raise UsageError(f"key 'face': {e}", path) from None
    if fields.get("like") is not None:
        fields["like"] = _text(path, "like", fields["like"])
    for key in ("aus", "controls", "attrs", "settings"):
        if key in fields and not isinstance(fields[key], Mapping):
            raise UsageError(f"key {key!r}: {fields[key]!r}: give a table of names and values "
                             f"(e.g. {key} = {{ ... }})", path)
    with _blamed(path):
        for strength in out.get("strength", ()):
            EditRequest(strength=strength)
        request = EditRequest(**fields)
        for key in fields:
            out[key] = getattr(request, key)
        ApplyOptions(targets=out.get("target", ()), strengths=out.get("strength", (1.0,)), out_dir=os.curdir,
                     request=request, face=request.face, max_faces=request.max_faces,
                     **{k: out[k] for k in RUN_KEYS if k in out}).check()
    if "faces" in values:
        out["faces"] = _faces(path, values["faces"], fields, out)
    return out


def job_requests(values: Mapping[str, Any]) -> dict[int, EditRequest]:
    """A job's edits (a preset's ``faces``, as :func:`read_preset` read them): face number ->
    its request, each face's keys over the preset's own request keys (its first target and
    strength)."""
    return dict(values.get("faces", ()))


def _faces(path, faces: Any, shared: Mapping[str, Any], top: Mapping[str, Any]) -> tuple:
    """``faces``: per face its number and its request (its keys over ``shared``, the preset's
    request keys, and the preset's first target and strength), each checked as the preset's."""
    if not isinstance(faces, list) or not faces or not all(isinstance(f, Mapping) for f in faces):
        raise UsageError("key 'faces': give a list of tables, one per face ([[faces]] in TOML), "
                         "each with its face number (face = 0) and its edit", path)
    out: dict[int, EditRequest] = {}
    for i, entry in enumerate(faces):
        where = f"faces[{i}]"
        unknown = [k for k in entry if k not in FACE_KEYS]
        if unknown:
            raise UsageError(f"key '{where}.{unknown[0]}': not a face's key (keys: {', '.join(FACE_KEYS)})", path)
        number = entry.get("face")
        if isinstance(number, str) and number.strip().isdigit():
            number = int(number)
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise UsageError(f"key '{where}.face': {number!r}: give the face's number (0 = the largest)", path)
        if number in out:
            raise UsageError(f"key '{where}.face': face {number} is given twice", path)
        fields = {**shared, **{k: v for k, v in entry.items() if k not in ("face", "target", "strength")}}
        fields["target"] = entry.get("target", top.get("target", (FIELD["target"].default,))[0])
        fields["strength"] = entry.get("strength", top.get("strength", (FIELD["strength"].default,))[0])
        fields["face"] = str(number)
        for key in ("aus", "controls", "attrs", "settings"):
            if key in entry and not isinstance(entry[key], Mapping):
                raise UsageError(f"key '{where}.{key}': {entry[key]!r}: give a table of names and values", path)
        with _blamed(path, where):
            out[number] = EditRequest(**fields)
    return tuple(out.items())


def preset_of(model: str | None, opts: ApplyOptions, name: str | None = None) -> dict[str, Any]:
    """The preset of a run: ``model``, the targets and strengths, the request's conditions, the
    face choice where it is not all faces, and each run option (:data:`RUN_KEYS`) that is not
    its default; as :func:`write_preset` writes them (the light as ``[AZ, EL]`` where it is a
    direction)."""
    out: dict[str, Any] = {}
    if name is not None:
        out["name"] = name
    if model is not None:
        out["model"] = model
    targets, strengths = list(opts.targets), [float(s) for s in opts.strengths]
    if targets:
        out["target"] = targets[0] if len(targets) == 1 else targets
    if strengths != [FIELD["strength"].default]:
        out["strength"] = strengths[0] if len(strengths) == 1 else strengths
    r = opts.request
    for key in r.given():
        value = getattr(r, key)
        if key == "light":
            try:
                value = [float(v) for v in value.split(",")]
            except ValueError:  # a named direction
                pass
        elif key == "aus":
            value = {str(k): v for k, v in value.items()}
        elif key == "attrs":
            value = {k: attr_word(v) for k, v in value.items()}
        elif key == "like":
            if not isinstance(value, (str, os.PathLike)):
                continue  # an array: not a file's
            value = os.fspath(value)
        out[key] = dict(value) if isinstance(value, Mapping) else value
    for key in ("face", "max_faces"):
        if getattr(opts, key) != FIELD[key].default:
            out[key] = getattr(opts, key)
    defaults = {f.name: f.default for f in dataclasses.fields(ApplyOptions)}
    for key in RUN_KEYS:
        value = getattr(opts, key)
        if value != defaults[key]:
            out[key] = list(value) if isinstance(value, tuple) else value
    return {k: out[k] for k in KEYS if k in out}


def write_preset(path: str | os.PathLike[str], values: Mapping[str, Any]) -> None:
    """``values`` (a preset's keys, as :func:`preset_of` gives them) written to ``path`` as TOML
    or JSON by its suffix (atomically; the folder made where missing)."""
    suffix = _suffix(path)
    if suffix == ".json":
        text = json.dumps(dict(values), indent=2) + "\n"
    else:
        text = "".join(f"{_toml_key(k)} = {_toml(v)}\n" for k, v in values.items() if v is not None)
    write_file_atomically(path, text)


# -- reading -----------------------------------------------------------------------------------
def _suffix(path: str | os.PathLike[str]) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise UsageError(f"a preset is a {' or '.join(SUFFIXES)} file (by its suffix)", path)
    return suffix


def _parse(path: str | os.PathLike[str]) -> dict[str, Any]:
    suffix = _suffix(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise UsageError("no such preset file", path) from None
    except IsADirectoryError:
        raise UsageError("a folder, not a preset file", path) from None
    except OSError as e:
        raise UsageError(f"cannot read it ({e.strerror})", path) from None
    try:
        text = data.decode("utf-8")
        if suffix == ".json":
            values = json.loads(text)
        else:
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover - Python 3.10
                import tomli as tomllib
            values = tomllib.loads(text)
    except UnicodeDecodeError:
        raise UsageError("not UTF-8 text", path) from None
    except ValueError as e:  # json.JSONDecodeError, tomllib.TOMLDecodeError
        raise UsageError(f"not {suffix[1:].upper()}: {str(e).splitlines()[0]}", path) from None
    if not isinstance(values, dict):
        raise UsageError(f"not a table of keys (a JSON object), but {type(values).__name__}", path)
    return values


def _text(path, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"key {key!r}: {value!r}: give a word (text)", path)
    return value.strip()


def _number(path, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UsageError(f"key {key!r}: {value!r}: give a number", path)
    return float(value)


def _run_value(path, key: str, value: Any) -> Any:
    """A run option's value, of its field's type (a bool, an int, a number, a word of its
    choices, text)."""
    kind = _TYPES[key]
    flag = flags()[key]
    if flag.choices and value not in flag.choices:
        raise UsageError(f"key {key!r}: {value!r}; valid: {', '.join(flag.choices)}", path)
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif kind is str:
        ok = isinstance(value, str)
    else:
        ok = True  # checked by ApplyOptions.check
    if not ok:
        raise UsageError(f"key {key!r}: {value!r}: give {_KIND_WORDS.get(kind, 'a value')}", path)
    return value


def _kind(hint: Any) -> Any:
    """The plain type of a field's annotation (``str | None``: str)."""
    args = [a for a in getattr(hint, "__args__", ()) if a is not type(None)]
    return args[0] if len(args) == 1 else hint


_TYPES = {name: _kind(hint) for name, hint in get_type_hints(ApplyOptions).items()}
_KIND_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}


class _blamed:
    """A UsageError of the request's or the options' checks as the preset's: the file, and the
    key the check names (its first name in backquotes, by the preset's word for it)."""

    def __init__(self, path, where: str = "") -> None:
        self.path = path
        self.where = where

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, tb) -> bool:
        if kind is None or not issubclass(kind, UsageError):
            return False
        reason = error.reason
        named = re.search(r"`([A-Za-z_]\w*)`", reason)
        key = SERIES.get(named.group(1), named.group(1)) if named else None
        reason = re.sub(r"`([A-Za-z_]\w*)`", lambda m: SERIES.get(m.group(1), m.group(1)), reason)
        if key is not None and reason.startswith(key):
            reason = reason[len(key):].lstrip(": ")
        if key and self.where:
            key = f"{self.where}.{key}"
        raise UsageError(f"key {key!r}: {reason}" if key else reason, self.path) from None


# -- writing TOML --------------------------------------------------------------------------------
_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _toml_key(key: Any) -> str:
    key = str(key)
    return key if _BARE.fullmatch(key) else json.dumps(key)


def _toml(value: Any) -> str:
    """One TOML value: text, a number, a bool, a list, an inline table."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return repr(value)
    if isinstance(value, str):
        # a TOML basic string: JSON's escapes are TOML's (DEL is escaped in TOML only)
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml(v)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise UsageError(f"{value!r}: not a value a preset holds")
