"""Errors a user can act on.

Every error that reaches the CLI is an :class:`ImpactLensError`; its message is the
one line printed to the user (exit code 1). Input problems name the file, the row,
the column and what is wrong.
"""

from __future__ import annotations

from pathlib import Path


class ImpactLensError(Exception):
    """A problem the user can fix; the message is shown as is."""


class InputError(ImpactLensError):
    """A malformed input file.

    Examples:
        >>> str(InputError("people.csv", "bad date '2024-13-01'", row=7, column="hire_date"))
        "people.csv, row 7, column 'hire_date': bad date '2024-13-01'"
    """

    def __init__(
        self,
        file: str | Path,
        problem: str,
        *,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = str(file)
        self.row = row
        self.column = column
        self.problem = problem
        where = [self.file]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {problem}")


class PlanError(InputError):
    """A plan file that cannot be read or does not fit the plan model."""


class UnknownProgramError(ImpactLensError):
    """A program named on the command line has no plan in the workspace."""


class StoreLockedError(ImpactLensError):
    """Another process holds the embedded store for writing."""


class WorkspaceError(ImpactLensError):
    """The workspace folder or its settings are missing or invalid."""


class StoreOutdatedError(WorkspaceError):
    """A store written by an older ImpactLens, opened read-only before its migration."""
