"""Response headers on the aiohttp transport answer exactly as ``httpx.Headers`` would.

The transport answers header lookups from aiohttp's own parse (``aiohttp_headers``) instead
of building an ``httpx.Headers``; every lookup must give what the plain class gives for the
same bytes received: case-insensitive names, repeated headers joined with ", ", values that
are not ASCII (UTF-8, or bytes that are not UTF-8 at all) decoded as httpx decodes them.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.support.hostile import Conn, HostileServer

from r2async._transports.aiohttp_headers import AiohttpHeaders, usable
from r2async._transports.aiohttp_transport import AiohttpTransport

pytest.importorskip("aiohttp")

HEADS = {
    "plain": [(b"ETag", b'"abc"'), (b"Content-Length", b"0"), (b"x-amz-request-id", b"R1")],
    "repeated": [
        (b"Content-Length", b"0"),
        (b"x-amz-meta-tag", b"a"),
        (b"X-Amz-Meta-Tag", b"b, c"),
        (b"Content-Encoding", b"identity"),
        (b"content-encoding", b"identity"),
    ],
    "utf8": [(b"Content-Length", b"0"), (b"x-amz-meta-name", "é ü".encode())],
    "latin1": [(b"Content-Length", b"0"), (b"x-amz-meta-name", b"caf\xe9")],
}
LOOKUPS = ["etag", "ETAG", "content-length", "x-amz-meta-tag", "x-amz-meta-name", "missing"]


async def _serve(conn: Conn) -> None:
    while (request := await conn.request()) is not None:
        name = request.target.rsplit("/", 1)[1]
        head = b"".join(k + b": " + v + b"\r\n" for k, v in HEADS[name])
        await conn.write(b"HTTP/1.1 200 OK\r\n" + head + b"\r\n")


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer(_serve) as srv:
        yield srv


def test_the_fast_headers_are_in_use() -> None:
    assert usable()


@pytest.mark.parametrize("name", sorted(HEADS))
async def test_lookups_answer_as_httpx_headers(server: HostileServer, name: str) -> None:
    async with httpx.AsyncClient(transport=AiohttpTransport()) as http:
        response = await http.get(f"{server.url}/{name}")
    got = response.headers
    assert isinstance(got, AiohttpHeaders)
    plain = httpx.Headers(HEADS[name])
    assert got.raw == plain.raw == HEADS[name]
    for key in LOOKUPS:
        assert got.get(key) == plain.get(key), key
        assert (key in got) == (key in plain), key
        assert got.get_list(key) == plain.get_list(key), key
        assert got.get_list(key, split_commas=True) == plain.get_list(key, split_commas=True)
        if key in plain:
            assert got[key] == plain[key]
        else:
            with pytest.raises(KeyError):
                got[key]
    assert dict(got.items()) == dict(plain.items())
    # The index result parsers read directly (see indexed_headers) holds the same answers.
    assert got._lookup() == dict(plain.items())
    assert got.multi_items() == plain.multi_items()
    assert got.encoding == plain.encoding
    assert got == plain


async def test_changed_headers_answer_from_their_new_state(server: HostileServer) -> None:
    async with httpx.AsyncClient(transport=AiohttpTransport()) as http:
        response = await http.get(f"{server.url}/repeated")
    got, plain = response.headers, httpx.Headers(HEADS["repeated"])
    for headers in (got, plain):
        headers["x-amz-meta-tag"] = "z"
        del headers["content-encoding"]
        headers.update({"x-new": "1"})
    assert got.get("x-amz-meta-tag") == plain.get("x-amz-meta-tag") == "z"
    assert "content-encoding" not in got
    assert got.get("x-new") == "1"
    assert got.raw == plain.raw
