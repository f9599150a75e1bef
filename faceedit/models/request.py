"""One edit as it is asked for: :class:`EditRequest` (the target, the strength, the light, the
AUs, the controls, the attributes, the reference face, the face choice, the model's own
settings) and :data:`FIELDS`, the declaration of each of its fields as data (type, range,
choices or the model vocabulary that lists its values, default, help).

Everything that takes an edit reads this one declaration: the command line's options and their
help (``faceedit apply``), the Python API (:meth:`faceedit.api.Editor.edit`), what ``faceedit
models --json`` lists per model (:mod:`faceedit.models.options`), and the editing flow
(:mod:`faceedit.flow`), whose steps each take the request and read the fields they use.

A request checks its own values when it is made (UsageError naming the field and what it
takes); what depends on the model (its targets, lighting classes, AUs, attributes, phases and
settings) is checked against the model's declaration by :class:`faceedit.models.options.ModelOptions`.
Nothing heavy is imported with this module (the command line builds a request before any
model loads): the named controls and the light's words and limits are :mod:`faceedit.edits`'.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from faceedit.edits.attributes import ATTRIBUTES, attribute_value, parse_attr_text
from faceedit.edits.controls import CONTROLS, control_range, parse_controls, ranges_in_words
from faceedit.edits.keyed import Keyed, is_keyed_text, keyed_json
from faceedit.edits.light import LIGHT_STRENGTH, NAMED_DIRECTIONS, parse_direction
from faceedit.edits.light import MAX_STRENGTH as LIGHT_STRENGTH_MAX
from faceedit.errors import UsageError

#: How far the stage exaggerates an edit (``strength`` above 1; the stage's ``MAX_STRENGTH``); a
#: network's change stops at 1.
EXAGGERATED_STRENGTH = 1.5
#: The range of an AU intensity (FACS A..E as 1..5).
AU_RANGE = (0.0, 5.0)
#: The range of a named fine control (:data:`faceedit.edits.controls.CONTROLS`): the widest; each
#: control's own is its record's (:func:`control_ranges`: blink, the winks and aaa take 0..1).
CONTROL_RANGE = (-1.0, 1.0)
#: The range of ``strength``: nothing .. the stage's exaggeration.
STRENGTH_RANGE = (0.0, EXAGGERATED_STRENGTH)
#: The range of ``light_strength``: the photo's own light .. the new light alone.
LIGHT_STRENGTH_RANGE = (0.0, LIGHT_STRENGTH_MAX)
#: The words of ``face`` besides a face number.
FACE_CHOICES = ("all", "largest")
#: Targets that keep the face's own expression and set the AUs ``aus`` gives (the stage's
#: ``au``, EGGAN's ``au`` and ``custom``): without ``aus`` they ask for nothing.
AU_TARGETS = ("au", "custom")
#: The targets ``like`` goes with: those that keep the face's own expression (which the
#: reference's then replaces, AUs set on top). A named expression with ``like`` asks for two goals
#: at once: a usage error.
LIKE_TARGETS = ("keep", *AU_TARGETS)


@dataclass(frozen=True)
class Field:
    """One field of an :class:`EditRequest`, declared once.

    ``name``: the request's attribute and :meth:`faceedit.api.Editor.edit`'s keyword (the
    command line's option is named after it, ``--light-strength``; :data:`FLAGS` lists the few
    that differ). ``type``: what a value is, in words. ``range``: the numbers a value (or each
    value of a mapping) takes, inclusive. ``choices``: the words it takes (a mapping's keys)
    where the code fixes them. ``registry``: where a registry of records lists them instead
    (``controls``: :data:`faceedit.edits.controls.CONTROLS`, ``attributes``:
    :data:`faceedit.edits.attributes.ATTRIBUTES`), read when asked (:attr:`allowed`), so a record
    registered later is listed too. ``vocabulary``: where a model lists its values instead (``targets``, ``lighting``,
    ``aus``, ``attributes``, ``phases``, ``settings``: read from its checkpoint headers by
    :mod:`faceedit.models.options`). ``step``: who reads it (``flow``: the face choice, ``stage``,
    ``network``, ``both``). ``help``: one line, the command line's and the API's; ``{registry}``
    in it is replaced by what the registry's records say (:meth:`describe`)."""

    name: str
    type: str
    default: Any
    help: str
    range: tuple[float, float] | None = None
    choices: tuple[str, ...] = ()
    vocabulary: str = ""
    step: str = "both"
    registry: str = ""

    @property
    def allowed(self) -> tuple[str, ...]:
        """The words a value (a mapping's keys) takes: the registry's names, else :attr:`choices`."""
        if self.registry == "controls":
            return tuple(CONTROLS)
        if self.registry == "attributes":
            return tuple(ATTRIBUTES)
        return self.choices

    @property
    def flag(self) -> str:
        """The command line's option for this field."""
        return FLAGS.get(self.name, "--" + self.name.replace("_", "-"))

    def describe(self) -> str:
        """The help line, with the registry's records in it where it names them."""
        if self.registry == "controls":
            return self.help.format(registry=f"{', '.join(CONTROLS)} ({ranges_in_words()})")
        if self.registry == "attributes":
            return self.help.format(registry="; ".join(a.usage() for a in ATTRIBUTES.values()))
        return self.help

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "flag": self.flag, "type": self.type, "default": self.default,
                "range": None if self.range is None else [None if math.isinf(v) else v for v in self.range],
                "choices": list(self.allowed), "vocabulary": self.vocabulary or None,
                "step": self.step, "help": self.describe()}


