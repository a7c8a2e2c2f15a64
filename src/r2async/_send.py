"""The one send path: merge headers → sign → send → retry decision → read → typed error → log.

Every operation goes through :func:`send`. Each attempt is a fresh ``httpx.Request`` signed
afresh; what is retried and how long to wait is decided in ``_retry`` (the policy) and
:func:`_retry_delay` (this request: replayable body, attempts left, idempotency). Redirects are
never followed and a user's ``http_client`` auth is not applied (r2async signs). Reading bodies
and mapping failures to typed errors is ``_response``'s job.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from . import _retry, _tracing, _xml
from ._body import StreamLengthError
from ._clock import correct_clock
from ._deadline import DeadlineStream, deadline_error, passed
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    CredentialsError,
    R2Error,
)
from ._headers import HeaderMap, merge_call_headers
from ._logging import RedactedHeaders, log_attempt, logger
from ._options import NOT_GIVEN, TimeoutTypes, to_timeout
from ._request import attempt_request
from ._response import (
    add_note,
    describe,
    describe_timeout,
    detached,
    read_body,
    read_error_body,
    safe_url,
    scrub,
    status_error,
    xml_parser_ready,
)
from ._retry import is_retryable, is_retryable_transport
from ._signing.auth import build_url
from ._signing.hook_guard import GuardedRequest, SignedHeaders, check_not_rewritten
from ._signing.sigv4 import encode_key, uri_encode
from ._spec import RequestSpec
from ._transports import DEADLINE
from ._transports.gate import ReleasingStream
from ._transports.indexed_headers import indexed
from ._transports.sliced_body import SLICE, SlicedBody

if TYPE_CHECKING:
    from ._session import Session
    from ._signing.auth import SigV4Auth
    from ._transports.gate import Permit

_EMPTY_STREAM = httpx.ByteStream(b"")
# Operations whose results are built without a validator (their parsers use _construct): the
# first request of one does not wait for pydantic's plugin look-up (see Session.warm).
NO_VALIDATOR = frozenset({"GetObject", "HeadObject", "PutObject", "DeleteObject"})
_httpx_logger = logging.getLogger("httpx")


class Sender(Protocol):
    """What :func:`send` reads of a client (or a ``with_options`` view of it)."""

    _shared: Session
    _headers: dict[str, str]
    _operation_headers: dict[str, dict[str, str]]
    _timeout: httpx.Timeout
    _max_retries: int
    _deadline: float | None


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of a request body (the signed payload hash)."""
    return hashlib.sha256(data).hexdigest()


async def send(
    client: Sender,
    spec: RequestSpec,
    *,
    headers: HeaderMap | None = None,
    timeout: TimeoutTypes = NOT_GIVEN,
    stream: bool = False,
    read_now: bool = False,
) -> tuple[httpx.Response, bytes]:
    """Send ``spec`` with retries; return the response and its body (b'' when streaming).

    Args:
        client: the client or view whose headers, timeout and retry count apply.
        spec: the built request.
        headers: the call's ``headers=`` (default none).
        timeout: the call's ``timeout=`` (default: the client's).
        stream: leave the body unread and the response open (the caller must close it);
            default False.
        read_now: with ``stream``, the caller reads the whole body at once and scrubs the
            request itself if that fails, so the request is not scrubbed here (default False).
    """
    session = client._shared
    if session.cold:
        # What the request needs loads in a worker thread first (see Session.warm); the first
        # request starts the background loads once answered, so that they neither delay it
        # nor load later on the loop.
        await session.warm(spec.operation not in NO_VALIDATOR)
        if not session.started:
            session.started = True
            try:
                return await send(
                    client,
                    spec,
                    headers=headers,
                    timeout=timeout,
                    stream=stream,
                    read_now=read_now,
                )
            finally:
                from . import _lazy

                _lazy.load_later()
    http = session.client()
    active = _tracing.tracer()
    if active is None:
        return await _attempts(
            client, session, http, spec, headers, timeout, stream, read_now, None
        )
    return await _tracing.traced(
        active,
        spec,
        session.endpoint,
        lambda span: _attempts(
            client, session, http, spec, headers, timeout, stream, read_now, span
        ),
    )


