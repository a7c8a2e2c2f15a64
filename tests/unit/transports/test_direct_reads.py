"""Object bodies read into r2async's own buffers where the transport can place them there.

See ``r2async._transports.body_reads``: on the default transport, ``get_object`` fills one
preallocated buffer and ``stream_object`` fills each chunk, both in place; anything else (a
plain httpx transport, respx mocks) has no reader and takes the chunk path, with the same
bytes, the same chunk sizes and the same checks. Under asyncio and trio.
"""

from __future__ import annotations

import itertools
from typing import Any

import anyio
import httpx
import pytest
import respx
from tests.support.hostile import Conn, HostileServer, response
from tests.support.r2_answers import LAST_MODIFIED

from r2async import IntegrityError, R2Client, _collect
from r2async._operations.objects import build_get_object
from r2async._resume import ObjectBody
from r2async._transports.body_reads import body_reader

BODY = bytes((i * 7) % 251 for i in range(3 * 1024 * 1024 + 12345))


async def _serve(conn: Conn) -> None:
    for _ in range(100):
        request = await conn.request()
        if request is None:
            return
        if request.target.endswith("/long"):
            # A chunked body that runs past the length its Content-Range gives.
            head = (
                "HTTP/1.1 206 Partial Content\r\nTransfer-Encoding: chunked\r\n"
                'ETag: "abc"\r\nLast-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\n'
                "Content-Range: bytes 0-99/1000\r\n\r\n"
            )
            await conn.write(head.encode() + b"c8\r\n" + b"x" * 200 + b"\r\n0\r\n\r\n")
            continue
        await conn.write(response(BODY))


@pytest.fixture
def server() -> Any:
    with HostileServer(_serve) as srv:
        yield srv


def _r2(url: str, **kwargs: Any) -> R2Client:
    return R2Client(endpoint_url=url, access_key_id="AKID", secret_access_key="SECRET", **kwargs)


async def _read_all(url: str, **kwargs: Any) -> tuple[bytes, list[int], bytes, bool]:
    async with _r2(url, **kwargs) as r2:
        with anyio.fail_after(30):
            got = await r2.get_object("bkt", "k")
            async with r2.stream_object("bkt", "k", chunk_size=256 * 1024) as s:
                direct = s._body is not None and s._body.direct_reads
                chunks = [chunk async for chunk in s]
            async with r2.stream_object("bkt", "k") as s:
                whole = await s.read()
    return got.body, [len(c) for c in chunks], b"".join(chunks) + whole, direct


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_the_default_transport_places_bodies_in_place_with_the_same_bytes_and_chunks(
    server: HostileServer, backend: str
) -> None:
    body, sizes, streamed, direct = anyio.run(_read_all, server.url, backend=backend)
    assert direct
    assert body == BODY
    assert streamed == BODY + BODY
    # Exactly the chunk size asked, the last one shorter.
    assert sizes[:-1] == [256 * 1024] * (len(sizes) - 1)
    assert 0 < sizes[-1] <= 256 * 1024
    # One connection for all three reads: each ended its message cleanly.
    assert server.connections == 1


async def test_a_plain_httpx_transport_has_no_reader_and_reads_chunks(
    server: HostileServer,
) -> None:
    http = httpx.AsyncClient(transport=httpx.AsyncHTTPTransport())
    body, sizes, streamed, direct = await _read_all(server.url, http_client=http)
    await http.aclose()
    assert not direct
    assert body == BODY
    assert streamed == BODY + BODY
    assert sizes[:-1] == [256 * 1024] * (len(sizes) - 1)


async def test_mocked_responses_have_no_reader() -> None:
    with respx.mock(base_url="https://acct.r2.cloudflarestorage.com") as mock:
        mock.get("/bkt/k").respond(
            200, content=BODY, headers={"ETag": '"x-2"', "Last-Modified": LAST_MODIFIED}
        )
        async with R2Client(
            account_id="acct", access_key_id="AKID", secret_access_key="SECRET"
        ) as r2:
            response, _ = await r2._send(build_get_object("bkt", "k"), stream=True)
            try:
                assert body_reader(response) is None
            finally:
                await response.aclose()
            got = await r2.get_object("bkt", "k")
    assert got.body == BODY


async def test_a_body_longer_than_its_declared_span_is_refused(server: HostileServer) -> None:
    async with _r2(server.url) as r2:
        with pytest.raises(IntegrityError, match="more than"):
            await r2.get_object("bkt", "long", range=(0, 99))
        async with r2.stream_object("bkt", "long", range=(0, 99)) as s:
            assert s._body is not None and s._body.direct_reads
            with pytest.raises(IntegrityError, match="more than"):
                async for _ in s:
                    pass


async def test_a_body_past_the_first_allocation_grows_in_bounded_steps(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_collect, "FIRST_ALLOCATION", 1024 * 1024)
    monkeypatch.setattr(_collect, "GROWTH", 256 * 1024)
    steps: list[int] = []
    grow = _collect.BodyBuffer._grow

    def spy(self: _collect.BodyBuffer) -> None:
        grow(self)
        steps.append(self._size)

    monkeypatch.setattr(_collect.BodyBuffer, "_grow", spy)
    async with _r2(server.url) as r2:
        got = await r2.get_object("bkt", "k")
    assert got.body == BODY
    # Each step at most GROWTH (or an eighth) past the last, ending at the declared size.
    assert steps[-1] == len(BODY)
    sizes = [1024 * 1024, *steps]
    assert all(b - a <= max(256 * 1024, a // 8) for a, b in itertools.pairwise(sizes))


async def _fill(chunks: list[bytes], declared: int | None, buffer_size: int) -> bytes:
    async def source() -> Any:
        for chunk in chunks:
            yield chunk

    class Response:
        def __init__(self) -> None:
            self.headers = httpx.Headers(
                {} if declared is None else {"content-length": str(declared)}
            )
            self.status_code = 200
            self.is_stream_consumed = False
            self.is_closed = False
            self.extensions: dict[str, Any] = {}
            self.stream = None
            self.request = httpx.Request("GET", "http://x/b/k")
            self.url = self.request.url

        def aiter_raw(self) -> Any:
            return source()

    body = ObjectBody(Response(), reopen=None, max_resumes=0, bucket="b", key="k")  # type: ignore[arg-type]
    assert not body.direct_reads
    out = bytearray()
    while True:
        buffer = bytearray(buffer_size)
        n = await body.readinto(memoryview(buffer))
        if not n:
            return bytes(out)
        out += buffer[:n]


@pytest.mark.parametrize("buffer_size", [1, 7, 100, 4096])
async def test_readinto_over_chunks_keeps_what_does_not_fit(buffer_size: int) -> None:
    chunks = [b"a" * 10, b"b" * 300, b"c", b"d" * 5000]
    data = b"".join(chunks)
    assert await _fill(chunks, len(data), buffer_size) == data
    assert await _fill(chunks, None, buffer_size) == data
    with pytest.raises(IntegrityError, match="more than"):
        await _fill(chunks, len(data) - 1, buffer_size)
