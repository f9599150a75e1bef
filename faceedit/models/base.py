"""The interface every editing model offers to the pipeline."""

from __future__ import annotations

import torch
from torch import nn

from faceedit.errors import UsageError


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
