"""The upper teeth a smile carries into an opening that stays open, hung under the new upper lip.

The cut warp moves the carried teeth rigidly with the upper lip's chord
(:func:`faceedit.stage.cut_fields.rigid_field`): they keep their size. A smile's inner upper lip
runs flat or rises toward its corners; a surprised or fearful opening's arches, its sides lower
than its middle. Moved rigidly under the arch, the row showed only below the arch's middle, the
lip over its sides: a short block of teeth with the dark of the cavity on both sides.
:func:`hung_field` shifts each column of the rigid teeth down (or up) by how far the new upper
curve there lies below (above) the rigid image of the source's, less that at the middle: the
teeth stay as wide and as tall, the middle ones where the rigid move puts them, and the row runs
along under the lip from corner to corner, as the lip lies on them.
"""

from __future__ import annotations

import numpy as np


def _curve_y(curve: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """The curve's y at each x of ``xs`` (linear between its points sorted by x; its ends' y beyond them)."""
    order = np.argsort(curve[:, 0], kind="stable")
    return np.interp(xs, curve[order, 0], curve[order, 1])


def _frames(dst_frame: np.ndarray, src_upper: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rigid motion that takes ``src_upper``'s chord onto ``dst_frame``'s (as
    :func:`faceedit.stage.cut_fields.rigid_field` has it): the two curves' means and the rotation
    ``rot`` with source = (destination - dst mean) @ rot.T + src mean."""
    a, b = dst_frame[-1] - dst_frame[0], src_upper[-1] - src_upper[0]
    t = float(np.arctan2(b[1], b[0]) - np.arctan2(a[1], a[0]))
    return dst_frame.mean(0), src_upper.mean(0), np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


def lip_drop(dst_frame: np.ndarray, dst_upper: np.ndarray, src_upper: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """At each x of ``xs`` how far the destination upper curve (``dst_upper``, corner to corner) lies below
    the source upper curve (``src_upper``) moved by the rigid motion that takes its chord onto
    ``dst_frame``'s, less that at the middle of ``dst_upper``'s chord; beyond the corners the corners' own."""
    dst_frame, dst_upper, src_upper = (np.asarray(c, np.float64) for c in (dst_frame, dst_upper, src_upper))
    cd, cs, rot = _frames(dst_frame, src_upper)
    moved = (src_upper - cs) @ rot + cd  # the source curve where the rigid move puts it
    lo, hi = float(min(dst_upper[0, 0], dst_upper[-1, 0])), float(max(dst_upper[0, 0], dst_upper[-1, 0]))
    x = np.clip(np.asarray(xs, np.float64), lo, hi)
    mid = np.array([0.5 * (lo + hi)])
    drop = _curve_y(dst_upper, x) - _curve_y(moved, x)
    return drop - float(_curve_y(dst_upper, mid)[0] - _curve_y(moved, mid)[0])


def hung_field(dst_frame: np.ndarray, dst_upper: np.ndarray, src_upper: np.ndarray, nodes: np.ndarray,
               amount: float) -> np.ndarray:
    """The backward field (nodes (..., 2) -> source offset) of the carried teeth hung under the
    upper lip: the rigid motion taking ``src_upper``'s chord onto ``dst_frame``'s, with each
    node's column shifted down by ``amount`` (0..1) of the lip's drop there (:func:`lip_drop`):
    a node samples what the rigid motion gives that much higher up. With ``amount`` 0 the rigid
    field itself. A vertical shear on a rigid motion: the field's Jacobian stays 1."""
    dst_frame, src_upper = np.asarray(dst_frame, np.float64), np.asarray(src_upper, np.float64)
    nodes = np.asarray(nodes, np.float64)
    cd, cs, rot = _frames(dst_frame, src_upper)
    shift = np.zeros_like(nodes)
    if amount > 0:
        xs = nodes[..., 0].ravel()
        shift[..., 1] = float(amount) * lip_drop(dst_frame, dst_upper, src_upper, xs).reshape(nodes.shape[:-1])
    return ((nodes - shift) - cd) @ rot.T + cs - nodes


def hang_amount(upper: np.ndarray, lower: np.ndarray, amount: float, aspect: tuple[float, float]) -> float:
    """How far the teeth hang in the destination opening between ``upper`` and ``lower`` (corner
    to corner): ``amount`` as far as the opening is tall for its width, none up to ``aspect``'s
    first largest gap over corner-to-corner width, wholly from its second (the aspects at which
    :func:`~faceedit.stage.cut_curves.round_opening` rounds an opening into an oval). A thin
    opening keeps the rigid row: its lip lies along the teeth, and hung under its arch they
    filled the slit from corner to corner, a clenched grin's row."""
    up, lo = np.asarray(upper, np.float64), np.asarray(lower, np.float64)
    width = float(np.linalg.norm(up[-1] - up[0]))
    if amount <= 0 or width <= 0:
        return 0.0
    tall = float(np.linalg.norm(up - lo, axis=1).max()) / width
    return float(amount) * float(np.clip((tall - aspect[0]) / max(aspect[1] - aspect[0], 1e-9), 0.0, 1.0))
