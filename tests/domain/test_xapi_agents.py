"""Canonical IFI strings, the convention the bulk import shares."""

from __future__ import annotations

import pytest

from impactlens.domain.xapi.agents import agent_ifis, check_agent, ifi, person
from impactlens.domain.xapi.errors import XapiError


def test_ifi_strings_for_each_identifier() -> None:
    assert ifi({"mbox": "mailto:ann@example.com"}) == "mbox:mailto:ann@example.com"
    assert ifi({"mbox_sha1sum": "A" * 40}) == "mbox_sha1sum:" + "a" * 40
    assert ifi({"openid": "http://id.example.com/ann"}) == "openid:http://id.example.com/ann"
    account = {"account": {"homePage": "https://lms.example.com", "name": "ann"}}
    assert ifi(account) == "account:https://lms.example.com|ann"


def test_an_anonymous_group_has_no_ifi_but_its_members_do() -> None:
    group = {"objectType": "Group", "member": [{"mbox": "mailto:a@x.org"}, {"openid": "http://o"}]}
    assert agent_ifis(group) == (None, ["mbox:mailto:a@x.org", "openid:http://o"])


def test_check_agent_messages() -> None:
    with pytest.raises(XapiError, match="exactly one of mbox, mbox_sha1sum, openid, account"):
        check_agent({"name": "nobody"}, "agent")
    with pytest.raises(XapiError, match=r"agent\.account must be an object with exactly homePage"):
        check_agent({"account": {"name": "x"}}, "agent")
    with pytest.raises(XapiError, match="40 hexadecimal"):
        check_agent({"mbox_sha1sum": "abc"}, "agent")


def test_person_lists_each_property() -> None:
    assert person({"objectType": "Agent", "name": "Ann", "mbox": "mailto:a@x.org"}) == {
        "objectType": "Person",
        "name": ["Ann"],
        "mbox": ["mailto:a@x.org"],
    }
