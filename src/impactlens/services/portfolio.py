"""The dashboard's use cases over one workspace the server holds: every program at a glance.

The server keeps the store open for its lifetime (so data can be uploaded while it
runs: a DuckDB file has one writer) and lets one request at a time use it. Analyses
are cached per (program, data fingerprint, plan hash); the fingerprint is computed
once and recomputed only after an import through the server, which is the only
writer while it holds the store.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from impactlens.domain.errors import ImpactLensError
from impactlens.domain.plan import ImpactPlan, parse_plan, plan_sha256
from impactlens.domain.result import AnalysisResult
from impactlens.ingest.base import ImportSummary
from impactlens.metrics.privacy import suppress_groups
from impactlens.reports.format import hidden_sentences
from impactlens.services.analysis import analyze_program
from impactlens.services.audit import AuditLog
from impactlens.services.checking import check_programs
from impactlens.services.importing import import_data
from impactlens.services.users import Accounts, User
from impactlens.services.workspace import PLANS_DIR, Workspace
from impactlens.store.base import Store

# Keys whose values are about single people: analysts only (contract: viewers see aggregates).
PERSON_KEYS = frozenset(
    {"samples", "person_id", "person_ids", "people_ids", "success_cases", "unit_ids", "imports"}
)
# Lists of group rows that the privacy threshold applies to.
GROUP_KEYS = frozenset({"by_persona", "by_segment", "by_team", "skills", "segments"})
# A person KPI's figures a viewer loses when fewer people than the threshold were
# trained: each is close to those few people's own KPI data (see _hide_few_treated).
HIDDEN_FIGURES = (
    "effect", "ci_low", "ci_high", "p_value", "relative_effect", "naive_effect", "target_met",
    "pre_mean_treated",
)  # fmt: skip
HIDDEN_ROI = (
    "benefits", "benefits_low", "benefits_high", "roi_pct", "roi_pct_low", "roi_pct_high", "bcr",
    "break_even_months", "conservative", "participant_estimate",
)  # fmt: skip
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class HeldWorkspace(Workspace):
    """A workspace whose store stays open, used by one request at a time."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.lock = threading.RLock()
        self._held: Store | None = None
        # around each use: stores what the LRS journaled first and holds off new statements
        # until the use ends (StatementWriter.settled); its flag says the use only reads
        self.settled: Callable[[Store, bool], AbstractContextManager[None]] | None = None
        self._stamp: tuple[tuple[str, int, int], ...] | None = None
        self._files: dict[str, Path] = {}
        self._parsed: dict[str, ImpactPlan] = {}

    def plan_files(self) -> dict[str, Path]:
        """Plan files by program id, parsed again only when a file in plans/ changed."""
        found = sorted((self.path / PLANS_DIR).glob("*.y*ml"))
        stamp = tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in found)
        if stamp != self._stamp:
            self._files, self._stamp = super().plan_files(), stamp
        return dict(self._files)

    def plan(self, program: str) -> tuple[ImpactPlan, str]:
        """The parsed plan and its text (a page view parses nothing when the file is unchanged)."""
        path = self.plan_files().get(program)
        if path is None:
            return super().plan(program)  # raises the error naming the known programs
        text = path.read_text(encoding="utf-8")
        if text not in self._parsed:
            self._parsed[text] = parse_plan(text, str(path))
        return self._parsed[text], text

    @contextmanager
    def store(self, *, read_only: bool = False) -> Iterator[Store]:
        """The held store (opened for writing on first use), under the lock, settled."""
        with self.unsettled_store() as store:
            if self.settled is None:
                yield store
            else:
                with self.settled(store, read_only):
                    yield store

    @contextmanager
    def unsettled_store(self) -> Iterator[Store]:
        """The held store under the lock, statements the LRS journaled not yet stored.

        Only the LRS's statement writer reads it this way (it knows what it journaled).
        """
        from impactlens.store.registry import open_store

        with self.lock:
            if self._held is None:
                self._held = open_store(self.store_url)
            yield self._held

    def close(self) -> None:
        """Release the store and its write lock (journaled statements stored first)."""
        with self.lock:
            if self._held is not None:
                if self.settled is not None:
                    with self.settled(self._held, True):
                        pass
                self._held.close()
                self._held = None


