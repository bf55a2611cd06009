"""Grade the evidence behind an estimate by the contract's rules, saying why."""

from __future__ import annotations

from typing import Literal

from impactlens.estimators.base import Estimate

Grade = Literal["strong", "moderate", "weak", "none"]
MIN_UNITS = 5
MIN_PRE_PERIODS = 2
PRETREND_ALPHA = 0.05
MAX_SMD = 0.1
MAX_TRIMMED = 0.05


def grade(est: Estimate) -> tuple[Grade, list[str]]:
    """The evidence grade of ``est`` and every check behind it, in plain words.

    none: fewer than 5 units in a group, no pre- or post-period, no estimate, or a
    KPI that does not vary (standard error 0); strong: randomised (unless
    randomisation inference has too few assignments to bound the effect: moderate),
    or a comparison group passing all four checks (at least 2 pre-periods, pre-trend
    p > 0.05, largest |SMD| after weighting < 0.1, at most 5% trimmed); moderate: a
    comparison group failing or unable to run a check; weak: no comparison group.

    Examples:
        >>> est = Estimate("k", "m", 1.0, 0.5, 1.5, 0.01, 0.25, 40, 0, has_comparison=False,
        ...                n_pre_periods=6, n_post_periods=4)
        >>> grade(est)[0]
        'weak'
    """
    reasons: list[str] = []
    sizes_ok = est.n_treated >= MIN_UNITS and (
        not est.has_comparison or est.n_comparison >= MIN_UNITS
    )
    if est.has_comparison:
        reasons.append(
            f"{est.n_treated} trained and {est.n_comparison} comparison units "
            f"({'at least' if sizes_ok else 'fewer than'} {MIN_UNITS} in each group)"
        )
    else:
        reasons.append(
            f"{est.n_treated} trained units ({'at least' if sizes_ok else 'fewer than'} "
            f"{MIN_UNITS})"
        )
    periods_ok = est.n_pre_periods > 0 and est.n_post_periods > 0
    reasons.append(f"{est.n_pre_periods} pre-periods and {est.n_post_periods} post-periods")
    if est.effect is None:
        reasons.append("no estimate could be computed: " + "; ".join(est.notes))
    if not (sizes_ok and periods_ok) or est.effect is None:
        return "none", reasons
    if est.se is not None and est.se <= 0:
        # A constant KPI (e.g. all zeros) gives effect 0 with a zero-width interval:
        # a number that looks exact but carries no information either way.
        reasons.append(
            "the KPI does not vary in the compared cells (standard error 0): the estimate "
            "and its zero-width interval carry no evidence either way"
        )
        return "none", reasons

    if est.randomised:
        clusters = est.diagnostics.get("n_clusters")
        level = est.diagnostics.get("assignment_level", "unit")
        plural = {"team": "teams", "person": "people"}.get(str(level), "units")
        count = f" ({clusters} {plural})" if clusters is not None else ""
        reasons.append(f"randomised by {level}{count}")
        if est.pretrend_p is not None:
            reasons.append(f"pre-trend test p = {est.pretrend_p:.2g} (for information)")
        ri = est.diagnostics.get("randomisation_inference")
        if isinstance(ri, dict) and ri.get("ci_low") is None and ri.get("n_assignments"):
            # e.g. one treated team: re-drawing the arms cannot reject any effect at 95%
            reasons.append(
                f"randomisation inference failed: only {ri['n_assignments']:,} possible "
                "assignments, too few to rule out any effect at 95%"
            )
            return "moderate", reasons
        return "strong", reasons
    if not est.has_comparison:
        reasons.append("no comparison group: trend projection of the trained units only")
        return "weak", reasons

    checks = [_pre_periods(est), _pretrend(est), _balance(est), _overlap(est)]
    reasons.extend(text for _, text in checks)
    return ("strong" if all(ok for ok, _ in checks) else "moderate"), reasons


def _pre_periods(est: Estimate) -> tuple[bool, str]:
    ok = est.n_pre_periods >= MIN_PRE_PERIODS
    verdict = "passed" if ok else f"failed: at least {MIN_PRE_PERIODS} needed"
    return ok, f"{est.n_pre_periods} pre-periods before the start ({verdict})"


def _pretrend(est: Estimate) -> tuple[bool, str]:
    if est.pretrend_p is None:
        return False, "pre-trend test could not run (too few pre-periods or units)"
    ok = est.pretrend_p > PRETREND_ALPHA
    verdict = "passed" if ok else f"failed: {PRETREND_ALPHA} or below"
    return ok, f"pre-trend test p = {est.pretrend_p:.2g} ({verdict})"


def _balance(est: Estimate) -> tuple[bool, str]:
    if est.max_smd_after is None:
        return False, "balance could not be checked"
    ok = est.max_smd_after < MAX_SMD
    verdict = "below" if ok else "not below"
    return ok, (
        f"largest standardised difference after weighting {est.max_smd_after:.2f} "
        f"({verdict} {MAX_SMD})"
    )


def _overlap(est: Estimate) -> tuple[bool, str]:
    if est.trimmed_share is None:
        return False, "overlap could not be checked"
    ok = est.trimmed_share <= MAX_TRIMMED
    verdict = "at most" if ok else "more than"
    return ok, f"{est.trimmed_share:.1%} of units trimmed for overlap ({verdict} {MAX_TRIMMED:.0%})"
