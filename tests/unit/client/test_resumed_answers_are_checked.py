"""What a resumed read sends, and what it accepts back (a scripted server, no sockets).

A scripted transport plays the server: the first answer's body breaks partway (a read error,
or a chunked body that just stops), and the resumed request is answered as each case needs:
the same ETag (accepted), another ETag (``ObjectChangedError``), a wrong ``Content-Range``,
``Content-Length`` or status (``IntegrityError``), all before a byte of it is delivered.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable

import anyio
import httpx
import pytest
from tests.support.r2_answers import LAST_MODIFIED

from r2async import (
    APIConnectionError,
    IntegrityError,
    ObjectChangedError,
    R2Client,
    ResponseParseError,
    _retry,
)
from r2async._resume import Span, span_of

DATA = bytes(range(256)) * 40  # 10,240 bytes
ETAG = '"' + hashlib.md5(DATA).hexdigest() + '"'  # a whole read is compared with it
Handler = Callable[[httpx.Request, int], httpx.Response]


class Breaking(httpx.AsyncByteStream):
    """Yields ``data`` in 1,000-byte pieces, then raises ReadError (or just ends)."""

    def __init__(self, data: bytes, *, error: bool = True) -> None:
        self._data = data
        self._error = error
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i in range(0, len(self._data), 1000):
            yield self._data[i : i + 1000]
        if self._error:
            raise httpx.ReadError("connection reset by peer")

    async def aclose(self) -> None:
        self.closed = True


def cut_answer(keep: int, *, drop: str | None = None) -> httpx.Response:
    """The whole object's head (less ``drop``), and a body that breaks after ``keep`` bytes."""
    headers = {"content-length": str(len(DATA)), "etag": ETAG, "Last-Modified": LAST_MODIFIED}
    headers.pop(drop or "", None)
    return httpx.Response(200, headers=headers, stream=Breaking(DATA[:keep]))


def partial(start: int, last: int, *, etag: str = ETAG, **extra: str) -> httpx.Response:
    headers = {
        "content-range": f"bytes {start}-{last}/{len(DATA)}",
        "content-length": str(last - start + 1),
        "etag": etag,
        "Last-Modified": LAST_MODIFIED,
        **extra,
    }
    return httpx.Response(206, headers=headers, stream=httpx.ByteStream(DATA[start : last + 1]))


def resumed_range(request: httpx.Request) -> tuple[int, int]:
    first, last = request.headers["range"].removeprefix("bytes=").split("-")
    return int(first), int(last)


class Scripted:
    """A transport answering the n-th request with ``handler(request, n)``."""

    def __init__(self, handler: Handler) -> None:
        self.requests: list[httpx.Request] = []
        self.handler = handler

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            # A copy: r2async scrubs the credentials from a request once it is answered.
            self.requests.append(
                httpx.Request(request.method, request.url, headers=request.headers.copy())
            )
            return self.handler(request, len(self.requests) - 1)

        return httpx.MockTransport(handle)


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(_retry, "sleep", fake_sleep)
    return waits


def client(script: Scripted, **kwargs: object) -> R2Client:
    return R2Client(
        account_id="acct",
        access_key_id="AKID",
        secret_access_key="SECRET",
        transport=script.transport(),
        **kwargs,  # type: ignore[arg-type]
    )


async def read_stream(r2: R2Client, **kwargs: object) -> bytes:
    out = bytearray()
    try:
        async with r2.stream_object("bucket", "key", chunk_size=512, **kwargs) as stream:  # type: ignore[arg-type]
            async for chunk in stream:
                out += chunk
    except BaseException as exc:
        exc.received = bytes(out)  # type: ignore[attr-defined]
        raise
    return bytes(out)


async def read_get(r2: R2Client, **kwargs: object) -> bytes:
    return (await r2.get_object("bucket", "key", **kwargs)).body  # type: ignore[arg-type]


READERS = {"stream_object": read_stream, "get_object": read_get}


@pytest.fixture(params=sorted(READERS))
def read(request: pytest.FixtureRequest) -> Callable[..., object]:
    return READERS[request.param]


