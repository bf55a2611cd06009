"""Numbers, money, percentages and the verdict wording of the impact report.

Numbers are rounded to what their interval supports, in the tone of
``docs/report.md``: a sponsor reads "fell by 0.6 (between 0.4 and 0.8)", not
"-0.6128 [-0.8391, -0.3804]".
"""

from __future__ import annotations

import math
from typing import Any

from impactlens.domain.result import AnalysisResult, KpiResult

# z(0.975) + z(0.8): the contract's minimum-detectable-effect multiplier (alpha 0.05, power 0.8).
_MDE_MULTIPLIER = 1.959964 + 0.841621
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
_HIGH_SATISFACTION = 4.0  # of 5; the same line metrics.vanity uses for "loved it"


def kpi_label(kpi_id: str) -> str:
    """A KPI id in plain words, capitalised.

    Examples:
        >>> kpi_label("complaints_per_100")
        'Complaints per 100'
    """
    words = kpi_id.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else kpi_id


def decimals_for(ci_low: float | None, ci_high: float | None, value: float | None = None) -> int:
    """Decimals that the interval supports.

    The rounding step is at most half the interval's half-width, so rounding never
    moves a number by more than a quarter of its uncertainty. Without an interval,
    two significant figures of the value.

    Examples:
        >>> decimals_for(-0.84, -0.38)
        1
        >>> decimals_for(-1.1, 1.7)
        1
        >>> decimals_for(None, None, 1234.5)
        0
    """
    if ci_low is not None and ci_high is not None and ci_high != ci_low:
        half = abs(ci_high - ci_low) / 2
        return min(6, max(0, math.ceil(-math.log10(half / 2))))
    if value is None or value == 0 or not math.isfinite(value):
        return 1
    return min(6, max(0, 1 - math.floor(math.log10(abs(value)))))


