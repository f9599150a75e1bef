"""The stage's fast render against its exact one (faceedit/stage/precision.py): within 45 dB
PSNR inside the face box on the astronaut and London faces, for expressions, a control and an
attribute; the exact render switch; the cubic fill between coarse nodes
(faceedit/stage/warp.py)."""

from __future__ import annotations

import numpy as np
import pytest
from _imgs import astronaut

from faceedit.eval.head import psnr
from faceedit.models.request import EditRequest
from faceedit.stage.precision import exact_render, is_exact
from faceedit.stage.records import StageFace
from faceedit.stage.warp import Grid, half_grid, upsample_nodes

EDITS = (
    EditRequest.of("happy", 1.0),
    EditRequest.of("surprised", 1.0),
    EditRequest.of("sad", 1.0),
    EditRequest.of("keep", 1.0, controls={"blink": 1.0}),
    EditRequest.of("keep", 1.0, attrs={"glasses": "on"}),
)
#: The London neutral faces edited (held-out ids), shrunk to 512 px as the speed bench's photos.
LONDON = ("008", "061", "126")


@pytest.fixture(scope="module")
def editor():
    from faceedit.api import Editor

    return Editor.from_pretrained("stage", device="cpu")


def face_box_psnr(exact: np.ndarray, fast: np.ndarray, box) -> float:
    h, w = exact.shape[:2]
    where = np.zeros((h, w), bool)
    x0, y0 = max(int(np.floor(box[0])), 0), max(int(np.floor(box[1])), 0)
    where[y0:min(int(np.ceil(box[3])), h), x0:min(int(np.ceil(box[2])), w)] = True
    return psnr(exact, fast, where)


def fast_and_exact(editor, photo: np.ndarray) -> list[tuple[str, float, bool]]:
    """Per edit: (its label, the lowest face-box PSNR of fast against exact, whether they differ)."""
    stage = editor.stage or editor.loaded.model
    found = editor.detector.detect(photo)
    assert found, "no face found"
    faces = [StageFace(np.asarray(f.landmarks, np.float64), f.dense) for f in found]
    out = []
    for request in EDITS:
        with exact_render():
            assert is_exact()
            exact = stage.edit_photo(photo, faces, request)[0]
        assert not is_exact()
        fast = stage.edit_photo(photo, faces, request)[0]
        label = f"{request.target} {request.controls or ''}{request.attrs or ''}"
        out.append((label, min(face_box_psnr(exact, fast, f.box) for f in found), not np.array_equal(exact, fast)))
    return out


def check(results: list[tuple[str, float, bool]]) -> None:
    low = [(label, db) for label, db, _ in results if db < 45.0]
    assert not low, f"fast render under 45 dB in the face box: {low}"
    # the expressions move the face: the fast path is taken (a render the same as exact tests nothing)
    assert any(differs for label, _, differs in results if label.startswith(("happy", "surprised", "sad")))


def test_fast_render_within_45_db_of_exact_on_the_astronaut(editor):
    check(fast_and_exact(editor, np.array(astronaut())))


@pytest.mark.shared_data
@pytest.mark.parametrize("stem", LONDON)
def test_fast_render_within_45_db_of_exact_on_london_faces(editor, shared_data, stem):
    from PIL import Image

    img = Image.open(shared_data / "london" / "neutral" / f"{stem}.jpg").convert("RGB")
    scale = 512 / max(img.size)
    img = img.resize((round(img.width * scale), round(img.height * scale)), Image.BICUBIC)
    check(fast_and_exact(editor, np.asarray(img)))


@pytest.mark.shared_data
def test_fast_render_within_45_db_of_exact_on_a_full_resolution_face(editor, shared_data, monkeypatch):
    """A 1350-px London face (eyes about 2.5 times the maps' frame apart): the fast render samples
    the appearance maps at every other pixel (faceedit.stage.paint.canonical_maps), within 45 dB."""
    from PIL import Image

    import faceedit.stage.paint as paint

    steps, every = [], paint._every
    monkeypatch.setattr(paint, "_every", lambda grid, roi, k: steps.append(k) or every(grid, roi, k))
    photo = np.asarray(Image.open(shared_data / "london_hd" / "neutral" / "008.jpg").convert("RGB"))
    results = fast_and_exact(editor, photo)
    check(results)
    assert steps and min(steps) >= 2


def test_maps_sampled_every_kth_pixel_spread_back_bilinearly():
    """canonical_maps' coarse sampling (the fast render on a large face): a linear map's samples at
    every k-th pixel of a ROI (one beyond its end) spread back to every pixel are the map itself."""
    from faceedit.stage.paint import _every, _upsampled

    grid, roi = Grid(10.3, 5.7, 4.5, 40, 30), (12, 8, 113, 90)
    for k in (2, 3, 5):
        gx, gy = _every(grid, roi, k)
        assert gx.shape == (-(-(roi[3] - roi[1] - 1) // k) + 1, -(-(roi[2] - roi[0] - 1) // k) + 1)
        fx, fy = grid.pixel_coords(roi)
        cols, rows = fx[0, ::k], fy[::k, 0]  # the ROI's own pixels among the samples
        np.testing.assert_allclose(gx[0, :len(cols)], cols, atol=1e-5)
        np.testing.assert_allclose(gy[:len(rows), 0], rows, atol=1e-5)
        coarse = np.stack([0.5 * gx + 0.25 * gy, 2.0 - gy], -1).astype(np.float32)
        up = _upsampled(coarse, k, (roi[2] - roi[0], roi[3] - roi[1]))
        want = np.stack([0.5 * fx + 0.25 * fy, 2.0 - fy], -1)
        assert up.shape == want.shape
        np.testing.assert_allclose(up, want, atol=0.02)  # OpenCV places samples to 1/32 of a coarse pixel


def test_exact_render_nests_and_ends():
    assert not is_exact()
    with exact_render():
        with exact_render():
            assert is_exact()
        assert is_exact()
    assert not is_exact()


def test_cubic_fill_between_coarse_nodes_keeps_them_and_is_exact_on_cubics():
    """The nodes given are kept; between them a cubic along each axis is reproduced exactly
    (away from the last row and column, extended linearly)."""
    grid = Grid(3.0, -2.0, 1.5, 12, 9)
    half = half_grid(grid)
    assert (half.nx, half.ny) == (7, 5) and half.step == 3.0

    def field(p: np.ndarray) -> np.ndarray:
        x, y = p[..., 0], p[..., 1]
        return np.stack([0.01 * x ** 3 - 0.2 * x * y + y, 0.003 * y ** 3 + x ** 2 * 0.05], -1)

    up = upsample_nodes(field(half.points()), grid.ny, grid.nx)
    want = field(grid.points())
    assert up.shape == want.shape
    assert np.allclose(up[::2, ::2], field(half.points())[:5, :6])
    assert np.allclose(up[2:-2, 2:-2], want[2:-2, 2:-2])
    assert not np.allclose(up[1, 1:-1], want[1, 1:-1])  # next to the edge: the linear extension
