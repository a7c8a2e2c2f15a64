"""The aiohttp transport's cheap timers: deadline and read timeout kept on the protocol.

The call's deadline and the read timeout are instants on each connection's protocol, looked
at by one periodic watch per connector (``aiohttp_protocol.Watch``) instead of aiohttp's
timer handles. What must hold: a deadline belongs to its own exchange only (a connection
back in the pool is never failed by the deadline of a call it already answered), the read
timeout still fires, a request stalled writing its body still ends by its deadline, and an
aiohttp without the hooks falls back to aiohttp's own timers with the same guarantees.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from tests.support.hostile import Conn, HostileServer, response

from r2async import APITimeoutError, DeadlineExceededError, R2Client
from r2async._transports import aiohttp_protocol

pytest.importorskip("aiohttp")

DEADLINE = 1.0


async def _serve(conn: Conn) -> None:
    for _ in range(1000):
        request = await conn.request()
        if request is None:
            return
        key = request.target.split("?")[0].rsplit("/", 1)[1]
        if key == "silent":
            await asyncio.sleep(20)
            return
        if key == "no-reading":
            # Never reads the rest of the request body and never answers.
            await asyncio.sleep(20)
            return
        if request.method == "HEAD":
            await conn.write(response(length=4))
            continue
        await conn.write(response(b"fine"))


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer(_serve) as srv:
        yield srv


@pytest.fixture(params=["watch", "aiohttp timers"])
def timers(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "aiohttp timers":
        # As on an aiohttp without the protocol hooks: the transport uses aiohttp's timers.
        monkeypatch.setattr(aiohttp_protocol, "_CHEAP_TIMERS", False)
    else:
        monkeypatch.setattr(aiohttp_protocol, "_CHEAP_TIMERS", None)
    return str(request.param)


def _client(url: str, **kwargs: Any) -> R2Client:
    options: dict[str, Any] = {"timeout": 10, "deadline": DEADLINE, "max_retries": 0, **kwargs}
    return R2Client(
        endpoint_url=url,
        access_key_id="AKID",
        secret_access_key="SECRET",
        transport="aiohttp",
        **options,
    )


async def test_the_transport_uses_the_watch_when_aiohttp_has_the_hooks(
    server: HostileServer,
) -> None:
    async with _client(server.url) as r2:
        await r2.get_object("bucket", "ok")
        transport = r2._shared.transport
        assert transport._cheap_timers is True  # type: ignore[union-attr]


async def test_a_pooled_connection_outlives_the_deadlines_of_calls_it_answered(
    server: HostileServer, timers: str
) -> None:
    async with _client(server.url) as r2:
        for _ in range(3):
            assert (await r2.get_object("bucket", "ok")).body == b"fine"
            await r2.head_object("bucket", "ok")  # a bodiless answer
        # Past every earlier call's deadline (and several looks of the watch): the same
        # connection serves the next calls.
        await asyncio.sleep(DEADLINE + 0.3)
        for _ in range(3):
            assert (await r2.get_object("bucket", "ok")).body == b"fine"
            await r2.head_object("bucket", "ok")
    assert server.connections == 1


async def test_a_silent_server_ends_the_call_by_its_deadline(
    server: HostileServer, timers: str
) -> None:
    async with _client(server.url) as r2:
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError):
            await r2.get_object("bucket", "silent")
        elapsed = time.monotonic() - started
        assert DEADLINE - 0.05 <= elapsed < DEADLINE + 2.0, elapsed
        assert (await r2.get_object("bucket", "ok")).body == b"fine"


async def test_the_read_timeout_still_fires(server: HostileServer, timers: str) -> None:
    async with _client(server.url, timeout=0.5, deadline=None) as r2:
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as caught:
            await r2.get_object("bucket", "silent")
        assert not isinstance(caught.value, DeadlineExceededError)
        elapsed = time.monotonic() - started
        assert 0.45 <= elapsed < 2.5, elapsed


async def test_a_body_stalled_on_a_server_that_reads_nothing_ends_by_the_deadline(
    server: HostileServer, timers: str
) -> None:
    body = bytes(32 * 1024 * 1024)  # far more than the socket buffers hold
    async with _client(server.url) as r2:
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError):
            await r2.put_object("bucket", "no-reading", body)
        elapsed = time.monotonic() - started
        assert DEADLINE - 0.05 <= elapsed < DEADLINE + 2.0, elapsed


def test_the_watch_stops_waking_once_nothing_is_watched() -> None:
    loop = asyncio.new_event_loop()
    try:
        watch = aiohttp_protocol.Watch(loop)

        class Done:
            def check_timers(self, now: float) -> bool:
                return False

        watch.add(Done())
        loop.run_until_complete(asyncio.sleep(aiohttp_protocol.TICK * 3))
        assert watch._handle is None and not watch._watched
    finally:
        loop.close()
