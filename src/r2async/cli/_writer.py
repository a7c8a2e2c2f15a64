"""Small downloaded objects written to their files in worker threads, one hand-off each.

A download of many small objects spends most of its per-object time outside Python's reach
if it stays on the event loop: the MD5 of the body (~1 ms per MiB), and creating, writing and
renaming the file, which the kernel can make slow (ext4 without a journal scans every inode
deleted in the last seconds to minutes before it allocates one: up to ~1 ms per file right
after a directory tree was removed). Here each body goes to a worker thread with one
hand-off that does all of it (hashlib and file writes release the GIL), so the loop goes on
sending requests and the work spreads over the cores, as s5cmd spreads it over goroutines.

The file is written under a temporary name beside its destination and renamed over it only
once complete, so nothing partial is ever left under the destination's name. A hand-off
already running when its caller is cancelled (Ctrl-C) finishes in its thread: at worst one
complete file appears, never a partial one; :meth:`FileWriter.close` waits for those.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import secrets
import threading
import time

from r2async._md5_check import md5_hex

# Threads writing at once: more than the cores, so one thread waiting in the kernel (a slow
# create) does not idle a core; few, as each competes with the event loop for the GIL.
WRITER_THREADS = 4


def _temporary_path(path: str) -> str:
    # As download_file names its temporary files (hidden, never taken for the real file).
    directory, name = os.path.split(path)
    return os.path.join(directory, f".{name}.r2async-{secrets.token_hex(4)}.part")


def write_file(
    path: str, data: bytes, mtime_ns: int | None, expected_md5: str | None
) -> str | None:
    """Check ``data`` against ``expected_md5``, then write it to ``path`` (blocking).

    Returns None when the file was written, or the hex MD5 of ``data`` when it differs from
    ``expected_md5`` (nothing is written: the caller decides whether the object's ETag may
    be compared at all, see ``r2async._md5_check.confirm_md5``).

    Args:
        path: the destination file (its directory exists).
        data: the whole object.
        mtime_ns: the modification time to give the file (None: leave it as written).
        expected_md5: the lower-case hex MD5 the ETag claims (None: nothing to compare).
    """
    if expected_md5 is not None:
        digest = md5_hex(data)
        if digest != expected_md5:
            return digest
    tmp = _temporary_path(path)
    # os.open, not open(): no buffered file object, no fstat/ioctl/lseek per file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        if mtime_ns is not None:
            os.utime(tmp, ns=(time.time_ns(), mtime_ns))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    return None


class FileWriter:
    """A few worker threads that write whole small objects to files (see the module doc).

    The hand-off is a queue and one ``call_soon_threadsafe`` per file: about half the
    loop-side work of ``loop.run_in_executor`` (whose ``concurrent.futures`` bookkeeping runs
    a few hundred lines of Python per call), and a third of ``anyio.to_thread``'s. The
    command line runs on asyncio only.
    """

    def __init__(self, threads: int = WRITER_THREADS) -> None:
        """Prepare the threads (started by the first write).

        Args:
            threads: worker threads.
        """
        self._count = threads
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    async def write(
        self, path: str, data: bytes, mtime_ns: int | None, expected_md5: str | None
    ) -> str | None:
        """``write_file`` in a worker thread; see there.

        Args:
            path: the destination file.
            data: the whole object.
            mtime_ns: the modification time to give the file.
            expected_md5: the hex MD5 to check ``data`` against first.
        """
        loop = asyncio.get_running_loop()
        if not self._threads:
            for number in range(self._count):
                thread = threading.Thread(
                    target=_work, args=(self._queue,), name=f"r2async-write-{number}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
        future: asyncio.Future[str | None] = loop.create_future()
        self._queue.put((loop, future, path, data, mtime_ns, expected_md5))
        return await future

    def close(self) -> None:
        """Wait for writes still running (their callers may have been cancelled)."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        self._threads.clear()


_Item = tuple[
    asyncio.AbstractEventLoop, "asyncio.Future[str | None]", str, bytes, "int | None", "str | None"
]


def _work(items: queue.SimpleQueue[_Item | None]) -> None:
    # A worker thread: write files until told to stop (None), handing each outcome back.
    while (item := items.get()) is not None:
        loop, future, path, data, mtime_ns, expected_md5 = item
        del item
        if future.cancelled():
            # Its caller is gone (Ctrl-C) before the write began: nothing is written. (A
            # read of the future's state; cancelled a moment later, the file is written whole.)
            continue
        try:
            outcome: object = write_file(path, data, mtime_ns, expected_md5)
            failed = False
        except BaseException as exc:  # handed to the awaiting task, raised there
            outcome, failed = exc, True
        del data
        # The loop outlives every write (close() joins the threads before run() returns).
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, future, outcome, failed)


def _settle(future: asyncio.Future[str | None], outcome: object, failed: bool) -> None:
    # On the loop: the awaiting task may have been cancelled meanwhile (the file was written
    # whole or not at all, whatever it learns).
    if future.done():
        return
    if failed:
        assert isinstance(outcome, BaseException)
        future.set_exception(outcome)
    else:
        future.set_result(outcome)  # type: ignore[arg-type]
