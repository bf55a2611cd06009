"""The ``xapi`` import kind: files of xAPI statements into the Learning Record Store.

A file is JSON Lines (one statement per line) or one JSON array. DuckDB parses it
columnar and the xAPI rules of the parts most statements have run in the same SQL scan
(:mod:`impactlens.store.xapi_checks`); a statement with a part those checks do not read
(attachments, a group's members, a SubStatement...) is checked by POST's own
``check_statement``, so a file is refused exactly where a POST would be. Each
statement is stored as the file's text with the properties the LRS sets (``stored``,
and ``id``, ``timestamp``, ``version``, ``authority`` where missing) put first.
Like every import it is atomic (one invalid statement and nothing of the call lands;
the error names the file, line, field and problem) and idempotent (the key is the
statement id; a statement without one gets an id derived from its content; the same
id with different content is an error naming the line). Voiding statements in a
file void their targets. A statement that gives a property name twice is read as POST
reads it (the last value): POST's checks judge it and the file is staged again from a
copy holding it as POST would store it.
"""

from __future__ import annotations

import getpass
import json
import tempfile
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from impactlens.domain.errors import InputError
from impactlens.domain.xapi import codec
from impactlens.domain.xapi.errors import XapiError
from impactlens.domain.xapi.validation import check_statement
from impactlens.store import xapi_bulk
from impactlens.store.base import Store
from impactlens.store.query_progress import QueryMeter, Report

SHOWN = 5  # invalid statements named in the error message
# Each step's share of an import's time, per file (us per statement at 1,000,000:
# bench/import_xapi_phases.py), for the progress bar; the commit comes last.
CHECK_STEPS = (("reading", 0.9), ("probing", 2.7), ("checking", 10.4), ("checking rare parts", 1.9))
WRITE_STEPS = (("comparing ids", 0.2), ("storing", 5.8), ("indexing", 1.5))
COMMIT_STEP = ("committing", 0.4)


@dataclass(frozen=True)
class StatementIssue:
    """One invalid statement: file, line (the position in a JSON array), field, problem."""

    file: str
    line: int
    field: str
    problem: str


class StatementsError(InputError):
    """Invalid statements in a file; ``issues`` lists the first ones, ``count`` all of them.

    Examples:
        >>> issue = StatementIssue("s.jsonl", 3, "verb.id", "must be an IRI")
        >>> err = StatementsError("s.jsonl", [issue], 1)
        >>> str(err)
        "s.jsonl, row 3, column 'verb.id': must be an IRI"
    """

    def __init__(self, file: str | Path, issues: list[StatementIssue], count: int) -> None:
        first = issues[0]
        more = ""
        if count > 1:
            lines = sorted({i.line for i in issues[1:]} - {first.line})[: SHOWN - 1]
            listed = f" (also line {', '.join(map(str, lines))})" if lines else ""
            more = f"; {count} invalid statements in the file{listed}; nothing was imported"
        super().__init__(file, first.problem + more, row=first.line, column=first.field)
        self.issues = issues
        self.count = count


@dataclass(frozen=True)
class StatementsSummary:
    """What one ``import xapi`` call did."""

    files: list[str]
    statements: int
    inserted: int
    unchanged: int
    voided: int
    warnings: list[str] = field(default_factory=list)


def import_statements(
    store: Store,
    paths: list[Path],
    *,
    user: str | None = None,
    in_transaction: Callable[[Store, StatementsSummary], None] | None = None,
    progress: Report | None = None,
) -> StatementsSummary:
    """Import statement files atomically; ``in_transaction`` runs before the commit.

    ``progress`` is told ``(step, done, total)`` as the import goes (``total`` 100,
    the step naming the file): see :data:`CHECK_STEPS`.

    Examples:
        >>> import tempfile
        >>> from impactlens.store.duckdb import DuckDBStore
        >>> ws = Path(tempfile.mkdtemp())
        >>> line = ('{"actor": {"mbox": "mailto:ann@example.com"}, "verb": {"id": '
        ...         '"http://adlnet.gov/expapi/verbs/completed"}, "object": {"id": "https://x.org/a"}}')
        >>> _ = (ws / "s.jsonl").write_text(line + "\\n")
        >>> with DuckDBStore(ws / "s.duckdb") as store:
        ...     first = import_statements(store, [ws / "s.jsonl"])
        ...     again = import_statements(store, [ws / "s.jsonl"])
        >>> (first.inserted, again.inserted, again.unchanged)
        (1, 0, 1)
    """
    started = datetime.now(UTC).replace(tzinfo=None)
    user = user or _user()
    authority = json.dumps(
        {"objectType": "Agent", "account": {"homePage": "urn:impactlens", "name": user}}
    )
    staged: list[tuple[Path, bool, xapi_bulk.Staged]] = []
    copies: list[Path] = []
    meter = _meter(store, paths, progress)
    try:
        with meter or nullcontext():
            tell = meter.step if meter else xapi_bulk.no_step
            # parse and check every file before the transaction: nothing lands if one fails
            for number, path in enumerate(paths):
                array = _is_array(path)
                item, copy = _stage(store, path, array, number, _for_file(tell, path))
                staged.append((path, array, item))
                copies += [copy] if copy else []
            summary = _write(store, staged, started, user, authority, in_transaction, tell)
    finally:
        for _, _, item in staged:
            xapi_bulk.drop(store, item)
        for copy in copies:
            copy.unlink(missing_ok=True)
    return summary


