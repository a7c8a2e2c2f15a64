"""Bucket operations against a real S3 server (SeaweedFS 4.x), which verifies every signature.

What SeaweedFS does differently from R2 (each pinned by a test below, so a change shows up):
- ListBuckets ignores R2's ``cf-*`` paging headers (it returns every bucket in one page, and
  never sends ``cf-is-truncated``); test_buckets.py is the evidence for R2 paging.
- HeadBucket sends no ``x-amz-bucket-region``; GetBucketLocation answers an empty constraint.
- Lifecycle transitions (to STANDARD_IA) are refused with 501 NotImplemented.
- A CORS rule without MaxAgeSeconds reads back with ``MaxAgeSeconds`` 0.
- A new bucket has no encryption configuration (404 until PutBucketEncryption).
"""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from tests.conftest import unique_bucket_name

from r2async import (
    BucketEncryption,
    ConflictError,
    CORSRule,
    LifecycleRule,
    LifecycleTransition,
    NoSuchBucketError,
    NotFoundError,
    NotImplementedByR2Error,
    R2Client,
)
from r2async._body import Body
from r2async._spec import RequestSpec
from r2async.testing import LocalR2Server


async def test_create_head_list_delete_bucket(r2: R2Client) -> None:
    name = unique_bucket_name("bk")
    created = await r2.create_bucket(name)
    assert created.location == f"/{name}"
    try:
        head = await r2.head_bucket(name)
        assert head.region is None  # SeaweedFS sends no x-amz-bucket-region (R2: "auto")
        page = await r2.list_buckets()
        listed = {b.name: b for b in page.buckets}
        assert name in listed
        created_at = listed[name].creation_date
        assert created_at is not None
        assert abs(dt.datetime.now(dt.timezone.utc) - created_at) < dt.timedelta(hours=1)
        assert page.is_truncated is False
        assert name in [b.name async for b in r2.iter_buckets()]
    finally:
        await r2.delete_bucket(name)
    with pytest.raises(NoSuchBucketError) as missing:
        await r2.head_bucket(name)
    assert missing.value.code == "NoSuchBucket" and missing.value.bucket == name
    with pytest.raises(NoSuchBucketError):
        await r2.delete_bucket(name)
    assert name not in [b.name for b in (await r2.list_buckets()).buckets]


async def test_create_bucket_with_location_hint_and_read_location(r2: R2Client) -> None:
    name = unique_bucket_name("hint")
    await r2.create_bucket(name, location_hint="weur")
    try:
        # SeaweedFS accepts the CreateBucketConfiguration body and reports an empty constraint.
        assert await r2.get_bucket_location(name) == ""
    finally:
        await r2.delete_bucket(name)
    with pytest.raises(NoSuchBucketError):
        await r2.get_bucket_location(name)


async def test_create_existing_bucket_and_delete_non_empty_bucket_conflict(
    r2: R2Client, bucket: str
) -> None:
    with pytest.raises(ConflictError) as exists:
        await r2.create_bucket(bucket)
    assert exists.value.code == "BucketAlreadyOwnedByYou"  # R2 says BucketConflict
    await r2.put_object(bucket, "keep", b"x")
    with pytest.raises(ConflictError) as not_empty:
        await r2.delete_bucket(bucket)
    assert not_empty.value.code == "BucketNotEmpty"
    await r2.delete_object(bucket, "keep")
    await r2.delete_bucket(bucket)


async def test_seaweedfs_ignores_r2_list_buckets_paging_headers(
    r2: R2Client, s3_server: LocalR2Server
) -> None:
    names = sorted(unique_bucket_name("pg") for _ in range(3))
    for name in names:
        await s3_server.acreate_bucket(name)
    try:
        page = await r2.list_buckets(prefix=names[0], max_keys=1)
        got = [b.name for b in page.buckets]
        # R2 would return only names[0] with cf-is-truncated; SeaweedFS returns everything.
        assert set(names) <= set(got)
        assert page.is_truncated is False and page.next_continuation_token is None
        # So iter_buckets ends after one page there, still yielding each bucket once.
        walked = [b.name async for b in r2.iter_buckets(max_keys=1)]
        assert len(walked) == len(set(walked)) and set(names) <= set(walked)
    finally:
        for name in names:
            await r2.delete_bucket(name)


