import stat
from pathlib import Path

from impactlens.ingest.keys import identity_hash, load_or_create_key, pseudonymise


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path)
    path = tmp_path / ".impactlens" / "pseudonym.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) == 32
    assert load_or_create_key(tmp_path) == key


def test_pseudonym_is_keyed_hmac_truncated() -> None:
    import hashlib
    import hmac

    expected = "p_" + hmac.new(b"k", b"E042", hashlib.sha256).hexdigest()[:24]
    assert pseudonymise(b"k", "E042") == expected
    assert pseudonymise(b"other", "E042") != expected


def test_identity_hash_normalises_value() -> None:
    assert identity_hash(b"k", "email", " Ann@X.org") == identity_hash(b"k", "email", "ann@x.org")
    assert identity_hash(b"k", "email", "a") != identity_hash(b"k", "lms_account", "a")
