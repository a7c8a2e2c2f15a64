"""Faults injected by a loopback proxy in front of SeaweedFS: retried or raised as specified,
and afterwards every object reads back with the hash it was written with.

The faults (tests/support/faults.py): an injected 500 / 502 / 503 SlowDown with Retry-After, a reset
before the request body was read, a reset after the server acted on the request (the lost
response), a truncated response body, and a stalled response.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from tests.support.faults import (
    Fault,
    FaultProxy,
    reset_after_body,
    reset_before_body,
    respond,
    slow_down,
    stall,
    truncate,
)

from r2async import (
    APIConnectionError,
    APITimeoutError,
    InternalServerError,
    NoSuchKeyError,
    R2Client,
    RateLimitError,
    _retry,
)
from r2async.testing import LocalR2Server

# A read timeout short enough to notice a stall quickly, long enough for SeaweedFS on a busy
# 2-core machine to answer a small request; stalls outlast it with room to spare.
STALL_READ_TIMEOUT = httpx.Timeout(30.0, read=1.0)
STALL_SECONDS = 8.0


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the waits between attempts instead of sleeping (keeps the suite fast)."""
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(_retry, "sleep", fake_sleep)
    return waits


@pytest.fixture
async def proxy(s3_server: LocalR2Server) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(s3_server.endpoint_url) as p:
        yield p
    assert p.pending == [], "a fault was queued but no request triggered it"


@pytest.fixture
async def faulty(s3_server: LocalR2Server, proxy: FaultProxy) -> AsyncIterator[R2Client]:
    """A client that talks to SeaweedFS through the fault proxy."""
    kwargs = {**s3_server.client_kwargs, "endpoint_url": proxy.endpoint_url}
    async with R2Client(**kwargs) as client:
        yield client


async def assert_reads_back(r2: R2Client, bucket: str, written: dict[str, str]) -> None:
    """Every object reads back, directly from the server, with the hash it was written with."""
    for key, digest in written.items():
        result = await r2.get_object(bucket, key)
        assert sha(result.body) == digest, key


# -- each fault, retried -------------------------------------------------------------------------

RETRIED_PUT_FAULTS: dict[str, Callable[[], Fault]] = {
    "500": lambda: respond(500, "InternalError", method="PUT"),
    "502-no-code": lambda: respond(502, "BadGateway", method="PUT"),
    "503-slowdown-retry-after": lambda: slow_down("1", method="PUT"),
    "reset-before-body": lambda: reset_before_body(method="PUT"),
    "reset-after-body": lambda: reset_after_body(method="PUT"),
    "stall": lambda: stall(STALL_SECONDS, method="PUT"),
}


@pytest.mark.parametrize("size", [1000, 4 * 1024 * 1024])
@pytest.mark.parametrize("name", sorted(RETRIED_PUT_FAULTS))
async def test_put_faults_are_retried(
    name: str,
    size: int,
    faulty: R2Client,
    proxy: FaultProxy,
    r2: R2Client,
    bucket: str,
    sleeps: list[float],
) -> None:
    data = os.urandom(size)
    proxy.inject(RETRIED_PUT_FAULTS[name]())
    timeout = STALL_READ_TIMEOUT if name == "stall" else httpx.Timeout(60.0)
    result = await faulty.put_object(bucket, "obj", data, content_md5=True, timeout=timeout)
    assert result.etag == f'"{hashlib.md5(data).hexdigest()}"'
    assert [f[0] for f in proxy.applied] == [RETRIED_PUT_FAULTS[name]().name]
    assert len(sleeps) == 1
    if name == "503-slowdown-retry-after":
        assert sleeps == [1.0]  # Retry-After honoured
    await assert_reads_back(r2, bucket, {"obj": sha(data)})


RETRIED_GET_FAULTS: dict[str, Callable[[], Fault]] = {
    "500": lambda: respond(500, "InternalError", method="GET"),
    "503-slowdown-retry-after": lambda: slow_down("2", method="GET"),
    "reset-before-body": lambda: reset_before_body(method="GET"),
    "reset-after-body": lambda: reset_after_body(method="GET"),
    "truncated-body": lambda: truncate(100_000, method="GET"),
    "truncated-head-only": lambda: truncate(0, method="GET"),
    "stall": lambda: stall(STALL_SECONDS, method="GET"),
}


@pytest.mark.parametrize("name", sorted(RETRIED_GET_FAULTS))
async def test_get_faults_are_retried(
    name: str,
    faulty: R2Client,
    proxy: FaultProxy,
    r2: R2Client,
    bucket: str,
    sleeps: list[float],
) -> None:
    data = os.urandom(300_000)
    await r2.put_object(bucket, "obj", data)
    proxy.inject(RETRIED_GET_FAULTS[name]())
    timeout = STALL_READ_TIMEOUT if name == "stall" else httpx.Timeout(60.0)
    result = await faulty.get_object(bucket, "obj", timeout=timeout)
    assert sha(result.body) == sha(data) and result.content_length == len(data)
    assert len(proxy.applied) == 1 and len(sleeps) == 1
    if name == "503-slowdown-retry-after":
        assert sleeps == [2.0]


