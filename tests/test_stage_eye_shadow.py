"""A widened eye under its upper lid's shadow (faceedit.stage.eyes): the white the lid uncovers is shaded
from where the lid now is, and an iris whose top lay in the source's shadow is read out of it. On the
synthetic eyes of tests/test_models_eyes.py (a white almond, a blue iris whose top lies under the lid)."""

from __future__ import annotations

import numpy as np
from test_models_eyes import IRIS, _eye_face

from faceedit.stage.cutwarp import cut_warp
from faceedit.stage.eyes import LM_EYES, keep_irises


def _widened(img: np.ndarray, lm: np.ndarray, mesh: np.ndarray, moved: np.ndarray) -> np.ndarray:
    r = cut_warp(img, lm, moved)
    return keep_irises(img, r.pixels, lm, moved, mesh, r.source_points)


def _centre(lm: np.ndarray, k: int) -> np.ndarray:
    pts = lm[list(LM_EYES[k])]
    return (pts[1] + pts[2] + pts[4] + pts[5]) / 4


def _luma(px: np.ndarray) -> np.ndarray:
    return px.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def test_the_white_a_raised_lid_uncovers_lies_in_its_shadow():
    """Opened by 0.2 of the eye's width, the white over the iris is darkest just under the lid (London's open
    eyes: 0.42 of the lit white 0-0.02 eye widths under it) and lit further down: the first two rows of white
    under the lid at most 0.7 of the band's lightest (a drawn white lit up to the lashes: 0.85 and more)."""
    img, lm, mesh, moved = _eye_face(open_up=0.2)
    out = _widened(img, lm, mesh, moved)
    for k in (0, 1):
        cx = int(round(_centre(lm, k)[0]))
        col = out[:, cx].astype(np.float32)
        e = list(LM_EYES[k])
        upper = moved[[e[1], e[2]]][np.argsort(moved[[e[1], e[2]], 0])]  # the raised lid's two points
        lid = int(np.ceil(np.interp(cx, upper[:, 0], upper[:, 1])))
        iris_top = int(_centre(lm, k)[1] - IRIS * np.linalg.norm(lm[e[3]] - lm[e[0]]))
        band = [y for y in range(lid - 2, iris_top) if abs(col[y, 0] - col[y, 2]) < 25 and _luma(col[y]) > 40]
        assert len(band) >= 6, band
        lum = _luma(col[band])
        assert lum[:2].mean() <= 0.7 * lum.max(), lum.round()
        assert lum.max() >= 0.85 * _luma(np.array([235, 232, 228])), lum.round()


def test_an_iris_top_in_the_sources_shadow_is_read_out_of_it():
    """The iris's upper half darkened to 0.55 in the source (the lid's shadow and lashes over it), the eye
    opened: its kept top (0.4-0.8 radii over the centre) at least 0.8 of its bottom's luma (copied as the
    source shows it, the shadow stays on the iris under the raised lid: about 0.5)."""
    img, lm, mesh, moved = _eye_face(open_up=0.12)
    shaded = img.copy()
    for k in (0, 1):
        c = _centre(lm, k)
        width = float(np.linalg.norm(lm[LM_EYES[k][3]] - lm[LM_EYES[k][0]]))
        yy, xx = np.mgrid[0:img.shape[0], 0:img.shape[1]]
        over = (np.hypot(xx - c[0], yy - c[1]) <= IRIS * width + 1) & (yy < c[1])
        shaded[over] = (shaded[over] * 0.55).astype(np.uint8)
    out = _widened(shaded, lm, mesh, moved)
    for k in (0, 1):
        c = _centre(lm, k)
        r = IRIS * float(np.linalg.norm(lm[LM_EYES[k][3]] - lm[LM_EYES[k][0]]))
        x0, x1 = int(c[0] - 0.3 * r), int(c[0] + 0.3 * r)
        top = _luma(out[int(c[1] - 0.8 * r):int(c[1] - 0.4 * r), x0:x1]).mean()
        bottom = _luma(out[int(c[1] + 0.4 * r):int(c[1] + 0.8 * r), x0:x1]).mean()
        assert top >= 0.8 * bottom, (top, bottom)


def test_a_pupil_below_the_read_centre_is_not_mirrored_above_it():
    """The iris's top under lashes (0.2 of its light: read by mirroring its lower half) and its pupil a little
    below the centre the eye's points give (0.35 radii, 0.3 radii wide): the kept top holds no second pupil,
    hardly a pixel 0.5-0.68 radii over the centre as dark as the pupil against the iris there (mirrored or
    read round the ring, it lay there: half of them)."""
    img, lm, mesh, moved = _eye_face(open_up=0.12)
    dotted = img.copy()
    yy, xx = np.mgrid[0:img.shape[0], 0:img.shape[1]]
    for k in (0, 1):
        c = _centre(lm, k)
        r = IRIS * float(np.linalg.norm(lm[LM_EYES[k][3]] - lm[LM_EYES[k][0]]))
        dotted[np.hypot(xx - c[0], yy - c[1] - 0.35 * r) <= 0.3 * r] = (12, 10, 10)
        over = (np.hypot(xx - c[0], yy - c[1]) <= r + 1) & (yy < c[1] - 0.05 * r)
        dotted[over] = (dotted[over] * 0.2).astype(np.uint8)
    out = _widened(dotted, lm, mesh, moved)
    for k in (0, 1):
        c = _centre(lm, k)
        r = IRIS * float(np.linalg.norm(lm[LM_EYES[k][3]] - lm[LM_EYES[k][0]]))
        x0, x1 = int(round(c[0] - 0.2 * r)), int(round(c[0] + 0.2 * r)) + 1
        top = _luma(out[int(round(c[1] - 0.68 * r)):int(round(c[1] - 0.5 * r)) + 1, x0:x1])
        ring = _luma(out[int(round(c[1] + 0.7 * r)):int(round(c[1] + 0.85 * r)) + 1, x0:x1]).mean()
        assert (top < 0.4 * ring).mean() <= 0.1, (top.round(), ring)
