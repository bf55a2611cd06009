"""The xAPI value types (Data 4.0): UUIDs, IRIs, language maps, timestamps, durations."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from impactlens.domain.xapi.errors import XapiError

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# an absolute IRI: a scheme, a colon, then no white space (RFC 3987 in the large)
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s\"<>\\^`{|}]+$")
# RFC 5646 language tags in the large: a primary subtag and dash-separated subtags
_LANG = re.compile(r"^(?:[A-Za-z]{2,8}|[xX]|[iI])(?:-[A-Za-z0-9]{1,8})*$")
# ISO 8601 date-time as xAPI uses it (Data 4.5): full date, T, time, optional offset
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_NUM = r"\d+(?:[.,]\d+)?"
# weeks stand alone in ISO 8601 (PnW); the other parts combine (PnYnMnDTnHnMnS)
_DURATION = re.compile(
    rf"^P(?:{_NUM}W|(?!$)(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}D)?"
    rf"(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?)$"
)

_DURATION_PART = re.compile(r"(\d+(?:[.,]\d+)?)([A-Z])")

# values that matched, by pattern: verbs, activity types, language tags and durations
# recur from statement to statement, and a set look-up costs a tenth of a match
_SEEN: dict[str, set[str]] = {}
_SEEN_MAX = 8192


def matches(pattern: re.Pattern[str], value: str) -> bool:
    """``pattern.fullmatch(value)``, remembering the values that matched.

    Examples:
        >>> matches(_LANG, "en-US"), matches(_LANG, "en-US"), matches(_LANG, "en\\n")
        (True, True, False)
    """
    seen = _SEEN.get(pattern.pattern)
    if seen is None:
        seen = _SEEN[pattern.pattern] = set()
    elif value in seen:
        return True
    if pattern.fullmatch(value) is None:
        return False
    if len(seen) >= _SEEN_MAX:  # a bound for values that do not recur (ids, e-mails)
        seen.clear()
    seen.add(value)
    return True


def is_uuid(value: Any) -> bool:
    """Whether ``value`` is a UUID string (8-4-4-4-12 hexadecimal).

    Examples:
        >>> is_uuid("fd41c918-b88b-4b20-a0a5-a4c32391aaa0"), is_uuid("fd41c918")
        (True, False)
    """
    return isinstance(value, str) and bool(_UUID.fullmatch(value))


def is_iri(value: Any) -> bool:
    """Whether ``value`` is an absolute IRI.

    Examples:
        >>> is_iri("http://adlnet.gov/expapi/verbs/attempted"), is_iri("attempted")
        (True, False)
    """
    return isinstance(value, str) and matches(_IRI, value)


def check_uuid(value: Any, where: str) -> str:
    """Raise unless ``value`` is a UUID string; return it."""
    if not is_uuid(value):
        raise XapiError(f"{where} must be a UUID string, not {value!r}")
    return str(value)


def check_iri(value: Any, where: str) -> str:
    """Raise unless ``value`` is an absolute IRI; return it."""
    if not is_iri(value):
        raise XapiError(f"{where} must be an absolute IRI, not {value!r}")
    return str(value)


def check_string(value: Any, where: str) -> str:
    """Raise unless ``value`` is a JSON string."""
    if not isinstance(value, str):
        raise XapiError(f"{where} must be a string")
    return value


def check_bool(value: Any, where: str) -> bool:
    """Raise unless ``value`` is a JSON boolean (not the string "true")."""
    if not isinstance(value, bool):
        raise XapiError(f"{where} must be true or false")
    return value


def check_number(value: Any, where: str) -> float:
    """Raise unless ``value`` is a JSON number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise XapiError(f"{where} must be a number")
    return float(value)


def check_language_map(value: Any, where: str) -> dict[str, str]:
    """A language map: RFC 5646 tags to strings (Data 4.2)."""
    if not isinstance(value, dict):
        raise XapiError(f"{where} must be a language map (an object of language tag: string)")
    for tag, text in value.items():
        if not matches(_LANG, tag):
            raise XapiError(f"{where} has {tag!r}, which is not an RFC 5646 language tag")
        if not isinstance(text, str):
            raise XapiError(f"{where}[{tag!r}] must be a string")
    return value


