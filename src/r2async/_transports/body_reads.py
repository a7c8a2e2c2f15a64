"""A response body read into the caller's own buffer, where the transport can place it there.

Why: a body read as chunks costs, per chunk, a ``bytes`` object the transport allocates and
fills, and then, wherever the caller wants the bytes somewhere else (one buffer for the
whole object, a chunk of exactly the size asked, a block for a file), a copy, and over TLS
a join of the decrypted records first. The default transport's response streams can
instead place the bytes in a buffer the caller provides (``asyncio_stream.read_into``:
received or decrypted straight into it), so ``get_object`` fills its one preallocated
buffer and ``stream_object`` its chunks with no intermediate object at all.

The contract, for any transport that wants it: the stream httpx holds for a response (the
httpcore-level stream under httpx's wrappers) has ``direct_reads`` (True) and
``async readinto(buffer: memoryview) -> int``, which places the next bytes of the body in
``buffer``, at least one and at most ``len(buffer)``, returns 0 at the end of the body,
raises httpcore's exceptions, never writes to ``buffer`` after it returned or raised, and
closes (gives back) its connection itself on a failure, as iterating does.
A pool may also put that stream in the response's extensions as ``"r2async.body"``. A
wrapper of r2async's own that must see every read (``_deadline.DeadlineStream``) offers
``direct_reader(request)`` instead: the inner stream's reader (``find_reader``), wrapped.

What it relies on in httpx: the stream of a response sent through
``AsyncHTTPTransport.handle_async_request`` is ``AsyncResponseStream`` holding the
httpcore stream as ``_httpcore_stream``, wrapped (by ``AsyncClient.send``) in
``BoundAsyncStream`` as ``_stream`` (and r2async's gate wraps it in ``ReleasingStream`` as
``_inner``): those three, by name, are the only wrappers looked through. Anything else
(another httpx, respx's mocks, the aiohttp transport, a user's own transport) finds no
reader, and the body is read as chunks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

# Places the next bytes of a body in a buffer: how many (0 at the end).
ReadInto = Callable[[memoryview], Awaitable[int]]

# Wrappers that only pass a body on (reads) or close it (the gate's), and where they keep it.
_WRAPPED = {
    "BoundAsyncStream": "_stream",  # httpx: AsyncClient.send
    "AsyncResponseStream": "_httpcore_stream",  # httpx: AsyncHTTPTransport
    "ReleasingStream": "_inner",  # r2async's gate
}

# The httpx exception for each httpcore one, by name (as httpx's own transport maps them).
_MAPPED: dict[type[BaseException], type[httpx.TransportError] | None] = {}


def body_reader(response: httpx.Response) -> ReadInto | None:
    """How to read ``response``'s body into a buffer, or None (read it as chunks).

    Args:
        response: an open response whose body nothing has started reading.
    """
    if response.is_stream_consumed or response.is_closed:
        return None
    stream: Any = response.extensions.get("r2async.body", response.stream)
    return find_reader(stream, response.request)


def find_reader(stream: Any, request: httpx.Request) -> ReadInto | None:
    """The reader of the body ``stream`` (a response's, or what a wrapper wraps), or None.

    Args:
        stream: the body stream.
        request: the request it answers (attached to the errors raised).
    """
    for _ in range(4):  # httpx's two wrappers and the gate's at most
        hook = getattr(stream, "direct_reader", None)
        if hook is not None:
            # One of r2async's own wrappers, which reads through its inner stream.
            reader: ReadInto | None = hook(request)
            return reader
        direct = getattr(stream, "direct_reads", None)
        if direct is not None:
            return _Reader(stream.readinto, request) if direct is True else None
        attribute = _WRAPPED.get(type(stream).__name__)
        if attribute is None:
            return None
        stream = getattr(stream, attribute, None)
    return None


class _Reader:
    """``readinto`` of an httpcore-level stream, its errors raised as httpx's."""

    __slots__ = ("_read", "_request")

    def __init__(self, read: ReadInto, request: httpx.Request) -> None:
        self._read = read
        self._request = request

    async def __call__(self, buffer: memoryview) -> int:
        try:
            return await self._read(buffer)
        except Exception as exc:
            mapped = _httpx_error(type(exc))
            if mapped is None:
                raise
            raise mapped(str(exc), request=self._request) from exc


def _httpx_error(cls: type[BaseException]) -> type[httpx.TransportError] | None:
    # By module and name, so that importing this module does not import httpcore (nor,
    # through it, anyio) before a request needs them.
    try:
        return _MAPPED[cls]
    except KeyError:
        pass
    found: type[httpx.TransportError] | None = None
    for base in cls.__mro__:
        if base.__module__.split(".")[0] != "httpcore":
            continue
        candidate = getattr(httpx, base.__name__, None)
        if isinstance(candidate, type) and issubclass(candidate, httpx.TransportError):
            found = candidate
            break
    _MAPPED[cls] = found
    return found
