"""Object basics against a real S3 server (SeaweedFS), which verifies every signature."""

from __future__ import annotations

import hashlib
import unicodedata

import httpx
import pytest
import respx
from tests.support.r2_answers import LAST_MODIFIED, object_headers

from r2async import (
    NoSuchKeyError,
    PermissionDeniedError,
    PreconditionFailedError,
    R2Client,
)
from r2async.testing import LocalR2Server


async def test_operation_headers_reach_every_put_object_and_nothing_else(
    s3_server: LocalR2Server, bucket: str
) -> None:
    # Scenario 1 of Cloudflare's "Configure custom headers": a header on every PutObject.
    # SeaweedFS stores x-amz-meta-* values, so head_object proves the header arrived signed.
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request)

    http = httpx.AsyncClient(event_hooks={"request": [record]})
    client = R2Client(
        **s3_server.client_kwargs,
        operation_headers={"PutObject": {"x-amz-meta-pipeline": "ingest-v2"}},
        http_client=http,
    )
    async with client as r2:
        for i in range(3):
            await r2.put_object(bucket, f"k{i}", b"data")
        for i in range(3):
            head = await r2.head_object(bucket, f"k{i}")
            assert head.metadata == {"pipeline": "ingest-v2"}
        got = await r2.get_object(bucket, "k0")
        assert got.body == b"data"
        await r2.delete_object(bucket, "k0")
    await http.aclose()
    ops = [(r.method, "x-amz-meta-pipeline" in r.headers) for r in seen]
    assert ops == [("PUT", True)] * 3 + [("HEAD", False)] * 3 + [("GET", False), ("DELETE", False)]


async def test_create_bucket_if_missing_on_every_put_object_wire() -> None:
    # R2-only header: SeaweedFS ignores it, so the wire is the evidence.
    base = "https://acct.r2.cloudflarestorage.com"
    client = R2Client(
        account_id="acct",
        access_key_id="AKID",
        secret_access_key="SECRET",
        operation_headers={"PutObject": {"cf-create-bucket-if-missing": "true"}},
    )
    async with client as r2:
        with respx.mock(base_url=base) as mock:
            put = mock.put(url__regex=".*").respond(
                200, headers={"ETag": '"e"', "Last-Modified": LAST_MODIFIED}
            )
            head = mock.head(url__regex=".*").respond(200, headers=object_headers())
            await r2.put_object("new-bucket", "a", b"1")
            await r2.put_object("new-bucket", "b", b"2")
            await r2.head_object("new-bucket", "a")
    assert [c.request.headers.get("cf-create-bucket-if-missing") for c in put.calls] == [
        "true",
        "true",
    ]
    assert "cf-create-bucket-if-missing" not in head.calls.last.request.headers
    signed = put.calls.last.request.headers["authorization"]
    assert "cf-create-bucket-if-missing" in signed


async def test_if_match_per_call(r2: R2Client, bucket: str) -> None:
    # Scenario 2: an If-Match on one request, as a plain per-call header.
    first = await r2.put_object(bucket, "doc", b"v1")
    assert first.etag is not None
    second = await r2.put_object(bucket, "doc", b"v2", headers={"If-Match": first.etag})
    assert (await r2.get_object(bucket, "doc")).body == b"v2"
    with pytest.raises(PreconditionFailedError) as info:
        await r2.put_object(bucket, "doc", b"v3", headers={"If-Match": first.etag})
    assert info.value.status_code == 412 and info.value.code == "PreconditionFailed"
    assert info.value.bucket == bucket and info.value.key == "doc"
    # The stale write left the object unchanged.
    current = await r2.get_object(bucket, "doc")
    assert current.body == b"v2" and current.etag == second.etag
    # The typed argument does the same.
    with pytest.raises(PreconditionFailedError):
        await r2.put_object(bucket, "doc", b"v4", if_match=first.etag)


async def test_if_none_match_star_refuses_overwrite(r2: R2Client, bucket: str) -> None:
    await r2.put_object(bucket, "once", b"original", if_none_match="*")
    with pytest.raises(PreconditionFailedError):
        await r2.put_object(bucket, "once", b"overwrite", headers={"If-None-Match": "*"})
    with pytest.raises(PreconditionFailedError):
        await r2.put_object(bucket, "once", b"overwrite", if_none_match="*")
    assert (await r2.get_object(bucket, "once")).body == b"original"