def control_ranges() -> dict[str, tuple[float, float]]:
    """Each named control's range (declared with the controls, :mod:`faceedit.edits.controls`)."""
    return {name: control_range(name) for name in CONTROLS}


FIELDS: tuple[Field, ...] = (
    Field("target", "str", "keep", "The expression to give the face (a target of the model; keep: its own, "
          "for a change of light, AUs, attributes or controls alone).", vocabulary="targets", step="both"),
    Field("strength", "float", 1.0, "Edit strength: 0 leaves the face as it is, 1 reaches the target; above 1 "
          f"(up to {EXAGGERATED_STRENGTH:g}, models on the stage) exaggerates the stage's move, the network's "
          "change staying at 1.", range=STRENGTH_RANGE),
    Field("lighting", "str", None, "Relight to a lighting class, or keep (the photo's own); the classes each "
          "model takes: see `faceedit models`.", vocabulary="lighting"),
    Field("light", "AZ,EL", None, "Relight to a light direction AZ,EL in degrees, Extended Yale B's convention "
          "(azimuth + lights the image's left side of the face, elevation + lights it from above; e.g. 35,15); "
          "every model on the stage takes it; a video's as key frames, ';' between them: -35,15@0s;35,15@2s.",
          step="stage"),
    Field("light_strength", "float", None, "How much the light replaces the photo's own, 0..1 (default "
          f"{LIGHT_STRENGTH:g}; 1 is a dark-room point light: the far side goes nearly black); a video's as key "
          "frames: 0@0s,1@2s.",
          range=LIGHT_STRENGTH_RANGE, step="stage"),
    Field("aus", "{AU: intensity}", None, "Set AU intensities, absolute 0..5, e.g. 12=3.5,6=2: the face's other "
          "AUs are kept (the AUs each model takes: see `faceedit models`); a video's as key frames: 12=0@0s,3@2s.", range=AU_RANGE, vocabulary="aus"),
    Field("controls", "{control: value}", None, "Named fine controls, absolute, on top of the target: {registry}; "
          "0 leaves the face alone; e.g. smile=0.5,brows=-0.3; a video's as key frames VALUE@TIME (seconds with s, else a "
          "frame number), interpolated smoothly: smile=0@0s,1@1.5s,0@3s.", range=CONTROL_RANGE, registry="controls", step="stage"),
    Field("attrs", "{attribute: value}", None, "Attribute edits: {registry}; another model's attributes on|off "
          "(the attributes each model takes: see `faceedit models`).", range=(0.0, 1.0), vocabulary="attributes",
          registry="attributes"),
    Field("like", "path", None, "Move the face to the expression state of the largest face in this reference photo "
          "(read from its landmarks apart from its identity as well as a shape model can).", step="stage"),
    Field("phase", "str", None, "Model phase to output, where the model has phases (RegGAN: expression, refined; "
          "see `faceedit models`).", vocabulary="phases", step="network"),
    Field("settings", "{key: value}", None, "The model's own settings (each model's keys: see `faceedit models`).",
          vocabulary="settings", step="network"),
    Field("face", "all|largest|N", "all", "The faces to edit: all, the largest, or face N (numbered largest first, "
          "from 0).", choices=FACE_CHOICES, step="flow"),
    Field("max_faces", "int", 10, "With all faces chosen: fail a photo with more faces than this, and a video in "
          "which more people than this appear, rather than edit some of them (0 = no limit).",
          range=(0, math.inf), step="flow"),
)
FIELD: dict[str, Field] = {f.name: f for f in FIELDS}
#: The command line's options whose names differ from their field's.
FLAGS = {"target": "--target", "aus": "--au", "controls": "--control", "attrs": "--attr", "settings": "--set"}
#: The fields only the stage reads (never passed to a network).
STAGE_ONLY = tuple(f.name for f in FIELDS if f.step == "stage")
#: The fields that are a condition of the edit (recorded, named in the outputs): not the face choice.
CONDITIONS = ("lighting", "light", "light_strength", "aus", "controls", "attrs", "like", "phase", "settings")


