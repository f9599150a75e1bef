"""Model registry: names -> architecture builders, and names -> models and their weights.

Two tables:

* ``ARCHS`` maps an architecture name (``faceedit.arch`` in a checkpoint) to a builder
  ``config -> EditModel``, registered with ``@register_arch("name", options=...)`` (the options
  it takes on the command line, :mod:`faceedit.models.options`), or declared by the module and
  function that build it with ``declare_arch("name", "module:function", options=...)``: a
  :class:`LazyBuilder`, which imports that module (and torch) on its first call.
* ``REGISTRY`` maps a model name (what users type: ``--model reggan``) to a :class:`ModelSpec`:
  method, architecture and where its weights are (:class:`~faceedit.models.hub.WeightSource`).
  A shipped model is registered with ``weights=None``: its file, sha256 and texts are its entry
  in ``weights/manifest.json`` (:mod:`faceedit.weights`).

Everything else a model needs at inference (targets and vocabularies, crop template, channels,
paste settings ``color_match`` / ``delta_smooth``, the ``stage`` it sits on and the targets left
to that stage alone, ``stage_only``) is read from its
checkpoint's header, the one place it lives (:meth:`ModelSpec.with_header`), so a model loaded by
name and the same file loaded by path behave alike, and retraining a model edits no code.

The modules that register (``METHOD_MODULES``: the shipped methods' declarations,
:mod:`faceedit.models.catalogue`) do so when imported; the registry imports the ones that exist
on first use, so ``import faceedit`` stays cheap; looking up one method's model by its name imports
that method's module alone. They import no torch: a method's network module is imported when a
model of it is built, so listing the models and checking a command line against them answer
without it. Loading is :mod:`faceedit.models.loading`.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from faceedit.errors import CheckpointError, UsageError
from faceedit.faces.types import CropTemplate
from faceedit.models.header import PICKLE_SUFFIXES, CheckpointMeta, read_meta
from faceedit.models.hub import WeightSource
from faceedit.weights import manifest_entry

if TYPE_CHECKING:
    from faceedit.models.base import EditModel
    from faceedit.models.model_option import ModelOption

# The modules that register the shipped methods, one per method, named after it (torch-free).
METHOD_MODULES = [
    "faceedit.models.catalogue.stage",
    "faceedit.models.catalogue.reggan",
    "faceedit.models.catalogue.eggan",
    "faceedit.models.catalogue.legan",
    "faceedit.models.catalogue.lssl",
    "faceedit.models.catalogue.secgan",
]

ArchBuilder = Callable[[dict], "EditModel"]
ARCHS: dict[str, ArchBuilder] = {}
ARCH_OPTIONS: dict[str, tuple[ModelOption, ...]] = {}
ARCH_EXTRA_TARGETS: dict[str, tuple[str, ...]] = {}


def register_arch(
    name: str, *, options: tuple[ModelOption, ...] | None = None, extra_targets: tuple[str, ...] = ()
) -> Callable[[ArchBuilder], ArchBuilder]:
    """Decorator registering ``builder(config) -> EditModel`` as architecture ``name``.

    ``options``: the options its network (or, for the stage, the stage) takes, each a
    :class:`~faceedit.models.options.ModelOption` (what the command line checks before loading
    any weights). None: not declared (a plugin's or a test's architecture): taken from the
    builder's ``edit`` signature when the builder is an ``EditModel`` class, else known only once
    the model is loaded. ``extra_targets``: targets the network takes beside its checkpoint's
    (EGGAN's free-form ``au``)."""

    def decorate(builder: ArchBuilder) -> ArchBuilder:
        if name in ARCHS:
            raise ValueError(f"architecture {name!r} is already registered")
        ARCHS[name] = builder
        if options is not None:
            ARCH_OPTIONS[name] = tuple(options)
        if extra_targets:
            ARCH_EXTRA_TARGETS[name] = tuple(extra_targets)
        return builder

    return decorate


@dataclass(frozen=True)
class LazyBuilder:
    """The builder of an architecture named by where it lives, ``"module:function"``: calling it
    imports the module (a network's, with torch) and calls the function. What ``declare_arch``
    registers, so that declaring an architecture imports nothing heavy."""

    target: str

    def __post_init__(self) -> None:
        module, _, attr = self.target.partition(":")
        if not module or not attr:
            raise ValueError(f"builder {self.target!r}: expected 'module:function'")

    def resolve(self) -> ArchBuilder:
        """The builder itself (its module imported)."""
        module, _, attr = self.target.partition(":")
        builder: ArchBuilder = getattr(importlib.import_module(module), attr)
        return builder

    def __call__(self, config: dict) -> EditModel:
        return self.resolve()(config)


def declare_arch(
    name: str, builder: str, *, options: tuple[ModelOption, ...] | None = None,
    extra_targets: tuple[str, ...] = (),
) -> LazyBuilder:
    """Register architecture ``name`` built by ``builder`` (``"module:function"``, imported when
    a model of it is built: :class:`LazyBuilder`); ``options`` and ``extra_targets`` as for
    :func:`register_arch`."""
    lazy = LazyBuilder(builder)
    register_arch(name, options=options, extra_targets=extra_targets)(lazy)
    return lazy


@dataclass(kw_only=True)
class ModelSpec:
    """A named model: what it is, how to build it, where its weights are.

    ``weights=None``: a shipped model; its file + sha256 and, where left empty here,
    ``description``, ``license``, ``paper`` and ``card`` are its manifest entry. The fields after
    ``card`` are the checkpoint header's (:meth:`with_header`), never given in code: ``None``
    until the header was read (a Hub file not fetched yet).
    """

    name: str
    method: str
    arch: str
    weights: WeightSource | None = None
    default_config: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    license: str = ""
    paper: str = ""
    card: str = ""  # the model card, a file beside the weights
    # -- from the checkpoint header --------------------------------------------------------
    targets: list[str] | None = field(default=None, init=False)
    conditions: dict[str, Any] | None = field(default=None, init=False)
    template: CropTemplate | None = field(default=None, init=False)
    channels: int | None = field(default=None, init=False)
    color_match: bool = field(default=True, init=False)  # paste-back matches colours
    delta_smooth: float = field(default=0.0, init=False)  # Gaussian sigma (crop px) on the change
    # Registry name of the stage (faceedit.stage.model) applied to the photo before this
    # model's network sees the face; None = the network edits the unedited face.
    stage: str | None = field(default=None, init=False)
    # Targets of the network it is not run for on its stage: the stage's edit is the result
    # (where the network's change was seen to spoil it; the card says why).
    stage_only: list[str] = field(default_factory=list, init=False)

    @property
    def image_size(self) -> int | None:
        return self.template.size if self.template is not None else None

    @property
    def source(self) -> WeightSource:
        """Where the weights are: ``weights``, or a shipped model's manifest entry."""
        if self.weights is not None:
            return self.weights
        entry = manifest_entry(self.name)
        return WeightSource.shipped(entry["file"], sha256=entry["sha256"])

    def with_header(self, meta: CheckpointMeta) -> ModelSpec:
        """A copy with the fields a checkpoint header holds filled from ``meta``: the one
        reading of a model's inference settings (by name and by path alike)."""
        spec = dataclasses.replace(self)
        spec.targets = meta.targets
        spec.conditions = meta.vocabularies
        spec.template = meta.template or CropTemplate(size=meta.image_size or CropTemplate.size)
        spec.channels = meta.channels
        spec.color_match = bool(meta.extra.get("color_match", True))
        spec.delta_smooth = float(meta.extra.get("delta_smooth", 0.0))
        spec.stage = meta.extra.get("stage") or None
        spec.stage_only = [str(t) for t in meta.extra.get("stage_only") or []]
        return spec


REGISTRY: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add a named model; a name can be registered once."""
    if spec.name in REGISTRY:
        raise ValueError(f"model {spec.name!r} is already registered")
    REGISTRY[spec.name] = spec
    return spec


_IMPORTED: set[str] = set()


def plugin_modules() -> list[str]:
    """Extra modules named in ``FACEEDIT_PLUGINS`` (comma-separated) that register their own
    architectures and models, e.g. a user's fine-tuned variant of a method."""
    return [m.strip() for m in os.environ.get("FACEEDIT_PLUGINS", "").split(",") if m.strip()]


def import_method_modules() -> None:
    """Import the method modules that exist, and the plugins (once each). One that exists but
    fails to import raises: a broken method must not silently disappear from the registry."""
    for name in METHOD_MODULES:
        if name in _IMPORTED:
            continue
        if name not in sys.modules and importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
        _IMPORTED.add(name)
    for name in plugin_modules():
        if name not in _IMPORTED:
            try:
                importlib.import_module(name)
            except ImportError as e:
                raise UsageError(f"FACEEDIT_PLUGINS: cannot import {name!r}: {e}") from e
            _IMPORTED.add(name)


def import_model_module(name: str) -> None:
    """Import the method module named after model ``name`` (``<package>.<name>`` of
    ``METHOD_MODULES``) when there is one, and no other: loading one model need not import every
    method."""
    for module in METHOD_MODULES:
        if module.rpartition(".")[2] == name and module not in _IMPORTED:
            if module not in sys.modules and importlib.util.find_spec(module) is not None:
                importlib.import_module(module)
            _IMPORTED.add(module)


def model_names() -> list[str]:
    """Registered model names, in registration order."""
    import_method_modules()
    return list(REGISTRY)


def registered(name: str) -> ModelSpec:
    """The spec of a registered model as registered (nothing read); UsageError naming the
    available ones for an unknown name."""
    if name not in REGISTRY:
        import_model_module(name)
    if name not in REGISTRY:
        import_method_modules()
    if name in REGISTRY:
        return REGISTRY[name]
    if not REGISTRY:
        raise UsageError(f"unknown model {name!r}: no models are registered yet; "
                         "pass the path to a .safetensors checkpoint instead")
    close = difflib.get_close_matches(name, list(REGISTRY), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise UsageError(f"unknown model {name!r}; {hint}available: {', '.join(REGISTRY)}")


def get_spec(name: str) -> ModelSpec:
    """The spec of a registered model: its weights and texts from the manifest where the module
    left them out, the header's fields read when the file is on this machine (a header read, no
    tensors). UsageError for an unknown name."""
    spec = registered(name)
    if spec.weights is None:
        entry = manifest_entry(name)
        texts: dict[str, Any] = {k: entry.get(k, "") for k in ("description", "license", "paper", "card")
                                 if not getattr(spec, k)}
        spec = dataclasses.replace(spec, **texts)
    path = spec.source.local_path()
    if path is not None:
        try:
            return spec.with_header(read_meta(path))
        except CheckpointError:
            pass  # a corrupt file is reported when it is loaded
    return dataclasses.replace(spec)


def looks_like_path(name_or_path: str) -> bool:
    """Whether ``name_or_path`` names a checkpoint file rather than a registered model. Imports
    what telling needs: the model's own method module, and all of them (and the plugins) for a
    file or a name not found there."""
    import_model_module(name_or_path)
    if name_or_path not in REGISTRY and os.path.exists(name_or_path):
        import_method_modules()  # a plugin's model name, or a file: the full registry decides
    suffix = os.path.splitext(name_or_path)[1].lower()
    is_path = ("/" in name_or_path or os.sep in name_or_path or suffix == ".safetensors"
               or suffix in PICKLE_SUFFIXES
               or (name_or_path not in REGISTRY and os.path.exists(name_or_path)))
    if is_path:
        import_method_modules()
    return is_path


def spec_from_meta(meta: CheckpointMeta, path: str | os.PathLike) -> ModelSpec:
    """The spec of a checkpoint given by path, from its header (extras used: ``method``,
    ``description``, ``paper``)."""
    p = os.fspath(path)
    stem, file = os.path.splitext(os.path.basename(p))[0], os.path.basename(p)
    return ModelSpec(
        name=stem,
        method=str(meta.extra.get("method", meta.arch)),
        arch=meta.arch,
        description=str(meta.extra.get("description", f"checkpoint {file}")),
        weights=WeightSource.local(p),
        license=meta.license,
        paper=str(meta.extra.get("paper", "")),
    ).with_header(meta)


def spec_from_path(path: str | os.PathLike) -> ModelSpec:
    """The spec of a checkpoint given by path, from its header alone (no tensors read)."""
    return spec_from_meta(read_meta(path), path)
