"""One thing a model takes (:class:`ModelOption`): a field of the edit request or a setting of
its network's own, with where its values are read from the checkpoint header. A method module
declares its options with ``declare_arch(name, options=(ModelOption(...), ...))``
(:mod:`faceedit.models.registry`); :mod:`faceedit.models.options` puts them together with the
headers into what a model takes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from faceedit.edits.attributes import ATTRIBUTES
from faceedit.edits.controls import CONTROLS
from faceedit.models.header import CheckpointMeta
from faceedit.models.request import FIELD


@dataclass(frozen=True)
class ModelOption:
    """One thing a method's network (or the stage) takes: a field of the edit request
    (:data:`faceedit.models.request.FIELDS`: ``lighting``, ``light``, ``aus``, ``attrs``,
    ``controls``, ``like``, ``phase``...), whose help is the request's, or any other key, a
    setting of the network's own (``--set KEY=VALUE``), with its ``help`` (one line; for a field,
    this model's word on it). ``vocabulary``: where its values are read from the checkpoint
    header (never written in code): ``conditions:NAME`` (a condition vocabulary),
    ``config:NAME`` (a config key: a list, or a mapping's keys), ``binary`` (the two-valued
    condition vocabularies, e.g. ``glasses``); ``values``: values fixed by the code itself
    (RegGAN's phase names; with a ``vocabulary`` too, the code's first, then the header's);
    ``within``: a config key of the header listing the values the model takes of its
    vocabulary (EGGAN's ``estimable_aus``: the AUs its data could estimate), all where the key
    is absent or null. ``registry:controls`` and ``registry:attributes``: the records registered
    when asked (:mod:`faceedit.edits`). ``help`` may be a function of no arguments, called when
    asked (a help made from a registry)."""

    key: str
    help: str | Callable[[], str] = ""
    vocabulary: str = ""
    values: tuple[str, ...] = ()
    within: str = ""

    def describe(self) -> str:
        """Its help line: its own, else the request field's."""
        own = self.help() if callable(self.help) else self.help
        return own or (FIELD[self.key].describe() if self.key in FIELD else "")

    def vocabulary_of(self, meta: CheckpointMeta) -> list:
        """This option's values in checkpoint ``meta`` ([] when it has none), those ``within``
        allows."""
        values = self._vocabulary(meta)
        bound = meta.config.get(self.within) if self.within else None
        return values if bound is None else [v for v in values if v in bound]

    def _vocabulary(self, meta: CheckpointMeta) -> list:
        if self.values:
            if not self.vocabulary:
                return list(self.values)
            return list(dict.fromkeys([*self.values, *ModelOption(self.key, vocabulary=self.vocabulary).vocabulary_of(meta)]))
        kind, _, key = self.vocabulary.partition(":")
        if kind == "registry":
            return list(CONTROLS if key == "controls" else ATTRIBUTES if key == "attributes" else [])
        if kind == "conditions":
            return list(meta.vocabularies.get(key) or [])
        if kind == "config":
            value = meta.config.get(key) or []
            return list(value.keys() if isinstance(value, dict) else value)
        if kind == "binary":
            return [k for k, v in meta.vocabularies.items()
                    if isinstance(v, list) and len(v) == 2 and set(map(str, v)) == {"False", "True"}]
        return []