@dataclass(frozen=True)
class EditRequest:
    """One edit: what :data:`FIELDS` declares, each value checked and put in one form when the
    request is made (``aus`` as ``{int: float}``, ``controls`` and ``attrs`` as ``{str: float}``
    (a glasses style as its word),
    ``light`` as ``"AZ,EL"`` text, ``lighting`` and ``face`` in lower case). ``like``: a photo's
    path, an RGB array or its 68 landmarks. ``settings``: the model's own keywords (``--set``),
    passed to its network as they are. Made with :meth:`of` from keywords, as
    :meth:`faceedit.api.Editor.edit` takes them; :meth:`at` gives the same request for another
    target and strength. ``strength``, ``light`` (:func:`keyed_light`), ``light_strength`` and
    each AU's and control's value may be key frames (:class:`faceedit.edits.keyed.Keyed`, or its text ``0@0s,1@2s``), for a video:
    :meth:`resolved` gives the request at a frame's time; a photo refuses them (:meth:`keyed`)."""

    # each default is the declaration's (FIELDS)
    target: str = FIELD["target"].default
    strength: float = FIELD["strength"].default
    lighting: str | None = None
    light: str | None = None
    light_strength: float | None = None
    aus: Mapping[int, float] | None = None
    controls: Mapping[str, float] | None = None
    attrs: Mapping[str, float | str] | None = None
    like: Any = None
    phase: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    face: str = FIELD["face"].default
    max_faces: int = FIELD["max_faces"].default

    def __post_init__(self) -> None:
        put = object.__setattr__
        if not isinstance(self.target, str) or not self.target.strip():
            raise UsageError(f"`target` {self.target!r}: give a target name")
        put(self, "strength", _keyed_or_number("strength", self.strength, *STRENGTH_RANGE))  # a model's top: its flow
        if self.lighting is not None:
            put(self, "lighting", str(self.lighting).strip().lower())
        if self.light is not None:
            put(self, "light", _light_text(self.light))
            if self.lighting is not None:
                raise UsageError(f"`lighting` {self.lighting} and `light` {self.light} together: give one "
                                 "(`lighting` a named light, `light` a direction AZ,EL)")
        if self.light_strength is not None:
            if self.light is None and self.lighting is None:
                raise UsageError("`light_strength` needs `light` or `lighting`")
            put(self, "light_strength", _keyed_or_number("light_strength", self.light_strength,
                                                         *LIGHT_STRENGTH_RANGE))
        put(self, "aus", _aus(self.aus) or None)
        if self.target in AU_TARGETS and not self.aus:
            raise UsageError(f"`target` {self.target} needs AU intensities: give `aus` (e.g. 12=3.5)")
        if self.like is not None and self.target not in LIKE_TARGETS:
            raise UsageError(f"`target` {self.target} and `like` together: `like` sets the expression "
                             "to the reference face's; give one of them (`like` goes with `target` keep, "
                             "or au with `aus`)")
        put(self, "controls", _controls(self.controls) or None)
        put(self, "attrs", _attrs(self.attrs) or None)
        if self.phase is not None:
            put(self, "phase", str(self.phase))
        settings = dict(self.settings or {})
        clash = sorted(set(settings) & set(FIELD))
        if clash:
            raise UsageError(f"`settings` {clash[0]}: a field of the edit, not a setting (give it as `{clash[0]}`)")
        put(self, "settings", settings)
        face = str(self.face).strip().lower()
        if face not in FACE_CHOICES and not face.isdigit():
            raise UsageError(f"`face` {self.face!r}; valid: all, largest, or a face number (0 = largest)")
        put(self, "face", face)
        if isinstance(self.max_faces, bool) or not isinstance(self.max_faces, int) or self.max_faces < 0:
            raise UsageError(f"`max_faces` {self.max_faces}: must be 0 (no limit) or more")

    @classmethod
    def of(cls, target: str = FIELD["target"].default, strength: float = FIELD["strength"].default,
           **keywords: Any) -> EditRequest:
        """A request from keywords (:meth:`faceedit.api.Editor.edit`'s): a field's name sets the
        field, any other keyword is a setting of the model's (``mode="delta"``)."""
        fields = {k: v for k, v in keywords.items() if k in FIELD and k != "settings"}
        settings = {**dict(keywords.get("settings") or {}),
                    **{k: v for k, v in keywords.items() if k not in FIELD}}
        return cls(target=target, strength=strength, settings=settings, **fields)

    def at(self, target: str, strength: float) -> EditRequest:
        """This request for ``target`` at ``strength``."""
        return dataclasses.replace(self, target=target, strength=strength)

    # -- key frames (faceedit.edits.keyed) -------------------------------------------------------
    def keyed(self) -> list[str]:
        """The values given as key frames, as the command line names them (``strength``,
        ``--control smile``, ``--au 12``, ``light_strength``); empty for an edit that holds still."""
        out = [f"`{k}`" for k in ("strength", "light_strength") if isinstance(getattr(self, k), Keyed)]
        out += ["`light`"] if is_keyed_text(self.light) else []
        out += [f"`controls` {k}" for k, v in (self.controls or {}).items() if isinstance(v, Keyed)]
        out += [f"`aus` {k}" for k, v in (self.aus or {}).items() if isinstance(v, Keyed)]
        return out

    def resolved(self, seconds: float, rate: float | None = None) -> EditRequest:
        """This request at ``seconds`` from a clip's first frame (``rate``: the clip's frame
        rate, which places frame-numbered keys): each keyed value at that time, the others as
        they are; the same request where nothing is keyed."""
        if not self.keyed():
            return self

        def at(v: Any) -> Any:
            return v.at(seconds, rate) if isinstance(v, Keyed) else v

        light = self.light
        if light is not None and is_keyed_text(light):
            light = ",".join(f"{at(k):g}" for k in keyed_light(light))
        return dataclasses.replace(
            self, strength=at(self.strength), light=light, light_strength=at(self.light_strength),
            aus={k: at(v) for k, v in self.aus.items()} if self.aus else None,
            controls={k: at(v) for k, v in self.controls.items()} if self.controls else None)

    def given(self) -> list[str]:
        """The condition fields set (not None, not empty), in :data:`FIELDS` order."""
        return [k for k in CONDITIONS if getattr(self, k) not in (None, {})]

    # -- what a run reports ----------------------------------------------------------------------
    def applied_light(self, stage: bool = True) -> tuple[list[float] | str | None, float | None]:
        """The light the stage relights the face to, as a record gives it: ``[azimuth,
        elevation]`` degrees (``"ambient"``: even light, no direction), for ``light`` and for a
        ``lighting`` class the stage draws (``stage``: the edit has one; ``keep`` and a class it
        does not draw are a network's alone), with the strength it is applied at (the default
        where none is given); ``(None, None)`` where the stage relights nothing (a
        ``light_strength`` given is kept)."""
        spec = self.light if self.light is not None else self.lighting if stage else None
        if is_keyed_text(spec):  # key frames: their text (AZ,EL@TIME;...)
            return spec, self.light_strength if self.light_strength is not None else LIGHT_STRENGTH
        if spec is None or (self.light is None and spec not in NAMED_DIRECTIONS):
            return None, self.light_strength
        _, towards = parse_direction(spec)
        direction = "ambient" if towards is None else [float(v) for v in towards]
        return direction, self.light_strength if self.light_strength is not None else LIGHT_STRENGTH

    def record_fields(self, stage: bool = True) -> dict[str, Any]:
        """The conditions as a JSON record of an output carries them (``Record``'s keywords):
        the light as applied (:meth:`applied_light`; ``stage``: the edit has a stage), the face
        choice, the phase and the model's settings."""
        like = self.like
        light, light_strength = self.applied_light(stage)
        return {
            "lighting": self.lighting,
            "light": light,
            "light_strength": keyed_json(light_strength),
            "aus": keyed_json(dict(self.aus)) if self.aus else None,
            "attrs": {k: attr_word(v) for k, v in self.attrs.items()} if self.attrs else None,
            "controls": keyed_json(dict(self.controls)) if self.controls else None,
            "like": os.fspath(like) if isinstance(like, (str, os.PathLike)) else None,
            "face": self.face,
            "phase": self.phase,
            "settings": dict(self.settings) or None,
        }

    def keywords(self) -> dict[str, Any]:
        """The conditions and the face choice as :meth:`faceedit.api.Editor.edit` takes them
        (settings spread as keywords): :meth:`of` of them is this request again."""
        out: dict[str, Any] = {k: getattr(self, k) for k in self.given() if k != "settings"}
        out.update(self.settings)
        if self.face != FIELD["face"].default:
            out["face"] = self.face
        if self.max_faces != FIELD["max_faces"].default:
            out["max_faces"] = self.max_faces
        return out


