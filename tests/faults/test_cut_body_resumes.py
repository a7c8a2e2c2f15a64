"""A body cut partway (reset or closed early) is resumed, pinned to its ETag, every byte once.

The fault proxy (tests/support/faults.py) in front of SeaweedFS relays a GET's head and only
``keep`` bytes of its body, then resets the connection (RST) or closes it (FIN). The read must
go on from the first byte not yet received with ``Range`` + ``If-Match``, on both transports,
for ``stream_object``, ``get_object``, ``download_file`` (every part) and ``download_stream``;
within ``max_retries`` resumes in all; and an object replaced in between is
``ObjectChangedError`` with no byte of the new version delivered.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import anyio
import httpx
import pytest
from tests.support.faults import (
    Fault,
    FaultProxy,
    reset_after_body,
    reset_during_body,
    respond,
    stall,
    stall_during_body,
    truncate,
)

from r2async import (
    APIConnectionError,
    ObjectChangedError,
    PermissionDeniedError,
    PreconditionFailedError,
    R2Client,
    _retry,
)
from r2async._transports.pool import PoolTransport
from r2async.testing import LocalR2Server

MiB = 1024 * 1024
SIZE = 600_000
PART = 5 * MiB
# Two parts for the transfers: 5 MiB and 300,000 bytes.
BIG = PART + 300_000

CUTS: dict[str, Callable[..., Fault]] = {"reset": reset_during_body, "close": truncate}
# Where the body is cut, as a function of its length: before its first byte, after it, in
# the middle, and just before its last byte.
OFFSETS: dict[str, Callable[[int], int]] = {
    "before-first-byte": lambda n: 0,
    "after-first-byte": lambda n: 1,
    "middle": lambda n: n // 2,
    "before-last-byte": lambda n: n - 1,
}
TRANSPORTS = ["httpx", "aiohttp"]


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


@pytest.fixture(params=TRANSPORTS)
async def faulty(
    request: pytest.FixtureRequest, s3_server: LocalR2Server, proxy: FaultProxy
) -> AsyncIterator[R2Client]:
    """A client on each transport that talks to SeaweedFS through the fault proxy."""
    kwargs = {**s3_server.client_kwargs, "endpoint_url": proxy.endpoint_url}
    async with R2Client(**kwargs, transport=request.param) as client:
        yield client


def gets(proxy: FaultProxy) -> list[tuple[str | None, str | None]]:
    """(Range, If-Match) of every GET that reached the proxy, in order."""
    return [(rng, if_match) for method, _, rng, if_match in proxy.requests if method == "GET"]


def resumed_from(rng: str | None) -> int:
    assert rng is not None and rng.startswith("bytes=")
    return int(rng.removeprefix("bytes=").split("-")[0])


def assert_resumed_once(
    proxy: FaultProxy, etag: str, first: int, last: int, keep: int, cut: str
) -> None:
    """Two GETs: the original, then one pinned to ``etag`` from the first missing byte."""
    _, resumed = gets(proxy)
    assert_resumed(resumed, etag, first, last, keep, cut)


def assert_resumed(
    request: tuple[str | None, str | None],
    etag: str | None,
    first: int,
    last: int,
    keep: int,
    cut: str,
) -> None:
    """``request`` reads from the first byte not received up to ``last``, pinned to etag."""
    rng, if_match = request
    start = resumed_from(rng)
    # A closed connection delivers every relayed byte on the default transport. A reset may
    # drop bytes still in flight, and aiohttp raises at the close before handing over what it
    # had buffered: those are fetched again, never delivered twice.
    if cut == "close-exact":
        assert start == first + keep
    else:
        assert first <= start <= first + keep
    assert rng == f"bytes={start}-{last}" and if_match == etag


async def read_stream(client: R2Client, bucket: str, key: str, **kwargs: object) -> bytes:
    async with client.stream_object(bucket, key, chunk_size=65536, **kwargs) as stream:  # type: ignore[arg-type]
        out = bytearray()
        async for chunk in stream:
            out += chunk
        assert stream.bytes_received == len(out)
        return bytes(out)


async def read_get(client: R2Client, bucket: str, key: str, **kwargs: object) -> bytes:
    result = await client.get_object(bucket, key, **kwargs)  # type: ignore[arg-type]
    assert result.content_length == len(result.body)
    return result.body


READERS: dict[str, Callable[..., Awaitable[bytes]]] = {
    "stream_object": read_stream,
    "get_object": read_get,
}


# -- one cut at several offsets, both transports, every reader ----------------------------------


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("cut", sorted(CUTS))
@pytest.mark.parametrize("offset", list(OFFSETS))
async def test_a_cut_body_is_resumed_from_the_first_missing_byte(
    reader: str,
    cut: str,
    offset: str,
    faulty: R2Client,
    proxy: FaultProxy,
    r2: R2Client,
    bucket: str,
    sleeps: list[float],
) -> None:
    data = os.urandom(SIZE)
    etag = (await r2.put_object(bucket, "obj", data)).etag
    assert etag is not None
    keep = OFFSETS[offset](SIZE)
    proxy.inject(CUTS[cut](keep, method="GET"))
    got = await READERS[reader](faulty, bucket, "obj")
    assert len(got) == SIZE and sha(got) == sha(data)  # every byte exactly once, in order
    assert gets(proxy)[0] == (None, None)
    if cut == "close" and isinstance(faulty._shared.transport, PoolTransport):
        cut = "close-exact"
    assert_resumed_once(proxy, etag, 0, SIZE - 1, keep, cut)
    assert len(sleeps) == 1  # the usual backoff before the resume


@pytest.mark.parametrize("reader", sorted(READERS))
async def test_a_body_that_stalls_past_the_read_timeout_is_resumed(
    reader: str,
    faulty: R2Client,
    proxy: FaultProxy,
    r2: R2Client,
    bucket: str,
    sleeps: list[float],
) -> None:
    data = os.urandom(SIZE)
    etag = (await r2.put_object(bucket, "obj", data)).etag
    assert etag is not None
    proxy.inject(stall_during_body(SIZE // 2, 8, method="GET"))
    timeout = httpx.Timeout(30.0, read=1.0)
    assert await READERS[reader](faulty, bucket, "obj", timeout=timeout) == data
    assert_resumed_once(proxy, etag, 0, SIZE - 1, SIZE // 2, "stall")
    assert len(sleeps) == 1


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize(
    ("asked", "first", "last"),
    [
        ((1000, 400_999), 1000, 400_999),
        ("bytes=-250000", SIZE - 250_000, SIZE - 1),
        ("bytes=100000-", 100_000, SIZE - 1),
    ],
    ids=["start-end", "suffix", "open-ended"],
)
async def test_a_ranged_read_resumes_within_its_own_range(
    reader: str,
    asked: object,
    first: int,
    last: int,
    faulty: R2Client,
    proxy: FaultProxy,
    r2: R2Client,
    bucket: str,
    sleeps: list[float],
) -> None:
    data = os.urandom(SIZE)
    etag = (await r2.put_object(bucket, "obj", data)).etag
    assert etag is not None
    keep = (last - first + 1) // 3
    proxy.inject(truncate(keep, method="GET"))
    got = await READERS[reader](faulty, bucket, "obj", range=asked)
    assert got == data[first : last + 1]
    assert_resumed_once(proxy, etag, first, last, keep, "close")


async def test_a_part_number_read_resumes_within_its_part(
    faulty: R2Client, proxy: FaultProxy, r2: R2Client, bucket: str, sleeps: list[float]
) -> None:
    data = os.urandom(BIG)
    await r2.upload_file(bucket, "mp", io.BytesIO(data), threshold=PART, part_size=PART)
    head = await r2.head_object(bucket, "mp")
    proxy.inject(reset_during_body(100_000, method="GET"))
    got = await read_stream(faulty, bucket, "mp", part_number=2)
    assert got == data[PART:]
    (rng, if_match) = gets(proxy)[1]
    assert rng is not None and rng.endswith(f"-{BIG - 1}") and if_match == head.etag
    assert resumed_from(rng) >= PART
    # The resumed request reads by Range alone: partNumber and Range cannot go together.
    assert "partNumber" not in proxy.requests[-1][1]


async def test_sse_c_reads_resend_their_key_headers(
    faulty: R2Client, proxy: FaultProxy, r2: R2Client, bucket: str, sleeps: list[float]
) -> None:
    key = os.urandom(32)
    data = os.urandom(SIZE)
    await r2.put_object(bucket, "secret", data, sse_customer_key=key)
    for reader in READERS.values():
        proxy.inject(reset_during_body(SIZE // 2, method="GET"))
        # Without the key the resumed GET would be refused (400): the bytes prove it was sent.
        assert await reader(faulty, bucket, "secret", sse_customer_key=key) == data
    assert len(gets(proxy)) == 4


# -- download_file (every part) and download_stream -----------------------------------------------

PART_STARTS = {"first-part": 0, "last-part": PART}


def assert_each_part_resumed_once(
    proxy: FaultProxy, etag: str | None, cut: str, offset: str
) -> None:
    """Per part: its own GET, then one resumed from its first missing byte, pinned to etag."""
    requests = gets(proxy)
    assert len(requests) == 4
    for start, last in [(0, PART - 1), (PART, BIG - 1)]:
        own = [(rng, im) for rng, im in requests if rng and rng.endswith(f"-{last}")]
        assert len(own) == 2 and own[0][0] == f"bytes={start}-{last}"
        keep = OFFSETS[offset](last - start + 1)
        assert_resumed(own[1], etag, start, last, keep, cut)


@pytest.mark.parametrize("cut", sorted(CUTS))
@pytest.mark.parametrize("offset", ["before-first-byte", "middle", "before-last-byte"])
async def test_download_file_resumes_every_part(
    cut: str,
    offset: str,
    faulty: R2Client,
    proxy: FaultProxy,
    r2: R2Client,
    bucket: str,
    sleeps: list[float],
    tmp_path: Path,
) -> None:
    data = os.urandom(BIG)
    etag = (await r2.put_object(bucket, "big", data)).etag
    lengths = {"first-part": PART, "last-part": BIG - PART}
    for part, start in PART_STARTS.items():
        keep = OFFSETS[offset](lengths[part])
        proxy.inject(CUTS[cut](keep, method="GET", range=f"bytes={start}-"))
    dest = tmp_path / "out.bin"
    result = await faulty.download_file(bucket, "big", dest, part_size=PART, concurrency=2)
    assert sha(dest.read_bytes()) == sha(data)
    # The MD5 of the whole file still matches the ETag: no byte twice, none missing.
    assert result.md5_verified and result.content_length == BIG
    assert_each_part_resumed_once(proxy, etag, cut, offset)
    assert sorted(os.listdir(tmp_path)) == ["out.bin"]


@pytest.mark.parametrize("cut", sorted(CUTS))
@pytest.mark.parametrize("offset", ["before-first-byte", "middle", "before-last-byte"])
async def test_download_stream_resumes_every_part(
    cut: str,
    offset: str,
    faulty: R2Client,
    proxy: FaultProxy,
    r2: R2Client,
    bucket: str,
    sleeps: list[float],
) -> None:
    data = os.urandom(BIG)
    etag = (await r2.put_object(bucket, "big", data)).etag
    lengths = {"first-part": PART, "last-part": BIG - PART}
    for part, start in PART_STARTS.items():
        proxy.inject(
            CUTS[cut](OFFSETS[offset](lengths[part]), method="GET", range=f"bytes={start}-")
        )
    digest = hashlib.sha256()
    count = 0
    async with faulty.download_stream(bucket, "big", part_size=PART, concurrency=2) as stream:
        async for chunk in stream:
            digest.update(chunk)
            count += len(chunk)
    assert count == BIG and digest.hexdigest() == sha(data)
    assert_each_part_resumed_once(proxy, etag, cut, offset)


# -- the budget -----------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", sorted(READERS))
async def test_resumes_stop_at_max_retries_and_say_how_many(
    reader: str,
    faulty: R2Client,
    proxy: FaultProxy,
    r2: R2Client,
    bucket: str,
    sleeps: list[float],
) -> None:
    data = os.urandom(SIZE)
    await r2.put_object(bucket, "obj", data)
    # The original read and each of the two resumes allowed are cut.
    proxy.inject(
        reset_during_body(100_000, method="GET"),
        truncate(50_000, method="GET", range="bytes="),
        reset_during_body(50_000, method="GET", range="bytes="),
    )
    client = faulty.with_options(max_retries=2)
    with pytest.raises(APIConnectionError, match=r"gave up after 2 resumes from byte \d+"):
        await READERS[reader](client, bucket, "obj")
    assert len(gets(proxy)) == 3 and len(sleeps) == 2
    # No retries allowed: the cut is raised as it is, nothing else is sent.
    proxy.inject(truncate(100_000, method="GET"))
    with pytest.raises(APIConnectionError, match=r"not resumed: no retries allowed"):
        await READERS[reader](faulty.with_options(max_retries=0), bucket, "obj")
    assert len(gets(proxy)) == 4 and len(sleeps) == 2


async def test_a_failed_resume_request_counts_against_the_same_budget(
    faulty: R2Client, proxy: FaultProxy, r2: R2Client, bucket: str, sleeps: list[float]
) -> None:
    data = os.urandom(SIZE)
    await r2.put_object(bucket, "obj", data)
    # (Not a reset here: aiohttp repeats some reset requests by itself, unseen and uncounted.)
    proxy.inject(
        truncate(100_000, method="GET"),
        respond(500, "InternalError", method="GET", range="bytes="),
        respond(503, "SlowDown", headers={"Retry-After": "2"}, method="GET", range="bytes="),
    )
    async with faulty.with_options(max_retries=3).stream_object(bucket, "obj") as stream:
        assert await stream.read() == data
        assert stream.resumes == 3
    assert len(sleeps) == 3 and sleeps[2] == 2.0  # Retry-After of the 503 honoured
    if isinstance(faulty._shared.transport, PoolTransport):
        # A resumed request reset before its answer is one more attempt too.
        proxy.inject(truncate(100_000, method="GET"), reset_after_body(method="GET", range="b"))
        async with faulty.stream_object(bucket, "obj") as stream:
            assert await stream.read() == data
            assert stream.resumes == 2
    # One more failure than the budget allows: the last one is raised, with the count.
    proxy.inject(
        truncate(100_000, method="GET"),
        respond(503, "SlowDown", method="GET", range="bytes="),
        respond(503, "SlowDown", method="GET", range="bytes="),
    )
    with pytest.raises(Exception, match="gave up after 2 resumes") as info:
        await faulty.with_options(max_retries=2).get_object(bucket, "obj")
    assert getattr(info.value, "status_code", None) == 503
    # A final answer to the resume (403 here) is raised at once, whatever the budget.
    proxy.inject(
        truncate(100_000, method="GET"),
        respond(403, "AccessDenied", method="GET", range="bytes="),
    )
    with pytest.raises(PermissionDeniedError):
        await faulty.get_object(bucket, "obj")


# -- the object changes between the cut and the resume ------------------------------------------


@pytest.fixture
def overwrite_on_backoff(
    monkeypatch: pytest.MonkeyPatch, r2: R2Client
) -> Callable[[str, str, bytes], None]:
    """During the wait before a resume, replace the object (as another writer would)."""
    pending: list[tuple[str, str, bytes]] = []

    async def sleep_and_overwrite(seconds: float) -> None:
        while pending:
            bucket, key, data = pending.pop()
            await r2.put_object(bucket, key, data)

    monkeypatch.setattr(_retry, "sleep", sleep_and_overwrite)
    return lambda bucket, key, data: pending.append((bucket, key, data))


@pytest.mark.parametrize("reader", ["stream_object", "get_object", "download_stream"])
async def test_an_object_replaced_before_the_resume_is_object_changed_error(
    reader: str,
    faulty: R2Client,
    proxy: FaultProxy,
    r2: R2Client,
    bucket: str,
    overwrite_on_backoff: Callable[[str, str, bytes], None],
) -> None:
    old, new = os.urandom(SIZE), os.urandom(SIZE)
    await r2.put_object(bucket, "obj", old)
    proxy.inject(truncate(SIZE // 2, method="GET"))
    overwrite_on_backoff(bucket, "obj", new)
    received = bytearray()
    with pytest.raises(ObjectChangedError) as info:
        if reader == "stream_object":
            async with faulty.stream_object(bucket, "obj", chunk_size=4096) as stream:
                async for chunk in stream:
                    received += chunk
        elif reader == "download_stream":
            async with faulty.download_stream(bucket, "obj") as dstream:
                async for chunk in dstream:
                    received += chunk
        else:
            received += (await faulty.get_object(bucket, "obj")).body
    assert isinstance(info.value, PreconditionFailedError)  # old handlers still catch it
    assert info.value.status_code == 412 and "changed while its body was read" in str(info.value)
    # Only bytes of the old version, a prefix of it, were delivered.
    assert len(received) <= SIZE // 2 and old.startswith(bytes(received))
    assert (await r2.get_object(bucket, "obj")).body == new


async def test_download_file_of_an_object_replaced_before_a_resume_leaves_nothing(
    faulty: R2Client,
    proxy: FaultProxy,
    r2: R2Client,
    bucket: str,
    overwrite_on_backoff: Callable[[str, str, bytes], None],
    tmp_path: Path,
) -> None:
    old, new = os.urandom(BIG), os.urandom(BIG)
    await r2.put_object(bucket, "big", old)
    proxy.inject(truncate(100_000, method="GET", range=f"bytes={PART}-"))
    overwrite_on_backoff(bucket, "big", new)
    with pytest.raises(ObjectChangedError):
        await faulty.download_file(bucket, "big", tmp_path / "out.bin", part_size=PART)
    assert os.listdir(tmp_path) == []


# -- cancellation during a resume -----------------------------------------------------------------


@pytest.mark.parametrize("where", ["backoff", "resumed-request", "resumed-body"])
@pytest.mark.parametrize("reader", sorted(READERS))
async def test_a_cancelled_resume_leaves_no_connection_busy(
    where: str,
    reader: str,
    s3_server: LocalR2Server,
    proxy: FaultProxy,
    r2: R2Client,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = os.urandom(SIZE)
    await r2.put_object(bucket, "obj", data)
    in_backoff = anyio.Event()

    async def sleep(seconds: float) -> None:
        if where == "backoff":
            in_backoff.set()
            await anyio.sleep_forever()

    monkeypatch.setattr(_retry, "sleep", sleep)
    proxy.inject(truncate(100_000, method="GET"))
    if where == "resumed-request":
        proxy.inject(stall(10, method="GET", range="bytes="))
    elif where == "resumed-body":
        proxy.inject(stall_during_body(50_000, 10, method="GET", range="bytes="))
    kwargs = {**s3_server.client_kwargs, "endpoint_url": proxy.endpoint_url}
    async with R2Client(**kwargs) as client:
        await client.head_object(bucket, "obj")  # the transport is created on first use
        transport = client._shared.transport
        assert isinstance(transport, PoolTransport)

        async def read() -> None:
            await READERS[reader](client, bucket, "obj")

        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            with anyio.fail_after(30):
                await (in_backoff.wait() if where == "backoff" else proxy.stalled.wait())
            # Held there: the resumed connection is busy (or, in the backoff, none is).
            assert transport.pool.in_use == (0 if where == "backoff" else 1)
            tg.cancel_scope.cancel()
        assert transport.pool.in_use == 0
        # The client still answers.
        assert (await client.get_object(bucket, "obj")).body == data
        assert transport.pool.in_use == 0


# -- trio, on the default transport ------------------------------------------------------------


class ThreadedProxy:
    """A FaultProxy on an asyncio loop of its own thread, for a test running under trio."""

    def __init__(self, upstream: str) -> None:
        self.proxy = FaultProxy(upstream)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.proxy.__aenter__(), self._loop).result(30)
        return self.proxy

    def __exit__(self, *exc_info: object) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.proxy.aclose(), self._loop).result(30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
            self._loop.close()


def test_resume_and_a_cancelled_resume_under_trio(
    s3_server: LocalR2Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"trio-{uuid.uuid4().hex[:20]}"
    s3_server.create_bucket(name)
    data, big = os.urandom(SIZE), os.urandom(BIG)
    parked: list[anyio.Event] = []
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 4:  # the fourth wait is the one cancelled below
            parked[0].set()
            await anyio.sleep_forever()

    monkeypatch.setattr(_retry, "sleep", sleep)

    async def main(proxy: FaultProxy) -> None:
        parked.append(anyio.Event())
        async with R2Client(**s3_server.client_kwargs) as direct:
            await direct.put_object(name, "obj", data)
            await direct.put_object(name, "big", big)
        kwargs = {**s3_server.client_kwargs, "endpoint_url": proxy.endpoint_url}
        async with R2Client(**kwargs) as client:
            proxy.inject(reset_during_body(SIZE // 2, method="GET"))
            assert await read_stream(client, name, "obj") == data
            proxy.inject(truncate(SIZE // 3, method="GET"))
            assert await read_get(client, name, "obj") == data
            proxy.inject(reset_during_body(100_000, method="GET", range=f"bytes={PART}-"))
            result = await client.download_file(name, "big", tmp_path / "big.bin", part_size=PART)
            assert result.md5_verified and (tmp_path / "big.bin").read_bytes() == big
            assert len(waits) == 3
            transport = client._shared.transport
            assert isinstance(transport, PoolTransport)
            # Cancelled while waiting to resume: nothing stays open.
            proxy.inject(truncate(100_000, method="GET"))
            async with anyio.create_task_group() as tg:
                tg.start_soon(read_stream, client, name, "obj")
                with anyio.fail_after(30):
                    await parked[0].wait()
                tg.cancel_scope.cancel()
            assert transport.pool.in_use == 0
            assert await read_get(client, name, "obj") == data

    with ThreadedProxy(s3_server.endpoint_url) as proxy:
        anyio.run(main, proxy, backend="trio")
        assert proxy.pending == []
