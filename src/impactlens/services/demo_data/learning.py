"""Learning records of the participants: activity, assessments and surveys.

The records are messy the way real exports are: part of the activity comes from a
second LMS that names people by ``lms_account`` (epoch timestamps, ``H:M:S``
durations), about 0.5% of rows name people missing from the HR file, and some
survey answers are anonymous.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from impactlens.services.demo_data.catalogue import PROGRAMS, VERBS, AssetSpec
from impactlens.services.demo_data.surveys import (
    SECOND,
    Learner,
    Row,
    at_work,
    stamp,
    survey_rows,
)
from impactlens.services.demo_data.timeline import DAY

UNKNOWN_SHARE = 0.005  # activity rows naming people who are not in the people file
LMS_SHARE = 0.2  # activity rows exported by the second LMS
PASS_MARK = 70.0


@dataclass(frozen=True)
class LearningRecords:
    """The learning-side import files, as frames."""

    activity: pd.DataFrame
    activity_lms: pd.DataFrame
    assessments: pd.DataFrame
    surveys: pd.DataFrame


def _asset_rows(
    rng: np.random.Generator,
    person: str,
    program: str,
    asset: AssetSpec,
    when: np.datetime64,
    finishes: bool,
) -> list[Row]:
    minutes = round(max(1.0, rng.normal(asset.minutes, asset.minutes * 0.3)), 1)
    base: Row = {"person_id": person, "program": program, "asset_id": asset.id}
    rows: list[Row] = []
    if asset.kind == "quiz":
        for attempt in range(1, 4):
            score = float(np.clip(round(rng.normal(78, 12)), 20, 100))
            passed = score >= PASS_MARK
            aid = f"{person}-{asset.id}-{attempt}"
            scored: Row = {"score": score, "max_score": 100.0, "attempt_id": aid}
            attempted: Row = {
                "verb": "attempted",
                "timestamp": stamp(when),
                "duration_minutes": minutes,
                "success": str(passed).lower(),
            }
            rows.append(base | scored | attempted)
            verdict = "passed" if passed else "failed"
            done_at = when + int(minutes * 60) * SECOND
            rows.append(base | scored | {"verb": verdict, "timestamp": stamp(done_at)})
            if passed or not finishes:
                break
            when = when + int(rng.integers(1, 4)) * DAY  # try again a few days later
        return rows
    for verb in VERBS[asset.kind]:
        if verb == "completed" and asset.kind != "coaching" and not finishes:
            continue
        row: Row = base | {"verb": verb, "timestamp": stamp(when)}
        if verb != "launched":
            row |= {"duration_minutes": minutes, "progress_pct": 100.0}
            if verb == "completed" and asset.kind in {"microlearning", "elearning"}:
                row["timestamp"] = stamp(when + int(minutes * 60) * SECOND)
        rows.append(row)
    return rows


def _activity(rng: np.random.Generator, learners: list[Learner]) -> list[Row]:
    rows: list[Row] = []
    for person, program, start, end, status in learners:
        spec = PROGRAMS[program]
        done = status == "completed"
        span = int((end - start) / DAY) if done else spec.weeks * 7
        # people who drop out stop somewhere before the last asset
        reach = len(spec.assets) if done else int(rng.integers(1, len(spec.assets)))
        for k, asset in enumerate(spec.assets[:reach]):
            day = start + int(span * (k + rng.random()) / len(spec.assets)) * DAY
            finishes = done or k < reach - 1
            rows += _asset_rows(rng, person, program, asset, at_work(rng, day), finishes)
    return rows


def _hms(minutes: float) -> str:
    seconds = round(minutes * 60)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _split_sources(
    rng: np.random.Generator, frame: pd.DataFrame, people: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Move a share of rows to the second LMS's export; plant unknown people in both."""
    n = len(frame)
    ghosts = np.array([f"E9{k:04d}" for k in rng.integers(0, 10000, 12)])
    unknown = rng.random(n) < UNKNOWN_SHARE
    frame.loc[unknown, "person_id"] = ghosts[rng.integers(0, len(ghosts), unknown.sum())]
    to_lms = (~unknown) & (rng.random(n) < LMS_SHARE)
    main = frame[~to_lms].reset_index(drop=True)
    lms = frame[to_lms].reset_index(drop=True)
    account = people.set_index("person_id")["lms_account"]
    lms.insert(0, "lms_account", lms.pop("person_id").map(account))
    stray = rng.random(len(lms)) < UNKNOWN_SHARE
    lms.loc[stray, "lms_account"] = [f"lms-{k}" for k in rng.integers(100000, 999999, stray.sum())]
    # the second LMS speaks epoch seconds and H:M:S durations
    stamps = pd.to_datetime(lms["timestamp"]).to_numpy().astype("datetime64[s]")
    lms["timestamp"] = stamps.astype("int64")
    lms["duration_minutes"] = [_hms(m) if m == m else "" for m in lms["duration_minutes"]]
    return main, lms


