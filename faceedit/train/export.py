"""Export a trained generator as a registry-ready checkpoint with a generated model card."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from faceedit.data import data_licence, data_names
from faceedit.faces.types import CropTemplate
from faceedit.files import write_model_card
from faceedit.models.base import EditModel
from faceedit.models.checkpoint import save_model


def export_paths(run_dir: str | os.PathLike, arch: str, export: str | os.PathLike | None = None
                 ) -> tuple[Path, Path]:
    """The files a training run exports: the checkpoint (``export``, by default
    ``RUN/<the architecture's last name part>.safetensors``) and its model card beside it
    (``.md``), for the command to check before it trains and for :func:`export_model`."""
    path = Path(export) if export else Path(run_dir) / f"{arch.rsplit('/', 1)[-1]}.safetensors"
    return path, path.with_suffix(".md")


def export_model(
    model: EditModel,
    path: str | os.PathLike,
    *,
    arch: str,
    targets: list[str],
    template: CropTemplate,
    datasets: list[dict],
    metrics: dict,
    command: str,
    budget: dict,
    method: str,
    notes: str = "",
    extra: dict[str, Any] | None = None,
    conditions: dict[str, Any] | None = None,
    channels: int = 3,
    config: dict | None = None,
) -> tuple[str, str]:
    """Write ``path`` (.safetensors, fp16) and ``path`` with .md (model card). Returns
    (checkpoint path, sha256).

    The header's config is the model's own typed config (``model.config``), captured by
    ``save_model``; ``config`` is only for a model without one (a plugin's), or must equal it."""
    path = Path(path)
    names = data_names(datasets)
    licence = data_licence(names)
    meta = {
        "arch": arch,
        **({"config": config} if config is not None else {}),
        "conditions": {"targets": targets, **(conditions or {})},
        "image_size": template.size,
        "channels": channels,
        "template": template.to_json(),
        "training_data": ", ".join(names),
        "license": licence,
        "metrics": metrics,
        **(extra or {}),
    }
    sha = save_model(str(path), model, meta)
    config = model.config if getattr(model, "cfg", None) is not None else config or {}  # as written
    size_mb = path.stat().st_size / 1e6
    card = f"""# {path.stem}: {method}, trained by faceedit

- **Method**: {method} (paper text in `shared/papers/`); architecture `{arch}`.
- **Targets**: {", ".join(targets)}
- **Crop**: {template.size} px, template {json.dumps(template.to_json())}
- **File**: `{path.name}`, {size_mb:.1f} MB, fp16 safetensors, sha256 `{sha}`
- **Training data**: {", ".join(names)} (prepared with `faceedit prepare`, held-out subjects never
  used for training; see metrics)
- **Licence**: code MIT; weights carry the data terms: {licence}

## How it was trained

```
{command}
```

Budget: {json.dumps(budget)}

Config: `{json.dumps(config)}`

## Measured on held-out subjects

```json
{json.dumps(metrics, indent=1)}
```

{notes}
"""
    write_model_card(export_paths(path.parent, arch, path)[1], card, license="other", library_name="faceedit", tags=["faceedit", arch])
    return str(path), sha