def _strip_people(value: Any, min_group: int) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            # blocks the analysis marks for analysts (e.g. success cases) never reach viewers
            analyst_only = isinstance(item, dict) and item.get("visibility") == "analyst"
            if key in PERSON_KEYS or analyst_only:
                continue
            if key in GROUP_KEYS and isinstance(item, list):
                item = _suppressed(item, min_group)
            out[key] = _strip_people(item, min_group)
        return out
    if isinstance(value, list):
        return [_strip_people(v, min_group) for v in value]
    return value


def _suppressed(rows: list[Any], min_group: int) -> list[Any]:
    """Group rows as a viewer may see them: each one checked against the threshold."""
    dicts = [r for r in rows if isinstance(r, dict)]
    if len(dicts) != len(rows):
        return []
    if all("suppressed" in r for r in dicts):
        return dicts
    # rows the metrics did not check yet: hide small ones, and a complement, since
    # totals are shown elsewhere on the page (Hundepool et al. 2012, ch. 4)
    return suppress_groups(dicts, "n", min_group, total=1)


def viewer_document(doc: dict[str, Any], min_group: int) -> dict[str, Any]:
    """A result document with person-level fields removed and small groups hidden.

    Examples:
        >>> doc = {"data_health": {"x": {"samples": ["u_1"], "rows": 9}},
        ...        "metrics": {"by_persona": [{"persona": "a", "n": 2}, {"persona": "b", "n": 9}]}}
        >>> out = viewer_document(doc, 5)
        >>> out["data_health"], [r["n"] for r in out["metrics"]["by_persona"]]
        ({'x': {'rows': 9}}, [None, None])
    """
    out = _strip_people(doc, min_group)
    for kpi in out.get("kpis") or []:
        if isinstance(kpi, dict) and kpi.get("unit", "person") == "person":
            _hide_small_periods(kpi, min_group)
            _hide_few_treated(out, kpi, min_group)
    return out


def _hide_small_periods(kpi: dict[str, Any], min_group: int) -> None:
    """Blank a person KPI's trend points that average fewer than ``min_group`` people.

    No total per period is published beside the two groups' means, so hiding the small
    point alone leaves nothing to recover it from by differencing.
    """
    trend = kpi.get("trend")
    if not isinstance(trend, list):
        return
    kpi["trend"] = [
        {**point, "mean": None}
        if isinstance(point, dict) and isinstance(point.get("n"), int) and point["n"] < min_group
        else point
        for point in trend
    ]


def _hide_few_treated(doc: dict[str, Any], kpi: dict[str, Any], min_group: int) -> None:
    """Blank every figure of a person KPI computed from fewer than ``min_group`` trained people.

    With so few trained people the effect is close to their own KPI change (the
    comparison group's change is shown beside it, so the trained change follows by
    differencing), and so are the paths, event study, covariate means, the business
    tier's trained means and the ROI built on the effect. Viewers get the grade, the
    group sizes and the reason; analysts see it all.
    """
    n = kpi.get("n_treated")
    if not isinstance(n, int) or n >= min_group:
        return
    reason = f"{n} trained people, fewer than the privacy threshold of {min_group}"
    for key in HIDDEN_FIGURES:
        if key in kpi:
            kpi[key] = None
    kpi["trend"] = [
        {**p, "mean": None} if isinstance(p, dict) and p.get("group") == "treated" else p
        for p in kpi.get("trend") or []
    ]
    kpi["by_event_time"], kpi["balance"] = [], []
    kpi["diagnostics"] = {"hidden": reason}
    kpi["evidence_reasons"] = [f"details hidden: {reason}"]
    business = ((doc.get("metrics") or {}).get("business") or {}).get("kpis") or []
    for row in business:
        if isinstance(row, dict) and row.get("kpi") == kpi.get("kpi"):
            row["pre_treated"] = row["post_treated"] = None
    roi = doc.get("roi")
    if isinstance(roi, dict) and (roi.get("kpi") == kpi.get("kpi") or kpi.get("primary")):
        for key in HIDDEN_ROI:
            if key in roi:
                roi[key] = None
        roi["ledger"], roi["sensitivity"] = [], []
    if kpi.get("primary"):
        metrics = doc.get("metrics")
        if isinstance(metrics, dict) and metrics.get("vanity_flag"):
            metrics["vanity_flag"] = None  # it quotes the effect and its interval
        # the analysis's sentences speak of the effect: say why it is hidden instead
        doc["verdict"], doc["next_step"] = hidden_sentences(str(kpi.get("kpi")), reason)


