"""The interface every editing model offers to the pipeline, and the typed config every model
is built from.

One config convention: each model class takes one argument, its config, a frozen dataclass
subclassing :class:`ModelConfig` (``RegGANConfig``, ``EGGANConfig``, ``LEGANConfig``,
``LSSLConfig``, ``SeCGANConfig``, ``StageConfig``) or a plain dict turned into one by
``from_dict``, which refuses an unknown key by its name. The same thing has the same key in
every method: ``image_size`` (crop side), ``channels``, ``targets`` (the expression vocabulary;
LSSL and SeCGAN hold theirs among their label groups, ``attributes``), ``lighting``,
``base_channels`` / ``max_channels`` (first and largest width), ``n_down``, ``n_res``, ``norm``,
``residual``. ``model.config`` is the
config in header form (a JSON-able dict); the save path writes it into the checkpoint header
(``faceedit.models.checkpoint.save_model``), so a checkpoint always holds the config that
rebuilds its model.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import os
import threading
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal, TypeVar

import torch
from torch import nn

from faceedit.errors import CheckpointError, UsageError
from faceedit.models.checkpoint import save_model

C = TypeVar("C", bound="ModelConfig")

#: Held while a part of a model is built on first use (:meth:`EditModel.defer_part`).
_BUILDING = threading.RLock()


class ConfigError(UsageError, ValueError):
    """A model config that cannot be used: an unknown key (named), a value of the wrong type or
    out of range. A UsageError (the command line reports it as one, exit code 2) and a
    ValueError (what a builder raises for a bad config)."""


@dataclasses.dataclass(frozen=True)
class Range:
    """The values a numeric config key takes: ``ge``/``gt`` (at least / above) and ``le``/``lt``
    (at most / below). A list value is checked element by element; ``None`` (a default derived
    when the config is built) always passes."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def problem(self, value: Any) -> str | None:
        """None if ``value`` is in the range, else what it must be ("must be > 0")."""
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            if ((self.ge is not None and not v >= self.ge) or (self.gt is not None and not v > self.gt)
                    or (self.le is not None and not v <= self.le) or (self.lt is not None and not v < self.lt)
                    or v != v):  # NaN
                return f"must be {'each ' if isinstance(value, (list, tuple)) else ''}{self}"
        return None

    def __str__(self) -> str:
        parts = [f"{op} {bound:g}" for op, bound in ((">=", self.ge), (">", self.gt), ("<=", self.le),
                                                    ("<", self.lt)) if bound is not None]
        return " and ".join(parts)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Base of the typed model configs. Subclasses set ``arch`` (the registry architecture) and
    ``method`` (for messages), declare their keys as fields with defaults, and check values in
    ``validate``. Build one with ``from_dict`` (unknown keys refused);
    ``to_dict`` is the header form."""

    arch: ClassVar[str] = ""
    method: ClassVar[str] = ""
    # The ranges of numeric keys (see Range): these, shared by every method's config that has the
    # key, and each subclass's own ``ranges`` (checked by from_dict and by check_values).
    ranges: ClassVar[dict[str, Range]] = {
        "image_size": Range(ge=8), "channels": Range(ge=1), "base_channels": Range(ge=1),
        "max_channels": Range(ge=1), "n_down": Range(ge=1), "n_res": Range(ge=0),
    }

    @classmethod
    def keys(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def key_ranges(cls) -> dict[str, Range]:
        """The declared ranges of this config's keys (the base's and every subclass's)."""
        merged: dict[str, Range] = {}
        for klass in reversed(cls.__mro__):
            merged.update(vars(klass).get("ranges", {}))
        return {k: r for k, r in merged.items() if k in cls.keys()}

    @classmethod
    def check_values(cls, values: Mapping[str, Any]) -> None:
        """Check the type and range of each of ``values`` that is a key of this config, alone
        (without building the config, so keys filled from the data may be missing): ConfigError
        names the first bad one. What involves several keys is ``validate``'s."""
        hints = typing.get_type_hints(cls)
        ranges = cls.key_ranges()
        for key, value in values.items():
            if key not in hints or key in ("arch", "method", "ranges"):
                continue
            if not _fits(value, hints[key]):
                raise ConfigError(f"{cls.method} config {key}={value!r}: expected {_describe(hints[key])}")
            problem = ranges[key].problem(value) if key in ranges else None
            if problem:
                raise ConfigError(f"{cls.method} config {key}={value!r}: {problem}")

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every key's declared default (``None`` where the built config derives one)."""
        return {f.name: f.default_factory() if f.default_factory is not dataclasses.MISSING
                else f.default for f in dataclasses.fields(cls)}

    @classmethod
    def from_dict(cls: type[C], config: Mapping[str, Any] | ModelConfig | None = None,
                  **overrides: Any) -> C:
        """The config of ``config`` (a mapping, or a config of this class) with ``overrides``
        applied; keys not given take their defaults. ConfigError names an unknown key."""
        if isinstance(config, cls) and not overrides:
            return config
        if isinstance(config, ModelConfig):
            if not isinstance(config, cls):
                raise ConfigError(f"a {type(config).__name__} is not a {cls.__name__}")
            config = config.to_dict()
        given = {**(config or {}), **overrides}
        valid = cls.keys()
        for key in given:
            if key not in valid:
                close = difflib.get_close_matches(str(key), valid, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(f"unknown {cls.method} config key {key!r}{hint}; "
                                  f"valid keys: {', '.join(valid)}")
        return cls(**given)

    def __post_init__(self) -> None:
        self.check_values({f.name: getattr(self, f.name) for f in dataclasses.fields(self)})
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):  # JSON has lists; keep one form
                object.__setattr__(self, f.name, list(value))
        self.validate()

    def validate(self) -> None:
        """Check values beyond their types (ConfigError); subclasses override."""

    def _set(self, name: str, value: Any) -> None:
        """Fill a derived default in ``validate`` (the dataclass is frozen)."""
        object.__setattr__(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        """The header form: a JSON-able dict of every key, in field order."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def replace(self: C, **changes: Any) -> C:
        """A copy with ``changes`` (validated like ``from_dict``)."""
        return self.from_dict(self.to_dict(), **changes)


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _fits(value: Any, hint: Any) -> bool:
    """Whether ``value`` (as JSON gives it) fits the type ``hint``; ints are accepted for
    floats, lists for tuples; element types of lists and dicts are checked one level down."""
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, h) for h in typing.get_args(hint))
    if origin is Literal:
        return value in typing.get_args(hint)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin in (list, tuple):
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        return isinstance(value, (list, tuple)) and all(_fits(v, args[0]) for v in value) if args \
            else isinstance(value, (list, tuple))
    if origin is dict:
        kt, vt = typing.get_args(hint) or (Any, Any)
        return isinstance(value, Mapping) and all(_fits(k, kt) and _fits(v, vt) for k, v in value.items())
    return isinstance(value, hint) if isinstance(hint, type) else True


def _describe(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(h) for h in typing.get_args(hint))
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    if hint is type(None):
        return "null"
    if origin is not None:
        return f"a {origin.__name__} of " + ", ".join(_describe(a) for a in typing.get_args(hint)
                                                         if a is not Ellipsis)
    return getattr(hint, "__name__", str(hint))


class EditModel(nn.Module):
    """A generator that edits batches of aligned face crops.

    Crops are float tensors in [-1, 1], shape (B, C, S, S), where C is the model's channel count
    (3 = RGB; 1 = the model works on luminance and the pipeline adds its change to the photo's
    luma, keeping the photo's own chroma) and S the crop size of its template.

    ``strength`` in [0, 1] scales the edit. Models that have their own notion of it (for example an
    interpolation between source and target conditions) set ``handles_strength = True`` and apply
    it in ``edit``; for all others the pipeline scales the pixel change ``edit(x) - x`` itself and
    calls ``edit`` with strength 1.
    """

    handles_strength: bool = False
    # Names of the intermediate images ``edit_and_masks`` returns beside the edit (LEGAN's
    # expression and lighting masks); empty for models that have none.
    mask_names: tuple[str, ...] = ()
    # The typed config the model was built from (set by each model's ``__init__``).
    cfg: ModelConfig

    def save_pretrained(self, path: str | os.PathLike, meta: Mapping[str, Any], *,
                        dtype: torch.dtype | None = torch.float16) -> str:
        """Write this model as a checkpoint :func:`faceedit.models.loading.load_model` (and
        :func:`~faceedit.models.loading.load_as`) reads back: its weights, its
        own config and ``meta`` as the header (``arch``, ``conditions``, ``template`` and the
        inference settings ``color_match``, ``delta_smooth``, ``stage``...). Returns the file's
        sha256 (:func:`faceedit.models.checkpoint.save_model`)."""
        return save_model(path, self, meta, dtype=dtype)

    def defer_part(self, name: str, build: Callable[[], nn.Module]) -> None:
        """Make ``name`` a part that ``build`` makes the first time ``self.<name>`` is read (a
        network the model's default settings never run: RegGAN's refiner under its default phase
        ``expression``). Until then the part holds no module: ``state_dict`` gives the weights
        :meth:`hold_parts` kept for it (a fresh model builds it there), ``load_state_dict`` keeps
        its keys aside, and device and dtype moves apply to what is kept. When built it takes the
        model's device, dtype and mode and loads what was kept strictly."""
        if "_deferred" not in self.__dict__:
            self.__dict__["_deferred"] = {}
            self._register_state_dict_hook(_deferred_state)
            self._register_load_state_dict_pre_hook(_keep_deferred, with_module=True)
        self.__dict__["_deferred"][name] = (build, None)

    def hold_parts(self, tensors: Mapping[str, torch.Tensor]) -> None:
        """Keep the weights in ``tensors`` of each part not built yet (:meth:`defer_part`) for
        when it is; a part ``tensors`` has no key of is kept empty, so building it fails as a
        strict load of missing keys does."""
        deferred = self.__dict__.get("_deferred", {})
        for name, (build, _) in deferred.items():
            prefix = name + "."
            deferred[name] = (build, {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})

    def __getattr__(self, name: str) -> Any:
        deferred = self.__dict__.get("_deferred")
        if deferred and name in deferred:
            return self._build_part(name)
        return super().__getattr__(name)

    def _build_part(self, name: str) -> nn.Module:
        with _BUILDING:  # two threads editing with one model build it once
            deferred = self.__dict__["_deferred"]
            if name not in deferred:  # built while this thread waited
                return typing.cast(nn.Module, self._modules[name])
            build, kept = deferred[name]
            part = build()
            ref = next((t for t in itertools.chain(self.parameters(), self.buffers()) if t.is_floating_point()), None)
            if ref is not None:
                part.to(device=ref.device, dtype=ref.dtype)
            part.train(self.training)
            if kept is not None:
                try:
                    part.load_state_dict(kept, strict=True)
                except RuntimeError as e:
                    why = " ".join(line.strip() for line in str(e).splitlines()[1:])
                    raise CheckpointError(f"weights of {name} do not fit its architecture: {why[:300]}") from None
            setattr(self, name, part)
            del deferred[name]
            return part

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True) -> EditModel:
        super()._apply(fn, recurse)
        deferred = self.__dict__.get("_deferred", {})
        for name, (build, kept) in deferred.items():
            if kept is not None:
                deferred[name] = (build, {k: fn(v) for k, v in kept.items()})
        return self

    @property
    def config(self) -> dict[str, Any]:
        """The model's config in header form: what ``save_model`` writes as ``faceedit.config``
        and what rebuilds this model (``ARCHS[arch](config)``)."""
        return self.cfg.to_dict()

    def targets(self) -> list[str]:
        raise NotImplementedError

    def check_target(self, target: str) -> str:
        valid = self.targets()
        if target not in valid:
            raise UsageError(f"unknown target {target!r}; valid targets: {', '.join(valid)}")
        return target

    def eval_conditions(self) -> list[dict]:
        """What ``faceedit eval`` tries: one dict per edit, ``{"target", "options", "expect"}``,
        where ``expect`` names what the output should show (``expression``, ``lighting``,
        ``aus``...). By default every target, expected as an expression of that name."""
        return [{"target": t, "options": {}, "expect": {"expression": t}} for t in self.targets()]

    @torch.no_grad()
    def edit(self, x: torch.Tensor, target: str, strength: float = 1.0, **options) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def edit_and_masks(self, x: torch.Tensor, target: str, strength: float = 1.0,
                       **options) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``edit`` plus the model's intermediate masks, ``{name: (B, C, S, S) in [-1, 1]}`` with the
        names of ``mask_names``. Models without masks refuse."""
        raise UsageError(f"{type(self).__name__} has no intermediate masks to save")


def _deferred_state(model: EditModel, state: dict[str, Any], prefix: str, local_metadata: Any) -> None:
    """``state_dict`` hook: the kept weights of the parts not built yet (a fresh model's are built)."""
    for name in list(model.__dict__["_deferred"]):
        kept = model.__dict__["_deferred"][name][1]
        if kept is None:
            kept = model._build_part(name).state_dict()
        state.update({f"{prefix}{name}.{k}": v for k, v in kept.items()})


def _keep_deferred(model: EditModel, state: dict[str, Any], prefix: str, local_metadata: Any,
                   strict: bool, missing_keys: list[str], *args: Any) -> None:
    """``load_state_dict`` pre-hook: keep the weights of the parts not built yet aside (a strict
    load without any of a part's keys reports them missing)."""
    deferred = model.__dict__["_deferred"]
    for name, (build, _) in deferred.items():
        start = f"{prefix}{name}."
        keys = [k for k in state if k.startswith(start)]
        if keys:
            deferred[name] = (build, {k[len(start):]: state.pop(k) for k in keys})
        elif strict:
            missing_keys.append(start + "*")
