"""r2async's connection pool under httpx's default transport: constant work per request.

Why not httpcore's own ``AsyncConnectionPool`` (httpcore 1.0.9)? Measured at concurrency 32
against a local sink (1 KiB GETs, one client process, 2 cores), it took 40-55% of the client's
CPU, and more the more connections it held:

* every request runs ``_assign_requests_to_connections`` on entry, on release and on every
  retry, and each run visits every connection: ``has_expired()`` on each idle one polls its
  socket (through anyio's typed-attribute lookup, the costliest call of the profile), and a
  surplus-idle check builds a list of all connections once per idle connection (quadratic);
* it hands one idle connection to every request queued in the same run, since a connection
  is marked busy only later, after a lock yields. All but one of them then fail with
  ``ConnectionNotAvailable`` and go round again: 5.6 runs per request instead of 2.
* the cost grows with the number of open connections, which only ratchets up (it shrinks
  only above ``max_keepalive_connections``). The same benchmark cost 1.0 to 3.1 ms per
  request from run to run, tracking the 11 to 32 connections the pool happened to hold.

Here a request takes the most recently released idle connection (a stack, so a burst's
surplus connections age out instead of being cycled through), checks only that one for
expiry, opens a new one below the limit, and otherwise queues in FIFO order; a release hands
the connection straight to the first queued request. Every step is O(1).

Beyond httpcore's: a connection is reused only at a clean message boundary (``_clean``); a
response body garbage-collected unclosed gives its connection back, closed (with a
``ResourceWarning`` in debug mode: asyncio's, or ``python -X dev``; see ``pooled_stream``);
and every connect, read and write of a request is held to its call's deadline, and interim
responses are capped (``call_guard``, and the same bounds in ``h1_connection``).

The connections themselves, under asyncio, are r2async's own HTTP/1.1 connections
(``h1_connection``: no h11, no httpcore connection machinery, no anyio on the request path;
the wire format's rules in ``h1_parse``), over asyncio's own sockets and TLS
(``asyncio_stream``), and ``PoolTransport.handle_async_request`` hands them httpx's request
as it is and builds httpx's response once (measured on 1 KiB GETs and PUTs: about half the
instructions per request of the httpcore path below). They raise httpcore's exceptions,
mapped to httpx's as httpx maps them (``pooled_stream.to_httpx``).

Requests take httpcore's public ``AsyncHTTPConnection`` instead (HTTP/1.1, TLS, timeouts,
server-closed detection; its network stream bounded by ``call_guard``, a body of known
length read past h11 by ``direct_body``), through httpx's own ``AsyncHTTPTransport``
conversion, under trio (httpcore's trio backend), with httpcore's ``trace`` extension or its
debug log on (they see httpcore's steps), and while a mock replaces
``httpcore.AsyncHTTPConnection.handle_async_request`` (respx, which mocks the default
transport that way) or ``httpx.AsyncHTTPTransport.handle_async_request`` (pytest-httpx):
each is checked to be the library's own function (module and qualified name) before a
request takes r2async's path. The two kinds of connection are pooled apart (the key's last
field). The one private name used is httpx's ``_pool`` attribute, which PoolTransport
replaces and tests/unit/transports/test_pool.py checks.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import sys
import time
from collections import deque
from collections.abc import AsyncIterable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Union

import anyio
import httpcore
import httpx

from . import DEADLINE
from .call_guard import CallGuard, GuardedBackend
from .direct_body import direct
from .pooled_stream import OwnStream, PooledStream, to_httpx

if TYPE_CHECKING:
    from .h1_connection import H1Body, H1Connection
    from .h1_parse import ResponseHead

# Scheme, host, port, and whether the connection is r2async's own (H1Connection).
_Key = tuple[bytes, bytes, int, bool]


class PoolTransport(httpx.AsyncHTTPTransport):
    """httpx's ``AsyncHTTPTransport`` (HTTP/1.1) over r2async's constant-time connection pool.

    ``R2Client()`` sends through one by default. Give one to your own client, e.g.
    ``R2Client(http_client=httpx.AsyncClient(transport=PoolTransport(), event_hooks=...))``,
    to keep r2async's pool with an ``httpx.AsyncClient`` you configure.
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """Create the transport; it connects on the first request.

        Args:
            limits: connection limits (default: R2Client's, 64 connections, 32 kept alive 30 s).
            ssl_context: for https:// (default: one verifying context shared by the process).
        """
        if limits is None:
            from .._config import DEFAULT_LIMITS

            limits = DEFAULT_LIMITS
        elif not isinstance(limits, httpx.Limits):
            raise TypeError(f"limits must be an httpx.Limits, got {type(limits).__name__}")
        if ssl_context is None:
            from .tls import shared_ssl_context

            ssl_context = shared_ssl_context()
        elif not isinstance(ssl_context, ssl.SSLContext):
            raise TypeError(
                f"ssl_context must be an ssl.SSLContext, got {type(ssl_context).__name__}"
            )
        super().__init__(verify=ssl_context, limits=limits, trust_env=False)
        # httpx sends through self._pool (handle_async_request, aclose, __aenter__/__aexit__),
        # which it has just set to an httpcore.AsyncConnectionPool that never opened anything.
        self.pool = ConnectionPool(ssl_context=ssl_context, limits=limits)
        self._pool = self.pool  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PoolTransport(in_use={self.pool.in_use}, waiting={self.pool.waiting})"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``: on r2async's own connections without httpcore's types in between.

        httpx's own conversion to httpcore's request and back cost 10-20% of a small
        request's instructions; it stays for what takes httpcore's connections (see above).
        """
        pool = self.pool
        url = request.url
        scheme = url.raw_scheme
        if (
            (scheme == b"https" or scheme == b"http")
            and pool.takes_own(request.extensions)
            and _own_method(httpx.AsyncHTTPTransport, "httpx._transports.default")
        ):
            assert isinstance(request.stream, httpx.AsyncByteStream)
            try:
                head, body, conn = await pool.exchange_own(
                    scheme,
                    url.raw_host,
                    url.port or (443 if scheme == b"https" else 80),
                    request.method.encode("ascii", "replace"),
                    url.raw_path,
                    request.headers.raw,
                    request.stream,
                    request.extensions,
                )
            except (
                httpcore.NetworkError,
                httpcore.TimeoutException,
                httpcore.ProtocolError,
            ) as exc:
                raise to_httpx(exc) from exc
            return httpx.Response(
                head.status,
                headers=head.headers,
                stream=OwnStream(body, pool, conn, sync_close=True),
                extensions={
                    "http_version": head.http_version,
                    "reason_phrase": head.reason,
                    "network_stream": conn.stream,
                },
            )
        return await super().handle_async_request(request)


class _Connection(httpcore.AsyncHTTPConnection):
    """httpcore's HTTP/1.1 connection, its network stream bounded per call (see call_guard)."""

    def __init__(
        self,
        origin: httpcore.Origin,
        ssl_context: ssl.SSLContext | None,
        keepalive_expiry: float | None,
        backend: httpcore.AsyncNetworkBackend,
    ) -> None:
        self.guard = CallGuard()
        super().__init__(
            origin=origin,
            ssl_context=ssl_context,
            keepalive_expiry=keepalive_expiry,
            network_backend=GuardedBackend(backend, self.guard),
        )


