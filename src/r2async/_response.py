"""Reading a response and turning a failed one into a typed error.

Bodies are read with bounds (XML answers and error documents are small; object data is read
exactly, undecoded), error documents become the typed exception of their status and code, and
what is attached to an error (URL, chained httpx request) never carries a secret.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import httpx

from . import _xml
from ._collect import BodyBuffer
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    ResponseParseError,
    ResponseTooLargeError,
    default_code,
    status_error_class,
)
from ._headers import request_id
from ._logging import redact_headers
from ._spec import RequestSpec

# Error bodies are small XML documents; never buffer an unbounded one.
MAX_ERROR_BODY = 1024 * 1024


async def read_body(response: httpx.Response, spec: RequestSpec) -> bytes:
    """The whole body of a successful response: object bytes exactly, XML within its limit.

    Args:
        response: the open response (closed by the caller).
        spec: the request it answers (HEAD, raw object data or XML).
    """
    if spec.method == "HEAD":
        # No body, whatever Content-Length says: there it is the object's size (a HEAD of a
        # 64 MiB object must not trip the XML size limit below).
        await response.aclose()
        return b""
    if spec.raw_body:
        if spec.max_body is not None:
            return await _read_capped(response, spec, spec.max_body)
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


async def _read_capped(response: httpx.Response, spec: RequestSpec, cap: int) -> bytes:
    # Object data the caller capped: refused on its declared length before any of it is
    # read, and again as it arrives (a length can be absent, or the body chunked).
    refuse_over_cap(response.headers, spec, cap)
    declared = response.headers.get("content-length")
    size = int(declared) if declared is not None and declared.isdigit() else None
    return await collect_capped(response.aiter_raw(), spec, cap, size)


_CAP_FIX = "raise max_size=, or read it with stream_object()"


def refuse_over_cap(headers: Mapping[str, str], spec: RequestSpec, cap: int) -> None:
    """Raise ``ResponseTooLargeError`` if the declared length is over ``max_size``.

    Args:
        headers: the response headers (``Content-Length``).
        spec: the request (operation and key, for the message).
        cap: the caller's ``max_size``.
    """
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise ResponseTooLargeError(
            f"{spec.operation}: the body of {spec.key!r} is {declared} bytes (Content-Length), "
            f"over max_size={cap}; {_CAP_FIX}"
        )


async def collect_capped(
    chunks: AsyncIterator[bytes], spec: RequestSpec, cap: int, declared: int | None = None
) -> bytes:
    """The whole body from ``chunks``, raising ``ResponseTooLargeError`` past ``cap`` bytes.

    Args:
        chunks: the body's chunks.
        spec: the request (operation and key, for the message).
        cap: the caller's ``max_size``.
        declared: the body's declared length, to size the buffer (never above ``cap``).
    """
    out = BodyBuffer(declared, cap)
    async for chunk in chunks:
        if out.received + len(chunk) > cap:
            raise ResponseTooLargeError(
                f"{spec.operation}: the body of {spec.key!r} exceeded max_size={cap} bytes; "
                f"{_CAP_FIX}"
            )
        out.add(chunk)
    return out.value()


async def read_error_body(response: httpx.Response, limit: int = MAX_ERROR_BODY) -> bytes:
    """At most ``limit`` bytes of an error response (the rest is dropped).

    Args:
        response: the open error response (closed by the caller).
        limit: bytes kept (default 1 MiB).
    """
    buf = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            buf += chunk
            if len(buf) > limit:
                break
    except httpx.DecodingError:
        return b""
    return bytes(buf[:limit])


async def xml_parser_ready() -> None:
    """Import the XML parser in a worker thread if it is not loaded yet (see _xml.load_parser).

    An error document is parsed right after this: the parser is not imported with r2async, so
    a fresh process's first answer, when it is an error, loads it off the event loop.
    """
    if not _xml.parser_loaded():
        from anyio import to_thread

        await to_thread.run_sync(_xml.load_parser)


def status_error(spec: RequestSpec, response: httpx.Response, data: bytes) -> APIStatusError:
    """The typed exception for a failed response (a non-2xx, or a 2xx carrying ``<Error>``).

    Args:
        spec: the request it answers (operation, bucket, key, the class for a bodiless 404).
        response: the response (status and headers).
        data: its (bounded) body.
    """
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


def add_note(error: Exception, note: str) -> None:
    """Append why a failure was (not) retried to the error's message."""
    if isinstance(error, APIStatusError):
        error.retry_note = note
        error.args = (error._render(),)
    elif isinstance(error, APIConnectionError):
        error.message = f"{error.message} ({note})"
        error.args = (error.message,)


