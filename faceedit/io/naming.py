"""Output names: paths built from a ``--name`` template (:class:`OutputNamer`), kept inside the
output folder and distinct, with a hint naming the field that would tell two clashing outputs
apart.
"""

from __future__ import annotations

import os
import string
from typing import TYPE_CHECKING

from faceedit.edits.keyed import Keyed
from faceedit.errors import OutputError, UsageError
from faceedit.io.formats import FORMAT_BY_EXT, VIDEO, VIDEO_EXTS, VIDEO_FORMAT_BY_EXT, normalise_ext

if TYPE_CHECKING:
    from faceedit.io.inputs import InputItem


class _Strength(float):
    """A float that formats compactly by default (0.5, 1, -0.25) but honours format specs."""

    def __format__(self, spec: str) -> str:
        return format(float(self), spec or "g")


class _KeyedStrength(str):
    """A strength given as key frames: its text (``0@0s,1@2s``), whatever the format spec."""

    def __format__(self, spec: str) -> str:
        return str(self)


class OutputNamer:
    """Build output paths from a template, keeping them inside ``out_dir`` and distinct.

    Fields: ``{stem}`` ``{name}`` (input basename) ``{ext}`` (output extension with the dot:
    ``ext`` if given, else the input's own, lower-cased; ``.png`` for inputs whose extension
    cannot be written) ``{target}`` ``{strength}`` (compact: 0.5, 1; format specs such as
    ``{strength:.2f}`` work) ``{relparent}`` (the input's folder relative to its spec root,
    '' at top level, to mirror ``--recursive`` trees) ``{index}`` (the input's position in the
    input list, from 0: :attr:`InputItem.index`; an int, e.g. ``{index:03d}``) and the
    conditions of a run, the same for every output: ``{lighting}`` (``left``) ``{au}``
    (``au12-3.5_au6-2``) ``{attr}`` (``glasses-on``) ``{control}`` (``smile-0.5_brows--0.3``)
    ``{like}`` (``like-ref``, the reference photo's stem), ``{model}`` (the model's name:
    ``reggan``, or a checkpoint's), '' unless bound to the run's values by
    :meth:`bind` (``faceedit apply`` does). Path separators and NULs in field values are
    replaced by '_'; only ``{relparent}`` and literal '/' in the template create subfolders.
    """

    FIELDS = ("stem", "name", "ext", "target", "strength", "relparent", "index")
    NUMBER_FIELDS = ("strength", "index")  # the fields a format spec is for ({strength:.2f})
    CONDITION_FIELDS = ("lighting", "au", "attr", "control", "like", "model")

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        template: str = "{stem}_{target}{ext}",
        ext: str | None = None,
    ):
        self.out_dir = os.fspath(out_dir)
        self.template = template
        self.ext = None if ext is None else normalise_ext(ext)
        self._claimed: dict[str, tuple[InputItem, str, float, int]] = {}
        self.validate()

    @classmethod
    def bind(cls, template: str, conditions: dict[str, str]) -> str:
        """``template`` with the condition fields named in ``conditions`` (``lighting``, ``au``,
        ``attr``) replaced by their text, as literal text; every other field is left as it is.
        A malformed template comes back unchanged (the namer reports it)."""
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError:
            return template
        out = []
        for literal, field, spec, conversion in parsed:
            out.append(_escape_braces(literal))
            if field is None:
                continue
            if field in cls.CONDITION_FIELDS and field in conditions:
                try:
                    text = format(str(conditions[field]), spec or "")
                except ValueError:
                    return template
                out.append(_escape_braces(_sanitise(text)))
            else:
                out.append("{" + field + (f"!{conversion}" if conversion else "")
                           + (f":{spec}" if spec else "") + "}")
        return "".join(out)

    def validate(self) -> None:
        """UsageError if the template is malformed, uses an unknown field, lacks an image
        extension or leaves the output folder (absolute, ``..``)."""

        def bad(reason: str) -> UsageError:
            return UsageError(
                f"bad `name_template` {self.template!r}: {reason}; fields: {self._fields_text()}"
            )

        try:
            for _, field, spec, conversion in string.Formatter().parse(self.template):
                if field is not None and field not in self.FIELDS + self.CONDITION_FIELDS:
                    raise bad(f"unknown field {{{field}}}")
                if conversion:  # !r quotes a name, !a escapes it
                    raise bad(f"{{{field}!{conversion}}}: a field takes no conversion (write {{{field}}})")
                if spec and field not in self.NUMBER_FIELDS:  # {stem:>20} pads a name with spaces
                    raise bad(f"{{{field}:{spec}}}: only {{strength}} and {{index}} take a format spec "
                              f"(e.g. {{index:03d}}); write {{{field}}}")
            sample = self._format(
                stem="photo",
                name="photo.jpg",
                ext=self.ext or ".jpg",
                target="smile",
                strength=1.0,
                relparent="folder",
                index=0,
                lighting="left",
                au="au12-3",
                attr="glasses-on",
                control="smile-0.5",
                like="ref",
                model="reggan",
            )
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise bad(str(e)) from e
        # ``sample`` is made of placeholder values: the messages name the template, not it
        problem = _name_problem(sample)
        if problem:
            raise bad(f"an output name it makes {problem}")
        base = os.path.basename(sample)
        name_ext = os.path.splitext(base)[1].lower()
        written = {**FORMAT_BY_EXT, **VIDEO_FORMAT_BY_EXT}
        if name_ext not in written:
            if ("." + base.lstrip(".")).lower() in written:  # '.png', '..jpg': a bare extension
                raise bad("its output names have nothing before their extension (add {stem})")
            raise bad("its output names have no image extension (add {ext})")
        if self.ext is not None and written[name_ext] != written[self.ext]:
            raise bad(f"the names end in {name_ext}, `ext` asks for {self.ext}: give one of them "
                      "(with {ext} in the template the names follow `ext`)")

    def path_for(
        self, item: InputItem, target: str, strength: float, index: int | None = None
    ) -> str:
        """The output path for ``item`` edited towards ``target`` at ``strength``; ``{index}``
        is ``index``, by default the item's own.

        OutputError if it would leave ``out_dir`` or an earlier call already gave the same
        path to a different input, target, strength or index; the message names the fields
        that would tell the two apart.
        """
        index = item.index if index is None else index
        path, formatted = self._resolve(item, target, strength, index)
        if os.path.isdir(path):
            raise OutputError(f"output name {formatted!r} is an existing folder", item.path)
        key = os.path.normcase(os.path.abspath(path))
        owner = (item, target, strength if isinstance(strength, Keyed) else float(strength), index)
        first = self._claimed.setdefault(key, owner)
        if first[0].path != item.path or first[1:] != owner[1:]:
            raise OutputError(
                f"output path collision with {first[0].path} (target {first[1]}, "
                f"strength {first[2] if isinstance(first[2], Keyed) else format(first[2], 'g')}); {self._separating_hint(first, owner)}",
                path,
            )
        return path

    def _separating_hint(self, first: tuple, second: tuple) -> str:
        """What to add to the template so that two claims of one path get their own names."""
        (a, a_target, a_strength, _), (b, b_target, b_strength, _) = first, second
        used = {f for _, f, _, _ in string.Formatter().parse(self.template) if f}
        fields = []
        if a_target != b_target:
            fields.append("target")
        if a_strength != b_strength:
            fields.append("strength")
        if a.path != b.path:
            if os.path.dirname(a.rel) != os.path.dirname(b.rel):
                fields.append("relparent")
            fields.append("index")  # the input's position in the input list: always distinct
        fields = [f for f in fields if f not in used] or ["index"]
        example = ""
        if self.template.endswith("{ext}"):
            field = fields[0]
            example = (f"{{relparent}}/{self.template}" if field == "relparent"
                       else f"{self.template[:-5]}_{{{field}}}{{ext}}")
            example = f", e.g. `name_template` '{example}'"
        return "add " + " or ".join(f"{{{f}}}" for f in fields) + f" to the name template{example}"

    def predict(
        self, item: InputItem, target: str, strength: float, index: int | None = None
    ) -> str | None:
        """The path :meth:`path_for` would give, without claiming it; None if it has none."""
        try:
            return self._resolve(item, target, strength, item.index if index is None else index)[0]
        except OutputError:
            return None

    def _resolve(
        self, item: InputItem, target: str, strength: float, index: int
    ) -> tuple[str, str]:
        """(output path, formatted name); OutputError if the name is unusable."""
        name = os.path.basename(item.path)
        stem, in_ext = os.path.splitext(name)
        in_ext = in_ext.lower()
        relparent = os.path.dirname(item.rel)
        problem = _name_problem(os.path.join(relparent, "x"))
        if problem:
            raise OutputError(f"input folder {relparent!r} {problem}", item.path)
        if item.kind == VIDEO and in_ext in VIDEO_EXTS:
            # a video keeps its container (x.mp4 and x.mov do not collide) unless `ext` names one
            ext = self.ext if self.ext in VIDEO_FORMAT_BY_EXT else in_ext
        else:
            ext = self.ext or (in_ext if in_ext in FORMAT_BY_EXT else ".png")
        formatted = self._format(
            stem=_sanitise(stem),
            name=_sanitise(name),
            ext=ext,
            target=_sanitise(target),
            strength=strength,
            relparent=relparent,
            index=index,
        )
        # Join the non-empty components: an empty {relparent} or {target} leaves stray '/'.
        relative = "/".join(
            part for part in formatted.replace("\\", "/").split("/") if part not in ("", ".")
        )
        problem = _name_problem(relative)
        if problem:
            raise OutputError(f"output name {formatted!r} {problem}", item.path)
        return os.path.join(self.out_dir, *relative.split("/")), formatted

    def _format(self, *, strength: float, **fields: object) -> str:
        unbound = dict.fromkeys(self.CONDITION_FIELDS, "")  # fields that bind() did not fill
        shown = _KeyedStrength(strength.text) if isinstance(strength, Keyed) else _Strength(strength)
        return self.template.format(strength=shown, **{**unbound, **fields})

    def _fields_text(self) -> str:
        return " ".join(f"{{{f}}}" for f in self.FIELDS + self.CONDITION_FIELDS)


def _escape_braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")



def _sanitise(value: str) -> str:
    """Make a field value a single path component: no separators, NULs or bare dots."""
    value = value.replace("/", "_").replace("\\", "_").replace("\0", "_")
    return "_" * len(value) if value in (".", "..") else value


def _name_problem(relative: str) -> str | None:
    """Why ``relative`` cannot name a file inside the output folder, or None if it can."""
    if "\0" in relative:
        return "contains a NUL character"
    if os.path.isabs(relative) or os.path.splitdrive(relative)[0]:
        return "escapes the output folder (absolute path)"
    parts = relative.replace("\\", "/").split("/")
    if ".." in parts:
        return "escapes the output folder (..)"
    if parts[-1] in ("", "."):
        return "is empty or names a folder"
    return None
