"""The client core: construction, options views, closing, and the one send loop."""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import httpx

from . import _retry, _xml
from ._auth import SigV4Auth, build_url
from ._body import StreamLengthError
from ._config import DEFAULT_LIMITS, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, REGION, Settings, resolve
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ResponseParseError,
    default_code,
    status_error_class,
)
from ._headers import (
    HeaderMap,
    check_headers,
    check_operation_headers,
    merge_call_headers,
    request_id,
)
from ._logging import log_attempt, logger, redact_headers
from ._retry import is_retryable, is_retryable_transport
from ._sigv4 import UNSIGNED_HEADERS, encode_key, uri_encode
from ._spec import RequestSpec

if TYPE_CHECKING:
    from typing_extensions import Self

TimeoutTypes = float | int | httpx.Timeout | None
TransportChoice = Literal["httpx", "aiohttp"]
_TRANSPORTS = ("httpx", "aiohttp")
_Self = TypeVar("_Self", bound="_ClientBase")

# Error bodies are small XML documents; never buffer an unbounded one.
_MAX_ERROR_BODY = 1024 * 1024
_EMPTY_STREAM = httpx.ByteStream(b"")
_httpx_logger = logging.getLogger("httpx")


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of a request body (the signed payload hash)."""
    return hashlib.sha256(data).hexdigest()


# In-memory request bodies larger than this are sent in slices of this size.
_SLICE = 1024 * 1024


class _Unset:
    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Any = _Unset()

_SSL_CONTEXT: Any = None


def _shared_ssl_context() -> Any:
    # Building an SSL context costs 50-90 ms; one per process serves every client.
    global _SSL_CONTEXT
    if _SSL_CONTEXT is None:
        _SSL_CONTEXT = httpx.create_ssl_context()
    return _SSL_CONTEXT


def to_timeout(value: TimeoutTypes, *, name: str = "timeout") -> httpx.Timeout:
    """Normalise a timeout argument: seconds (all phases), an ``httpx.Timeout``, or None (none)."""
    if isinstance(value, httpx.Timeout):
        return value
    if value is None:
        return httpx.Timeout(None)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be seconds (float), an httpx.Timeout, or None")
    if value <= 0:
        raise ValueError(f"{name} must be > 0 seconds (or None for no timeout)")
    return httpx.Timeout(float(value))


def _check_retries(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("max_retries must be an int")
    if not 0 <= value <= 100:
        raise ValueError("max_retries must be between 0 and 100")
    return value


class _Shared:
    """State shared by a client and every ``with_options`` view of it."""

    __slots__ = ("auth", "closed", "endpoint", "gate", "http", "owns_http", "settings", "transport")

    def __init__(
        self,
        settings: Settings,
        http: httpx.AsyncClient | None,
        transport: TransportChoice | httpx.AsyncBaseTransport = "httpx",
    ) -> None:
        self.settings = settings
        self.endpoint = settings.endpoint
        self.auth = SigV4Auth(settings.credentials, region=REGION, service="s3")
        self.http = http
        self.owns_http = http is None
        self.closed = False
        self.gate = _Gate.for_client(http) if http is not None else None
        # What r2async sends through when it owns the pool: a choice until the first
        # request, then the transport itself (requests go to it directly, see _send).
        self.transport: str | httpx.AsyncBaseTransport = transport

    def client(self) -> httpx.AsyncClient:
        if self.closed:
            raise RuntimeError("this R2Client is closed; create a new one")
        if self.http is None:
            # Created on first use so that constructing R2Client costs next to nothing.
            transport = self.transport
            if transport == "aiohttp":
                from ._aiohttp_transport import AiohttpTransport

                transport = AiohttpTransport(limits=DEFAULT_LIMITS)
            elif not isinstance(transport, httpx.AsyncBaseTransport):
                # httpx's transport over r2async's own connection pool: httpcore's costs
                # 40-55% of the CPU of a small request at concurrency 32 (see _pool).
                from ._pool import PoolTransport

                # One SSL context per process (building one costs 50-90 ms), also for
                # http:// endpoints, where httpx would otherwise build one per client.
                transport = PoolTransport()
            self.transport = transport
            # The client is what with_options views share and what aclose closes; requests
            # skip it (see _send).
            self.http = httpx.AsyncClient(
                timeout=DEFAULT_TIMEOUT,
                follow_redirects=False,
                trust_env=False,
                transport=transport,
            )
            # A given httpcore pool needs the queue in front of it (see _Gate); for r2async's
            # pool, which queues in O(1) itself, and for aiohttp's, for_client gives None.
            self.gate = _Gate.for_client(self.http)
        return self.http

    async def aclose(self) -> None:
        if self.http is not None:
            await self.http.aclose()
        elif isinstance(self.transport, httpx.AsyncBaseTransport):
            # Given to R2Client but never used: still r2async's to close.
            await self.transport.aclose()


def _check_transport(transport: object, http_client: httpx.AsyncClient | None) -> None:
    if isinstance(transport, str):
        if transport not in _TRANSPORTS:
            raise ValueError(
                f"transport must be 'httpx', 'aiohttp' or an httpx.AsyncBaseTransport, "
                f"got {transport!r}"
            )
    elif not isinstance(transport, httpx.AsyncBaseTransport):
        raise TypeError(
            "transport must be 'httpx', 'aiohttp' or an httpx.AsyncBaseTransport, got "
            f"{type(transport).__name__}"
        )
    if http_client is not None and transport != "httpx":
        raise ValueError(
            "pass either http_client= or transport=, not both: configure the transport of "
            "your own client with httpx.AsyncClient(transport=...)"
        )
    if transport == "aiohttp":
        import importlib.util

        if importlib.util.find_spec("aiohttp") is None:
            raise ImportError("transport='aiohttp' needs aiohttp: pip install 'r2async[fast]'")


class _Gate:
    """FIFO admission in front of httpx's connection pool: at most ``limit`` requests in it.

    httpcore 1.0's pool rescans every queued request against every connection on each enqueue
    and release (encode/httpcore#1035), so thousands of requests queued inside it cost
    quadratic CPU: 2,000 concurrent puts through a 64-connection pool took minutes. Queued
    here instead, waiting costs O(1), and the pool only ever sees requests it can serve.
    The wait counts against the pool timeout, as httpx's own would.

    Used in front of a pool r2async does not own (``http_client=``, ``transport=``); its own
    pool (``_pool.ConnectionPool``) queues in O(1) by itself.
    """

    __slots__ = ("_sem", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        # Created on first use, inside the running event loop (asyncio or trio).
        self._sem: Any = None

    @classmethod
    def for_client(cls, http: httpx.AsyncClient) -> _Gate | None:
        """A gate sized to a user's client pool; None for r2async's pool or an unknown size."""
        transport = getattr(http, "_transport", None)
        # r2async's pool queues in O(1) itself. Looked up, not imported: a transport cannot be
        # a PoolTransport unless that module is loaded, and importing it costs anyio+httpcore.
        pool_module = sys.modules.get("r2async._pool")
        if pool_module is not None and isinstance(transport, pool_module.PoolTransport):
            return None
        pool = getattr(transport, "_pool", None)
        limit = getattr(pool, "_max_connections", None)
        # httpcore stores "no limit" as sys.maxsize: nothing to queue for then.
        if isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit < 2**31:
            return cls(limit)
        return None

    async def enter(self, timeout: float | None, request: httpx.Request) -> _Permit:
        """Wait for room in the pool (at most ``timeout`` seconds, None for no limit)."""
        import anyio

        sem = self._sem
        if sem is None:
            sem = self._sem = anyio.Semaphore(self.limit)
        try:
            sem.acquire_nowait()
        except anyio.WouldBlock:
            try:
                with anyio.fail_after(timeout):
                    await sem.acquire()
            except TimeoutError:
                raise httpx.PoolTimeout(
                    "timed out waiting for a free connection", request=request
                ) from None
        return _Permit(self)

    def leave(self) -> None:
        self._sem.release()


class _Permit:
    """One request's place in the pool; released exactly once."""

    __slots__ = ("_gate",)

    def __init__(self, gate: _Gate) -> None:
        self._gate: _Gate | None = gate

    def release(self) -> None:
        gate = self._gate
        if gate is not None:
            self._gate = None
            gate.leave()


class _ReleasingStream(httpx.AsyncByteStream):
    """A streamed response body that gives the pool place back when it is closed."""

    def __init__(self, inner: httpx.AsyncByteStream, permit: _Permit) -> None:
        self._inner = inner
        self._permit = permit

    def __aiter__(self) -> AsyncIterator[bytes]:
        # The inner iterator itself: no extra async generator to finalise (trio warns about
        # one left unexhausted when a reader stops early).
        return self._inner.__aiter__()

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._permit.release()


class _ClientBase:
    """Shared machinery of ``R2Client``; the operation methods live in the mixins."""

    _shared: _Shared
    _headers: dict[str, str]
    _operation_headers: dict[str, dict[str, str]]
    _timeout: httpx.Timeout
    _max_retries: int

    def __init__(
        self,
        *,
        account_id: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        jurisdiction: str | None = None,
        endpoint_url: str | None = None,
        headers: HeaderMap | None = None,
        operation_headers: Mapping[str, HeaderMap] | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        transport: TransportChoice | httpx.AsyncBaseTransport = "httpx",
    ) -> None:
        """Create a client. Unset values come from ``R2_*`` environment variables.

        Args:
            account_id: Cloudflare account id (default ``R2_ACCOUNT_ID``).
            access_key_id: R2 access key id (default ``R2_ACCESS_KEY_ID``).
            secret_access_key: R2 secret access key (default ``R2_SECRET_ACCESS_KEY``).
            session_token: temporary-credential token (default ``R2_SESSION_TOKEN``, else none).
            jurisdiction: 'eu', 'fedramp' or 'us' (default ``R2_JURISDICTION``, else none).
            endpoint_url: any S3-compatible endpoint (default ``R2_ENDPOINT_URL``); overrides
                account_id and jurisdiction.
            headers: headers sent (and signed) on every request.
            operation_headers: per S3 operation name, headers sent on every request of it,
                e.g. ``{"PutObject": {"cf-create-bucket-if-missing": "true"}}``.
            timeout: seconds for each phase, an ``httpx.Timeout``, or None (default 60 s,
                connect 10 s).
            max_retries: retries after the first attempt for retryable failures (default 3).
            http_client: your own ``httpx.AsyncClient`` (never closed by r2async); by default
                r2async creates and owns one.
            transport: what r2async's own pool sends with (default "httpx": httpx's own
                transport and httpcore's connections, pooled by r2async in O(1) per request,
                under asyncio or trio); "aiohttp" for the fast transport (asyncio
                only, ``pip install 'r2async[fast]'``, about a third of the CPU per request);
                or an ``httpx.AsyncBaseTransport``, which r2async then closes. Not together
                with http_client.
        """
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise TypeError("http_client must be an httpx.AsyncClient")
        _check_transport(transport, http_client)
        settings = resolve(
            account_id=account_id,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            session_token=session_token,
            jurisdiction=jurisdiction,
            endpoint_url=endpoint_url,
        )
        self._shared = _Shared(settings, http_client, transport)
        self._headers = check_headers(headers, where="headers")
        self._operation_headers = check_operation_headers(operation_headers)
        self._timeout = to_timeout(timeout)
        self._max_retries = _check_retries(max_retries)

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        """The S3 endpoint this client talks to."""
        return str(self._shared.endpoint)

    def with_options(
        self: _Self,
        *,
        headers: HeaderMap | None = None,
        operation_headers: Mapping[str, HeaderMap] | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
    ) -> _Self:
        """A cheap view of this client with other options, sharing its connection pool.

        This is also the per-call form: ``await r2.with_options(max_retries=0).put_object(...)``.

        Args:
            headers: headers added to (and overriding) this client's headers.
            operation_headers: per-operation headers added to this client's.
            timeout: a new timeout (default: keep this client's).
            max_retries: a new retry count (default: keep this client's).
        """
        view = object.__new__(type(self))
        view._shared = self._shared
        view._headers = {**self._headers, **check_headers(headers, where="headers")}
        ops = {op: dict(h) for op, h in self._operation_headers.items()}
        for op, h in check_operation_headers(operation_headers).items():
            ops[op] = {**ops.get(op, {}), **h}
        view._operation_headers = ops
        view._timeout = self._timeout if timeout is NOT_GIVEN else to_timeout(timeout)
        view._max_retries = (
            self._max_retries if max_retries is None else _check_retries(max_retries)
        )
        return view

    async def aclose(self) -> None:
        """Close the connection pool (a user-supplied ``http_client`` is left open)."""
        shared = self._shared
        if shared.closed:
            return
        shared.closed = True
        if shared.owns_http:
            await shared.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        creds = self._shared.settings.credentials
        return (
            f"{type(self).__name__}(endpoint_url={self.endpoint_url!r}, "
            f"access_key_id={creds.access_key_id!r})"
        )

    # -- the send loop -------------------------------------------------------------------------

    def _url(self, spec: RequestSpec) -> httpx.URL:
        # build_url puts the endpoint's own path prefix (if any) in front.
        path = "/"
        if spec.bucket is not None:
            path += spec.bucket
            if spec.key is not None:
                path += "/" + encode_key(spec.key)
        query = "&".join(
            uri_encode(k) if v is None else f"{uri_encode(k)}={uri_encode(v)}"
            for k, v in spec.query
        )
        return build_url(self._shared.endpoint, path, query)

    def _merged_headers(self, spec: RequestSpec, call: HeaderMap | None) -> dict[str, str]:
        # Later wins: typed arguments < client < operation < call; but a header given both as a
        # typed argument and in the same call's headers= must agree.
        merged = dict(spec.headers)
        if self._headers:
            merged.update(self._headers)
        op = self._operation_headers.get(spec.operation)
        if op:
            merged.update(op)
        if call:
            merged.update(merge_call_headers(spec.headers, call))
        return merged

    async def _send(
        self,
        spec: RequestSpec,
        *,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
        stream: bool = False,
    ) -> tuple[httpx.Response, bytes]:
        """Send ``spec`` with retries; return the response and its body (b'' when streaming).

        Each attempt is a fresh ``httpx.Request`` signed afresh. What is retried and how long
        to wait is decided in ``_retry``. Redirects are never followed and a user's
        ``http_client`` auth is not applied (r2async signs). XML bodies are read with a size
        limit; a body cut short raises instead of returning short data.

        Args:
            spec: the built request.
            headers: the call's ``headers=`` (default none).
            timeout: the call's ``timeout=`` (default: the client's).
            stream: leave the body unread and the response open (the caller must close it);
                default False.
        """
        shared = self._shared
        http = shared.client()
        # When r2async owns the pool, requests go straight to the transport: AsyncClient.send
        # would add only auth, redirect, cookie and event-hook machinery that r2async does not
        # use on its own client (about 40% of the client CPU of a small request).
        direct: Any = shared.transport if shared.owns_http else None
        url = self._url(spec)
        merged = self._merged_headers(spec, headers)
        tmo = self._timeout if timeout is NOT_GIVEN else to_timeout(timeout)
        # _send builds the httpx.Request itself, so the client-level timeout would not apply;
        # the per-request extension is what httpx honours.
        extensions = {"timeout": tmo.as_dict()}
        body = spec.body
        if body is not None:
            merged["content-length"] = str(body.length)
            whole = body.content
            if whole is not None and len(whole) > _SLICE:
                # SHA-256 costs ~2-3 ms per MiB: hash a large in-memory body once, in a worker
                # thread (hashlib releases the GIL), so the event loop keeps serving other
                # requests; the signer keeps a precomputed x-amz-content-sha256, retries reuse it.
                from anyio import to_thread

                merged["x-amz-content-sha256"] = await to_thread.run_sync(sha256_hex, whole)
        elif spec.method in ("PUT", "POST"):
            merged["content-length"] = "0"
        # Request event hooks of a user's http_client run after signing: guard the signed parts.
        guard = bool(http.event_hooks["request"])
        gate = shared.gate
        pool_timeout = tmo.pool
        max_retries = self._max_retries
        attempt = 0
        while True:
            content = body.open() if body is not None else None
            request = httpx.Request(
                spec.method, url, headers=merged, content=content, extensions=extensions
            )
            if isinstance(content, bytes) and len(content) > _SLICE:
                # Written whole, a large body is copied into the socket's send buffer at
                # once (about 1 CPU-s per GiB and twice its size in memory); in slices it
                # goes out under flow control. request.content (signed, replayed) stays.
                request.stream = _SlicedBody(content)
            shared.auth.sign(request)
            signed: _SignedHeaders | None = None
            if guard:
                signed = _SignedHeaders(request.headers)
                request.headers = signed
                signed_url = request.url
            started = time.monotonic()
            error: Exception
            status: int | None = None
            retry_headers: Mapping[str, str] | None = None
            try:
                permit = await gate.enter(pool_timeout, request) if gate is not None else None
                try:
                    if direct is not None:
                        try:
                            response = await direct.handle_async_request(request)
                        except httpx.RequestError as exc:
                            exc.request = request  # as AsyncClient.send does
                            raise
                        response.request = request
                        if _httpx_logger.isEnabledFor(logging.INFO):
                            # The line AsyncClient.send would have logged.
                            _httpx_logger.info(
                                'HTTP Request: %s %s "%s %d %s"',
                                request.method,
                                request.url,
                                response.http_version,
                                response.status_code,
                                response.reason_phrase,
                            )
                    else:
                        response = await http.send(
                            request, stream=True, auth=None, follow_redirects=False
                        )
                except BaseException:
                    if permit is not None:
                        permit.release()
                    raise
                response.headers = _indexed(response.headers)
                try:
                    if signed is not None:
                        _check_not_rewritten(request, signed_url, signed)
                    status = response.status_code
                    if 200 <= status < 300 and not (spec.error_in_200 and not stream):
                        if stream:
                            # The open response (and any error raised mid-body) keeps the
                            # request reachable for as long as the caller streams.
                            _scrub(request)
                            data = b""
                        else:
                            data = await _read(response, spec)
                        self._log(spec, attempt, status, started)
                        return response, data
                    if 200 <= status < 300:
                        data = await _read(response, spec)
                        if not _xml.is_error_document(data):
                            self._log(spec, attempt, status, started)
                            return response, data
                    else:
                        data = await _read_limited(response, _MAX_ERROR_BODY)
                finally:
                    if not (stream and status is not None and 200 <= status < 300):
                        try:
                            await response.aclose()
                        finally:
                            if permit is not None:
                                permit.release()
                        # httpx keeps Response <-> BoundAsyncStream in a reference cycle, and the
                        # response holds the request and its body (an 8 MiB part, say) until the
                        # cyclic GC runs; breaking the cycle frees it as soon as we are done.
                        response.stream = _EMPTY_STREAM
                    elif permit is not None:
                        # Streaming: the connection stays busy until the caller closes the body.
                        assert isinstance(response.stream, httpx.AsyncByteStream)
                        response.stream = _ReleasingStream(response.stream, permit)
                error = self._status_error(spec, response, data)
                retry_headers = response.headers
                retryable = is_retryable(error.status_code, error.code)
            except StreamLengthError:
                raise
            except httpx.TimeoutException as exc:
                _scrub(request)
                error = APITimeoutError(
                    f"{spec.operation}: request timed out ({_describe_timeout(exc, tmo)})",
                    method=spec.method,
                    url=_safe_url(url),
                )
                error.__cause__ = exc
                retryable = is_retryable_transport(exc, idempotent=spec.idempotent)
            except httpx.TransportError as exc:
                _scrub(request)
                error = APIConnectionError(
                    f"{spec.operation}: connection failed ({_describe(exc)})",
                    method=spec.method,
                    url=_safe_url(url),
                )
                error.__cause__ = exc
                retryable = is_retryable_transport(exc, idempotent=spec.idempotent)
            delay: float | None = None
            if retryable and attempt < max_retries:
                if body is not None and not body.replayable:
                    _note(error, f"not retried: {body.why_not_replayable}")
                else:
                    delay = _retry.delay_for(attempt, retry_headers)
                    if delay is None:
                        _note(
                            error,
                            "not retried: the server asked to wait longer than "
                            f"{_retry.MAX_RETRY_AFTER:.0f} s (Retry-After)",
                        )
            elif retryable and attempt:
                _note(error, f"gave up after {attempt + 1} attempts")
            elif (
                not retryable
                and status is None
                and not spec.idempotent
                and not isinstance(error.__cause__, httpx.ConnectError)
            ):
                _note(
                    error,
                    f"not retried: {spec.operation} is not safe to repeat once sent",
                )
            self._log(spec, attempt, status, started, error, delay)
            if delay is None:
                raise error
            await _retry.sleep(delay)
            attempt += 1

    def _status_error(
        self, spec: RequestSpec, response: httpx.Response, data: bytes
    ) -> APIStatusError:
        status = response.status_code
        code, message, req_id, host_id = _xml.parse_error(data)
        if code is None and status == 404 and spec.not_found is not None:
            cls: type[APIStatusError] = spec.not_found
            code = {"NoSuchKeyError": "NoSuchKey", "NoSuchBucketError": "NoSuchBucket"}.get(
                cls.__name__, "NotFound"
            )
            message = message or "Not Found (a HEAD response has no body to say more)"
        else:
            if code is None:
                code = default_code(status)
            cls = status_error_class(status, code)
        if 200 <= status < 300:
            # A 200 carrying <Error>: the code decides the class; treat it as a server error.
            cls = status_error_class(500, code)
        return cls(
            message or response.reason_phrase or "error",
            status_code=status,
            code=code,
            request_id=req_id or request_id(response.headers),
            host_id=host_id or response.headers.get("x-amz-id-2"),
            bucket=spec.bucket,
            key=spec.key,
            operation=spec.operation,
            headers=response.headers,
        )

    def _log(
        self,
        spec: RequestSpec,
        attempt: int,
        status: int | None,
        started: float,
        error: Exception | None = None,
        retry_in: float | None = None,
    ) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            log_attempt(
                operation=spec.operation,
                method=spec.method,
                bucket=spec.bucket,
                key=spec.key,
                attempt=attempt + 1,
                status=status,
                duration=time.monotonic() - started,
                error=error,
                code=error.code if isinstance(error, APIStatusError) else None,
                retry_in=retry_in,
            )


def _note(error: Exception, note: str) -> None:
    if isinstance(error, APIStatusError):
        error.retry_note = note
        error.args = (error._render(),)
    elif isinstance(error, APIConnectionError):
        error.message = f"{error.message} ({note})"
        error.args = (error.message,)


def _scrub(request: httpx.Request) -> None:
    # The failed request stays reachable from the chained httpx exception (``exc.request``),
    # and httpx's Headers repr masks Authorization but not the session token: drop both.
    request.headers = httpx.Headers(redact_headers(request.headers.multi_items()))


_TIMEOUT_PHASES = {
    httpx.ConnectTimeout: "connect",
    httpx.ReadTimeout: "read",
    httpx.WriteTimeout: "write",
    httpx.PoolTimeout: "pool",
}


def _describe_timeout(exc: httpx.TimeoutException, timeout: httpx.Timeout) -> str:
    phase = _TIMEOUT_PHASES.get(type(exc))
    if phase is None:
        return type(exc).__name__
    limit = getattr(timeout, phase)
    return (
        f"{type(exc).__name__}: no progress within the {phase} timeout of {limit} s; "
        f"pass timeout=httpx.Timeout(..., {phase}=...) to allow longer"
    )


def _describe(exc: BaseException) -> str:
    # httpx leaves some messages empty (a reset surfaces as a bare ReadError).
    text = str(exc)
    if text:
        return f"{type(exc).__name__}: {text}"
    return f"{type(exc).__name__}, no detail given: typically a connection reset"


def _safe_url(url: httpx.URL) -> str:
    # Never echo a query string into errors: a presigned one would carry a signature.
    return str(url.copy_with(query=None))


async def _read(response: httpx.Response, spec: RequestSpec) -> bytes:
    if spec.method == "HEAD":
        # No body, whatever Content-Length says: there it is the object's size (a HEAD of a
        # 64 MiB object must not trip the XML size limit below).
        await response.aclose()
        return b""
    if spec.raw_body:
        # Object data: the stored bytes exactly, no content decoding. h11 raises if the
        # connection closes before Content-Length bytes arrived.
        chunks = [chunk async for chunk in response.aiter_raw()]
        return b"".join(chunks)
    # An XML answer: bounded, so a hostile or broken server cannot exhaust memory (the limit
    # also applies after decompression).
    limit = _xml.MAX_XML_BYTES
    what = f"{spec.operation} response"
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ResponseParseError(
            f"{what}: body of {declared} bytes exceeds the {limit}-byte XML limit"
        )
    buf = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            buf += chunk
            if len(buf) > limit:
                raise ResponseParseError(f"{what}: body exceeds the {limit}-byte XML limit")
    except httpx.DecodingError as exc:
        raise ResponseParseError(f"{what}: undecodable body ({exc})") from None
    return bytes(buf)


async def _read_limited(response: httpx.Response, limit: int) -> bytes:
    # Error bodies are small documents: keep the first ``limit`` bytes and drop the rest.
    buf = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            buf += chunk
            if len(buf) > limit:
                break
    except httpx.DecodingError:
        return b""
    return bytes(buf[:limit])


class _SignedHeaders(httpx.Headers):
    """Request headers after signing: refuses changes that would break the signature.

    Installed only when a user's ``http_client`` has request event hooks, which httpx runs
    after r2async has signed. Headers the signer leaves unsigned (``traceparent``,
    ``user-agent``...) may still be set by a hook; the rest may not.
    """

    def __setitem__(self, key: str, value: str) -> None:
        _refuse_signed_change(key)
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        _refuse_signed_change(key)
        super().__delitem__(key)

    def update(self, headers: Any = None) -> None:  # type: ignore[override]
        for key in httpx.Headers(headers):
            _refuse_signed_change(key)
        super().update(headers)


_HOOK_FIX = (
    "r2async signs the request before httpx runs event hooks, so the signature would no "
    "longer match; pass headers with R2Client(headers=...), with_options(headers=...) or the "
    "call's headers=, which are signed"
)


def _refuse_signed_change(key: str) -> None:
    name = key.lower()
    if name == "authorization" or name not in UNSIGNED_HEADERS:
        raise RuntimeError(
            f"a request event hook on http_client tried to change header {name!r}; {_HOOK_FIX}"
        )


def _check_not_rewritten(request: httpx.Request, url: httpx.URL, signed: _SignedHeaders) -> None:
    # A hook that replaced request.headers or request.url wholesale bypassed _SignedHeaders;
    # the request has gone out already, but its answer must not be taken for the intended one.
    if request.headers is signed and request.url is url:
        return
    before = [(k, v) for k, v in signed.multi_items() if k not in UNSIGNED_HEADERS]
    after = [(k, v) for k, v in request.headers.multi_items() if k not in UNSIGNED_HEADERS]
    same_auth = request.headers.get("authorization") == signed.get("authorization")
    moved = (request.url.scheme, request.url.netloc, request.url.raw_path) != (
        url.scheme,
        url.netloc,
        url.raw_path,
    )
    if before != after or not same_auth or moved:
        raise RuntimeError(f"a request event hook on http_client rewrote the request; {_HOOK_FIX}")


class _IndexedHeaders(httpx.Headers):
    """Response headers whose lookups cost a dict lookup.

    Result parsers read 10 to 25 headers of every response, and each lookup in an
    ``httpx.Headers`` scans and decodes its whole list (1-2 us apiece): indexing once costs
    less than three lookups. The parsed list is shared with the original, not copied; any
    change drops the index. Lookups answer exactly as ``httpx.Headers`` does (case-insensitive,
    repeated headers joined with ", ").
    """

    _index: dict[str, str] | None

    def _lookup(self) -> dict[str, str]:
        index = self._index
        if index is None:
            index = {}
            encoding = self.encoding
            for raw_name, raw_value in self.raw:
                name = raw_name.decode(encoding).lower()
                value = raw_value.decode(encoding)
                index[name] = f"{index[name]}, {value}" if name in index else value
            self._index = index
        return index

    def __getitem__(self, key: str) -> str:
        try:
            return (self._index or self._lookup())[key.lower()]
        except KeyError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        return (self._index or self._lookup()).get(key.lower(), default)

    def __contains__(self, key: Any) -> bool:
        return isinstance(key, str) and key.lower() in (self._index or self._lookup())

    # Changes drop the index after the fact: httpx's own methods may look up (and so
    # re-index) part-way through.
    def __setitem__(self, key: str, value: str) -> None:
        try:
            super().__setitem__(key, value)
        finally:
            self._index = None

    def __delitem__(self, key: str) -> None:
        try:
            super().__delitem__(key)
        finally:
            self._index = None

    def update(self, headers: Any = None) -> None:  # type: ignore[override]
        try:
            super().update(headers)
        finally:
            self._index = None


_INDEXABLE: bool | None = None


def _indexable() -> bool:
    """Whether ``httpx.Headers`` keeps its state where _indexed() can share it (checked once)."""
    global _INDEXABLE
    if _INDEXABLE is None:
        try:
            plain = httpx.Headers([("A", "1"), ("a", "2"), ("B-C", "x")])
            fast = _share(plain)
            _INDEXABLE = (
                fast.raw == plain.raw
                and fast["a"] == plain["a"] == "1, 2"
                and fast.get("b-c") == "x"
                and "B-c" in fast
                and fast.get("missing") is None
                and dict(fast.items()) == dict(plain.items())
            )
        except Exception:
            _INDEXABLE = False
    return _INDEXABLE


def _share(headers: httpx.Headers) -> _IndexedHeaders:
    indexed = _IndexedHeaders.__new__(_IndexedHeaders)
    indexed.__dict__.update(headers.__dict__)
    indexed._index = None
    return indexed


def _indexed(headers: httpx.Headers) -> httpx.Headers:
    """``headers`` with indexed lookups, or as they are if this httpx keeps them otherwise."""
    if type(headers) is not httpx.Headers or not _indexable():
        return headers
    return _share(headers)


class _SlicedBody(httpx.AsyncByteStream, httpx.SyncByteStream):
    """An in-memory request body as memoryview slices of ``_SLICE`` bytes (no copies).

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
        self._at = start + _SLICE
        # A memoryview, typed as the bytes httpx expects: h11 and aiohttp take any buffer.
        return self._view[start : self._at]  # type: ignore[return-value]

    async def __anext__(self) -> bytes:
        try:
            return self.__next__()
        except StopIteration:
            raise StopAsyncIteration from None
