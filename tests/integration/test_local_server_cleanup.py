"""The local test server stops promptly and leaves nothing behind, however its owner exits.

Each case runs an owner program in a subprocess that starts a server and prints the server's
pid, data directory and /tmp socket paths, then ends in one way: a signal (SIGTERM, SIGKILL,
SIGINT), an uncaught exception, a plain interpreter exit, or a normal ``stop()``. Afterwards
the ``weed`` process must be gone, its data directory removed, and its sockets too.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

_OWNER = textwrap.dedent(
    """
    import json, os, signal, sys, time
    from r2async import testing
    from r2async._testing import ports

    how = sys.argv[1]
    server = testing.start_local_server(buckets=["cleanup-bucket"])
    sockets = [
        pattern.format(grpc=port + ports.GRPC_OFFSET)
        for port in server._ports.values()
        for pattern in ports._TMP_SOCKET_PATTERNS
    ]
    print(json.dumps({"pid": server.pid, "dir": str(server.data_dir), "sockets": sockets}),
          flush=True)
    if how == "exception":
        raise RuntimeError("the owner failed")
    if how == "exit":
        sys.exit(0)
    if how == "stop":
        started = time.monotonic()
        server.stop()
        print(json.dumps({"stop_seconds": time.monotonic() - started}), flush=True)
        sys.exit(0)
    sys.stdin.read()  # wait to be signalled
    """
)


def _alive(pid: int, data_dir: str) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return f"-dir={data_dir}".encode() in fh.read()
    except OSError:
        return False


def _wait_gone(info: dict[str, object], seconds: float = 15.0) -> None:
    pid, data_dir = int(info["pid"]), str(info["dir"])  # type: ignore[call-overload]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:  # bounded: the watchdog acts within milliseconds
        if not _alive(pid, data_dir) and not Path(data_dir).exists():
            break
        time.sleep(0.05)
    if _alive(pid, data_dir):
        os.kill(pid, signal.SIGKILL)  # not left running by a failing test
        pytest.fail("weed is still running")
    assert not Path(data_dir).exists(), "the data directory was left behind"
    left = [p for p in info["sockets"] if os.path.exists(p)]  # type: ignore[attr-defined]
    assert not left, f"sockets left behind: {left}"


def _start_owner(how: str) -> tuple[subprocess.Popen[str], dict[str, object]]:
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER, how],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    line = owner.stdout.readline()
    if not line:
        owner.kill()
        _, err = owner.communicate(timeout=30)
        pytest.fail(f"the owner did not start a server: {err[-2000:]}")
    return owner, json.loads(line)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL, signal.SIGINT])
def test_owner_killed_by_a_signal_leaves_nothing(sig: signal.Signals) -> None:
    owner, info = _start_owner("signal")
    try:
        owner.send_signal(sig)
        owner.communicate(timeout=30)
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.communicate()
    _wait_gone(info)


@pytest.mark.parametrize("how", ["exception", "exit"])
def test_owner_exiting_without_stop_leaves_nothing(how: str) -> None:
    owner, info = _start_owner(how)
    _, err = owner.communicate(timeout=60)
    assert owner.returncode == (1 if how == "exception" else 0), err[-2000:]
    _wait_gone(info, seconds=1.0)  # atexit stops it before the interpreter is gone


def test_stop_is_prompt_and_leaves_nothing() -> None:
    owner, info = _start_owner("stop")
    out, err = owner.communicate(timeout=60)
    assert owner.returncode == 0, err[-2000:]
    assert json.loads(out)["stop_seconds"] < 3.0
    _wait_gone(info, seconds=0.0)