async def _attempts(
    client: Sender,
    session: Session,
    http: httpx.AsyncClient,
    spec: RequestSpec,
    headers: HeaderMap | None,
    timeout: TimeoutTypes,
    stream: bool,
    read_now: bool,
    span: Any,
) -> tuple[httpx.Response, bytes]:
    # The retry loop of send(); ``span`` is the operation's span when tracing (else None).
    # When r2async owns the pool, requests go straight to the transport: AsyncClient.send
    # would add only auth, redirect, cookie and event-hook machinery that r2async does not
    # use on its own client (about 40% of the client CPU of a small request).
    direct: Any = session.transport if session.owns_http else None
    url = request_url(session.endpoint, spec)
    merged = merged_headers(client, spec, headers)
    tmo = client._timeout if timeout is NOT_GIVEN else to_timeout(timeout)
    # send builds the httpx.Request itself, so the client-level timeout would not apply;
    # the per-request extension is what httpx honours.
    extensions: dict[str, Any] = {"timeout": tmo.as_dict()}
    # The call's overall deadline: r2async's transports enforce it on every wire operation
    # (see _deadline); for any other, each attempt runs in a cancel scope.
    deadline = client._deadline
    deadline_at: float | None = None
    scoped = False
    if deadline is not None:
        deadline_at = time.monotonic() + deadline
        extensions[DEADLINE] = deadline_at
        scoped = not session.bounds_calls
    await _frame_body(spec, merged)
    # A conditional write may have been applied by an attempt whose answer was lost; a repeat
    # would then see that write and fail with 412. Not repeated once it may have been sent.
    condition = conditional_write(spec.method, merged)
    repeatable = spec.idempotent and condition is None
    # Request event hooks of a user's http_client run after signing: guard the signed parts.
    guard = bool(http.event_hooks["request"])
    attempt = 0
    clock_corrected = False
    while True:
        started = time.monotonic()
        error: R2Error
        status: int | None = None
        retry_headers: Mapping[str, str] | None = None
        request: httpx.Request | None = None
        try:
            # Static credentials: one signer. A provider's: refreshed ahead of expiry.
            auth = session.auth if session.refresher is None else await session.signer(tmo.read)
            assert auth is not None
            request, signed = _signed_request(auth, spec, url, merged, extensions, guard)
            signed_url = request.url
            if scoped:
                assert deadline_at is not None
                import anyio

                with anyio.fail_after(max(0.0, deadline_at - started)):
                    response, permit = await _exchange(session, http, direct, request, tmo.pool)
                    status = response.status_code
                    answered, data = await _settle(
                        spec, request, response, permit, stream, signed, signed_url, read_now
                    )
            else:
                response, permit = await _exchange(session, http, direct, request, tmo.pool)
                status = response.status_code
                answered, data = await _settle(
                    spec, request, response, permit, stream, signed, signed_url, read_now
                )
            if answered:
                _log(spec, attempt, status, started)
                if stream and deadline_at is not None:
                    response.stream = _held_to_deadline(
                        response, spec, url, deadline, deadline_at, scoped
                    )
                return response, data
            error = status_error(spec, response, data)
            if (
                error.code == "RequestTimeTooSkewed"
                and not clock_corrected
                and (spec.body is None or spec.body.replayable)
                and correct_clock(session, request, response.headers)
            ):
                # Signed again at once with the server's time: not counted as a retry.
                clock_corrected = True
                _log(spec, attempt, status, started, error, 0.0)
                continue
            retry_headers = response.headers
            retryable = is_retryable(error.status_code, error.code)
            if condition is not None and attempt and error.status_code == 412:
                add_note(error, _own_write_note(spec, condition))
        except StreamLengthError:
            raise
        except CredentialsError as exc:
            error, retryable = exc, exc.retryable
        except (httpx.TransportError, TimeoutError) as exc:
            assert request is not None
            if deadline_at is not None and passed(deadline_at):
                assert deadline is not None
                scrub(request)
                late = deadline_error(spec.operation, spec.method, url, deadline)
                _log(spec, attempt, status, started, late)
                # A copy without its traceback: the live one's frames hold the request as sent.
                raise late from detached(exc)
            if not isinstance(exc, httpx.TransportError):
                raise
            error, retryable = _transport_error(spec, url, request, exc, tmo, repeatable)
        delay = _retry_delay(
            spec, error, retryable, attempt, client._max_retries, status, retry_headers, condition
        )
        if (
            delay is not None
            and deadline_at is not None
            and time.monotonic() + delay >= deadline_at
        ):
            add_note(error, f"not retried: the call's deadline of {deadline:g} s would pass first")
            delay = None
        _log(spec, attempt, status, started, error, delay)
        if delay is None:
            raise error
        if span is not None:
            _tracing.retry_event(span, attempt + 1, delay, error)
        await _retry.sleep(delay)
        attempt += 1


