"""Model registry: architecture builders, named models and where their weights live.

Two tables and a file:

* ``ARCHS`` maps an architecture name (``faceedit.arch`` in a checkpoint) to a builder
  ``config -> EditModel``; method modules fill it with ``@register_arch("name")``.
* ``REGISTRY`` maps a model name (what users type: ``--model reggan``) to a ``ModelSpec``: method,
  architecture, crop template, how the pipeline pastes its edit back, and a ``WeightSource`` (a
  file shipped in ``weights/``, a local path, or a Hugging Face Hub file pinned to a commit +
  sha256).
* ``weights/manifest.json`` (``MANIFEST_FILE``) lists the shipped weight files, data rather than
  code: per model name its ``file``, ``sha256``, model ``card``, ``paper``, ``license`` and
  ``description``. A method module registers its shipped model with ``weights=None``; the
  registry fills the weights (and the texts) from the manifest, read once, when the model is first
  looked up, and verifies the file against the manifest's sha256 on every load.

Vocabularies (targets, lighting classes, AUs, attributes) are not written in code: a spec
registered without ``targets`` / ``conditions`` takes them from its checkpoint's header (a read
of the header alone, no tensors) when first looked up, or when loaded. So retraining a shipped
model edits no code: put the new file in ``weights/`` and pin it with
``python -m faceedit.models.registry --update-manifest weights/NAME.safetensors``
(:func:`update_manifest`).

Method modules (``METHOD_MODULES``) register themselves when imported; the registry imports the
ones that exist on first use, so ``import faceedit`` stays cheap and a method whose module is not
written yet is simply absent; loading or looking up one method's model by its name imports that
method's module alone (the others only when the name or architecture is not found there).
``load_model`` accepts a registered name or a ``.safetensors`` path and returns the model in eval
mode with its spec and checkpoint metadata.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import torch

import faceedit
from faceedit.conditions import parse_switch
from faceedit.errors import CheckpointError, UsageError
from faceedit.files import write_file_atomically
from faceedit.faces.types import CropTemplate
from faceedit.models.base import EditModel
from faceedit.models.checkpoint import (
    PICKLE_SUFFIXES,
    CheckpointMeta,
    load_checkpoint,
    read_meta,
)

METHOD_MODULES = [
    "faceedit.models.stage",
    "faceedit.models.reggan",
    "faceedit.models.eggan",
    "faceedit.models.legan",
    "faceedit.models.lssl",
    "faceedit.models.secgan",
]

ArchBuilder = Callable[[dict], EditModel]
ARCHS: dict[str, ArchBuilder] = {}

_HEX = frozenset("0123456789abcdef")


def register_arch(
    name: str, *, options: tuple[ModelOption, ...] | None = None, extra_targets: tuple[str, ...] = ()
) -> Callable[[ArchBuilder], ArchBuilder]:
    """Decorator registering ``builder(config) -> EditModel`` as architecture ``name``.

    ``options``: the options its network (or, for the stage, the stage) takes, each a
    :class:`ModelOption` (declared in the method module beside this call; what the command line
    checks before loading any weights, :func:`model_options`). None: not declared (a plugin's or
    a test's architecture): taken from the builder's ``edit`` signature when the builder is an
    ``EditModel`` class, else known only once the model is loaded. ``extra_targets``: targets the
    network takes beside its checkpoint's (EGGAN's free-form ``au``)."""

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


# --------------------------------------------------------------------------------------------
# Options: what each method's network and the stage take, known before any weights load
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelOption:
    """One option a method's network (or the stage) takes, as ``EditModel.edit`` (the stage:
    ``Stage.edit_photo``) names it: ``lighting`` (--lighting), ``aus`` (--au), ``attrs``
    (--attr), ``stage`` (--stage), ``controls`` (--control), ``like`` (--like), any other key is
    a ``--set KEY=VALUE``. ``help``: one line. ``vocabulary``: where its values are read from the
    checkpoint header (never written in code): ``conditions:NAME`` (a condition vocabulary),
    ``config:NAME`` (a config key: a list, or a mapping's keys), ``binary`` (the two-valued
    condition vocabularies, e.g. ``glasses``); ``values``: values fixed by the code itself
    (RegGAN's stage names)."""

    key: str
    help: str
    vocabulary: str = ""
    values: tuple[str, ...] = ()

    def vocabulary_of(self, meta: CheckpointMeta) -> list:
        """This option's values in checkpoint ``meta`` ([] when it has none)."""
        if self.values:
            return list(self.values)
        kind, _, key = self.vocabulary.partition(":")
        if kind == "conditions":
            return list(meta.vocabularies.get(key) or [])
        if kind == "config":
            value = meta.config.get(key) or []
            return list(value.keys() if isinstance(value, dict) else value)
        if kind == "binary":
            return [k for k, v in meta.vocabularies.items()
                    if isinstance(v, list) and len(v) == 2 and set(map(str, v)) == {"False", "True"}]
        return []


ARCH_OPTIONS: dict[str, tuple[ModelOption, ...]] = {}
ARCH_EXTRA_TARGETS: dict[str, tuple[str, ...]] = {}

#: Options the pipeline passes to a network itself, never a user.
INTERNAL_OPTIONS = frozenset({"x", "target", "strength", "landmarks", "return_masks", "with_masks"})
#: Keywords of ``Stage.edit_photo`` that are not options (the face mesh and the mouth exemplar
#: are passed by the pipeline).
STAGE_ARGUMENTS = frozenset({"pixels", "faces_lm", "target", "strength", "dense", "mouth_exemplar"})
#: The condition options, checked against vocabularies (the others are ``--set`` keys).
CONDITION_OPTIONS = ("lighting", "aus", "attrs")


@dataclass
class StageOptions:
    """What the stage under a model provides: its lighting classes, AUs, attributes, targets and
    the option keys ``edit_photo`` takes."""

    lighting: list[str]
    aus: list[int]
    attributes: list[str]
    targets: list[str]
    keys: set[str]


@dataclass
class ModelOptions:
    """What a model takes on the command line: its network's targets and option keys (None: not
    known before loading), the network's own lighting classes / AUs / attributes (for the keys
    it takes), the stage under it (None: none), the values of ``--stage``. ``check`` is the one
    rule for ``--target`` / ``--lighting`` / ``--au`` / ``--attr`` / ``--set`` / ``--stage``,
    before loading (:func:`model_options`) and after (``ApplyOptions._check_model_options``)."""

    name: str
    targets: list[str]
    network: set[str] | None
    lighting: list[str] = field(default_factory=list)
    aus: list = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)
    stage: StageOptions | None = None
    has_network: bool = True
    without_stage: bool = False  # the model sits on a stage that was left out
    stages: list[str] = field(default_factory=list)  # --stage values ([]: not declared)
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
        """The ``--set`` keys (not the options that have flags of their own: --lighting, --au,
        --attr, --stage, --control, --like, --light, --light-strength)."""
        return sorted(self.taken - set(CONDITION_OPTIONS) - {"stage", "controls", "like", "light", "light_strength"})

    def all_targets(self) -> list[str]:
        """The network's targets, then those only the stage applies."""
        own = list(self.targets) + [t for t in self.extra_targets if t not in self.targets]
        stage = [t for t in self.stage.targets if t not in own] if self.stage and self.has_network else []
        return own + stage

    # -- the rule ----------------------------------------------------------------------------
    def check_targets(self, targets: list[str]) -> None:
        """UsageError for a target neither the network nor the stage under it takes."""
        valid = set(self.all_targets())
        for t in targets:
            if t not in valid:
                raise UsageError(f"unknown target {t!r}; valid targets: {', '.join(self.all_targets())}")

    def check(self, options: dict, aus: dict | None = None) -> None:
        """UsageError, in the words of the command line, for an option that neither the model's
        network nor its stage takes, or a lighting class, AU or attribute it does not know.
        ``aus``: the ``aus`` option as ``{au: intensity}`` (default: ``options["aus"]``)."""
        name = self.name
        without = " without its stage" if self.stage is None and self.without_stage else ""
        if options.get("lighting") is not None:
            light = str(options["lighting"])
            valid = self.all_lighting
            if not valid:
                raise UsageError(f"--lighting {light}: model {name} does not relight{without}")
            if light not in valid + ["keep"]:
                raise UsageError(f"--lighting {light}: not a lighting class of model {name}; "
                                 f"valid: {', '.join(valid + ['keep'])}")
        if options.get("aus"):
            valid_aus = self.all_aus
            if not valid_aus:
                raise UsageError(f"--au: model {name} does not take AU intensities{without}")
            unknown = [a for a in (aus if aus is not None else dict(options["aus"])) if a not in valid_aus]
            if unknown:
                raise UsageError(f"--au: model {name} cannot move AU{unknown[0]}; it moves AUs "
                                 f"{', '.join(map(str, valid_aus))}")
        if options.get("attrs"):
            valid_attrs = self.all_attributes
            if not valid_attrs:
                raise UsageError(f"--attr: model {name} has no attributes to edit")
            for key in options["attrs"]:
                if key not in valid_attrs:
                    raise UsageError(f"--attr {key}: not an attribute of model {name}; valid: "
                                     f"{', '.join(valid_attrs)}")
        taken = self.taken
        for key, value in options.items():
            if key in taken or key in CONDITION_OPTIONS:
                if key == "stage" and self.stages and str(value) not in self.stages:
                    raise UsageError(f"--stage {value}: not a stage of model {name}; valid: "
                                     f"{', '.join(self.stages)}")
                continue
            if key == "stage":
                raise UsageError(f"--stage {value}: model {name} has no stages to choose from")
            settable = self.settable
            raise UsageError(f"--set {key}={value}: model {name} has no option {key!r}; "
                             + (f"its options: {', '.join(settable)}" if settable else "it takes none"))

    def summary(self) -> dict[str, Any]:
        """JSON-able: what ``faceedit models`` lists."""
        return {
            "lighting": self.all_lighting,
            "aus": self.all_aus,
            "attributes": self.all_attributes,
            "set": self.settable,
            "stage": list(self.stages) if "stage" in self.taken else [],
            "controls": sorted(self.taken & {"controls", "like"}),
            "help": dict(self.help),
        }

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
        ("stage", "--stage"), ("set", "--set"), ("controls", "also")) if summary.get(key)]
    return "; ".join(parts) or "none"


