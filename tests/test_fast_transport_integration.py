"""The core operations through the fast transport (``transport="aiohttp"``) against SeaweedFS.

SeaweedFS verifies every signature, so each passing call also proves that the request went
out exactly as it was signed.
"""

from __future__ import annotations

import hashlib
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


@pytest.fixture
async def fast(s3_server: LocalR2Server) -> AsyncIterator[R2Client]:
    async with R2Client(**s3_server.client_kwargs, transport="aiohttp") as client:
        yield client


def payload(size: int) -> bytes:
    return hashlib.shake_256(str(size).encode()).digest(size) if size else b""


async def test_put_get_head_delete(fast: R2Client, bucket: str) -> None:
    put = await fast.put_object(
        bucket, "dir/obj.txt", b"hello", content_type="text/plain", metadata={"owner": "ana"}
    )
    got = await fast.get_object(bucket, "dir/obj.txt")
    assert got.body == b"hello" and got.etag == put.etag
    assert got.content_type == "text/plain" and got.metadata == {"owner": "ana"}
    head = await fast.head_object(bucket, "dir/obj.txt")
    assert head.content_length == 5 and head.etag == put.etag
    ranged = await fast.get_object(bucket, "dir/obj.txt", range=(1, 3))
    assert ranged.body == b"ell"
    await fast.delete_object(bucket, "dir/obj.txt")
    with pytest.raises(NoSuchKeyError):
        await fast.head_object(bucket, "dir/obj.txt")
    with pytest.raises(NoSuchKeyError):
        await fast.get_object(bucket, "dir/obj.txt")


@pytest.mark.parametrize(
    # SeaweedFS refuses dot segments and folds double slashes (see tests/test_fast_transport.py
    # for those on the wire).
    "key",
    ["100%", "%41", "sp ace+plus~", "ü/日本/ñ", "q?x=1&y", "#frag<>", "e\u0301 nfd"],
)
async def test_tricky_keys_round_trip(fast: R2Client, bucket: str, key: str) -> None:
    await fast.put_object(bucket, key, key.encode())
    assert (await fast.get_object(bucket, key)).body == key.encode()
    listed = await fast.list_objects(bucket)
    assert [o.key for o in listed.objects] == [key]


async def test_conditional_errors_are_typed(fast: R2Client, bucket: str) -> None:
    await fast.put_object(bucket, "k", b"v1")
    with pytest.raises(PreconditionFailedError):
        await fast.put_object(bucket, "k", b"v2", if_none_match="*")
    with pytest.raises(NoSuchBucketError):
        await fast.put_object("no-such-bucket-here", "k", b"v")
    assert (await fast.get_object(bucket, "k")).body == b"v1"


async def test_streaming_large_object_matches_and_stays_bounded(
    fast: R2Client, bucket: str
) -> None:
    data = payload(24 * MiB + 123)
    await fast.put_object(bucket, "big", data)
    digest = hashlib.sha256()
    biggest = 0
    async with fast.stream_object(bucket, "big", chunk_size=512 * 1024) as stream:
        assert stream.metadata.content_length == len(data)
        async for chunk in stream:
            digest.update(chunk)
            biggest = max(biggest, len(chunk))
    assert digest.digest() == hashlib.sha256(data).digest()
    assert biggest == 512 * 1024


async def test_listing_pages(fast: R2Client, bucket: str) -> None:
    for i in range(7):
        await fast.put_object(bucket, f"p/{i}", b"x")
    first = await fast.list_objects(bucket, prefix="p/", max_keys=4)
    assert first.is_truncated and len(first.objects) == 4
    rest = await fast.list_objects(
        bucket, prefix="p/", continuation_token=first.next_continuation_token
    )
    assert [o.key for o in first.objects + rest.objects] == [f"p/{i}" for i in range(7)]
    deleted = await fast.delete_objects(bucket, [f"p/{i}" for i in range(7)])
    assert not deleted.errors
    assert (await fast.list_objects(bucket)).objects == []


async def test_multipart_and_copy(fast: R2Client, bucket: str) -> None:
    part = payload(5 * MiB)
    upload = await fast.create_multipart_upload(bucket, "mp")
    parts = [
        await fast.upload_part(bucket, "mp", upload.upload_id, 1, part),
        await fast.upload_part(bucket, "mp", upload.upload_id, 2, b"tail"),
    ]
    await fast.complete_multipart_upload(bucket, "mp", upload.upload_id, parts)
    assert (await fast.get_object(bucket, "mp")).body == part + b"tail"
    await fast.copy_object(bucket, "mp-copy", source_key="mp")
    assert (await fast.head_object(bucket, "mp-copy")).content_length == len(part) + 4


async def test_file_transfers(fast: R2Client, bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    data = payload(12 * MiB + 5)
    source.write_bytes(data)
    await fast.upload_file(bucket, "file", source, part_size=5 * MiB, concurrency=3)
    target = tmp_path / "out.bin"
    await fast.download_file(bucket, "file", target, part_size=5 * MiB, concurrency=3)
    assert target.read_bytes() == data


async def test_streamed_upload_of_unknown_length(fast: R2Client, bucket: str) -> None:
    chunks = [payload(MiB + i) for i in range(3)]

    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    await fast.put_object(bucket, "streamed", source(), content_length=sum(map(len, chunks)))
    assert (await fast.get_object(bucket, "streamed")).body == b"".join(chunks)
