"""The benches' one list of held-out London people, and the ``--ids`` words they read through it."""

from __future__ import annotations

import pytest
from _bench import load_bench
from conftest import SHARED_DATA

from faceedit.data import holdout_subjects


def test_ids_words_name_training_held_out_none_and_lists(tmp_path):
    ids = load_bench("london_ids")
    (tmp_path / "neutral").mkdir()
    for i in ("001", "002", "008", "014", "020"):  # 008 and 014 are held out
        (tmp_path / "neutral" / f"{i}.jpg").write_bytes(b"")
    assert ids.london_ids(tmp_path, "train") == ["001", "002", "020"]
    assert ids.london_ids(tmp_path, "train", pairs=1, skip=1) == ["002"]
    assert ids.london_ids(tmp_path, "held") == list(ids.HELD_OUT)
    assert ids.london_ids(tmp_path, "none") == []
    assert ids.london_ids(tmp_path, "005,001") == ["005", "001"]
    assert ids.HELD_OUT_CSV.split(",") == list(ids.HELD_OUT)


@pytest.mark.skipif(not (SHARED_DATA / "london_hd" / "neutral").is_dir(),
                    reason="needs ../shared/data/london_hd (see README: the London Face Research Lab set)")
def test_held_out_list_is_the_trainers_split_of_london_hd():
    ids = load_bench("london_ids")
    people = {f"london-{p.stem}" for p in (SHARED_DATA / "london_hd" / "neutral").glob("*.jpg")}
    assert sorted(ids.HELD_OUT) == sorted(s.removeprefix("london-") for s in holdout_subjects(people))
