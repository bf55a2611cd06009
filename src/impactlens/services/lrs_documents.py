"""The xAPI document resources: state, activity profile and agent profile (Communication
2.2-2.7), with ETag concurrency (Communication 3.1)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from impactlens.domain.xapi.errors import XapiError
from impactlens.services.lrs import now
from impactlens.store.lrs import Document, DocumentKey, LrsStore

JSON = "application/json"


def etag(content: bytes) -> str:
    """A document's ETag: the quoted SHA-1 of its bytes (Communication 3.1).

    Examples:
        >>> etag(b"{}")
        '"bf21a9e8fbc5a3846fb05b4fa0859e0917b2202f"'
    """
    return f'"{hashlib.sha1(content).hexdigest()}"'


@dataclass(frozen=True)
class Preconditions:
    """The request's If-Match / If-None-Match headers and whether one is required."""

    if_match: str | None = None
    if_none_match: str | None = None
    required: bool = False  # profiles: a PUT must say whether it creates or replaces
    existing_only: bool = False  # xAPI 2.0 state: a PUT over an existing document must say


def _tags(header: str) -> set[str]:
    return {t.strip().removeprefix("W/").strip('"') for t in header.split(",") if t.strip()}


def _check(existing: Document | None, pre: Preconditions, *, put: bool) -> None:
    if pre.if_match is not None:
        tags = _tags(pre.if_match)
        if existing is None or ("*" not in tags and existing.etag.strip('"') not in tags):
            raise XapiError("If-Match does not match the document's current ETag", 412)
    if pre.if_none_match is not None and existing is not None:
        tags = _tags(pre.if_none_match)
        if "*" in tags or existing.etag.strip('"') in tags:
            raise XapiError("If-None-Match: the document exists already", 412)
    unguarded = pre.if_match is None and pre.if_none_match is None
    if put and unguarded and pre.existing_only and existing is not None:
        raise XapiError("the document exists: send If-Match with its ETag to replace it", 409)
    if put and pre.required and unguarded:
        # profiles (Communication 3.1): 409 over an existing document, 400 otherwise
        if existing is not None:
            raise XapiError("the document exists: send If-Match with its ETag to replace it", 409)
        raise XapiError("send If-None-Match: * to create a profile (or If-Match to replace one)")


def _is_json(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == JSON


def get(lrs: LrsStore, key: DocumentKey, document_id: str) -> Document:
    """One document; 404 when there is none."""
    found = lrs.document(key, document_id)
    if found is None:
        raise XapiError(f"no document {document_id!r} here", 404)
    return found


def ids(lrs: LrsStore, key: DocumentKey, since: datetime | None) -> list[str]:
    """The ids of the documents under ``key``."""
    return lrs.document_ids(key, since)


def put(
    lrs: LrsStore,
    key: DocumentKey,
    document_id: str,
    content: bytes,
    content_type: str,
    pre: Preconditions,
) -> None:
    """Create or replace a document."""
    with lrs.transaction():
        _check(lrs.document(key, document_id), pre, put=True)
        ctype = content_type or "application/octet-stream"
        lrs.put_document(key, Document(document_id, ctype, content, etag(content), now()))


def post(
    lrs: LrsStore,
    key: DocumentKey,
    document_id: str,
    content: bytes,
    content_type: str,
    pre: Preconditions,
) -> None:
    """Merge a JSON object into a document (its top-level properties win; Communication 2.2)."""
    with lrs.transaction():
        existing = lrs.document(key, document_id)
        _check(existing, pre, put=False)
        new = _json_object(content, content_type, "the posted document")
        if existing is not None:
            old = _json_object(existing.content, existing.content_type, "the stored document")
            new = {**old, **new}
        body = json.dumps(new, separators=(",", ":")).encode()
        lrs.put_document(key, Document(document_id, JSON, body, etag(body), now()))


def _json_object(content: bytes, content_type: str, what: str) -> dict[str, object]:
    if not _is_json(content_type):
        raise XapiError(f"{what} is not application/json: only JSON objects can be merged")
    try:
        value = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise XapiError(f"{what} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise XapiError(f"{what} is not a JSON object: only objects can be merged")
    return value


def delete(lrs: LrsStore, key: DocumentKey, document_id: str | None, pre: Preconditions) -> None:
    """Delete one document (or all under ``key`` when ``document_id`` is None)."""
    with lrs.transaction():
        if document_id is not None:
            _check(lrs.document(key, document_id), pre, put=False)
        lrs.delete_documents(key, document_id)
