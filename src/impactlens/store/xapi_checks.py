"""The xAPI 1.0.3 MUSTs that can be checked in columns, as vectorised SQL conditions.

Each check is ``(field, problem, condition)``: the condition is a DuckDB expression
over the staged columns of :mod:`impactlens.store.xapi_bulk` that is true exactly
for an invalid statement (NULL counts as valid, so absent optional parts pass).
Sections cited are of the xAPI 1.0.3 specification, Part Two (Data).
"""

from __future__ import annotations

from collections.abc import Callable

from impactlens.domain.xapi import agents, values
from impactlens.domain.xapi.validation import COMPONENTS

UUID_RE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# POST's own patterns (impactlens.domain.xapi.values and .agents; RE2 reads them alike),
# so a file and a POST take and refuse the same statements: an absolute IRI, an agent's
# openid and account homePage, an mbox, an RFC 5646 language tag
IRI_RE = values._IRI.pattern
AGENT_IRI_RE = agents._IRI.pattern
MBOX_RE = agents._MBOX.pattern
LANG_RE = values._LANG.pattern
_NUM = r"\d+(?:[.,]\d+)?"
# ISO 8601 durations as POST takes them: weeks alone, or the other parts (one at least,
# and a T followed by one; the two checks RE2 cannot express are beside it in the check)
DURATION_STRICT_RE = (
    rf"^P(?:{_NUM}W|(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}D)?"
    rf"(?:T(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?)$"
)
# ISO 8601 date and time; a negative zero offset is not allowed (RFC 3339 section 4.3)
TIMESTAMP_RE = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}([.,]\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
VERSION_RE = r"^[12]\.0(\.\d+)?$"
# hours 00-23, minutes and seconds 00-59 (DuckDB reads 24:00 as the next day's midnight)
CLOCK_RE = r"^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?([^\d]|$)"
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
    "_aname": ".name",
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
    "response": "$.result.response",
    "res_ext": "$.result.extensions",
    "ctx": "$.context",
    "reg": "$.context.registration",
    "revision": "$.context.revision",
    "platform": "$.context.platform",
    "language": "$.context.language",
    "ctx_ext": "$.context.extensions",
    "ca": "$.context.contextActivities",
    "def": "$.object.definition",
    "def_name": "$.object.definition.name",
    "def_desc": "$.object.definition.description",
    "def_type": "$.object.definition.type",
    "def_more": "$.object.definition.moreInfo",
    "def_ext": "$.object.definition.extensions",
    "def_itype": "$.object.definition.interactionType",
    "def_crp": "$.object.definition.correctResponsesPattern",
    **{
        f"def_{k}": f"$.object.definition.{k}"
        for k in ("choices", "scale", "source", "target", "steps")
    },
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
        *[path + ".name" for path in AGENTS.values()],
        *[path + ".mbox_sha1sum" for path in AGENTS.values()],  # 40 digits is a number too
        "$.verb.display",
        "$.version",
        "$.result.response",
        "$.result.extensions",
        "$.context.platform",
        "$.context.revision",
        "$.context.language",
        "$.context.extensions",
        "$.object.definition.name",
        "$.object.definition.description",
        "$.object.definition.extensions",
        "$.object.definition.interactionType",
        "$.object.definition.correctResponsesPattern",
        *[f"$.object.definition.{k}" for k in ("choices", "scale", "source", "target", "steps")],
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


def timestamp_sql(col: str) -> str:
    """The timestamp text ``col`` as a UTC TIMESTAMP, NULL when it is not a real one.

    DuckDB's cast needs the seconds and a decimal point; ISO 8601 lets both go
    (``10:00Z``, ``10:00:00,5Z``), and POST takes them.
    """
    text = (
        rf"regexp_replace(replace({col}, ',', '.'), '^([^T]*T\d{{2}}:\d{{2}})([Z+-]|$)', '\1:00\2')"
    )
    return f"timezone('UTC', try_cast({text} AS TIMESTAMPTZ))"


def timestamp_bad(col: str, parsed: str) -> str:
    """Whether the timestamp text ``col`` (``parsed``: :func:`timestamp_sql`) is invalid."""
    return (
        f"{col}_t IS NOT NULL AND ({parsed} IS NULL OR {_no_re(col, TIMESTAMP_RE)} "
        f"OR {_no_re(col, CLOCK_RE)} OR regexp_matches({col}, '-00(:?00)?$'))"
    )


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
            # a CASE, not AND: DuckDB may evaluate both sides of an AND inside an OR
            f"CASE WHEN {p}_member_t = 'ARRAY' THEN "
            f"len(list_filter(json_extract({p}_member, '$[*]'), {member_bad})) > 0 END",
        ),
        (f"{field}.name", "must be a string", f"{p}_aname_t <> 'VARCHAR'"),
        (f"{field}.mbox", "must be a mailto: IRI", _not_re(f"{p}_mbox", MBOX_RE)),
        (
            f"{field}.mbox_sha1sum",
            "must be 40 hex digits",
            f"{p}_sha1_t <> 'VARCHAR' OR {_not_re(f'{p}_sha1', r'^[0-9a-fA-F]{40}$')}",
        ),
        (f"{field}.openid", "must be an IRI", _not_re(f"{p}_openid", AGENT_IRI_RE)),
        (
            f"{field}.account",
            "needs a homePage IRI and a name",
            f"{p}_account_t IS NOT NULL AND ({p}_account_t <> 'OBJECT' "
            f"OR {_no_re(p + '_home', AGENT_IRI_RE)} "
            f"OR {p}_name_t IS DISTINCT FROM 'VARCHAR')",
        ),
    ]
    # only where the agent is there at all
    return [(f, msg, f"{p}_t IS NOT NULL AND ({c})") for f, msg, c in checks]


