"""Survey answers of the learners: reaction, relevance, confidence and application.

Response rates are realistic (~62% of completers at the end of a course, fewer for
the follow-up), and some submissions are anonymous (empty ``person_id``).
"""

from __future__ import annotations

import numpy as np

from impactlens.services.demo_data.catalogue import PROGRAMS
from impactlens.services.demo_data.timeline import DAY, END

ANONYMOUS_SHARE = 0.15  # survey submissions without a person_id
CONFIDENCE = (0.01, 0.05, 0.20, 0.50, 0.24)  # answers 1..5 to "confident to apply it?"
SECOND = np.timedelta64(1, "s")

#: (person_id, program, start, end or NaT, status) of one learner in one program
Learner = tuple[str, str, np.datetime64, np.datetime64, str]
Row = dict[str, object]


def at_work(rng: np.random.Generator, day: np.datetime64) -> np.datetime64:
    """A timestamp during office hours on ``day``."""
    return day.astype("datetime64[s]") + int(rng.integers(8 * 3600, 17 * 3600)) * SECOND


def stamp(ts: np.datetime64) -> str:
    """ISO 8601 text of a timestamp, to the second."""
    return str(ts.astype("datetime64[s]"))


def _submission(
    rng: np.random.Generator,
    submission: str,
    person: str,
    program: str,
    when: np.datetime64,
    answers: list[tuple[str, str, str]],
) -> list[Row]:
    """One survey submission: a row per (level, question, response), maybe anonymous."""
    who = "" if rng.random() < ANONYMOUS_SHARE else person
    rows: list[Row] = []
    for level, question, response in answers:
        comment = ""
        if question == "satisfaction" and rng.random() < 0.15:
            comment = str(rng.choice(PROGRAMS[program].comments))
        rows.append(
            {
                # the store keys surveys by response_id alone, so it names the question too
                "response_id": f"{submission}-{question}",
                "program": program,
                "person_id": who,
                "level": level,
                "question_id": question,
                "response": response,
                "submitted_at": stamp(when),
                "comment": comment,
            }
        )
    return rows


def _pct(value: float, low: int) -> str:
    """A percentage answer as people give it: a multiple of 5 between ``low`` and 100."""
    return str(int(np.clip(5 * round(value / 5), low, 100)))


def survey_rows(rng: np.random.Generator, learners: list[Learner]) -> list[Row]:
    """End-of-course and follow-up survey rows for every learner."""
    rows: list[Row] = []
    counter: dict[str, int] = {}

    def next_id(program: str) -> str:
        counter[program] = counter.get(program, 0) + 1
        prefix = "".join(part[0] for part in program.split("-")).upper()
        return f"{prefix}-{counter[program]:05d}"

    for person, program, start, end, status in learners:
        spec = PROGRAMS[program]
        done = status == "completed"
        closed = end if done else start + spec.weeks * 7 * DAY
        # end-of-course survey: ~62% of completers answer, a quarter of dropouts
        if rng.random() < (0.62 if done else 0.25):
            answers = [
                ("reaction", "satisfaction", str(rng.choice(5, p=spec.satisfaction) + 1)),
                ("relevance", "relevance", str(rng.choice(5, p=spec.relevance) + 1)),
                ("confidence", "confidence", str(rng.choice(5, p=CONFIDENCE) + 1)),
            ]
            when = at_work(rng, closed + int(rng.integers(0, 6)) * DAY)
            rows += _submission(rng, next_id(program), person, program, when, answers)
        # application follow-up about eight weeks later, if it has happened by END
        follow_up = closed + (56 + int(rng.integers(0, 8))) * DAY
        if done and follow_up <= END and rng.random() < 0.55:
            applied = rng.random() < spec.applied_share
            share = rng.normal(spec.contribution_pct, 15) if applied else 0.0
            answers = [
                ("application", "applied", "yes" if applied else "no"),
                ("application", "contribution_pct", _pct(share, 0)),
                ("application", "confidence_pct", _pct(rng.normal(70, 15), 10)),
            ]
            when = at_work(rng, follow_up)
            rows += _submission(rng, next_id(program), person, program, when, answers)
    return rows
