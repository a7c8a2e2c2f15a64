"""An object body that survives a cut: resumed from the first byte not yet delivered.

A GetObject body that breaks partway (a connection reset, a read timeout, a body cut short)
is continued with a ranged GET of the bytes not yet delivered, pinned to the first response's
ETag with ``If-Match``, so every byte is delivered exactly once and all from one version:

* Where the body sits in the object comes from the first response, never from the request:
  its ``Content-Range`` for a 206 (so a ``range=`` read, a suffix range or a ``part_number=``
  read resumes within what it asked for), its ``Content-Length`` for a 200. Without an ETag
  or a known length nothing can be pinned or completed, and the cut is raised as it is, with
  a note saying why it was not resumed.
* The resumed request is the original one (same typed headers, SSE-C key headers included,
  same ``headers=``, timeout and signing) with its ``Range`` and conditions replaced by
  ``Range: bytes=<next>-<last>`` and ``If-Match: <etag>``, and without ``partNumber`` or
  the checksum mode (the first answer carried the object's checksums).
* Its answer must be a 206 whose ``Content-Range`` is exactly ``<next>-<last>/<size>``, whose
  ``Content-Length`` (if sent) is that many bytes and whose ETag is the same; a 412, or another
  ETag from a server that ignores ``If-Match``, is :class:`ObjectChangedError`, and any other
  mismatch an :class:`IntegrityError`, raised before a byte of it is delivered.
* Budget: the client's ``max_retries`` per body, in all: every resumed request counts, also
  one that fails before its body (a reset, a 503) and is tried again. Waits between them are
  the usual backoff (``_retry.delay_for``: full jitter, ``Retry-After`` honoured). When the
  budget is spent, the last failure is raised with a note of how many resumes were tried.
* Ownership: :class:`ObjectBody` owns its current response. A cut response is closed
  (shielded) before the wait, a resumed one belongs to the body from the line that receives
  it, and ``aclose()`` (shielded) closes whichever is current, so a cancellation at any await
  leaves nothing open.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import httpx

from . import _retry
from ._collect import BodyBuffer
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    IntegrityError,
    ObjectChangedError,
    PreconditionFailedError,
    R2Error,
)
from ._headers import HeaderMap, request_id
from ._response import add_note, describe, detached, safe_url, scrub
from ._send import send
from ._transports.body_reads import body_reader

if TYPE_CHECKING:
    from ._options import TimeoutTypes
    from ._send import Sender
    from ._spec import RequestSpec

_EMPTY = httpx.ByteStream(b"")
# Closing a response: long enough for a clean close, short enough never to hang a caller.
_CLOSE_TIMEOUT = 5.0
# (first byte, last byte inclusive, ETag) -> the open response of a pinned ranged GET.
Reopen = Callable[[int, int, str], Awaitable[httpx.Response]]

_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
# What the original request read and under which conditions: a resumed request replaces
# these with its own Range and If-Match (a leftover If-None-Match or date condition could
# refuse the very version it is pinned to). The checksum mode is not sent again either: the
# whole object's checksums came with the first answer, and a range has none of its own.
_REPLACED = frozenset(
    {
        "range",
        "if-match",
        "if-none-match",
        "if-modified-since",
        "if-unmodified-since",
        "x-amz-checksum-mode",
    }
)


@dataclasses.dataclass(frozen=True, slots=True)
class Span:
    """Where a response body sits in its object, and which version of the object it is."""

    first: int  # offset of the body's first byte in the object
    last: int  # offset of its last byte (inclusive)
    size: int  # the object's size
    etag: str


def span_of(response: httpx.Response) -> Span | str:
    """Where ``response``'s body sits in the object, or why a cut of it cannot be resumed.

    Args:
        response: a successful GetObject response (200 or 206).
    """
    headers = response.headers
    etag = headers.get("etag")
    if not etag:
        return "the response has no ETag to pin a resumed request to"
    length = headers.get("content-length")
    if response.status_code == 206:
        m = _CONTENT_RANGE.fullmatch((headers.get("content-range") or "").strip())
        if m is None:
            return "the response has no usable Content-Range"
        first, last, size = (int(g) for g in m.groups())
        if not first <= last < size:
            return "the response has no usable Content-Range"
    elif response.status_code == 200:
        if length is None or not length.isdigit() or not int(length):
            return "the response has no Content-Length"
        first, last, size = 0, int(length) - 1, int(length)
    else:
        return f"a {response.status_code} response cannot be resumed"
    if length is not None and length != str(last - first + 1):
        return "its Content-Length and Content-Range disagree"
    return Span(first, last, size, etag)


def expected_length(response: httpx.Response) -> int | None:
    """The body length a response declares (``Content-Length``), or None."""
    length = response.headers.get("content-length")
    return int(length) if length is not None and length.isdigit() else None


class ObjectBody:
    """The raw bytes of a GetObject response, continued after a cut; owns its response.

    An async iterator of the stored bytes exactly (no content decoding); a class rather than
    an async generator, so one abandoned mid-body needs no finalising (trio warns otherwise).
    """

    def __init__(
        self,
        response: httpx.Response,
        *,
        reopen: Reopen | None,
        max_resumes: int,
        bucket: str,
        key: str,
    ) -> None:
        """Read ``response``'s body.

        Args:
            response: the open response (owned from now on: ``aclose()`` closes it).
            reopen: sends the pinned ranged GET of a resume; None: never resume.
            max_resumes: how many resumed requests may be sent in all (the client's
                ``max_retries``).
            bucket: the bucket, for error messages.
            key: the key, for error messages.
        """
        self.response = response
        self.received = 0  # bytes handed out so far
        self.resumes = 0  # resumed requests sent so far
        self._chunks: AsyncIterator[bytes] = response.aiter_raw()
        # Places body bytes in a caller's buffer, where the transport can (body_reads).
        self._reader = body_reader(response)
        # Bytes of a chunk that did not fit a readinto buffer.
        self._leftover: memoryview | None = None
        self._first = response
        self._expected = expected_length(response)
        if self._expected is None and response.status_code == 206:
            # A 206 without Content-Length (chunked): its Content-Range says how long it is.
            span = span_of(response)
            if isinstance(span, Span):
                self._expected = span.last - span.first + 1
        self._reopen = reopen
        self._max_resumes = max_resumes
        self._bucket = bucket
        self._key = key

    def __aiter__(self) -> ObjectBody:
        return self

    async def __anext__(self) -> bytes:
        leftover = self._leftover
        if leftover is not None:
            self._leftover = None
            return bytes(leftover)
        # Bounded: each pass returns, raises, or spends at least one resume of the budget.
        for _ in range(self._max_resumes + 2):
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                expected = self._expected
                if expected is None or self.received >= expected:
                    raise
                cut: R2Error = APIConnectionError(
                    f"GetObject: the body of {self._key!r} ended after {self.received} of "
                    f"{expected} bytes",
                    method="GET",
                    url=safe_url(self.response.url),
                )
            except httpx.TransportError as exc:
                cut = self._cut(exc)
            else:
                self.received += len(chunk)
                if self._expected is not None and self.received > self._expected:
                    raise IntegrityError(
                        f"GetObject: received more than the {self._expected} bytes of "
                        f"{self._key!r} its Content-Length declared"
                    )
                return chunk
            await self._resume(cut)
        raise AssertionError("unreachable: the resume budget bounds the passes")

    @property
    def direct_reads(self) -> bool:
        """Whether ``readinto`` has the transport place the bytes (else it copies chunks)."""
        return self._reader is not None

    async def readinto(self, buffer: memoryview) -> int:
        """The next bytes of the body placed in ``buffer`` (at least one; 0 at its end).

        Cuts are resumed as when iterating, and the same checks apply; the bytes come
        straight from the transport where it can place them (``direct_reads``), else from
        the response's chunks, copied (what does not fit is kept for the next call).

        Args:
            buffer: a writable, byte-formatted view, not empty.
        """
        leftover = self._leftover
        if leftover is not None:
            n = min(len(leftover), len(buffer))
            buffer[:n] = leftover[:n]
            self._leftover = leftover[n:] if n < len(leftover) else None
            self.received += n
            return n
        expected = self._expected
        if expected is not None:
            if self.received >= expected:
                await self._end_of_body()
                return 0
            if len(buffer) > expected - self.received:
                buffer = buffer[: expected - self.received]
        # Bounded: each pass returns, raises, or spends at least one resume of the budget.
        for _ in range(self._max_resumes + 2):
            try:
                n = await self._place(buffer)
            except httpx.TransportError as exc:
                cut = self._cut(exc)
            else:
                if n or expected is None or self.received >= expected:
                    self.received += n
                    return n
                cut = APIConnectionError(
                    f"GetObject: the body of {self._key!r} ended after {self.received} of "
                    f"{expected} bytes",
                    method="GET",
                    url=safe_url(self.response.url),
                )
            await self._resume(cut)
        raise AssertionError("unreachable: the resume budget bounds the passes")

    async def _end_of_body(self) -> None:
        # The declared length arrived: the body must end here (the transport then ends the
        # message, and its connection can be reused; for a Content-Length body it already
        # has, without I/O); a byte more is refused.
        reader = self._reader
        try:
            if reader is not None:
                more = await reader(memoryview(bytearray(1)))
            else:
                more = len(await self._chunks.__anext__())
        except (StopAsyncIteration, httpx.TransportError):
            # (A failure past the last byte loses nothing; the connection is not reused.)
            return
        if more:  # httpx yields no empty chunks
            raise IntegrityError(
                f"GetObject: received more than the {self._expected} bytes of {self._key!r} "
                "its Content-Length declared"
            )

    async def _place(self, buffer: memoryview) -> int:
        # One read of the current response into ``buffer``: by the transport, or a chunk
        # copied in (past the declared length refused before a byte of it is kept).
        reader = self._reader
        if reader is not None:
            return await reader(buffer)
        try:
            chunk = await self._chunks.__anext__()
        except StopAsyncIteration:
            return 0
        expected = self._expected
        if expected is not None and self.received + len(chunk) > expected:
            raise IntegrityError(
                f"GetObject: received more than the {expected} bytes of {self._key!r} its "
                "Content-Length declared"
            )
        n = min(len(chunk), len(buffer))
        buffer[:n] = memoryview(chunk)[:n]
        if n < len(chunk):
            self._leftover = memoryview(chunk)[n:]
        return n

    @property
    def remaining(self) -> int | None:
        """The bytes still to come, as declared (None: unknown)."""
        if self._expected is None:
            return None
        return max(0, self._expected - self.received)

    async def read(self) -> bytes:
        """The whole remaining body (in one buffer of the declared size: no join)."""
        remaining = self.remaining
        out = BodyBuffer(remaining)
        if remaining:
            # Placed in the buffer itself (by the transport where it can).
            await out.fill(self.readinto)
        else:
            async for chunk in self:
                out.add(chunk)
        return out.value()

    async def aclose(self) -> None:
        """Close the current response (shielded; safe to call more than once)."""
        response = self.response
        if not response.is_closed:
            import anyio

            # Shielded (a cancelled reader still closes), bounded (a hung close cannot hang it).
            with anyio.CancelScope(shield=True) as scope:
                scope.deadline = anyio.current_time() + _CLOSE_TIMEOUT
                await response.aclose()
        # A response bound to a user's client sits in a reference cycle with its stream;
        # breaking it frees the request as soon as the body is done.
        response.stream = _EMPTY

    def _cut(self, exc: httpx.TransportError) -> APIConnectionError:
        # The chained httpx error holds the request: no credentials may stay in it.
        scrub(self.response.request)
        where = f"after {self.received} bytes of {self._key!r}"
        url = safe_url(self.response.url)
        error: APIConnectionError
        if isinstance(exc, httpx.TimeoutException):
            error = APITimeoutError(f"GetObject: timed out {where}", method="GET", url=url)
        else:
            error = APIConnectionError(
                f"GetObject: connection failed {where} ({describe(exc)})", method="GET", url=url
            )
        # A copy without its traceback: the live error's frames hold the request as sent.
        error.__cause__ = detached(exc)
        return error

    async def _resume(self, cut: R2Error) -> None:
        # Continue with a pinned ranged GET from the first byte not yet handed out, or raise.
        span = span_of(self._first)
        if isinstance(span, str) or self._reopen is None:
            reason = span if isinstance(span, str) else "this read is not resumable"
            add_note(cut, f"not resumed: {reason}")
            raise cut
        start = span.first + self.received
        error: R2Error = cut
        for _ in range(self._max_resumes + 1):  # bounded by the budget
            if self.resumes >= self._max_resumes:
                _budget_note(error, self.resumes, start)
                raise error
            headers = error.headers if isinstance(error, APIStatusError) else None
            delay = _retry.delay_for(self.resumes, headers)
            if delay is None:
                add_note(
                    error,
                    "not resumed: the server asked to wait longer than "
                    f"{_retry.MAX_RETRY_AFTER:.0f} s (Retry-After)",
                )
                raise error
            await self.aclose()  # the cut connection is useless: free it before waiting
            await _retry.sleep(delay)
            self.resumes += 1
            try:
                response = await self._reopen(start, span.last, span.etag)
            except PreconditionFailedError as exc:
                raise self._changed(span, start, exc.status_code, exc.headers) from exc
            except APIStatusError as exc:
                if not _retry.is_retryable(exc.status_code, exc.code):
                    raise
                error = exc
                continue
            except APIConnectionError as exc:
                cause = exc.__cause__
                if isinstance(cause, httpx.TransportError) and not _retry.is_retryable_transport(
                    cause, idempotent=True
                ):
                    raise
                error = exc
                continue
            self.response = response  # owned from here: aclose() closes it
            try:
                etag = response.headers.get("etag")
                if etag and etag != span.etag:  # a server or cache that ignores If-Match
                    raise self._changed(span, start, response.status_code, response.headers, etag)
                _check_resumed(response, span, start, self._key)
            except BaseException:
                await self.aclose()
                raise
            self._chunks = response.aiter_raw()
            self._reader = body_reader(response)
            return
        raise AssertionError("unreachable: the resume budget bounds the attempts")

    def _changed(
        self,
        span: Span,
        start: int,
        status: int,
        headers: HeaderMap | None,
        etag: str | None = None,
    ) -> ObjectChangedError:
        seen = f"it now has ETag {etag}" if etag else f"If-Match {span.etag} failed"
        return ObjectChangedError(
            f"{self._key!r} changed while its body was read: resuming from byte {start}, "
            f"{seen}; no byte of the new version was delivered",
            status_code=status,
            code="PreconditionFailed",
            request_id=request_id(headers) if headers is not None else None,
            bucket=self._bucket,
            key=self._key,
            operation="GetObject",
            headers=headers,
        )


def _budget_note(error: R2Error, resumes: int, start: int) -> None:
    if resumes:
        add_note(error, f"gave up after {resumes} resumes from byte {start}")
    else:
        add_note(error, "not resumed: no retries allowed (max_retries=0)")


def _check_resumed(response: httpx.Response, span: Span, start: int, key: str) -> None:
    # The resumed answer must be exactly the missing bytes of the same version.
    headers = response.headers
    etag = headers.get("etag")
    want = f"bytes {start}-{span.last}/{span.size}"
    got = (headers.get("content-range") or "").strip()
    length = headers.get("content-length")
    if (
        response.status_code != 206
        or got != want
        or not etag
        or (length is not None and length != str(span.last - start + 1))
    ):
        raise IntegrityError(
            f"GetObject: resuming {key!r} asked for {want} but got status "
            f"{response.status_code}, Content-Range {got or None!r}, Content-Length {length!r}, "
            f"ETag {etag!r}"
        )


def _resume_sender(client: Sender) -> Sender:
    # The client's options for a resumed request: no retries of its own (the body's budget
    # counts them), and no client or operation header that would replace its Range or
    # If-Match. A copy, so that every other option of the client (or view) still applies.
    view = copy.copy(client)
    view._headers = _without_replaced(client._headers)
    view._operation_headers = {
        op: _without_replaced(h) for op, h in client._operation_headers.items()
    }
    view._max_retries = 0
    return view


def _without_replaced(headers: HeaderMap) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in _REPLACED}


def resume_spec(spec: RequestSpec, start: int, last: int, etag: str) -> RequestSpec:
    """``spec`` reading bytes ``start``-``last`` of the version ``etag`` only."""
    # A copy of the same mapping type (whatever it does to keep the SSE-C key out of reprs).
    headers = copy.copy(spec.headers)
    for name in [name for name in headers if name in _REPLACED]:
        del headers[name]
    headers["range"] = f"bytes={start}-{last}"
    headers["if-match"] = etag
    query = [(k, v) for k, v in spec.query if k != "partNumber"]
    return dataclasses.replace(spec, headers=headers, query=query)


def reopener(
    client: Sender,
    spec: RequestSpec,
    headers: HeaderMap | None,
    timeout: TimeoutTypes,
) -> Reopen:
    """How to send the resumed requests of the GetObject ``spec`` (built only when needed).

    Args:
        client: the client or view the original request was sent with.
        spec: the original GetObject request.
        headers: the call's ``headers=``.
        timeout: the call's ``timeout=``.
    """

    async def reopen(start: int, last: int, etag: str) -> httpx.Response:
        call = _without_replaced(headers) if headers else None
        response, _ = await send(
            _resume_sender(client),
            resume_spec(spec, start, last, etag),
            headers=call,
            timeout=timeout,
            stream=True,
        )
        return response

    return reopen