async def test_faults_on_head_list_and_delete_are_retried(
    faulty: R2Client, proxy: FaultProxy, r2: R2Client, bucket: str, sleeps: list[float]
) -> None:
    keys = {f"k{i}": os.urandom(100 + i) for i in range(50)}
    for key, data in keys.items():
        await r2.put_object(bucket, key, data)
    proxy.inject(respond(503, "ServiceUnavailable", method="HEAD"), reset_after_body(method="HEAD"))
    head = await faulty.head_object(bucket, "k7")
    assert head.content_length == 107
    # An XML answer cut short is an error, never a short listing: retried here.
    proxy.inject(truncate(300, method="GET"), stall(STALL_SECONDS, method="GET"))
    listing = await faulty.list_objects(bucket, timeout=STALL_READ_TIMEOUT)
    assert sorted(o.key for o in listing.objects) == sorted(keys)
    proxy.inject(reset_after_body(method="DELETE"), respond(500, method="DELETE"))
    await faulty.delete_object(bucket, "k0")
    del keys["k0"]
    with pytest.raises(NoSuchKeyError):
        await r2.head_object(bucket, "k0")
    assert len(proxy.applied) == 6 and len(sleeps) == 6
    await assert_reads_back(r2, bucket, {k: sha(v) for k, v in keys.items()})


# -- each fault, raised when retries are exhausted or not allowed --------------------------------


@pytest.mark.parametrize(
    ("fault", "exc", "written"),
    [
        (respond(500, "InternalError", method="PUT"), InternalServerError, False),
        (slow_down("1", method="PUT"), RateLimitError, False),
        (reset_before_body(method="PUT"), APIConnectionError, False),
        # The server stored the object; only the answer was lost.
        (reset_after_body(method="PUT"), APIConnectionError, True),
        (stall(STALL_SECONDS, method="PUT"), APITimeoutError, False),
    ],
    ids=lambda v: v.name if isinstance(v, Fault) else None,
)
async def test_put_faults_are_raised_without_retries(
    fault: Fault,
    exc: type[Exception],
    written: bool,
    faulty: R2Client,
    proxy: FaultProxy,
    r2: R2Client,
    bucket: str,
    sleeps: list[float],
) -> None:
    data = os.urandom(2000)
    proxy.inject(fault)
    with pytest.raises(exc) as info:
        await faulty.with_options(max_retries=0).put_object(
            bucket, "obj", data, timeout=STALL_READ_TIMEOUT
        )
    assert type(info.value) is exc and sleeps == []
    if isinstance(info.value, APIConnectionError):
        assert isinstance(info.value.__cause__, httpx.TransportError)
        assert info.value.url.endswith(f"/{bucket}/obj")
    else:
        assert info.value.code in ("InternalError", "SlowDown")  # type: ignore[attr-defined]
    if written:
        await assert_reads_back(r2, bucket, {"obj": sha(data)})
    else:
        # Nothing half-written is left behind.
        with pytest.raises(NoSuchKeyError):
            await r2.head_object(bucket, "obj")


async def test_every_retry_failing_raises_the_last_error(
    faulty: R2Client, proxy: FaultProxy, bucket: str, sleeps: list[float]
) -> None:
    proxy.inject(
        respond(500, method="GET"),
        reset_before_body(method="GET"),
        truncate(10, method="GET"),
        respond(503, "SlowDown", method="GET"),
    )
    with pytest.raises(RateLimitError) as info:
        await faulty.get_object(bucket, "anything")
    assert "gave up after 4 attempts" in str(info.value)
    assert len(sleeps) == 3


async def test_a_truncated_download_is_an_error_never_short_data(
    faulty: R2Client, proxy: FaultProxy, r2: R2Client, bucket: str, sleeps: list[float]
) -> None:
    data = os.urandom(600_000)
    await r2.put_object(bucket, "obj", data)
    proxy.inject(truncate(250_000, method="GET"))
    with pytest.raises(APIConnectionError, match="received 250000 bytes, expected 600000"):
        await faulty.with_options(max_retries=0).get_object(bucket, "obj")
    # An XML answer cut short is an error too, never a shorter listing.
    proxy.inject(truncate(100, method="GET"))
    with pytest.raises(APIConnectionError, match="complete message body"):
        await faulty.with_options(max_retries=0).list_objects(bucket)
    # Without retries left, a stream cut mid-body raises to the reader (with retries it is
    # resumed: tests/faults/test_cut_body_resumes.py).
    proxy.inject(truncate(250_000, method="GET"))
    received = bytearray()
    with pytest.raises(APIConnectionError, match="expected 600000"):
        no_retries = faulty.with_options(max_retries=0)
        async with no_retries.stream_object(bucket, "obj", chunk_size=65536) as stream:
            async for chunk in stream:
                received += chunk
    assert len(received) < len(data) and data.startswith(bytes(received))
    assert sleeps == []
    # A fault before the body (while opening the stream) is retried as usual.
    proxy.inject(respond(500, method="GET"), reset_after_body(method="GET"))
    async with faulty.stream_object(bucket, "obj") as stream:
        assert sha(await stream.read()) == sha(data)
    assert len(sleeps) == 2


