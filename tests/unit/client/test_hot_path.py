"""The short send path: what skipping AsyncClient.send and indexing headers must not change."""

from __future__ import annotations

import hashlib
import logging
import socket
import ssl

import httpx
import pytest
import respx
from tests.support.r2_answers import LAST_MODIFIED, object_headers

from r2async import APIConnectionError, R2Client
from r2async._operations.objects import build_head_object
from r2async._transports import tls
from r2async._transports.indexed_headers import IndexedHeaders as _IndexedHeaders
from r2async._transports.indexed_headers import indexed as _indexed

BASE = "https://acct.r2.cloudflarestorage.com"


def make_client(**kwargs: object) -> R2Client:
    return R2Client(
        account_id="acct",
        access_key_id="AKID",
        secret_access_key="SECRET",
        **kwargs,  # type: ignore[arg-type]
    )


# -- indexed response headers ---------------------------------------------------------------


RAW = [
    (b"Content-Length", b"10"),
    (b"ETag", b'"abc"'),
    (b"x-amz-meta-a", b"1"),
    (b"X-Amz-Meta-A", b"2"),
    (b"x-amz-meta-caf\xc3\xa9", b"ok"),
]


def test_indexed_headers_answer_as_httpx_headers_do() -> None:
    plain = httpx.Headers(RAW)
    fast = _indexed(httpx.Headers(RAW))
    assert isinstance(fast, _IndexedHeaders)
    for name in ["content-length", "ETAG", "x-amz-meta-a", "X-AMZ-META-CAFÉ", "missing"]:
        assert fast.get(name) == plain.get(name)
        assert (name in fast) == (name in plain)
        if name in plain:
            assert fast[name] == plain[name]
        else:
            with pytest.raises(KeyError):
                fast[name]
    assert fast["x-amz-meta-a"] == "1, 2"
    assert fast.raw == plain.raw
    assert list(fast.multi_items()) == list(plain.multi_items())
    assert dict(fast) == dict(plain) and len(fast) == len(plain)
    assert fast == plain
    assert 3 not in fast  # type: ignore[comparison-overlap]


def test_changing_indexed_headers_drops_the_index() -> None:
    fast = _indexed(httpx.Headers(RAW))
    assert fast.get("etag") == '"abc"'
    fast["ETag"] = '"new"'
    assert fast.get("etag") == '"new"'
    del fast["etag"]
    assert "etag" not in fast
    fast.update({"etag": '"again"', "Last-Modified": LAST_MODIFIED, "x-new": "1"})
    assert fast["etag"] == '"again"' and fast["x-new"] == "1"


def test_headers_of_another_type_are_left_alone() -> None:
    class Custom(httpx.Headers):
        pass

    custom = Custom(RAW)
    assert _indexed(custom) is custom


async def test_responses_carry_indexed_headers_on_both_paths() -> None:
    async with make_client() as owned, httpx.AsyncClient() as http:
        theirs = make_client(http_client=http)
        with respx.mock(base_url=BASE) as mock:
            mock.head(url__regex=r".*").respond(
                200,
                headers={
                    "Content-Length": "3",
                    "ETag": '"e"',
                    "Last-Modified": LAST_MODIFIED,
                    "x-amz-meta-k": "v",
                },
            )
            for client in (owned, theirs):
                result = await client.head_object("bkt", "k")
                assert result.etag == '"e"' and result.metadata == {"k": "v"}
                response, _ = await client._send(build_head_object("bkt", "k"))
                assert isinstance(response.headers, _IndexedHeaders)


# -- the owned client sends straight to its transport ---------------------------------------


async def test_owned_client_skips_asyncclient_send_but_keeps_its_log_line(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_send(*args: object, **kwargs: object) -> httpx.Response:
        raise AssertionError("AsyncClient.send was used")

    monkeypatch.setattr(httpx.AsyncClient, "send", no_send)
    caplog.set_level(logging.INFO, logger="httpx")
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").respond(
                200, headers={"ETag": '"e"', "Last-Modified": LAST_MODIFIED}
            )
            result = await r2.put_object("bkt", "some/key", b"data")
        assert result.etag == '"e"'
        request = route.calls.last.request
        assert request.url.raw_path == b"/bkt/some/key"
        assert request.headers["authorization"].startswith("AWS4-HMAC-SHA256 ")
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines == [f'HTTP Request: PUT {BASE}/bkt/some/key "HTTP/1.1 200 OK"']