def check_language(value: Any, where: str) -> str:
    """A single RFC 5646 language tag."""
    if not isinstance(value, str) or not matches(_LANG, value):
        raise XapiError(f"{where} must be an RFC 5646 language tag")
    return value


def check_extensions(value: Any, where: str) -> dict[str, Any]:
    """Extensions: an object whose keys are IRIs (Data 2.4.5.1.1? any value)."""
    if not isinstance(value, dict):
        raise XapiError(f"{where} must be an object")
    for key in value:
        if not is_iri(key):
            raise XapiError(f"{where} key {key!r} is not an IRI")
    return value


def parse_timestamp(value: Any, where: str) -> datetime:
    """An xAPI timestamp as a naive UTC datetime (no offset: read as UTC).

    The spec forbids the offsets -00, -0000 and -00:00 (Data 4.5.s2.b3).

    Examples:
        >>> parse_timestamp("2013-05-18T05:32:34.804+02:00", "timestamp")
        datetime.datetime(2013, 5, 18, 3, 32, 34, 804000)
        >>> parse_timestamp("2013-05-18T05:32:34-00:00", "timestamp")
        Traceback (most recent call last):
        ...
        impactlens.domain.xapi.errors.XapiError: timestamp may not use the offset -00:00 ...
    """
    if (  # the common shape 2024-03-01T10:00:00.000Z at a sixth of the cost
        isinstance(value, str)
        and len(value) == 24
        and value[23] == "Z"
        and value[4] == value[7] == "-"
        and value[10] == "T"
        and value[13] == value[16] == ":"
        and value[19] == "."
        and value[20:23].isdigit()
        and value.isascii()
    ):
        try:  # non-digits where digits belong, or no such date: the full parse says why
            return datetime.fromisoformat(value[:23])
        except ValueError:
            pass
    return _parse_any_timestamp(value, where)


def _parse_any_timestamp(value: Any, where: str) -> datetime:
    """:func:`parse_timestamp` of every form (its refusals included)."""
    found = _TIMESTAMP.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        raise XapiError(f"{where} must be an ISO 8601 date-time, not {value!r}")
    year, month, day, hour, minute, second, fraction, offset = found.groups()
    if offset in ("-00", "-0000", "-00:00"):
        raise XapiError(f"{where} may not use the offset {offset} (use Z or +00:00)")
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro
        )
    except ValueError as exc:
        raise XapiError(f"{where} is not a real date-time: {value!r} ({exc})") from exc
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        moment -= sign * delta
    return moment


def iso(moment: datetime) -> str:
    """A naive UTC datetime as the LRS writes it: milliseconds and Z.

    Examples:
        >>> iso(datetime(2024, 1, 2, 3, 4, 5, 678900))
        '2024-01-02T03:04:05.678Z'
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def check_duration(value: Any, where: str) -> str:
    """An ISO 8601 duration such as PT1H30M (Data 4.6)."""
    if not isinstance(value, str) or not matches(_DURATION, value) or value.endswith("T"):
        raise XapiError(f"{where} must be an ISO 8601 duration such as PT1H30M, not {value!r}")
    return value


def duration_seconds(value: str) -> float:
    """Seconds in a checked duration; years and months at their mean Gregorian length.

    Examples:
        >>> duration_seconds("PT1H30M"), duration_seconds("P1DT0.5S")
        (5400.0, 86400.5)
    """
    known = _SECONDS.get(value)
    if known is not None:
        return known
    date, _, time = value[1:].partition("T")
    total = 0.0
    for part, units in ((date, _DATE_UNITS), (time, _TIME_UNITS)):
        for number, unit in _DURATION_PART.findall(part):
            total += float(number.replace(",", ".")) * units[unit]
    if len(_SECONDS) >= _SEEN_MAX:  # a few durations recur (PT12M); a bound for the rest
        _SECONDS.clear()
    _SECONDS[value] = total
    return total


_DATE_UNITS = {"Y": 31_556_952, "M": 2_629_746, "W": 604_800, "D": 86_400}
_TIME_UNITS = {"H": 3_600, "M": 60, "S": 1}
_SECONDS: dict[str, float] = {}
