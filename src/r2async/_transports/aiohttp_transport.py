"""An httpx transport backed by aiohttp: the opt-in fast path (``R2Client(transport="aiohttp")``).

httpx stays the interface (its ``Request``/``Response`` types, ``httpx.Auth``, exceptions);
only the wire work moves to aiohttp, whose C-accelerated HTTP parser and connection pool
cost a fraction of httpcore's CPU per request and per streamed byte (see ``benchmarks/``).

What this adapter guarantees, so that r2async behaves the same on either transport:

* the request goes out as httpx built it: the path and query byte for byte (``.``/``..``
  segments and ``%XX`` escapes kept), the headers as signed, and no header added by aiohttp
  (no ``User-Agent``, ``Accept``, ``Accept-Encoding`` or ``Content-Type`` of its own);
* response bodies are passed through undecoded, as httpcore does (httpx decodes
  ``Content-Encoding`` in ``aiter_bytes`` and leaves ``aiter_raw`` untouched);
* streamed bodies are read with bounded memory: aiohttp stops reading from the socket once
  ``read_bufsize`` x 2 bytes wait unread, and chunks are handed over without copying;
* every aiohttp failure is raised as the matching ``httpx`` exception (``ConnectError``,
  ``ConnectTimeout``, ``ReadTimeout``, ``ReadError``, ``RemoteProtocolError``...), with
  the original as ``__cause__`` (the request headers aiohttp keeps in ``request_info``
  redacted); an exception raised by the request body's own iterator (a file read error, a
  length mismatch) is re-raised as it is;
* httpx's timeout extension is honoured: ``connect`` (TCP and TLS), ``pool`` (added to the
  connect budget, as aiohttp waits for a pooled connection and connects under one timer)
  and ``read`` (between received chunks); aiohttp has no per-write timeout;
* a call's overall deadline (the ``r2async.deadline`` extension) bounds the whole exchange,
  a streamed body included until it is complete or released: held on the connection's
  protocol once one is lent (one periodic check per connector instead of timers per request,
  see ``aiohttp_protocol``), and by the connect timers, cut to the time left, before that;
  where that protocol hook is unavailable, it becomes aiohttp's ``total`` timeout;
* a response body garbage-collected unclosed closes its connection, a connection that
  received bytes nobody asked for is not reused, and more than a few interim (1xx)
  responses fail the request (see ``aiohttp_protocol``).

aiohttp runs on asyncio only: under trio, use the default transport. aiohttp itself is an
optional dependency (``pip install 'r2async[fast]'``), imported when the first transport is
created, so that importing r2async never pays for it.
"""

from __future__ import annotations

import asyncio
import math
import ssl
import sys
import time
import warnings
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, NoReturn

import httpx

from . import DEADLINE
from .aiohttp_headers import response_headers
from .aiohttp_protocol import DEADLINE as _DEADLINE

if TYPE_CHECKING:
    import aiohttp

__all__ = ["AiohttpTransport"]