async def test_bucket_cors_put_get_delete(r2: R2Client, bucket: str) -> None:
    assert await r2.get_bucket_cors(bucket) == []  # 404 NoSuchCORSConfiguration -> []
    rules = [
        CORSRule(
            id="uploads",
            allowed_origins=["https://app.example.com", "http://localhost:3000"],
            allowed_methods=["PUT", "GET"],
            allowed_headers=["content-type", "authorization"],
            expose_headers=["ETag"],
            max_age_seconds=3600,
        ),
        CORSRule(allowed_origins=["*"], allowed_methods=["GET", "HEAD"], max_age_seconds=60),
    ]
    await r2.put_bucket_cors(bucket, rules)
    got = await r2.get_bucket_cors(bucket)
    assert got == rules

    # A rule without MaxAgeSeconds reads back as 0 on SeaweedFS.
    await r2.put_bucket_cors(bucket, [CORSRule(allowed_origins="*", allowed_methods=["GET"])])
    (only,) = await r2.get_bucket_cors(bucket)
    assert only.allowed_origins == ("*",) and only.max_age_seconds == 0

    await r2.delete_bucket_cors(bucket)
    assert await r2.get_bucket_cors(bucket) == []
    await r2.delete_bucket_cors(bucket)  # deleting again succeeds


async def test_bucket_cors_is_applied_to_requests_with_an_origin(
    r2: R2Client, s3_server: LocalR2Server, bucket: str
) -> None:
    await r2.put_bucket_cors(
        bucket,
        [
            CORSRule(
                allowed_origins=["https://app.example.com"],
                allowed_methods=["PUT"],
                allowed_headers=["content-type"],
                max_age_seconds=600,
            )
        ],
    )
    async with httpx.AsyncClient() as http:
        url = f"{s3_server.endpoint_url}/{bucket}/upload.bin"
        allowed = await http.options(
            url,
            headers={
                "Origin": "https://app.example.com",
                "Access-Control-Request-Method": "PUT",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        refused = await http.options(
            url,
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"},
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "PUT" in allowed.headers["access-control-allow-methods"]
    assert "access-control-allow-origin" not in refused.headers


async def test_bucket_cors_errors(r2: R2Client) -> None:
    missing = unique_bucket_name("none")
    with pytest.raises(NoSuchBucketError):
        await r2.get_bucket_cors(missing)
    with pytest.raises(NoSuchBucketError):
        await r2.put_bucket_cors(missing, [CORSRule(allowed_origins="*", allowed_methods=["GET"])])


async def test_bucket_lifecycle_put_get_delete(r2: R2Client, bucket: str) -> None:
    assert await r2.get_bucket_lifecycle_configuration(bucket) == []
    rules = [
        LifecycleRule(id="expire-logs", prefix="logs/", expiration_days=30),
        LifecycleRule(id="end-of-project", prefix="tmp/", expiration_date=dt.date(2030, 1, 1)),
        LifecycleRule(id="abort-uploads", abort_incomplete_multipart_upload_days=3),
        LifecycleRule(id="paused", prefix="p/", expiration_days=5, enabled=False),
    ]
    await r2.put_bucket_lifecycle_configuration(bucket, rules)
    assert await r2.get_bucket_lifecycle_configuration(bucket) == rules

    # A put replaces the whole set.
    await r2.put_bucket_lifecycle_configuration(bucket, [LifecycleRule(expiration_days=1)])
    assert await r2.get_bucket_lifecycle_configuration(bucket) == [LifecycleRule(expiration_days=1)]

    await r2.delete_bucket_lifecycle(bucket)
    assert await r2.get_bucket_lifecycle_configuration(bucket) == []


async def test_lifecycle_transitions_are_not_implemented_by_seaweedfs(
    r2: R2Client, bucket: str
) -> None:
    rule = LifecycleRule(id="to-ia", transitions=[LifecycleTransition(days=30)])
    with pytest.raises(NotImplementedByR2Error) as info:
        await r2.put_bucket_lifecycle_configuration(bucket, [rule])
    assert info.value.code == "NotImplemented"
    assert await r2.get_bucket_lifecycle_configuration(bucket) == []


async def test_get_bucket_encryption(r2: R2Client, bucket: str) -> None:
    with pytest.raises(NotFoundError) as info:
        await r2.get_bucket_encryption(bucket)
    assert info.value.code == "ServerSideEncryptionConfigurationNotFoundError"
    # R2 has no PutBucketEncryption (so r2async neither); set it up the raw way on SeaweedFS.
    body = (
        b"<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>"
        b"<SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>"
        b"</ServerSideEncryptionConfiguration>"
    )
    spec = RequestSpec(
        "PutBucketEncryption",
        "PUT",
        bucket,
        query=[("encryption", None)],
        body=Body(length=len(body), content=body),
    )
    await r2._send(spec)
    enc = await r2.get_bucket_encryption(bucket)
    assert isinstance(enc, BucketEncryption)
    assert enc.sse_algorithm == "AES256" and enc.bucket_key_enabled is False
    assert enc.request_id
