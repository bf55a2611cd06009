"""Agents and Groups: their checks (xAPI 1.0.3 Data 2.4.2) and canonical identifier strings.

The store keys every agent by one canonical *IFI string* (``actor_ifi``, ``object_id`` of
an agent object, ``xapi_statement_refs.ref`` and ``xapi_documents.agent_ifi``):

- ``mbox:mailto:alice@example.com`` (the ``mbox`` value as sent, ``mailto:`` included);
- ``mbox_sha1sum:<40 lower-case hex>``;
- ``openid:<uri>`` (as sent);
- ``account:<homePage>|<name>``.

An identified Group is keyed by its own IFI like an Agent. An anonymous Group (no IFI)
has ``actor_ifi`` NULL (or ``object_id`` NULL when it is the object). Group members,
identified or not, are written to ``xapi_statement_refs`` as related agents
(``related = true``), together with the authority, context instructor and team and every
agent inside a SubStatement; only the actor and an agent/group object are
``related = false``. The bulk import (store/xapi_checks.py) follows the same rules.
"""

from __future__ import annotations

import re
from typing import Any

from impactlens.domain.xapi.errors import XapiError
from impactlens.domain.xapi.values import matches

IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")
_AGENT_KEYS = {"objectType", "name", *IFI_KEYS}
_GROUP_KEYS = _AGENT_KEYS | {"member"}
_MBOX = re.compile(r"^mailto:[^@\s:]+@[^@\s]+$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")


def ifi(agent: dict[str, Any]) -> str | None:
    """The canonical IFI string of a (checked) agent or group; None for an anonymous group.

    Examples:
        >>> ifi({"mbox": "mailto:a@example.com"})
        'mbox:mailto:a@example.com'
        >>> ifi({"account": {"homePage": "https://lms.example.com", "name": "42"}})
        'account:https://lms.example.com|42'
        >>> ifi({"objectType": "Group", "member": []}) is None
        True
    """
    if "mbox" in agent:
        return f"mbox:{agent['mbox']}"
    if "mbox_sha1sum" in agent:
        return f"mbox_sha1sum:{str(agent['mbox_sha1sum']).lower()}"
    if "openid" in agent:
        return f"openid:{agent['openid']}"
    if "account" in agent:
        account = agent["account"]
        return f"account:{account.get('homePage', '')}|{account.get('name', '')}"
    return None


def check_agent(value: Any, where: str, *, group_ok: bool = True) -> dict[str, Any]:
    """Check an Agent or Group (Data 2.4.2.1-2.4.2.4); return it or raise :class:`XapiError`."""
    if not isinstance(value, dict):
        raise XapiError(f"{where} must be a JSON object (an Agent or Group)")
    kind = value.get("objectType", "Agent")
    if kind not in ("Agent", "Group") or (kind == "Group" and not group_ok):
        allowed = "Agent or Group" if group_ok else "Agent"
        raise XapiError(f"{where}.objectType must be {allowed}, not {kind!r}")
    allowed_keys = _GROUP_KEYS if kind == "Group" else _AGENT_KEYS
    extra = sorted(set(value) - allowed_keys)
    if extra:
        raise XapiError(f"{where} has properties an {kind} may not have: {', '.join(extra)}")
    if "name" in value and not isinstance(value["name"], str):
        raise XapiError(f"{where}.name must be a string")
    found = [key for key in IFI_KEYS if key in value]
    if kind == "Agent" and len(found) != 1:
        raise XapiError(
            f"{where} must have exactly one of mbox, mbox_sha1sum, openid, account "
            f"(found {len(found)})"
        )
    if kind == "Group":
        if len(found) > 1:
            raise XapiError(f"{where} is a Group with more than one identifier")
        if not found and "member" not in value:
            raise XapiError(f"{where} is an anonymous Group without a member list")
        if "member" in value:
            members = value["member"]
            if not isinstance(members, list):
                raise XapiError(f"{where}.member must be an array of Agents")
            for i, member in enumerate(members):
                check_agent(member, f"{where}.member[{i}]", group_ok=False)
    for key in found:
        _check_ifi(key, value[key], f"{where}.{key}")
    return value


def _check_ifi(key: str, value: Any, where: str) -> None:
    if key == "mbox":
        if not isinstance(value, str) or not matches(_MBOX, value):
            raise XapiError(f"{where} must be a mailto: IRI such as mailto:ann@example.com")
    elif key == "mbox_sha1sum":
        if not isinstance(value, str) or not _SHA1.fullmatch(value):
            raise XapiError(f"{where} must be 40 hexadecimal characters")
    elif key == "openid":
        if not isinstance(value, str) or not _IRI.fullmatch(value):
            raise XapiError(f"{where} must be an absolute URI")
    else:
        if not isinstance(value, dict) or set(value) != {"homePage", "name"}:
            raise XapiError(f"{where} must be an object with exactly homePage and name")
        if not isinstance(value["homePage"], str) or not matches(_IRI, value["homePage"]):
            raise XapiError(f"{where}.homePage must be an IRL")
        if not isinstance(value["name"], str):
            raise XapiError(f"{where}.name must be a string")


def agent_ifis(agent: dict[str, Any]) -> tuple[str | None, list[str]]:
    """The agent's own IFI and the IFIs of its members (for a group).

    Examples:
        >>> agent_ifis({"objectType": "Group", "member": [{"mbox": "mailto:b@x.org"}]})
        (None, ['mbox:mailto:b@x.org'])
    """
    members = [m for m in (ifi(m) for m in agent.get("member", []) or []) if m is not None]
    return ifi(agent), members


def person(agent: dict[str, Any]) -> dict[str, Any]:
    """The Person object (Communication 2.4) of one agent: each property a list.

    Examples:
        >>> person({"name": "Ann", "mbox": "mailto:a@x.org"})
        {'objectType': 'Person', 'name': ['Ann'], 'mbox': ['mailto:a@x.org']}
    """
    out: dict[str, Any] = {"objectType": "Person"}
    if "name" in agent:
        out["name"] = [agent["name"]]
    for key in IFI_KEYS:
        if key in agent:
            out[key] = [agent[key]]
    return out