def _declared_network_options(arch: str, meta: CheckpointMeta) -> tuple[set[str] | None, dict]:
    """(the option keys the network of ``arch`` takes, {key: ModelOption}) from its declaration,
    else from the ``edit`` signature of an ``EditModel`` class registered as the builder; (None,
    {}) when neither tells."""
    if arch not in ARCH_OPTIONS and arch not in ARCHS:
        _import_method_modules()
    declared = ARCH_OPTIONS.get(arch)
    if declared is not None:
        options = {o.key: o for o in declared}
        keys = set(options)
        if "attrs" in options:  # an attribute may also be given as its own option (SeCGAN: glasses=)
            keys |= set(options["attrs"].vocabulary_of(meta))
        return keys - INTERNAL_OPTIONS, options
    builder = ARCHS.get(arch)
    if isinstance(builder, type) and issubclass(builder, EditModel):
        import inspect

        params = inspect.signature(builder.edit).parameters.values()
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
    declared = ARCH_OPTIONS.get(meta.arch)
    if declared is None:
        return None
    by_key = {o.key: o for o in declared}

    def values(key: str) -> list:
        return by_key[key].vocabulary_of(meta) if key in by_key else []

    return StageOptions(lighting=values("lighting"), aus=values("aus"), attributes=values("attrs"),
                        targets=list(meta.targets), keys=set(by_key))


