"""Helpers of the faceedit.io and faceedit.files tests: EXIF blocks, an sRGB profile, folder
listings and a tree of input files."""

from __future__ import annotations

import functools
import os

from PIL import Image, ImageCms

ORIENTATION = 0x0112


@functools.cache
def srgb_profile() -> bytes:
    """An sRGB ICC profile, made once: its header holds the time it was made, to the second, so
    two made a second apart differ."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def exif_with(orientation: int | None = None, make: str | None = None) -> Image.Exif:
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION] = orientation
    if make is not None:
        exif[0x010F] = make
    return exif


def listing(folder) -> list[str]:
    return sorted(os.listdir(folder))


def make_tree(root):
    """root/{b.jpg, a.PNG, notes.txt, .hidden.jpg, sub/{c.webp, deep/d.tif}, .git/x.jpg}"""
    for rel in [
        "b.jpg",
        "a.PNG",
        "notes.txt",
        ".hidden.jpg",
        "sub/c.webp",
        "sub/deep/d.tif",
        ".git/x.jpg",
    ]:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
