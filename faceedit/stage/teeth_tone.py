"""The colour teeth take in shade (:func:`shade_warmth`) and how lit a thin opening's upper row is
(:func:`thin_row_tone`). Real teeth darken toward a warm ivory-orange (less of the enamel's light, more
of the dentin under it and the light off the gums): red and yellow both rising, green over blue. An
open mouth's upper teeth took the lips' chromaticity to the shade's depth, and in a thin opening
(fearful, ``eee``, a small ``aaa``) the whole row lay in the open mouth's shade and the upper lip's
shadow: a dim band reddened toward the lips, grey-pink beside them, that read as silver (London HD
training neutrals made fearful, ``bench/bench_teeth_tone.py``: the row's luma 0.53-1.16 of the
cheeks', median 0.65; its brightest quarter's red over green 0.06-0.16, median 0.13; real smiles'
rows 1.04-1.94 and 0.02-0.07)."""

from __future__ import annotations

import numpy as np

from faceedit.pixels import LUMA_WEIGHTS
from faceedit.stage.lip_rims import lip_shade
from faceedit.stage.tuning import MouthTuning

_LUMA = np.asarray(LUMA_WEIGHTS, np.float64)

#: The chromaticity (r, g, b over luma) real teeth move toward as they darken, per unit of depth:
#: on 14 London HD training smiles showing teeth (002-064, the held-out split left out) the upper
#: row's darkest quarter's median colour over its luma, divided by its brightest quarter's, over its
#: own luma, raised to 1 over its depth (1 less the quarters' luma ratio, 0.27-0.35, median 0.30);
#: the median over the smiles (r 1.08-1.63, g 0.78-0.98, b 0.71-0.93;
#: ``bench/bench_teeth_tone.py --real``).
SHADE_TONE = (1.33, 0.893, 0.831)
#: An opening is thin when its median column height is under the first share of the inner corner
#: distance (wholly) and not thin from the second: fear's openings on London HD read 0.10-0.16,
#: surprise's 0.3 and more.
THIN_GAP = (0.2, 0.26)


def shade_warmth(tint: np.ndarray, bounce: float) -> np.ndarray:
    """(n, 3) what teeth whose luma is multiplied by ``tint`` (n,) are multiplied by for colour:
    :data:`SHADE_TONE` (over its own luma) to ``bounce`` times the shade's depth (1 - ``tint``,
    none where ``tint`` is 1 or more), each row of luma 1."""
    c = np.asarray(SHADE_TONE, np.float64)
    c = c / float(c @ _LUMA)
    depth = np.maximum(1.0 - np.asarray(tint, np.float64), 0.0)
    w = c[None, :] ** (float(bounce) * depth)[:, None]
    return w / np.maximum(w @ _LUMA, 1e-6)[:, None]


def thin_weight(height: float) -> float:
    """How thin an opening whose median column is ``height`` of its inner corner distance tall is: 1
    under :data:`THIN_GAP`'s first, 0 from its second, linear between."""
    return 1.0 - float(np.clip((height - THIN_GAP[0]) / (THIN_GAP[1] - THIN_GAP[0]), 0.0, 1.0))


def thin_row_tone(tint: np.ndarray, t: np.ndarray, hd: np.ndarray, wd: float,
                  tn: MouthTuning) -> tuple[np.ndarray, np.ndarray]:
    """(tint, warm): an open mouth's upper teeth's luma factor ``tint`` (n,) and colour factor
    (:func:`shade_warmth` of it, (n, 3)), in a thin opening (:func:`thin_weight` of the pixels' median
    column height ``hd`` over the corner distance ``wd``) lit as the face's own row carried into one
    is (:func:`faceedit.stage.lip_rims.shade_carried`): ``tint`` over ``tn.open_teeth_shade`` and the
    upper lip's shadow at ``t`` px below it ``tn.carried_lip_shadow`` over ``tn.carried_lip_shadow_reach``
    (the opening's own, ``tn.open_lip_shadow`` over ``tn.lip_shadow_reach``, is the caller's, over
    every pixel). A thin row lies wholly in an open mouth's lip shadow: times that shade it read a
    dim, reddened band (London HD training neutrals made fearful: its luma 0.53-1.16 of the cheeks',
    its brightest quarter's red over green 0.06-0.16; real smiles' rows 1.04-1.94 and 0.02-0.07,
    ``bench/bench_teeth_tone.py``)."""
    w = thin_weight(float(np.median(hd)) / max(wd, 1e-6)) if len(hd) else 0.0
    if w > 0.0:
        own = lip_shade(t, wd, tn.carried_lip_shadow, tn.carried_lip_shadow_reach)
        opened = tn.open_teeth_shade * lip_shade(t, wd, tn.open_lip_shadow, tn.lip_shadow_reach)
        tint = tint * (own / np.maximum(opened, 1e-6)) ** w
    return tint, shade_warmth(tint, tn.teeth_bounce)
