"""Generate docs/reference/cli.md from the Typer app (a test keeps it current).

Run: .venv/bin/python scripts/cli_docs.py > docs/reference/cli.md
"""

from __future__ import annotations

from typing import Any

import typer

from impactlens.cli.app import app


def _param_row(p: Any) -> str:
    if getattr(p, "param_type_name", "") == "argument":
        name = f"`{p.name.upper()}`" + ("..." if p.nargs == -1 else "")
    else:
        name = ", ".join(f"`{o}`" for o in p.opts)
    default = p.default if p.default not in (None, False, ()) and not p.required else ""
    req = "yes" if p.required else ""
    return f"| {name} | {(getattr(p, 'help', '') or '').strip()} | {default} | {req} |"


def render() -> str:
    """The CLI reference as Markdown."""
    group: Any = typer.main.get_command(app)
    ctx = typer.Context(group, info_name="impactlens")
    lines = [
        "# Command-line reference",
        "",
        "Generated from the Typer app by `scripts/cli_docs.py`; `tests/cli/test_docs.py` fails",
        "when it is out of date. Every command takes `--workspace DIR` (before or after its own",
        "arguments; default: `IMPACTLENS_WORKSPACE` or the current folder). Exit codes: 0 success,",
        "1 a user error (one line naming file, row, column and problem), 2 a usage error.",
        "",
    ]
    lines += _commands(group, ctx, "impactlens")
    return "\n".join(lines)


def _commands(group: Any, ctx: Any, prefix: str) -> list[str]:
    """Sections for every command of ``group``, sub-commands (``user add``) included."""
    lines: list[str] = []
    for name in sorted(group.list_commands(ctx)):
        cmd = group.get_command(ctx, name)
        if hasattr(cmd, "list_commands"):
            sub = typer.Context(cmd, info_name=name, parent=ctx)
            lines += _commands(cmd, sub, f"{prefix} {name}")
            continue
        params = [p for p in cmd.params if p.name != "help"]
        lines += [f"## `{prefix} {name}`", "", (cmd.help or "").strip(), ""]
        if params:
            lines += [
                "| argument / option | meaning | default | required |",
                "| --- | --- | --- | --- |",
            ]
            lines += [_param_row(p) for p in params]
            lines.append("")
    return lines


if __name__ == "__main__":
    print(render(), end="")
