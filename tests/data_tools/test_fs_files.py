"""Files from R2FileSystem.open: read-ahead pinned to one ETag, multipart writes, aborts."""

from __future__ import annotations

import asyncio
import io
import os
from typing import Any

import pytest

from r2async import R2Client
from r2async._fs.readahead import PrefetchCache
from r2async.fs import ObjectChangedError, R2FileSystem

MiB = 1024 * 1024


async def _uploads(options: dict[str, Any], bucket: str) -> list[Any]:
    async with R2Client(**options) as r2:
        return list((await r2.list_multipart_uploads(bucket)).uploads)


def open_uploads(options: dict[str, Any], path: str) -> list[str]:
    bucket, key = path.split("/", 1)
    return [u.key for u in asyncio.run(_uploads(options, bucket)) if u.key == key]


def test_read_sequential_seek_and_readline(fs: R2FileSystem, base: str) -> None:
    data = os.urandom(13 * MiB) + b"\nlast line\n"
    fs.pipe_file(f"{base}/f", data)
    with fs.open(f"{base}/f", "rb", block_size=5 * MiB) as f:
        assert isinstance(f.cache, PrefetchCache)
        chunks = []
        while chunk := f.read(MiB + 7):
            chunks.append(chunk)
        assert b"".join(chunks) == data
        f.seek(-10, 2)
        assert f.readline() == b"last line\n"
        f.seek(3)
        assert f.read(4) == data[3:7]
    with fs.open(f"{base}/f", "rb") as f:
        assert f.read() == data


def test_read_ahead_memory_is_bounded(fs: R2FileSystem, base: str) -> None:
    fs.pipe_file(f"{base}/m", os.urandom(30 * MiB))
    peak = 0
    with fs.open(f"{base}/m", "rb", block_size=5 * MiB) as f:
        cache = f.cache
        assert cache.read_ahead == fs.read_ahead == 4
        while f.read(MiB):
            peak = max(peak, len(cache._blocks))
    # The block being read plus the read-ahead window, never the whole object.
    assert 2 <= peak <= fs.read_ahead + 1


def test_random_reads_fetch_exact_ranges(fs: R2FileSystem, base: str) -> None:
    data = os.urandom(12 * MiB)
    fs.pipe_file(f"{base}/r", data)
    with fs.open(f"{base}/r", "rb", block_size=5 * MiB) as f:
        f.seek(len(data) - 100)
        assert f.read(100) == data[-100:]
        f.seek(100)
        assert f.read(50) == data[100:150]
        # A non-sequential read downloads only what it asked for.
        assert f.cache.total_requested_bytes == 150
        assert f.cache._blocks == {}
        # Continuing from there starts a read-ahead run at 150, not at an aligned block
        # (which would fetch bytes 0-149 again).
        assert f.read(10) == data[150:160]
        assert f.cache._anchor == 150 and min(f.cache._blocks) == 0
        assert f.read(6 * MiB) == data[160 : 160 + 6 * MiB]


def test_reads_are_pinned_to_the_first_etag(fs: R2FileSystem, base: str) -> None:
    fs.pipe_file(f"{base}/p", b"a" * (11 * MiB))
    with fs.open(f"{base}/p", "rb", block_size=5 * MiB, cache_type="none") as f:
        assert f.read(10) == b"a" * 10
        fs.pipe_file(f"{base}/p", b"b" * (11 * MiB))
        with pytest.raises(ObjectChangedError) as info:
            f.read(10)
        assert "changed" in str(info.value)


def test_other_fsspec_caches_work(fs: R2FileSystem, base: str) -> None:
    data = os.urandom(6 * MiB)
    fs.pipe_file(f"{base}/c", data)
    for cache in ("readahead", "bytes", "blockcache", "none"):
        with fs.open(f"{base}/c", "rb", cache_type=cache) as f:
            f.seek(MiB)
            assert f.read(MiB) == data[MiB : 2 * MiB]