def _assessments(rng: np.random.Generator, learners: list[Learner]) -> list[Row]:
    rows: list[Row] = []
    for person, program, start, end, status in learners:
        for skill, pre_mean, gain in PROGRAMS[program].skills:
            pre = float(np.clip(round(rng.normal(pre_mean, 12)), 0, 100))
            base = {
                "person_id": person,
                "program": program,
                "skill": skill,
                "min_score": 0,
                "max_score": 100,
            }
            taken = at_work(rng, start - int(rng.integers(1, 5)) * DAY)
            confidence = int(np.clip(round(rng.normal(2.7, 0.8)), 1, 5))
            rows.append(
                base
                | {"phase": "pre", "taken_at": stamp(taken), "score": pre, "confidence": confidence}
            )
            if status == "completed":
                post = float(np.clip(round(pre + rng.normal(gain, 8)), 0, 100))
                confidence = int(np.clip(round(rng.normal(3.9, 0.7)), 1, 5))
                rows.append(
                    base
                    | {
                        "phase": "post",
                        "taken_at": stamp(at_work(rng, end)),
                        "score": post,
                        "confidence": confidence,
                    }
                )
    return rows


def learning_records(
    rng: np.random.Generator, participation: pd.DataFrame, people: pd.DataFrame
) -> LearningRecords:
    """Activity, assessments and surveys for everyone who took part (control arms did not).

    Examples:
        >>> p = pd.DataFrame({"person_id": ["E00001"], "program": ["packaging-pilot"],
        ...     "start_date": ["2026-04-13"], "end_date": ["2026-05-04"], "status": ["completed"]})
        >>> people = pd.DataFrame({"person_id": ["E00001"], "lms_account": ["lms-1001"]})
        >>> rec = learning_records(np.random.default_rng(0), p, people)
        >>> sorted(rec.assessments["phase"].unique())
        ['post', 'pre']
    """
    took_part = participation
    if "arm" in participation:
        took_part = participation[participation["arm"].fillna("") != "control"]
    end = pd.to_datetime(took_part["end_date"].replace("", None)).to_numpy()
    learners: list[Learner] = list(
        zip(
            took_part["person_id"].tolist(),
            took_part["program"].tolist(),
            took_part["start_date"].to_numpy().astype("datetime64[D]"),
            end.astype("datetime64[D]"),
            took_part["status"].tolist(),
            strict=True,
        )
    )
    columns = [
        "person_id",
        "program",
        "asset_id",
        "verb",
        "timestamp",
        "duration_minutes",
        "score",
        "max_score",
        "success",
        "progress_pct",
        "attempt_id",
    ]
    activity = pd.DataFrame(_activity(rng, learners), columns=columns)
    activity = activity.sort_values(["timestamp", "person_id", "verb"], kind="stable")
    main, lms = _split_sources(rng, activity.reset_index(drop=True), people)
    key = ["person_id", "asset_id", "verb", "timestamp"]
    main = main.drop_duplicates(key).reset_index(drop=True)
    lms = lms.drop_duplicates(["lms_account", *key[1:]]).reset_index(drop=True)
    assessments = pd.DataFrame(
        _assessments(rng, learners),
        columns=[
            "person_id",
            "program",
            "skill",
            "phase",
            "taken_at",
            "score",
            "min_score",
            "max_score",
            "confidence",
        ],
    )
    surveys = pd.DataFrame(
        survey_rows(rng, learners),
        columns=[
            "response_id",
            "program",
            "person_id",
            "level",
            "question_id",
            "response",
            "submitted_at",
            "comment",
        ],
    )
    return LearningRecords(main, lms, assessments, surveys)
