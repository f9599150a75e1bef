"""What each model takes of an edit request, known before any weights load.

The fields of an edit are declared once, in :mod:`faceedit.models.request` (type, range,
choices, default, help). A method module declares which of them its network (or the stage)
takes, and its own settings, with ``declare_arch(name, options=(ModelOption(...), ...))``;
their values (lighting classes, AUs, attributes...) are read from the checkpoint headers, never
written in code. :func:`model_options` puts a model's declaration and its header together (and
its stage's) into a :class:`ModelOptions`, whose ``check`` is the one rule for an
:class:`~faceedit.models.request.EditRequest` (``--target`` / ``--lighting`` / ``--light`` /
``--au`` / ``--attr`` / ``--control`` / ``--like`` / ``--phase`` / ``--set``), before loading
and after.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from faceedit.conditions import GLASSES_OFF_REFUSED
from faceedit.edits.attributes import attribute_values
from faceedit.errors import CheckpointError, UsageError
from faceedit.models import registry
from faceedit.models.header import CheckpointMeta, read_meta
from faceedit.models.model_option import ModelOption
from faceedit.models.registry import (
    ModelSpec,
    get_spec,
    import_method_modules,
    looks_like_path,
    spec_from_meta,
)
from faceedit.models.request import FIELD, FIELDS, EditRequest, attr_word, control_ranges

#: Options the pipeline passes to a network itself, never a user.
INTERNAL_OPTIONS = frozenset({"x", "target", "strength", "landmarks", "return_masks", "with_masks"})
#: The condition options, checked against vocabularies (the others are ``--set`` keys).
CONDITION_OPTIONS = ("lighting", "aus", "attrs")
#: The request's fields that the command line gives by their own flags (not ``--set`` keys).
FIELD_KEYS = frozenset(FIELD)


@dataclass
class StageOptions:
    """What the stage under a model provides: its lighting classes, AUs, attributes, targets,
    the request's fields it takes and its named controls."""

    lighting: list[str]
    aus: list[int]
    attributes: list[str]
    targets: list[str]
    keys: set[str]
    controls: list[str] = field(default_factory=list)


