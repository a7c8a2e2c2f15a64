"""The core operations over HTTPS, on both transports, against SeaweedFS serving S3 over TLS.

R2 is reached only over HTTPS, so every core operation runs here through TLS with the
certificate verified against a test CA generated when the server starts
(``LocalR2Server(tls=True)``): nothing here turns verification off. One server and one bucket
for the module, one key prefix per test.
"""

from __future__ import annotations

import hashlib
import ssl
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from r2async import AiohttpTransport, NoSuchKeyError, PoolTransport, R2Client
from r2async.testing import LocalR2Server, LocalServerError, start_local_server

MiB = 1024 * 1024
TRANSPORTS = ["httpx", "aiohttp"]


@pytest.fixture(scope="module")
def tls_server() -> Iterator[LocalR2Server]:
    server = start_local_server(tls=True, buckets=["https-core"])
    try:
        yield server
    finally:
        server.stop()


def _client(server: LocalR2Server, transport: str) -> R2Client:
    context = server.ssl_context()
    if transport == "aiohttp":
        return R2Client(**server.client_kwargs, transport=AiohttpTransport(verify=context))
    return R2Client(**server.client_kwargs, transport=PoolTransport(ssl_context=context))


@pytest.fixture(params=TRANSPORTS)
async def r2(request: pytest.FixtureRequest, tls_server: LocalR2Server) -> AsyncIterator[R2Client]:
    async with _client(tls_server, request.param) as client:
        yield client


@pytest.fixture
def prefix() -> str:
    return f"{uuid.uuid4().hex[:12]}/"


BUCKET = "https-core"


def payload(size: int) -> bytes:
    return hashlib.shake_256(str(size).encode()).digest(size)


def test_server_serves_https_with_the_generated_ca(tls_server: LocalR2Server) -> None:
    assert tls_server.endpoint_url.startswith("https://127.0.0.1:")
    assert tls_server.ca_file.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    # Without the test CA the certificate is refused: the tests below really verify it.
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(tls_server.endpoint_url, verify=ssl.create_default_context())
    # Trusting the CA, the TLS handshake succeeds (unsigned, so S3 answers 403), also under
    # OpenSSL's strict checks (Python 3.13's default), which reject a CA missing extensions.
    strict = tls_server.ssl_context()
    strict.verify_flags |= ssl.VERIFY_X509_STRICT
    assert httpx.get(tls_server.endpoint_url, verify=strict).status_code == 403


def test_tls_argument_is_checked_before_anything_starts() -> None:
    with pytest.raises(TypeError, match="tls must be True or False"):
        LocalR2Server(tls="yes")  # type: ignore[arg-type]
    plain = LocalR2Server()
    with pytest.raises(LocalServerError, match="start it with tls=True"):
        _ = plain.ca_file
    not_started = LocalR2Server(tls=True)
    with pytest.raises(LocalServerError, match="not running"):
        _ = not_started.ca_file


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_untrusted_certificate_fails_on_both_transports(
    tls_server: LocalR2Server, transport: str
) -> None:
    untrusted = ssl.create_default_context()
    if transport == "aiohttp":
        made = AiohttpTransport(verify=untrusted)
    else:
        made = PoolTransport(ssl_context=untrusted)
    async with R2Client(**tls_server.client_kwargs, transport=made, max_retries=0) as r2:
        with pytest.raises(Exception, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify"):
            await r2.head_object(BUCKET, "anything")


async def test_put_get_head_stream_list_copy_delete(r2: R2Client, prefix: str) -> None:
    key = prefix + "obj"
    data = payload(3 * MiB + 7)
    put = await r2.put_object(BUCKET, key, data, content_type="application/octet-stream")
    got = await r2.get_object(BUCKET, key)
    assert got.body == data and got.etag == put.etag
    head = await r2.head_object(BUCKET, key)
    assert head.content_length == len(data)
    digest = hashlib.sha256()
    async with r2.stream_object(BUCKET, key, chunk_size=256 * 1024) as stream:
        async for chunk in stream:
            digest.update(chunk)
    assert digest.digest() == hashlib.sha256(data).digest()
    await r2.copy_object(BUCKET, prefix + "copy", source_key=key)
    listed = await r2.list_objects(BUCKET, prefix=prefix)
    assert [o.key for o in listed.objects] == [prefix + "copy", key]
    await r2.delete_object(BUCKET, key)
    with pytest.raises(NoSuchKeyError):
        await r2.head_object(BUCKET, key)
    assert (await r2.get_object(BUCKET, prefix + "copy")).body == data


async def test_multipart_upload_and_download_file(
    r2: R2Client, prefix: str, tmp_path: Path
) -> None:
    source = tmp_path / "in.bin"
    data = payload(11 * MiB + 3)
    source.write_bytes(data)
    uploaded = await r2.upload_file(
        BUCKET, prefix + "file", source, part_size=5 * MiB, threshold=5 * MiB, concurrency=3
    )
    assert uploaded.part_count == 3
    target = tmp_path / "out.bin"
    await r2.download_file(BUCKET, prefix + "file", target, part_size=5 * MiB, concurrency=3)
    assert target.read_bytes() == data


async def test_presigned_get_over_https(
    r2: R2Client, prefix: str, tls_server: LocalR2Server
) -> None:
    await r2.put_object(BUCKET, prefix + "shared", b"presigned body")
    url = r2.presign_get_object(BUCKET, prefix + "shared", expires_in=300).url
    assert url.startswith("https://127.0.0.1:")
    async with httpx.AsyncClient(verify=tls_server.ssl_context()) as http:
        response = await http.get(url)
    assert response.status_code == 200 and response.content == b"presigned body"
