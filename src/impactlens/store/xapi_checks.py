"""The xAPI 1.0.3 MUSTs that can be checked in columns, as vectorised SQL conditions.

Each check is ``(field, problem, condition)``: the condition is a DuckDB expression
over the staged columns of :mod:`impactlens.store.xapi_bulk` that is true exactly
for an invalid statement (NULL counts as valid, so absent optional parts pass).
Sections cited are of the xAPI 1.0.3 specification, Part Two (Data).
"""

from __future__ import annotations

UUID_RE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# an absolute IRI: a scheme, a colon and no white space (RFC 3987 section 2.2)
IRI_RE = r"^[A-Za-z][A-Za-z0-9+.\-]*:\S*$"
# ISO 8601 date and time; a negative zero offset is not allowed (RFC 3339 section 4.3)
TIMESTAMP_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}([.,]\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
VERSION_RE = r"^[12]\.0(\.\d+)?$"
STATEMENT_KEYS = (
    "id",
    "actor",
    "verb",
    "object",
    "result",
    "context",
    "timestamp",
    "stored",
    "authority",
    "version",
    "attachments",
)
OBJECT_TYPES = ("Activity", "Agent", "Group", "StatementRef", "SubStatement")
CONTEXT_KINDS = ("parent", "grouping", "category", "other")


# Agent positions: staged column prefix -> JSON path (sections 2.4.2, 2.4.6, 2.4.9)
AGENTS = {
    "actor": "$.actor",
    "obj": "$.object",
    "auth": "$.authority",
    "instr": "$.context.instructor",
    "team": "$.context.team",
    "sactor": "$.object.actor",
    "sobj": "$.object.object",
    "sinstr": "$.object.context.instructor",
    "steam": "$.object.context.team",
}
_AGENT_FIELDS = {
    "": "",
    "_type": ".objectType",
    "_mbox": ".mbox",
    "_sha1": ".mbox_sha1sum",
    "_openid": ".openid",
    "_account": ".account",
    "_home": ".account.homePage",
    "_name": ".account.name",
    "_member": ".member",
}
_OTHER = {
    "id": "$.id",
    "ts_raw": "$.timestamp",
    "version": "$.version",
    "stored_raw": "$.stored",
    "verb": "$.verb",
    "verb_id": "$.verb.id",
    "verb_display": "$.verb.display",
    "o_type_raw": "$.object.objectType",
    "o_id": "$.object.id",
    "o_stored": "$.object.stored",
    "o_version": "$.object.version",
    "o_authority": "$.object.authority",
    "s_verb_id": "$.object.verb.id",
    "s_obj_id": "$.object.object.id",
    "s_ca": "$.object.context.contextActivities",
    "res": "$.result",
    "score": "$.result.score",
    "scaled": "$.result.score.scaled",
    "raw": "$.result.score.raw",
    "min": "$.result.score.min",
    "max": "$.result.score.max",
    "success": "$.result.success",
    "completion": "$.result.completion",
    "duration": "$.result.duration",
    "ctx": "$.context",
    "reg": "$.context.registration",
    "revision": "$.context.revision",
    "platform": "$.context.platform",
    "ca": "$.context.contextActivities",
}
# Every value the checks and the write read, extracted in one parse of each statement:
# column name -> JSON path. Each has a text column (the value, or the JSON of an
# object) and a ``_t`` column (its JSON type; NULL when absent).
PATHS: dict[str, str] = {
    **{
        prefix + suffix: path + rest
        for prefix, path in AGENTS.items()
        for suffix, rest in _AGENT_FIELDS.items()
    },
    **_OTHER,
}

# Values whose JSON type a check needs; the typed reader reads every other leaf as text.
JSON_LEAVES = frozenset(
    {
        *[path + ".member" for path in AGENTS.values()],
        *[path + ".account.name" for path in AGENTS.values()],
        "$.verb.display",
        "$.context.contextActivities",
        "$.object.context.contextActivities",
        "$.result.score.scaled",
        "$.result.score.raw",
        "$.result.score.min",
        "$.result.score.max",
        "$.result.success",
        "$.result.completion",
        "$.object.stored",
        "$.object.version",
        "$.object.authority",
        "$.object.id",
    }
)


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _not_re(expr: str, pattern: str) -> str:
    return f"NOT regexp_matches({expr}, {_lit(pattern)})"


def _no_re(expr: str, pattern: str) -> str:
    """True when ``expr`` is absent or does not match (for required values)."""
    return f"coalesce(regexp_matches({expr}, {_lit(pattern)}), false) = false"


def _ifi_count(p: str) -> str:
    """How many inverse functional identifiers the agent at ``p`` carries (section 2.4.2.3)."""
    return " + ".join(
        f"({p}{k}_t IS NOT NULL)::INT" for k in ("_mbox", "_sha1", "_openid", "_account")
    )


def _ifi_count_json(a: str) -> str:
    keys = ("mbox", "mbox_sha1sum", "openid", "account")
    return " + ".join(f"(json_type({a}, '$.{k}') IS NOT NULL)::INT" for k in keys)


def ifi_sql(p: str) -> str:
    """The canonical IFI of the staged agent at prefix ``p`` (NULL: none, e.g. anonymous).

    ``mbox:mailto:...``, ``mbox_sha1sum:<hex>``, ``openid:<uri>`` or
    ``account:<homePage>|<name>``, the shapes the LRS endpoints store too.
    """
    return (
        f"CASE WHEN {p}_mbox IS NOT NULL THEN 'mbox:' || {p}_mbox "
        f"WHEN {p}_sha1 IS NOT NULL THEN 'mbox_sha1sum:' || lower({p}_sha1) "
        f"WHEN {p}_openid IS NOT NULL THEN 'openid:' || {p}_openid "
        f"WHEN {p}_account_t = 'OBJECT' THEN 'account:' || coalesce({p}_home, '') || '|' "
        f"|| coalesce({p}_name, '') END"
    )


def ifi_json_sql(a: str) -> str:
    """The canonical IFI of an agent given as JSON text (group members)."""
    return (
        f"CASE WHEN {a}->>'$.mbox' IS NOT NULL THEN 'mbox:' || ({a}->>'$.mbox') "
        f"WHEN {a}->>'$.mbox_sha1sum' IS NOT NULL "
        f"THEN 'mbox_sha1sum:' || lower({a}->>'$.mbox_sha1sum') "
        f"WHEN {a}->>'$.openid' IS NOT NULL THEN 'openid:' || ({a}->>'$.openid') "
        f"WHEN json_type({a}, '$.account') = 'OBJECT' THEN 'account:' || "
        f"coalesce({a}->>'$.account.homePage', '') || '|' || "
        f"coalesce({a}->>'$.account.name', '') END"
    )


def agent_checks(field: str, p: str, *, default: str = "Agent") -> list[tuple[str, str, str]]:
    """Checks of the agent or group at staged prefix ``p`` (sections 2.4.2.1 to 2.4.2.4)."""
    kind = f"coalesce({p}_type, '{default}')"
    n = _ifi_count(p)
    member_bad = (
        f"lambda m: json_type(m) <> 'OBJECT' OR coalesce(m->>'$.objectType', 'Agent') <> 'Agent' "
        f"OR ({_ifi_count_json('m')}) <> 1"
    )
    checks = [
        (field, "not a JSON object", f"{p}_t <> 'OBJECT'"),
        (field, "objectType must be Agent or Group", f"{kind} NOT IN ('Agent', 'Group')"),
        (
            field,
            "an Agent needs exactly one of mbox, mbox_sha1sum, openid, account",
            f"{kind} = 'Agent' AND ({n}) <> 1",
        ),
        (field, "a Group has at most one identifier", f"{kind} = 'Group' AND ({n}) > 1"),
        (
            field,
            "an anonymous Group needs a member list",
            f"{kind} = 'Group' AND ({n}) = 0 AND {p}_member_t IS DISTINCT FROM 'ARRAY'",
        ),
        (
            f"{field}.member",
            "every member must be an Agent with exactly one identifier",
            f"{p}_member_t = 'ARRAY' AND "
            f"len(list_filter(json_extract({p}_member, '$[*]'), {member_bad})) > 0",
        ),
        (f"{field}.mbox", "must be a mailto: IRI", f"NOT starts_with({p}_mbox, 'mailto:')"),
        (
            f"{field}.mbox_sha1sum",
            "must be 40 hex digits",
            _not_re(f"{p}_sha1", r"^[0-9a-fA-F]{40}$"),
        ),
        (f"{field}.openid", "must be an IRI", _not_re(f"{p}_openid", IRI_RE)),
        (
            f"{field}.account",
            "needs a homePage IRI and a name",
            f"{p}_account_t IS NOT NULL AND ({p}_account_t <> 'OBJECT' "
            f"OR {_no_re(p + '_home', IRI_RE)} "
            f"OR {p}_name_t IS DISTINCT FROM 'VARCHAR')",
        ),
    ]
    # only where the agent is there at all
    return [(f, msg, f"{p}_t IS NOT NULL AND ({c})") for f, msg, c in checks]


def _score_checks() -> list[tuple[str, str, str]]:
    """Result score rules (section 2.4.5.1)."""
    return [
        *[
            (
                f"result.score.{k}",
                "must be a number",
                f"{k}_t NOT IN ('DOUBLE', 'UBIGINT', 'BIGINT')",
            )
            for k in ("scaled", "raw", "min", "max")
        ],
        ("result.score.scaled", "must be between -1 and 1", "abs(result_score_scaled) > 1"),
        ("result.score.raw", "must not be below min", "result_score_raw < result_score_min"),
        ("result.score.raw", "must not be above max", "result_score_raw > result_score_max"),
        ("result.score.max", "must be greater than min", "result_score_max <= result_score_min"),
    ]


def _build() -> list[tuple[str, str, str]]:
    keys = ", ".join(_lit(k) for k in STATEMENT_KEYS)
    types = ", ".join(_lit(t) for t in OBJECT_TYPES)
    kinds = ", ".join(_lit(k) for k in CONTEXT_KINDS)
    sub = "o_type = 'SubStatement'"
    checks: list[tuple[str, str, str]] = [
        ("$", "not a JSON object", "jt IS DISTINCT FROM 'OBJECT'"),
        (
            "$",
            f"unknown property (allowed: {', '.join(STATEMENT_KEYS)})",
            f"NOT list_has_all([{keys}], keys)",  # no lambda: ~3x cheaper per statement
        ),
        ("id", "must be a UUID", f"id_t IS NOT NULL AND {_no_re('id', UUID_RE)}"),
        ("actor", "missing", "jt = 'OBJECT' AND actor_t IS NULL"),
        *agent_checks("actor", "actor"),
        (
            "verb",
            "missing or not a JSON object",
            "jt = 'OBJECT' AND verb_t IS DISTINCT FROM 'OBJECT'",
        ),
        ("verb.id", "must be an IRI", f"verb_t = 'OBJECT' AND {_no_re('verb_id', IRI_RE)}"),
        ("verb.display", "must be a language map", "verb_display_t <> 'OBJECT'"),
        (
            "object",
            "missing or not a JSON object",
            "jt = 'OBJECT' AND obj_t IS DISTINCT FROM 'OBJECT'",
        ),
        (
            "object.objectType",
            f"must be one of {', '.join(OBJECT_TYPES)}",
            f"obj_t = 'OBJECT' AND o_type NOT IN ({types})",
        ),
        (
            "object.id",
            "an Activity needs an IRI id",
            f"obj_t = 'OBJECT' AND o_type = 'Activity' AND {_no_re('o_id', IRI_RE)}",
        ),
        (
            "object.id",
            "a StatementRef needs a UUID id",
            f"o_type = 'StatementRef' AND {_no_re('o_id', UUID_RE)}",
        ),
        *[
            (f, p, f"o_type IN ('Agent', 'Group') AND ({c})")
            for f, p, c in agent_checks("object", "obj")
        ],
        (
            "object",
            "a SubStatement must not have id, stored, version or authority",
            f"{sub} AND (o_id_t IS NOT NULL OR o_stored_t IS NOT NULL OR o_version_t IS NOT NULL "
            "OR o_authority_t IS NOT NULL)",
        ),
        (
            "object.object",
            "a SubStatement cannot contain a SubStatement",
            f"{sub} AND sobj_type = 'SubStatement'",
        ),
        ("object.actor", "a SubStatement needs an actor", f"{sub} AND sactor_t IS NULL"),
        *[(f, p, f"{sub} AND ({c})") for f, p, c in agent_checks("object.actor", "sactor")],
        (
            "object.verb.id",
            "a SubStatement needs a verb with an IRI id",
            f"{sub} AND {_no_re('s_verb_id', IRI_RE)}",
        ),
        (
            "object",
            "a voiding statement's object must be a StatementRef",
            "verb_id = 'http://adlnet.gov/expapi/verbs/voided' AND o_type <> 'StatementRef'",
        ),
        ("result", "not a JSON object", "res_t <> 'OBJECT'"),
        ("result.score", "not a JSON object", "score_t <> 'OBJECT'"),
        *_score_checks(),
        ("result.success", "must be true or false", "success_t <> 'BOOLEAN'"),
        ("result.completion", "must be true or false", "completion_t <> 'BOOLEAN'"),
        (
            "result.duration",
            "must be an ISO 8601 duration",
            "duration_t IS NOT NULL AND result_duration_s IS NULL",
        ),
        ("context", "not a JSON object", "ctx_t <> 'OBJECT'"),
        (
            "context.registration",
            "must be a UUID",
            f"reg_t IS NOT NULL AND {_no_re('reg', UUID_RE)}",
        ),
        (
            "context.revision",
            "only allowed when the object is an Activity",
            "revision_t IS NOT NULL AND o_type <> 'Activity'",
        ),
        (
            "context.platform",
            "only allowed when the object is an Activity",
            "platform_t IS NOT NULL AND o_type <> 'Activity'",
        ),
        (
            "context.contextActivities",
            f"keys must be {', '.join(CONTEXT_KINDS)}",
            f"ca_t = 'OBJECT' AND NOT list_has_all([{kinds}], json_keys(ca))",
        ),
        (
            "context.contextActivities",
            "every context activity needs an IRI id",
            "len(list_filter(ctx_ids, lambda x: x IS NULL OR "
            f"NOT regexp_matches(x, {_lit(IRI_RE)}))) > 0",
        ),
        *agent_checks("context.instructor", "instr"),
        *agent_checks("context.team", "team", default="Group"),
        (
            "context.team",
            "must be a Group",
            "team_t IS NOT NULL AND coalesce(team_type, 'Group') <> 'Group'",
        ),
        (
            "timestamp",
            "must be an ISO 8601 date and time",
            f"ts_raw_t IS NOT NULL AND (ts IS NULL OR {_no_re('ts_raw', TIMESTAMP_RE)} "
            "OR regexp_matches(ts_raw, '-00(:?00)?$'))",
        ),
        (
            "version",
            "must be 1.0.x (or 2.0.x)",
            f"version_t IS NOT NULL AND {_no_re('version', VERSION_RE)}",
        ),
        *agent_checks("authority", "auth"),
    ]
    return checks


CHECKS: list[tuple[str, str, str]] = _build()


def _null_checks() -> list[tuple[str, str, str]]:
    """A null where a text value is read (the checks above read it as absent).

    Objects and the values read as JSON have their own type checks, which a null
    fails. Only the JSON path can see a null here: the typed values cannot, so a file
    with one takes that path (:func:`impactlens.store.xapi_fast.has_null`).
    """
    paths = set(PATHS.values())
    return [
        (path.removeprefix("$."), "must not be null", f"{name}_t = 'NULL'")
        for name, path in PATHS.items()
        if path not in JSON_LEAVES and not any(p.startswith(path + ".") for p in paths)
    ]


NULL_CHECKS = _null_checks()
