"""What an edited face reads as: the project's expression classifier and identity network on a
face of an output, beside the same face of the input, so that a batch can tell the outputs that
show their edit from those that do not.

Both networks take faces aligned to the default crop template (their training crops'); the
crops come from the edit's own alignment where its template is that one (each model's crop is
cut by one similarity, ``AlignedFace.matrix``), otherwise from one more alignment of the
detected face. An output's crop is cut from the written pixels by the input crop's matrix, so a
face left as it was reads exactly as the input (identity 1).

:class:`FaceReader` loads the networks once; :meth:`FaceReader.read` runs each network once over
all the crops of a photo (its faces in the input and in every output); a video's person is
read on a few of its edited frames and :func:`median_reading` sums them up. :func:`verdict`
holds the readings against thresholds.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from faceedit.faces.types import AlignedFace, CropTemplate

if TYPE_CHECKING:
    import torch

    from faceedit.analysis.classify import Classifier
    from faceedit.analysis.identity import IdentityNet

# torch and OpenCV are imported where they are used: ApplyOptions reads the defaults below while
# a command that stops at a usage error must not import torch (2-3 s of its start).

#: The template the analysis networks were trained on (``faceedit prepare``'s default).
ANALYSIS_TEMPLATE = CropTemplate()
#: The classes whose reading decides an output: those the classifier recognised on at least
#: this share of its own held-out crops of the class (its header's ``per_class_accuracy``, as
#: weights/expression.md shows them), on at least ``MIN_CLASS_CROPS`` crops, and so in at least
#: ``MIN_CLASS_SETS`` data sets. The shipped classifier judges neutral, happy and surprised. It
#: reads sad and fearful on a third of their crops, angry and disgusted in JAFFE alone, sleepy
#: and wink on 3 crops each: a miss there says nothing.
MIN_CLASS_ACCURACY = 0.5
MIN_CLASS_CROPS = 6
MIN_CLASS_SETS = 2
#: ``--verify``'s defaults, from the readings of the 18 held-out London faces at 1350 px
#: (``python bench/bench_verify.py readings``; docs/benchmarks.md): with the classifier trained
#: against its data-set shortcut a happy edit at strength 1 reads p(happy) >= 0.27 on all 18 with
#: every model (median 0.99; 096's and 137's narrow smiles 0.27-0.51), at strength 0.05 at most
#: 0.22 on 16 (the two others' neutral photos read 0.64-0.69 happy already): the margin is thin
#: on both sides. The identity network is expression-sensitive:
#: the same person's neutral and smiling photos meet at 0.72 or more, reggan's surprised edits
#: at 0.43 or more (median 0.75), while two different people meet at a median of 0.07 but at
#: 0.4 or more in 13 % of pairs: a face under 0.4 is farther from its input than 87 % of
#: different people are from each other.
MIN_PROB = 0.25
MIN_IDENTITY = 0.4


@dataclass
class Reading:
    """One face of one output: ``top`` the class the classifier reads (``top_prob`` its
    probability), ``target_prob`` the target's probability and ``input_target_prob`` the
    input face's (None: a target that is no class of it, e.g. ``keep``, ``au``, a relight
    alone), ``judged`` whether the target's probability says if the edit read (see
    :data:`MIN_CLASS_ACCURACY`), ``identity`` the cosine of the identity features of the input's
    face and the output's. A video's person (``face``: its track) is the median of its sampled
    frames' readings, ``frames`` how many (None: a photo's face)."""

    face: int
    top: str
    top_prob: float
    target_prob: float | None
    input_target_prob: float | None
    identity: float
    judged: bool = False
    frames: int | None = None

    def to_json(self) -> dict:
        def r4(v: float | None) -> float | None:
            return None if v is None else round(v, 4)

        out = {"face": self.face, "expression": self.top, "expression_prob": r4(self.top_prob),
               "target_prob": r4(self.target_prob), "input_target_prob": r4(self.input_target_prob),
               "judged": self.judged, "identity": r4(self.identity)}
        if self.frames is not None:
            out["frames_read"] = self.frames
        return out


def median_reading(face: int, readings: Sequence[Reading]) -> Reading:
    """One person of a video (``face``: its track) from the readings of its sampled frames: the
    class read on the most frames (a tie: the one with the higher median probability) with its
    median probability there, the medians of the target's probability, the input's and the
    identity, and ``frames`` the frames read. A median: one frame caught mid-blink or blurred
    does not decide."""

    def med(values: Sequence[float]) -> float:
        return float(np.median(values))

    def opt(values: list[float | None]) -> float | None:
        kept = [v for v in values if v is not None]
        return med(kept) if kept else None

    tops = Counter(r.top for r in readings)
    probs = {c: med([r.top_prob for r in readings if r.top == c]) for c in tops}
    top = max(tops, key=lambda c: (tops[c], probs[c]))
    return Reading(face, top, probs[top], opt([r.target_prob for r in readings]),
                   opt([r.input_target_prob for r in readings]), med([r.identity for r in readings]),
                   readings[0].judged, frames=len(readings))


def analysis_alignment(pixels: np.ndarray, aligned: AlignedFace) -> tuple[np.ndarray, np.ndarray]:
    """(crop, matrix) of ``aligned``'s face on the analysis template: the edit's own crop and
    matrix where its template is the analysis one (at any size), else the face aligned again."""
    from faceedit.faces.align import align_face

    t = aligned.template
    if (t.eye_dist, t.eye_y) == (ANALYSIS_TEMPLATE.eye_dist, ANALYSIS_TEMPLATE.eye_y):
        return aligned.crop, aligned.matrix
    again = align_face(pixels, aligned.face, ANALYSIS_TEMPLATE)
    return again.crop, again.matrix


def output_crop(pixels: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """The crop an output's face is read from: cut from the output's ``pixels`` by the input
    crop's ``matrix``, at its ``size``."""
    from faceedit.faces.align import warp_crop

    return warp_crop(pixels, matrix, size)[0]