def scrub(request: httpx.Request) -> None:
    """Drop the credentials from a request that stays reachable from a chained exception."""
    # The failed request stays reachable from the chained httpx exception (``exc.request``),
    # and httpx's Headers repr masks Authorization but not the session token: drop both.
    request.headers = httpx.Headers(redact_headers(request.headers.multi_items()))


def detached(exc: BaseException) -> BaseException:
    """A copy of ``exc`` and of its causes, without tracebacks, to chain to a typed error.

    The copies keep each exception's type, message and attributes (``request``, already
    scrubbed, for httpx's), so code that inspects the chain still can; what they drop is
    the frames, whose locals hold the request as it went out (an ``Authorization`` header,
    the session token, an SSE-C key, the bytes written to the socket) and would show in a
    traceback rendered with locals or in an error tracker. An exception that carries the
    request's headers itself (aiohttp's ``request_info``) is replaced by a plain stand-in.

    Args:
        exc: the transport exception (an httpx one, chained to the library's own).
    """
    return _detached(exc, 0)


def _detached(exc: BaseException, depth: int) -> BaseException:
    copy: BaseException
    if getattr(exc, "request_info", None) is not None:
        copy = RuntimeError(f"{type(exc).__name__}: {_safe_str(exc)}")
    elif depth < 8 and _is_group(exc):
        # An exception group (anyio's, under trio): its members are detached as well.
        members = [_detached(inner, depth + 1) for inner in exc.exceptions]  # type: ignore[attr-defined]
        copy = exc.derive(members)  # type: ignore[attr-defined]
    else:
        try:
            # As BaseException pickles: type, args and __dict__, no traceback/cause/context.
            copy = type(exc)(*exc.args)
            copy.__dict__.update(exc.__dict__)
        except Exception:
            copy = RuntimeError(f"{type(exc).__name__}: {_safe_str(exc)}")
    cause = exc.__cause__
    if cause is None and not exc.__suppress_context__:
        cause = exc.__context__
    if cause is not None and depth < 8:  # httpx -> httpcore -> OSError/ssl: short chains
        copy.__cause__ = _detached(cause, depth + 1)
    return copy


def _is_group(exc: BaseException) -> bool:
    # BaseExceptionGroup by duck type: Python 3.10 has only the exceptiongroup backport.
    return isinstance(getattr(exc, "exceptions", None), tuple) and callable(
        getattr(exc, "derive", None)
    )


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return "(no message)"


_TIMEOUT_PHASES = {
    httpx.ConnectTimeout: "connect",
    httpx.ReadTimeout: "read",
    httpx.WriteTimeout: "write",
    httpx.PoolTimeout: "pool",
}


def describe_timeout(exc: httpx.TimeoutException, timeout: httpx.Timeout) -> str:
    """Which timeout fired, its value, and how to allow longer."""
    phase = _TIMEOUT_PHASES.get(type(exc))
    if phase is None:
        return type(exc).__name__
    limit = getattr(timeout, phase)
    return (
        f"{type(exc).__name__}: no progress within the {phase} timeout of {limit} s; "
        f"pass timeout=httpx.Timeout(..., {phase}=...) to allow longer"
    )


def describe(exc: BaseException) -> str:
    """A transport failure in words (httpx leaves some messages empty)."""
    text = str(exc)
    if text:
        return f"{type(exc).__name__}: {text}"
    return f"{type(exc).__name__}, no detail given: typically a connection reset"


def safe_url(url: httpx.URL) -> str:
    """The URL without its query string (a presigned one would carry a signature)."""
    return str(url.copy_with(query=None))
