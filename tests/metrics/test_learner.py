"""Learner-goal metrics against scipy and hand computation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats

from impactlens.domain.plan import ImpactPlan
from impactlens.metrics.learner import PARTICIPANT_ESTIMATE_LABEL, learner_metrics

PLAN = ImpactPlan.model_validate({"program": "prog", "personas": ["new", "senior"]})

# negotiation: 0-100, phased; pairs of p1, p2, p3, p6, p8
NEG_PRE = [40.0, 50.0, 60.0, 55.0, 70.0]
NEG_POST = [55.0, 60.0, 62.0, 70.0, 80.0]
NEG_PEOPLE = ["p1", "p2", "p3", "p6", "p8"]
CONF_PRE = [2.0, 3.0, 3.0, 2.0, 4.0]
CONF_POST = [4.0, 3.0, 4.0, 3.0, 5.0]


def _a(person: str, skill: str, at: str, score: float, **extra: Any) -> dict[str, Any]:
    return {"person_id": person, "skill": skill, "taken_at": at, "score": score,
            "program": "prog", **extra}  # fmt: skip


def _assessments(with_confidence: bool = True) -> list[dict[str, Any]]:
    rows = []
    for i, p in enumerate(NEG_PEOPLE):
        pre_c = CONF_PRE[i] if with_confidence else None
        post_c = CONF_POST[i] if with_confidence else None
        rows.append(_a(p, "negotiation", "2024-01-05", NEG_PRE[i], phase="pre", confidence=pre_c))
        rows.append(
            _a(p, "negotiation", "2024-03-05", NEG_POST[i], phase="post", confidence=post_c)
        )
    rows += [
        _a("p1", "negotiation", "2024-01-01", 10.0, phase="post"),  # a post before the pre...
        _a("p1", "negotiation", "2024-06-01", 99.0, phase="followup"),  # ...and a follow-up
        _a("p4", "negotiation", "2024-01-05", 10.0, phase="pre"),  # exempt: left out
        _a("p4", "negotiation", "2024-03-05", 90.0, phase="post"),
        _a("p11", "negotiation", "2024-01-05", 10.0, phase="pre"),  # control arm: left out
        _a("p11", "negotiation", "2024-03-05", 90.0, phase="post"),
        _a("p5", "negotiation", "2024-01-05", 30.0, phase="pre"),  # no post: no pair
        # excel on a 1-5 scale without phases: first vs last, rescaled to 0-100
        _a("p1", "excel", "2024-01-01", 2.0, min_score=1.0, max_score=5.0),
        _a("p1", "excel", "2024-02-01", 3.0, min_score=1.0, max_score=5.0),
        _a("p1", "excel", "2024-03-01", 4.0, min_score=1.0, max_score=5.0),
        _a("p2", "excel", "2024-01-01", 3.0, min_score=1.0, max_score=5.0),
        _a("p2", "excel", "2024-03-01", 5.0, min_score=1.0, max_score=5.0),
        _a("p8", "excel", "2024-01-01", 3.0, min_score=1.0, max_score=5.0),  # single row
        {**_a("p9", "excel", "2024-01-01", 1.0, min_score=1.0, max_score=5.0), "program": None},
        {**_a("p9", "excel", "2024-03-01", 4.0, min_score=1.0, max_score=5.0), "program": ""},
        # no program and not a participant, or another program: left out
        {**_a("p12", "excel", "2024-01-01", 1.0, max_score=5.0), "program": None},
        {**_a("p12", "excel", "2024-03-01", 5.0, max_score=5.0), "program": None},
        {**_a("p3", "excel", "2024-01-01", 1.0, max_score=5.0), "program": "other"},
        {**_a("p3", "excel", "2024-03-01", 5.0, max_score=5.0), "program": "other"},
    ]
    return rows


@pytest.fixture
def tables(make_tables: Any, rows: Any) -> Any:
    def build(with_confidence: bool = True, extra_surveys: tuple = ()) -> Any:
        people = rows.people(
            ("p1", "new", None), ("p2", "new", None), ("p3", "new", None),
            ("p6", "new", None), ("p8", "senior", None), ("p9", "senior", None),
        )  # fmt: skip
        participation = rows.participation(
            "prog", ("p1", "completed"), ("p2", None), ("p3", "completed"), ("p4", "exempt"),
            ("p5", "dropped"), ("p6", "enrolled"), ("p8", "completed"), ("p9", "completed"),
            ("p11", None, "control"),
        )  # fmt: skip
        surveys = rows.surveys(
            ("p1", "application", "applied", "yes", 1.0),
            ("p2", "application", "applied", "No", None),  # parsed from the text
            (None, "application", "applied", "yes", 1.0),  # anonymous: in the share
            ("p8", "application", "applied", "Yes", None),
            ("p1", "application", "contribution_pct", "50", 50.0),
            ("p2", "application", "contribution_pct", "20", 20.0),
            (None, "application", "contribution_pct", "80", 80.0),  # in the mean, not paired
            ("p1", "application", "confidence_pct", "80", 80.0),
            ("p2", "application", "confidence_pct", "50", 50.0),
            ("p3", "application", "applied", "no", 0.0, "2024-02-01", "other"),
            *extra_surveys,
        )
        return make_tables(
            people=people,
            participation=participation,
            assessments=_assessments(with_confidence),
            surveys=surveys,
        )

    return build


def test_paired_gain_matches_scipy(tables: Any) -> None:
    m = learner_metrics(tables(), PLAN, min_group_size=1)
    neg = next(s for s in m["skills"] if s["skill"] == "negotiation")
    pre, post = np.array(NEG_PRE), np.array(NEG_POST)
    test = stats.ttest_rel(post, pre)
    ci = test.confidence_interval(0.95)
    diff = post - pre
    assert neg["n"] == 5
    assert neg["pre_mean"] == pytest.approx(pre.mean(), abs=1e-3)
    assert neg["post_mean"] == pytest.approx(post.mean(), abs=1e-3)
    assert neg["gain"] == pytest.approx(diff.mean(), abs=1e-3)
    assert neg["ci_low"] == pytest.approx(ci.low, abs=1e-3)
    assert neg["ci_high"] == pytest.approx(ci.high, abs=1e-3)
    assert neg["p_value"] == float(f"{test.pvalue:.4g}")
    assert neg["d_z"] == pytest.approx(diff.mean() / diff.std(ddof=1), abs=1e-3)
    assert neg["normalised_gain"] == pytest.approx(
        (post.mean() - pre.mean()) / (100 - pre.mean()), abs=1e-4
    )
    assert neg["confidence_change"] == pytest.approx(np.mean(CONF_POST) - np.mean(CONF_PRE))
    assert neg["rescaled"] is False


def test_unphased_first_vs_last_and_rescaling(tables: Any) -> None:
    m = learner_metrics(tables(), PLAN, min_group_size=1)
    excel = next(s for s in m["skills"] if s["skill"] == "excel")
    # p1 2->4, p2 3->5, p9 1->4 on 1-5 become 25->75, 50->100, 0->75
    pre, post = np.array([25.0, 50.0, 0.0]), np.array([75.0, 100.0, 75.0])
    ci = stats.ttest_rel(post, pre).confidence_interval(0.95)
    assert excel["n"] == 3 and excel["rescaled"] is True
    assert (excel["pre_mean"], excel["post_mean"], excel["gain"]) == (25.0, 83.333, 58.333)
    assert (excel["ci_low"], excel["ci_high"]) == (round(ci.low, 3), round(ci.high, 3))
    assert excel["normalised_gain"] == 0.7778  # (83.33 - 25) / (100 - 25)
    assert excel["confidence_change"] is None and excel["confidence_n"] == 0


def test_exempt_and_control_people_are_left_out(tables: Any) -> None:
    m = learner_metrics(tables(), PLAN, min_group_size=1)
    assert [s["skill"] for s in m["skills"]] == ["excel", "negotiation"]
    assert m["pairs"] == 8 and m["exempt_excluded"] == 1
    assert m["confidence_change"] == 1.0 and m["confidence_source"] == "assessments"


def test_application_and_participant_estimates(tables: Any) -> None:
    m = learner_metrics(tables(), PLAN, min_group_size=1)
    assert (m["applying_share"], m["applying_n"], m["scrap_learning"]) == (0.75, 4, 0.25)
    assert m["participant_estimates"] == {
        "method": PARTICIPANT_ESTIMATE_LABEL,
        "contribution_pct_mean": 50.0,  # (50 + 20 + 80) / 3, anonymous included
        "contribution_n": 3,
        "confidence_pct_mean": 65.0,
        "confidence_n": 2,
        "adjusted_share_mean": 0.25,  # (0.5 x 0.8 + 0.2 x 0.5) / 2, identified people only
        "adjusted_n": 2,
    }


def test_confidence_change_from_surveys_when_assessments_lack_it(tables: Any) -> None:
    extra = (
        ("p1", "confidence", "conf", "2", 2.0, "2024-01-01"),
        ("p1", "confidence", "conf", "4", 4.0, "2024-03-01"),
        ("p2", "confidence", "conf", "3", 3.0, "2024-01-01"),
        ("p2", "confidence", "conf", "3", 3.0, "2024-03-01"),
        (None, "confidence", "conf", "5", 5.0, "2024-03-01"),  # anonymous: cannot be paired
        ("p3", "confidence", "conf", "5", 5.0, "2024-03-01"),  # one answer: no change
    )
    m = learner_metrics(tables(False, extra), PLAN, min_group_size=1)
    assert (m["confidence_change"], m["confidence_change_n"]) == (1.0, 2)
    assert m["confidence_source"] == "surveys"


def test_by_persona_and_its_suppression(tables: Any) -> None:
    shown = learner_metrics(tables(), PLAN, min_group_size=1)["by_persona"]
    neg = {r["persona"]: r for r in shown if r["skill"] == "negotiation"}
    assert neg["new"]["n"] == 4 and neg["new"]["gain"] == 10.5  # (15 + 10 + 2 + 15) / 4
    assert neg["senior"]["n"] == 1 and neg["senior"]["ci_low"] is None  # one pair: no interval
    hidden = learner_metrics(tables(), PLAN, min_group_size=2)["by_persona"]
    neg = {r["persona"]: r for r in hidden if r["skill"] == "negotiation"}
    assert neg["senior"]["suppressed_reason"] == "small group"
    assert neg["new"]["suppressed_reason"] == "complementary"
    assert neg["new"]["gain"] is None and neg["new"]["skill"] == "negotiation"


def test_no_data_gives_none_not_errors(make_tables: Any) -> None:
    m = learner_metrics(make_tables(), PLAN, min_group_size=5)
    assert m["skills"] == [] and m["pairs"] == 0
    assert m["applying_share"] is None and m["scrap_learning"] is None
    assert m["confidence_change"] is None and m["confidence_source"] is None
    assert m["participant_estimates"]["adjusted_share_mean"] is None
    assert m["by_persona"] == []


def test_a_skill_measured_on_too_few_people_is_suppressed(tables: Any) -> None:
    """Privacy: excel has 3 pairs, negotiation 5; with a threshold of 5 excel is hidden."""
    m = learner_metrics(tables(), PLAN, min_group_size=5)
    excel = next(s for s in m["skills"] if s["skill"] == "excel")
    neg = next(s for s in m["skills"] if s["skill"] == "negotiation")
    assert excel["suppressed"] is True and excel["gain"] is None and excel["n"] is None
    assert neg["suppressed"] is False and neg["gain"] is not None
