"""Event-loop plumbing shared by the store and the filesystem (standard library only).

An ``R2Client`` (its httpx connections) belongs to the event loop that first used it. Both
``r2async.store`` and ``r2async.fs`` may be driven from several loops: a user's own loop, a
background thread's loop for the sync API, a new loop per test. ``ClientSlot`` keeps one client
per loop; ``run_sync`` drives coroutines from sync code on one background loop per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from r2async import R2Client

__all__ = ["ClientSlot", "run_sync"]

T = TypeVar("T")


class ClientSlot:
    """The R2Client of a filesystem, bound to the event loop that first used it.

    An httpx client (and its connections) belongs to one loop. fsspec's sync API runs every
    coroutine on its own I/O thread's loop; with ``asynchronous=True`` the caller's loop runs
    them, and a cached instance may be reused from another loop later. So the client is
    created lazily and re-created when the running loop changes (as s3fs does per session).
    """

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.options = dict(options)
        # Built now so that bad options or missing credentials fail at construction; it does
        # no I/O and holds no connection until first used.
        self.client = R2Client(**self.options)
        self.loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> R2Client:
        loop = asyncio.get_running_loop()
        if self.loop is None:
            self.loop = loop
        elif self.loop is not loop:
            old, old_loop = self.client, self.loop
            self.client = R2Client(**self.options)
            self.loop = loop
            _close_on(old, old_loop, wait=False)
        return self.client

    async def aclose(self) -> None:
        client, loop = self.client, self.loop
        if loop is None:
            return
        self.client = R2Client(**self.options)
        self.loop = None
        if loop is asyncio.get_running_loop():
            await client.aclose()
        else:
            _close_on(client, loop, wait=False)

    def close_sync(self) -> None:
        """Close the client from outside its loop (garbage collection, interpreter exit)."""
        if self.loop is not None:
            _close_on(self.client, self.loop, wait=True)
            self.loop = None


def _close_on(client: R2Client, loop: asyncio.AbstractEventLoop, *, wait: bool) -> None:
    # A client can only be closed on its own loop; a loop that is gone took its connections
    # with it, and there is nothing left to do.
    if loop.is_closed() or not loop.is_running():
        return
    future = asyncio.run_coroutine_threadsafe(client.aclose(), loop)
    if wait and getattr(loop, "_thread_id", None) != threading.get_ident():
        with contextlib.suppress(Exception):
            future.result(timeout=2)


_LOOP: asyncio.AbstractEventLoop | None = None
_LOOP_LOCK = threading.Lock()


def background_loop() -> asyncio.AbstractEventLoop:
    """The process's background event loop for sync calls (a daemon thread, started once)."""
    global _LOOP
    with _LOOP_LOCK:
        if _LOOP is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="r2async-store-io", daemon=True)
            thread.start()
            _LOOP = loop
        return _LOOP


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the background loop and wait for its result (from sync code only).

    Args:
        coro: the coroutine to run.
    """
    loop = background_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        coro.close()
        raise RuntimeError("sync store method called on the store's own loop thread")
    if running is not None:
        # Blocking a running loop on I/O stalls everything else on it: make it an error.
        coro.close()
        raise RuntimeError(
            "a sync R2Store method was called from async code; await its *_async twin instead"
        )
    return asyncio.run_coroutine_threadsafe(coro, loop).result()
