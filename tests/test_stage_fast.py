"""The stage's fast render against its exact one (faceedit/stage/precision.py): within 45 dB
PSNR inside the face box on the astronaut and London faces (512 px, and one London HD face at
its own 1350 px), for expressions, a control and an attribute; the exact render switch; the
cubic fill between coarse nodes (faceedit/stage/warp.py)."""

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
#: The London neutral faces edited (held-out ids), shrunk to 512 px as the speed bench's photos
#: (099: the laugh whose lip gap tests/test_stage_laugh.py reads).
LONDON = ("008", "061", "099", "126")
#: The London HD photos edited at their own 1350 px (a broad smile: the warp's cut and the mouth
#: fill at their largest), with the edit back to neutral besides.
LONDON_HD = (("smiling", "099"),)


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


def fast_and_exact(editor, photo: np.ndarray, edits=EDITS) -> list[tuple[str, float, bool]]:
    """Per edit of ``edits``: (its label, the lowest face-box PSNR of fast against exact, whether
    they differ)."""
    stage = editor.stage or editor.loaded.model
    found = editor.detector.detect(photo)
    assert found, "no face found"
    faces = [StageFace(np.asarray(f.landmarks, np.float64), f.dense) for f in found]
    out = []
    for request in edits:
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
@pytest.mark.parametrize("kind,stem", LONDON_HD)
def test_fast_render_within_45_db_of_exact_on_a_london_hd_face(editor, shared_data, kind, stem):
    from faceedit.eval.world import read_rgb

    path = shared_data / "london_hd" / kind / f"{stem}.jpg"
    if not path.is_file():
        pytest.skip(f"{path}: no London HD photo")
    check(fast_and_exact(editor, read_rgb(path), (*EDITS[:3], EditRequest.of("neutral", 1.0))))


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


def test_broad_blurs_on_a_coarse_grid_stay_within_a_quarter_level_of_exact():
    """The fast render's broad blurs (faceedit.stage.relief, from COARSE_BLUR_PX up) on a grid a
    whole factor coarser: within a quarter of a level of the full-resolution blur on the astronaut
    enlarged to a 1350-px photo's face, weighted or not, three blurs in from the crop's edges
    (the relief band the cheeks' flattening takes off; its mask is 0 nearer them); narrower
    blurs are the exact render's own."""
    import cv2

    from faceedit.stage import relief

    crop = cv2.resize(np.asarray(astronaut(), np.float32), (1200, 1200))[100:700, 250:750].copy()
    weight = np.clip(np.linspace(-0.5, 1.5, crop.shape[1], dtype=np.float32)[None].repeat(crop.shape[0], 0), 0, 1)
    for fine, broad, w in ((5.0, 36.0, None), (2.0, 20.0, weight), (1.0, 16.0, None)):
        with exact_render():
            want = relief.relief_band(crop, fine, broad, w)
        got = relief.relief_band(crop, fine, broad, w)
        assert got.shape == want.shape and not np.array_equal(got, want)
        m = int(3 * broad)
        assert np.abs(got - want)[m:-m, m:-m].max() < 0.25, (broad, float(np.abs(got - want)[m:-m, m:-m].max()))
    with exact_render():
        want = relief.relief_band(crop, 1.0, 0.95 * relief.COARSE_BLUR_PX)
    np.testing.assert_array_equal(relief.relief_band(crop, 1.0, 0.95 * relief.COARSE_BLUR_PX), want)