def _held_to_deadline(
    response: httpx.Response,
    spec: RequestSpec,
    url: httpx.URL,
    deadline: float | None,
    deadline_at: float,
    scoped: bool,
) -> DeadlineStream:
    # A streamed body stays under the call's deadline until it is closed.
    assert deadline is not None and isinstance(response.stream, httpx.AsyncByteStream)
    return DeadlineStream(
        response.stream,
        operation=spec.operation,
        method=spec.method,
        url=url,
        deadline=deadline,
        deadline_at=deadline_at,
        enforce=scoped,
    )


def request_url(endpoint: httpx.URL, spec: RequestSpec) -> httpx.URL:
    """The request's URL: endpoint (with its own path prefix), bucket, encoded key, query."""
    path = "/"
    if spec.bucket is not None:
        path += spec.bucket
        if spec.key is not None:
            path += "/" + encode_key(spec.key)
    query = "&".join(
        uri_encode(k) if v is None else f"{uri_encode(k)}={uri_encode(v)}" for k, v in spec.query
    )
    return build_url(endpoint, path, query)


def merged_headers(client: Sender, spec: RequestSpec, call: HeaderMap | None) -> dict[str, str]:
    """The headers to sign: typed arguments < client < operation < call (later wins)."""
    # A header given both as a typed argument and in the same call's headers= must agree.
    # RedactedHeaders: this dict is a local of send() for the whole call, and may hold the
    # SSE-C key; a traceback rendered with locals must not show it.
    merged = RedactedHeaders(spec.headers)
    if client._headers:
        merged.update(client._headers)
    op = client._operation_headers.get(spec.operation)
    if op:
        merged.update(op)
    if call:
        merged.update(merge_call_headers(spec.headers, call))
    return merged


async def _frame_body(spec: RequestSpec, merged: dict[str, str]) -> None:
    # R2 needs a Content-Length on every body (no chunked uploads, no streaming signatures).
    body = spec.body
    if body is not None:
        merged["content-length"] = str(body.length)
        whole = body.content
        if whole is not None and len(whole) > SLICE:
            # SHA-256 costs ~2-3 ms per MiB: hash a large in-memory body once, in a worker
            # thread (hashlib releases the GIL), so the event loop keeps serving other
            # requests; the signer keeps a precomputed x-amz-content-sha256, retries reuse it.
            from anyio import to_thread

            merged["x-amz-content-sha256"] = await to_thread.run_sync(sha256_hex, whole)
    elif spec.method in ("PUT", "POST"):
        merged["content-length"] = "0"


