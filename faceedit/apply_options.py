"""What one ``faceedit apply`` run is asked to do (:class:`ApplyOptions`: targets, strengths,
output naming, face choice, model options, checked against the model before any input is read)
and what it reports per output (:class:`Record`, a ``--json`` line). The engines that carry a
run out: :mod:`faceedit.pipeline` (threads) and :mod:`faceedit.ray_engine` (Ray actors).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from faceedit.conditions import canonical_target
from faceedit.errors import UsageError
from faceedit.io.decode import DEFAULT_MAX_PIXELS
from faceedit.io.naming import OutputNamer
from faceedit.log import logger

if TYPE_CHECKING:
    from faceedit.api import Editor
    from faceedit.models.options import ModelOptions

# faceedit.api and faceedit.models (torch) are imported where they are used, so that
# ApplyOptions.check answers a usage error without importing torch (2-3 s of a command's start).

ON_NO_FACE = ("error", "skip", "copy")


def _once(values, option: str) -> list:
    """``values`` without repeats, in their first order; a repeat is logged (a repeated target or
    strength would write the same output again, as a repeated input would)."""
    out: list = []
    for v in values:
        if v in out:
            logger.info("%s %s given more than once: its outputs are written once", option,
                        f"{v:g}" if isinstance(v, float) else v)
        else:
            out.append(v)
    return out


@dataclass
class ApplyOptions:
    targets: list[str]
    out_dir: str
    strengths: list[float] = field(default_factory=lambda: [1.0])
    name_template: str | None = None  # None: default_name_template()
    ext: str | None = None
    quality: int = 95
    overwrite: bool = False
    recursive: bool = False
    batch_size: int = 8
    face: str = "all"
    max_faces: int = 10
    on_no_face: str = "error"
    max_pixels: int = DEFAULT_MAX_PIXELS
    workers: int = 2
    model_options: dict = field(default_factory=dict)
    save_masks: bool = False  # also write the model's intermediate masks (LEGAN) per face


    def default_name_template(self) -> str:
        """``{stem}_{target}{ext}``, plus every condition this run sets (``{lighting}``,
        ``{au}``, ``{attr}``, ``{strength}`` unless it is 1), so that runs under other
        conditions into the same folder never take each other's outputs for their own; under
        ``recursive`` in the input's folder (``{relparent}/``), so that same-named photos of
        different folders do not collide."""
        parts = ["{stem}", "{target}"]
        parts += [f"{{{f}}}" for f, text in self.name_conditions().items() if text]
        if any(s != 1.0 for s in self.strengths):
            parts.append("{strength}")
        return ("{relparent}/" if self.recursive else "") + "_".join(parts) + "{ext}"

    def name_conditions(self) -> dict[str, str]:
        """The text of the ``{lighting}`` ``{au}`` ``{attr}`` ``{control}`` ``{like}`` name
        fields for this run ('' when the condition is not set)."""
        opts = self.model_options
        lighting = opts.get("lighting") if opts.get("light") is None else f"light{opts['light']}"
        if lighting is not None and opts.get("light_strength") is not None:
            lighting = f"{lighting}-{float(opts['light_strength']):g}"
        return {
            "lighting": "" if lighting is None else str(lighting).strip().lower(),
            "au": "_".join(f"au{k}-{float(v):g}" for k, v in self.aus_dict(opts.get("aus")).items()),
            "attr": "_".join(f"{k}-{self.attr_word(v)}" for k, v in (opts.get("attrs") or {}).items()),
            "control": "_".join(f"{k}-{float(v):g}" for k, v in (opts.get("controls") or {}).items()),
            "like": f"like-{os.path.splitext(os.path.basename(str(opts['like'])))[0]}" if isinstance(
                opts.get("like"), (str, os.PathLike)) else "",
        }

    def check(self) -> None:
        """The checks that need no model (run them before loading one): UsageError naming the
        option."""
        import math

        for s in self.strengths:
            if not math.isfinite(s) or s < 0.0:
                raise UsageError(f"`strengths` {s:g}: must be 0 or more")
        if self.on_no_face not in ON_NO_FACE:
            raise UsageError(f"`on_no_face` {self.on_no_face!r}; valid: {', '.join(ON_NO_FACE)}")
        if self.batch_size < 1:
            raise UsageError(f"`batch_size` {self.batch_size}: must be at least 1")
        if self.workers < 1:
            raise UsageError(f"`workers` {self.workers}: must be at least 1")
        if self.quality < 1 or self.quality > 100:
            raise UsageError(f"`quality` {self.quality}: must be between 1 and 100")
        if self.face not in ("all", "largest") and not self.face.isdigit():
            raise UsageError(f"`face` {self.face!r}; valid: all, largest, or a face number (0 = largest)")
        if self.max_faces < 0:
            raise UsageError(f"`max_faces` {self.max_faces}: must be 0 (no limit) or more")
        if self.max_pixels < 1:
            raise UsageError(f"`max_pixels` {self.max_pixels}: must be at least 1 "
                             f"(default {DEFAULT_MAX_PIXELS})")
        if os.path.exists(self.out_dir) and not os.path.isdir(self.out_dir):
            raise UsageError(f"`out_dir` {self.out_dir}: is a file, not a folder (the output folder "
                             "is created if missing)")
        OutputNamer(self.out_dir, self.name_template or self.default_name_template(), self.ext)

    def validate(self, editor: Editor) -> None:
        """:meth:`check`, then what needs the model: targets, strengths up to the editor's
        limit, the model options (names, lighting classes, AUs, attributes; then one forward on
        a blank crop, so that a bad value is a usage error before any input is read). Binds
        the name template's condition fields to this run's values."""
        self.check()
        if not self.targets:
            raise UsageError("no `targets` given; valid targets: " + ", ".join(editor.targets()))
        self.targets = _once((canonical_target(t) for t in self.targets), "`targets`")  # smile -> happy
        self.strengths = _once((float(s) for s in self.strengths), "`strengths`")
        for t in self.targets:
            editor.check_target(t)
        top = editor.max_strength
        for s in self.strengths:
            if not 0.0 <= s <= top:
                raise UsageError(f"`strengths` {s:g}: must be between 0 and {top:g}")
        if self.save_masks and not (editor.has_network and editor.loaded.model.mask_names):
            raise UsageError(f"`save_masks`: model {editor.spec.name} has no intermediate masks "
                             "(LEGAN has expression and lighting masks)")
        self._check_model_options(editor)
        if self.model_options.get("like") is not None:  # once, before the batch: a usage error
            editor.reference_landmarks(self.model_options["like"], max_pixels=self.max_pixels)
        self._dry_run(editor)
        self.name_template = OutputNamer.bind(self.name_template or self.default_name_template(),
                                              {**self.name_conditions(), "model": editor.spec.name})

    def check_model(self, model: str) -> None:
        """The checks of ``--target`` / ``--lighting`` / ``--au`` / ``--attr`` / ``--set`` /
        ``--phase`` against what ``model`` (a registered name or a checkpoint path) declares
        and its checkpoint headers list, before any weights load (:func:`model_options`); the
        same rule :meth:`validate` applies again to the loaded model. Nothing is checked where
        that cannot be told before loading (e.g. weights not on this machine)."""
        from faceedit.models.options import model_options

        known = model_options(model)
        if known is None:
            return
        known.check_targets([canonical_target(t) for t in self.targets])
        known.check(self.model_options, aus=self.aus_dict(self.model_options.get("aus")))

    def _network_options(self, editor: Editor) -> set[str]:
        """The keyword options the editor's network takes (those its ``edit`` names; not those
        the pipeline passes itself, ``INTERNAL_OPTIONS``)."""
        from faceedit.models.options import INTERNAL_OPTIONS

        if not editor.has_network:
            return set()
        model = editor.loaded.model
        named = self._keywords(model.edit) | set(getattr(model, "attributes", []))  # SeCGAN: glasses=
        return named - INTERNAL_OPTIONS

    @staticmethod
    def _keywords(function) -> set[str]:
        import inspect

        params = inspect.signature(function).parameters.values()
        return {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}

    def loaded_options(self, editor: Editor) -> ModelOptions:
        """What the loaded ``editor`` takes (its network's ``edit`` keywords and vocabularies,
        its stage's), in the form of :func:`model_options`."""
        from faceedit.models.options import STAGE_ARGUMENTS, ModelOptions, StageOptions

        stage, model = editor.stage, editor.loaded.model
        own = editor.spec.conditions or {}
        return ModelOptions(
            name=editor.spec.name,
            targets=list(model.targets()),
            network=self._network_options(editor),
            lighting=list(own.get("lighting") or []),
            aus=list(own.get("aus") or []),
            attributes=list(getattr(model, "attributes", [])) if editor.has_network else [],
            stage=None if stage is None else StageOptions(
                lighting=list(stage.lighting), aus=list(stage.aus), attributes=list(stage.attributes),
                targets=list(stage.targets()),
                keys=self._keywords(stage.edit_photo) - STAGE_ARGUMENTS),
            has_network=editor.has_network,
            without_stage=bool(editor.spec.stage),
        )

    def _check_model_options(self, editor: Editor) -> None:
        """UsageError, in the words of the command line, for an option that neither the
        model's network nor its stage takes, or a lighting class, AU or attribute it does not
        know (:meth:`ModelOptions.check`, the rule :meth:`check_model` applies before loading)."""
        self.loaded_options(editor).check(self.model_options,
                                          aus=self.aus_dict(self.model_options.get("aus")))

    def _dry_run(self, editor: Editor) -> None:
        """One forward per target on a blank crop, so that an option value the network refuses
        (``--phase bogus``, ``--set mode=x``) is a usage error before any input is read."""
        if not editor.has_network:
            return
        size = editor.spec.template.size
        crop = np.full((1, size, size, 3), 128, np.uint8)
        for target in self.targets:
            if not editor.uses_network(target):
                continue
            try:
                editor.edit_crops(crop, target, 1.0, **editor.network_options(self.model_options))
            except UsageError:
                raise
            except Exception:  # not a usage problem: the batch reports it on the photos
                logger.debug("trial forward on a blank crop failed", exc_info=True)
                return

    @staticmethod
    def aus_dict(aus) -> dict:
        """``{au: intensity}`` of an ``aus`` option (a mapping or an ``"12=3.5,6=2"`` string)."""
        if not aus:
            return {}
        if isinstance(aus, str):
            from faceedit.faces.au import parse_au_spec

            return parse_au_spec(aus)
        return dict(aus)

    @staticmethod
    def attr_word(value) -> str:
        """An attribute value as the command line writes it: on, off, or the number."""
        if isinstance(value, str):
            return value.strip().lower()
        return {1.0: "on", 0.0: "off"}.get(float(value), f"{float(value):g}")


@dataclass
class Record:
    """The result for one output file (or for an input that produced none)."""

    input: str
    output: str | None
    status: str  # ok | skipped | copied | no_face | error
    target: str | None = None
    strength: float | None = None
    faces: int | None = None  # faces edited; None where none were counted (skipped, failed)
    error: str | None = None
    masks: list[str] | None = None  # mask files written beside the output (--save-masks only)
    model: str | None = None
    lighting: str | None = None
    aus: dict | None = None  # {AU number: intensity}
    attrs: dict | None = None  # {attribute: on | off | value}
    controls: dict | None = None  # {control: value} (--control)
    like: str | None = None  # the reference photo (--like), as given

    def to_json(self) -> dict:
        rec: dict[str, Any] = {
            "input": self.input,
            "output": self.output,
            "model": self.model,
            "target": self.target,
            "strength": self.strength,
            "lighting": self.lighting,
            "aus": None if self.aus is None else {str(k): v for k, v in self.aus.items()},
            "attrs": self.attrs,
            "controls": self.controls,
            "like": self.like,
            "faces": self.faces,
            "status": self.status,
            "error": self.error,
        }
        if self.masks is not None:
            rec["masks"] = self.masks
        return rec


def mask_path(output: str, face: int, name: str) -> str:
    """Where ``--save-masks`` writes face ``face``'s mask ``name`` of ``output``: beside it, as
    ``<output stem>_face<face>_<name>.png`` (crop-sized greyscale or RGB)."""
    root, _ = os.path.splitext(output)
    return f"{root}_face{face}_{name}.png"