# Large reads keep the per-chunk cost low; aiohttp pauses the socket at twice this much
# unread data, which bounds a stream's memory.
DEFAULT_READ_BUFSIZE = 1024 * 1024
# aiohttp adds these unless told not to; httpx's transport sends none of them, and a
# Content-Type added after signing would change how the object is stored.
_SKIP_AUTO_HEADERS = ("Accept", "Accept-Encoding", "Content-Type", "User-Agent")
_TIMEOUT_CACHE_SIZE = 64
# In-memory bodies larger than this are sent in slices of this size (aiohttp's own limit
# before it warns about writing a large body in one call).
_WHOLE_BODY_LIMIT = 1024 * 1024


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An ``httpx.AsyncBaseTransport`` that sends requests with an ``aiohttp.ClientSession``.

    Use it through r2async (``R2Client(transport="aiohttp")``, or
    ``R2Client(transport=AiohttpTransport(...))`` to tune it), or with any
    ``httpx.AsyncClient(transport=AiohttpTransport())``. The session is created on the first
    request, in the running event loop, and closed by ``aclose()``.

    Args:
        limits: connection pool limits; ``max_connections`` and ``keepalive_expiry`` apply
            (default: r2async's, 64 connections kept alive for 30 s).
        verify: True to verify TLS certificates with the default CA bundle, False not to,
            or an ``ssl.SSLContext`` (default True; one context is shared per process).
        read_bufsize: bytes aiohttp buffers per connection before pausing the socket; a
            streamed body holds at most about twice this much (default 1 MiB).
        local_address: a local IP address to connect from (default: any).
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits | None = None,
        verify: bool | ssl.SSLContext = True,
        read_bufsize: int = DEFAULT_READ_BUFSIZE,
        local_address: str | None = None,
    ) -> None:
        if limits is not None and not isinstance(limits, httpx.Limits):
            raise TypeError("limits must be an httpx.Limits")
        if not isinstance(verify, (bool, ssl.SSLContext)):
            raise TypeError("verify must be True, False or an ssl.SSLContext")
        if (
            not isinstance(read_bufsize, int)
            or isinstance(read_bufsize, bool)
            or not 16 * 1024 <= read_bufsize <= 64 * 1024 * 1024
        ):
            raise ValueError("read_bufsize must be an int from 16 KiB to 64 MiB")
        if local_address is not None and not isinstance(local_address, str):
            raise TypeError("local_address must be an IP address string or None")
        try:
            import aiohttp
            from multidict import CIMultiDict
            from yarl import URL
        except ImportError:
            raise ImportError(
                "the aiohttp transport needs aiohttp: pip install 'r2async[fast]'"
            ) from None
        # Kept on the instance: the hot path then needs no import statement.
        self._aiohttp: Any = aiohttp
        self._headers_type = CIMultiDict
        self._url_type = URL
        if limits is None:
            from .._config import DEFAULT_LIMITS

            limits = DEFAULT_LIMITS
        self._limits = limits
        self._verify = verify
        self._read_bufsize = read_bufsize
        self._local_address = local_address
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}
        # Whether the protocol holds calls to their deadline (see aiohttp_protocol); set
        # when the session is made.
        self._cheap_timers = False

    def __repr__(self) -> str:
        return f"AiohttpTransport(read_bufsize={self._read_bufsize})"

    def _ssl(self) -> ssl.SSLContext | bool:
        if self._verify is False:
            return False
        if isinstance(self._verify, ssl.SSLContext):
            return self._verify
        from .tls import shared_ssl_context

        context: ssl.SSLContext = shared_ssl_context()
        return context

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this transport is closed; create a new one")
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "the aiohttp transport runs on asyncio only; under trio use the default "
                "transport (R2Client() without transport=)"
            ) from None
        current = self._session
        if current is not None:
            if self._loop is loop:
                return current
            raise RuntimeError(
                "this aiohttp transport was first used in another event loop; create one "
                "R2Client (or transport) per event loop"
            )
        limits = self._limits
        lib = self._aiohttp
        connector = lib.TCPConnector(
            limit=limits.max_connections or 0,
            limit_per_host=0,
            keepalive_timeout=limits.keepalive_expiry
            if limits.keepalive_expiry is not None
            else 3600.0,
            ssl=self._ssl(),
            local_addr=(self._local_address, 0) if self._local_address else None,
            # DNS answers are cached by aiohttp (10 s); nothing else to tune for S3.
        )
        # Connections that received bytes nobody asked for are closed, not reused.
        from .aiohttp_protocol import cheap_timers, install

        install(connector)
        self._cheap_timers = cheap_timers(loop)
        session: aiohttp.ClientSession = lib.ClientSession(
            connector=connector,
            cookie_jar=lib.DummyCookieJar(),
            skip_auto_headers=_SKIP_AUTO_HEADERS,
            auto_decompress=False,
            read_bufsize=self._read_bufsize,
            requote_redirect_url=False,
            trust_env=False,
            timeout=lib.ClientTimeout(total=None),
        )
        # aiohttp silently sends an "idempotent" request (PUT and DELETE included) a second
        # time when the connection drops before the answer. r2async decides what is repeated
        # (a conditional PUT whose answer was lost must not be: the repeat would see its own
        # write and answer 412), as the default transport does; no public switch exists.
        if hasattr(session, "_retry_connection"):
            session._retry_connection = False
        self._session = session
        self._loop = loop
        return session

    def _timeout(self, extension: Any, deadline: float | None) -> aiohttp.ClientTimeout:
        if not isinstance(extension, dict):
            extension = {}
        connect = extension.get("connect")
        pool = extension.get("pool")
        read = extension.get("read")
        budget = None if connect is None or pool is None else connect + pool
        total = cut = None
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise httpx.ReadTimeout("the call's deadline passed")
            # Rounded up to 0.1 s so that the timeouts stay few and cached (aiohttp rounds
            # longer ones to whole seconds); up, so that a timer that fires means the
            # deadline has passed, not a retryable timeout just before it.
            left = math.ceil(left * 10) / 10
            if not self._cheap_timers:
                # aiohttp's total timeout bounds the whole exchange, its body included
                # until released.
                total = left
            elif budget is None or budget > left or (connect is not None and connect > left):
                # The protocol holds the exchange to the deadline once a connection is lent
                # (see aiohttp_protocol); before that, the connect timers, cut to the time
                # left (only near the deadline, or without a connect timeout).
                cut = left
        key = (connect, pool, read, total, cut)
        timeout = self._timeouts.get(key)
        if timeout is None:
            if cut is not None:
                budget = cut if budget is None else min(budget, cut)
                connect = cut if connect is None else min(connect, cut)
            timeout = self._aiohttp.ClientTimeout(
                total=total, connect=budget, sock_connect=connect, sock_read=read
            )
            if len(self._timeouts) >= _TIMEOUT_CACHE_SIZE:
                self._timeouts.clear()
            self._timeouts[key] = timeout
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return the response with its body still unread.

        Args:
            request: the request to send, exactly as it should go on the wire.
        """
        session = self._open()
        data: Any
        try:
            data = request.content or None
            if data is not None and len(data) > _WHOLE_BODY_LIMIT:
                # aiohttp would write it in one call (and warn); in slices it is sent under
                # flow control, without a copy.
                data = _Slices(data)
        except httpx.RequestNotRead:
            # A streamed body: aiohttp iterates it. httpx marks a stream without a length
            # as chunked; aiohttp decides that itself from Content-Length.
            data = request.stream
        headers = self._headers_type(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw
        )
        if data is not None and "content-length" in headers:
            headers.popall("transfer-encoding", None)
        # encoded=True: the path and query are sent byte for byte as httpx holds them.
        target = request.url
        url = self._url_type(
            f"{target.scheme}://{target.netloc.decode('ascii')}{target.raw_path.decode('ascii')}",
            encoded=True,
        )
        extensions = request.extensions
        deadline = extensions.get(DEADLINE)
        timeout = self._timeout(extensions.get("timeout"), deadline)
        # Read by the protocol when the request is set up on its connection, in this task.
        token = _DEADLINE.set(deadline)
        try:
            response = await session.request(
                request.method,
                url,
                headers=headers,
                data=data,
                allow_redirects=False,
                timeout=timeout,
                server_hostname=_sni(request),
            )
        except Exception as exc:
            _reraise(exc)
        finally:
            _DEADLINE.reset(token)
        answer = httpx.Response(
            status_code=response.status,
            stream=_ResponseStream(response, self._loop),
            request=request,
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
            },
        )
        # aiohttp's own parse of the headers answers the lookups (see aiohttp_headers).
        answer.headers = response_headers(response.raw_headers, response.headers)
        return answer

    async def aclose(self) -> None:
        """Close the connection pool (safe to call more than once)."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()


