"""A pilot's plan section and its stop/scale rules (pure: no I/O).

A plan may carry a ``pilot:`` section::

    pilot:
      hypothesis: The checklist cuts complaints per 100 deliveries by 0.5
      unit: team                 # team | people: what is randomised
      share: 0.5                 # share of units in the treatment arm
      alpha: 0.05
      power: 0.8
      start: 2026-04-13          # assignment date
      end: 2026-07-05            # last KPI period the registered analysis reads
      looks: 3                   # planned analyses, the last one included
      decision:
        scale_if: ci_excludes_zero and effect_beyond_target
        stop_if: ci_excludes_target or harmful

A rule is predicate names joined by ``and`` / ``or`` (``and`` binds tighter); the
predicates are :data:`PREDICATES`, each read in the KPI's good direction.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

PREDICATES: dict[str, str] = {
    "ci_excludes_zero": "the interval lies wholly on the good side of zero",
    "effect_beyond_target": "the estimate reaches the plan's target effect (target - baseline)",
    "ci_beyond_target": "the whole interval reaches the target effect",
    "ci_excludes_target": "the whole interval falls short of the target effect",
    "effect_beyond_mde": "the estimate reaches the registered minimum detectable effect",
    "harmful": "the interval lies wholly on the bad side of zero",
    "significant": "the interval excludes zero in either direction",
}
DEFAULT_SCALE_IF = "ci_excludes_zero and effect_beyond_target"
DEFAULT_STOP_IF = "ci_excludes_target or harmful"


def parse_rule(rule: str) -> list[list[str]]:
    """A rule as OR-groups of AND-ed predicate names; unknown names raise ValueError.

    Examples:
        >>> parse_rule("ci_excludes_zero and effect_beyond_target or harmful")
        [['ci_excludes_zero', 'effect_beyond_target'], ['harmful']]
        >>> parse_rule("ci_exclude_zero")
        Traceback (most recent call last):
        ...
        ValueError: unknown condition 'ci_exclude_zero'; did you mean 'ci_excludes_zero'?
    """
    groups: list[list[str]] = []
    for part in rule.split(" or "):
        names = [n.strip() for n in part.split(" and ")]
        for name in names:
            if name not in PREDICATES:
                close = difflib.get_close_matches(name, list(PREDICATES), n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(PREDICATES)}"
                raise ValueError(f"unknown condition {name!r}; {hint}")
        groups.append(names)
    return groups


def evaluate_rule(rule: str, facts: dict[str, bool]) -> bool:
    """Whether ``rule`` holds given each predicate's truth.

    Examples:
        >>> evaluate_rule("ci_excludes_zero and harmful or significant", {"significant": True})
        True
    """
    return any(all(facts.get(n, False) for n in group) for group in parse_rule(rule))


class DecisionRules(BaseModel):
    """Stop/scale rules declared before the pilot starts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scale_if: str = DEFAULT_SCALE_IF
    stop_if: str = DEFAULT_STOP_IF

    @field_validator("scale_if", "stop_if")
    @classmethod
    def _known_predicates(cls, v: str) -> str:
        parse_rule(v)
        return v


class PilotSection(BaseModel):
    """The ``pilot:`` section of a plan."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hypothesis: str | None = None
    primary_kpi: str | None = None
    unit: Literal["team", "people"] = "team"
    share: float = Field(default=0.5, gt=0, lt=1)
    alpha: float = Field(default=0.05, gt=0, lt=1)
    power: float = Field(default=0.8, gt=0, lt=1)
    start: date | None = None
    end: date | None = None
    looks: int = Field(default=1, ge=1, le=10)
    decision: DecisionRules = Field(default_factory=DecisionRules)


@dataclass(frozen=True)
class LookFacts:
    """What a decision reads: the estimate and the interval at this look's boundary."""

    effect: float
    ci_low: float
    ci_high: float
    direction: Literal["increase", "decrease"]
    target_effect: float | None
    mde: float | None

    def predicates(self) -> dict[str, bool]:
        """Each predicate's truth, in the KPI's good direction (increase: up is good).

        Examples:
            >>> f = LookFacts(-0.6, -0.9, -0.3, "decrease", -0.5, 0.4).predicates()
            >>> f["ci_excludes_zero"], f["effect_beyond_target"], f["harmful"]
            (True, True, False)
        """
        sign = 1.0 if self.direction == "increase" else -1.0
        good_low = min(sign * self.ci_low, sign * self.ci_high)
        good_high = max(sign * self.ci_low, sign * self.ci_high)
        effect = sign * self.effect
        target = None if self.target_effect is None else sign * self.target_effect
        return {
            "ci_excludes_zero": good_low > 0,
            "effect_beyond_target": target is not None and effect >= target,
            "ci_beyond_target": target is not None and good_low >= target,
            "ci_excludes_target": target is not None and good_high < target,
            "effect_beyond_mde": self.mde is not None and effect >= abs(self.mde),
            "harmful": good_high < 0,
            "significant": good_low > 0 or good_high < 0,
        }
