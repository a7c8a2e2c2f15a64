"""Cleanup that must finish: exception notes, shielded calls and shielded stream closes."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import IO, TYPE_CHECKING, TypeVar

import anyio
import anyio.to_thread
import sniffio

from .files import open_rb

if TYPE_CHECKING:
    from .._streaming import ObjectStream

_T = TypeVar("_T")


def add_note(exc: BaseException, note: str) -> None:
    """Attach ``note`` to ``exc`` (shown under the traceback; ``__notes__`` on Python 3.10)."""
    if sys.version_info >= (3, 11):
        exc.add_note(note)
    else:  # pragma: no cover - Python 3.10
        notes = getattr(exc, "__notes__", None)
        if not isinstance(notes, list):
            notes = []
        notes.append(note)
        exc.__notes__ = notes  # type: ignore[attr-defined]


def unwrapped(exc: BaseException) -> BaseException:
    """The failure inside a task group's exception group (the first that is not a
    cancellation), else ``exc`` itself."""
    members = getattr(exc, "exceptions", None)
    if not isinstance(members, tuple) or not callable(getattr(exc, "derive", None)):
        return exc
    cancelled = anyio.get_cancelled_exc_class()
    for member in members:
        if not isinstance(member, cancelled):
            return unwrapped(member)
    return members[0] if members else exc


async def run_shielded(func: Callable[[], Awaitable[_T]]) -> _T:
    """Run ``func()`` to completion even if the caller is being cancelled.

    anyio's shield stops anyio (and trio) cancellation, but a native ``Task.cancel()`` on
    asyncio pierces it; there the work runs in its own task that we keep waiting for, and a
    cancellation that arrived meanwhile is re-raised afterwards. ``func`` must bound its own
    running time.
    """
    with anyio.CancelScope(shield=True):
        if sniffio.current_async_library() != "asyncio":
            return await func()
        import asyncio

        async def call() -> _T:
            return await func()

        task = asyncio.ensure_future(call())
        cancelled = False
        # Bounded: func bounds its own time, and each pass waits for the same task.
        while not task.done():
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if task.cancelled():
                    raise
                cancelled = True
        if cancelled:
            raise asyncio.CancelledError
        return task.result()
    raise AssertionError("unreachable: a shielded scope is never cancelled")  # pragma: no cover


async def close_shielded(stream: ObjectStream) -> None:
    with anyio.CancelScope(shield=True):
        await stream.aclose()


async def open_owned(path: str) -> IO[bytes]:
    """Open ``path`` for reading in a worker thread; the caller owns the file once this returns.

    The open runs to completion even if the caller is cancelled meanwhile (an abandoned thread
    would open a file nobody closes), and a file opened for a cancelled caller is closed.
    """
    opened: list[IO[bytes]] = []

    async def open_it() -> None:
        opened.append(await anyio.to_thread.run_sync(open_rb, path))

    try:
        await run_shielded(open_it)
    except BaseException:
        for f in opened:
            f.close()
        raise
    return opened[0]
