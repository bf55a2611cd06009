"""The demo's impact plans, written as commented YAML in the contract's plan format."""

from __future__ import annotations

from dataclasses import dataclass

from impactlens.services.demo_data.catalogue import CARE, MASTERCLASS, PILOT, PROGRAMS

HEADER = """\
# Impact plan: {title}
# Written by `impactlens demo` for a synthetic company; edit it freely.
# Only `program` and each KPI's id, direction and unit are required; `impactlens check`
# lists what else is missing and why it matters.
"""


@dataclass(frozen=True)
class KpiFigures:
    """The numbers a plan quotes for its KPI, taken from the generated data."""

    baseline: float
    target: float
    value_per_unit: float


#: program -> the parts of the plan that are prose, not numbers
_TEXT: dict[str, dict[str, str]] = {
    CARE: {
        "outcome": "Raise customer satisfaction (CSAT) from {b} to {t} points by year end",
        "behaviours": """
    - Acknowledge the customer's feeling before solving the problem
    - Follow the four de-escalation steps on every complaint call
    - Shadow or be shadowed by a senior colleague once a week""",
        "sponsor": "Director of Customer Care",
        "stakeholders": "[Regional care leads, Quality team, Workforce planning]",
        "personas": "[new agent, senior agent]",
        "participants": "completed   # only completers count as trained; dropouts are in "
        "neither group",
        "kpi": "csat",
        "direction": "increase",
        "unit": "person     # one value per agent per week (mean of rated contacts)",
        "value_note": "EUR per CSAT point, per agent, per week (retention value)",
        "method": "auto  # agents chose to enrol (high performers more often): compare changes",
        "covariates": "[tenure_years, location, employment_type]",
        "eligible": "{department: Customer Care, persona: [new agent, senior agent]}",
        "margin": "1.0",
        "decay": "0.1",
        "intangibles": "[Fewer escalations to team leads, Agents more confident on hard calls]",
    },
    MASTERCLASS: {
        "outcome": "Lift deals closed from {b} to {t} per rep per week",
        "behaviours": """
    - Open every customer pitch with the customer's problem, not our product
    - Use the one-slide summary in every proposal meeting""",
        "sponsor": "VP Sales",
        "stakeholders": "[Sales managers, Marketing]",
        "personas": "[new rep, senior rep]",
        "participants": "completed",
        "kpi": "deals_closed",
        "direction": "increase",
        "unit": "person     # deals closed per rep per week",
        "value_note": "EUR: average order value of one extra deal per rep per week",
        "method": "auto  # reps signed up themselves",
        "covariates": "[tenure_years, location, employment_type]",
        "eligible": "{department: Sales, persona: [new rep, senior rep]}",
        "margin": "0.35  # gross margin on deal value",
        "decay": "0.0",
        "intangibles": "[Better looking proposals, Reps enjoy presenting]",
    },
    PILOT: {
        "outcome": "Cut damaged-parcel complaints from {b} to {t} per 100 deliveries",
        "behaviours": """
    - Run the packaging checklist at every pickup
    - Refuse parcels that fail the fragile-goods check""",
        "sponsor": "Head of Field Operations",
        "stakeholders": "[Regional ops leads, Top drivers panel, Customer Care]",
        "personas": "[new driver, senior driver]",
        "participants": "completed   # randomised: analysed by arm (intention to treat)",
        "kpi": "complaints_per_100",
        "direction": "decrease",
        "unit": "team       # one rate per team per week; `weight` = deliveries",
        "value_note": "EUR per complaint-per-100 avoided, per team, per week",
        "method": "randomised  # teams were assigned to arms by lot, in region pairs",
        "covariates": "[tenure_years, fte]",
        "eligible": "{department: Field Ops}",
        "margin": "1.0",
        "decay": "0.0",
        "intangibles": "[Fewer escalations to managers, Drivers proud of their parcels]",
    },
}


def render_plan(program: str, figures: KpiFigures) -> str:
    """The commented YAML plan of one demo program.

    Examples:
        >>> text = render_plan("packaging-pilot", KpiFigures(4.2, 3.7, 600))
        >>> "unit: team" in text and "method: randomised" in text
        True
    """
    spec, text = PROGRAMS[program], _TEXT[program]
    b, t = f"{figures.baseline:g}", f"{figures.target:g}"
    assets = "\n".join(f"  - {{id: {a.id}, kind: {a.kind}}}" for a in spec.assets)
    return (
        HEADER.format(title=spec.title)
        + f"""\
program: {program}
title: {spec.title}

# The strategic performance objective: the business result and the on-the-job
# behaviours that should produce it (Learning Cluster Design, "Change").
objective:
  outcome: {text["outcome"].format(b=b, t=t)}
  behaviours:{text["behaviours"]}
sponsor: {text["sponsor"]}
stakeholders: {text["stakeholders"]}
personas: {text["personas"]}    # values of the people column `persona`
segments: [location, persona]    # people columns to break results down by

# The learning cluster. Activity rows count for this program when their `program`
# is this id or their `asset_id` is listed here.
assets:
{assets}

participants:
  status: {text["participants"]}

kpis:
  - id: {text["kpi"]}
    direction: {text["direction"]}
    unit: {text["unit"]}
    baseline: {b}    # pre-program mean of the eligible units
    target: {t}
    value_per_unit: {figures.value_per_unit:g}    # {text["value_note"]}
    primary: true

# Who could have been trained, and what to balance the comparison on.
comparison:
  method: {text["method"]}
  covariates: {text["covariates"]}
  eligible: {text["eligible"]}

# Phillips ROI: first-year benefits only, fully loaded costs (data/costs.csv).
roi:
  horizon_months: 12
  margin: {text["margin"]}
  decay: {text["decay"]}
  intangibles: {text["intangibles"]}

privacy:
  min_group_size: 5    # smaller groups are never shown to viewers
"""
    )
