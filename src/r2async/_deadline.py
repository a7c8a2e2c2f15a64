"""A call's overall deadline: the error that reports it, and its hold on a streamed body.

The per-phase timeouts (``timeout=``) bound one connect, one read or one write at a time; a
server that drips bytes, or sends interim responses forever, passes every one of them. The
deadline (``R2Client(deadline=)``, ``with_options(deadline=)``) bounds the whole call: every
attempt, the waits between them, and a streamed body until it is closed. ``_send`` puts it
on each request as the ``r2async.deadline`` extension; r2async's own transports enforce it on
every wire operation (``_transports.call_guard`` for the pool, aiohttp's total timeout), and
for any other transport ``_send`` runs each attempt (and each read of a streamed body) in a
cancel scope instead.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx

from ._exceptions import DeadlineExceededError
from ._response import safe_url
from ._transports.body_reads import ReadInto, find_reader

# Timers may fire a hair before the instant they were set for.
SLACK = 0.005


def passed(deadline_at: float) -> bool:
    """Whether the ``time.monotonic()`` instant ``deadline_at`` has (about) been reached."""
    return time.monotonic() >= deadline_at - SLACK


def deadline_error(
    operation: str, method: str, url: httpx.URL, deadline: float, received: int | None = None
) -> DeadlineExceededError:
    """The error for a call whose deadline passed (``received``: body bytes read by then)."""
    progress = "" if received is None else f" after {received} body bytes"
    return DeadlineExceededError(
        f"{operation}: the call's deadline of {deadline:g} s passed{progress}; pass "
        "deadline= (seconds, or None for none) to R2Client or with_options to allow longer",
        method=method,
        url=safe_url(url),
    )


class DeadlineStream(httpx.AsyncByteStream):
    """A streamed response body held to its call's deadline until it is closed."""

    def __init__(
        self,
        inner: httpx.AsyncByteStream,
        *,
        operation: str,
        method: str,
        url: httpx.URL,
        deadline: float,
        deadline_at: float,
        enforce: bool,
    ) -> None:
        """Wrap ``inner``.

        Args:
            inner: the response body.
            operation: the S3 operation, for the error.
            method: the HTTP method, for the error.
            url: the request URL, for the error (its query is dropped).
            deadline: the call's deadline in seconds, for the error.
            deadline_at: the ``time.monotonic()`` instant it passes.
            enforce: bound each read here (the transport does not enforce the deadline).
        """
        self._inner = inner
        self._iter: AsyncIterator[bytes] | None = None
        self._operation = operation
        self._method = method
        self._url = url
        self._deadline = deadline
        self._at = deadline_at
        self._enforce = enforce
        self._received = 0

    def __aiter__(self) -> DeadlineStream:
        # An iterator, not an async generator: nothing to finalise if a reader stops early.
        self._iter = self._inner.__aiter__()
        return self

    async def __anext__(self) -> bytes:
        assert self._iter is not None
        try:
            if self._enforce:
                import anyio

                with anyio.fail_after(max(0.0, self._at - time.monotonic())):
                    chunk = await self._iter.__anext__()
            else:
                chunk = await self._iter.__anext__()
        except (httpx.TimeoutException, TimeoutError) as exc:
            if passed(self._at):
                raise deadline_error(
                    self._operation, self._method, self._url, self._deadline, self._received
                ) from exc
            raise
        self._received += len(chunk)
        return chunk

    def direct_reader(self, request: httpx.Request) -> ReadInto | None:
        """The inner body's reader into a buffer (``body_reads``), held to the deadline.

        None when this stream bounds each read itself (a transport that does not enforce
        the deadline): such a transport places no bytes in a caller's buffer anyway.

        Args:
            request: the request the body answers.
        """
        if self._enforce:
            return None
        inner = find_reader(self._inner, request)
        if inner is None:
            return None

        async def readinto(buffer: memoryview) -> int:
            try:
                n = await inner(buffer)
            except httpx.TimeoutException as exc:
                if passed(self._at):
                    raise deadline_error(
                        self._operation, self._method, self._url, self._deadline, self._received
                    ) from exc
                raise
            self._received += n
            return n

        return readinto

    async def aclose(self) -> None:
        await self._inner.aclose()