def _status(result: AnalysisResult) -> str:
    primary = next((k for k in result.kpis if k.primary), result.kpis[0] if result.kpis else None)
    if primary is not None and primary.effect is not None:
        return "measured"
    enrolled = result.metrics.get("operational", {}).get("enrolled")
    return "running" if enrolled else "planned"


class Dashboard:
    """Portfolio, program, plan and data views of one held workspace, with accounts."""

    def __init__(self, path: Path) -> None:
        self.ws = HeldWorkspace(path)
        with self.ws.store() as store:
            self.accounts = Accounts(store)
        self.audit = AuditLog()
        self._fingerprint: str | None = None
        self._statements: tuple[int, int] | None = None
        self._results: dict[tuple[str, str, str], AnalysisResult] = {}
        self._memo: dict[tuple[Any, ...], Any] = {}

    def close(self) -> None:
        """Write the pending audit entries and release the store."""
        with self.ws.store() as store:
            self.audit.flush(store)
        self.ws.close()

    # -- cached analysis -------------------------------------------------------
    def fingerprint(self) -> str:
        """The data fingerprint, computed once per change of data.

        Uploads reset it; statements the LRS stores while the server runs are noticed
        through their cheap version, so the next page view re-analyses.
        """
        with self.ws.store() as store:
            version = store.statements_version()
            if self._fingerprint is None or version != self._statements:
                self._fingerprint = store.fingerprint()
                self._statements = version
        return self._fingerprint

    def result(self, program: str) -> AnalysisResult:
        """The analysis of ``program``, from the cache when data and plan are unchanged."""
        _, text = self.ws.plan(program)
        key = (program, self.fingerprint(), plan_sha256(text))
        if key not in self._results:
            with self.ws.lock:  # one analysis at a time; a second request waits for the first
                if key not in self._results:
                    self._results[key] = analyze_program(self.ws, program)
        return self._results[key]

    def min_group(self, program: str) -> int:
        """The privacy threshold in force for ``program``."""
        plan, _ = self.ws.plan(program)
        return max(plan.privacy.min_group_size, self.ws.settings.privacy.min_group_size)

    def memo(self, key: tuple[Any, ...], build: Any) -> Any:
        """A view model built once per key (keys include the result they derive from)."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    # -- use cases -------------------------------------------------------------
    def portfolio(self, user: User) -> list[dict[str, Any]]:
        """One row per program: objective, primary KPI, effect, evidence, ROI and status.

        Rows come from the document ``user`` may see, so a viewer's row hides what the
        program page hides.
        """
        rows: list[dict[str, Any]] = []
        for program in self.ws.programs():
            try:
                result = AnalysisResult.model_validate(self.program(program, user))
            except ImpactLensError as exc:
                rows.append({"program": program, "status": "error", "error": str(exc)})
                continue
            kpi = next((k for k in result.kpis if k.primary), None)
            objective = (result.plan.get("objective") or {}).get("outcome")
            rows.append(
                {
                    "program": program,
                    "title": result.title or program,
                    "objective": objective,
                    "status": _status(result),
                    "kpi": kpi.kpi if kpi else None,
                    "direction": kpi.direction if kpi else None,
                    "unit": kpi.unit if kpi else None,
                    "effect": kpi.effect if kpi else None,
                    "ci_low": kpi.ci_low if kpi else None,
                    "ci_high": kpi.ci_high if kpi else None,
                    "relative_effect": kpi.relative_effect if kpi else None,
                    "evidence": kpi.evidence if kpi else "none",
                    "roi_pct_low": result.roi.roi_pct_low,
                    "roi_pct_high": result.roi.roi_pct_high,
                    "currency": result.roi.currency,
                    "verdict": result.verdict,
                }
            )
        return rows

    def program(self, program: str, user: User) -> dict[str, Any]:
        """The result document as ``user`` may see it (viewers: aggregates only)."""
        doc = self.result(program).to_dict()
        if user.can("analyst"):
            return doc
        return viewer_document(doc, self.min_group(program))

    def plan(self, program: str) -> dict[str, Any]:
        """The plan and its ``check`` findings with fixes."""
        plan, text = self.ws.plan(program)
        findings = check_programs(self.ws, program)[program]
        return {
            "program": program,
            "title": plan.title or program,
            "plan": plan.model_dump(mode="json"),
            "plan_text": text,
            "findings": [f.model_dump(mode="json") for f in findings],
        }

    def data(self) -> dict[str, Any]:
        """Imports (who, when, rows), KPI coverage, identity matching and freshness."""
        from impactlens.ingest.health import data_health

        with self.ws.store() as store:
            health = data_health(store)
        imports = health.pop("imports")
        fresh: dict[str, str] = {}
        for entry in imports:
            fresh[entry["kind"]] = entry["finished_at"]
        return {"imports": imports[::-1], "freshness": fresh, **health}

    def upload(self, kind: str, filename: str, body: Iterator[bytes], user: User) -> ImportSummary:
        """Import one uploaded file (written to a temporary file under its own name)."""
        name = _SAFE_NAME.sub("_", Path(filename or "upload.csv").name).lstrip(".") or "upload"
        with tempfile.TemporaryDirectory(prefix="impactlens-upload-") as tmp:
            path = Path(tmp) / name
            with path.open("wb") as fh:
                for chunk in body:
                    fh.write(chunk)
            with self.ws.lock:
                try:
                    summary = import_data(self.ws, kind, [path])
                except ImpactLensError as exc:
                    # name the file as the person uploaded it, not our temporary copy
                    raise ImpactLensError(str(exc).replace(str(path), name)) from exc
                finally:
                    self._fingerprint = None  # recomputed on the next read
        self.audit.record(user.name, user.role, "POST", f"/api/imports/{kind}", None, "import", 200)
        return summary

    def flush_audit(self) -> None:
        """Write pending audit entries unless the store is busy (then the next request does)."""
        if self.ws.lock.acquire(blocking=False):
            try:
                with self.ws.store() as store, contextlib.suppress(ImpactLensError):
                    self.audit.flush(store)
            finally:
                self.ws.lock.release()

    def audit_entries(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest audit entries, newest first."""
        with self.ws.store() as store:
            self.audit.flush(store)
            return self.audit.recent(store, limit)

    # -- accounts (the store is held, so account writes take the lock too) --------
    def login(self, name: str, password: str) -> tuple[User, str] | None:
        """Check a password; on success the user and a new session id."""
        user = self.accounts.by_password(name, password)
        if user is None:
            self.audit.record(name[:64], "", "POST", "/login", None, "login-failed", 401)
            return None
        with self.ws.store():
            sid = self.accounts.start_session(user)
        self.audit.record(user.name, user.role, "POST", "/login", None, "login", 303)
        return user, sid

    def logout(self, sid: str, user: User) -> None:
        """End a session."""
        with self.ws.store():
            self.accounts.end_session(sid)
        self.audit.record(user.name, user.role, "POST", "/logout", None, "logout", 303)

    def add_user(self, name: str, role: str, by: User) -> dict[str, str]:
        """Create a user from the admin page; returns the one-time secrets."""
        with self.ws.store():
            new = self.accounts.add(name, role, by=by.name)
        self.audit.record(by.name, by.role, "POST", "/admin/users", None, "manage", 200)
        return new.to_dict()