def _write(
    store: Store,
    staged: list[tuple[Path, bool, xapi_bulk.Staged]],
    started: datetime,
    user: str,
    authority: str,
    in_transaction: Callable[[Store, StatementsSummary], None] | None,
    tell: xapi_bulk.Step,
) -> StatementsSummary:
    """Write the staged files in one transaction (conflicts first), log the import, commit."""
    total = inserted = unchanged = voided = 0
    with store.transaction():
        for path, array, item in staged:
            step = _for_file(tell, path)
            step("comparing ids")
            _check_conflicts(store, path, array, item)
            count = xapi_bulk.write(
                store,
                item,
                stored=started,
                authority=authority,
                authority_ifi=f"account:urn:impactlens|{user}",
                step=step,
            )
            total += count.statements
            inserted += count.inserted
            unchanged += count.unchanged
            voided += count.voided
        summary = StatementsSummary(
            files=[str(p) for p, _, _ in staged],
            statements=total,
            inserted=inserted,
            unchanged=unchanged,
            voided=voided,
        )
        store.log_import(
            {
                "kind": "xapi",
                "files": json.dumps(summary.files),
                "rows": total,
                "inserted": inserted,
                "replaced": 0,
                "warnings": "[]",
                "started_at": started,
                "finished_at": datetime.now(UTC).replace(tzinfo=None),
                "user": user,
            }
        )
        if in_transaction is not None:
            in_transaction(store, summary)
        tell(COMMIT_STEP[0])
    return summary


def _meter(store: Store, paths: list[Path], progress: Report | None) -> QueryMeter | None:
    """A meter of the import's steps, each file's weighed by its size (None: no progress)."""
    if progress is None:
        return None
    sizes = [max(p.stat().st_size, 1) for p in paths]
    steps = [
        (f"{name} {p.name}", share * size)
        for group in (CHECK_STEPS, WRITE_STEPS)
        for p, size in zip(paths, sizes, strict=True)
        for name, share in group
    ]
    steps.append((COMMIT_STEP[0], COMMIT_STEP[1] * sum(sizes)))
    return QueryMeter(xapi_bulk.connection(store), progress, steps)


def _for_file(tell: xapi_bulk.Step, path: Path) -> xapi_bulk.Step:
    """``tell`` with the file's name after each step's."""
    return lambda name: tell(f"{name} {path.name}")


def _stage(
    store: Store,
    path: Path,
    array: bool,
    number: int,
    step: xapi_bulk.Step = xapi_bulk.no_step,
) -> tuple[xapi_bulk.Staged, Path | None]:
    """Parse and check one file; raise naming the first invalid statements.

    Returns the staging and, when the file repeats a property name in some statement,
    the rewritten copy it was staged from (the caller deletes it after the write).
    """
    try:
        staged = xapi_bulk.stage(store, path, array=array, number=number, step=step)
    except duckdb.Error as exc:
        raise _json_error(path, array, exc) from None
    # the checks read the first of a repeated name, POST the last: POST judges those
    repeating = [
        ln
        for batch in xapi_bulk.unvouched(store, staged, bad=True)
        for ln, line in batch
        if codec.repeated_name(line, codec.loads(line)) is not None
    ]
    xapi_bulk.unrefuse(store, staged, repeating)
    count, found = xapi_bulk.problems(store, staged)
    step("checking rare parts")
    more, checked, repeats = _post_checks(store, staged)
    count, found = count + more, sorted(found + checked, key=lambda p: p.index)[:20]
    if count:
        xapi_bulk.drop(store, staged)
        where = _lines(path, array, [p.index for p in found])
        issues = [StatementIssue(str(path), where[p.index], p.field, p.problem) for p in found]
        raise StatementsError(path, issues, count)
    if repeats:  # the staged columns read the first of a repeated name, POST the last
        xapi_bulk.drop(store, staged)
        rewritten = _rewritten(path, array, repeats)
        try:
            return _stage(store, rewritten, False, number, step)[0], rewritten
        except BaseException:
            rewritten.unlink(missing_ok=True)
            raise
    return staged, None


