"""The ``impactlens`` command line (Typer). Commands parse, call one service, format."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from impactlens.cli import views
from impactlens.cli.console import out, progress_bar
from impactlens.cli.pilot import pilot_app
from impactlens.cli.store import store_app
from impactlens.domain.errors import ImpactLensError
from impactlens.domain.result import AnalysisResult

app = typer.Typer(
    name="impactlens",
    help="Shows what corporate learning changes in the business.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace folder (default: IMPACTLENS_WORKSPACE or .)"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print only the JSON document on stdout.")]
_global: dict[str, Path | None] = {"workspace": None}


def _workspace(local: Path | None):
    from impactlens.services.workspace import open_workspace

    chosen = local or _global["workspace"] or os.environ.get("IMPACTLENS_WORKSPACE") or "."
    return open_workspace(Path(chosen))


def _analysed(workspace: Path | None, program: str, verb: str) -> AnalysisResult:
    """Analyse ``program`` with a progress bar on stderr (analyze, report and export share it)."""
    with progress_bar(f"{verb} {program}") as bar:
        return _workspace(workspace).analyze(program, progress=bar)


@app.callback()
def _main(workspace: WorkspaceOpt = None) -> None:
    """ImpactLens: impact plans, three tiers of metrics, honest attribution and ROI."""
    _global["workspace"] = workspace


@app.command()
def init(
    directory: Annotated[Path | None, typer.Argument(help="Folder to create.")] = None,
    template: Annotated[str | None, typer.Option(help="Plan template to start from.")] = None,
    list_templates: Annotated[
        bool, typer.Option("--list-templates", help="List templates.")
    ] = False,
) -> None:
    """Create a workspace with a commented plan and no data."""
    from impactlens.services.plan_templates import list_templates as templates
    from impactlens.services.setup import init_workspace

    if list_templates:
        views.templates_table(templates())
        return
    if directory is None:
        raise typer.BadParameter("give the folder to create, e.g. impactlens init my-workspace")
    plan = init_workspace(directory, template)
    out.print(f"Created workspace {directory} with plan {plan}")
    out.print(f"Next: edit the plan, then `impactlens import people FILE -w {directory}`")


@app.command("import")
def import_(
    kind: Annotated[
        str,
        typer.Argument(
            help="people, participation, activity, assessments, surveys, kpis, costs or xapi"
        ),
    ],
    files: Annotated[
        list[Path],
        typer.Argument(help="CSV, Parquet or JSON Lines files (xapi: JSON Lines or a JSON array)."),
    ],
    workspace: WorkspaceOpt = None,
) -> None:
    """Load data files (all rows land, or none do)."""
    from impactlens.services.importing import import_data

    ws = _workspace(workspace)
    with progress_bar(f"import {kind}") as bar:
        summary = import_data(ws, kind, files, progress=bar)
    views.import_summary(summary)


@app.command()
def check(
    program: Annotated[str | None, typer.Argument(help="Program id (default: every plan).")] = None,
    json_: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Lint plans against the data; exit 1 if any finding is an error."""
    from impactlens.services.checking import check_programs

    findings = check_programs(_workspace(workspace), program)
    if json_:
        doc = {p: [f.model_dump(mode="json") for f in fs] for p, fs in findings.items()}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        views.findings(findings)
    if any(f.severity == "error" for fs in findings.values() for f in fs):
        raise typer.Exit(1)