def _signed_request(
    auth: SigV4Auth,
    spec: RequestSpec,
    url: httpx.URL,
    merged: dict[str, str],
    extensions: dict[str, Any],
    guard: bool,
) -> tuple[httpx.Request, SignedHeaders | None]:
    # A fresh request per attempt: a fresh body stream and a fresh signature (x-amz-date).
    body = spec.body
    content = body.open() if body is not None else None
    request = attempt_request(spec.method, url, merged, content, extensions, guard)
    if isinstance(content, bytes) and len(content) > SLICE:
        # request.content (signed, replayed) stays; only what goes on the wire is sliced.
        request.stream = SlicedBody(content)
    auth.sign(request)
    signed: SignedHeaders | None = None
    if guard:
        signed = SignedHeaders(request.headers)
        request.headers = signed
    return request, signed


async def _exchange(
    session: Session,
    http: httpx.AsyncClient,
    direct: Any,
    request: httpx.Request,
    pool_timeout: float | None,
) -> tuple[httpx.Response, Permit | None]:
    # Send and return the open response, with its place in the gate (if any) still held.
    gate = session.gate
    permit = await gate.enter(pool_timeout, request) if gate is not None else None
    try:
        if direct is not None:
            try:
                response: httpx.Response = await direct.handle_async_request(request)
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
        elif isinstance(request, GuardedRequest):
            # The user's request hooks run inside send, before the transport: sealed, the
            # request refuses a hook's new URL or headers there, so nothing is sent.
            request.seal()
            try:
                response = await http.send(request, stream=True, auth=None, follow_redirects=False)
            finally:
                request.unseal()
        else:
            response = await http.send(request, stream=True, auth=None, follow_redirects=False)
    except BaseException:
        if permit is not None:
            permit.release()
        raise
    response.headers = indexed(response.headers)
    return response, permit


async def _settle(
    spec: RequestSpec,
    request: httpx.Request,
    response: httpx.Response,
    permit: Permit | None,
    stream: bool,
    signed: SignedHeaders | None,
    signed_url: httpx.URL,
    read_now: bool = False,
) -> tuple[bool, bytes]:
    # (True, body) for the answer; (False, bounded error body) for a failure. The response is
    # closed here unless it is a successful stream, which the caller then owns.
    status: int | None = None
    try:
        if signed is not None:
            check_not_rewritten(request, signed_url, signed)
        status = response.status_code
        if 200 <= status < 300 and not (spec.error_in_200 and not stream):
            if stream:
                if not read_now:
                    # The open response (and any error raised mid-body) keeps the request
                    # reachable for as long as the caller streams. (Scrubbing costs about as
                    # much as signing: a body read at once scrubs only when it fails.)
                    scrub(request)
                return True, b""
            return True, await read_body(response, spec)
        if 200 <= status < 300:
            data = await read_body(response, spec)
            if not _xml.is_error_document(data):
                return True, data
        else:
            data = await read_error_body(response)
        await xml_parser_ready()  # status_error parses the error document next
        return False, data
    finally:
        if not (stream and status is not None and 200 <= status < 300):
            try:
                await response.aclose()
            finally:
                if permit is not None:
                    permit.release()
            # httpx keeps Response <-> BoundAsyncStream in a reference cycle, and the response
            # holds the request and its body (an 8 MiB part, say) until the cyclic GC runs;
            # breaking the cycle frees it as soon as we are done.
            response.stream = _EMPTY_STREAM
        elif permit is not None:
            # Streaming: the connection stays busy until the caller closes the body.
            assert isinstance(response.stream, httpx.AsyncByteStream)
            response.stream = ReleasingStream(response.stream, permit)