# a JSON string, and a language map, as DuckDB writes them (no white space; a tag has
# nothing to escape)
_STR = r'"(?:[^"\\]|\\.)*"'
_TAG_STR = rf'"{LANG_RE[1:-1]}":{_STR}'
LANGUAGE_MAP_RE = rf"^\{{(?:{_TAG_STR}(?:,{_TAG_STR})*)?\}}$"


def _language_map(field: str, col: str) -> list[tuple[str, str, str]]:
    """A language map: an object of RFC 5646 tags to strings (section 4.2)."""
    return [
        (field, "must be a language map", f"{col}_t <> 'OBJECT'"),
        (
            field,
            "must map RFC 5646 language tags to strings",
            f"{col}_t = 'OBJECT' AND {_not_re(col, LANGUAGE_MAP_RE)}",
        ),
    ]


def _extensions(field: str, col: str) -> list[tuple[str, str, str]]:
    """Extensions: an object whose keys are IRIs (section 2.4.5.1)."""
    return [
        (field, "must be an object", f"{col}_t <> 'OBJECT'"),
        (
            field,
            "every key must be an IRI",
            f"CASE WHEN {col}_t = 'OBJECT' THEN NOT list_bool_and(list_transform("
            f"json_keys({col}), lambda k: regexp_matches(k, {_lit(IRI_RE)}))) END",
        ),
    ]


# Interaction components each interaction type may carry (Data 2.4.4.1.1)
INTERACTIONS = COMPONENTS
# a component list as DuckDB writes it: objects of an id and an optional description
_MAP = LANGUAGE_MAP_RE[1:-1]
_COMPONENT = rf'\{{(?:"id":{_STR}(?:,"description":{_MAP})?|"description":{_MAP},"id":{_STR})\}}'
COMPONENTS_RE = rf"^\[(?:{_COMPONENT}(?:,{_COMPONENT})*)?\]$"
PATTERN_RE = rf"^\[(?:{_STR}(?:,{_STR})*)?\]$"