@dataclass
class ModelOptions:
    """What a model takes on the command line: its network's targets and option keys (None: not
    known before loading), the network's own lighting classes / AUs / attributes (for the keys
    it takes), the stage under it (None: none), the values of ``--phase``. ``check`` is the one
    rule for ``--target`` / ``--lighting`` / ``--au`` / ``--attr`` / ``--set`` / ``--phase``,
    before loading (:func:`model_options`) and after (:meth:`faceedit.flow.Flow.accepts`)."""

    name: str
    targets: list[str]
    network: set[str] | None
    lighting: list[str] = field(default_factory=list)
    aus: list = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)
    stage: StageOptions | None = None
    has_network: bool = True
    without_stage: bool = False  # the model sits on a stage that was left out
    phases: list[str] = field(default_factory=list)  # --phase values ([]: not declared)
    extra_targets: list[str] = field(default_factory=list)
    help: dict[str, str] = field(default_factory=dict)

    # -- what the model takes, network and stage together ---------------------------------
    def _union(self, own: list, stage_values: list, key: str) -> list:
        network = self.network or set()
        return list(dict.fromkeys([*stage_values, *(own if key in network else [])]))

    @property
    def all_lighting(self) -> list:
        return self._union(self.lighting, self.stage.lighting if self.stage else [], "lighting")

    @property
    def all_aus(self) -> list:
        return self._union(self.aus, self.stage.aus if self.stage else [], "aus")

    @property
    def all_attributes(self) -> list:
        return self._union(self.attributes, self.stage.attributes if self.stage else [], "attrs")

    @property
    def taken(self) -> set[str]:
        """Every option key the network or the stage takes."""
        return (self.network or set()) | (self.stage.keys if self.stage else set())

    @property
    def settable(self) -> list[str]:
        """The ``--set`` keys (not the request's fields, which have flags of their own:
        --lighting, --au, --attr, --phase, --control, --like, --light, --light-strength)."""
        return sorted(self.taken - FIELD_KEYS)

    def all_targets(self) -> list[str]:
        """The network's targets, then those only the stage applies."""
        own = list(self.targets) + [t for t in self.extra_targets if t not in self.targets]
        stage = [t for t in self.stage.targets if t not in own] if self.stage and self.has_network else []
        return own + stage

    def network_targets(self, stage_only: list[str] | tuple[str, ...] = ()) -> list[str]:
        """The targets the network is run for (:meth:`faceedit.flow.Flow.uses_network`): its
        own, less those its header leaves to the stage under it (``stage_only``); none for a
        model without a network. The rest of :meth:`all_targets` the stage draws alone."""
        if not self.has_network:
            return []
        own = list(self.targets) + [t for t in self.extra_targets if t not in self.targets]
        return [t for t in own if self.stage is None or t not in stage_only]

    # -- the rule ----------------------------------------------------------------------------
    def check_targets(self, targets: list[str]) -> None:
        """UsageError for a target neither the network nor the stage under it takes."""
        valid = set(self.all_targets())
        for t in targets:
            if t not in valid:
                raise UsageError(f"unknown target {t!r}; valid targets: {', '.join(self.all_targets())}")

    def check(self, request: EditRequest) -> None:
        """UsageError, in the words of the command line, for a field of ``request`` that neither
        the model's network nor its stage takes, a lighting class, AU, attribute or phase it does
        not know, or a setting it has not. The target is :meth:`check_targets`'."""
        name = self.name
        without = " without its stage" if self.stage is None and self.without_stage else ""
        if request.lighting is not None:
            light = request.lighting
            valid = self.all_lighting
            if not valid:
                raise UsageError(f"`lighting` {light}: model {name} does not relight{without}")
            if light not in valid + ["keep"]:
                raise UsageError(f"`lighting` {light}: not a lighting class of model {name}; "
                                 f"valid: {', '.join(valid + ['keep'])}")
        if request.aus:
            valid_aus = self.all_aus
            if not valid_aus:
                raise UsageError(f"`aus`: model {name} does not take AU intensities{without}")
            unknown = [a for a in request.aus if a not in valid_aus]
            if unknown:
                raise UsageError(f"`aus`: model {name} cannot move AU{unknown[0]}; it moves AUs "
                                 f"{', '.join(map(str, valid_aus))}")
        if request.attrs:
            valid_attrs = self.all_attributes
            if not valid_attrs:
                raise UsageError(f"`attrs`: model {name} has no attributes to edit")
            for key in request.attrs:
                if key not in valid_attrs:
                    raise UsageError(f"`attrs` {key}: not an attribute of model {name}; valid: "
                                     f"{', '.join(valid_attrs)}")
            glasses = request.attrs.get("glasses")
            if isinstance(glasses, float) and glasses < 0.5 and "glasses" not in self.attributes \
                    and self.stage is not None:  # the stage would take them off: it refuses
                raise UsageError(f"`attrs` glasses={attr_word(glasses)}: {GLASSES_OFF_REFUSED}")
        taken = self.taken
        for key in request.given():
            if key in CONDITION_OPTIONS or key == "settings":
                continue
            if key == "phase":
                if "phase" not in taken:
                    raise UsageError(f"`phase` {request.phase}: model {name} has no phases to choose from")
                if self.phases and request.phase not in self.phases:
                    raise UsageError(f"`phase` {request.phase}: not a phase of model {name}; valid: "
                                     f"{', '.join(self.phases)}")
            elif key not in taken:
                raise UsageError(f"`{key}`: model {name} does not take `{key}`{without}")
        for key, value in request.settings.items():
            if key not in taken:
                settable = self.settable
                raise UsageError(f"`settings` {key}={value}: model {name} has no option {key!r}; "
                                 + (f"its options: {', '.join(settable)}" if settable else "it takes none"))

    def summary(self) -> dict[str, Any]:
        """JSON-able: what ``faceedit models`` lists."""
        ranges = control_ranges()
        return {
            "lighting": self.all_lighting,
            "aus": self.all_aus,
            "attributes": self.all_attributes,
            "set": self.settable,
            "phase": list(self.phases) if "phase" in self.taken else [],
            # each named control with its range (its record's)
            "controls": {c: list(ranges[c]) for c in self.controls if c in ranges},
            "light": "light" in self.taken,  # --light AZ,EL and --light-strength
            "like": "like" in self.taken,
            "help": dict(self.help),
            "fields": self.fields(),
        }

    def fields(self) -> list[dict[str, Any]]:
        """The request's fields this model takes, each as the declaration gives it
        (:meth:`faceedit.models.request.Field.to_json`) with its values made this model's: the
        targets, lighting classes, AUs, attributes, controls, phases and settings it lists, and
        the strength's upper end (exaggeration on a stage, else 1). What a form for the model
        (a web UI) is built from."""
        taken = self.taken
        choices: dict[str, list] = {
            "target": self.all_targets(), "lighting": [*self.all_lighting, "keep"] if self.all_lighting else [],
            "aus": self.all_aus, "attrs": self.all_attributes, "controls": self.controls,
            "phase": list(self.phases), "settings": self.settable,
        }
        out = []
        for f in FIELDS:
            if f.name in ("lighting", "aus", "attrs", "controls", "phase", "settings"):
                if not choices[f.name]:
                    continue
            elif f.name in ("light", "light_strength", "like") and f.name not in taken:
                continue
            row = f.to_json()
            if f.name in choices:
                row["choices"] = choices[f.name]
            if f.name == "controls":  # each control's own range (the page's sliders)
                ranges = control_ranges()
                row["ranges"] = {c: list(ranges[c]) for c in choices["controls"] if c in ranges}
            if f.name == "attrs":  # each attribute's words (glasses off only where a network takes it)
                row["values"] = {a: attribute_values(a, off=a in self.attributes and self.has_network)
                                 for a in choices["attrs"]}
            if f.name == "strength" and self.stage is None:
                row["range"] = [f.range[0], 1.0] if f.range else None
            out.append(row)
        return out

    @property
    def controls(self) -> list[str]:
        """The named controls the stage under the model takes ([] without one)."""
        return list(self.stage.controls) if self.stage and "controls" in self.stage.keys else []

    def describe(self) -> str:
        """One line: ``relights: front, left; AUs: 6, 12; attributes: glasses; ...``."""
        return describe_options(self.summary())


