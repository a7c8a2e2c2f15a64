"""Progress reporting: counts transferred bytes and reports them in increasing order."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

import anyio

ProgressCallback = Callable[[int, int | None], Awaitable[None] | None]
"""``callback(bytes_transferred, total_or_None)``; may be sync or async."""


class Progress:
    """Counts transferred bytes and reports them, in increasing order, to the user's callback."""

    def __init__(self, callback: ProgressCallback | None, total: int | None) -> None:
        self._callback = callback
        self.total = total
        self.done = 0
        self._reported: tuple[int, int | None] | None = None
        self._lock = anyio.Lock()

    async def add(self, n: int) -> None:
        """Count ``n`` more bytes and report the new total."""
        self.done += n
        if self._callback is not None and n:
            await self._report(final=False)

    async def finish(self) -> None:
        """Make sure the last report is (size, size); call once the transfer succeeded."""
        self.total = self.done
        if self._callback is not None:
            await self._report(final=True)

    async def _report(self, *, final: bool) -> None:
        # The lock keeps calls from parallel parts in order; values are read inside it, so a
        # call may find its bytes already reported by another (then it says nothing).
        assert self._callback is not None
        async with self._lock:
            value = (self.done, self.total)
            last = self._reported
            if last is not None and (value[0] <= last[0] if not final else value == last):
                return
            self._reported = value
            result = self._callback(*value)
            if inspect.isawaitable(result):
                await result
