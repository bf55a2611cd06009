"""Small-group suppression and complementary suppression."""

from __future__ import annotations

from impactlens.metrics.privacy import suppress_groups

ROWS = [
    {"persona": "new", "n": 12, "rate": 0.5},
    {"persona": "senior", "n": 3, "rate": 1.0},
    {"persona": "lead", "n": 7, "rate": 0.25},
    {"persona": "intern", "n": 9, "rate": 0.75},
]


def test_nothing_hidden_when_every_group_is_big_enough() -> None:
    out = suppress_groups(ROWS, "n", 3, total=31)
    assert [r["n"] for r in out] == [12, 3, 7, 9]
    assert all(r["suppressed"] is False and r["suppressed_reason"] is None for r in out)


def test_one_small_group_and_a_total_hides_the_smallest_other() -> None:
    out = suppress_groups(ROWS, "n", 5, total=31)
    assert out[1] == {
        "persona": "senior", "n": None, "rate": None,
        "suppressed": True, "suppressed_reason": "small group",
    }  # fmt: skip
    # 31 - 12 - 7 - 9 would give the 3 back; hiding 'lead' (7, the smallest shown) stops it
    assert out[2] == {
        "persona": "lead", "n": None, "rate": None,
        "suppressed": True, "suppressed_reason": "complementary",
    }  # fmt: skip
    assert [r["n"] for r in out] == [12, None, None, 9]


def test_no_complement_without_a_total() -> None:
    out = suppress_groups(ROWS, "n", 5, total=None)
    assert [r["suppressed"] for r in out] == [False, True, False, False]


def test_two_small_groups_need_no_complement() -> None:
    out = suppress_groups(ROWS, "n", 8, total=31)
    assert [r["suppressed_reason"] for r in out] == [None, "small group", "small group", None]


def test_complement_ties_take_the_first_row() -> None:
    rows = [{"g": "a", "n": 2}, {"g": "b", "n": 6}, {"g": "c", "n": 6}]
    out = suppress_groups(rows, "n", 5, total=14)
    assert [r["suppressed"] for r in out] == [True, True, False]


def test_labels_keep_named_keys_and_missing_counts_are_hidden() -> None:
    rows = [{"value": 3, "label": "grade 3", "n": None}, {"value": 4, "label": "x", "n": 20}]
    out = suppress_groups(rows, "n", 5, total=None, labels=("value",))
    assert out[0] == {
        "value": 3, "label": None, "n": None, "suppressed": True,
        "suppressed_reason": "small group",
    }  # fmt: skip
    assert rows[0]["label"] == "grade 3"  # input rows are not modified
