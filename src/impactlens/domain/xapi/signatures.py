"""Signed statements (Data 2.6): the JWS signature attachment's structure and payload.

The ``cryptography`` library is not in the pinned environment, so the RSA signature
itself is not verified (the spec lets an LRS store a statement whose signature it cannot
check); the algorithm, the compact JWS shape and the payload are.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from impactlens.domain.xapi.errors import XapiError
from impactlens.domain.xapi.formats import same_statement
from impactlens.domain.xapi.validation import SIGNATURE

ALGORITHMS = ("RS256", "RS384", "RS512")
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
    than RS256/384/512, or its payload is not the statement before it was signed.
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
