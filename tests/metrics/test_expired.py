"""Expired totals read back into the tiers: attribution, pooling, the caveat."""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import pyarrow as pa
import pytest

from impactlens.domain.plan import ImpactPlan
from impactlens.metrics.expired import expired_totals, pooled_mean
from impactlens.metrics.learner import learner_metrics
from impactlens.metrics.operational import operational_metrics

PLAN = ImpactPlan.model_validate({"program": "prog", "assets": [{"id": "a1"}]})
CAVEAT = "only records since 2025-03-10: earlier person-level records expired under"


def _aggregates(*rows: tuple[Any, ...]) -> ibis.Table:
    keys = ("program", "source", "period", "measure", "value", "rows", "people")
    data = [dict(zip(keys, r, strict=True)) for r in rows]
    schema = pa.schema(
        [("program", pa.string()), ("source", pa.string()), ("period", pa.date32()),
         ("measure", pa.string()), ("value", pa.float64()), ("rows", pa.int64()),
         ("people", pa.int64())]
    )  # fmt: skip
    return ibis.memtable(pa.Table.from_pylist(data, schema))


JAN, FEB = date(2024, 1, 1), date(2024, 2, 1)
EXPIRED = _aggregates(
    ("prog", "activity", JAN, "verb:completed|asset:x", 60.0, 2, 2),  # by program
    ("other", "activity", JAN, "verb:completed|asset:a1", 30.0, 1, 1),  # by plan asset
    ("other", "activity", FEB, "verb:completed|asset:zz", 99.0, 9, 9),  # neither
    (None, "xapi_activity", FEB, "verb:completed|asset:a1", 90.0, 3, 3),  # LRS, by asset
    ("prog", "activity", FEB, "verb:started", 6.0, 1, 1),  # no asset recorded
    ("prog", "surveys", JAN, "answer:sat|level:reaction", 12.0, 3, 3),
    ("prog", "surveys", FEB, "answer:Applied |level:application", 1.0, 2, 2),
    ("other", "surveys", JAN, "answer:sat|level:reaction", 50.0, 10, 10),
    (None, "retention", date(2024, 6, 1), "cutoff", 20.0, 20, 0),
    (None, "retention", date(2025, 3, 10), "cutoff", 5.0, 5, 0),
)


def test_totals_count_for_the_plan_as_live_rows_do() -> None:
    gone = expired_totals({"aggregates": EXPIRED}, PLAN)
    assert gone is not None and gone.cutoff == date(2025, 3, 10)
    assert (gone.activity_rows, gone.minutes, gone.assets) == (7, 186.0, {"x", "a1"})
    assert gone.answered("reaction") == (12.0, 3)
    assert gone.answered("application", "applied") == (1.0, 2)
    assert expired_totals({}, PLAN) is None
    other = ImpactPlan.model_validate({"program": "nobody"})
    assert expired_totals({"aggregates": EXPIRED}, other) is None


def test_pooled_mean_weights_held_and_expired_values() -> None:
    assert pooled_mean(3.0, 1, 12.0, 3, 3) == (3.75, 4)
    assert pooled_mean(float("nan"), 0, 12.0, 3, 3) == (4.0, 3)


def test_operational_and_learner_figures_add_the_expired_totals(
    make_tables: Any, rows: Any
) -> None:
    tables = make_tables(
        people=rows.people(("p1", None, None), ("p2", None, None)),
        participation=rows.participation("prog", ("p1", "completed"), ("p2", "completed")),
        activity=[
            {
                "person_id": "p1",
                "asset_id": "a1",
                "verb": "completed",
                "timestamp": "2025-04-01",
                "program": "prog",
                "duration_minutes": 24.0,
            }
        ],
        surveys=rows.surveys(
            ("p1", "reaction", "sat", "5", 5.0),
            ("p2", "application", "applied", "yes", None),
        ),
    )
    eligible = tables["people"].select("person_id")
    held = operational_metrics(tables, PLAN, eligible=eligible, min_group_size=1)
    assert (held["activity_rows"], held["learning_hours"], held["warnings"]) == (1, 0.4, [])
    tables["aggregates"] = EXPIRED
    op = operational_metrics(tables, PLAN, eligible=eligible, min_group_size=1)
    assert op["activity_rows"] == 1 + 7
    assert op["learning_hours"] == pytest.approx((24 + 186) / 60, abs=0.005)
    assert op["assets_used"] == 2  # a1 held and expired, x expired
    assert (op["satisfaction_mean"], op["satisfaction_n"]) == (4.25, 4)  # (5 + 12) / 4
    assert op["hours_per_learner"] == 0.4  # held rows only: expired learners are not known
    assert [w for w in op["warnings"] if CAVEAT in w] == [
        "active learners, hours per learner, respondents, response rate and the persona and "
        "segment breakdowns count " + CAVEAT + " the retention setting"
    ]
    learner = learner_metrics(tables, PLAN, min_group_size=1)
    assert (learner["applying_share"], learner["applying_n"]) == (round(2 / 3, 4), 3)
    assert learner["warnings"] == [
        "learner gain, confidence change and the adjusted participant share count " + CAVEAT
        + " the retention setting"
    ]  # fmt: skip