def _interaction_checks() -> list[tuple[str, str, str]]:
    """An activity definition's interaction properties (Data 2.4.4.1.1)."""
    lists = ("choices", "scale", "source", "target", "steps")
    kinds = ", ".join(_lit(k) for k in INTERACTIONS)
    any_part = " OR ".join(f"def_{k}_t IS NOT NULL" for k in ("crp", *lists))
    out = [
        (
            "object.definition.interactionType",
            f"must be one of {', '.join(INTERACTIONS)}",
            f"def_itype_t IS NOT NULL AND (def_itype_t <> 'VARCHAR' OR def_itype NOT IN ({kinds}))",
        ),
        (
            "object.definition",
            "has interaction properties without an interactionType",
            f"def_itype_t IS NULL AND ({any_part})",
        ),
        (
            "object.definition.correctResponsesPattern",
            "must be an array of strings",
            f"def_crp_t IS NOT NULL AND (def_crp_t <> 'ARRAY' OR {_not_re('def_crp', PATTERN_RE)})",
        ),
    ]
    for k in lists:
        allowed = ", ".join(_lit(t) for t, parts in INTERACTIONS.items() if k in parts) or "NULL"
        out += [
            (
                f"object.definition.{k}",
                "not allowed for this interactionType",
                f"def_{k}_t IS NOT NULL AND def_itype_t = 'VARCHAR' AND def_itype IN ({kinds}) "
                f"AND def_itype NOT IN ({allowed})",
            ),
            (
                f"object.definition.{k}",
                "must be an array of components with unique ids",
                f"def_{k}_t IS NOT NULL AND (def_{k}_t <> 'ARRAY' OR "
                f"{_not_re(f'def_{k}', COMPONENTS_RE)} OR "
                f"CASE WHEN def_{k}_t = 'ARRAY' THEN len(list_distinct(json_extract_string("
                f"def_{k}, '$[*].id'))) <> json_array_length(def_{k}) END)",
            ),
        ]
    return out


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
        *_language_map("verb.display", "verb_display"),
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
        ("object.definition", "not a JSON object", "def_t <> 'OBJECT'"),
        *_language_map("object.definition.name", "def_name"),
        *_language_map("object.definition.description", "def_desc"),
        ("object.definition.type", "must be an IRI", _not_re("def_type", IRI_RE)),
        ("object.definition.moreInfo", "must be an IRI", _not_re("def_more", IRI_RE)),
        *_extensions("object.definition.extensions", "def_ext"),
        *_interaction_checks(),
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
            "duration_t IS NOT NULL AND (result_duration_s IS NULL OR "
            f"{_no_re('duration', DURATION_STRICT_RE)} OR duration = 'P' OR "
            "ends_with(duration, 'T'))",
        ),
        ("result.response", "must be a string", "response_t <> 'VARCHAR'"),
        *_extensions("result.extensions", "res_ext"),
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
        ("context.revision", "must be a string", "revision_t <> 'VARCHAR'"),
        ("context.platform", "must be a string", "platform_t <> 'VARCHAR'"),
        (
            "context.language",
            "must be an RFC 5646 language tag",
            "language_t IS NOT NULL AND (language_t <> 'VARCHAR' OR "
            f"{_no_re('language', LANG_RE)})",
        ),
        *_extensions("context.extensions", "ctx_ext"),
        ("context.contextActivities", "not a JSON object", "ca_t <> 'OBJECT'"),
        (
            "context.contextActivities",
            f"keys must be {', '.join(CONTEXT_KINDS)}",
            f"CASE WHEN ca_t = 'OBJECT' THEN NOT list_has_all([{kinds}], json_keys(ca)) END",
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
            "team_t IS NOT NULL AND team_type IS DISTINCT FROM 'Group'",
        ),
        (
            "timestamp",
            "must be an ISO 8601 date and time",
            timestamp_bad("ts_raw", "ts"),
        ),
        (
            "stored",
            "must be an ISO 8601 date and time",
            timestamp_bad("stored_raw", timestamp_sql("stored_raw")),
        ),
        (
            "version",
            "must be 1.0.x (or 2.0.x)",
            "version_t IS NOT NULL AND (version_t <> 'VARCHAR' OR "
            f"{_no_re('version', VERSION_RE)})",
        ),
        *agent_checks("authority", "auth"),
        (
            "authority",
            "a Group must be an anonymous OAuth pair: two Agents, one the application's account",
            "auth_t IS NOT NULL AND auth_type = 'Group' AND auth_member_t IS DISTINCT FROM 'ARRAY'",
        ),
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


