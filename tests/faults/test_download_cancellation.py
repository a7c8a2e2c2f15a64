"""A cancelled download_file or upload leaves nothing behind: no busy connection, no open
descriptor, no temporary file, no multipart upload on the server (both transports).

Each test makes the cancellation land at one await that used to leak, deterministically (an
event, not a sleep), and checks right after, without a garbage collection in between.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.support.object_server import ObjectServer, busy_connections, open_fds

from r2async import R2Client
from r2async._transfer import download as download_module

P = 5 * 1024 * 1024
DATA = bytes(range(256)) * (3 * P // 256) + b"tail"
TRANSPORTS = ["httpx", "aiohttp"]


@pytest.fixture
async def server() -> AsyncIterator[ObjectServer]:
    async with ObjectServer() as srv:
        srv.put("obj", DATA)
        yield srv


def client(server: ObjectServer, transport: str) -> R2Client:
    return R2Client(**server.client_kwargs, transport=transport)  # type: ignore[arg-type]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name != "dest.bin")


def cancel_now(how: str, scope: anyio.CancelScope) -> None:
    """Cancel the running download: an anyio scope, or asyncio's own Task.cancel()."""
    if how == "scope":
        scope.cancel()
    else:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("how", ["scope", "task"])
async def test_cancel_right_after_the_first_response_releases_its_connection(
    server: ObjectServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    transport: str,
    how: str,
) -> None:
    # The cancellation is delivered at the first await after open_first() returns its open
    # response: the slots.acquire() that starts the part tasks.
    original = download_module.open_first
    scope = anyio.CancelScope()

    calls = 0

    async def open_then_cancel(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        first = await original(*args, **kwargs)
        calls += 1
        if calls == 1:
            cancel_now(how, scope)
        return first

    monkeypatch.setattr(download_module, "open_first", open_then_cancel)
    async with client(server, transport) as r2:

        async def run() -> None:
            with scope:
                await r2.download_file("bkt", "obj", tmp_path / "dest.bin", part_size=P)

        if how == "scope":
            await run()
        else:
            with pytest.raises(asyncio.CancelledError):
                await asyncio.ensure_future(run())
        assert busy_connections(r2) == 0
        assert leftovers(tmp_path) == []
        # The client still answers.
        await r2.download_file("bkt", "obj", tmp_path / "dest.bin", part_size=P)
        assert (tmp_path / "dest.bin").read_bytes() == DATA
    assert open_fds(str(tmp_path)) == set()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_cancel_while_reporting_the_bytes_already_on_disk_releases_the_connection(
    server: ObjectServer, tmp_path: Path, transport: str
) -> None:
    dest = tmp_path / "dest.bin"

    class Stop(Exception):
        pass

    def stop_after_two_parts(done: int, total: int | None) -> None:
        if done >= 2 * P:
            raise Stop

    async with client(server, transport) as r2:
        with pytest.raises(Stop):
            await r2.download_file(
                "bkt",
                "obj",
                dest,
                part_size=P,
                concurrency=1,
                resume=True,
                progress=stop_after_two_parts,
            )
        assert busy_connections(r2) == 0
        reporting = anyio.Event()

        async def hang(done: int, total: int | None) -> None:
            reporting.set()  # the resumed download reports the bytes on disk first
            await anyio.sleep_forever()

        async with anyio.create_task_group() as tg:

            async def resumed() -> None:
                await r2.download_file(
                    "bkt", "obj", dest, part_size=P, concurrency=1, resume=True, progress=hang
                )

            tg.start_soon(resumed)
            await reporting.wait()
            tg.cancel_scope.cancel()
        assert busy_connections(r2) == 0
        await r2.download_file("bkt", "obj", dest, part_size=P, resume=True)
        assert dest.read_bytes() == DATA
        assert leftovers(tmp_path) == []


def slow_open(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """Make the open of a temporary file slow; events: it started, it returned."""
    started, finished = threading.Event(), threading.Event()
    real_open: Callable[..., int] = os.open

    def open_slowly(path: Any, *args: Any, **kwargs: Any) -> int:
        if ".r2async-" not in os.fspath(path):
            return real_open(path, *args, **kwargs)
        started.set()
        # Bounded: a cancellation either waits for this thread or abandons it.
        threading.Event().wait(0.3)
        try:
            return real_open(path, *args, **kwargs)
        finally:
            finished.set()

    monkeypatch.setattr(os, "open", open_slowly)
    return started, finished


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("resume", [False, True])
async def test_cancel_during_the_open_of_the_temp_file_leaves_no_file_and_no_descriptor(
    server: ObjectServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    transport: str,
    resume: bool,
) -> None:
    started, finished = slow_open(monkeypatch)
    async with client(server, transport) as r2:
        task = asyncio.ensure_future(
            r2.download_file("bkt", "obj", tmp_path / "dest.bin", part_size=P, resume=resume)
        )
        # Bounded wait for the worker thread to reach the open.
        await anyio.to_thread.run_sync(started.wait, 10)
        task.cancel()  # asyncio's own cancellation, as asyncio.wait_for() or a server sends
        with pytest.raises(asyncio.CancelledError):
            await task
        await anyio.to_thread.run_sync(finished.wait, 10)
        assert busy_connections(r2) == 0
    assert leftovers(tmp_path) == []
    assert open_fds(str(tmp_path)) == set()


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("how", ["scope", "task"])
async def test_cancel_while_create_multipart_upload_is_in_flight_aborts_the_upload(
    server: ObjectServer, transport: str, how: str
) -> None:
    server.hold_create = asyncio.Event()
    async with client(server, transport) as r2:
        scope = anyio.CancelScope()

        async def upload() -> None:
            with scope:
                await r2.upload_stream("bkt", "up", b"x" * 1000, threshold=0)

        task = asyncio.ensure_future(upload())
        await asyncio.wait_for(server.create_arrived.wait(), 10)
        assert len(server.uploads) == 1  # created on the server; its answer is held back
        if how == "scope":
            scope.cancel()
        else:
            task.cancel()
        await asyncio.sleep(0)  # let the cancellation reach the request before it is answered
        server.hold_create.set()
        if how == "scope":
            await asyncio.wait_for(task, 10)
        else:
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, 10)
        assert server.uploads == {}, "an orphaned multipart upload was left on the server"
        assert busy_connections(r2) == 0