def _rewritten(path: Path, array: bool, repeats: dict[int, str]) -> Path:
    """A JSON Lines copy of the file, one statement per line in the file's order, the
    statements of ``repeats`` (by position) replaced by their text there.

    Positions stay line numbers, so what the import reports still maps to the file. A
    JSON array is read whole here (only a file with repeated names comes this way), by
    the parser that keeps the last of a repeated name, so each item is written as read.
    """
    handle, name = tempfile.mkstemp(prefix="impactlens-xapi-", suffix=".jsonl")
    with open(handle, "w", encoding="utf-8") as out:
        if array:
            for item in codec.loads(path.read_bytes()):
                out.write(codec.dumps(item))
                out.write("\n")
        else:
            position = 0
            with path.open(encoding="utf-8-sig") as lines:
                for line in lines:
                    if line.strip():
                        position += 1
                        out.write(repeats.get(position) or line.strip())
                        out.write("\n")
    return Path(name)


def _post_checks(
    store: Store, staged: xapi_bulk.Staged, limit: int = 20
) -> tuple[int, list[xapi_bulk.Problem], dict[int, str]]:
    """POST's own checks on the statements with parts the SQL checks do not read.

    Returns how many of them are invalid, the first ``limit`` problems, and the valid
    ones that repeat a property name, by position, as POST reads them (the last of each
    repeated name kept). A name repeated where the checks read a value (not inside a
    language map or extensions) always lands here: the staging counts each such name
    once, so the count of the statement's text differs.
    """
    count, found, repeats = 0, list[xapi_bulk.Problem](), dict[int, str]()
    for batch in xapi_bulk.unvouched(store, staged):
        for ln, line in batch:
            parsed = codec.loads(line)
            try:
                check_statement(parsed)
            except XapiError as exc:
                count += 1
                if len(found) < limit:
                    found.append(xapi_bulk.Problem(ln, *_field(str(exc))))
                continue
            if codec.repeated_name(line, parsed) is not None:
                repeats[ln] = codec.dumps(parsed)
    return count, found, repeats


def _field(message: str) -> tuple[str, str]:
    """A check's message as (field, problem): ``verb.id must be...`` -> ``verb.id``."""
    if message.startswith("the statement "):
        return "$", message.removeprefix("the statement ")
    field, _, problem = message.partition(" ")
    return field, problem


def _check_conflicts(store: Store, path: Path, array: bool, staged: xapi_bulk.Staged) -> None:
    """Raise when a statement id is reused for different content (in the file or stored)."""
    clashes = xapi_bulk.conflicts(store, staged)
    if not clashes:
        return
    first = clashes[0]
    lines = [first.index] + ([first.other_index] if first.other_index else [])
    where = _lines(path, array, lines)
    if first.other_index:
        problem = (
            f"statement id {first.statement_id} is also on line {where[first.other_index]} "
            "with different content"
        )
    else:
        problem = f"statement id {first.statement_id} is already stored with different content"
    issue = StatementIssue(str(path), where[first.index], "id", problem)
    raise StatementsError(path, [issue], 1)


def _is_array(path: Path) -> bool:
    """Whether the file holds one JSON array (its first non-blank byte is ``[``)."""
    with path.open("rb") as fh:
        while chunk := fh.read(4096):
            stripped = chunk.lstrip()
            if stripped:
                return stripped.startswith(b"[")
    return False


def _lines(path: Path, array: bool, indexes: list[int]) -> dict[int, int]:
    """Map statement positions (1-based) to line numbers; blank lines do not count.

    Only called on errors, so a Python scan of the file is affordable. In a JSON
    array the position is reported as is.
    """
    wanted = set(indexes)
    if array:
        return {i: i for i in wanted}
    found: dict[int, int] = {}
    position = 0
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                position += 1
                if position in wanted:
                    found[position] = number
                    if len(found) == len(wanted):
                        break
    return found


def _json_error(path: Path, array: bool, exc: Exception) -> InputError:
    """The first line that is not JSON (DuckDB's message does not count blank lines)."""
    if array:
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            line = getattr(err, "lineno", None)
            return InputError(path, f"not valid JSON: {err}", row=line)
        return InputError(path, f"cannot read the JSON array: {exc}")
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                return InputError(path, f"not valid JSON: {err}", row=number)
    return InputError(path, f"cannot read the statements: {exc}")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"
