"""JWS signatures of signed statements, verified with a key and certificate made here."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from impactlens.domain.xapi.errors import XapiError
from impactlens.domain.xapi.signatures import check_signature

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
ST: dict[str, Any] = {
    "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
    "actor": {"name": "Ann", "mbox": "mailto:ann@example.com"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "did"}},
    "object": {"id": "http://example.com/c"},
}
_HASH = {"RS256": hashes.SHA256, "RS384": hashes.SHA384, "RS512": hashes.SHA512}


def certificate(key: Any, signer: Any = None) -> str:
    """A self-signed certificate of ``key``'s public key, as x5c carries it."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ImpactLens test signer")])
    start = datetime(2024, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3650))
        .sign(signer or key, hashes.SHA256())
    )
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def sign(
    payload: dict[str, Any], key: rsa.RSAPrivateKey, alg: str = "RS256", x5c: Any = None
) -> bytes:
    """A JWS compact serialisation of ``payload`` signed with ``key`` (RFC 7515 / 7518 3.3)."""
    header = {"alg": alg, "x5c": [certificate(key)] if x5c is None else x5c}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    value = key.sign(signing_input.encode(), padding.PKCS1v15(), _HASH[alg]())
    return f"{signing_input}.{b64url(value)}".encode()


def signed(jws: bytes) -> dict[str, Any]:
    """ST carrying ``jws`` as its signature attachment."""
    att = {"usageType": SIGNATURE, "display": {"en-US": "signature"},
           "contentType": "application/octet-stream", "length": len(jws),
           "sha2": hashlib.sha256(jws).hexdigest()}  # fmt: skip
    return {**ST, "attachments": [att]}


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_a_good_signature_verifies(key: rsa.RSAPrivateKey, alg: str) -> None:
    jws = sign(ST, key, alg)
    check_signature(signed(jws), jws)


def test_a_changed_signature_value_is_refused(key: rsa.RSAPrivateKey) -> None:
    head, payload, value = sign(ST, key).decode().split(".")
    flipped = b64url(bytes([base64.urlsafe_b64decode(value + "==")[0] ^ 1]))[:2] + value[2:]
    jws = f"{head}.{payload}.{flipped}".encode()
    with pytest.raises(XapiError, match="the signature does not verify"):
        check_signature(signed(jws), jws)


def test_a_signature_by_another_key_is_refused(key: rsa.RSAPrivateKey) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jws = sign(ST, other, x5c=[certificate(key)])  # signed by other, claims key's certificate
    with pytest.raises(XapiError, match="the signature does not verify"):
        check_signature(signed(jws), jws)


def test_an_algorithm_mismatch_is_refused(key: rsa.RSAPrivateKey) -> None:
    head, payload, value = sign(ST, key, "RS256").decode().split(".")
    header = json.loads(base64.urlsafe_b64decode(head + "=="))
    relabelled = f"{b64url(json.dumps({**header, 'alg': 'RS512'}).encode())}.{payload}.{value}"
    with pytest.raises(XapiError, match="the signature does not verify"):
        check_signature(signed(relabelled.encode()), relabelled.encode())


def test_a_payload_that_is_not_the_statement_is_refused(key: rsa.RSAPrivateKey) -> None:
    jws = sign({**ST, "verb": {"id": "http://example.com/other"}}, key)
    with pytest.raises(XapiError, match="payload is not the statement"):
        check_signature(signed(jws), jws)


def test_bad_certificates_are_refused(key: rsa.RSAPrivateKey) -> None:
    for x5c, message in (
        (["bm90IGEgY2VydA=="], "is not a DER certificate"),
        ("MIIB", "must be a list of base64 certificates"),
    ):
        jws = sign(ST, key, x5c=x5c)
        with pytest.raises(XapiError, match=message):
            check_signature(signed(jws), jws)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    jws = sign(ST, key, x5c=[certificate(ec_key)])
    with pytest.raises(XapiError, match="key is not RSA, as RS256 needs"):
        check_signature(signed(jws), jws)


def test_without_x5c_the_shape_and_payload_are_checked(key: rsa.RSAPrivateKey) -> None:
    header = b64url(json.dumps({"alg": "RS256"}).encode())
    jws = f"{header}.{b64url(json.dumps(ST).encode())}.c2ln".encode()
    check_signature(signed(jws), jws)  # no key to check against: accepted, as the spec allows
    with pytest.raises(XapiError, match="only RS256, RS384 and RS512"):
        bad = f"{b64url(json.dumps({'alg': 'HS256'}).encode())}.{jws.decode().split('.', 1)[1]}"
        check_signature(signed(bad.encode()), bad.encode())
