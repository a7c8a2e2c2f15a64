"""obspec's result shapes: ``ObjectMeta`` dicts and the ``GetResult`` objects."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from r2async import ObjectMetadata

from .loops import run_sync

if TYPE_CHECKING:
    from obspec import Attributes, ObjectMeta

    from r2async import ObjectStream

__all__ = [
    "AsyncGetResult",
    "SyncGetResult",
    "attribute_kwargs",
    "attributes_of",
    "meta",
    "total_size",
]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_ATTRIBUTE_FIELDS = {
    "Content-Type": "content_type",
    "Content-Disposition": "content_disposition",
    "Content-Encoding": "content_encoding",
    "Content-Language": "content_language",
    "Cache-Control": "cache_control",
}


def meta(
    path: str, size: int | None, etag: str | None, last_modified: dt.datetime | None
) -> ObjectMeta:
    """An obspec ``ObjectMeta``.

    Args:
        path: the store path.
        size: the object's size (None: 0).
        etag: its ETag, as R2 sends it (quoted).
        last_modified: its Last-Modified (None: the epoch, for servers that omit it).
    """
    return {
        "path": path,
        "last_modified": last_modified or _EPOCH,
        "size": size or 0,
        "e_tag": etag,
        "version": None,
    }


def attributes_of(metadata: ObjectMetadata) -> Attributes:
    """obspec ``Attributes`` from an object's metadata (HTTP attributes and user metadata).

    Args:
        metadata: the object's metadata from a GET or HEAD.
    """
    out: dict[str, str] = {}
    for name, field in _ATTRIBUTE_FIELDS.items():
        value = getattr(metadata, field)
        if value is not None:
            out[name] = value
    out.update(metadata.metadata)
    return out


def attribute_kwargs(attributes: Mapping[str, str] | None) -> dict[str, Any]:
    """R2 write options from obspec ``Attributes``: HTTP attributes, the rest user metadata.

    Args:
        attributes: the attributes given to ``put`` (default none).
    """
    out: dict[str, Any] = {}
    user: dict[str, str] = {}
    for name, value in (attributes or {}).items():
        field = _ATTRIBUTE_FIELDS.get(name)
        if field is None:
            user[name] = value
        else:
            out[field] = value
    if user:
        out["metadata"] = user
    return out


class AsyncGetResult:
    """The answer of ``get_async``: stream it (``async for``) or ``await buffer_async()``.

    The response stays open until the body is read (or ``aclose()``); read it once.
    """

    def __init__(
        self,
        stream: ObjectStream | None,
        path: str,
        start: int,
        size: int,
        metadata: ObjectMetadata,
    ) -> None:
        """Wrap an opened object stream (or, for ``head=True``, only metadata).

        Args:
            stream: the entered ``ObjectStream`` (owned: closed once read), or None for a
                result without a body.
            path: the store path.
            start: the first byte sent (0 unless a range was asked for).
            size: the whole object's size.
            metadata: the response's metadata (its ``content_length`` is the bytes sent).
        """
        self._stream = stream
        self._path = path
        self._start = start
        self._size = size
        self._meta = meta(path, size, metadata.etag, metadata.last_modified)
        self._attributes = attributes_of(metadata)
        self._length = (metadata.content_length or 0) if stream is not None else 0

    @property
    def attributes(self) -> Attributes:
        """The object's HTTP attributes and user metadata."""
        return self._attributes

    @property
    def meta(self) -> ObjectMeta:
        """The object's ``ObjectMeta`` (``size`` is the whole object's)."""
        return self._meta

    @property
    def range(self) -> tuple[int, int]:
        """The bytes this result carries, as (start, stop)."""
        return (self._start, self._start + self._length)

    async def buffer_async(self) -> bytes:
        """The whole body (or range) in memory."""
        if self._stream is None:
            return b""
        try:
            return await self._stream.read()
        finally:
            await self._stream.aclose()

    async def _chunks(self) -> AsyncIterator[bytes]:
        if self._stream is None:
            return
        try:
            async for chunk in self._stream:
                yield chunk
        finally:
            await self._stream.aclose()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def aclose(self) -> None:
        """Close the response without reading the body."""
        if self._stream is not None:
            await self._stream.aclose()


class SyncGetResult:
    """The answer of ``get``: iterate it for chunks or call ``buffer()``."""

    def __init__(self, inner: AsyncGetResult) -> None:
        """Wrap an async result whose stream lives on the background loop.

        Args:
            inner: the async result, opened on the store's background loop.
        """
        self._inner = inner

    @property
    def attributes(self) -> Attributes:
        """The object's HTTP attributes and user metadata."""
        return self._inner.attributes

    @property
    def meta(self) -> ObjectMeta:
        """The object's ``ObjectMeta``."""
        return self._inner.meta

    @property
    def range(self) -> tuple[int, int]:
        """The bytes this result carries, as (start, stop)."""
        return self._inner.range

    def buffer(self) -> bytes:
        """The whole body (or range) in memory."""
        return run_sync(self._inner.buffer_async())

    def __iter__(self) -> Iterator[bytes]:
        chunks = self._inner.__aiter__()

        async def step() -> bytes | None:
            try:
                return await chunks.__anext__()
            except StopAsyncIteration:
                return None

        try:
            while True:
                chunk = run_sync(step())
                if chunk is None:
                    return
                yield chunk
        finally:
            # Also when the caller stops early: the response must not stay open.
            run_sync(self._inner.aclose())


def total_size(content_range: str | None, content_length: int | None) -> int:
    """The whole object's size from a GET's ``Content-Range`` (or its length without one).

    Args:
        content_range: the response's Content-Range, e.g. ``bytes 0-9/1234``.
        content_length: the response's Content-Length.
    """
    if content_range and "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        if total.isdigit():
            return int(total)
    return content_length or 0
