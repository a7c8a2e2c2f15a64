"""The core operations through the fast transport (``transport="aiohttp"``) against SeaweedFS.

SeaweedFS verifies every signature, so each passing call also proves that the request went
out exactly as it was signed. The tests share one bucket (each under its own key prefix):
the suite shares one server, and `weed mini` gives every bucket with data its own volumes
out of a fixed number (about 76 buckets here before writes fail with 500 InternalError).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from r2async import (
    NoSuchBucketError,
    NoSuchKeyError,
    PreconditionFailedError,
    R2Client,
)
from r2async.testing import LocalR2Server

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def shared_bucket(s3_server: LocalR2Server) -> str:
    name = f"fast-{uuid.uuid4().hex[:20]}"
    s3_server.create_bucket(name)
    return name


@pytest.fixture
def bucket(shared_bucket: str) -> str:
    """The module's bucket (overrides conftest's fresh bucket per test)."""
    return shared_bucket


@pytest.fixture
def prefix() -> str:
    """A fresh key prefix, so that tests sharing the bucket do not see each other's keys."""
    return f"{uuid.uuid4().hex[:12]}/"


@pytest.fixture
async def fast(s3_server: LocalR2Server) -> AsyncIterator[R2Client]:
    async with R2Client(**s3_server.client_kwargs, transport="aiohttp") as client:
        yield client


def payload(size: int) -> bytes:
    return hashlib.shake_256(str(size).encode()).digest(size) if size else b""


async def test_put_get_head_delete(fast: R2Client, bucket: str, prefix: str) -> None:
    key = prefix + "dir/obj.txt"
    put = await fast.put_object(
        bucket, key, b"hello", content_type="text/plain", metadata={"owner": "ana"}
    )
    got = await fast.get_object(bucket, key)
    assert got.body == b"hello" and got.etag == put.etag
    assert got.content_type == "text/plain" and got.metadata == {"owner": "ana"}
    head = await fast.head_object(bucket, key)
    assert head.content_length == 5 and head.etag == put.etag
    ranged = await fast.get_object(bucket, key, range=(1, 3))
    assert ranged.body == b"ell"
    await fast.delete_object(bucket, key)
    with pytest.raises(NoSuchKeyError):
        await fast.head_object(bucket, key)
    with pytest.raises(NoSuchKeyError):
        await fast.get_object(bucket, key)


@pytest.mark.parametrize(
    # SeaweedFS refuses dot segments and folds double slashes (see
    # tests/unit/transports/test_fast_transport.py for those on the wire).
    "name",
    ["100%", "%41", "sp ace+plus~", "ü/日本/ñ", "q?x=1&y", "#frag<>", "e\u0301 nfd"],
)
async def test_tricky_keys_round_trip(fast: R2Client, bucket: str, prefix: str, name: str) -> None:
    key = prefix + name
    await fast.put_object(bucket, key, key.encode())
    assert (await fast.get_object(bucket, key)).body == key.encode()
    listed = await fast.list_objects(bucket, prefix=prefix)
    assert [o.key for o in listed.objects] == [key]


async def test_conditional_errors_are_typed(fast: R2Client, bucket: str, prefix: str) -> None:
    await fast.put_object(bucket, prefix + "k", b"v1")
    with pytest.raises(PreconditionFailedError):
        await fast.put_object(bucket, prefix + "k", b"v2", if_none_match="*")
    with pytest.raises(NoSuchBucketError):
        await fast.put_object("no-such-bucket-here", "k", b"v")
    assert (await fast.get_object(bucket, prefix + "k")).body == b"v1"


async def test_streaming_large_object_matches(fast: R2Client, bucket: str, prefix: str) -> None:
    data = payload(24 * MiB + 123)
    await fast.put_object(bucket, prefix + "big", data)
    digest = hashlib.sha256()
    sizes = set()
    async with fast.stream_object(bucket, prefix + "big", chunk_size=512 * 1024) as stream:
        assert stream.metadata.content_length == len(data)
        async for chunk in stream:
            digest.update(chunk)
            sizes.add(len(chunk))
    assert digest.digest() == hashlib.sha256(data).digest()
    assert sizes == {512 * 1024, len(data) % (512 * 1024)}


async def test_listing_pages(fast: R2Client, bucket: str, prefix: str) -> None:
    keys = [f"{prefix}p/{i}" for i in range(7)]
    for key in keys:
        await fast.put_object(bucket, key, b"x")
    first = await fast.list_objects(bucket, prefix=prefix, max_keys=4)
    assert first.is_truncated and len(first.objects) == 4
    rest = await fast.list_objects(
        bucket, prefix=prefix, continuation_token=first.next_continuation_token
    )
    assert [o.key for o in first.objects + rest.objects] == keys
    deleted = await fast.delete_objects(bucket, keys)
    assert not deleted.errors
    assert (await fast.list_objects(bucket, prefix=prefix)).objects == []


async def test_multipart_and_copy(fast: R2Client, bucket: str, prefix: str) -> None:
    part = payload(5 * MiB)
    key = prefix + "mp"
    upload = await fast.create_multipart_upload(bucket, key)
    parts = [
        await fast.upload_part(bucket, key, upload.upload_id, 1, part),
        await fast.upload_part(bucket, key, upload.upload_id, 2, b"tail"),
    ]
    await fast.complete_multipart_upload(bucket, key, upload.upload_id, parts)
    assert (await fast.get_object(bucket, key)).body == part + b"tail"
    await fast.copy_object(bucket, key + "-copy", source_key=key)
    assert (await fast.head_object(bucket, key + "-copy")).content_length == len(part) + 4


async def test_file_transfers(fast: R2Client, bucket: str, prefix: str, tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    data = payload(12 * MiB + 5)
    source.write_bytes(data)
    await fast.upload_file(bucket, prefix + "file", source, part_size=5 * MiB, concurrency=3)
    target = tmp_path / "out.bin"
    await fast.download_file(bucket, prefix + "file", target, part_size=5 * MiB, concurrency=3)
    assert target.read_bytes() == data


async def test_streamed_upload_with_a_length(fast: R2Client, bucket: str, prefix: str) -> None:
    chunks = [payload(MiB + i) for i in range(3)]

    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    total = sum(map(len, chunks))
    await fast.put_object(bucket, prefix + "streamed", source(), content_length=total)
    assert (await fast.get_object(bucket, prefix + "streamed")).body == b"".join(chunks)