def test_small_write_is_one_put(fs: R2FileSystem, base: str) -> None:
    with fs.open(f"{base}/small.txt", "wb", metadata={"a": "b"}) as f:
        f.write(b"hello ")
        f.write(b"world")
    assert fs.cat_file(f"{base}/small.txt") == b"hello world"
    info = fs.info(f"{base}/small.txt")
    assert info["ContentType"] == "text/plain" and info["metadata"] == {"a": "b"}
    assert "-" not in info["ETag"]  # a plain MD5: one PutObject
    with fs.open(f"{base}/empty", "wb"):
        pass
    assert fs.cat_file(f"{base}/empty") == b""


def test_large_write_is_multipart_with_equal_parts(
    fs: R2FileSystem, base: str, fs_options: dict[str, Any]
) -> None:
    data = os.urandom(23 * MiB)
    with fs.open(f"{base}/large", "wb", block_size=5 * MiB) as f:
        # Odd-sized writes: parts must still be exactly 5 MiB but the last.
        stream = io.BytesIO(data)
        while chunk := stream.read(3 * MiB + 17):
            f.write(chunk)
            assert len(f._inflight) <= fs.concurrency
    assert fs.cat_file(f"{base}/large") == data
    assert fs.info(f"{base}/large")["ETag"].strip('"').endswith("-5")
    assert open_uploads(fs_options, f"{base}/large") == []


def test_failed_with_block_leaves_nothing(
    fs: R2FileSystem, base: str, fs_options: dict[str, Any]
) -> None:
    path = f"{base}/aborted"
    with pytest.raises(RuntimeError, match="boom"), fs.open(path, "wb", block_size=5 * MiB) as f:
        f.write(os.urandom(12 * MiB))  # two parts already sent
        assert f._upload_id is not None
        raise RuntimeError("boom")
    assert not fs.exists(path)
    assert open_uploads(fs_options, path) == []
    # discard() by hand does the same.
    f = fs.open(path, "wb", block_size=5 * MiB)
    f.write(os.urandom(6 * MiB))
    f.discard()
    assert f.closed and not fs.exists(path)
    assert open_uploads(fs_options, path) == []


def test_exclusive_create(fs: R2FileSystem, base: str) -> None:
    with fs.open(f"{base}/x", "xb") as f:
        f.write(b"first")
    with pytest.raises(FileExistsError):
        fs.open(f"{base}/x", "xb")
    # Someone else creates the key between open and close: the write still refuses.
    f = fs.open(f"{base}/y", "xb")
    f.write(b"mine")
    fs.pipe_file(f"{base}/y", b"theirs")
    with pytest.raises(FileExistsError):
        f.close()
    assert fs.cat_file(f"{base}/y") == b"theirs"


def test_text_mode_and_directory_open(fs: R2FileSystem, base: str) -> None:
    with fs.open(f"{base}/t.txt", "w", encoding="utf-8") as f:
        f.write("héllo\nwörld\n")
    with fs.open(f"{base}/t.txt", "r", encoding="utf-8") as f:
        assert f.readlines() == ["héllo\n", "wörld\n"]
    fs.pipe_file(f"{base}/dir/x", b"1")
    with pytest.raises(IsADirectoryError):
        fs.open(f"{base}/dir", "rb")


async def test_cancelled_async_write_leaves_no_object_and_no_upload(
    afs: R2FileSystem, base: str, fs_options: dict[str, Any]
) -> None:
    path = f"{base}/cancelled"
    bucket, key = path.split("/", 1)
    task = asyncio.create_task(afs._pipe_file(path, os.urandom(64 * MiB)))
    async with R2Client(**fs_options) as r2:
        for _ in range(500):  # bounded: about 10 s
            uploads = (await r2.list_multipart_uploads(bucket)).uploads
            if any(u.key == key for u in uploads) or task.done():
                break
            await asyncio.sleep(0.02)
        assert not task.done(), "the upload finished before it could be cancelled"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        uploads = (await r2.list_multipart_uploads(bucket)).uploads
        assert [u.key for u in uploads if u.key == key] == []
    assert not await afs._exists(path)