async def test_a_one_shot_body_is_not_retried(
    faulty: R2Client, proxy: FaultProxy, r2: R2Client, bucket: str, sleeps: list[float]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * 1000

    proxy.inject(respond(500, method="PUT"))
    with pytest.raises(InternalServerError, match="not retried: the body is a one-shot stream"):
        await faulty.put_object(bucket, "stream", chunks(), content_length=4000)
    proxy.inject(reset_before_body(method="PUT"))
    with pytest.raises(APIConnectionError, match="not retried: the body is a one-shot stream"):
        await faulty.put_object(bucket, "stream", chunks(), content_length=4000)
    assert sleeps == []
    with pytest.raises(NoSuchKeyError):
        await r2.head_object(bucket, "stream")
    # Without a fault the same kind of body goes through.
    await faulty.put_object(bucket, "stream", chunks(), content_length=4000)
    await assert_reads_back(r2, bucket, {"stream": sha(b"x" * 4000)})


async def test_a_lying_stream_is_refused_and_nothing_is_stored(
    faulty: R2Client, r2: R2Client, bucket: str
) -> None:
    async def short() -> AsyncIterator[bytes]:
        yield b"abc"

    with pytest.raises(ValueError, match="content_length"):
        await faulty.put_object(bucket, "liar", short(), content_length=10)
    with pytest.raises(ValueError, match="content_length"):
        await faulty.put_object(bucket, "liar", short(), content_length=2)
    with pytest.raises(NoSuchKeyError):
        await r2.head_object(bucket, "liar")


async def test_a_lost_answer_to_an_unsafe_request_is_not_retried(
    faulty: R2Client, proxy: FaultProxy, r2: R2Client, bucket: str, sleeps: list[float]
) -> None:
    proxy.inject(reset_after_body(method="POST"))
    with pytest.raises(APIConnectionError, match="not safe to repeat"):
        await faulty.create_multipart_upload(bucket, "mpu")
    assert sleeps == []
    # The server did create an upload (the answer was lost); nothing was created twice.
    uploads = await r2.list_multipart_uploads(bucket)
    assert len(uploads.uploads) == 1
    await r2.abort_multipart_upload(bucket, "mpu", uploads.uploads[0].upload_id)


# -- connection-level failures ---------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_connection_refused_is_retried_then_raised_with_its_cause(
    s3_server: LocalR2Server, sleeps: list[float]
) -> None:
    kwargs = {**s3_server.client_kwargs, "endpoint_url": f"http://127.0.0.1:{_closed_port()}"}
    async with R2Client(**kwargs) as r2:
        with pytest.raises(APIConnectionError) as info:
            await r2.put_object("bkt", "k", b"x")
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert "gave up after 4 attempts" in str(info.value) and len(sleeps) == 3


async def test_pool_timeout_when_every_connection_is_busy(
    s3_server: LocalR2Server, proxy: FaultProxy, r2: R2Client, bucket: str, sleeps: list[float]
) -> None:
    await r2.put_object(bucket, "obj", b"data")
    kwargs: dict[str, Any] = {**s3_server.client_kwargs, "endpoint_url": proxy.endpoint_url}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with (
        httpx.AsyncClient(limits=limits) as http,
        R2Client(**kwargs, http_client=http) as one,
    ):
        # The only connection stalls (the proxy hangs up after 2 s; the read timeout is
        # longer), so the second request cannot get a connection within its pool timeout.
        proxy.inject(stall(2.0, method="GET"))
        first = asyncio.create_task(one.get_object(bucket, "obj", timeout=httpx.Timeout(30.0)))
        for _ in range(200):
            if proxy.applied:
                break
            await asyncio.sleep(0.01)
        assert proxy.applied
        with pytest.raises(APITimeoutError) as info:
            await one.with_options(max_retries=0).get_object(
                bucket, "obj", timeout=httpx.Timeout(30.0, pool=0.2)
            )
        assert isinstance(info.value.__cause__, httpx.PoolTimeout)
        # The stalled request's connection was dropped by the proxy: retried, it succeeds.
        assert (await first).body == b"data"
