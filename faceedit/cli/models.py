"""``faceedit models``: the registered models and the options they take."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from faceedit.cli.common import errors_to_exit_codes


def models(
    as_json: Annotated[bool, typer.Option("--json", help="JSON list on stdout.")] = False,
) -> None:
    """List the registered models, their targets (those their network edits, those the stage
    draws alone), the options they take (lighting classes, AUs, attributes, --phase, --set
    keys, the named controls with their range) and whether their weights are present."""
    from faceedit.models.loading import list_models
    from faceedit.models.options import describe_options

    with errors_to_exit_codes():
        rows = list_models()
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not rows:
        console.print("no models are registered yet")
        return
    table = Table("name", "method", "targets", "size", "weights", "present")
    for r in rows:
        table.add_row(
            r["name"], r["method"], ", ".join(r["targets"]), f"{r['image_size']} px",
            r["weights"], "yes" if r["present"] else "no",
        )
    console.print(table)
    console.print("options (--lighting, --au, --attr, --phase, --set, --control, --light, --like; the "
                  "stage's under every model on it):", markup=False, highlight=False)
    for r in rows:
        console.print(f"  {r['name']}: {describe_options(r['options'])}", markup=False, highlight=False)
    from faceedit.conditions import UNSUPPORTED_ATTRIBUTES, glasses_words
    from faceedit.edits.attributes import ATTRIBUTES

    for a in ATTRIBUTES.values():  # each registered attribute's words
        off = any("off" in field.get("values", {}).get(a.name, []) for r in rows if r["options"]
                  for field in r["options"]["fields"] if field["name"] == "attrs")
        takes = (", ".join(a.words) if a.words else glasses_words(off) if a.style is not None
                 else "on, off, or a number 0..1")
        console.print(f"  --attr {a.name}= takes {takes}", markup=False, highlight=False)
    console.print("not supported (--attr refuses them):", markup=False, highlight=False)
    for name, why in UNSUPPORTED_ATTRIBUTES.items():
        console.print(f"  {name}: {why}", markup=False, highlight=False)
    console.print("targets the network edits, and those the stage draws alone (an output of these is the "
                  "stage's edit; a --json record's \"network\" says per output whether the network's change "
                  "is in it):", markup=False, highlight=False)
    for r in rows:
        if r["network_targets"] is None:
            console.print(f"  {r['name']}: not known until its weights are fetched", markup=False, highlight=False)
            continue
        parts = [f"network: {', '.join(r['network_targets'])}"] if r["network_targets"] else []
        spoilt = [t for t in r["stage_targets"] if t in r["stage_only"]]
        parts.append(f"the stage alone: {', '.join(r['stage_targets'])}" + (
            f" ({', '.join(spoilt)}: the network's change spoilt them; see its card)" if spoilt else ""))
        console.print(f"  {r['name']}: {'; '.join(parts)}", markup=False, highlight=False)
    for r in rows:
        refiner = r.get("refiner")
        if refiner:
            state = ("on by default" if refiner.get("default_on") else "off by default") if refiner["present"] \
                else "not installed"
            console.print(f"{r['name']}: --set refine=on|off ({state}): {refiner.get('description', '')}",
                          markup=False, highlight=False)
