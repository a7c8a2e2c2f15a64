"""The watchdog that removes a local test server when the process that started it dies.

``r2async.testing`` stops its ``weed`` process in ``stop()``, on ``with``/``async with`` exit
and at interpreter exit (``atexit``). None of those run when the owner is killed by a signal
whose default action ends the process (SIGTERM from a process manager, SIGKILL, a crash): the
``weed`` process would be re-parented and keep listening, and its data directory and the
Unix sockets it puts in ``/tmp`` would stay behind. So every server gets this watchdog, a
separate Python process (standard library only) run as a script::

    python -I _reaper.py <weed pid> <data dir> <socket path>...

It blocks reading its stdin, a pipe whose only writer is the owner. The read ends when the
owner closes the pipe (a normal stop) or when the owner dies for any reason (the kernel
closes its descriptors). Then it kills ``weed`` if it is still running, and removes the data
directory and the sockets. After a normal stop there is nothing left to do and it exits at
once. It runs in its own session, so a Ctrl-C meant for the owner's terminal does not end it
before it has cleaned up.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import sys
import time

_WAIT_SECONDS = 5.0  # for the killed process to disappear (a SIGKILL takes milliseconds)


def _is_ours(pid: int, data_dir: str) -> bool:
    """Whether ``pid`` is still the ``weed`` started with ``data_dir`` (not a reused pid)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return f"-dir={data_dir}".encode() in fh.read()
    except FileNotFoundError:
        return False
    except OSError:
        pass
    # No /proc (macOS): the pid is checked for existence only.
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _remove_socket(path: str) -> None:
    try:
        info = os.lstat(path)
    except OSError:
        return
    # Only our own sockets: never a regular file or another user's socket.
    if stat.S_ISSOCK(info.st_mode) and info.st_uid == os.getuid():
        with contextlib.suppress(OSError):
            os.unlink(path)


def _raise_exit(signum: int, frame: object) -> None:
    # A SIGTERM to the watchdog itself (a system shutdown) cleans up at once.
    raise SystemExit(0)


def main(argv: list[str]) -> None:
    """Wait for the owner to go away, then remove its server."""
    pid, data_dir, sockets = int(argv[0]), argv[1], argv[2:]
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _raise_exit)
    try:
        while sys.stdin.buffer.read(4096):  # nothing is ever written: ends at end of file
            pass
    except (OSError, SystemExit):
        pass
    if _is_ours(pid, data_dir):
        with contextlib.suppress(OSError):
            os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))  # no SIGKILL on Windows
        deadline = time.monotonic() + _WAIT_SECONDS
        while _is_ours(pid, data_dir) and time.monotonic() < deadline:
            time.sleep(0.02)
    for path in sockets:
        _remove_socket(path)
    shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
