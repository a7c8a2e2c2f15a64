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
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

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
    """A few worker threads that write whole small objects to files (see the module doc)."""

    def __init__(self, threads: int = WRITER_THREADS) -> None:
        """Create the pool (threads start on first use).

        Args:
            threads: worker threads.
        """
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="r2async-write")

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
        # asyncio's executor hand-off costs about half of anyio.to_thread's on the loop; the
        # command line runs on asyncio only.
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._pool, write_file, path, data, mtime_ns, expected_md5
        )

    def close(self) -> None:
        """Wait for writes still running (their callers may have been cancelled)."""
        self._pool.shutdown(wait=True)