def keyed_fields(text: str) -> dict[str, Any]:
    """Key frames given as one text, ``NAME=KEYS`` each (``smile=0@0s,1@2s strength=0@0,1@1s``;
    NAME: ``strength``, ``light_strength``, a named control, an AU as ``12`` or ``AU12``), as
    the request's fields they set (``{"controls": {"smile": "0@0s,1@2s"}, "strength": ...}``),
    checked when the request is made; a NAME none of these, or a value without times, a
    UsageError naming it (the page's key frames of a clip)."""
    keyed, plain = _keyed_items("keys", text)
    if plain:
        raise UsageError(f"key frames {plain[0]!r}: not key frames; give NAME=VALUE@TIME,..., e.g. smile=0@0s,1@2s")
    out: dict[str, Any] = {}
    for name, keys in keyed.items():
        word = name.strip().lower()
        au = word[2:] if word.startswith("au") else word
        if word in ("strength", "light_strength"):
            out[word] = keys
        elif word in CONTROLS:
            out.setdefault("controls", {})[word] = keys
        elif au.isdigit():
            out.setdefault("aus", {})[int(au)] = keys
        else:
            raise UsageError(f"key frames {name!r}: not a keyed field; key frames set strength, light_strength, a "
                             f"control ({', '.join(CONTROLS)}) or an AU (12 or AU12)")
    return out


