"""multipart/mixed bodies of statements with attachments (Data 2.4.11, Communication 1.5.2)."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from typing import Any

from impactlens.domain.xapi.errors import XapiError

_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_HASHES = {64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}


def media_type(content_type: str) -> str:
    """The bare media type of a Content-Type header, lower-case."""
    return content_type.split(";")[0].strip().lower()


def _parts(body: bytes, content_type: str) -> list[tuple[dict[str, str], bytes]]:
    found = _BOUNDARY.search(content_type)
    if found is None:
        raise XapiError("multipart/mixed needs a boundary in its Content-Type")
    delimiter = b"--" + (found.group(1) or found.group(2)).encode()
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise XapiError("the multipart body has no parts")
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        chunk = chunk.removeprefix(b"\r\n")
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise XapiError("a multipart part has no blank line after its headers")
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        parts.append((headers, content.removesuffix(b"\r\n")))
    return parts


def parse(body: bytes, content_type: str) -> tuple[Any, dict[str, tuple[str, bytes]]]:
    """The statement JSON (first part) and the attachment parts by sha2.

    Each attachment part must carry ``X-Experience-API-Hash`` (its SHA-2, checked) and
    ``Content-Transfer-Encoding: binary``.
    """
    parts = _parts(body, content_type)
    head, first = parts[0]
    if media_type(head.get("content-type", "")) != "application/json":
        raise XapiError("the first part of a multipart statement request must be application/json")
    try:
        statements = json.loads(first)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise XapiError(f"the statement part is not valid JSON: {exc}") from exc
    attachments: dict[str, tuple[str, bytes]] = {}
    for headers, content in parts[1:]:
        sha2 = headers.get("x-experience-api-hash", "").lower()
        if not sha2:
            raise XapiError("an attachment part has no X-Experience-API-Hash header")
        if headers.get("content-transfer-encoding", "").lower() != "binary":
            raise XapiError("an attachment part must have Content-Transfer-Encoding: binary")
        algorithm = _HASHES.get(len(sha2), hashlib.sha256)
        if algorithm(content).hexdigest() != sha2:
            raise XapiError(f"attachment part {sha2[:12]}...: its content does not match its hash")
        attachments[sha2] = (headers.get("content-type", "application/octet-stream"), content)
    return statements, attachments


def build(document: Any, attachments: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/mixed body: the JSON document, then (sha2, content type, bytes) parts."""
    boundary = secrets.token_hex(16)
    out = [
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(),
        json.dumps(document, separators=(",", ":")).encode(),
        b"\r\n",
    ]
    for sha2, content_type, content in attachments:
        out += [
            f"--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {sha2}\r\n\r\n".encode(),
            content,
            b"\r\n",
        ]
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f'multipart/mixed; boundary="{boundary}"'
