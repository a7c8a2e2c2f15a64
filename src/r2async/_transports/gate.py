"""FIFO admission in front of a connection pool r2async does not own.

httpcore 1.0's pool rescans every queued request against every connection on each enqueue
and release (encode/httpcore#1035), so thousands of requests queued inside it cost quadratic
CPU: 2,000 concurrent puts through a 64-connection pool took minutes. Queued here instead,
waiting costs O(1), and the pool only ever sees requests it can serve. Used in front of a
user's ``http_client=``/``transport=``; r2async's own pool (``pool.ConnectionPool``) queues in
O(1) by itself and needs no gate.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx


class Gate:
    """At most ``limit`` requests inside the pool; the wait counts against the pool timeout."""

    __slots__ = ("_sem", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        # Created on first use, inside the running event loop (asyncio or trio).
        self._sem: Any = None

    @classmethod
    def for_client(cls, http: httpx.AsyncClient) -> Gate | None:
        """A gate sized to a user's client pool; None for r2async's pool or an unknown size."""
        transport = getattr(http, "_transport", None)
        # r2async's pool queues in O(1) itself. Looked up, not imported: a transport cannot be
        # a PoolTransport unless that module is loaded, and importing it costs anyio+httpcore.
        pool_module = sys.modules.get("r2async._transports.pool")
        if pool_module is not None and isinstance(transport, pool_module.PoolTransport):
            return None
        pool = getattr(transport, "_pool", None)
        limit = getattr(pool, "_max_connections", None)
        # httpcore stores "no limit" as sys.maxsize: nothing to queue for then.
        if isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit < 2**31:
            return cls(limit)
        return None

    async def enter(self, timeout: float | None, request: httpx.Request) -> Permit:
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
        return Permit(self)

    def leave(self) -> None:
        self._sem.release()


class Permit:
    """One request's place in the pool; released exactly once."""

    __slots__ = ("_gate",)

    def __init__(self, gate: Gate) -> None:
        self._gate: Gate | None = gate

    def release(self) -> None:
        gate = self._gate
        if gate is not None:
            self._gate = None
            gate.leave()


class ReleasingStream(httpx.AsyncByteStream):
    """A streamed response body that gives the pool place back when it is closed."""

    def __init__(self, inner: httpx.AsyncByteStream, permit: Permit) -> None:
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
