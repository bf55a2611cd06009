"""The impact plan: ``plans/<program>.yaml`` as the public contract defines it.

Only ``program`` and each KPI's ``id``, ``direction`` and ``unit`` are required;
everything else is optional here and reported by ``impactlens check`` when missing.
"""

from __future__ import annotations

import difflib
import hashlib
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from impactlens.domain.errors import PlanError
from impactlens.domain.pilot import PilotSection

Rung = Literal["assigned", "enrolled", "completed"]
ComparisonMethod = Literal["auto", "randomised", "matched", "staggered", "synthetic", "none"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Objective(_Strict):
    """The strategic performance objective: the business outcome and the behaviours."""

    outcome: str | None = None
    behaviours: list[str] = Field(default_factory=list)


class Asset(_Strict):
    """One learning asset of the program's cluster."""

    id: str
    kind: str | None = None


class Participants(_Strict):
    """Which rung of participation counts as trained."""

    status: Rung = "completed"


class KpiSpec(_Strict):
    """A business KPI the program should move."""

    id: str
    direction: Literal["increase", "decrease"]
    unit: Literal["person", "team"]
    baseline: float | None = None
    target: float | None = None
    value_per_unit: float | None = None
    primary: bool = False


class Comparison(_Strict):
    """How the comparison group is chosen."""

    method: ComparisonMethod = "auto"
    covariates: list[str] = Field(default_factory=list)
    eligible: dict[str, str | int | float | bool | list[str | int | float | bool]] = Field(
        default_factory=dict
    )


class RoiRules(_Strict):
    """Phillips guiding principles, each switchable (all on by default).

    Phillips & Phillips, *Show Me the Money* (2007), the twelve guiding principles:
    the most conservative alternative, first-year benefits for short programs, no data
    means no improvement, fully loaded costs.
    """

    conservative_alternative: bool = True
    first_year_only: bool = True
    non_respondents_zero: bool = True
    fully_loaded_costs: bool = True


class RoiSettings(_Strict):
    """Assumptions of the Phillips ROI calculation."""

    horizon_months: float = Field(default=12, gt=0)
    margin: float = Field(default=1.0, ge=0)
    decay: float = Field(default=0.0, ge=0, le=1)
    intangibles: list[str] = Field(default_factory=list)
    rules: RoiRules = Field(default_factory=RoiRules)


class PlanPrivacy(_Strict):
    """The plan's privacy threshold."""

    min_group_size: int = Field(default=5, ge=1)


class ImpactPlan(_Strict):
    """A whole impact plan.

    Examples:
        >>> kpi = {"id": "csat", "direction": "increase", "unit": "person"}
        >>> plan = ImpactPlan.model_validate({"program": "p", "kpis": [kpi]})
        >>> plan.primary_kpis()[0].id
        'csat'
    """

    program: str
    title: str | None = None
    objective: Objective | None = None
    sponsor: str | None = None
    stakeholders: list[str] = Field(default_factory=list)
    personas: list[str] = Field(default_factory=list)
    segments: list[str] = Field(default_factory=list)
    assets: list[Asset] = Field(default_factory=list)
    participants: Participants = Field(default_factory=Participants)
    kpis: list[KpiSpec] = Field(default_factory=list)
    comparison: Comparison = Field(default_factory=Comparison)
    roi: RoiSettings = Field(default_factory=RoiSettings)
    privacy: PlanPrivacy = Field(default_factory=PlanPrivacy)
    pilot: PilotSection | None = None  # a randomised pilot's design and stop/scale rules

    @field_validator("program")
    @classmethod
    def _program_is_an_id(cls, v: str) -> str:
        if not v or any(c.isspace() for c in v):
            raise ValueError("program must be a non-empty id without spaces")
        return v

    def primary_kpis(self) -> list[KpiSpec]:
        """The primary KPIs; when none is marked primary, every KPI counts."""
        marked = [k for k in self.kpis if k.primary]
        return marked or list(self.kpis)

    def kpi(self, kpi_id: str) -> KpiSpec:
        """The KPI with this id (KeyError when the plan has none)."""
        for k in self.kpis:
            if k.id == kpi_id:
                return k
        raise KeyError(kpi_id)


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel]:
    """The pydantic model that owns the key at ``loc`` (for typo suggestions)."""
    model: type[BaseModel] = ImpactPlan
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            break
        ann = field.annotation
        args = getattr(ann, "__args__", ()) or (ann,)
        nxt = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if nxt is None:
            break
        model = nxt
    return model


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at ``loc``, when the composed tree has it."""
    line = None
    for part in loc:
        if node is None:
            break
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            match = next((kv for kv in node.value if kv[0].value == part), None)
            if match is None:
                break
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def parse_plan(text: str, source: str) -> ImpactPlan:
    """Parse plan YAML text; ``source`` names the file in error messages.

    A typo'd key is pointed at, with the key it probably meant.

    Examples:
        >>> try:
        ...     parse_plan("program: p\\nsponser: Jo\\n", "plans/p.yaml")
        ... except PlanError as exc:
        ...     print(exc)
        plans/p.yaml, row 2, column 'sponser': unknown key 'sponser'; did you mean 'sponsor'?
    """
    try:
        data: Any = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PlanError(
            source,
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            row=mark.line + 1 if mark else None,
        ) from exc
    if not isinstance(data, dict):
        raise PlanError(source, "a plan must be a YAML mapping with at least 'program' and 'kpis'")
    try:
        return ImpactPlan.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc)
        line = _line_of(node, loc)
        if err["type"] == "extra_forbidden":
            bad = str(loc[-1])
            options = _allowed_keys(_model_at(loc))
            close = difflib.get_close_matches(bad, options, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(options)}"
            raise PlanError(source, f"unknown key {bad!r}; {hint}", row=line, column=key) from exc
        if err["type"] == "missing":
            raise PlanError(
                source, f"missing required key {loc[-1]!r}", row=line, column=key
            ) from exc
        raise PlanError(source, f"{err['msg']}", row=line, column=key) from exc


def plan_sha256(text: str) -> str:
    """The plan's content hash recorded in provenance."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
