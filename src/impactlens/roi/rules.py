"""Phillips guiding principles as named, switchable rules, each listed in the result.

Phillips & Phillips, *Show Me the Money* (2007), "The twelve guiding principles of
the ROI Methodology": 4. use the most conservative alternative; 6. no data from a
person means no improvement; 9. first-year benefits only for short programs;
10. fully loaded costs. A plan switches each off under ``roi.rules``; the result
lists every rule, whether it was applied and what it did.
"""

from __future__ import annotations

from typing import Any

from impactlens.domain.plan import RoiRules

FIRST_YEAR_MONTHS = 12.0

#: rule -> (Phillips principle, what it does when on, what happens when off)
RULES: dict[str, tuple[str, str, str]] = {
    "conservative_alternative": (
        "Use the most conservative alternative",
        "the conservative figure is the lowest defensible benefit: the lower end of the "
        "effect's 95% interval, or the participants' estimate when that is lower",
        "no conservative figure is given",
    ),
    "first_year_only": (
        "First-year benefits only",
        "benefits are counted for at most 12 months after launch",
        "benefits are counted over the whole horizon of the plan",
    ),
    "non_respondents_zero": (
        "No data from a person means no improvement",
        "in the participants' estimate, trained people who did not answer count as zero",
        "in the participants' estimate, respondents' mean is extrapolated to every trained unit",
    ),
    "fully_loaded_costs": (
        "Fully loaded costs",
        "every cost item of every category counts, prorated by its share",
        "only direct costs count (development and delivery); the rest is left out",
    ),
}


def effective_horizon(rules: RoiRules, horizon_months: float) -> float:
    """The months of benefits counted once the first-year rule is applied.

    Examples:
        >>> off = RoiRules(first_year_only=False)
        >>> effective_horizon(RoiRules(), 24.0), effective_horizon(off, 24.0)
        (12.0, 24.0)
    """
    if rules.first_year_only:
        return min(horizon_months, FIRST_YEAR_MONTHS)
    return horizon_months


def rules_listing(rules: RoiRules) -> list[dict[str, Any]]:
    """One entry per rule: its name, the principle, whether applied and what it did.

    Examples:
        >>> [(r["rule"], r["applied"]) for r in rules_listing(RoiRules(first_year_only=False))][:2]
        [('conservative_alternative', True), ('first_year_only', False)]
    """
    out: list[dict[str, Any]] = []
    for name, (principle, on, off) in RULES.items():
        applied = bool(getattr(rules, name))
        effect = on if applied else off
        out.append({"rule": name, "principle": principle, "applied": applied, "effect": effect})
    return out
