"""Load: 2,000 concurrent small puts, then 2,000 concurrent gets, through one client.

They complete without error, the pool stays within its bound, and nothing leaks: no
connection, socket, task, or (through pyproject's filterwarnings) ResourceWarning or
never-awaited coroutine. A second test proves that the filterwarnings setting really turns
those warnings into failures.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from r2async import R2Client
from r2async._config import DEFAULT_LIMITS
from r2async.testing import LocalR2Server

N = 2000
SIZE = 1024
REPO = Path(__file__).resolve().parents[2]


def _open_sockets() -> int | None:
    """Sockets this process holds (Linux /proc), or None where that cannot be counted."""
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        return None
    count = 0
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(fd_dir / fd).startswith("socket:"):
                count += 1
        except OSError:
            pass  # closed between listing and reading
    return count


async def test_2000_concurrent_puts_and_gets(s3_server: LocalR2Server, bucket: str) -> None:
    gc.collect()
    tasks_before = asyncio.all_tasks()
    sockets_before = _open_sockets()
    payloads = {f"load/{i:05d}": os.urandom(SIZE) for i in range(N)}
    peak = peak_waiting = 0
    stop = asyncio.Event()

    async with R2Client(**s3_server.client_kwargs) as r2:
        pool = r2._shared.client()._transport._pool  # type: ignore[attr-defined]

        async def watch_pool() -> None:
            nonlocal peak, peak_waiting
            while not stop.is_set():
                peak = max(peak, len(pool.connections))
                peak_waiting = max(peak_waiting, pool.waiting)
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch_pool())
        puts = await asyncio.gather(
            *(r2.put_object(bucket, key, data) for key, data in payloads.items()),
            return_exceptions=True,
        )
        put_errors = [p for p in puts if isinstance(p, BaseException)]
        assert put_errors == [], f"{len(put_errors)} puts failed, first: {put_errors[:1]!r}"
        for (_key, data), result in zip(payloads.items(), puts, strict=False):
            assert result.etag == f'"{hashlib.md5(data).hexdigest()}"'  # type: ignore[union-attr]

        gets = await asyncio.gather(
            *(r2.get_object(bucket, key) for key in payloads), return_exceptions=True
        )
        get_errors = [g for g in gets if isinstance(g, BaseException)]
        assert get_errors == [], f"{len(get_errors)} gets failed, first: {get_errors[:1]!r}"
        for data, result in zip(payloads.values(), gets, strict=False):
            assert result.body == data  # type: ignore[union-attr]

        stop.set()
        await watcher
        # Bounded: 2,000 concurrent calls queued for at most max_connections sockets.
        assert 0 < peak <= DEFAULT_LIMITS.max_connections
        # The rest waited in r2async's pool's O(1) queue (not in httpcore's quadratic one).
        assert peak_waiting > 0
        assert len(pool.connections) <= DEFAULT_LIMITS.max_connections

    # Closed: no connection, socket or task left behind.
    assert pool.connections == []
    gc.collect()
    assert asyncio.all_tasks() == tasks_before
    if sockets_before is not None:
        assert _open_sockets() == sockets_before


def test_resource_and_coroutine_warnings_fail_the_suite(tmp_path: Path) -> None:
    # Run pytest on throwaway tests with this project's configuration: each leak must fail.
    probe = tmp_path / "test_leaks_probe.py"
    probe.write_text(
        textwrap.dedent(
            """
            import gc
            import socket


            def test_unclosed_socket():
                socket.socket()
                gc.collect()


            async def _never():
                return 1


            def test_unawaited_coroutine():
                _never()
                gc.collect()


            def test_clean():
                with socket.socket():
                    pass
            """
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-c",
            str(REPO / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            str(probe),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "2 failed, 1 passed" in out, out
    assert "ResourceWarning" in out and "was never awaited" in out, out


@pytest.mark.parametrize("limit", [1, 4])
async def test_a_tiny_pool_still_completes_everything(
    s3_server: LocalR2Server, bucket: str, limit: int
) -> None:
    import httpx

    limits = httpx.Limits(max_connections=limit, max_keepalive_connections=limit)
    async with (
        httpx.AsyncClient(limits=limits) as http,
        R2Client(**s3_server.client_kwargs, http_client=http) as r2,
    ):
        keys = [f"tiny/{i}" for i in range(100)]
        await asyncio.gather(*(r2.put_object(bucket, k, k.encode()) for k in keys))
        bodies = await asyncio.gather(*(r2.get_object(bucket, k) for k in keys))
        assert [b.body for b in bodies] == [k.encode() for k in keys]
        pool = http._transport._pool  # type: ignore[attr-defined]
        assert len(pool.connections) <= limit


async def test_streams_give_their_connection_back(s3_server: LocalR2Server, bucket: str) -> None:
    import httpx

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    quick = httpx.Timeout(30.0, pool=5.0)
    async with (
        httpx.AsyncClient(limits=limits) as http,
        R2Client(**s3_server.client_kwargs, http_client=http, timeout=quick) as r2,
    ):
        await r2.put_object(bucket, "s", b"x" * 300_000)
        # Read whole, read partly, not read at all, and failed: each closes, and the single
        # connection is free again for the next call (else it would hit the pool timeout).
        async with r2.stream_object(bucket, "s") as stream:
            assert len(await stream.read()) == 300_000
        async with r2.stream_object(bucket, "s", chunk_size=1000) as stream:
            async for _chunk in stream:
                break
        async with r2.stream_object(bucket, "s"):
            pass
        with pytest.raises(Exception, match="NoSuchKey"):
            async with r2.stream_object(bucket, "missing"):
                pass
        assert (await r2.get_object(bucket, "s")).content_length == 300_000