def attr_word(value: float | str) -> str:
    """An attribute amount as the command line writes it: on, off, the number, or a style."""
    if isinstance(value, str):
        return value
    return {1.0: "on", 0.0: "off"}.get(float(value), f"{float(value):g}")


# -- each field's values -----------------------------------------------------------------------
def _number(name: str, value: Any, lo: float, hi: float = math.inf) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"`{name}` {value!r}: not a number") from None
    if not math.isfinite(v) or not lo <= v <= hi:
        within = f"{lo:g} or more" if math.isinf(hi) else f"between {lo:g} and {hi:g}"
        raise UsageError(f"`{name}` {v:g}: must be {within}")
    return v


def _keyed_or_number(name: str, value: Any, lo: float, hi: float = math.inf) -> float:
    """``value`` as :func:`_number` reads it, or key frames (a :class:`Keyed`, or its text
    ``0@0s,1@2s``) each of whose values it reads so."""
    if isinstance(value, Keyed):
        value = value.text
    if is_keyed_text(value):
        return Keyed.parse(value, f"`{name}`", lambda v: _number(name, v, lo, hi))
    return _number(name, value, lo, hi)


def _keyed_items(name: str, spec: Any) -> tuple[dict[str, Keyed | str], list[str]]:
    """A mapping's or ``"k=v,k=0@0s,1@2s"``'s items: those given as key frames (their text,
    or a :class:`Keyed`) by their key, and the others as ``k=v`` text. In text, an item without
    ``=`` is one more key frame of the key before it."""
    if isinstance(spec, str):
        pairs: list[list[str]] = []
        for item in (p.strip() for p in spec.replace(";", ",").replace(" ", ",").split(",")):
            if not item:
                continue
            if "=" not in item and "@" in item and pairs:
                pairs[-1][1] += "," + item
            else:
                k, _, v = item.partition("=")
                pairs.append([k, v] if "=" in item else [item, ""])
                if "=" not in item:
                    raise UsageError(f"`{name}` item {item!r}: expected NAME=VALUE or NAME=VALUE@TIME,...")
        items: list[tuple[Any, Any]] = [(k.strip(), v.strip()) for k, v in pairs]
    else:
        items = list(dict(spec).items())
    keyed: dict[str, Keyed | str] = {}
    plain: list[str] = []
    for k, v in items:
        if isinstance(v, Keyed) or is_keyed_text(v):
            if str(k) in keyed:
                raise UsageError(f"`{name}` {k} is given twice ({keyed[str(k)]} and {v})")
            keyed[str(k)] = v
        else:
            plain.append(f"{k}={v}")
    return keyed, plain


