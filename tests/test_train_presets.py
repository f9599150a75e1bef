"""The shared-data presets (faceedit.train.presets): Yale B lighting groups, the layouts of the
shared datasets."""

from pathlib import Path

import pytest

from faceedit.train.presets import PRESETS, yaleb_lighting


def test_yaleb_lighting_groups():
    assert yaleb_lighting(60, 20) == "left" and yaleb_lighting(-60, 20) == "right"
    assert yaleb_lighting(0, 45) == "top" and yaleb_lighting(0, -35) == "bottom"
    assert yaleb_lighting(5, -10) == "front"


@pytest.mark.shared_data
def test_presets_read_the_shared_layouts(shared_data):
    counts = {}
    for name in ("london", "jaffe", "yale", "yaleb"):
        samples = list(PRESETS[name](shared_data / name))
        counts[name] = len(samples)
        assert all(Path(s.path).exists() and s.subject for s in samples)
    assert counts == {"london": 172, "jaffe": 213, "yale": 163, "yaleb": 2452}
    yale = list(PRESETS["yale"](shared_data / "yale"))
    assert not any(s.subject == "yale-subject04" and s.labels.get("expression") == "sad" for s in yale)
    lights = {s.labels["lighting"] for s in PRESETS["yaleb"](shared_data / "yaleb")}
    assert lights == {"front", "left", "right", "top", "bottom", "ambient"}
