"""Presigned URLs made by r2async, used with plain httpx (no credentials) against SeaweedFS.

SeaweedFS refuses an expired URL with 403 AccessDenied "Request has expired"; R2 answers
400 ExpiredRequest. Both are checked for as "refused, and says it expired".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import AsyncIterator

import httpx
import pytest

from r2async import NoSuchKeyError, R2Client
from r2async._client import presign as _client_presign

KEY = os.urandom(32)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


def assert_expired(response: httpx.Response) -> None:
    assert response.status_code in (400, 403)
    assert "expired" in response.text.lower()


async def test_presigned_get_and_head(r2: R2Client, bucket: str, http: httpx.AsyncClient) -> None:
    key = "dir/a b+c%é.txt"
    await r2.put_object(bucket, key, b"shared data", content_type="text/plain")
    get = r2.presign_get_object(bucket, key, expires_in=300)
    response = await http.get(get.url, headers=get.headers)
    assert response.status_code == 200 and response.content == b"shared data"
    head = r2.presign_head_object(bucket, key)
    response = await http.head(head.url, headers=head.headers)
    assert response.status_code == 200
    assert response.headers["content-length"] == "11"
    assert response.headers["content-type"] == "text/plain"
    # The signature is bound to the key: pointing the URL elsewhere is refused.
    await r2.put_object(bucket, "other", b"x")
    response = await http.get(get.url.replace("/dir/a%20b%2Bc%25%C3%A9.txt?", "/other?"))
    assert response.status_code == 403


async def test_presigned_get_with_a_signed_range(
    r2: R2Client, bucket: str, http: httpx.AsyncClient
) -> None:
    await r2.put_object(bucket, "ranged", b"0123456789")
    p = r2.presign_get_object(bucket, "ranged", range=(2, 5))
    response = await http.get(p.url, headers=p.headers)
    assert response.status_code == 206 and response.content == b"2345"
    response = await http.get(p.url)  # the signed Range header is missing
    assert response.status_code == 403


async def test_presigned_put_with_signed_content_type(
    r2: R2Client, bucket: str, http: httpx.AsyncClient
) -> None:
    p = r2.presign_put_object(
        bucket,
        "upload.json",
        content_type="application/json",
        content_length=7,
        metadata={"uploader": "zoë"},
    )
    response = await http.put(p.url, headers=p.headers, content=b'{"a":1}')
    assert response.status_code == 200, response.text
    head = await r2.head_object(bucket, "upload.json")
    assert head.content_type == "application/json"
    assert head.metadata == {"uploader": "zoë"}
    assert (await r2.get_object(bucket, "upload.json")).body == b'{"a":1}'
    # Another content type than the signed one is refused.
    wrong = {**p.headers, "content-type": "text/html"}
    response = await http.put(p.url, headers=wrong, content=b'{"a":1}')
    assert response.status_code == 403 and "SignatureDoesNotMatch" in response.text
    # So is leaving the signed headers out.
    response = await http.put(p.url, content=b'{"a":1}')
    assert response.status_code == 403


async def test_presigned_put_with_checksum(
    r2: R2Client, bucket: str, http: httpx.AsyncClient
) -> None:
    from r2async._checksums import checksum_b64

    body = b"verified upload"
    p = r2.presign_put_object(
        bucket, "ck", checksum_algorithm="CRC32C", checksum=checksum_b64("CRC32C", body)
    )
    response = await http.put(p.url, headers=p.headers, content=b"tampered upload")
    assert response.status_code == 400 and "BadDigest" in response.text
    response = await http.put(p.url, headers=p.headers, content=body)
    assert response.status_code == 200


async def test_presigned_delete(r2: R2Client, bucket: str, http: httpx.AsyncClient) -> None:
    await r2.put_object(bucket, "doomed", b"x")
    p = r2.presign_delete_object(bucket, "doomed")
    response = await http.delete(p.url, headers=p.headers)
    assert response.status_code == 204
    with pytest.raises(NoSuchKeyError):
        await r2.head_object(bucket, "doomed")


async def test_expired_url_is_refused(r2: R2Client, bucket: str, http: httpx.AsyncClient) -> None:
    await r2.put_object(bucket, "short-lived", b"x")
    p = r2.presign_get_object(bucket, "short-lived", expires_in=1)
    assert (await http.get(p.url)).status_code == 200
    await asyncio.sleep(2.1)
    assert_expired(await http.get(p.url))


async def test_url_signed_in_the_past_is_refused(
    r2: R2Client, bucket: str, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await r2.put_object(bucket, "old", b"x")
    past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)
    monkeypatch.setattr(_client_presign, "_utcnow", lambda: past)
    p = r2.presign_get_object(bucket, "old", expires_in=3600)
    assert p.expires_at < dt.datetime.now(dt.timezone.utc)
    assert_expired(await http.get(p.url))


async def test_presigned_get_of_an_sse_c_object(
    r2: R2Client, bucket: str, http: httpx.AsyncClient
) -> None:
    await r2.put_object(bucket, "enc", b"encrypted", sse_customer_key=KEY)
    p = r2.presign_get_object(bucket, "enc", sse_customer_key=KEY)
    response = await http.get(p.url, headers=p.headers)
    assert response.status_code == 200 and response.content == b"encrypted"
    response = await http.get(p.url)
    assert response.status_code in (400, 403)


async def test_presigned_upload_part(r2: R2Client, bucket: str, http: httpx.AsyncClient) -> None:
    upload = await r2.create_multipart_upload(bucket, "browser-upload")
    p = r2.presign_upload_part(bucket, "browser-upload", upload.upload_id, 1, content_length=9)
    response = await http.put(p.url, headers=p.headers, content=b"from afar")
    assert response.status_code == 200
    etag = response.headers["etag"]
    await r2.complete_multipart_upload(bucket, "browser-upload", upload.upload_id, [(1, etag)])
    assert (await r2.get_object(bucket, "browser-upload")).body == b"from afar"


async def test_session_token_urls_reach_the_server(
    r2: R2Client, bucket: str, http: httpx.AsyncClient
) -> None:
    # SeaweedFS has no temporary credentials: an unknown token must make it refuse the URL,
    # which shows the token is part of what the server checks.
    await r2.put_object(bucket, "tok", b"x")
    creds = r2._shared.settings.credentials
    with_token = R2Client(
        endpoint_url=r2.endpoint_url,
        access_key_id=creds.access_key_id,
        secret_access_key=creds.secret_access_key,
        session_token="not-a-real-session-token",
    )
    p = with_token.presign_get_object(bucket, "tok")
    assert "X-Amz-Security-Token=not-a-real-session-token" in p.url
    response = await http.get(p.url)
    assert response.status_code in (400, 403)
