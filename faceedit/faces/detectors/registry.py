"""The face detector registry: each backend module registers its name, how to build it and how
to tell whether it can run here (:func:`register`); :func:`get_detector` picks one by name
(``auto``: the first registered with ``auto=True`` that can run) and caches it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from faceedit.errors import UsageError
from faceedit.faces.detectors.base import Detector

log = logging.getLogger("faceedit")

AUTO = "auto"
"""The name that picks the first backend of :func:`auto_order` that can run here."""


@dataclass(frozen=True)
class Backend:
    """One registered detector backend.

    ``build(device, allow_download)`` creates it; ``status(allow_download)`` is None when it can
    run here, else the reason it cannot (cheap: no torch, no model loaded). ``auto``: whether
    ``auto`` may pick it (in registration order). ``keyed_by``: the arguments that make a
    different detector object (the others share one cached object). ``points``: the landmarks
    it gives per face (68, or opencv's 5: too few for the stage, which moves the 68)."""

    name: str
    build: Callable[[str, bool], Detector]
    status: Callable[[bool], str | None]
    auto: bool = True
    keyed_by: tuple[str, ...] = ()
    points: int = 68


_BACKENDS: dict[str, Backend] = {}
_CACHE: dict[tuple, Detector] = {}
_CACHE_LOCK = threading.Lock()


def register(name: str, build: Callable[[str, bool], Detector], status: Callable[[bool], str | None],
             *, auto: bool = True, keyed_by: tuple[str, ...] = (), points: int = 68) -> None:
    """Add a backend under ``name`` (lower case, not ``auto``); see :class:`Backend`."""
    if name != name.strip().lower() or name == AUTO:
        raise ValueError(f"detector name {name!r}: give a lower-case name other than {AUTO!r}")
    if name in _BACKENDS:
        raise ValueError(f"a face detector named {name!r} is already registered")
    unknown = set(keyed_by) - {"device", "allow_download"}
    if unknown:
        raise ValueError(f"keyed_by {sorted(unknown)}: only device and allow_download")
    _BACKENDS[name] = Backend(name, build, status, auto, tuple(keyed_by), int(points))


def detector_names() -> tuple[str, ...]:
    """Every registered backend, in registration order (the order ``auto`` tries them in)."""
    return tuple(_BACKENDS)


def auto_order() -> tuple[str, ...]:
    """The backends ``auto`` tries, first to last."""
    return tuple(n for n, b in _BACKENDS.items() if b.auto)


def available_detectors(allow_download: bool = False) -> dict[str, str | None]:
    """name -> None when that backend can run here, else the reason it cannot."""
    return {n: b.status(allow_download) for n, b in _BACKENDS.items()}


def landmark_points(name: str = AUTO, allow_download: bool = False) -> tuple[str, int]:
    """The backend ``name`` stands for (``auto``: the one :func:`get_detector` would pick here)
    and the landmarks it gives per face, without creating it. UsageError as :func:`get_detector`
    raises it."""
    chosen, _ = _choose(name, allow_download)
    return chosen, _BACKENDS[chosen].points


def require_points(name: str, points: int, needs: str, allow_download: bool = False) -> None:
    """UsageError where detector ``name`` (``auto`` as :func:`get_detector` resolves it) gives
    fewer than ``points`` landmarks per face, naming what ``needs`` them and the backends that
    give enough and can run here."""
    chosen, have = landmark_points(name, allow_download)
    if have >= points:
        return
    usable = [n for n, b in _BACKENDS.items() if b.points >= points and b.status(allow_download) is None]
    advice = f"use `detector` {' or '.join(usable)}" if usable else "none that gives them can run here"
    raise UsageError(f"face detector {chosen} finds {have} landmarks per face; {needs} needs {points}: {advice}")


def get_detector(name: str = AUTO, device: str = "cpu", allow_download: bool = False) -> Detector:
    """The detector ``name`` (one of :func:`detector_names` or ``auto``), created once and reused.

    ``auto`` picks the first of :func:`auto_order` that can run without a download (``fan`` when
    its package is importable and its weights cached, else ``mediapipe``, whose weights ship in
    ``weights/``: measured by ``bench/bench_faces.py`` on this project's CPU, about 4x faster
    than ``dlib`` on 512-px photos on torch and 2-3x faster again on LiteRT (its CPU runtime),
    with equal recall on London/JAFFE/Yale, 0.96 against 0.34 on Extended Yale B, a lower
    London eye-centre error and roll up to about 60 degrees; else ``dlib``, else ``opencv``),
    and logs the choice on the ``faceedit`` logger.
    Raises :class:`UsageError` for an unknown name, or a known one that cannot run here (with
    the reason and the names that can).
    """
    chosen, skipped = _choose(name, allow_download)
    backend = _BACKENDS[chosen]
    args = {"device": str(device), "allow_download": bool(allow_download)}
    key = (chosen, *(args[k] for k in backend.keyed_by))
    with _CACHE_LOCK:
        det = _CACHE.get(key)
        if skipped is not None:  # auto: say which one (at INFO the first time, when it is loaded)
            log.log(
                logging.DEBUG if det is not None else logging.INFO, "face detector: %s%s", chosen,
                f" (not available: {'; '.join(skipped)})" if skipped else "",
            )
        if det is None:
            try:
                det = backend.build(device, allow_download)
            except UsageError:
                raise
            except Exception as e:
                raise UsageError(f"face detector {chosen!r} failed to load: {type(e).__name__}: {e}") from e
            _CACHE[key] = det
    return det


def _choose(name: str, allow_download: bool) -> tuple[str, list[str] | None]:
    """The backend ``name`` stands for and, for ``auto``, the backends passed over with their
    reasons (None for a name given)."""
    key_name = (name or AUTO).strip().lower()
    if key_name not in _BACKENDS and key_name != AUTO:
        raise UsageError(
            f"unknown face detector {name!r}; choose one of: {AUTO}, {', '.join(_BACKENDS)}"
        )
    if key_name == AUTO:
        skipped: list[str] = []
        for chosen in auto_order():
            reason = _BACKENDS[chosen].status(allow_download)
            if reason is None:
                return chosen, skipped
            skipped.append(f"{chosen} ({reason})")
        raise UsageError("no face detector can run here: " + "; ".join(skipped))
    reason = _BACKENDS[key_name].status(allow_download)
    if reason is not None:
        usable = [n for n, r in available_detectors(allow_download).items() if r is None]
        raise UsageError(
            f"face detector {key_name!r} is not available: {reason}; "
            f"available: {', '.join(usable) or 'none'}"
        )
    return key_name, None


def clear_detector_cache() -> None:
    """Forget the cached detector objects (tests; after installing weights)."""
    with _CACHE_LOCK:
        _CACHE.clear()
