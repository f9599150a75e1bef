"""Attributes the stage paints (``--attr hair=blond``) as a registry of records
(:class:`Attribute`, :data:`ATTRIBUTES`): each one's name, the words it takes, its painter and
the head matte that painter needs, and the parsing of a value (:func:`attribute_value`). No numpy
or torch: the request, the command line, ``faceedit models`` and the page read them before any
model loads; :func:`register_attribute` adds one, and every one of those lists it.

A painter is ``painter(pixels, face, value, strength)``: ``pixels`` (H, W, 3) uint8/uint16 RGB
(not changed; the painted copy returned, or ``pixels`` themselves where it paints nothing),
``face`` what the stage knows of the face (:class:`faceedit.stage.attributes.AttributeFace`:
its moved landmarks, its Face Mesh points, its head mattes, the light it is relit to), ``value``
the attribute's value (:func:`attribute_value`: a word, or an amount: +1 on in full), and
``strength`` 0..1, the edit's. Its ``"module:name"`` text is imported when an edit first paints
the attribute (:func:`faceedit.edits.controls.resolve`).

A network's own attributes (SeCGAN's) are its checkpoint's vocabulary, not records here: their
values are on/off or an amount (:func:`attribute_value` reads them the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from faceedit.conditions import (
    BROW_STYLES,
    GLASSES_OFF_REFUSED,
    GLASSES_STYLES,
    HAIR_COLOURS,
    NAMED_ALIASES,
    SKIN_TONES,
    UNSUPPORTED_ATTRIBUTES,
    glasses_style,
    glasses_words,
    parse_switch,
)
from faceedit.errors import UsageError

#: The words of :attr:`Attribute.matte`.
MATTES = ("", "head", "skin")


@dataclass(frozen=True)
class Attribute:
    """One attribute the stage paints.

    ``help``: what the stage does, a few words (``hair recoloured``). ``words``: the words its
    value is one of (``hair``: its colours), kept as the word; none: on / off or an amount 0..1
    (with ``style``, also a style's word). ``aliases``: other spellings of its words.
    ``style``: for an attribute drawn in styles (glasses), the canonical word of a style word, or
    None for a word that names none; ``style_words``: what it takes, in words. ``painter``: its
    painter (module notes) or its ``"module:name"`` text. ``matte``: the head matte the painter
    needs (``head``: the hair matte; ``skin``: that and the skin area; found once per face, and
    carried along a video track). ``off``: why the stage refuses to take it off (a value under
    0.5), or ``""``."""

    name: str
    help: str
    painter: str | Callable[..., Any]
    words: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    style: Callable[[str], str | None] | None = None
    style_words: str = ""
    matte: str = ""
    off: str = ""

    def __post_init__(self) -> None:
        if self.matte not in MATTES:
            raise ValueError(f"attribute {self.name}: matte {self.matte!r}; valid: {MATTES}")

    def usage(self) -> str:
        """What ``--attr`` takes of it: ``hair=black|brown``, ``glasses`` with its style words,
        ``NAME=on|off``."""
        if self.words:
            return f"{self.name}={'|'.join(self.words)}"
        return f"{self.name} {self.style_words}" if self.style is not None else f"{self.name}=on|off"

    def choices(self, off: bool = True) -> list[str]:
        """The words a form offers: its words; else off (unless the stage refuses it off, and
        ``off`` is False: no network under the form takes it off itself), on and its styles."""
        if self.words:
            return list(self.words)
        styles = list(GLASSES_STYLES) if self.style is not None else []
        return (["off"] if off or not self.off else []) + ["on", *styles]


#: Every attribute the stage paints, by name, in the order the help lists them.
ATTRIBUTES: dict[str, Attribute] = {}


def register_attribute(attribute: Attribute, *, replace: bool = False) -> Attribute:
    """Add ``attribute`` to :data:`ATTRIBUTES` (``replace``: over one of its name); ValueError for
    a name taken. Returns it."""
    if attribute.name in ATTRIBUTES and not replace:
        raise ValueError(f"attribute {attribute.name!r} is registered already")
    ATTRIBUTES[attribute.name] = attribute
    return attribute


def _glasses_style(word: str) -> str | None:
    style = glasses_style(word)
    return None if style is None else "-".join(w for w in style if w)


_PAINTERS = "faceedit.stage.attributes:"
for _attribute in (
    Attribute("glasses", "drawn on (a style; off is refused)", _PAINTERS + "paint_glasses", style=_glasses_style,
              style_words=glasses_words(), off=GLASSES_OFF_REFUSED),
    Attribute("hair", "recoloured", _PAINTERS + "paint_hair", HAIR_COLOURS, NAMED_ALIASES, matte="head"),
    Attribute("skin", "toned", _PAINTERS + "paint_skin", SKIN_TONES, NAMED_ALIASES, matte="skin"),
    Attribute("brows", "thickened or thinned", _PAINTERS + "paint_brows", BROW_STYLES, NAMED_ALIASES),
):
    register_attribute(_attribute)
del _attribute


def named_value(key: str, value: object) -> str | None:
    """The canonical word of a worded attribute's value (``hair``, ``skin``, ``brows``: any case,
    its aliases), or None for another word (the caller names the valid ones)."""
    a = ATTRIBUTES.get(key)
    if a is None or not a.words:
        return None
    word = str(value).strip().lower()
    word = a.aliases.get(word, word)
    return word if word in a.words else None


def worded() -> dict[str, tuple[str, ...]]:
    """The attributes whose values are words, with their words (``{"hair": HAIR_COLOURS, ...}``)."""
    return {name: a.words for name, a in ATTRIBUTES.items() if a.words}


def needs_matte(names) -> bool:
    """Whether painting any of the attributes ``names`` needs the head's mattes."""
    return any(ATTRIBUTES[n].matte for n in names if n in ATTRIBUTES)


