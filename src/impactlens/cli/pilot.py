"""``impactlens pilot``: design, assign, register and decide a randomised pilot."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from impactlens.cli.console import err, out

pilot_app = typer.Typer(
    help="Pilots: power, randomisation, pre-registration and the stop/scale decision.",
    no_args_is_help=True,
)

ProgramArg = Annotated[str, typer.Argument(help="Program id.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print only the JSON document on stdout.")]
WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace folder (default: IMPACTLENS_WORKSPACE or .)"),
]


def _ws(local: Path | None) -> Any:
    from impactlens.cli.app import _workspace  # the app registers this sub-app

    return _workspace(local)


def _dump(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")


@pilot_app.command("design")
def design(
    program: ProgramArg,
    json_: JsonOpt = False,
    kpi: Annotated[str | None, typer.Option(help="KPI id (default: the primary KPI).")] = None,
    unit: Annotated[str | None, typer.Option(help="people or team: what is randomised.")] = None,
    teams: Annotated[int | None, typer.Option(help="Teams in the pilot (default: all).")] = None,
    people: Annotated[int | None, typer.Option(help="People in the pilot (default: all).")] = None,
    share: Annotated[float | None, typer.Option(help="Share in the treatment arm.")] = None,
    alpha: Annotated[float | None, typer.Option(help="Significance level.")] = None,
    power: Annotated[float | None, typer.Option(help="Power to aim for.")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Minimum detectable effect and the units the target needs, checked by simulation."""
    from impactlens.services.pilot_design import design_pilot

    d = design_pilot(
        _ws(workspace),
        program,
        kpi=kpi,
        unit=unit,
        teams=teams,
        people=people,
        share=share,
        alpha=alpha,
        power=power,
    )
    if json_:
        _dump(d.to_dict())
        return
    units = "teams" if d.unit == "team" else "people"
    t = Table("", "value", title=f"Pilot design for {program} ({d.kpi})")
    rows = [
        (units, f"{d.teams if d.unit == 'team' else d.people}"),
        ("share treated", f"{d.share:g}"),
        ("KPI SD", f"{d.sd:.3g}"),
        ("intra-team correlation", f"{d.icc:.3f}"),
        ("r2 (earlier explains later)", f"{d.r2:.3f}"),
        (
            "minimum detectable effect",
            f"{d.mde:.3g}" + (f" ({d.mde_relative:.1%})" if d.mde_relative else ""),
        ),
        (f"{units} needed for the target", str(d.needed_for_target or "–")),
        ("power (closed form)", f"{d.power:.0%}"),
        (
            f"power (simulated, {d.simulation['draws']} draws)",
            f"{d.simulation['power_at_mde']:.0%}",
        ),
    ]
    for name, value in rows:
        t.add_row(name, value)
    out.print(t)
    out.print(d.sentence, markup=False)


@pilot_app.command("assign")
def assign(
    program: ProgramArg,
    out_file: Annotated[Path, typer.Option("--out", help="Participation CSV to write.")],
    unit: Annotated[str, typer.Option(help="team or people: what is randomised.")] = "team",
    strata: Annotated[
        str, typer.Option(help="People columns to stratify by, comma-separated.")
    ] = "",
    share: Annotated[float, typer.Option(help="Share in the treatment arm.")] = 0.5,
    waves: Annotated[int, typer.Option(help="Staggered waves of the treatment arm.")] = 1,
    wait_list: Annotated[
        bool, typer.Option("--wait-list", help="Controls are trained later (trained_from).")
    ] = False,
    seed: Annotated[int | None, typer.Option(help="Seed (default: from the program id).")] = None,
    start: Annotated[
        str | None, typer.Option(help="Assignment date (default: pilot.start).")
    ] = None,
    people_file: Annotated[
        Path | None,
        typer.Option(
            "--people", help="The people file imported, to write its ids, not pseudonyms."
        ),
    ] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Stratified, re-randomised assignment written as participation rows with arm."""
    from impactlens.services.pilot_assignment import assign_pilot, write_assignment

    if unit not in ("team", "people"):
        raise typer.BadParameter("unit must be team or people")
    ws = _ws(workspace)
    a = assign_pilot(
        ws,
        program,
        unit=unit,
        strata=[s.strip() for s in strata.split(",") if s.strip()],
        share=share,
        waves=waves,
        wait_list=wait_list,
        seed=seed,
        start=date.fromisoformat(start) if start else None,
    )
    path = write_assignment(a, out_file, ws, people_file)
    t = Table("covariate", "treatment", "control", "|SMD|", title="Balance")
    for row in a.balance:
        t.add_row(
            row["covariate"],
            f"{row['mean_treatment']:.3g}",
            f"{row['mean_control']:.3g}",
            f"{row['smd']:.3f}",
        )
    out.print(t)
    rec = a.record()
    out.print(
        f"Seed {a.seed}; {a.draws} draw(s); max |SMD| {a.max_smd:.3f}; "
        f"{rec['n_treatment']} treatment and {rec['n_control']} control {unit}s; "
        f"{len(a.rows)} rows written to {path}",
        markup=False,
    )
    if not a.balanced:
        err.print(
            f"warning: no draw in {a.draws} met max |SMD| < {a.threshold}; the best one is kept "
            "(fewer strata balance more easily)",
            markup=False,
        )
    out.print(f"Next: impactlens import participation {path}", markup=False)


@pilot_app.command("register")
def register(program: ProgramArg, json_: JsonOpt = False, workspace: WorkspaceOpt = None) -> None:
    """Freeze the pilot plan, design and assignment into an immutable, hashed record."""
    from impactlens.services.pilots import register_pilot

    reg = register_pilot(_ws(workspace), program)
    if json_:
        _dump(reg.to_dict())
        return
    verb = "Registered" if reg.created else "Already registered"
    r = reg.record
    out.print(f"{verb} {program} at {reg.registered_at} by {reg.registered_by}", markup=False)
    out.print(f"  sha256 {reg.sha256}", markup=False)
    out.print(f"  hypothesis: {r['hypothesis']}", markup=False)
    out.print(
        f"  primary KPI {r['primary_kpi']}: target effect {r['target_effect']}, "
        f"MDE {r['mde']:.3g} with {r['units']} {r['unit']} units; {r['start']} to {r['end']}, "
        f"{r['looks']} look(s)",
        markup=False,
    )
    out.print(
        f"  scale if: {r['decision']['scale_if']}; stop if: {r['decision']['stop_if']}",
        markup=False,
    )


@pilot_app.command("decide")
def decide(program: ProgramArg, json_: JsonOpt = False, workspace: WorkspaceOpt = None) -> None:
    """Analyse the pilot and apply its registered stop/scale rules."""
    from impactlens.services.pilots import decide_pilot

    doc = decide_pilot(_ws(workspace), program)
    if json_:
        _dump(doc)
        return
    d = doc.get("decision") or {}
    res = doc.get("result") or {}
    if not doc.get("registered"):
        out.print(f"{program}: not registered; no decision rules were frozen", markup=False)
        return
    if res:
        out.print(
            f"{res['kpi']}: effect {res['effect']} (95% {res['ci_low']} to {res['ci_high']})",
            markup=False,
        )
    look = f" at look {d['look']}" if d.get("look") else ""
    out.print(
        f"Decision{look}: {str(d.get('decision', 'none')).upper()}: {d.get('why', '')}",
        markup=False,
    )
    curse = d.get("winners_curse") or {}
    if curse.get("note"):
        out.print(curse["note"], markup=False)
    for dev in doc.get("deviations") or []:
        out.print(f"  deviation: {dev}", markup=False)