def _transport_error(
    spec: RequestSpec,
    url: httpx.URL,
    request: httpx.Request,
    exc: httpx.TransportError,
    timeout: httpx.Timeout,
    repeatable: bool,
) -> tuple[APIConnectionError, bool]:
    # The typed error for a transport failure, and whether it may be retried.
    scrub(request)
    error: APIConnectionError
    if isinstance(exc, httpx.TimeoutException):
        error = APITimeoutError(
            f"{spec.operation}: request timed out ({describe_timeout(exc, timeout)})",
            method=spec.method,
            url=safe_url(url),
        )
    else:
        error = APIConnectionError(
            f"{spec.operation}: connection failed ({describe(exc)})",
            method=spec.method,
            url=safe_url(url),
        )
    # The cause without its frames: the locals of httpcore's, h11's, aiohttp's and asyncio's
    # frames hold the request as sent (Authorization, the session token, an SSE-C key).
    error.__cause__ = detached(exc)
    return error, is_retryable_transport(exc, idempotent=repeatable)


def _retry_delay(
    spec: RequestSpec,
    error: R2Error,
    retryable: bool,
    attempt: int,
    max_retries: int,
    status: int | None,
    retry_headers: Mapping[str, str] | None,
    condition: str | None = None,
) -> float | None:
    # Seconds to wait before the next attempt, or None to raise ``error`` (with a note why).
    # ``condition``: the precondition header of a conditional write, which is not repeated
    # after a transport failure past connecting (retryable is False then).
    body = spec.body
    if retryable and attempt < max_retries:
        if body is not None and not body.replayable:
            add_note(error, f"not retried: {body.why_not_replayable}")
            return None
        delay = _retry.delay_for(
            attempt,
            retry_headers,
            rate_limited_write=spec.method not in ("GET", "HEAD")
            and isinstance(error, APIStatusError)
            and _retry.is_rate_limited(error.status_code, error.code),
        )
        if delay is None:
            add_note(
                error,
                "not retried: the server asked to wait longer than "
                f"{_retry.MAX_RETRY_AFTER:.0f} s (Retry-After)",
            )
        return delay
    if retryable and attempt:
        add_note(error, f"gave up after {attempt + 1} attempts")
    elif (
        not retryable
        and status is None
        and (not spec.idempotent or condition is not None)
        and not isinstance(error.__cause__, httpx.ConnectError)
    ):
        if spec.idempotent and condition is not None:
            add_note(
                error,
                f"not retried: a conditional {spec.operation} ({condition}) is not repeated "
                "once it may have reached the server: it may have been applied, and a repeat "
                "would fail with 412 on its own write; check the object (head_object) to know",
            )
        else:
            add_note(error, f"not retried: {spec.operation} is not safe to repeat once sent")
    return None


# Preconditions on the object a request writes (CopyObject's x-amz-copy-source-if-* test the
# source, which the copy does not change, so repeating the copy is harmless).
_WRITE_CONDITIONS = (
    "if-none-match",
    "if-match",
    "if-unmodified-since",
    "if-modified-since",
    "cf-copy-destination-if-none-match",
    "cf-copy-destination-if-match",
    "cf-copy-destination-if-unmodified-since",
    "cf-copy-destination-if-modified-since",
)


def conditional_write(method: str, headers: Mapping[str, str]) -> str | None:
    """The precondition header (``If-None-Match``...) of a write request, or None.

    Such a request is not repeated once it may have reached the server: if the first attempt
    was applied and only its answer lost, the repeat would fail with 412 on its own write.

    Args:
        method: the HTTP method (reads, GET and HEAD, are never conditional writes).
        headers: the merged request headers, lower-case names.
    """
    if method == "GET" or method == "HEAD":
        return None
    for name in _WRITE_CONDITIONS:
        if name in headers:
            return "-".join(part.capitalize() for part in name.split("-"))
    return None


def _own_write_note(spec: RequestSpec, condition: str) -> str:
    return (
        f"an earlier attempt of this conditional {spec.operation} ({condition}) failed with "
        "an error answer and was retried; if that attempt was applied nevertheless, this 412 "
        "is its own write: check the object (head_object) to know"
    )


def _log(
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
