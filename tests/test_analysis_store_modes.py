"""An analysis network cached by a first load under inference mode still serves autograd."""

from __future__ import annotations

import torch

from faceedit.analysis import store
from faceedit.analysis.identity import load_identity


def test_a_network_first_loaded_under_inference_mode_serves_a_training_step(monkeypatch):
    monkeypatch.setattr(store, "_cache", {})  # a fresh process's cache
    with torch.inference_mode():
        identity = load_identity()  # a measure's lazy load happens inside its inference block
        identity.embed(torch.zeros(1, 1, 48, 48))
    x = torch.zeros(2, 1, 48, 48, requires_grad=True)
    identity.embed(x).sum().backward()  # the identity loss of a training step
    assert x.grad is not None
