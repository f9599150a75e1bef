"""Where an open mouth's row of upper teeth ends: at its sides the bank's row, tapering as the
relaxed upper lip covers the shorter side teeth, darkens over its last teeth
(:func:`row_end_fade`), as real rows darken and grey going back into the lips' and cheeks'
shadow and fade into the dark beside them: lit to its last column, it stood as a bright tooth
cut off square against the cavity."""

from __future__ import annotations

import numpy as np

from faceedit.stage.lip_rims import smoothstep


def row_end_fade(visible: np.ndarray, alpha: np.ndarray, u: np.ndarray, span: float, shade: float) -> np.ndarray:
    """(n,) what the luma of the upper teeth at ``u`` (0..1 from corner to corner) is multiplied
    by toward the row's ends: ``visible`` (n,) is how much of its column's tooth shows below the
    lip (0 or less where none), ``alpha`` (n,) how much of the teeth the pixel shows. The row ends
    on each side of the middle at its outermost pixel that shows a tooth (``visible`` over 0)
    at ``alpha`` over a half; from there over ``span`` of the way to the middle (``u`` 0.5) the
    luma rises from ``shade`` to all of it (``shade`` beyond the end): a short row's front teeth
    stay lit. Ones where no pixel shows a tooth."""
    uu = np.asarray(u, np.float64)
    on = (np.asarray(visible, np.float64) > 0) & (np.asarray(alpha, np.float64) > 0.5)
    left, right = on & (uu <= 0.5), on & (uu > 0.5)
    if not on.any():
        return np.ones_like(uu)
    x = np.ones_like(uu)
    if left.any():
        end = float(uu[left].min())
        x = np.minimum(x, smoothstep(0.0, 1.0, (uu - end) / max(span * (0.5 - end), 1e-6)))
    if right.any():
        end = float(uu[right].max())
        x = np.minimum(x, smoothstep(0.0, 1.0, (end - uu) / max(span * (end - 0.5), 1e-6)))
    return shade + (1.0 - shade) * x
