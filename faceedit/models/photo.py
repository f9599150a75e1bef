"""Photo steps: models that edit a whole photo at its full resolution, not aligned crops.

The stage (:class:`faceedit.stage.model.Stage`) is one: it moves, paints and relights every
face of the photo before a method's network sees the face. The editing flow
(:mod:`faceedit.flow`) runs a photo step through :class:`PhotoStep` and a network through
:class:`faceedit.models.base.EditModel`; a registered model that is a photo step alone
(:class:`PhotoModel`, ``has_network = False``) runs no network and pastes nothing back.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
from torch import nn

from faceedit.errors import UsageError
from faceedit.models.base import EditModel, ModelConfig


@runtime_checkable
class PhotoStep(Protocol):
    """What the editing flow asks of a photo step.

    ``edit_photo(pixels, faces_lm, target, strength, **options)`` edits every face of ``pixels``
    ((H, W, 3) uint8/uint16 RGB, left unchanged) whose landmarks are in ``faces_lm`` (image px,
    one array per face) and returns the new photo and, per face, what was done: an object whose
    ``landmarks`` are the face's landmarks after the edit (image px). ``strength`` runs from 0
    (nothing) to ``max_strength``. ``targets()`` lists the targets it applies, ``lighting`` and
    ``attributes`` the lighting classes and attributes it paints, ``aus`` the action units (FACS
    numbers) it moves."""

    max_strength: float

    def targets(self) -> list[str]: ...

    @property
    def lighting(self) -> list[str]: ...

    @property
    def aus(self) -> list[int]: ...

    @property
    def attributes(self) -> list[str]: ...

    def edit_photo(self, pixels: np.ndarray, faces_lm: list[np.ndarray], target: str,
                   strength: float = 1.0, **options: Any) -> tuple[np.ndarray, list[Any]]: ...


class PhotoModel(nn.Module):
    """Base of a registered model that is a photo step alone: it has no network over crops
    (``has_network = False``); it is configured, loaded and saved as every registered model is,
    by the same methods as :class:`faceedit.models.base.EditModel` (``cfg``/``config``,
    ``from_pretrained``, ``save_pretrained``, ``targets``/``check_target``)."""

    has_network: ClassVar[bool] = False
    cfg: ModelConfig

    config = EditModel.config
    # the classmethod object itself: read through a subclass, it binds to that subclass
    from_pretrained = EditModel.__dict__["from_pretrained"]
    save_pretrained = EditModel.save_pretrained
    targets = EditModel.targets
    check_target = EditModel.check_target

    def eval_conditions(self) -> list[dict]:
        """``faceedit eval`` measures a network on aligned crops; a photo step has none."""
        raise UsageError(f"{type(self).__name__} edits whole photos and has no network over crops: "
                         "faceedit eval measures networks (evaluate the stage on photos, bench/)")
