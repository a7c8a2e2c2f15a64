"""examples/fastapi_app.py in-process (httpx ASGITransport) against the local SeaweedFS."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from example_app import load_example

from r2async import R2Client
from r2async.testing import LocalR2Server

fastapi_app = load_example()
ORIGIN = "http://127.0.0.1:8765"


@asynccontextmanager
async def running(
    server: LocalR2Server, bucket: str, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, and an httpx client calling it in-process."""
    app = fastapi_app.create_app(
        fastapi_app.Settings(
            bucket=bucket,
            cors_origins=(ORIGIN,),
            client_kwargs=server.client_kwargs,
            **settings,
        )
    )
    # ASGITransport does not run lifespan events; enter the app's lifespan ourselves.
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            yield client


@pytest.fixture
async def app(s3_server: LocalR2Server, bucket: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running(s3_server, bucket) as client:
        yield client


def _data(size: int) -> bytes:
    return os.urandom(size)


async def _chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


# -- upload and download -----------------------------------------------------------------------


async def test_upload_with_content_length_then_download(
    app: httpx.AsyncClient, r2: R2Client, bucket: str
) -> None:
    data = _data(3 * 1024 * 1024 + 17)

    response = await app.put(
        "/api/objects/docs/report 2024.pdf",
        content=data,
        headers={"Content-Type": "application/pdf"},
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["key"] == "docs/report 2024.pdf"
    assert body["size"] == len(data)
    stored = await r2.get_object(bucket, "docs/report 2024.pdf")
    assert stored.body == data
    assert stored.content_type == "application/pdf"
    assert stored.parts_count is None  # one PutObject
    assert body["etag"] == stored.etag == f'"{hashlib.md5(data).hexdigest()}"'

    downloaded = await app.get("/api/objects/docs/report 2024.pdf")
    assert downloaded.status_code == 200
    assert downloaded.content == data
    assert downloaded.headers["content-type"] == "application/pdf"
    assert downloaded.headers["content-length"] == str(len(data))
    assert downloaded.headers["etag"] == stored.etag


async def test_chunked_upload_goes_multipart(
    app: httpx.AsyncClient, r2: R2Client, bucket: str
) -> None:
    data = _data(20 * 1024 * 1024 + 5)  # three 8 MiB parts, the last one short

    # An async iterable body has no Content-Length: httpx sends it chunked.
    response = await app.put("/api/objects/big.bin", content=_chunks(data))

    assert response.status_code == 201, response.text
    assert response.json()["size"] == len(data)
    head = await r2.head_object(bucket, "big.bin")
    assert head.content_length == len(data)
    assert head.etag is not None and head.etag.endswith('-3"')  # a multipart ETag
    assert (await r2.get_object(bucket, "big.bin")).body == data
    assert (await r2.list_multipart_uploads(bucket)).uploads == ()


async def test_existing_objects_are_never_overwritten(
    app: httpx.AsyncClient, r2: R2Client, bucket: str
) -> None:
    first = await app.put("/api/objects/once.txt", content=b"first")
    assert first.status_code == 201

    again = await app.put("/api/objects/once.txt", content=b"second")
    chunked_again = await app.put("/api/objects/once.txt", content=_chunks(b"third"))

    for response in (again, chunked_again):
        assert response.status_code == 409
        assert response.json()["detail"] == (
            "an object named 'once.txt' already exists; objects are write-once"
        )
    assert (await r2.get_object(bucket, "once.txt")).body == b"first"
    assert (await r2.list_multipart_uploads(bucket)).uploads == ()


async def test_download_of_a_missing_key_is_404(app: httpx.AsyncClient) -> None:
    response = await app.get("/api/objects/nothing/here")

    assert response.status_code == 404
    assert response.json()["detail"] == "no object named 'nothing/here'"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/api/objects/a/%2E%2E/b", "'.' or '..' segments"),
        ("/api/objects/a/%2E/b", "'.' or '..' segments"),
        ("/api/objects//rooted", "must not start with '/'"),
        ("/api/objects/bell%07", "control characters"),
        ("/api/objects/" + "k" * 1025, "1 to 1,024 UTF-8 bytes"),
    ],
)
async def test_unsafe_keys_are_refused(app: httpx.AsyncClient, path: str, reason: str) -> None:
    for response in (await app.put(path, content=b"x"), await app.get(path)):
        assert response.status_code == 400, path
        assert reason in response.json()["detail"]


async def test_upload_limit(s3_server: LocalR2Server, bucket: str, r2: R2Client) -> None:
    async with running(s3_server, bucket, max_upload_bytes=1000) as app:
        declared = await app.put("/api/objects/declared.bin", content=b"x" * 1001)
        chunked = await app.put("/api/objects/chunked.bin", content=_chunks(b"x" * 1001, 100))
        presigned = await app.post(
            "/api/presign", json={"key": "p.bin", "content_type": "text/plain", "size": 1001}
        )
        at_limit = await app.put("/api/objects/ok.bin", content=_chunks(b"x" * 1000, 100))

    for response in (declared, chunked, presigned):
        assert response.status_code == 413
        assert response.json()["detail"] == "uploads are limited to 1000 bytes"
    assert at_limit.status_code == 201
    listing = await r2.list_objects(bucket)
    assert [o.key for o in listing.objects] == ["ok.bin"]
    assert (await r2.list_multipart_uploads(bucket)).uploads == ()