def _options_from_meta(spec: ModelSpec, meta: CheckpointMeta, stage_meta: CheckpointMeta | None,
                       ) -> ModelOptions | None:
    keys, declared = _declared_network_options(meta.arch, meta)
    if keys is None:
        return None
    help_ = {k: o.help for k, o in declared.items() if o.help and k in keys}
    is_stage = meta.arch == "stage"
    stage = None
    if is_stage:
        stage = _stage_options(meta)
    elif stage_meta is not None:
        stage = _stage_options(stage_meta)
        if stage is None:
            return None
        help_ = {**{o.key: o.help for o in ARCH_OPTIONS.get(stage_meta.arch, ())}, **help_}

    def values(key: str) -> list:
        return declared[key].vocabulary_of(meta) if key in declared and key in keys else []

    return ModelOptions(
        name=spec.name, targets=list(meta.targets),
        network=set() if is_stage else keys,
        lighting=values("lighting"), aus=values("aus"), attributes=values("attrs"),
        stage=stage, has_network=not is_stage, without_stage=False,
        stages=[str(v) for v in values("stage")],
        extra_targets=list(ARCH_EXTRA_TARGETS.get(meta.arch, ())),
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
    _import_model_module(name_or_path)  # as load_model decides between a name and a path
    if name_or_path not in REGISTRY and os.path.exists(name_or_path):
        _import_method_modules()
    if _looks_like_path(name_or_path):
        _import_method_modules()
        try:
            meta = read_meta(name_or_path)
        except (CheckpointError, OSError):
            return None
        spec = _spec_from_meta(meta, name_or_path)
    else:
        spec = get_spec(name_or_path)
        path = _local_weights_path(spec)
        if path is None:
            return None
        try:
            meta = read_meta(path)
        except (CheckpointError, OSError):
            return None
    stage_meta = None
    if spec.prior and meta.arch != "stage":
        try:
            stage_spec = get_spec(spec.prior)
            stage_path = _local_weights_path(stage_spec)
            if stage_path is None:
                return None
            stage_meta = read_meta(stage_path)
        except (CheckpointError, UsageError, OSError):
            return None
    return _options_from_meta(spec, meta, stage_meta)


# --------------------------------------------------------------------------------------------
# Specs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightSource:
    """Where a model's weights are.

    ``kind="file"``: ``file`` is a name inside ``weights_dir()`` (shipped with faceedit).
    ``kind="path"``: ``path`` is a local file.
    ``kind="hub"``: ``repo_id`` + ``filename`` at ``revision`` (a full 40-hex commit, so the
    bytes cannot change under us) with the expected ``sha256`` (required for the Hub).
    """

    kind: Literal["file", "path", "hub"]
    file: str = ""
    path: str = ""
    repo_id: str = ""
    filename: str = ""
    revision: str = ""
    sha256: str | None = None

    def __post_init__(self) -> None:
        if self.kind == "file":
            ok = bool(self.file)
        elif self.kind == "path":
            ok = bool(self.path)
        elif self.kind == "hub":
            ok = bool(self.repo_id and self.filename and _is_hex(self.revision, 40) and self.sha256)
        else:
            raise ValueError(f"unknown weight source kind {self.kind!r}; use file, path or hub")
        if not ok:
            raise ValueError(
                f"incomplete {self.kind} weight source {self!r} (file: file; path: path; "
                "hub: repo_id, filename, 40-hex commit revision and sha256)"
            )
        if self.sha256 is not None and not _is_hex(self.sha256, 64):
            raise ValueError(f"sha256 must be 64 lowercase hex digits, got {self.sha256!r}")

    @classmethod
    def shipped(cls, file: str, sha256: str | None = None) -> WeightSource:
        return cls(kind="file", file=file, sha256=sha256)

    @classmethod
    def local(cls, path: str | os.PathLike, sha256: str | None = None) -> WeightSource:
        return cls(kind="path", path=os.fspath(path), sha256=sha256)

    @classmethod
    def hub(cls, repo_id: str, filename: str, revision: str, sha256: str) -> WeightSource:
        return cls(kind="hub", repo_id=repo_id, filename=filename, revision=revision, sha256=sha256)

    def describe(self) -> str:
        """Short form for tables: ``weights/x.safetensors``, a path or ``hf://repo/file@commit``."""
        if self.kind == "file":
            return f"weights/{self.file}"
        if self.kind == "path":
            return self.path
        return f"hf://{self.repo_id}/{self.filename}@{self.revision[:8]}"


@dataclass(kw_only=True)
class ModelSpec:
    """A named model: what it does, how to build it, what crop it expects, where its weights are.

    ``weights=None``: a shipped model; its ``WeightSource`` (file + sha256) and, where left empty
    here, ``description``, ``license``, ``paper`` and ``card`` come from the weights manifest
    entry of its name. ``targets=None`` / ``conditions=None``: taken from the checkpoint's header.
    ``targets`` given here must equal the checkpoint's target list (order included: it indexes
    conditions); ``conditions`` holds further vocabularies (lighting classes, AU names...), also
    checked against the checkpoint. ``color_match`` tells the paste-back whether to match colours.
    """

    name: str
    method: str
    arch: str
    template: CropTemplate
    description: str = ""
    targets: list[str] | None = None
    channels: int = 3
    color_match: bool = True
    delta_smooth: float = 0.0  # Gaussian sigma (crop px) applied to the change at paste-back
    weights: WeightSource | None = None
    default_config: dict[str, Any] = field(default_factory=dict)
    license: str = ""
    conditions: dict[str, Any] | None = None
    paper: str = ""
    card: str = ""  # the model card, a file beside the weights (from the manifest)
    # Registry name of the stage (faceedit.models.stage) applied to the photo before this
    # model's network sees the face; None = the network edits the unedited face.
    prior: str | None = None
    # The fields ``_complete`` filled from the manifest and the header (``update_manifest``
    # clears them, so they are filled again from the new file).
    filled: set[str] = field(default_factory=set, init=False, repr=False, compare=False)

    @property
    def image_size(self) -> int:
        return self.template.size


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


def _import_method_modules() -> None:
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


def _import_model_module(name: str) -> None:
    """Import the method module of model ``name`` (``faceedit.models.<name>``) when it is one,
    and no other: loading one model need not import every method (start-up time)."""
    module = f"faceedit.models.{name}"
    if module in METHOD_MODULES and module not in _IMPORTED:
        if module not in sys.modules and importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
        _IMPORTED.add(module)


def model_names() -> list[str]:
    """Registered model names, in registration order."""
    _import_method_modules()
    return list(REGISTRY)


def get_spec(name: str) -> ModelSpec:
    """The spec of a registered model, its weights and vocabularies filled in from the manifest
    and the checkpoint header where the module left them out (``_complete``); UsageError naming
    the available ones for an unknown name."""
    if name not in REGISTRY:
        _import_model_module(name)
    if name not in REGISTRY:
        _import_method_modules()
    if name in REGISTRY:
        return _complete(REGISTRY[name])
    if not REGISTRY:
        raise UsageError(
            f"unknown model {name!r}: no models are registered yet; "
            "pass the path to a .safetensors checkpoint instead"
        )
    close = difflib.get_close_matches(name, list(REGISTRY), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise UsageError(f"unknown model {name!r}; {hint}available: {', '.join(REGISTRY)}")


# --------------------------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------------------------


def weights_dir() -> Path:
    """Folder of shipped weights: ``$FACEEDIT_WEIGHTS``, else ``weights/`` of a source checkout
    (next to the ``faceedit`` package, beside pyproject.toml), else
    ``<sys.prefix>/share/faceedit/weights`` (an installed wheel)."""
    env = os.environ.get("FACEEDIT_WEIGHTS")
    if env:
        return Path(env).expanduser()
    return _installed_weights_dir()


def _installed_weights_dir() -> Path:
    """The weights folder that comes with faceedit (``weights_dir`` without the variable)."""
    root = Path(faceedit.__file__).resolve().parents[1]
    if (root / "weights").is_dir() and (root / "pyproject.toml").is_file():
        return root / "weights"
    return Path(sys.prefix) / "share" / "faceedit" / "weights"


# --------------------------------------------------------------------------------------------
# The weights manifest
# --------------------------------------------------------------------------------------------

MANIFEST_FILE = "manifest.json"
"""The manifest of a weights folder: ``{"models": {NAME: {"file", "sha256", "card", "paper",
"license", "description"}}}``; ``file`` and ``sha256`` are required."""
_ENTRY_FIELDS = ("file", "sha256", "card", "paper", "license", "description")
_MANIFESTS: dict[Path, dict[str, dict[str, str]]] = {}


def manifest_paths() -> list[Path]:
    """The manifests the registry reads, first match wins: ``weights_dir()``'s own (when
    ``FACEEDIT_WEIGHTS`` names a folder that has one; its entries override, model by model),
    then the one that comes with faceedit."""
    own, shipped = weights_dir() / MANIFEST_FILE, _installed_weights_dir() / MANIFEST_FILE
    return [own] if own == shipped else [own, shipped]


def read_manifest(path: str | os.PathLike | None = None) -> dict[str, dict[str, str]]:
    """The model entries of a manifest (default: the one that comes with faceedit), read and
    checked once per file (``update_manifest`` refreshes it); ``{}`` for a file that does not
    exist. CheckpointError naming the file and the problem for a malformed one."""
    p = Path(path) if path is not None else _installed_weights_dir() / MANIFEST_FILE
    key = p.resolve()
    if key not in _MANIFESTS:
        _MANIFESTS[key] = _parse_manifest(p) if p.is_file() else {}
    return _MANIFESTS[key]


def _parse_manifest(p: Path) -> dict[str, dict[str, str]]:
    try:
        doc = json.loads(p.read_text())
    except (OSError, ValueError) as e:
        raise CheckpointError(f"unreadable weights manifest: {e}", p) from None
    models = doc.get("models") if isinstance(doc, dict) else None
    if not isinstance(models, dict):
        raise CheckpointError('weights manifest: expected {"models": {NAME: {...}}}', p)
    for name, entry in models.items():
        if not isinstance(entry, dict):
            raise CheckpointError(f"weights manifest: entry {name!r} is not an object", p)
        unknown = [k for k in entry if k not in _ENTRY_FIELDS]
        if unknown:
            raise CheckpointError(f"weights manifest: entry {name!r} has unknown field {unknown[0]!r} "
                                  f"(fields: {', '.join(_ENTRY_FIELDS)})", p)
        if not all(isinstance(v, str) for v in entry.values()):
            raise CheckpointError(f"weights manifest: entry {name!r}: every value must be a string", p)
        if not entry.get("file") or "/" in entry["file"] or "\\" in entry["file"]:
            raise CheckpointError(f"weights manifest: entry {name!r} needs a 'file' name inside the "
                                  "weights folder", p)
        if not _is_hex(entry.get("sha256"), 64):
            raise CheckpointError(f"weights manifest: entry {name!r} needs a 'sha256' of 64 lowercase "
                                  f"hex digits, got {entry.get('sha256')!r}", p)
    return models


def manifest_entry(name: str) -> dict[str, str]:
    """The manifest entry of model ``name`` (see ``manifest_paths``); CheckpointError when no
    manifest lists it."""
    paths = manifest_paths()
    for path in paths:
        entry = read_manifest(path).get(name)
        if entry is not None:
            return entry
    raise CheckpointError(f"model {name!r} is registered as shipped but no weights manifest lists it "
                          f"(add it with python -m faceedit.models.registry --update-manifest "
                          f"weights/{name}.safetensors)", paths[-1])


def update_manifest(
    weights_file: str | os.PathLike,
    *,
    name: str | None = None,
    manifest: str | os.PathLike | None = None,
) -> dict[str, str]:
    """Pin a (re)trained weights file in a manifest: its sha256, under model ``name`` (default:
    the entry that already lists this file name, else the file's stem). The file is verified
    first (a faceedit checkpoint whose tensors match their hash; for a registered model, its
    architecture, channels and template). An existing entry keeps its texts; a new one takes
    ``license``, ``description`` and ``paper`` from the checkpoint header and ``card`` when
    ``NAME.md`` lies beside the file. ``manifest``: default ``manifest.json`` in the file's
    folder (created if absent). Written atomically; returns the entry."""
    path = Path(weights_file)
    ck = load_checkpoint(path)  # a checkpoint, tensors verified; refuses pickles
    target = Path(manifest) if manifest is not None else path.parent / MANIFEST_FILE
    doc: dict[str, Any] = json.loads(target.read_text()) if target.is_file() else {}
    if target.is_file():
        read_manifest(target)  # refuse to extend a malformed manifest
    models = doc.setdefault("models", {})
    if name is None:
        name = next((n for n, e in models.items() if e.get("file") == path.name), path.stem)
    _import_method_modules()
    declared = REGISTRY.get(name)
    if declared is not None and (declared.weights is None or "weights" in declared.filled):
        _check_spec_matches(replace(declared, targets=ck.meta.targets,
                                    conditions=ck.meta.vocabularies), ck.meta, path)
    entry = dict(models.get(name) or {})
    if not entry:
        card = path.with_suffix(".md")
        entry = {"file": path.name, "sha256": ck.sha256, "card": card.name if card.is_file() else "",
                 "paper": str(ck.meta.extra.get("paper", "")), "license": ck.meta.license,
                 "description": str(ck.meta.extra.get("description", ""))}
    entry.update(file=path.name, sha256=ck.sha256)
    models[name] = entry
    write_file_atomically(target, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    _MANIFESTS.pop(target.resolve(), None)
    if declared is not None:  # fill again from the manifests and the new header when looked up
        for key in declared.filled:
            setattr(declared, key, None if key in ("weights", "targets", "conditions") else "")
        declared.filled.clear()
    return entry


def _complete(spec: ModelSpec) -> ModelSpec:
    """Fill what a shipped model's module leaves to data, in place, once: the weights and texts
    from the manifest (``weights=None``), the vocabularies from the checkpoint header
    (``targets`` / ``conditions`` None) when the file is on this machine (otherwise when loaded).
    """
    if spec.weights is None:
        entry = manifest_entry(spec.name)
        spec.weights = WeightSource.shipped(entry["file"], sha256=entry["sha256"])
        spec.filled.add("weights")
        for key in ("description", "license", "paper", "card"):
            if not getattr(spec, key):
                setattr(spec, key, entry.get(key, ""))
                spec.filled.add(key)
    if spec.targets is None or spec.conditions is None:
        path = _local_weights_path(spec)
        if path is not None:
            try:
                _fill_vocabularies(spec, read_meta(path))
            except CheckpointError:
                pass  # a corrupt file is reported when it is loaded
    return spec


def _fill_vocabularies(spec: ModelSpec, meta: CheckpointMeta) -> None:
    if spec.targets is None:
        spec.targets = meta.targets
        spec.filled.add("targets")
    if spec.conditions is None:
        spec.conditions = meta.vocabularies
        spec.filled.add("conditions")


def _hub_offline() -> bool:
    """HF_HUB_OFFLINE as huggingface_hub read it at import, or as set since."""
    from huggingface_hub import constants

    return constants.HF_HUB_OFFLINE or parse_switch(os.environ.get("HF_HUB_OFFLINE", "")) is True


def _local_weights_path(spec: ModelSpec) -> Path | None:
    """The weights file if it is on this machine (shipped, local or in the Hub cache), else None.
    Never downloads."""
    if spec.weights is None:
        _complete(spec)
    w = spec.weights
    if w.kind == "hub":
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(w.repo_id, w.filename, revision=w.revision)
        return Path(cached) if isinstance(cached, str) else None
    p = weights_dir() / w.file if w.kind == "file" else Path(w.path).expanduser()
    return p if p.is_file() else None


def weights_present(spec: ModelSpec) -> bool:
    """Whether the weights are available without downloading."""
    return _local_weights_path(spec) is not None


def resolve_weights(spec: ModelSpec, *, allow_download: bool = True) -> Path:
    """Local path of the model's weights file, downloading from the Hub when needed and allowed
    (the Hub cache and HF_HUB_OFFLINE are honoured). CheckpointError when unavailable."""
    if spec.weights is None:
        _complete(spec)
    w = spec.weights
    if w.kind == "file":
        folder = weights_dir()
        p = folder / w.file
        if not p.is_file():
            raise CheckpointError(
                f"weights {w.file!r} of model {spec.name!r} not found in {folder} "
                "(set FACEEDIT_WEIGHTS to the folder that holds them)",
                p,
            )
        return p
    if w.kind == "path":
        p = Path(w.path).expanduser()
        if not p.is_file():
            raise CheckpointError(f"weights file of model {spec.name!r} not found", p)
        return p
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    offline = _hub_offline()
    try:
        return Path(
            hf_hub_download(
                w.repo_id,
                w.filename,
                revision=w.revision,
                local_files_only=offline or not allow_download,
            )
        )
    except LocalEntryNotFoundError:
        if offline:
            reason = "not in the local Hugging Face cache and offline (HF_HUB_OFFLINE=1)"
        elif not allow_download:
            reason = "not in the local Hugging Face cache and downloading is disabled"
        else:
            reason = "download failed (network error?) and not in the local Hugging Face cache"
        raise CheckpointError(reason, w.describe()) from None
    except Exception as e:  # huggingface_hub: repository/revision/entry not found, HTTP, OS errors
        first = (str(e).strip().splitlines() or [""])[0]
        raise CheckpointError(
            f"Hub download failed: {type(e).__name__}: {first}", w.describe()
        ) from None


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


@dataclass
class LoadedModel:
    """A model ready for inference (eval mode) with its spec and checkpoint metadata."""

    model: EditModel
    spec: ModelSpec
    meta: CheckpointMeta
    path: str


def _looks_like_path(name_or_path: str) -> bool:
    suffix = Path(name_or_path).suffix.lower()
    return (
        "/" in name_or_path
        or os.sep in name_or_path
        or suffix == ".safetensors"
        or suffix in PICKLE_SUFFIXES
        or (name_or_path not in REGISTRY and os.path.exists(name_or_path))
    )


def spec_from_path(path: str | os.PathLike) -> ModelSpec:
    """The spec of a checkpoint given by path, from its header alone (cheap: no tensors read)."""
    return _spec_from_meta(read_meta(path), path)


def _spec_from_meta(meta: CheckpointMeta, path: str | os.PathLike) -> ModelSpec:
    """A spec built from a checkpoint's own metadata. Optional extras used: ``method``,
    ``description``, ``color_match``, ``delta_smooth``, ``paper``."""
    p = Path(path)
    return ModelSpec(
        name=p.stem,
        method=str(meta.extra.get("method", meta.arch)),
        arch=meta.arch,
        description=str(meta.extra.get("description", f"checkpoint {p.name}")),
        targets=meta.targets,
        template=meta.template or CropTemplate(size=meta.image_size or CropTemplate.size),
        channels=meta.channels,
        color_match=bool(meta.extra.get("color_match", True)),
        delta_smooth=float(meta.extra.get("delta_smooth", 0.0)),
        weights=WeightSource.local(p),
        license=meta.license,
        conditions=meta.vocabularies,
        paper=str(meta.extra.get("paper", "")),
        prior=meta.extra.get("prior") or None,
    )


def _check_spec_matches(spec: ModelSpec, meta: CheckpointMeta, path: str | os.PathLike) -> None:
    """A registered spec and its checkpoint must agree on everything the pipeline relies on."""
    problems = []
    if meta.arch != spec.arch:
        problems.append(f"architecture {meta.arch!r} (registry: {spec.arch!r})")
    if spec.targets is not None and meta.targets != list(spec.targets):
        problems.append(f"targets {meta.targets} (registry: {list(spec.targets)})")
    vocab = meta.vocabularies
    for key, values in (spec.conditions or {}).items():
        if key in vocab and vocab[key] != values:
            problems.append(f"conditions[{key!r}] {vocab[key]} (registry: {values})")
    if meta.channels != spec.channels:
        problems.append(f"channels {meta.channels} (registry: {spec.channels})")
    if meta.template is not None and meta.template != spec.template:
        problems.append(f"template {meta.template.to_json()} (registry: {spec.template.to_json()})")
    elif meta.image_size and meta.image_size != spec.image_size:
        problems.append(f"image size {meta.image_size} (registry: {spec.image_size})")
    if problems:
        raise CheckpointError(
            f"checkpoint does not match model {spec.name!r}: " + "; ".join(problems), path
        )


def _build(arch: str, config: dict[str, Any], path: str | os.PathLike) -> EditModel:
    if arch not in ARCHS:
        _import_method_modules()
    if arch not in ARCHS:
        known = ", ".join(sorted(ARCHS)) or "none"
        raise CheckpointError(f"unknown architecture {arch!r}; known: {known}", path)
    try:
        return ARCHS[arch](config)
    except (TypeError, ValueError, KeyError) as e:
        raise CheckpointError(
            f"cannot build architecture {arch!r} from its config: {type(e).__name__}: {e}", path
        ) from None


def _load_weights(
    model: EditModel, tensors: dict[str, torch.Tensor], path: str | os.PathLike
) -> None:
    """Strict load; key or shape mismatches are reported with the first few offending keys."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in tensors]
    unexpected = [k for k in tensors if k not in expected]
    shapes = [
        f"{k} {tuple(tensors[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in tensors and tensors[k].shape != v.shape
    ]
    problems = [
        f"{label}: {_first_few(items)}"
        for label, items in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("shape mismatch", shapes),
        )
        if items
    ]
    if problems:
        raise CheckpointError("weights do not fit the architecture: " + "; ".join(problems), path)
    cast = {k: v.to(expected[k].dtype) if v.is_floating_point() else v for k, v in tensors.items()}
    try:
        model.load_state_dict(cast, strict=True)
    except RuntimeError as e:
        raise CheckpointError(
            f"weights do not fit the architecture: {str(e).splitlines()[0]}", path
        ) from None


def _first_few(items: list[str], n: int = 3) -> str:
    more = f" (+{len(items) - n} more)" if len(items) > n else ""
    return ", ".join(items[:n]) + more


def load_model(
    name_or_path: str | os.PathLike,
    *,
    device: str | torch.device = "cpu",
    allow_download: bool = True,
) -> LoadedModel:
    """Load a registered model by name, or any faceedit ``.safetensors`` checkpoint by path.

    The architecture is built from ``ARCHS[arch](default_config | checkpoint config)``; weights
    are verified (file sha256 when the spec knows it, tensor hash always), loaded strictly in the
    model's dtype (float32), and the model is moved to ``device`` in eval mode.
    """
    name_or_path = os.fspath(name_or_path)
    _import_model_module(name_or_path)  # a method's own model: its module only
    if name_or_path not in REGISTRY and os.path.exists(name_or_path):
        _import_method_modules()  # a plugin's model name, or a file: the full registry decides
    if _looks_like_path(name_or_path):
        _import_method_modules()
        ck = load_checkpoint(name_or_path)
        spec = _spec_from_meta(ck.meta, name_or_path)
    else:
        spec = get_spec(name_or_path)
        path = resolve_weights(spec, allow_download=allow_download)
        ck = load_checkpoint(path, expected_sha256=spec.weights.sha256)
        _check_spec_matches(spec, ck.meta, ck.path)
        _fill_vocabularies(spec, ck.meta)  # e.g. a Hub file fetched just now
    model = _build(ck.meta.arch, {**spec.default_config, **ck.meta.config}, ck.path)
    _load_weights(model, ck.tensors, ck.path)
    model.to(device).eval()
    return LoadedModel(model=model, spec=spec, meta=ck.meta, path=ck.path)


def list_models() -> list[dict[str, Any]]:
    """One row per registered model for ``faceedit models`` (JSON-able). ``conditions`` in the
    words the command line takes: a binary attribute's data labels ``["False", "True"]`` are
    shown as ``["off", "on"]`` (``--attr glasses=on``)."""
    binary = {"False": "off", "True": "on"}
    rows = []
    for name in model_names():
        spec = get_spec(name)
        local = _local_weights_path(spec)
        options = model_options(name)
        conditions = {
            key: [binary[v] for v in values]
            if isinstance(values, list) and values and set(values) <= set(binary) else values
            for key, values in (spec.conditions or {}).items()
        }
        rows.append(
            {
                "name": spec.name,
                "method": spec.method,
                # every target -t takes: the network's, then those its stage applies alone
                # (neutral, keep...); [] until a Hub file is fetched
                "targets": options.all_targets() if options is not None else list(spec.targets or []),
                "conditions": conditions,
                "options": None if options is None else options.summary(),  # None until fetched
                "image_size": spec.image_size,
                "channels": spec.channels,
                "weights": spec.weights.describe(),
                "present": local is not None,
                "file_size_bytes": local.stat().st_size if local is not None else None,
                "license": spec.license,
                "description": spec.description,
            }
        )
    return rows


def _is_hex(s: str | None, length: int) -> bool:
    return isinstance(s, str) and len(s) == length and set(s) <= _HEX


def main(argv: list[str] | None = None) -> int:
    """``python -m faceedit.models.registry --update-manifest weights/NAME.safetensors``."""
    parser = argparse.ArgumentParser(
        prog="python -m faceedit.models.registry",
        description="Pin (re)trained weights in a weights manifest: shipping a retrained model "
        "edits no code.")
    parser.add_argument("--update-manifest", metavar="FILE", nargs="+", required=True,
                        help="weights file(s) whose sha256 to write into the manifest")
    parser.add_argument("--name", help="model name of the entry (default: the entry that lists the "
                        "file, else the file's stem); one FILE only")
    parser.add_argument("--manifest", help="manifest to update (default: manifest.json beside FILE)")
    args = parser.parse_args(argv)
    if args.name and len(args.update_manifest) > 1:
        parser.error("--name takes one FILE")
    try:
        for f in args.update_manifest:
            entry = update_manifest(f, name=args.name, manifest=args.manifest)
            print(f"{f}: sha256 {entry['sha256']}")
    except (CheckpointError, UsageError, OSError, ValueError) as e:
        print(str(e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    from faceedit.models import registry as _registry  # one module, one REGISTRY (not __main__'s)

    sys.exit(_registry.main())