async def test_the_resumed_request_replaces_range_and_conditions_and_keeps_the_rest(
    read: Callable[..., object],
) -> None:
    def handler(request: httpx.Request, n: int) -> httpx.Response:
        if n == 0:
            return httpx.Response(
                206,
                headers={
                    "content-range": f"bytes 100-9099/{len(DATA)}",
                    "content-length": "9000",
                    "etag": ETAG,
                    "Last-Modified": LAST_MODIFIED,
                },
                stream=Breaking(DATA[100:3100]),
            )
        return partial(*resumed_range(request))

    script = Scripted(handler)
    async with client(
        script,
        headers={"x-client": "1"},
        operation_headers={"GetObject": {"if-none-match": '"other"', "x-op": "2"}},
    ) as r2:
        got = await read(  # type: ignore[operator]
            r2,
            range=(100, 9099),
            if_modified_since="Sat, 01 Jan 2000 00:00:00 GMT",
            sse_customer_key=b"k" * 32,
            checksum_mode=True,
            headers={"x-call": "3", "If-Unmodified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"},
        )
    assert got == DATA[100:9100]
    first, resumed = script.requests
    assert resumed.headers["range"] == "bytes=3100-9099"
    assert resumed.headers["if-match"] == ETAG
    for gone in (
        "if-none-match",
        "if-modified-since",
        "if-unmodified-since",
        "x-amz-checksum-mode",
    ):
        assert gone in first.headers and gone not in resumed.headers
    for kept in (
        "x-client",
        "x-op",
        "x-call",
        "x-amz-server-side-encryption-customer-key",
        "x-amz-server-side-encryption-customer-key-md5",
        "x-amz-server-side-encryption-customer-algorithm",
    ):
        assert resumed.headers[kept] == first.headers[kept]
    assert resumed.headers["authorization"] != first.headers["authorization"]  # signed anew


async def test_a_part_number_read_is_resumed_by_range_alone() -> None:
    def handler(request: httpx.Request, n: int) -> httpx.Response:
        if n == 0:
            assert request.url.params["partNumber"] == "2"
            headers = {
                "content-range": f"bytes 5000-{len(DATA) - 1}/{len(DATA)}",
                "content-length": str(len(DATA) - 5000),
                "etag": ETAG,
                "Last-Modified": LAST_MODIFIED,
            }
            return httpx.Response(206, headers=headers, stream=Breaking(DATA[5000:7000]))
        return partial(*resumed_range(request))

    script = Scripted(handler)
    async with client(script) as r2:
        assert await read_stream(r2, part_number=2) == DATA[5000:]
    assert "partNumber" not in script.requests[1].url.params
    assert script.requests[1].headers["range"] == f"bytes=7000-{len(DATA) - 1}"


async def test_another_etag_on_the_resumed_answer_is_object_changed(
    read: Callable[..., object],
) -> None:
    # A server (or cache) that ignores If-Match answers with the new version's bytes.
    def handler(request: httpx.Request, n: int) -> httpx.Response:
        if n == 0:
            return cut_answer(4000)
        return partial(*resumed_range(request), etag='"ffffffffffffffffffffffffffffffff"')

    async with client(Scripted(handler)) as r2:
        with pytest.raises(ObjectChangedError, match="it now has ETag") as info:
            await read(r2)  # type: ignore[operator]
    assert info.value.status_code == 206 and (info.value.bucket, info.value.key) == (
        "bucket",
        "key",
    )
    received = getattr(info.value, "received", b"")
    assert DATA.startswith(received) and len(received) <= 4000


@pytest.mark.parametrize(
    "answer",
    [
        lambda s, e: httpx.Response(
            200, headers={"etag": ETAG, "Last-Modified": LAST_MODIFIED}, content=DATA
        ),
        lambda s, e: partial(s - 1, e),
        lambda s, e: partial(s, e - 1),
        lambda s, e: partial(s, e, **{"content-length": str(e - s)}),
        lambda s, e: httpx.Response(
            206,
            headers={
                "content-range": f"bytes {s}-{e}/{len(DATA) + 1}",
                "etag": ETAG,
                "Last-Modified": LAST_MODIFIED,
            },
            content=DATA[s : e + 1],
        ),
        lambda s, e: httpx.Response(
            206, headers={"content-range": f"bytes {s}-{e}/{len(DATA)}"}, content=DATA[s : e + 1]
        ),
    ],
    ids=[
        "200-not-206",
        "starts-early",
        "ends-early",
        "content-length",
        "other-size",
        "no-etag",
    ],
)
async def test_a_resumed_answer_for_other_bytes_is_an_integrity_error(
    answer: Callable[[int, int], httpx.Response], read: Callable[..., object]
) -> None:
    def handler(request: httpx.Request, n: int) -> httpx.Response:
        return cut_answer(3000) if n == 0 else answer(*resumed_range(request))

    async with client(Scripted(handler)) as r2:
        with pytest.raises(IntegrityError, match="resuming 'key' asked for bytes 3000-10239"):
            await read(r2)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("drop", "why"), [("etag", "no ETag"), ("content-length", "no Content-Length")]
)
async def test_a_response_that_cannot_be_pinned_is_not_resumed_and_says_why(
    drop: str, why: str, read: Callable[..., object]
) -> None:
    script = Scripted(lambda request, n: cut_answer(3000, drop=drop))
    async with client(script) as r2:
        if read is READERS["stream_object"]:
            # A stream reads the object's metadata before any byte: an answer without a field
            # R2 always sends is refused at once, naming it, before its body is cut.
            header = {"etag": "ETag", "content-length": "Content-Length"}[drop]
            with pytest.raises(ResponseParseError, match=f"the {header} header"):
                await read(r2)  # type: ignore[operator]
        else:
            with pytest.raises(APIConnectionError, match=f"not resumed: .*{why}"):
                await read(r2)  # type: ignore[operator]
    assert len(script.requests) == 1