def describe_options(summary: dict[str, Any] | None) -> str:
    """A :meth:`ModelOptions.summary` in one line (``faceedit models``); ``?`` for None (not
    known before the weights are fetched)."""
    if summary is None:
        return "?"
    parts = [f"{label}: {', '.join(map(str, summary[key]))}" for key, label in (
        ("lighting", "relights"), ("aus", "AUs"), ("attributes", "attributes"),
        ("phase", "--phase"), ("set", "--set")) if summary.get(key)]
    controls = summary.get("controls") or {}
    if controls:
        ranges = {f"{lo:g}..{hi:g}": [c for c, r in controls.items() if r == [lo, hi]] for lo, hi in controls.values()}
        parts.append(f"--control: {'; '.join(', '.join(cs) + f' ({r})' for r, cs in ranges.items())}")
    also = [flag for flag, key in (("--light", "light"), ("--like", "like")) if summary.get(key)]
    if also:
        parts.append(f"also: {', '.join(also)}")
    return "; ".join(parts) or "none"


def _declared_network_options(arch: str, meta: CheckpointMeta) -> tuple[set[str] | None, dict]:
    """(the option keys the network of ``arch`` takes, {key: ModelOption}) from its declaration,
    else from the ``edit`` signature of an ``EditModel`` class registered as the builder; (None,
    {}) when neither tells."""
    if arch not in registry.ARCH_OPTIONS and arch not in registry.ARCHS:
        import_method_modules()
    declared = registry.ARCH_OPTIONS.get(arch)
    if declared is not None:
        options = {o.key: o for o in declared}
        keys = set(options)
        if "attrs" in options:  # an attribute may also be given as its own option (SeCGAN: glasses=)
            keys |= set(options["attrs"].vocabulary_of(meta))
        return keys - INTERNAL_OPTIONS, options
    builder = registry.ARCHS.get(arch)
    edit = getattr(builder, "edit", None)
    if isinstance(builder, type) and callable(edit):  # an EditModel class
        import inspect

        params = inspect.signature(edit).parameters.values()
        keys = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        keys -= {"self"}
        attributes = getattr(builder, "attributes", [])
        options = {}
        if isinstance(attributes, (list, tuple)):  # a class attribute, not a property
            keys |= set(attributes)
            options["attrs"] = ModelOption("attrs", "", values=tuple(attributes))
        for key in ("lighting", "aus"):  # an undeclared network's vocabularies: its header's
            options.setdefault(key, ModelOption(key, "", vocabulary=f"conditions:{key}"))
        return keys - INTERNAL_OPTIONS, options
    return None, {}