async def test_wrong_secret_is_signature_does_not_match(
    s3_server: LocalR2Server, bucket: str
) -> None:
    kwargs = dict(s3_server.client_kwargs)
    kwargs["secret_access_key"] = "not-the-secret"
    async with R2Client(**kwargs, max_retries=0) as r2:
        with pytest.raises(PermissionDeniedError) as info:
            await r2.put_object(bucket, "k", b"x")
    err = info.value
    assert err.status_code == 403 and err.code == "SignatureDoesNotMatch"
    assert "not-the-secret" not in str(err)


NFC = unicodedata.normalize("NFC", "caf\u00e9/r\u00e9sum\u00e9")
NFD = unicodedata.normalize("NFD", NFC)
TRICKY_KEYS = [
    NFC,
    NFD,
    "with space/and more  spaces",
    "plus+sign",
    "100%",
    "%41",
    "tilde~",
    "question?mark",
    "amp&ersand=eq",
    "hash#tag",
    "emoji-\U0001f600",
    "semi;colon,comma'quote\"(paren)",
    "star*bang!at@dollar$",
    "back\\slash",
    "k" * 100 + "/" + "\u00e9" * 100,
]


async def test_tricky_keys_round_trip(r2: R2Client, bucket: str) -> None:
    assert NFC != NFD
    for i, key in enumerate(TRICKY_KEYS):
        body = f"{i}:{key}".encode()
        await r2.put_object(bucket, key, body, metadata={"index": str(i)})
    for i, key in enumerate(TRICKY_KEYS):
        got = await r2.get_object(bucket, key)
        assert got.body == f"{i}:{key}".encode(), key
        assert got.metadata == {"index": str(i)}
        head = await r2.head_object(bucket, key)
        assert head.content_length == len(got.body)
    for key in TRICKY_KEYS:
        await r2.delete_object(bucket, key)
        with pytest.raises(NoSuchKeyError):
            await r2.head_object(bucket, key)


async def test_metadata_and_system_headers_round_trip(r2: R2Client, bucket: str) -> None:
    await r2.put_object(
        bucket,
        "meta",
        b"{}",
        content_type="application/json",
        cache_control="no-cache",
        content_disposition='attachment; filename="x.json"',
        content_language="fr",
        metadata={"Author": "Zo\u00eb \u00c9lise", "plain": "ascii value"},
    )
    head = await r2.head_object(bucket, "meta")
    assert head.content_type == "application/json"
    assert head.cache_control == "no-cache"
    assert head.content_disposition == 'attachment; filename="x.json"'
    assert head.content_language == "fr"
    assert head.metadata == {"author": "Zo\u00eb \u00c9lise", "plain": "ascii value"}


async def test_ranges_and_missing_keys(r2: R2Client, bucket: str) -> None:
    data = bytes(range(256)) * 4
    await r2.put_object(bucket, "r", data)
    part = await r2.get_object(bucket, "r", range=(10, 19))
    assert part.body == data[10:20] and part.content_range == f"bytes 10-19/{len(data)}"
    tail = await r2.get_object(bucket, "r", range="bytes=-5")
    assert tail.body == data[-5:]
    with pytest.raises(NoSuchKeyError) as info:
        await r2.get_object(bucket, "missing")
    assert info.value.code == "NoSuchKey" and info.value.key == "missing"


async def test_stream_in_and_out(r2: R2Client, bucket: str) -> None:
    chunk = hashlib.sha256(b"seed").digest() * 4096  # 128 KiB
    count = 40

    async def produce() -> object:
        for _ in range(count):
            yield chunk

    await r2.put_object(bucket, "big", produce(), content_length=len(chunk) * count)
    digest = hashlib.sha256()
    async with r2.stream_object(bucket, "big") as stream:
        assert stream.metadata.content_length == len(chunk) * count
        async for piece in stream:
            digest.update(piece)
    assert digest.hexdigest() == hashlib.sha256(chunk * count).hexdigest()