async def test_a_body_that_ends_early_without_an_error_is_resumed(
    read: Callable[..., object],
) -> None:
    # A chunked 206 that just stops: its Content-Range says how much is missing.
    def handler(request: httpx.Request, n: int) -> httpx.Response:
        if n == 0:
            headers = {
                "content-range": f"bytes 0-{len(DATA) - 1}/{len(DATA)}",
                "etag": ETAG,
                "Last-Modified": LAST_MODIFIED,
            }
            return httpx.Response(206, headers=headers, stream=Breaking(DATA[:6000], error=False))
        return partial(*resumed_range(request))

    script = Scripted(handler)
    async with client(script) as r2:
        assert await read(r2, range=(0, None)) == DATA  # type: ignore[operator]
    assert script.requests[1].headers["range"] == f"bytes=6000-{len(DATA) - 1}"


async def test_a_body_longer_than_declared_is_an_integrity_error(
    read: Callable[..., object],
) -> None:
    def handler(request: httpx.Request, n: int) -> httpx.Response:
        headers = {"content-length": "5000", "etag": ETAG, "Last-Modified": LAST_MODIFIED}
        return httpx.Response(200, headers=headers, stream=Breaking(DATA, error=False))

    async with client(Scripted(handler)) as r2:
        with pytest.raises(IntegrityError, match="more than the 5000 bytes"):
            await read(r2)  # type: ignore[operator]


async def test_every_resumed_response_is_closed(read: Callable[..., object]) -> None:
    streams: list[Breaking] = []

    def handler(request: httpx.Request, n: int) -> httpx.Response:
        keep = 2000 * (n + 1)
        stream = Breaking(DATA[keep - 2000 : keep])
        streams.append(stream)
        if n == 0:
            return httpx.Response(
                200,
                headers={
                    "content-length": str(len(DATA)),
                    "etag": ETAG,
                    "Last-Modified": LAST_MODIFIED,
                },
                stream=stream,
            )
        start, last = resumed_range(request)
        headers = {
            "content-range": f"bytes {start}-{last}/{len(DATA)}",
            "content-length": str(last - start + 1),
            "etag": ETAG,
            "Last-Modified": LAST_MODIFIED,
        }
        return httpx.Response(206, headers=headers, stream=stream)

    async with client(Scripted(handler), max_retries=3) as r2:
        with pytest.raises(APIConnectionError, match="gave up after 3 resumes from byte 8000"):
            await read(r2)  # type: ignore[operator]
    assert len(streams) == 4 and all(s.closed for s in streams)


def test_span_of_reads_the_response_not_the_request() -> None:
    whole = httpx.Response(
        200, headers={"content-length": "10", "etag": ETAG, "Last-Modified": LAST_MODIFIED}
    )
    assert span_of(whole) == Span(0, 9, 10, ETAG)
    part = httpx.Response(
        206,
        headers={
            "content-range": "bytes 5-9/10",
            "content-length": "5",
            "etag": ETAG,
            "Last-Modified": LAST_MODIFIED,
        },
    )
    assert span_of(part) == Span(5, 9, 10, ETAG)
    for bad in ["bytes 5-9/*", "bytes 9-5/10", "bytes 5-10/10", "bytes */10", "5-9/10"]:
        response = httpx.Response(
            206, headers={"content-range": bad, "etag": ETAG, "Last-Modified": LAST_MODIFIED}
        )
        assert isinstance(span_of(response), str), bad
    disagree = httpx.Response(
        206,
        headers={
            "content-range": "bytes 5-9/10",
            "content-length": "4",
            "etag": ETAG,
            "Last-Modified": LAST_MODIFIED,
        },
    )
    assert "disagree" in str(span_of(disagree))
    assert isinstance(
        span_of(httpx.Response(200, headers={"etag": ETAG, "Last-Modified": LAST_MODIFIED})), str
    )


def test_resuming_works_under_trio() -> None:
    def handler(request: httpx.Request, n: int) -> httpx.Response:
        return cut_answer(4000) if n == 0 else partial(*resumed_range(request))

    async def main() -> None:
        for read in READERS.values():
            async with client(Scripted(handler)) as r2:
                assert await read(r2) == DATA

    anyio.run(main, backend="trio")
