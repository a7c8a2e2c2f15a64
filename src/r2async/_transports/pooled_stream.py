"""A response body that gives its connection back to the pool when closed, or collected.

Why a module of its own: both of the pool's paths use it, httpcore's connections under
httpx's response conversion (``PooledStream``) and r2async's own connections answering
httpx directly (``OwnStream``, which also turns httpcore's errors into httpx's, as httpx's
own response stream does).

A body closed is handed back through the pool's ``_release``; one garbage-collected unclosed
(in whatever thread the collector runs) through the pool's ``_reclaim``, scheduled on the
pool's event loop: the connection is then closed, never reused, and its place given on.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import anyio
import httpcore
import httpx


class Lender(Protocol):
    """What a body needs of its pool (``pool.ConnectionPool``)."""

    _soon: Callable[..., object] | None
    _debug: bool

    def _reclaim(self, conn: Any) -> None: ...

    def _release(self, conn: Any) -> Awaitable[None]: ...


class PooledStream:
    """A response body that gives its connection back to the pool when closed."""

    __slots__ = ("_closed", "_conn", "_iter", "_pool", "_stream", "_sync_close")

    def __init__(
        self,
        stream: AsyncIterable[bytes],
        pool: Lender,
        conn: Any,
        *,
        sync_close: bool = False,
    ) -> None:
        self._stream = stream
        self._pool = pool
        self._conn = conn
        self._closed = False
        # The stream closes without awaiting (an H1Body): no cancel shield needed.
        self._sync_close = sync_close
        self._iter: AsyncIterator[bytes] | None = None

    def __aiter__(self) -> PooledStream:
        # An iterator, not an async generator: nothing more to finalise if a reader stops.
        self._iter = self._stream.__aiter__()
        return self

    async def __anext__(self) -> bytes:
        assert self._iter is not None
        try:
            return await self._iter.__anext__()
        except StopAsyncIteration:
            raise
        except BaseException:
            await self.aclose()
            raise

    @property
    def direct_reads(self) -> bool:
        """Whether ``readinto`` reads the body into the caller's buffer (see ``body_reads``)."""
        return hasattr(self._stream, "readinto")

    async def readinto(self, buffer: memoryview) -> int:
        """The next body bytes placed in ``buffer`` (at least one; 0 at the end)."""
        try:
            n: int = await self._stream.readinto(buffer)  # type: ignore[attr-defined]
        except BaseException:
            await self.aclose()
            raise
        return n

    def __del__(self) -> None:
        # Garbage-collected unclosed (the caller neither read it to its end nor closed it):
        # the connection must not stay lent forever. This may run in any thread, and in the
        # middle of the pool's own code, so it only schedules the release on the event loop.
        if self._closed:
            return
        self._closed = True
        pool = self._pool
        try:
            soon = pool._soon
            if soon is not None:
                soon(pool._reclaim, self._conn)
        except Exception:  # the event loop is gone, and the connection with it
            return
        if pool._debug:
            warnings.warn(
                "unclosed r2async response body: its connection was closed when the "
                "response was garbage-collected; close responses and streams (async with, "
                "or aclose()) when done",
                ResourceWarning,
                source=self,
                stacklevel=1,
            )

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            stream: Any = self._stream
            if self._sync_close:
                stream.close()
            else:
                closer: Any = getattr(stream, "aclose", None)
                if closer is not None:
                    with anyio.CancelScope(shield=True):
                        await closer()
        finally:
            await self._pool._release(self._conn)


class OwnStream(PooledStream, httpx.AsyncByteStream):
    """The body of a response from one of r2async's own connections, handed to httpx as is.

    Its errors are httpx's: each httpcore exception raised while reading becomes the httpx
    one httpx's transport would have raised (see :func:`to_httpx`), the original as cause.
    """

    __slots__ = ()

    async def __anext__(self) -> bytes:
        assert self._iter is not None
        try:
            return await self._iter.__anext__()
        except StopAsyncIteration:
            raise
        except BaseException as exc:
            await self.aclose()
            if isinstance(
                exc, httpcore.NetworkError | httpcore.TimeoutException | httpcore.ProtocolError
            ):
                raise to_httpx(exc) from exc
            raise


# What httpcore raises for a failed request (all mapped below).
HTTPCORE_ERRORS = (httpcore.NetworkError, httpcore.TimeoutException, httpcore.ProtocolError)

# httpcore's exception -> httpx's, as httpx's own transport maps them
# (httpx._transports.default._load_httpcore_exceptions).
_TO_HTTPX: dict[type[Exception], type[httpx.HTTPError]] = {
    httpcore.TimeoutException: httpx.TimeoutException,
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.NetworkError: httpx.NetworkError,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    httpcore.ProxyError: httpx.ProxyError,
    httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol,
    httpcore.ProtocolError: httpx.ProtocolError,
    httpcore.LocalProtocolError: httpx.LocalProtocolError,
    httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
}


def to_httpx(exc: Exception) -> Exception:
    """The httpx exception for an httpcore one (the most specific class wins), else ``exc``."""
    mapped = _TO_HTTPX.get(type(exc))
    if mapped is None:
        for source, target in _TO_HTTPX.items():
            if isinstance(exc, source) and (mapped is None or issubclass(target, mapped)):
                mapped = target
        if mapped is None:
            return exc
    return mapped(str(exc))
