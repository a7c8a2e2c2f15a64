"""What every multipart operation shares: argument checks, part lists and XML reading.

Upload ids, part numbers, page sizes, copy-source headers, the normalised part list of
CompleteMultipartUpload, and the helpers that read the response documents of all of them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from .. import _xml
from .._exceptions import ResponseParseError
from .._headers import (
    check_header,
    etag_unquoted,
    validate_bucket,
    validate_key,
)
from .._models_multipart import (
    CompletedPart,
    Part,
    UploadPartCopyResult,
    UploadPartResult,
)
from .copy import copy_source

__all__ = [
    "MAX_PAGE",
    "MAX_PARTS",
    "XML_CHECKSUMS",
    "PartLike",
    "check_page_size",
    "completed_parts",
    "copy_source_header",
    "copy_source_range_header",
    "optional_str",
    "quoted_etag",
    "response_root",
    "validate_part_number",
    "validate_upload_id",
    "xml_checksums",
    "xml_int",
]

MAX_PARTS = 10_000
# ListParts / ListMultipartUploads page sizes: S3 caps both at 1,000.
MAX_PAGE = 1000

# What complete_multipart_upload accepts as a part.
PartLike: TypeAlias = (
    CompletedPart | UploadPartResult | UploadPartCopyResult | Part | tuple[int, str]
)

# XML element of each checksum in <Part>, CopyPartResult and CompleteMultipartUploadResult.
XML_CHECKSUMS = {
    "checksum_crc32": "ChecksumCRC32",
    "checksum_crc32c": "ChecksumCRC32C",
    "checksum_crc64nvme": "ChecksumCRC64NVME",
    "checksum_sha1": "ChecksumSHA1",
    "checksum_sha256": "ChecksumSHA256",
}

# -- argument checks -----------------------------------------------------------------------------


def validate_upload_id(upload_id: object) -> str:
    """Check an upload id: a non-empty str without control characters.

    Args:
        upload_id: the id returned by ``create_multipart_upload``.
    """
    if not isinstance(upload_id, str):
        raise TypeError(
            f"upload_id must be the str from create_multipart_upload(...).upload_id, got "
            f"{type(upload_id).__name__}"
        )
    if not upload_id or not upload_id.isprintable():
        raise ValueError("upload_id must be a non-empty str of printable characters")
    return upload_id


def validate_part_number(part_number: object, *, name: str = "part_number") -> int:
    """Check a part number: an int from 1 to 10,000.

    Args:
        part_number: the part number.
        name: the argument name, for the error message.
    """
    if isinstance(part_number, bool) or not isinstance(part_number, int):
        raise TypeError(f"{name} must be an int from 1 to {MAX_PARTS}")
    if not 1 <= part_number <= MAX_PARTS:
        raise ValueError(f"{name}={part_number}: part numbers run from 1 to {MAX_PARTS}")
    return part_number


def check_page_size(value: object, name: str) -> int | None:
    """Check a page size: None (the server's default) or an int from 1 to 1,000.

    Args:
        value: the page size.
        name: the argument name, for the error message.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int from 1 to {MAX_PAGE}")
    if not 1 <= value <= MAX_PAGE:
        raise ValueError(f"{name}={value}: use 1 to {MAX_PAGE} (S3's page limit)")
    return value


def optional_str(value: object, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    return value


def copy_source_header(source_bucket: str, source_key: str) -> str:
    """``x-amz-copy-source`` as R2 requires it: ``/bucket/key``, the key URL-encoded once.

    Args:
        source_bucket: the bucket to copy from.
        source_key: the key to copy from ('/' kept, every other reserved byte escaped).
    """
    validate_bucket(source_bucket)
    validate_key(source_key)
    return copy_source(source_bucket, source_key)


def copy_source_range_header(source_range: object) -> str:
    """``x-amz-copy-source-range`` from ``(first, last)`` (inclusive) or ``'bytes=first-last'``.

    S3 accepts only a closed range here: no open end, no suffix.

    Args:
        source_range: a (first byte, last byte) tuple, or the header value itself.
    """
    if isinstance(source_range, tuple):
        if len(source_range) != 2:
            raise ValueError("source_range must be (first_byte, last_byte), last inclusive")
        start, end = source_range
        for v in (start, end):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError("source_range bytes must be ints >= 0")
        if end < start:
            raise ValueError(f"source_range={source_range}: the last byte is before the first")
        return f"bytes={start}-{end}"
    if isinstance(source_range, str):
        m = re.fullmatch(r"bytes=(\d+)-(\d+)", source_range.strip())
        if not m:
            raise ValueError(
                f"source_range={source_range!r}: UploadPartCopy needs a closed range "
                "'bytes=FIRST-LAST' (inclusive) or a (first, last) tuple"
            )
        if int(m.group(2)) < int(m.group(1)):
            raise ValueError(f"source_range={source_range!r}: the last byte is before the first")
        return source_range.strip()
    raise TypeError("source_range must be a (first, last) tuple or a 'bytes=FIRST-LAST' str")


def quoted_etag(etag: object, where: str) -> str:
    if not isinstance(etag, str) or not etag_unquoted(etag):
        raise ValueError(f"{where}: the ETag must be a non-empty str")
    check_header("etag", etag, where=where)
    # R2 accepts ETags with or without quotes; quoting them is what every S3 server accepts.
    return f'"{etag_unquoted(etag)}"'


def completed_parts(parts: object) -> list[CompletedPart]:
    """Normalise the ``parts`` argument of CompleteMultipartUpload, sorted by part number.

    Args:
        parts: a non-empty sequence of CompletedPart, UploadPartResult, UploadPartCopyResult,
            Part, or (part_number, etag) tuples; no part number twice.
    """
    if isinstance(parts, (str, bytes, Mapping)) or not isinstance(parts, Sequence):
        raise TypeError(
            "parts must be a list of UploadPartResult / CompletedPart / (part_number, etag)"
        )
    if not parts:
        raise ValueError("parts is empty: upload at least one part before completing")
    if len(parts) > MAX_PARTS:
        raise ValueError(f"{len(parts)} parts given; a multipart upload has at most {MAX_PARTS}")
    out: list[CompletedPart] = []
    seen: set[int] = set()
    for i, item in enumerate(parts):
        where = f"parts[{i}]"
        if isinstance(item, CompletedPart):
            part = item
        elif isinstance(item, (UploadPartResult, UploadPartCopyResult, Part)):
            part = CompletedPart(
                part_number=item.part_number,
                etag=item.etag,
                **{f: getattr(item, f) for f in XML_CHECKSUMS if getattr(item, f) is not None},
            )
        elif isinstance(item, tuple) and len(item) == 2:
            number, etag = item
            validate_part_number(number, name=f"{where} part number")
            if not isinstance(etag, str):
                raise TypeError(f"{where}: the ETag must be a str")
            part = CompletedPart(part_number=number, etag=etag)
        else:
            raise TypeError(
                f"{where} is a {type(item).__name__}; use an UploadPartResult, a CompletedPart "
                "or a (part_number, etag) tuple"
            )
        validate_part_number(part.part_number, name=f"{where} part number")
        quoted_etag(part.etag, where)
        if part.part_number in seen:
            raise ValueError(
                f"part number {part.part_number} is listed twice; list each part once "
                "(the last upload of a part number is the one R2 keeps)"
            )
        seen.add(part.part_number)
        out.append(part)
    out.sort(key=lambda p: p.part_number)
    return out


def response_root(
    body: bytes, tag: str, operation: str, *, also: tuple[str, ...] = ()
) -> ET.Element:
    """The root of a multipart response document, checked (``_xml.expect_root``).

    Args:
        body: the response body.
        tag: the root S3 documents.
        operation: the operation, for error messages.
        also: further root names this operation's answer may carry.
    """
    # S3 keeps a slow CompleteMultipartUpload alive with whitespace sent before the document.
    root = _xml.parse(body.lstrip(), what=operation)
    _xml.expect_root(root, tag, what=operation, also=also)
    return root


def xml_checksums(el: ET.Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, tag in XML_CHECKSUMS.items():
        value = _xml.text(el, tag)
        if value:
            out[field] = value
    return out


def xml_int(value: str | None, what: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ResponseParseError(f"{what}: {value!r} is not a number") from None