def attribute_values(name: str, off: bool = True) -> list[str]:
    """The words ``--attr NAME=`` takes, for a form's choice: a registered attribute's
    (:meth:`Attribute.choices`; off where ``off``: a network that takes it off itself), any other
    attribute off and on."""
    a = ATTRIBUTES.get(name)
    return a.choices(off) if a is not None else ["off", "on"]


def attributes_in_words() -> str:
    """What the stage does to each attribute: ``glasses drawn on ..., hair recoloured, ...``."""
    return ", ".join(f"{a.name} {a.help}" for a in ATTRIBUTES.values())


def parse_attr_text(spec: str) -> dict[str, str]:
    """``"glasses=on,hair=red"`` -> ``{"glasses": "on", "hair": "red"}``; UsageError for an item
    that is not NAME=VALUE and for a name given twice."""
    items: dict[str, str] = {}
    for item in (p.strip() for p in spec.split(",")):
        if not item:
            continue
        key, eq, value = item.partition("=")
        if not eq:
            raise UsageError(f"`attrs` {item!r}: expected NAME=VALUE, e.g. glasses=on")
        key, value = key.strip(), value.strip()
        if key in items:
            raise UsageError(f"`attrs` {key} is given twice ({items[key]} and {value})")
        items[key] = value
    return items


def attribute_value(key: str, value: Any) -> float | str:
    """One ``--attr`` value: a worded attribute's word (:func:`named_value`), on/off (yes/no,
    true/false) as 1/0, a style's word (glasses: ``round``, ``round-black``), or a number 0..1.
    UsageError naming ``key`` otherwise, and for an attribute no model can edit believably
    (:data:`faceedit.conditions.UNSUPPORTED_ATTRIBUTES`) that is not registered."""
    a = ATTRIBUTES.get(key)
    if a is None and key in UNSUPPORTED_ATTRIBUTES:
        raise UsageError(f"`attrs` {key}: not supported: {UNSUPPORTED_ATTRIBUTES[key]}")
    if a is not None and a.words:
        word = named_value(key, value)
        if word is None:
            raise UsageError(f"`attrs` {key}={value}: unknown value; valid: {', '.join(a.words)}")
        return word
    if a is not None and a.style is not None and isinstance(value, str) and parse_switch(value) is None:
        style = a.style(value)
        if style is not None:
            return style
        try:
            float(value)
        except ValueError:
            raise UsageError(f"`attrs` {key}={value}: unknown style; valid: {a.style_words}") from None
    return amount_value(key, value)


def amount_value(key: str, value: Any) -> float:
    """An on/off attribute's value (a network's, or one of the stage's without words): on/off
    (yes/no, true/false, 1/0) as 1/0, or a number 0..1. UsageError naming ``key`` otherwise."""
    on = parse_switch(value) if isinstance(value, str) else None
    if on is not None:
        return 1.0 if on else 0.0
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"`attrs` {key}={value}: use on or off (on/off, yes/no, 1/0) or an amount "
                         "between 0 and 1") from None
    if not 0.0 <= v <= 1.0:
        raise UsageError(f"`attrs` {key}={v:g}: use on or off (or an amount between 0 and 1)")
    return v
