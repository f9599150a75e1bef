"""How exactly the stage renders: every field at the photo's full resolution, or fast.

The fast render (the default) may compute smooth fields (warp displacements, shading ratios,
mattes) on coarse grids and upsample them, and work only inside the face's region; its output
stays within 45 dB PSNR of the exact render inside the face box. The exact render is the
reference that tests and ``bench/`` compare the fast one against:

    with exact_render():
        out = editor.edit(photo, request)

The switch is process-wide (every thread of a batch sees it), not per call.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0


def is_exact() -> bool:
    """True inside :func:`exact_render`: the stage computes every field at full resolution."""
    return _depth > 0


@contextmanager
def exact_render() -> Iterator[None]:
    """Render exactly (every field at full resolution) while the block runs; nests."""
    global _depth
    with _lock:
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
