"""Accounts: argon2 passwords, hashed tokens and sessions, roles, clear refusals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from impactlens.domain.errors import ImpactLensError
from impactlens.services.users import Accounts, User, add_user, secret_hash
from impactlens.services.workspace import Workspace
from impactlens.store.base import Store
from impactlens.store.duckdb import DuckDBStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with DuckDBStore(tmp_path / "s.duckdb") as s:
        yield s


def test_password_and_token_sign_in_and_only_hashes_are_stored(store: Store) -> None:
    accounts = Accounts(store)
    new = accounts.add("ann", "analyst")
    assert accounts.by_password("ann", new.password) == User("ann", "analyst")
    assert accounts.by_password("ann", new.password + "x") is None
    assert accounts.by_password("nobody", new.password) is None
    assert accounts.by_token(new.token) == User("ann", "analyst")
    assert accounts.by_token("il_guess") is None
    users = store.table("users").to_pyarrow().to_pylist()
    assert users[0]["password_hash"].startswith("$argon2id$")
    assert new.password not in str(users)
    tokens = store.table("api_tokens").to_pyarrow().to_pylist()
    assert tokens[0]["token_hash"] == secret_hash(new.token)
    assert new.token not in str(tokens)


def test_accounts_survive_a_reload_and_sessions_end(store: Store) -> None:
    first = Accounts(store)
    new = first.add("vic", "viewer")
    sid = first.start_session(User("vic", "viewer"))
    again = Accounts(store)  # what a restarted server reads
    assert again.by_session(sid) == User("vic", "viewer")
    assert again.by_token(new.token) == User("vic", "viewer")
    again.end_session(sid)
    assert again.by_session(sid) is None
    assert Accounts(store).by_session(sid) is None
    assert secret_hash(sid) in str(store.table("sessions").to_pyarrow().to_pylist())


def test_roles_include_the_rights_below() -> None:
    assert User("a", "admin").can("analyst") and User("a", "admin").can("viewer")
    assert User("b", "analyst").can("viewer") and not User("b", "analyst").can("admin")
    assert not User("c", "viewer").can("analyst")


def test_refusals_say_what_is_wrong(store: Store) -> None:
    accounts = Accounts(store)
    accounts.add("ann", "admin")
    with pytest.raises(ImpactLensError, match=r"^user 'ann' exists already$"):
        accounts.add("ann", "viewer")
    with pytest.raises(ImpactLensError, match=r"^unknown role 'boss'; roles are: viewer, analyst"):
        accounts.add("bob", "boss")
    with pytest.raises(ImpactLensError, match=r"^user name '' is not allowed"):
        accounts.add("", "viewer")


def test_add_user_through_the_workspace(tmp_path: Path) -> None:
    ws = Workspace.create(tmp_path / "ws")
    new = add_user(ws, "eve", "viewer")
    assert set(new.to_dict()) == {"name", "password", "token"}
    with ws.store(read_only=True) as store:
        assert Accounts(store).by_token(new.token) == User("eve", "viewer")


def test_deactivated_users_and_revoked_tokens_stay_refused_after_a_reload(store: Store) -> None:
    accounts = Accounts(store)
    ann, bob = accounts.add("ann", "admin"), accounts.add("bob", "viewer")
    sid = accounts.start_session(User("bob", "viewer"))
    [ann_token] = [t for t in accounts.tokens() if t["name"] == "ann"]
    assert ann_token["id"] == secret_hash(ann.token)[:12]
    assert accounts.revoke_token(ann_token["id"].upper()) == "ann"
    assert accounts.by_token(ann.token) is None
    assert accounts.deactivate("bob", by="ann") == 1
    assert accounts.by_session(sid) is None and accounts.by_token(bob.token) is None
    again = Accounts(store)
    assert again.by_token(ann.token) is None and again.by_token(bob.token) is None
    assert again.by_session(sid) is None and again.users() == [User("ann", "admin")]
    assert again.tokens() == []
    # a re-added name gets new secrets; the old token stays dead
    fresh = again.add("bob", "viewer")
    assert again.by_token(fresh.token) == User("bob", "viewer")
    assert again.by_token(bob.token) is None
    with pytest.raises(ImpactLensError, match=r"^no live API token with id 'abc'$"):
        again.revoke_token("abc")
