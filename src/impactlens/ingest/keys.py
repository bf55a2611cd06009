"""The workspace's pseudonymisation key and the keyed hashes made with it.

Person identifiers are replaced at import by ``p_`` + the first 24 hex digits of
HMAC-SHA256(key, raw id). Whoever holds the key can re-identify (hash a known id
and look it up); viewers of the store cannot.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_FILE = Path(".impactlens") / "pseudonym.key"
PSEUDONYM_HEX = 24


def load_or_create_key(workspace: Path) -> bytes:
    """The workspace key, created (32 random bytes, mode 0600) on first use.

    Examples:
        >>> import tempfile
        >>> ws = Path(tempfile.mkdtemp())
        >>> load_or_create_key(ws) == load_or_create_key(ws)
        True
    """
    path = workspace / KEY_FILE
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    # O_EXCL: two processes racing to create the key must not overwrite each other
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def keyed_hash(key: bytes, text: str) -> str:
    """HMAC-SHA256 of ``text`` under ``key``, as 64 hex digits."""
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def pseudonymise(key: bytes, raw: str) -> str:
    """The pseudonym of a raw person id.

    Examples:
        >>> pseudonymise(b"k", "E042")
        'p_45f5f9be3710a9b832523363'
        >>> len(pseudonymise(b"k", "E042"))
        26
    """
    return "p_" + keyed_hash(key, raw)[:PSEUDONYM_HEX]


def identity_hash(key: bytes, column: str, value: str) -> str:
    """The keyed hash of an identity value (stripped and lower-cased first).

    Examples:
        >>> identity_hash(b"k", "email", " Ann@X.org ") == identity_hash(b"k", "email", "ann@x.org")
        True
    """
    return keyed_hash(key, f"{column}:{value.strip().lower()}")
