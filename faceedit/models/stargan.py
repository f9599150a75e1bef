"""What the StarGAN-family methods (LEGAN, LSSL, SeCGAN; EGGAN's critic) share beyond the network
blocks of :mod:`faceedit.models.layers`: how conditions are encoded and named.

* :data:`KEEP`: the target / option value that leaves a condition as it is (LSSL and SeCGAN's
  ``target="keep"``, LEGAN's ``lighting="keep"``);
* :func:`one_hot`: class indices to condition vectors, -1 (unknown / keep) to an all-zero row;
* :class:`AttributeSpace`: a vocabulary of categorical and binary label groups, its condition
  vector, random targets and the classification loss of a critic's class head (the words a
  binary attribute takes, ``glasses=on``, ``off``, ``0.5``..., are the edit request's:
  :func:`faceedit.edits.attributes.attribute_value`).

Not a method module: no model is registered here, and every method module may import it (a
method module never imports a sibling method).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from faceedit.errors import UsageError

KEEP = "keep"
"""The target (or option value) that leaves a condition as it is: LSSL / SeCGAN's target that
keeps the expression (edit only lighting / attributes), LEGAN's ``lighting="keep"``."""

BINARY_KEYS = ("glasses",)
"""Label keys that are yes/no attributes (data values ``"True"`` / ``"False"``)."""
BINARY_VALUES = ["False", "True"]


def one_hot(index: torch.Tensor, n: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(B,) class indices -> (B, n) one-hot; an index of -1 (unknown) gives an all-zero row."""
    out = torch.zeros(index.shape[0], n, dtype=dtype, device=index.device)
    known = index >= 0
    out[known] = F.one_hot(index[known], n).to(dtype)
    return out


@dataclass(frozen=True)
class AttributeSpace:
    """The attribute vector of a StarGAN-family model: one block per label key, in order.

    A categorical key (``expression``, ``lighting``) takes ``len(values)`` entries (one-hot); a
    binary key (``glasses``, values ``["False", "True"]``) takes one entry (1 = True). Labels are
    class indices into ``values`` with -1 = unknown, as the training batches carry them; an
    unknown label encodes as an all-zero block.
    """

    keys: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]
    binary: frozenset[str] = frozenset()

    @classmethod
    def from_vocab(cls, vocab: dict[str, list[str]], keys: tuple[str, ...] | list[str]) -> AttributeSpace:
        """The keys of ``keys`` that ``vocab`` gives at least two values (a key with one value
        cannot be changed, one with none is absent from the data)."""
        kept = [k for k in keys if len(vocab.get(k, [])) >= 2]
        for k in kept:
            if k in BINARY_KEYS and sorted(vocab[k]) != BINARY_VALUES:
                raise ValueError(f"binary attribute {k!r} must take the values {BINARY_VALUES}, got {vocab[k]}")
        return cls(tuple(kept), tuple(tuple(BINARY_VALUES) if k in BINARY_KEYS else tuple(vocab[k])
                                      for k in kept), frozenset(k for k in kept if k in BINARY_KEYS))

    @classmethod
    def from_config(cls, attributes: dict[str, list[str]]) -> AttributeSpace:
        return cls(tuple(attributes), tuple(tuple(v) for v in attributes.values()),
                   frozenset(k for k in attributes if k in BINARY_KEYS))

    def to_config(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in zip(self.keys, self.values)}

    def subset(self, keys) -> AttributeSpace:
        """The space of the given keys only (those present), in this space's order."""
        idx = [i for i, k in enumerate(self.keys) if k in keys]
        return AttributeSpace(tuple(self.keys[i] for i in idx), tuple(self.values[i] for i in idx),
                              frozenset(k for k in self.binary if k in keys))

    def width(self, key: str) -> int:
        return 1 if key in self.binary else len(self.values[self.keys.index(key)])

    @property
    def dim(self) -> int:
        return sum(self.width(k) for k in self.keys)

    def slices(self) -> dict[str, slice]:
        out, start = {}, 0
        for k in self.keys:
            out[k] = slice(start, start + self.width(k))
            start += self.width(k)
        return out

    def index(self, key: str, value: str) -> int:
        values = self.values[self.keys.index(key)]
        if value not in values:
            raise UsageError(f"unknown {key} {value!r}; valid: {', '.join(values)}")
        return values.index(value)

    def encode(self, labels: dict[str, torch.Tensor], batch: int | None = None,
               device: torch.device | str | None = None) -> torch.Tensor:
        """(B, dim) float vector of class-index labels (-1 or a missing key = all-zero block)."""
        if batch is None:
            batch = len(next(iter(labels.values())))
        if device is None and labels:
            device = next(iter(labels.values())).device
        out = torch.zeros(batch, self.dim, device=device)
        for k, sl in self.slices().items():
            lab = labels.get(k)
            if lab is None:
                continue
            if k in self.binary:
                out[:, sl] = (lab == 1).float().unsqueeze(1)
            else:
                out[:, sl] = one_hot(lab, self.width(k))
        return out

    def sample_targets(self, labels: dict[str, torch.Tensor], keep_prob: float = 0.0,
                       generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Random target labels for a batch: per key and row a uniformly drawn class, or -1
        ("keep") with probability ``keep_prob`` and wherever the source label is unknown (an
        attribute that cannot be classified or reconstructed is left alone)."""
        out = {}
        for k in self.keys:
            src = labels[k]
            n = self.width(k) if k not in self.binary else 2
            t = torch.randint(0, n, src.shape, device=src.device, generator=generator)
            if keep_prob > 0:
                keep = torch.rand(src.shape, device=src.device, generator=generator) < keep_prob
                t = torch.where(keep, torch.full_like(t, -1), t)
            out[k] = torch.where(src >= 0, t, torch.full_like(t, -1))
        return out

    @staticmethod
    def effective(targets: dict[str, torch.Tensor], source: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The labels an edited image should show: the target where one is set, else the source."""
        return {k: torch.where(t >= 0, t, source[k]) for k, t in targets.items()}

    def cls_loss(self, logits: torch.Tensor, labels: dict[str, torch.Tensor]) -> torch.Tensor:
        """Classification loss of a critic's class head (B, dim): per categorical key the
        cross-entropy, per binary key the binary cross-entropy (LEGAN eq. 3-4, LSSL eq. 2-3,
        SeCGAN eq. 3-4), over the rows whose label is known, summed over keys. Zero (with a
        graph) when no label is known."""
        total = logits.sum() * 0.0
        for k, sl in self.slices().items():
            lab = labels.get(k)
            if lab is None:
                continue
            known = lab >= 0
            if not bool(known.any()):
                continue
            if k in self.binary:
                total = total + F.binary_cross_entropy_with_logits(
                    logits[known, sl].squeeze(1).float(), lab[known].float())
            else:
                total = total + F.cross_entropy(logits[known, sl].float(), lab[known])
        return total

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """Logits (B, dim) -> an attribute vector of probabilities: softmax per categorical
        block, sigmoid per binary entry."""
        out = torch.empty_like(logits)
        for k, sl in self.slices().items():
            out[:, sl] = torch.sigmoid(logits[:, sl]) if k in self.binary else logits[:, sl].softmax(1)
        return out