# -- listing -----------------------------------------------------------------------------------


async def test_listing(app: httpx.AsyncClient) -> None:
    for key, size in [("a/1.txt", 1), ("a/2.txt", 22), ("b.txt", 333)]:
        assert (await app.put(f"/api/objects/{key}", content=b"z" * size)).status_code == 201

    everything = (await app.get("/api/objects")).json()
    only_a = (await app.get("/api/objects", params={"prefix": "a/"})).json()

    assert [(o["key"], o["size"]) for o in everything["objects"]] == [
        ("a/1.txt", 1),
        ("a/2.txt", 22),
        ("b.txt", 333),
    ]
    assert everything["truncated"] is False
    assert all(o["etag"] and o["last_modified"] for o in everything["objects"])
    assert [o["key"] for o in only_a["objects"]] == ["a/1.txt", "a/2.txt"]


# -- presigned browser uploads -----------------------------------------------------------------


async def test_presigned_put_signs_type_size_and_create_only(
    app: httpx.AsyncClient, r2: R2Client, bucket: str
) -> None:
    data = b"%PNG fake image bytes"
    response = await app.post(
        "/api/presign",
        json={"key": "img/cat é.png", "content_type": "image/png", "size": len(data)},
    )
    assert response.status_code == 200, response.text
    signed = response.json()
    assert signed["method"] == "PUT"
    assert signed["headers"] == {
        "content-type": "image/png",
        "content-length": str(len(data)),
        "if-none-match": "*",
    }
    assert "X-Amz-Signature=" in signed["url"]

    async with httpx.AsyncClient(trust_env=False) as browser:
        wrong_type = await browser.put(
            signed["url"], content=data, headers={**signed["headers"], "content-type": "text/html"}
        )
        wrong_size = await browser.put(
            signed["url"],
            content=data + b"!",
            headers={**signed["headers"], "content-length": str(len(data) + 1)},
        )
        assert (wrong_type.status_code, wrong_size.status_code) == (403, 403)
        ok = await browser.put(signed["url"], content=data, headers=signed["headers"])
        assert ok.status_code == 200, ok.text
        replay = await browser.put(signed["url"], content=data, headers=signed["headers"])
        assert replay.status_code == 412

    stored = await r2.get_object(bucket, "img/cat é.png")
    assert stored.body == data
    assert stored.content_type == "image/png"
    # Asking again for an existing key is refused up front.
    again = await app.post(
        "/api/presign", json={"key": "img/cat é.png", "content_type": "image/png", "size": 3}
    )
    assert again.status_code == 409


async def test_presign_validates_its_input(app: httpx.AsyncClient) -> None:
    negative = await app.post("/api/presign", json={"key": "k", "size": -1})
    bad_key = await app.post("/api/presign", json={"key": "../etc/passwd", "size": 1})

    assert negative.status_code == 422
    assert bad_key.status_code == 400


async def test_the_cors_rule_is_set_at_startup(
    app: httpx.AsyncClient, r2: R2Client, s3_server: LocalR2Server, bucket: str
) -> None:
    rules = await r2.get_bucket_cors(bucket)
    assert [(r.allowed_origins, r.allowed_methods, r.allowed_headers) for r in rules] == [
        ((ORIGIN,), ("PUT", "GET", "HEAD"), ("content-type", "if-none-match"))
    ]
    # The preflight the browser sends before its PUT: allowed for the page's origin only.
    async with httpx.AsyncClient(trust_env=False) as browser:

        async def preflight(origin: str) -> httpx.Response:
            return await browser.options(
                f"{s3_server.endpoint_url}/{bucket}/upload.bin",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "PUT",
                    "Access-Control-Request-Headers": "content-type,if-none-match",
                },
            )

        allowed = await preflight(ORIGIN)
        other = await preflight("http://127.0.0.1:9")
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "PUT" in allowed.headers["access-control-allow-methods"]
    assert allowed.headers["access-control-expose-headers"] == "ETag"
    assert "access-control-allow-origin" not in other.headers


async def test_the_page_is_served(app: httpx.AsyncClient) -> None:
    response = await app.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'id="file"' in response.text and "/api/presign" in response.text


# -- settings ----------------------------------------------------------------------------------


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_BUCKET", "photos")
    monkeypatch.setenv("APP_CORS_ORIGINS", "http://a.example, https://b.example:8443,")

    settings = fastapi_app.Settings.from_env()

    assert settings.bucket == "photos"
    assert settings.cors_origins == ("http://a.example", "https://b.example:8443")
    assert settings.client_kwargs == {}

    monkeypatch.delenv("APP_BUCKET")
    with pytest.raises(RuntimeError, match="set APP_BUCKET"):
        fastapi_app.Settings.from_env()


def test_settings_repr_hides_the_credentials() -> None:
    settings = fastapi_app.Settings(bucket="b", client_kwargs={"secret_access_key": "s3cr3t-value"})

    assert "s3cr3t-value" not in repr(settings)