async def test_a_users_client_still_goes_through_send(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[httpx.Request] = []
    original = httpx.AsyncClient.send

    async def recording(self: httpx.AsyncClient, request: httpx.Request, **kw: object) -> object:
        sent.append(request)
        return await original(self, request, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx.AsyncClient, "send", recording)
    async with httpx.AsyncClient() as http:
        r2 = make_client(http_client=http)
        with respx.mock(base_url=BASE) as mock:
            mock.delete(url__regex=r".*").respond(204)
            await r2.delete_object("bkt", "k")
        await r2.aclose()
    assert len(sent) == 1


async def test_transport_errors_carry_their_request() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with R2Client(
        endpoint_url=f"http://127.0.0.1:{port}",
        access_key_id="AKID",
        secret_access_key="SECRET",
        max_retries=0,
    ) as r2:
        with pytest.raises(APIConnectionError) as info:
            await r2.get_object("bkt", "k")
    cause = info.value.__cause__
    assert isinstance(cause, httpx.ConnectError)
    assert cause.request.url.raw_path == b"/bkt/k"


async def test_one_ssl_context_serves_every_https_client(monkeypatch: pytest.MonkeyPatch) -> None:
    context = ssl.create_default_context()
    monkeypatch.setattr(tls, "_SSL_CONTEXT", context)
    for endpoint in ("https://a.example", "https://b.example:8443"):
        async with R2Client(
            endpoint_url=endpoint, access_key_id="AKID", secret_access_key="SECRET"
        ) as r2:
            r2._shared.client()
            transport = r2._shared.transport
            assert isinstance(transport, httpx.AsyncHTTPTransport)
            assert transport._pool._ssl_context is context


async def test_an_http_endpoint_loads_no_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    # Loading the CA bundle is most of a fresh process's time to its first response; a
    # plain-HTTP endpoint never handshakes. Its context loads no CA, so it would fail closed.
    monkeypatch.setattr(tls, "_SSL_CONTEXT", None)
    async with R2Client(
        endpoint_url="http://127.0.0.1:9", access_key_id="AKID", secret_access_key="SECRET"
    ) as r2:
        r2._shared.client()
        transport = r2._shared.transport
        assert isinstance(transport, httpx.AsyncHTTPTransport)
        context = transport._pool._ssl_context
    assert tls._SSL_CONTEXT is None
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.get_ca_certs() == []


async def test_head_of_a_large_object_reads_no_body() -> None:
    # Content-Length on a HEAD answer is the object's size, not a body to read (or to hold
    # against the XML size limit).
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.head(url__regex=r".*").respond(
                200,
                headers={
                    "Content-Length": str(5 * 2**30),
                    "ETag": '"e"',
                    "Last-Modified": LAST_MODIFIED,
                },
            )
            head = await r2.head_object("bkt", "huge")
    assert head.content_length == 5 * 2**30


async def test_large_bodies_are_sent_in_slices_but_signed_whole() -> None:
    data = b"x" * (3 * 2**20 + 5)
    seen: list[tuple[httpx.Request, list[bytes]]] = []

    class Recording(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            assert isinstance(request.stream, httpx.AsyncByteStream)
            seen.append((request, [bytes(chunk) async for chunk in request.stream]))
            return httpx.Response(200, headers=object_headers())

    async with make_client(transport=Recording()) as r2:
        await r2.put_object("bkt", "k", data)
        await r2.put_object("bkt", "small", b"tiny")
    (big, chunks), (_, small_chunks) = seen
    assert [len(c) for c in chunks] == [2**20, 2**20, 2**20, 5] and b"".join(chunks) == data
    assert big.content == data
    assert big.headers["x-amz-content-sha256"] == hashlib.sha256(data).hexdigest()
    assert small_chunks == [b"tiny"]


async def test_an_https_client_builds_the_tls_context_in_the_background_from_construction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Loading the CA bundle releases the GIL: started at construction, it overlaps the
    # imports the first request still has to do instead of adding to them.
    monkeypatch.setattr(tls, "_SSL_CONTEXT", None)
    monkeypatch.setattr(tls, "_PREPARING", [])
    R2Client(endpoint_url="http://127.0.0.1:9", access_key_id="AKID", secret_access_key="S")
    assert tls._PREPARING == []
    r2 = R2Client(endpoint_url="https://a.example", access_key_id="AKID", secret_access_key="S")
    R2Client(endpoint_url="https://b.example", access_key_id="AKID", secret_access_key="S")
    assert len(tls._PREPARING) == 1  # once per process
    tls._PREPARING[0].join(timeout=60)
    built = tls._SSL_CONTEXT
    assert isinstance(built, ssl.SSLContext) and built.get_ca_certs()
    async with r2:
        r2._shared.client()
        transport = r2._shared.transport
        assert isinstance(transport, httpx.AsyncHTTPTransport)
        assert transport._pool._ssl_context is built
