"""Prepared datasets (faceedit.data): the held-out split by subject, condition pairs."""

from faceedit.data import condition_pairs, holdout_subjects


def test_holdout_is_seeded_and_by_subject():
    subjects = [f"s{i}" for i in range(10)]
    held = holdout_subjects(subjects, 0.2, seed=0)
    assert len(held) == 2 and held == holdout_subjects(reversed(subjects), 0.2, seed=0)
    assert held != holdout_subjects(subjects, 0.2, seed=1) or len(held) == 10


def _row(pair, role, **labels):
    return {"pair": pair, "role": role, "labels": labels, "file": f"{pair}-{role}-{sorted(labels.items())}"}


def test_condition_pairs_match_expected_labels_and_keep_the_others():
    rows = [
        # a Yale B-like group: front-lit source, lit targets (all neutral)
        _row("b", "source", expression="neutral", lighting="front"),
        _row("b", "target", expression="neutral", lighting="left"),
        _row("b", "target", expression="neutral", lighting="left"),
        _row("b", "target", expression="neutral", lighting="front"),
        # a London-like group: no lighting labels (= front)
        _row("l", "source", expression="neutral"),
        _row("l", "target", expression="happy"),
        # a Yale-like left-lit neutral photo with no role is never a source or a target
        _row("y", None, expression="neutral", lighting="left"),
        _row("y", "source", expression="neutral"),
    ]
    left = condition_pairs(rows, {"lighting": "left"})  # expression kept: neutral
    assert [(s["pair"], t["labels"]["lighting"]) for s, t in left] == [("b", "left"), ("b", "left")]
    happy_front = condition_pairs(rows, {"expression": "happy", "lighting": "front"})
    assert [(s["pair"], t["labels"]["expression"]) for s, t in happy_front] == [("l", "happy")]
    assert condition_pairs(rows, {"expression": "happy"}) == happy_front  # missing lighting reads as front
    assert condition_pairs(rows, {"expression": "happy", "lighting": "left"}) == []
    # nothing to edit: the source already shows the expected labels
    assert condition_pairs(rows, {"expression": "neutral", "lighting": "front"}) == []