class FaceReader:
    """The shipped expression classifier and identity network (shared, frozen), loaded on the
    first use, once, whichever thread comes first: a run imports torch for them only once it
    has a face to read."""

    def __init__(self, device: str | torch.device = "cpu"):
        self._device = device
        self._nets: tuple[Classifier, IdentityNet, frozenset[str]] | None = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Classifier, IdentityNet, frozenset[str]]:
        with self._lock:
            if self._nets is None:
                from faceedit.analysis.classify import load_classifier
                from faceedit.analysis.identity import load_identity

                clf = load_classifier("expression", device=self._device)
                self._nets = (clf, load_identity(device=self._device), judged_classes("expression", clf.labels))
            return self._nets

    @property
    def classifier(self) -> Classifier:
        return self._load()[0]

    @property
    def identity(self) -> IdentityNet:
        return self._load()[1]

    @property
    def judged(self) -> frozenset[str]:
        """The targets whose reading decides an output (:func:`judged_classes`)."""
        return self._load()[2]

    @property
    def device(self) -> torch.device:
        return self.classifier.device

    def judges(self, target: str | None) -> bool:
        """Whether the classifier's reading says if ``target`` was reached."""
        return target in self.judged

    def _tensor(self, crops: Sequence[np.ndarray]) -> torch.Tensor:
        import torch

        from faceedit.pixels import levels_to_signed

        x = torch.from_numpy(np.ascontiguousarray(np.stack(crops))).to(self.device)
        return levels_to_signed(x).permute(0, 3, 1, 2)

    def read(self, inputs: Sequence[np.ndarray], outputs: Sequence[Sequence[np.ndarray]],
             targets: Sequence[str | None]) -> list[list[Reading]]:
        """Per output, per face its :class:`Reading`. ``inputs``: the input's face crops (uint8
        RGB, analysis template, one size); ``outputs``: per output the same faces' crops;
        ``targets``: per output its target. Each network runs once over every crop."""
        import torch

        n = len(inputs)
        flat = [c for out in outputs for c in out]
        if not n or not flat:
            return [[] for _ in outputs]
        with torch.inference_mode():
            x = self._tensor([*inputs, *flat])
            emb = self.identity.embed(x).float()
            probs = self.classifier.probs(x).float().cpu().numpy()
            sims = (emb[n:].view(len(outputs), n, -1) * emb[:n][None]).sum(-1).cpu().numpy()
        labels = self.classifier.labels
        out: list[list[Reading]] = []
        for k, target in enumerate(targets):
            row = []
            j = labels.index(target) if target in labels else None
            for i in range(n):
                p = probs[n + k * n + i]
                top = int(p.argmax())
                row.append(Reading(i, labels[top], float(p[top]),
                                   None if j is None else float(p[j]),
                                   None if j is None else float(probs[i, j]),
                                   float(sims[k, i]), self.judges(target)))
            out.append(row)
        return out


def load_reader(device: str | torch.device, verify: bool) -> FaceReader | None:
    """A :class:`FaceReader` on ``device`` where the networks' files are there; missing, a
    usage error under ``verify`` (nothing could be checked), otherwise None (logged: the outputs
    are not measured)."""
    from faceedit.analysis.store import analysis_available, analysis_path
    from faceedit.errors import UsageError
    from faceedit.log import logger

    missing = [str(analysis_path(k)) for k in ("expression", "identity") if not analysis_available(k)]
    if missing:
        if verify:
            raise UsageError(f"`verify` needs the expression classifier and identity network; "
                             f"missing: {', '.join(missing)}")
        logger.warning("outputs not measured: missing %s", ", ".join(missing))
        return None
    return FaceReader(device)


def judged_classes(kind: str, labels: Sequence[str]) -> frozenset[str]:
    """The classes of classifier ``kind`` whose reading decides an output (its held-out
    per-class figures against :data:`MIN_CLASS_ACCURACY`, :data:`MIN_CLASS_CROPS`,
    :data:`MIN_CLASS_SETS`; the last where its header has figures per data set); every class
    where it has none."""
    from faceedit.analysis.store import analysis_meta

    metrics = analysis_meta(kind).metrics or {}
    acc, counts = metrics.get("per_class_accuracy"), metrics.get("counts")
    if not acc or not counts:
        return frozenset(labels)
    per_set = [d.get("per_class_accuracy") or {} for d in (metrics.get("per_dataset") or {}).values()]

    def sets(c: str) -> int:
        return sum(a.get(c, 0.0) >= MIN_CLASS_ACCURACY for a in per_set) if per_set else MIN_CLASS_SETS

    return frozenset(c for c in labels if acc.get(c, 0.0) >= MIN_CLASS_ACCURACY
                     and counts.get(c, 0) >= MIN_CLASS_CROPS and sets(c) >= MIN_CLASS_SETS)


def verdict(readings: Sequence[Reading], target: str | None, min_prob: float, min_identity: float) -> str | None:
    """Why an output does not verify (its faces' readings against ``min_prob`` for the target,
    ``min_identity`` for the person), or None where it does."""
    why = []
    for r in readings:
        if r.judged and r.target_prob is not None and r.target_prob < min_prob:
            why.append(f"face {r.face}: {target} not read ({target} {r.target_prob:.2f} < "
                       f"`verify_min_prob` {min_prob:g}; reads as {r.top} {r.top_prob:.2f})")
        if r.identity < min_identity:
            why.append(f"face {r.face}: the person changed (identity {r.identity:.2f} < "
                       f"`verify_min_identity` {min_identity:g})")
    return "; ".join(why) or None