def _keyed_values(name: str, keyed: dict[str, Keyed | str], one: Any) -> dict[Any, Keyed]:
    """Each keyed item's key frames, each value checked by ``one({key: value})`` (a mapping's
    own parser: its names and ranges), under the key that parser gives."""
    out: dict[Any, Keyed] = {}
    for k, v in keyed.items():
        text = v.text if isinstance(v, Keyed) else str(v)
        key = next(iter(one(f"{k}=0")))  # the name as the parser gives it (an unknown one refused)

        def check(x: float, k: str = k) -> float:
            return float(next(iter(one(f"{k}={x!r}").values())))

        out[key] = Keyed.parse(text, f"`{name}` {k}", check)
    return out


def _light_text(light: Any) -> str:
    """``light`` as ``"AZ,EL"`` text (a pair of numbers, or text with its spaces left out),
    checked as the stage's shading takes it (a direction it is fitted for, or one of its named
    ones: :func:`faceedit.edits.light.parse_direction`)."""
    if isinstance(light, str):
        text = light.replace(" ", "")
        if is_keyed_text(text):
            azimuths, elevations = keyed_light(text)
            return ";".join(f"{a:g},{e:g}@{at:g}{'s' if unit == 's' else ''}"
                            for (at, unit, a), (_, _, e) in zip(azimuths.keys, elevations.keys))
    else:
        try:
            az, el = (float(v) for v in light)
        except (TypeError, ValueError):
            raise UsageError(f"`light` {light!r}: give AZ,EL in degrees (e.g. 35,15)") from None
        text = f"{az:g},{el:g}"
    parse_direction(text)
    return text