class _Slices:
    """An in-memory body as an async iterator of memoryview slices (no copies)."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._at = 0

    def __aiter__(self) -> _Slices:
        return self

    async def __anext__(self) -> memoryview:
        start = self._at
        if start >= len(self._view):
            raise StopAsyncIteration
        self._at = start + _WHOLE_BODY_LIMIT
        return self._view[start : self._at]


def _sni(request: httpx.Request) -> str | None:
    value = request.extensions.get("sni_hostname")
    if isinstance(value, bytes):
        return value.decode("ascii")
    return value if isinstance(value, str) else None


class _ResponseStream(httpx.AsyncByteStream):
    """The response body: aiohttp's received chunks as they are (no joins, no copies)."""

    __slots__ = ("_loop", "_response")

    def __init__(
        self, response: aiohttp.ClientResponse, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        self._response = response
        self._loop = loop

    def __del__(self) -> None:
        # Garbage-collected unclosed. aiohttp's own finaliser does not help here: until its
        # body has fully arrived, the response stays reachable from its connection's
        # protocol (the payload's end-of-body callback) and is never collected, so the
        # connection would stay lent forever. Close it (mid-body: never reused), on the
        # event loop, as this may run in any thread.
        response = self._response
        loop = self._loop
        if loop is None or response.closed:
            return
        try:
            loop.call_soon_threadsafe(response.close)
        except RuntimeError:  # the event loop is closed, and the connection with it
            return
        if sys.flags.dev_mode or loop.get_debug():
            warnings.warn(
                "unclosed r2async response body: its connection was closed when the "
                "response was garbage-collected; close responses and streams (async with, "
                "or aclose()) when done",
                ResourceWarning,
                source=self,
                stacklevel=1,
            )

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        try:
            while True:
                chunk, end_of_http_chunk = await content.readchunk()
                if chunk:
                    yield chunk
                elif not end_of_http_chunk or content.at_eof():
                    # readchunk's end-of-body signal is (b"", False); but bodiless answers
                    # (HEAD, 204, 304) share one empty reader that says (b"", True) forever
                    # once read, so the end is also when the reader says it is at its end.
                    break
        except Exception as exc:
            _reraise(exc)

    async def aclose(self) -> None:
        # A body read to its end returns the connection to the pool; otherwise aiohttp
        # closes the connection.
        self._response.release()


def _body_error(exc: BaseException) -> BaseException | None:
    # aiohttp writes the request body in a task of its own and wraps what the body's
    # iterator raised in a ClientConnectionError: hand back the original.
    import aiohttp

    cause = exc.__cause__
    if (
        isinstance(exc, aiohttp.ClientConnectionError)
        and cause is not None
        and not isinstance(cause, (aiohttp.ClientError, OSError, asyncio.TimeoutError))
    ):
        return cause
    return None


def _reraise(exc: Exception) -> NoReturn:
    """Raise the httpx exception for an aiohttp (or asyncio) failure, caused by the original.

    Anything else (a cancellation, a bug) propagates unchanged.
    """
    original = _body_error(exc)
    if original is not None:
        raise original
    _scrub_request_info(exc)
    mapped = _mapped(exc)
    if mapped is None:
        raise exc
    raise mapped from exc


def _scrub_request_info(exc: Exception) -> None:
    # aiohttp's ClientResponseError (a malformed answer, say) carries the request's headers,
    # Authorization and the session token included, in request_info and in args; it is
    # chained as the cause, so it keeps them redacted.
    info = getattr(exc, "request_info", None)
    headers = getattr(info, "headers", None)
    if info is None or headers is None:
        return
    from multidict import CIMultiDict, CIMultiDictProxy

    from .._logging import redact_headers

    try:
        safe = info._replace(headers=CIMultiDictProxy(CIMultiDict(redact_headers(headers.items()))))
        exc.request_info = safe  # type: ignore[attr-defined]
        exc.args = tuple(safe if arg is info else arg for arg in exc.args)
    except Exception:  # an aiohttp whose RequestInfo differs: drop it rather than keep it
        exc.request_info = None  # type: ignore[attr-defined]
        exc.args = tuple(arg for arg in exc.args if arg is not info)


def _mapped(exc: Exception) -> Exception | None:
    import aiohttp

    try:
        message = str(exc) or type(exc).__name__
    except Exception:  # some aiohttp errors format attributes that may be missing
        message = type(exc).__name__
    mapped: type[Exception]
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        mapped = httpx.ConnectTimeout
    elif isinstance(exc, asyncio.TimeoutError):
        # aiohttp's SocketTimeoutError (sock_read) and any other timer it runs.
        mapped = httpx.ReadTimeout
    elif isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ServerFingerprintMismatch)):
        mapped = httpx.ConnectError
    elif isinstance(exc, aiohttp.ServerDisconnectedError):
        mapped = httpx.RemoteProtocolError
    elif isinstance(exc, aiohttp.ClientPayloadError):
        mapped = httpx.ReadError
    elif isinstance(exc, (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)):
        mapped = httpx.UnsupportedProtocol
    elif isinstance(exc, aiohttp.ClientResponseError):
        # A malformed status line or headers.
        mapped = httpx.RemoteProtocolError
    elif isinstance(exc, (aiohttp.ClientConnectionError, OSError)):
        mapped = httpx.ReadError
    elif isinstance(exc, aiohttp.ClientError):
        mapped = httpx.TransportError
    else:
        return None
    return mapped(message)