@app.command()
def analyze(
    program: Annotated[str, typer.Argument(help="Program id.")],
    json_: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Compute metrics, impact estimates and ROI."""
    result = _analysed(workspace, program, "analyse")
    if json_:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
    else:
        views.analysis(result)


@app.command()
def report(
    program: Annotated[str, typer.Argument(help="Program id.")],
    out_file: Annotated[Path, typer.Option("--out", help="HTML file to write.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Write the self-contained HTML impact report."""
    from impactlens.services.reporting import write_program_report

    path = write_program_report(_analysed(workspace, program, "report"), out_file)
    out.print(f"Wrote {path}")


@app.command()
def export(
    program: Annotated[str, typer.Argument(help="Program id.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Write metrics, estimates and the ROI ledger as Parquet and CSV."""
    from impactlens.services.reporting import export_result

    for path in export_result(_analysed(workspace, program, "export"), out_dir):
        out.print(f"Wrote {path}")


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="Folder for the demo.")] = Path(
        "impactlens-demo"
    ),
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic organisation.")] = 1,
    people: Annotated[int, typer.Option(help="Number of people.")] = 5000,
    teams: Annotated[int, typer.Option(help="Number of teams.")] = 300,
) -> None:
    """Build a synthetic organisation with known true effects, analyse it, write reports."""
    from impactlens.services.demo import run_demo

    with progress_bar("demo") as bar:
        outcome = run_demo(directory, seed, progress=bar, people=people, teams=teams)
    views.demo(outcome)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    max_upload_mb: Annotated[
        int, typer.Option("--max-upload-mb", help="Largest file an upload may send.")
    ] = 200,
    workers: Annotated[
        int,
        typer.Option(min=1, help="Server processes (more than 1 needs a PostgreSQL store)."),
    ] = 1,
    workspace: WorkspaceOpt = None,
) -> None:
    """Run the web dashboard and REST API (OpenAPI at /openapi.json); holds the store."""
    import uvicorn

    from impactlens.services.retention import expire_person_data

    ws = _workspace(workspace)
    engine = ws.store_url.partition("://")[0].lower()
    if workers > 1 and engine not in {"postgresql", "postgres"}:
        raise ImpactLensError(
            f"--workers {workers} needs a PostgreSQL store; this workspace's store is {engine} "
            "(one process holds an embedded DuckDB store): serve with one worker, or set "
            '`store = "postgresql://..."` in impactlens.toml (docs/how-to/deploy.md)'
        )
    expired = expire_person_data(ws, by="serve", role="server")  # before the server holds the store
    if expired is not None and expired.total:
        out.print(f"Expired {expired.total} person-level rows before {expired.cutoff}")
    # cli and web are sibling layers: uvicorn imports the app factory by name
    os.environ["IMPACTLENS_WORKSPACE"] = str(ws.path.resolve())
    os.environ["IMPACTLENS_MAX_UPLOAD_MB"] = str(max_upload_mb)
    out.print(f"ImpactLens dashboard for {ws.path} at http://{host}:{port}/ (Ctrl+C to stop)")
    uvicorn.run(
        "impactlens.web.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


user_app = typer.Typer(help="Dashboard users: admin, analyst or viewer.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name to sign in with.")],
    role: Annotated[str, typer.Option(help="admin, analyst or viewer.")] = "viewer",
    json_: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Create a user; prints a one-time password and an API token."""
    from impactlens.services.users import add_user

    new = add_user(_workspace(workspace), name, role)
    if json_:
        sys.stdout.write(json.dumps(new.to_dict()) + "\n")
    else:
        out.print(f"Created {new.role} {new.name!r}. Shown once, hand them over now:")
        out.print(f"  password: {new.password}")
        out.print(f"  API token: {new.token}  (send as Authorization: Bearer TOKEN)")


people_app = typer.Typer(help="People in the store: erase one on request.", no_args_is_help=True)
app.add_typer(people_app, name="people")
app.add_typer(pilot_app, name="pilot")
app.add_typer(store_app, name="store")


@people_app.command("forget")
def people_forget(
    person: Annotated[str, typer.Argument(help="The identifier the organisation knows them by.")],
    by: Annotated[
        str, typer.Option(help="person_id, pseudonym or an identity column (e.g. email).")
    ] = "person_id",
    json_: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Erase a person everywhere, in one transaction; exit 1 if nobody matches."""
    from impactlens.services.forgetting import forget_person

    erasure = forget_person(_workspace(workspace), person, by=by)
    if json_:
        sys.stdout.write(json.dumps(erasure.to_dict()) + "\n")
        return
    out.print(f"Forgot {erasure.person}: {erasure.total} rows removed")
    for table, n in erasure.removed.items():
        if n:
            out.print(f"  {table}: {n}")
    for column, n in erasure.cleared.items():
        if n:
            out.print(f"  {column} set to empty: {n}")