def fmt_number(value: float | None, decimals: int | None = None, *, signed: bool = False) -> str:
    """A number with thousands separators; ``n/a`` for None.

    Examples:
        >>> fmt_number(1290)
        '1,290'
        >>> fmt_number(0.3, 1, signed=True)
        '+0.3'
        >>> fmt_number(None)
        'n/a'
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if decimals is None:
        decimals = 0 if float(value).is_integer() else decimals_for(None, None, value)
    # -0.0 would read as a direction the number does not have.
    rounded = round(float(value), decimals) or 0.0
    return f"{rounded:+,.{decimals}f}" if signed else f"{rounded:,.{decimals}f}"


def fmt_pct(fraction: float | None, decimals: int = 0, *, signed: bool = False) -> str:
    """A fraction as a percentage.

    Examples:
        >>> fmt_pct(0.145)
        '14%'
        >>> fmt_pct(-0.145, signed=True)
        '-14%'
    """
    if fraction is None or not math.isfinite(fraction):
        return "n/a"
    return fmt_number(fraction * 100, decimals, signed=signed) + "%"


def fmt_money(amount: float | None, currency: str = "EUR") -> str:
    """Money with the currency's symbol (or code) and no cents above 100.

    Examples:
        >>> fmt_money(750000, "EUR")
        '€750,000'
        >>> fmt_money(-1200.5, "CHF")
        '-1,200 CHF'
    """
    if amount is None or not math.isfinite(amount):
        return "n/a"
    decimals = 0 if abs(amount) >= 100 else 2
    body = f"{abs(amount):,.{decimals}f}"
    sign = "-" if amount < 0 and float(body.replace(",", "")) != 0 else ""
    symbol = _SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {currency.upper()}"


def primary_kpi(result: AnalysisResult) -> KpiResult | None:
    """The KPI the verdict speaks about: the first primary one, else the first."""
    marked = [k for k in result.kpis if k.primary]
    candidates = marked or result.kpis
    return candidates[0] if candidates else None


def unit_noun(kpi: KpiResult, n: int | None = None) -> str:
    """``people``/``teams`` (singular when ``n`` is 1)."""
    one = n == 1
    if kpi.unit == "team":
        return "team" if one else "teams"
    return "person" if one else "people"


def excludes_zero(kpi: KpiResult) -> bool:
    """Whether the 95% interval lies entirely on one side of zero."""
    if kpi.ci_low is None or kpi.ci_high is None:
        return False
    return kpi.ci_low > 0 or kpi.ci_high < 0


def is_improvement(kpi: KpiResult) -> bool | None:
    """Whether the measured effect points the way the plan wants; None without an effect."""
    if kpi.effect is None or kpi.effect == 0:
        return None
    return (kpi.effect < 0) == (kpi.direction == "decrease")


def _evidence(kpi: KpiResult) -> str:
    parts = [kpi.method] if kpi.method else []
    if kpi.n_comparison:
        parts.append(
            f"{kpi.n_treated:,} trained vs {kpi.n_comparison:,} comparison "
            f"{unit_noun(kpi, kpi.n_comparison)}"
        )
    else:
        parts.append(f"{kpi.n_treated:,} trained {unit_noun(kpi, kpi.n_treated)}, no comparison")
    return f"Evidence: {kpi.evidence} ({', '.join(parts)})."


def _target_clause(kpi: KpiResult) -> str:
    if kpi.baseline is None or kpi.target is None or kpi.baseline == 0:
        return ""
    rel = abs(kpi.target - kpi.baseline) / abs(kpi.baseline)
    return f" — the target was {fmt_pct(rel)}"


def _mde_relative(kpi: KpiResult) -> float | None:
    """Smallest relative effect the data could have seen (contract's MDE, from the SE)."""
    given = kpi.diagnostics.get("mde_relative")
    if isinstance(given, int | float):
        return abs(float(given))
    if kpi.ci_low is None or kpi.ci_high is None or not kpi.pre_mean_treated:
        return None
    se = (kpi.ci_high - kpi.ci_low) / (2 * 1.959964)
    return _MDE_MULTIPLIER * se / abs(kpi.pre_mean_treated)


def _not_enough(kpi: KpiResult) -> str:
    who = f"{kpi.n_treated:,} trained {unit_noun(kpi, kpi.n_treated)}"
    if kpi.n_comparison:
        who += f" and {kpi.n_comparison:,} in the comparison group"
    text = f"Not enough data yet: {who}"
    mde = _mde_relative(kpi)
    if mde is not None:
        text += f"; an effect smaller than {fmt_pct(mde)} could not be seen"
    needed = kpi.diagnostics.get("needed_for_target")
    if isinstance(needed, int | float) and needed > 0:
        return text + f". Extend the pilot to {int(needed):,} {unit_noun(kpi, int(needed))}."
    return text + ". Extend the pilot or measure for longer."


def _satisfaction(result: AnalysisResult) -> float | None:
    op = (result.metrics or {}).get("operational")
    value = op.get("satisfaction_mean") if isinstance(op, dict) else None
    return float(value) if isinstance(value, int | float) else None


def verdict_sentence(result: AnalysisResult) -> str:
    """The verdict in one sentence: the primary KPI's change, its interval and the evidence.

    Examples:
        >>> from impactlens.domain.result import Provenance, RoiResult
        >>> prov = Provenance(version="0", plan_sha256="", data_sha256="", engine="",
        ...                   computed_at="")
        >>> roi = RoiResult(benefits=None, costs=None, roi_pct=None, roi_pct_low=None,
        ...                 roi_pct_high=None, bcr=None)
        >>> verdict_sentence(AnalysisResult(program="p", kpis=[], metrics={}, roi=roi,
        ...                                 provenance=prov, warnings=[]))
        'Not enough data yet: the plan names no business KPI. Add a primary KPI to the plan.'
    """
    kpi = primary_kpi(result)
    if kpi is None:
        return "Not enough data yet: the plan names no business KPI. Add a primary KPI to the plan."
    hidden = kpi.diagnostics.get("hidden")
    if kpi.effect is None and isinstance(hidden, str):
        return hidden_sentences(kpi.kpi, hidden)[0]
    if kpi.evidence == "none" or kpi.effect is None:
        return _not_enough(kpi)
    label = kpi_label(kpi.kpi)
    d = decimals_for(kpi.ci_low, kpi.ci_high, kpi.effect)
    lo, hi = kpi.ci_low, kpi.ci_high
    if excludes_zero(kpi) and lo is not None and hi is not None:
        verb = "fell" if kpi.effect < 0 else "rose"
        small, large = sorted((abs(lo), abs(hi)))
        text = (
            f"{label} {verb} by {fmt_number(abs(kpi.effect), d)} "
            f"{'in trained teams' if kpi.unit == 'team' else 'among trained people'} "
            f"(between {fmt_number(small, d)} and {fmt_number(large, d)})"
        )
        if kpi.relative_effect is not None:
            text += f", about {fmt_pct(abs(kpi.relative_effect))}"
        if is_improvement(kpi):
            text += _target_clause(kpi)
        else:
            text += " — the opposite of what the program aimed for"
        return f"{text}. {_evidence(kpi)}"
    change = (
        f"{fmt_number(kpi.effect, d, signed=True)}, between "
        f"{fmt_number(lo, d, signed=True)} and {fmt_number(hi, d, signed=True)}"
    )
    sat = _satisfaction(result)
    vanity = (result.metrics or {}).get("vanity_flag")
    if sat is not None and sat >= _HIGH_SATISFACTION:
        return (
            f"Learners loved it ({fmt_number(sat, 1)}/5) but {label[:1].lower() + label[1:]} "
            f"did not move ({change}). {_evidence(kpi)}"
        )
    if vanity:
        return (
            f"Learners took part but {label[:1].lower() + label[1:]} did not move "
            f"({change}). {_evidence(kpi)}"
        )
    return (
        f"{label} did not clearly move ({change}); the program may have had no effect. "
        f"{_evidence(kpi)}"
    )


def hidden_sentences(kpi: str, reason: str) -> tuple[str, str]:
    """The verdict and the next step a viewer reads when a KPI's results are hidden.

    Examples:
        >>> hidden_sentences("csat", "3 trained people, fewer than 5")[0]
        'Csat: the results are hidden from viewers (3 trained people, fewer than 5).'
    """
    return (
        f"{kpi_label(kpi)}: the results are hidden from viewers ({reason}).",
        "Ask an analyst: with so few people trained, the results are shown to analysts only; "
        "training more people makes them visible here.",
    )


def next_step_sentence(result: AnalysisResult) -> str:
    """What next, stated: scale, fix, stop, or measure longer.

    ``result.next_step`` wins when the analysis set one.
    """
    if result.next_step:
        return result.next_step
    kpi = primary_kpi(result)
    if kpi is not None and kpi.effect is None and isinstance(kpi.diagnostics.get("hidden"), str):
        return hidden_sentences(kpi.kpi, kpi.diagnostics["hidden"])[1]
    if kpi is None or kpi.evidence == "none" or kpi.effect is None:
        return (
            "Measure longer: keep collecting KPI data (or widen the pilot) "
            "until an effect of the size you need could be seen."
        )
    if kpi.evidence == "weak":
        return (
            "Measure properly before deciding: run a pilot with a comparison group "
            "(randomised if possible); before/after numbers cannot separate the program "
            "from everything else that changed."
        )
    if excludes_zero(kpi):
        if not is_improvement(kpi):
            return "Stop or redesign: the KPI moved the wrong way for trained people."
        low, high = result.roi.roi_pct_low, result.roi.roi_pct_high
        if high is not None and high < 0:
            return (
                "Stop or redesign: the KPI moved, but even the best case of the interval does "
                f"not pay back the costs (ROI at most {high:.0f}%); cut costs sharply or stop."
            )
        if kpi.target_met is False:
            return (
                "Fix, then scale: the KPI improved but fell short of the target; strengthen "
                "what carries over to the job and measure the next cohort."
            )
        if low is not None and low < 0:
            return (
                "Scale with care: the effect is real but the ROI range includes a loss; "
                "cut delivery costs or target the people who gain most first."
            )
        return "Scale: roll the program out to the remaining eligible people and keep measuring."
    if (result.metrics or {}).get("vanity_flag") or (_satisfaction(result) or 0) >= 4.0:
        return (
            "Fix or stop: people like the program but the business KPI has not moved; "
            "rework what happens on the job after training, or stop spending on it."
        )
    return (
        "Fix or measure longer: the interval includes zero, so the program may have had "
        "no effect; check that people apply what they learn, then measure again."
    )


def as_float(value: Any) -> float | None:
    """A number from a free-form metrics dict, or None.

    Examples:
        >>> as_float("3"), as_float(None), as_float(True)
        (3.0, None, None)
    """
    if isinstance(value, bool) or value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None
