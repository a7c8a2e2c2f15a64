"""Sans-IO builder, parser and models for DeleteObjects (batch deletion)."""

from __future__ import annotations

import base64
import hashlib
import re

# The XML parser loads with this family, not at its first answer (see _xml.load_parser).
import xml.etree.ElementTree  # noqa: F401
from collections.abc import Iterable

from pydantic import Field

from .. import _xml
from .._body import prepare_body
from .._headers import validate_bucket, validate_key
from .._models import R2Model
from .._spec import RequestSpec

__all__ = [
    "DELETE_BATCH",
    "DeleteFailure",
    "DeleteObjectsResult",
    "build_delete_objects",
    "check_delete_keys",
    "delete_objects_body",
    "parse_delete_objects",
]

# DeleteObjects accepts at most this many keys per request (S3 and R2 alike).
DELETE_BATCH = 1000

# Characters XML 1.0 cannot represent at all, not even as a character reference: the
# complement of its Char production, spelled as the small class it is (the negated class
# with astral ranges costs 5 ms to compile at import).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class DeleteFailure(R2Model):
    """A key ``delete_objects`` could not delete (an entry, not an exception)."""

    key: str
    code: str | None = None
    message: str | None = None


class DeleteObjectsResult(R2Model):
    """Result of ``delete_objects`` over all its batches.

    ``deleted`` lists the keys the server reported deleted (always empty with ``quiet=True``;
    deleting a missing key counts as deleted); ``errors`` lists per-key failures, which are
    reported here rather than raised.
    """

    deleted: list[str] = Field(default_factory=list)
    errors: list[DeleteFailure] = Field(default_factory=list)
    request_ids: list[str] = Field(default_factory=list)


def check_delete_keys(keys: object) -> list[str]:
    """Validate every key for ``delete_objects`` before any request is sent.

    Args:
        keys: an iterable of str keys (not a single str, which would iterate characters).
    """
    if isinstance(keys, (str, bytes, bytearray)):
        raise TypeError(
            "keys must be an iterable of keys, not a single str; for one key pass [key] "
            "or use delete_object(bucket, key)"
        )
    if not isinstance(keys, Iterable):
        raise TypeError(f"keys must be an iterable of str, got {type(keys).__name__}")
    out: list[str] = []
    for key in keys:
        if not isinstance(key, str):
            raise TypeError(f"every key must be a str, got {type(key).__name__}: {key!r}")
        validate_key(key)
        bad = _XML_INVALID.search(key)
        if bad is not None:
            raise ValueError(
                f"key {key!r} contains {bad.group()!r} (U+{ord(bad.group()):04X}), which XML 1.0 "
                "cannot carry, so DeleteObjects cannot name it; delete it with "
                "delete_object(bucket, key) instead"
            )
        out.append(key)
    return out


def _xml_text(value: str) -> str:
    # Escape markup, and write CR as a character reference: XML parsers turn a literal CR
    # (or CRLF) into LF, which would name a different key. Keys are never trimmed.
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def delete_objects_body(keys: list[str], *, quiet: bool) -> bytes:
    """The ``<Delete>`` XML document for one batch of already-validated keys."""
    inner = ["<Quiet>true</Quiet>"] if quiet else []
    inner.extend(f"<Object><Key>{_xml_text(k)}</Key></Object>" for k in keys)
    return _xml.document("Delete", inner)


def build_delete_objects(bucket: str, keys: list[str], *, quiet: bool = False) -> RequestSpec:
    """DeleteObjects: ``POST /bucket?delete`` for one batch of 1 to 1,000 validated keys.

    Content-MD5 is always sent: S3 requires it (or a checksum) on DeleteObjects.
    """
    validate_bucket(bucket)
    if not isinstance(quiet, bool):
        raise TypeError("quiet must be a bool")
    if not 1 <= len(keys) <= DELETE_BATCH:
        raise ValueError(f"a DeleteObjects batch holds 1 to {DELETE_BATCH} keys, got {len(keys)}")
    body = delete_objects_body(keys, quiet=quiet)
    headers = {
        "content-type": "application/xml",
        "content-md5": base64.b64encode(hashlib.md5(body).digest()).decode(),
    }
    return RequestSpec(
        "DeleteObjects",
        "POST",
        bucket,
        query=[("delete", None)],
        headers=headers,
        body=prepare_body(body, None),
    )


def parse_delete_objects(body: bytes) -> tuple[list[str], list[DeleteFailure]]:
    """(deleted keys, failures) from one DeleteObjects response body."""
    root = _xml.parse(body, what="DeleteObjects response")
    _xml.expect_root(root, "DeleteResult", what="DeleteObjects response")
    deleted = [
        key for el in _xml.children(root, "Deleted") if (key := _xml.text(el, "Key")) is not None
    ]
    errors = [
        DeleteFailure(
            key=_xml.text(el, "Key") or "",
            code=_xml.text(el, "Code"),
            message=_xml.text(el, "Message"),
        )
        for el in _xml.children(root, "Error")
    ]
    return deleted, errors