@people_app.command("expire")
def people_expire(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would expire; change nothing.")
    ] = False,
    json_: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Expire person-level records older than [privacy] retention_months, keeping totals."""
    from impactlens.services.retention import expire_person_data

    expiry = expire_person_data(_workspace(workspace), dry_run=dry_run)
    if expiry is None:
        if json_:
            sys.stdout.write(json.dumps({"retention_months": None, "removed": {}}) + "\n")
        else:
            out.print("No retention set ([privacy] retention_months): nothing expires")
        return
    if json_:
        sys.stdout.write(json.dumps(expiry.to_dict()) + "\n")
        return
    verb = "Would expire" if dry_run else "Expired"
    out.print(
        f"{verb} {expiry.total} person-level rows before {expiry.cutoff} "
        f"(retention {expiry.months} months)"
    )
    for table, n in expiry.removed.items():
        out.print(f"  {table}: {n}")
    if not dry_run and expiry.total:
        out.print(f"  kept as totals: {expiry.aggregated} rows in aggregates")


pull_app = typer.Typer(help="Copy data from other systems.", no_args_is_help=True)
app.add_typer(pull_app, name="pull")


@pull_app.command("xapi")
def pull_xapi(
    endpoint: Annotated[str, typer.Option(help="The other LRS's base URL, e.g. https://lrs/xapi.")],
    since: Annotated[
        str | None,
        typer.Option(help="ISO 8601 time: copy statements stored after it (default: last pull)."),
    ] = None,
    key: Annotated[str | None, typer.Option(help="HTTP Basic user (the LRS client key).")] = None,
    secret: Annotated[str | None, typer.Option(help="HTTP Basic password (the secret).")] = None,
    json_: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Copy statements from another LRS (GET /statements, `more` paging); resumable."""
    from impactlens.services.pull import pull_statements

    ws = _workspace(workspace)
    with progress_bar("pull xapi") as bar:
        done = pull_statements(
            ws,
            endpoint,
            since=since,
            key=key,
            secret=secret,
            progress=lambda n: bar("statements", n, n),
        )
    if json_:
        sys.stdout.write(json.dumps(done.to_dict()) + "\n")
        return
    out.print(
        f"Pulled {done.statements:,} statements from {done.endpoint} in {done.pages} page(s): "
        f"{done.inserted:,} new; next pull continues after {done.last_stored or 'the start'}"
    )


lrs_app = typer.Typer(help="The xAPI Learning Record Store at /xapi.", no_args_is_help=True)
lrs_client_app = typer.Typer(help="xAPI client credentials (HTTP Basic).", no_args_is_help=True)
app.add_typer(lrs_app, name="lrs")
lrs_app.add_typer(lrs_client_app, name="client")


@lrs_client_app.command("create")
def lrs_client_create(
    name: Annotated[str, typer.Argument(help="A name for the client (shown as its authority).")],
    scope: Annotated[str, typer.Option(help="read, write or all.")] = "all",
    json_: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Create xAPI credentials; prints the key and a secret shown only once."""
    from impactlens.services.lrs import create_client

    new = create_client(_workspace(workspace), name, scope)
    if json_:
        sys.stdout.write(json.dumps(new.to_dict()) + "\n")
    else:
        out.print(f"Created xAPI client {new.name!r} ({new.scope}). Shown once, keep it now:")
        out.print(f"  key:    {new.key}")
        out.print(f"  secret: {new.secret}  (HTTP Basic: key as user, secret as password)")


def main() -> None:
    """Entry point: user errors print one line and exit 1; usage errors exit 2 (Typer)."""
    try:
        app()
    except ImpactLensError as exc:
        # one line, never wrapped, so scripts and people can read it
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(1)
