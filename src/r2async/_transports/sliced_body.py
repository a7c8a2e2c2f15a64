"""Large in-memory request bodies sent as memoryview slices instead of one write.

Why: written whole, a large body is copied into the socket's send buffer at once (about 1 CPU-s
per GiB and twice its size in memory); in slices of :data:`SLICE` it goes out under flow
control, with no copies.

What it relies on in httpx: ``request.stream`` may be replaced by any object that is both an
``httpx.AsyncByteStream`` and an ``httpx.SyncByteStream`` (public types); the transports
(h11 and aiohttp) accept any buffer, not only ``bytes``.

How it falls back: nothing private is used; ``request.content`` (which the signer hashed and a
retry replays) is left as it is.
"""

from __future__ import annotations

import httpx

# In-memory request bodies larger than this are sent in slices of this size.
SLICE = 1024 * 1024


class SlicedBody(httpx.AsyncByteStream, httpx.SyncByteStream):
    """An in-memory request body as memoryview slices of ``SLICE`` bytes (no copies).

    Iterators, not generators: one abandoned mid-body (a reset) needs no finalising.
    """

    def __init__(self, data: bytes) -> None:
        self._data = data

    def __aiter__(self) -> _Slicer:
        return _Slicer(self._data)

    def __iter__(self) -> _Slicer:
        return _Slicer(self._data)


class _Slicer:
    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._at = 0

    def __aiter__(self) -> _Slicer:
        return self

    def __iter__(self) -> _Slicer:
        return self

    def __next__(self) -> bytes:
        start = self._at
        if start >= len(self._view):
            raise StopIteration
        self._at = start + SLICE
        # A memoryview, typed as the bytes httpx expects: h11 and aiohttp take any buffer.
        return self._view[start : self._at]  # type: ignore[return-value]

    async def __anext__(self) -> bytes:
        try:
            return self.__next__()
        except StopIteration:
            raise StopAsyncIteration from None
