"""Every call ends by its overall deadline however a server paces its bytes; 1xx runs are capped.

Issue 13, item 10: a body dripped one byte at a time, or an endless run of ``100 Continue``,
held a call past its timeout forever (the per-phase timeouts restart with every byte). A call
now ends by its deadline (``R2Client(deadline=)``/``with_options(deadline=)``, default 600 s)
with ``DeadlineExceededError``: all attempts and the waits between them, and a streamed body
until it is closed; and more than a few interim (1xx) responses to one request are refused.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import pytest
from tests.support.hostile import Conn, HostileServer, response

from r2async import (
    APIConnectionError,
    APITimeoutError,
    DeadlineExceededError,
    R2Client,
    RateLimitError,
)
from r2async._transports.call_guard import MAX_INTERIM

TRANSPORTS = ["httpx", "aiohttp"]
DEADLINE = 1.0
# How late past its deadline a call may end on a loaded 2-core machine.
LATE = 2.0
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


async def _serve(conn: Conn) -> None:
    for _ in range(1000):
        request = await conn.request()
        if request is None:
            return
        key = request.target.split("?")[0].rsplit("/", 1)[1]
        if key == "drip-body":
            # A whole second and more per 20 bytes: no read ever waits long.
            await conn.write(response(length=1000))
            for _ in range(1000):
                await conn.write(b"x")
                await asyncio.sleep(0.05)
            return
        if key == "drip-headers":
            for byte in response(b"late"):
                await conn.write(bytes([byte]))
                await asyncio.sleep(0.05)
            continue
        if key == "endless-continue":
            for _ in range(100_000):
                await conn.write(CONTINUE)
                await asyncio.sleep(0.002)
            return
        if key == "a-few-interim":
            await conn.write(CONTINUE * 3 + b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n")
            await conn.write(response(b"final answer"))
            continue
        if key == "slow-down":
            await conn.write(
                response(
                    b"<Error><Code>SlowDown</Code><Message>m</Message></Error>",
                    status="503 Slow Down",
                )
            )
            continue
        if key == "silent":
            await asyncio.sleep(30)
            return
        await conn.write(response(b"fine"))


@pytest.fixture
def server() -> Any:
    with HostileServer(_serve) as srv:
        yield srv


def _client(url: str, transport: Any = "httpx", **kwargs: Any) -> R2Client:
    options: dict[str, Any] = {"timeout": 10, "deadline": DEADLINE, **kwargs}
    return R2Client(
        endpoint_url=url,
        access_key_id="AKID",
        secret_access_key="SECRET",
        transport=transport,
        **options,
    )


async def _ends_by_the_deadline(call: Callable[[], Awaitable[object]]) -> DeadlineExceededError:
    started = time.monotonic()
    with anyio.fail_after(DEADLINE + 20):  # a hang fails the test, not the suite
        with pytest.raises(DeadlineExceededError) as caught:
            await call()
    elapsed = time.monotonic() - started
    assert DEADLINE - 0.05 <= elapsed < DEADLINE + LATE, elapsed
    assert isinstance(caught.value, APITimeoutError)
    assert "deadline of 1 s" in str(caught.value)
    return caught.value


async def _drip_body(r2: R2Client) -> None:
    await _ends_by_the_deadline(lambda: r2.get_object("bucket", "drip-body"))
    # Not retried: one connection for the dripped body, the client still answers.
    assert (await r2.get_object("bucket", "ok")).body == b"fine"


async def _drip_stream(r2: R2Client) -> None:
    async def read() -> None:
        async with r2.stream_object("bucket", "drip-body") as stream:
            async for _ in stream:
                pass

    error = await _ends_by_the_deadline(read)
    assert "after" in str(error) and "body bytes" in str(error)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_dripped_body_ends_by_the_deadline(server: HostileServer, transport: str) -> None:
    async with _client(server.url, transport) as r2:
        await _drip_body(r2)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_dripped_stream_ends_by_the_deadline(server: HostileServer, transport: str) -> None:
    async with _client(server.url, transport) as r2:
        await _drip_stream(r2)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_dripped_headers_end_by_the_deadline(server: HostileServer, transport: str) -> None:
    async with _client(server.url, transport) as r2:
        await _ends_by_the_deadline(lambda: r2.head_object("bucket", "drip-headers"))


def test_a_dripped_body_and_stream_end_by_the_deadline_under_trio(server: HostileServer) -> None:
    async def main() -> None:
        async with _client(server.url) as r2:
            await _drip_body(r2)
            await _drip_stream(r2)

    anyio.run(main, backend="trio")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_endless_interim_responses_end_the_call(
    server: HostileServer, transport: str
) -> None:
    async with _client(server.url, transport, max_retries=1) as r2:
        started = time.monotonic()
        with anyio.fail_after(DEADLINE + 20), pytest.raises(APIConnectionError) as caught:
            await r2.get_object("bucket", "endless-continue")
        elapsed = time.monotonic() - started
    assert elapsed < DEADLINE + LATE
    # Refused after MAX_INTERIM of them, long before the deadline.
    assert not isinstance(caught.value, DeadlineExceededError)
    assert f"more than {MAX_INTERIM} interim" in str(caught.value)


def test_endless_interim_responses_end_the_call_under_trio(server: HostileServer) -> None:
    async def main() -> None:
        async with _client(server.url, max_retries=0) as r2:
            with pytest.raises(APIConnectionError, match="interim"):
                await r2.get_object("bucket", "endless-continue")

    anyio.run(main, backend="trio")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_few_interim_responses_are_passed_over(
    server: HostileServer, transport: str
) -> None:
    async with _client(server.url, transport) as r2:
        for _ in range(3):
            assert (await r2.get_object("bucket", "a-few-interim")).body == b"final answer"


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_retries_stop_at_the_deadline(server: HostileServer, transport: str) -> None:
    # Every attempt times out (read 0.4 s); without a deadline 11 attempts would take 4 s+.
    # The call ends by the deadline: cut short by it, or not retried because the next
    # attempt would start past it.
    async with _client(server.url, transport, timeout=0.4, max_retries=10) as r2:
        started = time.monotonic()
        with anyio.fail_after(DEADLINE + 20), pytest.raises(APITimeoutError) as caught:
            await r2.get_object("bucket", "silent")
        assert time.monotonic() - started < DEADLINE + LATE
        assert "deadline of 1 s" in str(caught.value)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_no_retry_wait_runs_past_the_deadline(
    server: HostileServer, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from r2async import _retry

    # Waits of 0.6 s: the second one would end past the 1 s deadline, so it is not taken.
    monkeypatch.setattr(_retry, "delay_for", lambda attempt, headers, **kw: 0.6)
    async with _client(server.url, transport, max_retries=10) as r2:
        started = time.monotonic()
        with pytest.raises(RateLimitError, match="deadline of 1 s would pass first"):
            await r2.get_object("bucket", "slow-down")
        assert time.monotonic() - started < DEADLINE + LATE


async def test_with_options_sets_and_lifts_the_deadline(server: HostileServer) -> None:
    async with _client(server.url, deadline=None) as r2:
        assert r2._deadline is None
        view = r2.with_options(deadline=DEADLINE)
        await _ends_by_the_deadline(lambda: view.get_object("bucket", "drip-body"))
        assert view.with_options()._deadline == DEADLINE
        assert view.with_options(deadline=None)._deadline is None


async def test_a_user_http_client_is_held_to_the_deadline_too(server: HostileServer) -> None:
    # httpcore's own pool does not know the deadline: each attempt and each read of a
    # streamed body runs in a cancel scope instead.
    async with (
        httpx.AsyncClient() as http,
        R2Client(
            endpoint_url=server.url,
            access_key_id="AKID",
            secret_access_key="SECRET",
            http_client=http,
            timeout=10,
            deadline=DEADLINE,
        ) as r2,
    ):
        await _drip_body(r2)
        await _drip_stream(r2)


def test_the_default_deadline_is_ten_minutes() -> None:
    r2 = R2Client(endpoint_url="http://127.0.0.1:9", access_key_id="A", secret_access_key="S")
    assert r2._deadline == 600.0
    assert r2.with_options(timeout=5)._deadline == 600.0


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (0, ValueError),
        (-1, ValueError),
        (math.nan, ValueError),
        (math.inf, ValueError),
        ("10", TypeError),
        (True, TypeError),
    ],
)
def test_a_bad_deadline_is_refused_before_any_io(bad: object, error: type) -> None:
    kwargs: dict[str, Any] = {
        "endpoint_url": "http://127.0.0.1:9",
        "access_key_id": "A",
        "secret_access_key": "S",
    }
    with pytest.raises(error, match="deadline"):
        R2Client(**kwargs, deadline=bad)  # type: ignore[arg-type]
    with pytest.raises(error, match="deadline"):
        R2Client(**kwargs).with_options(deadline=bad)  # type: ignore[arg-type]
