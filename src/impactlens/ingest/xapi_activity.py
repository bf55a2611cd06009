"""Learning Record Store statements read as activity rows, with their actors resolved.

The analysis counts statements as activity with no extra step: every non-voided
statement whose verb is in the workspace's verb map (``[xapi] verbs``, ADL and cmi5
mapped out of the box) and whose object is an Activity becomes an ``activity`` row.
Its actor resolves to a person at analysis time through the people's identity
columns, so people imported after the statements still match:

- ``mbox`` -> ``email`` (``mailto:`` stripped; compared case-insensitively, as every
  identity value is, see :func:`impactlens.ingest.keys.identity_hash`),
- ``account`` -> ``lms_account`` (the account name; ``[xapi] account_home_page``
  restricts it to one homePage),
- ``mbox_sha1sum`` -> the SHA-1 of ``mailto:`` + ``email`` (the people import records it),
- ``openid`` -> an ``openid`` identity column.

Each distinct actor is hashed once in Python; the join runs in the store. Actors
that match nobody are counted (warnings, data health), never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from impactlens.domain.settings import WorkspaceSettings
from impactlens.ingest.identity import UNKNOWN, identity_map
from impactlens.ingest.keys import PSEUDONYM_HEX, identity_hash
from impactlens.store.base import Store

SAMPLES = 5


@dataclass(frozen=True)
class ActorMatch:
    """Actors of the counted statements: IFI -> person, and what stayed unmatched."""

    people: dict[str, str]
    unmatched: list[str] = field(default_factory=list)  # pseudonymised (u_ + keyed hash)
    unmatched_statements: int = 0
    statements: int = 0


def identity_of(ifi: str, home_page: str = "") -> tuple[str, str] | None:
    """The (identity column, value) an actor IFI is matched on, or None.

    Examples:
        >>> identity_of("mbox:mailto:Ann@Example.com")
        ('email', 'Ann@Example.com')
        >>> identity_of("account:https://lms.x|u042")
        ('lms_account', 'u042')
        >>> identity_of("account:https://other|u042", "https://lms.x") is None
        True
    """
    kind, _, rest = ifi.partition(":")
    if kind == "mbox":
        return "email", rest.removeprefix("mailto:")
    if kind == "account":
        home, _, name = rest.partition("|")
        if home_page and home.rstrip("/") != home_page.rstrip("/"):
            return None
        return "lms_account", name
    if kind == "mbox_sha1sum":
        return "mbox_sha1sum", rest
    if kind == "openid":
        return "openid", rest
    return None


def _pseudonym(key: bytes, ifi: str) -> str:
    return UNKNOWN + identity_hash(key, "xapi_actor", ifi)[:PSEUDONYM_HEX]


def counted(store: Store, settings: WorkspaceSettings) -> ir.Table:
    """The statements that count as activity (mapped verb, Activity object, not voided)."""
    st = store.table("xapi_statements")
    verbs = list(settings.xapi.verb_map())
    return st.filter(
        ~st.voided.fill_null(False),
        st.verb_id.isin(verbs),
        st.object_type == "Activity",
        st.actor_ifi.notnull(),
    )


def match_actors(store: Store, key: bytes, settings: WorkspaceSettings) -> ActorMatch:
    """Resolve each distinct actor of the counted statements to a person."""
    rows = counted(store, settings)
    per_actor = rows.group_by("actor_ifi").aggregate(n=rows.count()).to_pyarrow()
    actors = per_actor.column("actor_ifi").to_pylist()
    counts = per_actor.column("n").to_pylist()
    ids = identity_map(store)
    people: dict[str, str] = {}
    unmatched: list[str] = []
    missed = 0
    for ifi, n in zip(actors, counts, strict=True):
        found = identity_of(ifi, settings.xapi.account_home_page)
        person = None
        if found is not None:
            person = ids.get(identity_hash(key, *found)[:PSEUDONYM_HEX])
        if person is None:
            unmatched.append(_pseudonym(key, ifi))
            missed += n
        else:
            people[ifi] = person
    return ActorMatch(people, sorted(unmatched), missed, sum(counts))


def statement_activity(
    store: Store, key: bytes, settings: WorkspaceSettings, activity: ir.Table
) -> tuple[ir.Table, ActorMatch]:
    """``activity`` with the counted, resolved statements added as rows of the same shape.

    Score: ``result.score.scaled`` x 100 (``max_score`` 100), else raw with its max;
    ``progress_pct`` 100 when ``result.completion``; ``attempt_id`` the registration;
    ``program`` from ``[xapi] activities`` (the object, else a context activity).
    """
    if store.table("xapi_statements").count().to_pyarrow().as_py() == 0:
        return activity, ActorMatch({})
    match = match_actors(store, key, settings)
    if not match.people:
        return activity, match
    verbs = settings.xapi.verb_map()
    who = ibis.memtable(
        pa.table({"actor_ifi": list(match.people), "person_id": list(match.people.values())})
    )
    how = ibis.memtable(pa.table({"verb_id": list(verbs), "mapped_verb": list(verbs.values())}))
    rows = counted(store, settings).inner_join(who, "actor_ifi").inner_join(how, "verb_id")
    programs = settings.xapi.activities
    program: ir.Value = ibis.null(str)
    if programs:
        cases = [(rows.object_id == a, p) for a, p in programs.items()]
        # context activities are stored as a JSON array of ids: a quoted id is a whole id
        quoted = [(rows.context_activities.contains(f'"{a}"'), p) for a, p in programs.items()]
        program = ibis.cases(*cases, *quoted, else_=ibis.null(str))
    scaled = rows.result_score_scaled
    values: dict[str, ir.Value] = {
        "person_id": rows.person_id,
        "asset_id": rows.object_id,
        "verb": rows.mapped_verb,
        "timestamp": rows.timestamp,
        "program": program,
        "duration_minutes": rows.result_duration_s / 60.0,
        "score": ibis.ifelse(scaled.notnull(), scaled * 100.0, rows.result_score_raw),
        "max_score": ibis.ifelse(scaled.notnull(), ibis.literal(100.0), rows.result_score_max),
        "success": rows.result_success,
        "progress_pct": ibis.ifelse(
            rows.result_completion.fill_null(False), ibis.literal(100.0), ibis.null("float64")
        ),
        "attempt_id": rows.registration,
        "source": ibis.literal("xapi"),
        "statement_id": rows.statement_id,
    }
    schema = activity.schema()
    shaped = rows.select(
        **{
            name: (values[name] if name in values else ibis.null()).cast(dtype)
            for name, dtype in schema.items()
        }
    )
    return activity.union(shaped), match


def lrs_health(store: Store, key: bytes, settings: WorkspaceSettings) -> dict[str, object]:
    """The data-health entry of the LRS: statements counted and actors matching nobody.

    Unmatched actors are shown pseudonymised (``u_`` + a keyed hash), never as e-mails.
    """
    st = store.table("xapi_statements")
    total = int(st.count().to_pyarrow().as_py())
    match = match_actors(store, key, settings) if total else ActorMatch({})
    return {
        "statements": total,
        "counted_statements": match.statements,
        "matched_actors": len(match.people),
        "unmatched_actors": len(match.unmatched),
        "unmatched_statements": match.unmatched_statements,
        "samples": match.unmatched[:SAMPLES],
    }


def unmatched_warning(match: ActorMatch) -> str | None:
    """The analysis warning for statements left out, or None when every actor matched."""
    if not match.unmatched:
        return None
    return (
        f"{match.unmatched_statements} LRS statements from {len(match.unmatched)} actors that "
        "match no person are left out (listed by data health under xapi)"
    )