def keyed_light(text: str) -> tuple[Keyed, Keyed]:
    """A light direction as key frames, ``AZ,EL@TIME`` each, ``;`` between them
    (``-35,15@0s;35,15@2s``; a named direction but ambient as its AZ,EL: ``left@0s;right@2s``),
    as its azimuth's and its elevation's keys, each interpolated on its own (a curve that stays
    between its keys' values: every direction on the way is one the shading is fitted for). A
    UsageError naming ``light`` and the bad key."""
    az, el = [], []
    for item in (p.strip() for p in text.split(";")):
        where, at, when = item.rpartition("@")
        if not at:
            raise UsageError(f"`light` {item!r}: a key frame is AZ,EL@TIME, ';' between key frames "
                             "(e.g. -35,15@0s;35,15@2s)")
        _, towards = parse_direction(where)
        if towards is None:
            raise UsageError(f"`light` {item!r}: {where} has no direction to move to or from; give AZ,EL")
        az.append(f"{towards[0]!r}@{when}")
        el.append(f"{towards[1]!r}@{when}")
    try:
        return Keyed.parse(",".join(az), "`light`"), Keyed.parse(",".join(el), "`light`")
    except UsageError as e:  # the times: named in the text as given
        raise UsageError(f"`light` {text!r}: {str(e).split(': ', 1)[-1]}") from None


def _aus(aus: Any) -> dict[int, float]:
    """``{AU: intensity}`` from a mapping or ``"12=3.5,6=2"``: known AUs, each 0..5; an AU's
    intensity may be key frames (``12=0@0s,3@2s``)."""
    if not aus:
        return {}
    from faceedit.faces.au import parse_au_spec

    keyed, plain = _keyed_items("aus", aus)
    if keyed:
        def one(text: str) -> dict[int, float]:
            try:
                return parse_au_spec(text)
            except UsageError as e:
                raise UsageError(f"`aus`: {e}") from None

        out: dict[int, float] = dict(_keyed_values("aus", keyed, one))
        for au, v in (_aus(",".join(plain)) if plain else {}).items():
            if au in out:
                raise UsageError(f"`aus`: AU{au} is given twice")
            out[au] = v
        return out
    if isinstance(aus, str):
        spec = aus
    else:
        items = []
        for k, v in dict(aus).items():
            try:
                items.append(f"{k}={float(v)!r}")
            except (TypeError, ValueError):
                raise UsageError(f"`aus` {k}={v!r}: the intensity is not a number") from None
        spec = ",".join(items)
    try:
        return parse_au_spec(spec)
    except UsageError as e:
        raise UsageError(f"`aus`: {e}") from None


def _controls(controls: Any) -> dict[str, float]:
    """``{control: value}`` from a mapping or ``"smile=0.5,brows=-0.3"``: known names, each in
    its range; a value may be key frames (``smile=0@0s,1@1.5s,0@3s``)."""
    if not controls:
        return {}
    keyed, plain = _keyed_items("controls", controls)
    if keyed:
        out: dict[str, float] = dict(_keyed_values("controls", keyed, _controls))
        for name, v in (_controls(",".join(plain)) if plain else {}).items():
            if name in out:
                raise UsageError(f"`controls`: control {name} is given twice")
            out[name] = v
        return out
    try:
        return parse_controls(controls if isinstance(controls, str) else dict(controls))
    except UsageError as e:
        raise UsageError(f"`controls`: {e}") from None


def _attrs(attrs: Any) -> dict[str, float | str]:
    """``{attribute: amount}`` from a mapping or ``"glasses=on"``, each value read by
    :func:`faceedit.edits.attributes.attribute_value`: on/off (yes/no, true/false) or a number
    0..1; a registered attribute's word (``hair=blond``) or style (``glasses=round-black``),
    kept as the word, in lower case. An attribute no model can edit believably is refused by
    name (:data:`faceedit.conditions.UNSUPPORTED_ATTRIBUTES`)."""
    if not attrs:
        return {}
    if isinstance(attrs, str):
        attrs = parse_attr_text(attrs)
    return {key: attribute_value(key, value) for key, value in
            ((str(k).strip().lower(), v) for k, v in dict(attrs).items())}
