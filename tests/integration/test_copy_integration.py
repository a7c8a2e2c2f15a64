"""copy_object against a real S3 server (SeaweedFS, which verifies signatures).

MERGE and ``cf-copy-destination-if-*`` are R2-only: their evidence is the pinned wire requests
in test_copy.py. Here SeaweedFS shows the parts it implements: cross-bucket copies with
encoded source keys, COPY and REPLACE, the four source conditions, SSE-C on both sides.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest

from r2async import (
    BadRequestError,
    NoSuchKeyError,
    PermissionDeniedError,
    PreconditionFailedError,
    R2Client,
)
from r2async.testing import LocalR2Server

SOURCE_KEY = "src dir/a b+c%é &?#"


async def test_copy_across_buckets_keeps_data_and_metadata(
    s3_server: LocalR2Server, r2: R2Client, bucket: str
) -> None:
    other = bucket[:-1] + ("x" if bucket[-1] != "x" else "y")
    await s3_server.acreate_bucket(other)
    put = await r2.put_object(
        bucket,
        SOURCE_KEY,
        b"hello copy",
        content_type="text/plain",
        metadata={"a": "1", "b": "ünï"},
    )
    result = await r2.copy_object(
        other, "copied/é key+", source_bucket=bucket, source_key=SOURCE_KEY
    )
    assert result.etag == put.etag
    assert isinstance(result.last_modified, dt.datetime)
    got = await r2.get_object(other, "copied/é key+")
    assert got.body == b"hello copy"
    assert got.content_type == "text/plain"
    assert got.metadata == {"a": "1", "b": "ünï"}
    assert got.etag == put.etag


async def test_replace_sets_exactly_the_new_metadata(r2: R2Client, bucket: str) -> None:
    await r2.put_object(bucket, "s", b"x", content_type="text/plain", metadata={"old": "1"})
    await r2.copy_object(
        bucket,
        "d",
        source_key="s",
        metadata_directive="REPLACE",
        metadata={"new": "2", "uni": "日本"},
        content_type="application/json",
        cache_control="max-age=5",
        content_disposition="inline",
    )
    head = await r2.head_object(bucket, "d")
    assert head.metadata == {"new": "2", "uni": "日本"}
    assert head.content_type == "application/json"
    assert head.cache_control == "max-age=5"
    assert head.content_disposition == "inline"
    # REPLACE onto itself is the S3 way to change an object's metadata in place.
    await r2.copy_object(
        bucket, "s", source_key="s", metadata_directive="REPLACE", metadata={"v": "2"}
    )
    head = await r2.head_object(bucket, "s")
    assert head.metadata == {"v": "2"}
    assert (await r2.get_object(bucket, "s")).body == b"x"


async def test_source_conditions(r2: R2Client, bucket: str) -> None:
    put = await r2.put_object(bucket, SOURCE_KEY, b"v1")
    assert put.etag is not None
    past = dt.datetime(2001, 1, 1, tzinfo=dt.timezone.utc)
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=365)
    # Conditions that hold: the copy happens.
    ok = await r2.copy_object(
        bucket,
        "d1",
        source_key=SOURCE_KEY,
        source_if_match=put.etag,
        source_if_none_match='"0000"',
        source_if_modified_since=past,
        source_if_unmodified_since=future,
    )
    assert ok.etag == put.etag
    # Each condition that fails: 412, and nothing is written.
    failing: list[dict[str, object]] = [
        {"source_if_match": '"0123456789abcdef0123456789abcdef"'},
        {"source_if_none_match": put.etag},
        {"source_if_modified_since": future},
        {"source_if_unmodified_since": past},
    ]
    for cond in failing:
        with pytest.raises(PreconditionFailedError) as info:
            await r2.copy_object(bucket, "d2", source_key=SOURCE_KEY, **cond)  # type: ignore[arg-type]
        assert info.value.status_code == 412 and info.value.key == "d2"
    with pytest.raises(NoSuchKeyError):
        await r2.head_object(bucket, "d2")


async def test_missing_source_raises_no_such_key(r2: R2Client, bucket: str) -> None:
    with pytest.raises(NoSuchKeyError) as info:
        await r2.copy_object(bucket, "d", source_key="does/not exist")
    assert info.value.operation == "CopyObject"


async def test_sse_c_source_and_destination_keys(r2: R2Client, bucket: str) -> None:
    old, new = os.urandom(32), os.urandom(32)
    await r2.put_object(bucket, "enc", b"secret", sse_customer_key=old)
    await r2.copy_object(
        bucket, "enc2", source_key="enc", source_sse_customer_key=old, sse_customer_key=new
    )
    assert (await r2.get_object(bucket, "enc2", sse_customer_key=new)).body == b"secret"
    with pytest.raises(PermissionDeniedError):
        await r2.get_object(bucket, "enc2", sse_customer_key=old)
    # Without the source key the server cannot read the source.
    with pytest.raises(BadRequestError):
        await r2.copy_object(bucket, "enc3", source_key="enc")


async def test_merge_is_r2_only_and_seaweedfs_rejects_it(r2: R2Client, bucket: str) -> None:
    # Documents the backend difference: the request goes out unchanged and the server's
    # refusal surfaces as a typed error (on R2 this copy succeeds; see test_copy.py).
    await r2.put_object(bucket, "s", b"x", metadata={"a": "1"})
    with pytest.raises(BadRequestError) as info:
        await r2.copy_object(
            bucket, "d", source_key="s", metadata_directive="MERGE", metadata={"b": "2"}
        )
    assert info.value.code == "InvalidArgument"