# What the checks above answer for completely: a statement holding only these keys (and
# the keys inside the parts counted below) is valid exactly when no check is true. Any
# other key (attachments, a group's members, a SubStatement, a context
# activity with more than its id...) leaves the statement to POST's own checks
# (impactlens.domain.xapi.validation), which the import then runs on it.
_VOUCHED_AGENT = ("_type", "_aname", "_mbox", "_sha1", "_openid", "_account", "_home", "_name")
_VOUCHED = (
    "id", "actor", "verb", "obj", "res", "ctx", "ts_raw", "stored_raw", "version", "auth",
    "verb_id", "verb_display", "o_type_raw", "o_id",
    "def", "def_name", "def_desc", "def_type", "def_more", "def_ext", "def_itype", "def_crp",
    "def_choices", "def_scale", "def_source", "def_target", "def_steps",
    "score", "scaled", "raw", "min", "max", "success", "completion", "response", "duration",
    "res_ext", "reg", "instr", "team", "ca", "revision", "platform", "language", "ctx_ext",
)  # fmt: skip
# values whose own keys are counted from their JSON text (language maps, extensions)
_COUNTED = (
    "verb_display", "def_name", "def_desc", "def_ext", "res_ext", "ctx_ext", "ca", "def_crp",
    "def_choices", "def_scale", "def_source", "def_target", "def_steps",
)  # fmt: skip
# contextActivities of activities with an id (and objectType Activity) alone, as DuckDB
# writes JSON (no white space)
_CA_ID = r'"id":"[^"\\]*"'
_CA_ITEM = rf'\{{(?:"objectType":"Activity",{_CA_ID}|{_CA_ID}(?:,"objectType":"Activity")?)\}}'
_CA_VALUE = rf"(?:\[(?:{_CA_ITEM}(?:,{_CA_ITEM})*)?\]|{_CA_ITEM})"
_CA_KIND = rf'"(?:parent|grouping|category|other)":{_CA_VALUE}'
CA_PLAIN_RE = rf"^\{{(?:{_CA_KIND}(?:,{_CA_KIND})*)?\}}$"


def key_count(text: str) -> str:
    """How many keys the JSON ``text`` as DuckDB writes it holds (every key ends ``":``).

    A string holding ``":`` counts too, so a count can only come out high, never low.
    """
    return f"coalesce(len(string_split({text}, '\":')) - 1, 0)"  # 4x cheaper than replace


def line_key_count(line: str) -> str:
    """:func:`key_count` of a statement's text as the file has it, NULL where it may differ.

    It differs where white space separates a key from its colon (the count would miss
    the key) or where an escape DuckDB writes as a quote or a colon (``\\u0022``,
    ``\\u003a``) could add one to a part's count: such a statement is left to POST's
    checks. Only lines with a quote before white space or a ``\\u00`` escape are searched.
    """
    suspect = " OR ".join(
        [f"contains({line}, '\\u00')"]
        + [f"contains({line}, '\"' || chr({c}))" for c in (9, 13, 32)]
    )
    pattern = _lit(r'\\u00(22|3[aA])|"[ \t\r]+:')
    return (
        f"CASE WHEN NOT ({suspect}) OR NOT regexp_matches({line}, {pattern}) "
        f"THEN {key_count(line)} END"
    )


def vouched_sql(
    present: Callable[[str], str] = lambda c: f"{c}_t IS NOT NULL",
    text: Callable[[str], str] = lambda c: c,
) -> str:
    """The number of keys of a statement the checks answer for, NULL if it has other parts.

    Equal to :func:`line_key_count` of the whole statement exactly when it has no other
    key: then the checks' verdict is POST's. An Activity object and plain context
    activities only; the other agents' parts counted only where the agent is there.
    ``present(c)`` tells whether the statement has the value of column ``c``, ``text(c)``
    is its JSON text (defaults: the staged columns).
    """

    def count(c: str) -> str:
        return f"({present(c)})::INT"

    keys = [count(c) for c in _VOUCHED] + [count("actor" + f) for f in _VOUCHED_AGENT]
    for p in ("instr", "team", "auth"):
        fields = " + ".join(count(p + f) for f in _VOUCHED_AGENT)
        keys.append(f"CASE WHEN {present(p)} THEN {fields} ELSE 0 END")
    keys += [key_count(text(c)) for c in _COUNTED]
    return (
        f"CASE WHEN o_type = 'Activity' AND (NOT ({present('ca')}) OR "
        f"regexp_matches({text('ca')}, {_lit(CA_PLAIN_RE)})) THEN {' + '.join(keys)} END"
    )