def _stage_options(meta: CheckpointMeta) -> StageOptions | None:
    """What a stage checkpoint provides, from its header and the stage's declaration."""
    declared = registry.ARCH_OPTIONS.get(meta.arch)
    if declared is None:
        return None
    by_key = {o.key: o for o in declared}

    def values(key: str) -> list:
        return by_key[key].vocabulary_of(meta) if key in by_key else []

    return StageOptions(lighting=values("lighting"), aus=values("aus"), attributes=values("attrs"),
                        targets=list(meta.targets), keys=set(by_key), controls=values("controls"))


def _options_from_meta(spec: ModelSpec, meta: CheckpointMeta, stage_meta: CheckpointMeta | None,
                       ) -> ModelOptions | None:
    keys, declared = _declared_network_options(meta.arch, meta)
    if keys is None:
        return None
    help_ = {k: o.describe() for k, o in declared.items() if o.describe() and k in keys}
    is_stage = meta.arch == "stage"
    stage = None
    if is_stage:
        stage = _stage_options(meta)
    elif stage_meta is not None:
        stage = _stage_options(stage_meta)
        if stage is None:
            return None
        help_ = {**{o.key: o.describe() for o in registry.ARCH_OPTIONS.get(stage_meta.arch, ())}, **help_}

    def values(key: str) -> list:
        return declared[key].vocabulary_of(meta) if key in declared and key in keys else []

    return ModelOptions(
        name=spec.name, targets=list(meta.targets),
        network=set() if is_stage else keys,
        lighting=values("lighting"), aus=values("aus"), attributes=values("attrs"),
        stage=stage, has_network=not is_stage, without_stage=False,
        phases=[str(v) for v in values("phase")],
        extra_targets=list(registry.ARCH_EXTRA_TARGETS.get(meta.arch, ())),
        help=help_,
    )


def model_options(name_or_path: str | os.PathLike) -> ModelOptions | None:
    """What a registered model (or a ``.safetensors`` checkpoint given by path) takes on the
    command line, with no weights loaded: its declaration (``register_arch(options=...)``) and
    the vocabularies of its checkpoint's header and its stage's (header reads alone). None when
    that cannot be told before loading (an undeclared architecture built by a function, weights
    not on this machine, a header that does not read: loading reports that). UsageError for an
    unknown model name."""
    name_or_path = os.fspath(name_or_path)
    if looks_like_path(name_or_path):
        try:
            meta = read_meta(name_or_path)
        except (CheckpointError, OSError):
            return None
        spec = spec_from_meta(meta, name_or_path)
    else:
        spec = get_spec(name_or_path)
        path = spec.source.local_path()
        if path is None:
            return None
        try:
            meta = read_meta(path)
        except (CheckpointError, OSError):
            return None
        spec = spec.with_header(meta)
    stage_meta = None
    if spec.stage and meta.arch != "stage":
        try:
            stage_path = get_spec(spec.stage).source.local_path()
            if stage_path is None:
                return None
            stage_meta = read_meta(stage_path)
        except (CheckpointError, UsageError, OSError):
            return None
    return _options_from_meta(spec, meta, stage_meta)
