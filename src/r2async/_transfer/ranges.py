"""The first GET of a download (size and ETag), Content-Range parsing and the part spans."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .._exceptions import IntegrityError, InvalidRangeError, PreconditionFailedError
from .._models import ObjectMetadata
from .cleanup import add_note, close_shielded
from .options import DownloadOptions

if TYPE_CHECKING:
    from .._streaming import ObjectStream
    from .client import TransferClient

CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


def parse_content_range(meta: ObjectMetadata) -> tuple[int, int, int] | None:
    if meta.content_range is None:
        return None
    m = CONTENT_RANGE.match(meta.content_range.strip())
    if m is None or m.group(3) == "*":
        raise IntegrityError(f"unreadable Content-Range {meta.content_range!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


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
    stream = opts.stream(client, (0, opts.part_size - 1), None)
    try:
        await stream.__aenter__()
    except InvalidRangeError:
        # S3 answers 416 to any range of an empty object: fetch it whole instead.
        stream = opts.stream(client, None, None)
        await stream.__aenter__()
    try:
        meta = stream.metadata
        span = parse_content_range(meta)
        if span is None:  # a 200: the server sent the whole object
            if meta.content_length is None:
                raise IntegrityError(f"GetObject of {opts.key!r} returned no Content-Length")
            size = meta.content_length
            end = size - 1
        else:
            start, end, size = span
            if start != 0 or end != min(opts.part_size, size) - 1:
                raise IntegrityError(
                    f"asked for bytes 0-{opts.part_size - 1} of {opts.key!r} but got "
                    f"{meta.content_range!r}"
                )
        return FirstResponse(stream, size, meta.etag, end)
    except BaseException:
        await close_shielded(stream)
        raise


def part_spans(first_end: int, size: int, part_size: int) -> list[tuple[int, int]]:
    return [(off, min(off + part_size, size) - 1) for off in range(first_end + 1, size, part_size)]


def changed_note(exc: BaseException, key: str, etag: str | None) -> None:
    if isinstance(exc, PreconditionFailedError) and etag is not None:
        add_note(exc, f"{key!r} changed during the download (its ETag is no longer {etag})")