_Conn = Union[_Connection, "H1Connection"]

# The httpcore connection method respx replaces to mock the default transport; while it is
# not httpcore's own, requests take httpcore's connections so that the mock sees them.
# httpcore logs each step of a request at DEBUG (as its trace extension sees them): a request
# sent while that log is on takes httpcore's connections, so that it is logged as before.
_httpcore_logs = logging.getLogger("httpcore.http11")
# Each method a mock replaces to intercept requests, with whether it was the library's own
# when last seen: a respx mock (httpcore's) or pytest-httpx's (httpx's, which PoolTransport's
# override would otherwise bypass) sends requests through the library's path.
_unmocked: dict[str, tuple[object, bool]] = {}


def _own_method(cls: type, module: str) -> bool:
    handler = cls.handle_async_request  # type: ignore[attr-defined]
    seen = _unmocked.get(module)
    if seen is None or seen[0] is not handler:
        own = getattr(handler, "__module__", None) == module and getattr(
            handler, "__qualname__", None
        ) == (cls.__name__ + ".handle_async_request")
        seen = _unmocked[module] = (handler, own)
    return seen[1]


class _Waiter:
    """A request queued for a connection; ``granted`` once a release picked it."""

    __slots__ = ("conn", "event", "granted", "key")

    def __init__(self, key: _Key) -> None:
        self.key = key
        self.event = anyio.Event()
        self.granted = False
        # The connection handed over, or None for room to open a new one.
        self.conn: _Conn | None = None


