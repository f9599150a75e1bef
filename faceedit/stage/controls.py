"""Named fine controls of the stage (``--control smile=0.5,brows=-0.3``): their names, the AU
intensities each sets, and the parsing of a command line's value. No numpy or torch, so the
stage's declaration (:mod:`faceedit.models.catalogue.stage`) and the command line read them
before any model loads; :mod:`faceedit.stage.state` applies them.
"""

from __future__ import annotations

from faceedit.errors import UsageError

#: Named fine controls (``--control smile=0.5,brows=-0.3``), each -1..1, as absolute AU
#: intensities (0..5): name -> (AUs at +1, AUs at -1). ``smile=0.5`` sets AU12 to 2.25, AU6 to 1
#: and AU25 to 0.75 and AU15 to 0; ``smile=-1`` sets AU15 to 4 and the smile's AUs to 0.
CONTROLS: dict[str, tuple[dict[int, float], dict[int, float]]] = {
    "smile": ({12: 4.5, 6: 2.0, 25: 1.5}, {15: 4.0}),  # -1: lip corners down
    "mouth": ({26: 4.0, 25: 3.0}, {17: 3.0}),  # open; -1: chin raised, lips pressed
    "brows": ({1: 4.0, 2: 4.0}, {4: 4.0}),  # up / down (frown)
    "eyes": ({5: 4.0}, {45: 4.5}),  # wide open / closed
}


def parse_controls(spec: str | dict) -> dict[str, float]:
    """``"smile=0.5,brows=-0.3"`` -> {"smile": 0.5, "brows": -0.3}; UsageError on an unknown name,
    a value outside -1..1 or a malformed item."""
    if isinstance(spec, dict):
        items = [f"{k}={v}" for k, v in spec.items()]
    else:
        items = [p for p in spec.replace(";", ",").split(",") if p.strip()]
    out: dict[str, float] = {}
    for item in items:
        name, _, value = item.partition("=")
        name = name.strip().lower()
        if name not in CONTROLS:
            raise UsageError(f"unknown control {name!r}; valid: {', '.join(CONTROLS)} (each -1..1)")
        try:
            v = float(value)
        except ValueError:
            raise UsageError(f"control {name}: {value!r} is not a number (use -1..1)") from None
        if not -1.0 <= v <= 1.0:
            raise UsageError(f"control {name}={v:g} is outside -1..1")
        out[name] = v
    return out


def controls_to_aus(controls: dict[str, float]) -> dict[int, float]:
    """Absolute AU intensities for named controls: the AUs of the control's side take ``|v| *``
    their weight, those of the other side 0 (where two controls name one AU, the larger wins)."""
    aus: dict[int, float] = {}
    for name, v in controls.items():
        pos, neg = CONTROLS[name]
        on, off = (pos, neg) if v >= 0 else (neg, pos)
        for au in off:
            aus.setdefault(au, 0.0)
        for au, w in on.items():
            aus[au] = max(aus.get(au, 0.0), abs(v) * w)
    return aus
