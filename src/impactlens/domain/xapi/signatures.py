"""Signed statements (Data 2.6): the JWS signature attachment, verified.

The attachment is a JWS compact serialisation (RFC 7515 section 7.1) whose payload is
the statement as signed. Its header names the algorithm, RS256, RS384 or RS512 (RSASSA-
PKCS1-v1_5 with SHA-256/384/512, RFC 7518 section 3.3), and SHOULD carry the signer's
X.509 certificate chain in ``x5c`` (RFC 7515 section 4.1.6: standard base64 DER, the
signer's certificate first). When it does, the signature over ``header.payload`` is
checked against that certificate's public key; without ``x5c`` there is no key to check
against, so only the shape, the algorithm and the payload are (the spec leaves trust in
the certificate to the receiver: the chain is not validated against any authority).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from impactlens.domain.xapi.errors import XapiError
from impactlens.domain.xapi.formats import same_statement
from impactlens.domain.xapi.validation import SIGNATURE

ALGORITHMS = ("RS256", "RS384", "RS512")
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "RS256": hashes.SHA256,
    "RS384": hashes.SHA384,
    "RS512": hashes.SHA512,
}
CONTENT_TYPE = "application/octet-stream"


def _b64url(text: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise XapiError(f"the signature's {what} is not base64url") from exc


def signature_attachments(statement: dict[str, Any]) -> list[dict[str, Any]]:
    """The statement's signature attachments (usageType .../attachments/signature)."""
    return [a for a in statement.get("attachments", []) if a.get("usageType") == SIGNATURE]


def check_signature(statement: dict[str, Any], jws: bytes) -> None:
    """Check a JWS compact signature against the statement it was attached to.

    Raises :class:`XapiError` (400) when the JWS is malformed, uses another algorithm
    than RS256/384/512, its signature does not verify with the public key of the first
    ``x5c`` certificate, or its payload is not the statement before it was signed.
    """
    try:
        text = jws.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise XapiError("the signature attachment is not a JWS compact serialisation") from exc
    parts = text.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise XapiError("the signature attachment is not a JWS compact serialisation")
    try:
        header = json.loads(_b64url(parts[0], "header"))
        payload = json.loads(_b64url(parts[1], "payload"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise XapiError("the signature's header or payload is not JSON") from exc
    if not isinstance(header, dict) or header.get("alg") not in ALGORITHMS:
        alg = header.get("alg") if isinstance(header, dict) else None
        raise XapiError(f"the signature uses {alg!r}; only RS256, RS384 and RS512 are allowed")
    if not isinstance(payload, dict):
        raise XapiError("the signature's payload is not a statement")
    if "x5c" in header:
        _verify(header, f"{parts[0]}.{parts[1]}".encode("ascii"), _b64url(parts[2], "value"))
    unsigned = dict(statement)
    rest = [a for a in statement.get("attachments", []) if a.get("usageType") != SIGNATURE]
    if rest:
        unsigned["attachments"] = rest
    else:
        unsigned.pop("attachments", None)
    payload_rest = [a for a in payload.get("attachments", []) if a.get("usageType") != SIGNATURE]
    signed = dict(payload)
    if payload_rest:
        signed["attachments"] = payload_rest
    else:
        signed.pop("attachments", None)
    if not same_statement(unsigned, signed):
        raise XapiError("the signature's payload is not the statement that carries it")


def _verify(header: dict[str, Any], signing_input: bytes, signature: bytes) -> None:
    """Check the RSA signature with the first certificate of the header's ``x5c``."""
    chain = header["x5c"]
    if not isinstance(chain, list) or not chain or not isinstance(chain[0], str):
        raise XapiError("the signature's x5c must be a list of base64 certificates")
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0], validate=True))
    except (binascii.Error, ValueError) as exc:
        raise XapiError("the signature's first x5c certificate is not a DER certificate") from exc
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise XapiError(f"the x5c certificate's key is not RSA, as {header['alg']} needs")
    try:
        key.verify(signature, signing_input, padding.PKCS1v15(), _HASHES[header["alg"]]())
    except InvalidSignature as exc:
        raise XapiError(
            "the signature does not verify: the statement was not signed with the key "
            "of the x5c certificate, or was changed after signing"
        ) from exc
