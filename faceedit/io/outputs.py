"""The one output check of every command, and the record that an output of faceedit carries.

Every file a command writes (``apply``'s photos, videos and ``--save-masks`` masks, ``detect``'s
overlays, records and crops, ``sheet``, ``train --export`` and its card, ``eval``...) is checked
here before any work (:class:`OutputCheck`, :func:`check_output`), under one rule whichever way
the inputs were named (files, folders, globs, ``--name`` templates):

* the empty path is refused (:func:`faceedit.files.check_named`: a script's unset ``$OUT``
  would name the current folder);
* an input of the command is never written (the same file by any name: symbolic and hard
  links; a file under a folder given as an input);
* a folder is never written over;
* an existing file is replaced only with ``overwrite``;
* with ``overwrite``, an existing photo or video (an extension faceedit reads as an input) in
  the folder of an input (a folder given, or the folder of a file given) is replaced only where
  it carries faceedit's record (an earlier output): else it may be an original photo.

The record (:func:`read_record`) is JSON in the file's own metadata, so it travels with the
file: a PNG ``tEXt`` chunk named ``faceedit``, a JPEG comment and a TIFF ImageDescription that
begin ``faceedit ``, an XMP packet in WebP, the ``comment`` tag of a video container. BMP holds
no metadata and OpenCV's 16-bit colour TIFF drops it: those outputs carry none. ``apply`` keeps
the conditions of each output in it (:func:`condition_difference`), so that a re-run under other
conditions into the same folder is not taken for done.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from faceedit.errors import UsageError
from faceedit.files import InputFiles, check_named
from faceedit.io.formats import input_kind

RECORD_KEY = "faceedit"
"""The name the record goes by in a file's metadata (a PNG text chunk's keyword, the word that
begins a JPEG comment, a TIFF description or a video's comment tag)."""

_XMP = ('<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        'xmlns:faceedit="urn:faceedit:record:1"><faceedit:record>{}</faceedit:record>'
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>')
_XMP_RECORD = re.compile(rb"<faceedit:record>(.*?)</faceedit:record>", re.S)

# the kinds of refusal (Refusal.kind)
INPUT, FOLDER, EXISTS, ORIGINAL = "input", "folder", "exists", "original"


def record_text(record: dict[str, Any]) -> str:
    """A record as the text the metadata holds: ``faceedit {JSON}`` (ASCII)."""
    return f"{RECORD_KEY} " + json.dumps(record, sort_keys=True, separators=(",", ":"))


def xmp_packet(record: dict[str, Any]) -> bytes:
    """A record as an XMP packet (WebP's place for text)."""
    from xml.sax.saxutils import escape  # here: it imports urllib.request, http.client, ssl, email

    return _XMP.format(escape(record_text(record))).encode("utf-8")


def _parse(text: str | bytes | None) -> dict[str, Any] | None:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str) or not text.startswith(RECORD_KEY + " "):
        return None
    try:
        record = json.loads(text[len(RECORD_KEY) + 1:])
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def read_record(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The record faceedit wrote into the file ``path`` (see the module doc), or None: no record,
    not a file faceedit writes, unreadable. Reads the header only; never raises."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        return None
    try:
        if input_kind(path) == "video":
            return _video_record(path)
        from PIL import Image

        with Image.open(path) as im:
            if im.format == "PNG":
                return _parse(im.info.get(RECORD_KEY) and f"{RECORD_KEY} {im.info[RECORD_KEY]}")
            if im.format == "JPEG":
                return _parse(im.info.get("comment"))
            if im.format == "WEBP":
                from xml.sax.saxutils import unescape

                found = _XMP_RECORD.search(im.info.get("xmp") or b"")
                return None if found is None else _parse(unescape(found.group(1).decode("utf-8", "replace")))
            if im.format == "TIFF":
                return _parse(im.tag_v2.get(270))
    except Exception:
        return None
    return None


def _video_record(path: str) -> dict[str, Any] | None:
    try:
        import av
    except ImportError:
        return None
    with av.open(path, "r") as container:  # Matroska's tags come back upper-case
        tags = {k.lower(): v for k, v in container.metadata.items()}
    return _parse(tags.get("comment"))


CONDITIONS_KEY = "conditions"
"""Where a record of ``apply`` holds the conditions of the edit that made the output."""


def condition_difference(earlier: dict[str, Any], now: dict[str, Any]) -> str | None:
    """How the conditions of this run (``now``) differ from those an earlier output was made
    under (``earlier``), as text (``model reggan (this run: eggan); face 1 (this run: all)``), or
    None where they are the same. Both are compared as JSON reads them."""
    a, b = json.loads(json.dumps(earlier)), json.loads(json.dumps(now))
    diffs = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            diffs.append(f"{key} {_shown(a.get(key))} (this run: {_shown(b.get(key))})")
    return "; ".join(diffs) or None


def _shown(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


@dataclass(frozen=True)
class Refusal:
    """Why a path may not be written: ``kind`` (``input``, ``folder``, ``exists``, ``original``) and ``reason``, a phrase that follows the path (library parameter names in
    backquotes)."""

    kind: str
    reason: str


class OutputCheck:
    """The rule of the module doc for the outputs of one command: ``inputs`` (the paths it reads,
    or an :class:`~faceedit.files.InputFiles` of them) and whether it may ``overwrite``."""

    def __init__(self, inputs: InputFiles | Iterable[str | os.PathLike[str]] = (), *, overwrite: bool = False):
        self.inputs = inputs if isinstance(inputs, InputFiles) else InputFiles(inputs)
        self.overwrite = overwrite

    def refusal(self, path: str | os.PathLike[str]) -> Refusal | None:
        """None where ``path`` may be written, else why not."""
        path = os.fspath(path)
        if path in self.inputs:
            return Refusal(INPUT, "is an input of this command (never written over)")
        if os.path.isdir(path):
            return Refusal(FOLDER, "is a folder")
        if not os.path.lexists(path):
            return None
        if not self.overwrite:
            return Refusal(EXISTS, "exists; give `overwrite` to replace it")
        if self.maybe_original(path):
            return Refusal(ORIGINAL, "is a photo or video in the folder of an input that faceedit did not "
                                     "write (it carries no faceedit record): maybe an original, never "
                                     "replaced, even with `overwrite`")
        return None

    def maybe_original(self, path: str) -> bool:
        """Whether the existing file ``path`` may be an original: a photo or video in the folder
        of an input, without faceedit's record."""
        if input_kind(path) is None:
            return False
        folders = {os.path.dirname(os.path.abspath(path)), os.path.dirname(os.path.realpath(path))}
        return any(f in self.inputs.homes for f in folders) and read_record(path) is None


def check_output(
    path: str | os.PathLike[str],
    *,
    inputs: InputFiles | Iterable[str | os.PathLike[str]] = (),
    overwrite: bool = False,
    option: str = "out",
) -> None:
    """The rule of the module doc for a command's output ``path``, before it does any work: a
    UsageError naming the option (`` `option` ``, as the library names parameters), the file
    and the way out. What is then written is written atomically
    (:func:`faceedit.files.atomic_file`, :func:`faceedit.files.write_file_atomically`)."""
    check_named(path, option=option, what="file")
    refusal = OutputCheck(inputs, overwrite=overwrite).refusal(path)
    if refusal is None:
        return
    tail = {INPUT: "; write to another file", FOLDER: "; give a file name",
            ORIGINAL: "; write to another file"}.get(refusal.kind, "")
    raise UsageError(f"`{option}` {os.fspath(path)}: {refusal.reason}{tail}")