class ConnectionPool:
    """HTTP/1.1 connections per origin: a stack of idle ones, a FIFO queue of waiting requests.

    The interface httpx's transport uses of an httpcore pool: ``handle_async_request``,
    ``aclose``, ``connections`` and the async context manager.
    """

    def __init__(self, *, ssl_context: ssl.SSLContext | None, limits: httpx.Limits) -> None:
        self._ssl_context = ssl_context
        self._max_connections = (
            sys.maxsize if limits.max_connections is None else limits.max_connections
        )
        self._max_keepalive = min(
            self._max_connections,
            sys.maxsize
            if limits.max_keepalive_connections is None
            else limits.max_keepalive_connections,
        )
        self._keepalive_expiry = limits.keepalive_expiry
        # Per origin, idle connections with the time each became idle, oldest first.
        self._idle: dict[_Key, deque[tuple[_Conn, float]]] = {}
        self._n_idle = 0
        # Connections lent to a request, with their origin.
        self._busy: dict[_Conn, _Key] = {}
        # Idle + busy + room granted to a waiter that has yet to open its connection.
        self._total = 0
        self._waiters: deque[_Waiter] = deque()
        self._closed = False
        # Connections whose response body was garbage-collected unclosed: given back (their
        # place freed) on the event loop by _reclaim, closed at the next request or aclose.
        self._doomed: list[_Conn] = []
        # Opens the connections' sockets (under each one's CallGuard); the one httpcore would
        # pick for the event loop (trio's own under trio), chosen in _bind.
        self._backend: httpcore.AsyncNetworkBackend = httpcore.AnyIOBackend()
        # Runs a callback on this pool's event loop, from any thread (bound on first use).
        self._soon: Callable[..., object] | None = None
        self._debug = False
        # r2async's own HTTP/1.1 connections (h1_connection), under asyncio (set in _bind).
        self._h1: type[H1Connection] | None = None
        self._origins: dict[tuple[bytes, bytes, int], httpcore.Origin] = {}

    @property
    def connections(self) -> list[_Conn]:
        """The open connections, idle and busy."""
        idle = [conn for stack in self._idle.values() for conn, _ in stack]
        return idle + list(self._busy)

    @property
    def in_use(self) -> int:
        """Connections lent to a request (until its response body is closed)."""
        return len(self._busy)

    @property
    def waiting(self) -> int:
        """Requests queued for a connection."""
        return len(self._waiters)

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        url = request.url
        if url.scheme not in (b"http", b"https"):
            raise httpcore.UnsupportedProtocol(
                f"Request URL has an unsupported protocol '{url.scheme.decode()}://'."
            )
        origin = url.origin
        extensions = request.extensions
        if self.takes_own(extensions):
            head, body, own = await self.exchange_own(
                origin.scheme,
                origin.host,
                origin.port,
                request.method,
                url.target,
                request.headers,
                request.stream,
                extensions,
            )
            return httpcore.Response(
                status=head.status,
                headers=head.headers,
                content=PooledStream(body, self, own, sync_close=True),
                extensions={
                    "http_version": head.http_version,
                    "reason_phrase": head.reason,
                    "network_stream": own.stream,
                },
            )
        pool_timeout = extensions.get("timeout", {}).get("pool")
        deadline = extensions.get(DEADLINE)
        key: _Key = (origin.scheme, origin.host, origin.port, False)
        if self._doomed:
            await self._close_doomed()
        while True:
            conn = await self._acquire(key, origin, pool_timeout, deadline)
            assert isinstance(conn, _Connection)
            conn.guard.arm(deadline)
            try:
                response = await conn.handle_async_request(request)
            except httpcore.ConnectionNotAvailable:
                # Closed by the server between our check and the request: try another.
                await self._release(conn)
                continue
            except BaseException:
                await self._release(conn)
                raise
            assert isinstance(response.stream, AsyncIterable)
            # A body of known length is read past h11 (direct_body says why and how).
            stream = direct(response.stream, conn._connection, request)
            response.stream = PooledStream(stream, self, conn)
            return response

    def takes_own(self, extensions: Mapping[str, Any]) -> bool:
        """Whether a request with these extensions goes on r2async's own connections.

        Under asyncio, unless it asks for httpcore's ``trace``, httpcore's debug log is on
        (it logs what a trace sees), or a mock (respx) replaced httpcore's connection method.
        """
        if self._soon is None:
            self._bind()
        return (
            self._h1 is not None
            and "trace" not in extensions
            and _own_method(httpcore.AsyncHTTPConnection, "httpcore._async.connection")
            and not _httpcore_logs.isEnabledFor(logging.DEBUG)
        )

    async def exchange_own(
        self,
        scheme: bytes,
        host: bytes,
        port: int,
        method: bytes,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        content: Any,
        extensions: Mapping[str, Any],
    ) -> tuple[ResponseHead, H1Body, H1Connection]:
        """Send a request on one of r2async's own connections: the response head, its body
        (to read, then close through a ``PooledStream``, which gives the connection back),
        and the connection. Errors are httpcore's."""
        origin = self._origins.get((scheme, host, port))
        if origin is None:
            if scheme not in (b"http", b"https"):  # pragma: no cover - checked by callers
                raise httpcore.UnsupportedProtocol(f"unsupported scheme {scheme!r}")
            if len(self._origins) > 64:
                self._origins.clear()
            origin = self._origins[(scheme, host, port)] = httpcore.Origin(scheme, host, port)
        key: _Key = (scheme, host, port, True)
        timeouts = extensions.get("timeout")
        pool_timeout = timeouts.get("pool") if timeouts else None
        deadline = extensions.get(DEADLINE)
        if self._doomed:
            await self._close_doomed()
        while True:
            conn: Any = await self._acquire(key, origin, pool_timeout, deadline)
            try:
                head, body = await conn.exchange(method, target, headers, content, extensions)
            except httpcore.ConnectionNotAvailable:
                # Closed by the server between our check and the request: try another.
                await self._release(conn)
                continue
            except BaseException:
                await self._release(conn)
                raise
            return head, body, conn

    async def _acquire(
        self, key: _Key, origin: httpcore.Origin, wait_for: float | None, deadline: float | None
    ) -> _Conn:
        stack = self._idle.get(key)
        while stack:
            conn, _ = stack.pop()
            self._n_idle -= 1
            # The one expiry check per request: past keepalive, or the server closed it
            # (an idle socket that reads as readable is at EOF).
            if conn.has_expired():
                self._total -= 1
                await _close(conn)
                continue
            self._busy[conn] = key
            return conn
        if self._total < self._max_connections:
            self._total += 1
            return self._open(key, origin)
        if self._n_idle:
            # Full, but with idle connections to other origins: replace one.
            await _close(self._pop_any_idle())
            return self._open(key, origin)
        if deadline is not None:
            # The wait for a connection counts against the call's deadline too.
            left = max(0.0, deadline - time.monotonic())
            wait_for = left if wait_for is None else min(wait_for, left)
        waiter = _Waiter(key)
        self._waiters.append(waiter)
        try:
            with anyio.fail_after(wait_for):
                await waiter.event.wait()
        except BaseException as exc:
            if waiter.granted:
                # Picked as it gave up: pass what it was given on.
                if waiter.conn is not None:
                    await self._release(waiter.conn)
                else:
                    self._grant_room()
            else:
                self._waiters.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise httpcore.PoolTimeout("timed out waiting for a free connection") from None
            raise
        if waiter.conn is not None:
            return waiter.conn
        return self._open(key, origin)

    def _bind(self) -> None:
        # How a response body collected unclosed (in whatever thread the collector runs)
        # hands its connection back: a callback on this pool's event loop, where the books
        # are kept and waiters woken. Looked up once; a pool serves one event loop.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            import trio

            self._soon = trio.lowlevel.current_trio_token().run_sync_soon
            self._debug = sys.flags.dev_mode
            self._backend = httpcore.TrioBackend()
        else:
            from .asyncio_stream import AsyncioBackend
            from .h1_connection import H1Connection

            self._soon = loop.call_soon_threadsafe
            # asyncio's own sockets and TLS, not anyio's (asyncio_stream says why).
            self._backend = AsyncioBackend()
            # and r2async's own HTTP/1.1 connections (h1_connection says why).
            self._h1 = H1Connection
            # -X dev turns asyncio's debug mode on too.
            self._debug = sys.flags.dev_mode or loop.get_debug()

    def _reclaim(self, conn: _Conn) -> None:
        """Take back the connection of a response body collected unclosed (on the loop)."""
        if self._busy.pop(conn, None) is None:
            return
        # Cut off mid-response at an unknown point: never reused; its place goes on now,
        # the close (which awaits) happens at the next request or at aclose.
        self._doomed.append(conn)
        self._grant_room()

    async def _close_doomed(self) -> None:
        doomed, self._doomed = self._doomed, []
        for conn in doomed:
            await _close(conn)

    def _open(self, key: _Key, origin: httpcore.Origin) -> _Conn:
        # Counted in _total by the caller; connects on its first request.
        conn: _Conn
        if key[3]:
            assert self._h1 is not None
            conn = self._h1(origin, self._ssl_context, self._keepalive_expiry)
        else:
            conn = _Connection(origin, self._ssl_context, self._keepalive_expiry, self._backend)
        self._busy[conn] = key
        return conn

    def _pop_any_idle(self) -> _Conn:
        for stack in self._idle.values():
            if stack:
                self._n_idle -= 1
                return stack.popleft()[0]
        raise AssertionError("no idle connection")  # pragma: no cover

    def _grant_room(self) -> None:
        # A connection went away: its place goes to the first waiter, else it is freed.
        if self._waiters:
            waiter = self._waiters.popleft()
            waiter.granted = True
            waiter.event.set()
        else:
            self._total -= 1

    async def _release(self, conn: _Conn) -> None:
        """Take a connection back from its request: reuse it, hand it on, or close it."""
        key = self._busy.pop(conn)
        # A connection whose connect failed reports itself idle *and* closed; one that never
        # connected (respx mocks the request) neither: neither is reused. Nor is one holding
        # bytes past the end of its response (see _clean).
        if not self._closed and conn.is_idle() and not conn.is_closed() and _clean(conn):
            if self._waiters:
                waiter = self._waiters.popleft()
                waiter.granted = True
                if waiter.key == key:
                    waiter.conn = conn
                    self._busy[conn] = key
                    waiter.event.set()
                    return
                # Wanted elsewhere: make room for the waiter's origin.
                waiter.event.set()
                await _close(conn)
                return
            if self._n_idle < self._max_keepalive:
                now = time.monotonic()
                stack = self._idle.get(key)
                if stack is None:
                    stack = self._idle[key] = deque()
                stack.append((conn, now))
                self._n_idle += 1
                # Close the longest-idle connection once past keepalive (LIFO reuse leaves
                # a burst's surplus at the bottom of the stack).
                expiry = self._keepalive_expiry
                if expiry is not None and now - stack[0][1] > expiry:
                    old = stack.popleft()[0]
                    self._n_idle -= 1
                    self._total -= 1
                    await _close(old)
                return
        self._grant_room()
        if not conn.is_closed():
            await _close(conn)

    async def aclose(self) -> None:
        """Close every connection; requests still using one see it fail."""
        self._closed = True
        conns = self.connections + self._doomed
        self._doomed = []
        self._total -= self._n_idle
        self._idle.clear()
        self._n_idle = 0
        with anyio.CancelScope(shield=True):
            for conn in conns:
                await conn.aclose()

    async def __aenter__(self) -> ConnectionPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def _close(conn: _Conn) -> None:
    with anyio.CancelScope(shield=True):
        await conn.aclose()


def _clean(conn: _Conn) -> bool:
    """Whether an idle connection ended its last response at a clean message boundary.

    h11 keeps the bytes it received past the end of a response and parses them as the
    answer to the next request sent on the connection: a server that appends anything to a
    complete response would have it returned as the next call's body (a framing desync).
    Such a connection is closed, never reused. (Bytes that arrive later, while it is idle,
    make ``has_expired`` see a readable socket, which closes it too.) httpcore does not
    expose its h11 state; if that changes, connections are not reused rather than trusted,
    and tests/unit/transports/test_pool.py's reuse tests fail. r2async's own connections
    are idle only after a clean end (h1_connection).
    """
    if not isinstance(conn, _Connection):
        return True
    http11: Any = conn._connection
    try:
        trailing: bytes = http11._h11_state.trailing_data[0]
    except AttributeError:
        return False
    return not trailing
