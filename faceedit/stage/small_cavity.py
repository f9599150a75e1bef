"""A small face's open mouth as a photo of it shows it (:func:`open_edge`), and a soft photo's smile
(:func:`soft_smile_edge`): the opening drawn by the mouth bank
(:meth:`faceedit.stage.mouth_bank.MouthBank.fill`) with the lips' rims at the photo's own blur round its edge, the upper
teeth's tips merged into a soft light band, and its darkest pixels no darker than a share of the photo's own black.
Drawn at a large face's sharpness on a face 64-128 px tall, the opening read at 4x as a pure-black cut-out with
stair-stepped edges and the teeth's tips as dark notches along its top (its values:
:class:`~faceedit.stage.tuning.MouthTuning`'s ``small_open_*``)."""

from __future__ import annotations

import cv2
import numpy as np

from faceedit.pixels import LUMA_WEIGHTS, pixel_max
from faceedit.stage.blur_reading import FILL_BLUR
from faceedit.stage.cavity import soften_edge
from faceedit.stage.teeth_look import covered_box, small_weight
from faceedit.stage.tuning import MouthTuning

_LUMA = np.asarray(LUMA_WEIGHTS, np.float32)

#: :func:`open_edge`'s floor's knee: the luma's power sum with the floor at this power (the darkest raised to
#: it, pixels twice as light 1.5 % lighter at 4).
SMALL_OPEN_KNEE = 4.0


def open_edge(out: np.ndarray, roi, opening: np.ndarray, tn: MouthTuning, rings: dict, wd: float,
              photo_scale: float = 1.0, *, smile: bool, own_teeth: bool) -> None:
    """The filled opening's edge (``opening``, float 0..1 over ``roi`` of ``out``) softened in place: by
    :func:`~faceedit.stage.cavity.soften_edge` on every face (at ``tn.edge_focus``, with a smile's the photo's
    blur ``rings["blur"]`` too; ``tn.edge_focus_outside`` above it with the face's ``own_teeth`` in an open mouth),
    and on a small face's open mouth (not a ``smile``; corners ``wd`` px apart, by
    :func:`~faceedit.stage.teeth_look.small_weight` at ``photo_scale``) at the photo's own blur (a Gaussian of
    :data:`~faceedit.stage.blur_reading.FILL_BLUR` and the blur beyond the fill's, ``rings["blur"]`` from
    :func:`~faceedit.stage.cavity.open_blur`, in quadrature) outside its edge (``tn.small_open_edge_reach``), blurred along the row inside (``tn.small_open_row_blur``), and floored at
    ``tn.small_open_black`` of the photo's black (``rings["black"]``, unit RGB (3,), or None: no floor)."""
    soften_edge(out, roi, opening, float(np.hypot(tn.edge_focus, rings["blur"] if smile else 0.0)),
                tn.edge_focus_outside if own_teeth and not smile else 0.0)
    black = rings.get("black")
    w_s = 0.0 if smile else small_weight(wd, photo_scale)
    if w_s <= 0.0:
        return
    x0, y0, x1, y1 = (int(v) for v in roi)
    box = covered_box((x0, y0, x1, y1), opening, (0, 0, out.shape[1], out.shape[0]), 17)
    if box is None:
        return
    (bx0, by0, bx1, by1), op = box
    crop = out[by0:by1, bx0:bx1].astype(np.float32)
    rgb = np.repeat(crop[..., None], 3, -1) if crop.ndim == 2 else crop[..., :3].copy()
    unit = float(pixel_max(out.dtype))
    inside = (op > 0.5).astype(np.uint8)
    if int(inside.sum()) < 4:
        return
    s = float(np.hypot(FILL_BLUR, rings["blur"]))
    # inside: the teeth's tips and the cavity's texture blurred along the row (weights: the opening's own pixels)
    sx = tn.small_open_row_blur * s
    k = 2 * int(np.ceil(3.0 * sx)) + 1
    num = cv2.GaussianBlur(rgb * op[..., None], (k, 1), sx)
    den = cv2.GaussianBlur(op, (k, 1), sx)[..., None]
    row = np.where(den > 1e-3, num / np.maximum(den, 1e-3), rgb)
    rgb = rgb + (w_s * op)[..., None] * (row - rgb)
    # the dark's floor: the photo's black level
    if black is not None:
        c = np.maximum(np.asarray(black, np.float32)[:3], 0.0)
        b = tn.small_open_black * float(c @ _LUMA)
        if b > 0.0:
            y = np.maximum(rgb @ _LUMA, 0.0) / unit
            raised = (y ** SMALL_OPEN_KNEE + b ** SMALL_OPEN_KNEE) ** (1.0 / SMALL_OPEN_KNEE)
            rgb = rgb + ((w_s * op) * (raised - y))[..., None] * (c * unit / max(float(c @ _LUMA), 1e-6))
    # the lips' side of the edge at the photo's blur (the opening's own side: ``soften_edge``'s)
    d_out = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5)
    reach = tn.small_open_edge_reach * s
    near = np.where(inside > 0, 0.0, np.clip(1.0 - (d_out - 0.5) / reach, 0.0, 1.0)) * w_s
    rgb = rgb + near[..., None] * (cv2.GaussianBlur(rgb, (0, 0), s) - rgb)
    rgb = np.clip(np.round(rgb), 0, unit)
    if crop.ndim == 2:
        out[by0:by1, bx0:bx1] = (rgb @ _LUMA).round().astype(out.dtype)
    else:
        out[by0:by1, bx0:bx1, :3] = rgb.astype(out.dtype)


def soft_smile_edge(out: np.ndarray, roi, opening: np.ndarray, tn: MouthTuning, blur: float) -> None:
    """A smile's filled opening (``opening``, float 0..1 over ``roi`` of ``out``) in a soft photo, its edge
    softened in place from both sides and all round (:func:`~faceedit.stage.cavity.soften_edge`, ``around``) at
    the photo's blur beyond the fill's (``blur``, :func:`~faceedit.stage.blur_reading.photo_blur`) past
    ``tn.smile_soft_knee`` (in quadrature); a sharper photo's is left as it is. Softened from inside alone, the
    lit teeth met the lips in a one-pixel step and the lower lip's rim stood as a sharp line (London HD at 512 px
    blurred by 2.5 px, made happy)."""
    soft = float(np.sqrt(max(blur**2 - tn.smile_soft_knee**2, 0.0)))
    if soft > 0.0:
        soften_edge(out, roi, opening, float(np.hypot(tn.edge_focus, blur)), soft, around=True)
