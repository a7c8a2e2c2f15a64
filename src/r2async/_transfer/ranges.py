"""The GETs of a download: the first (size and ETag), each later part's checks, the part spans.

Every answer is checked before a byte of its body is read: status (the send loop raises for
errors), ``Content-Range`` (exactly the span asked for, and the first answer's total),
``Content-Length`` (the span's length, when sent) and the ETag (the first answer's). A later
part that another version answered is :class:`ObjectChangedError`, whether the server refused
the pinned ``If-Match`` (412) or ignored it (another ETag, or another total size in
``Content-Range``): no file or stream mixes versions.
The body itself is then read chunk by chunk, never past the span (``check_chunk``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .._exceptions import (
    IntegrityError,
    InvalidRangeError,
    ObjectChangedError,
    PreconditionFailedError,
)
from .._limits import MAX_OBJECT_SIZE
from .._models import ObjectMetadata
from .cleanup import add_note, close_shielded
from .options import DownloadOptions

if TYPE_CHECKING:
    from .._streaming import ObjectStream
    from .client import TransferClient

CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


def parse_content_range(meta: ObjectMetadata) -> tuple[int, int, int] | None:
    """``(start, end, total)`` of a ``Content-Range``; None when absent (a 200)."""
    if meta.content_range is None:
        return None
    m = CONTENT_RANGE.match(meta.content_range.strip())
    if m is None or m.group(3) == "*":
        raise IntegrityError(f"unreadable Content-Range {meta.content_range!r}")
    span = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not span[0] <= span[1] < span[2] <= MAX_OBJECT_SIZE:
        # Bounds every later computation (spans, progress) by what R2 can store.
        raise IntegrityError(f"impossible Content-Range {meta.content_range!r}")
    return span


async def enter(stream: ObjectStream) -> ObjectStream:
    """Open ``stream``; if anything fails once its response exists, close it (shielded)."""
    try:
        await stream.__aenter__()
    except BaseException:
        await close_shielded(stream)
        raise
    return stream


class FirstResponse:
    """The opening GET: its stream, the object's size and ETag, and the byte span it covers."""

    def __init__(
        self, stream: ObjectStream, size: int, etag: str | None, end: int, start: int = 0
    ) -> None:
        self.stream = stream
        self.size = size
        self.etag = etag
        self.start = start  # first byte this response carries (not 0 only for a resumed download)
        self.end = end  # last byte (inclusive) this response carries; -1 for an empty object


async def open_first(client: TransferClient, opts: DownloadOptions) -> FirstResponse:
    """Send the first ranged GET and learn the object's size and ETag from it."""
    try:
        stream = await enter(opts.stream(client, (0, opts.part_size - 1), None))
    except InvalidRangeError:
        # S3 answers 416 to any range of an empty object: fetch it whole instead.
        stream = await enter(opts.stream(client, None, None))
    try:
        meta = stream.metadata
        span = parse_content_range(meta)
        if span is None:  # a 200: the server sent the whole object
            if meta.content_length is None:
                raise IntegrityError(f"GetObject of {opts.key!r} returned no Content-Length")
            size = meta.content_length
            if size > MAX_OBJECT_SIZE:
                raise IntegrityError(f"GetObject of {opts.key!r} announced {size:,} bytes")
            end = size - 1
        else:
            start, end, size = span
            if start != 0 or end != min(opts.part_size, size) - 1:
                raise IntegrityError(
                    f"asked for bytes 0-{opts.part_size - 1} of {opts.key!r} but got "
                    f"{meta.content_range!r}"
                )
            check_length(meta, 0, end, opts.key)
        return FirstResponse(stream, size, meta.etag, end)
    except BaseException:
        await close_shielded(stream)
        raise


def check_length(meta: ObjectMetadata, start: int, end: int, key: str) -> None:
    """A sent ``Content-Length`` must be the span's length (chunked answers are bounded later)."""
    if meta.content_length is not None and meta.content_length != end - start + 1:
        raise IntegrityError(
            f"GetObject of {key!r} bytes {start}-{end} announced {meta.content_length:,} bytes"
        )


def changed_error(
    opts: DownloadOptions, etag: str, cause: str, refused: PreconditionFailedError | None = None
) -> ObjectChangedError:
    """The typed "object changed" error of a part that another version answered (or refused)."""
    return ObjectChangedError(
        f"{opts.key!r} changed during the download (its ETag is no longer {etag}: {cause}); "
        "no byte of the other version was kept",
        status_code=refused.status_code if refused is not None else 206,
        code="PreconditionFailed",
        request_id=refused.request_id if refused is not None else None,
        bucket=opts.bucket,
        key=opts.key,
        operation="GetObject",
        headers=refused.headers if refused is not None else None,
    )


async def open_part(
    client: TransferClient, opts: DownloadOptions, first: FirstResponse, start: int, end: int
) -> ObjectStream:
    """GET bytes ``start``-``end`` pinned to the first answer's ETag, checked before its body."""
    etag = first.etag
    try:
        stream = await enter(opts.stream(client, (start, end), etag))
    except PreconditionFailedError as exc:
        if etag is None:
            raise
        raise changed_error(opts, etag, "If-Match was refused", exc) from exc
    try:
        meta = stream.metadata
        if etag is not None and meta.etag != etag:
            # A server (or a cache) that ignores If-Match answered from another version.
            raise changed_error(opts, etag, f"a part came with ETag {meta.etag}")
        span = parse_content_range(meta)
        if span is not None and span[2] != first.size and etag is not None:
            raise changed_error(opts, etag, f"its size is now {span[2]:,} bytes")
        if span != (start, end, first.size):
            raise IntegrityError(
                f"asked for bytes {start}-{end}/{first.size} of {opts.key!r} but got "
                f"{meta.content_range!r}"
            )
        check_length(meta, start, end, opts.key)
    except BaseException:
        await close_shielded(stream)
        raise
    return stream


def check_chunk(pos: int, size: int, start: int, end: int, key: str) -> None:
    """Refuse a chunk of ``size`` bytes at ``pos`` that runs past ``end`` (before keeping it)."""
    if pos + size > end + 1:
        raise IntegrityError(f"GetObject of {key!r} sent more than bytes {start}-{end}")


def check_end(pos: int, start: int, end: int, key: str) -> None:
    """Refuse a body of bytes ``start``-``end`` that ended at ``pos``, short of ``end``."""
    if pos != end + 1:
        raise IntegrityError(
            f"GetObject of {key!r} bytes {start}-{end} ended after {pos - start} bytes"
        )


def part_spans(first_end: int, size: int, part_size: int) -> Iterator[tuple[int, int]]:
    """The spans after the first answer, produced lazily (a 5 TiB object has 10^6 of them)."""
    return ((off, min(off + part_size, size) - 1) for off in range(first_end + 1, size, part_size))


def changed_note(exc: BaseException, key: str, etag: str | None) -> None:
    """Say, on a plain 412 of a pinned part, that the object changed meanwhile."""
    if (
        isinstance(exc, PreconditionFailedError)
        and not isinstance(exc, ObjectChangedError)
        and etag is not None
    ):
        add_note(exc, f"{key!r} changed during the download (its ETag is no longer {etag})")
