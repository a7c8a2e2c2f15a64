"""R2Store through obspec's protocols, against the local server."""

from __future__ import annotations

import pickle
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Protocol

import obspec
import obspec.exceptions
import pytest

from r2async import NoSuchKeyError, PreconditionFailedError, R2Client
from r2async.store import (
    AlreadyExistsError,
    NotFoundError,
    NotSupportedError,
    PreconditionError,
    R2Store,
)
from r2async.testing import LocalR2Server

MiB = 1024 * 1024


@pytest.fixture
def store(s3_server: LocalR2Server, bucket: str) -> R2Store:
    return R2Store(bucket, **s3_server.client_kwargs)


@pytest.fixture
async def astore(s3_server: LocalR2Server, bucket: str) -> AsyncIterator[R2Store]:
    async with R2Store(bucket, **s3_server.client_kwargs) as store:
        yield store


# Code written against obspec's protocols, not against R2Store.
class PutGet(obspec.Put, obspec.Get, Protocol):
    pass


def roundtrip(store: PutGet, path: str, data: bytes) -> bytes:
    store.put(path, data)
    return bytes(store.get(path).buffer())


def test_put_get_through_protocols(store: R2Store) -> None:
    assert roundtrip(store, "a/b.bin", b"hello") == b"hello"
    result = store.get("a/b.bin")
    assert result.meta["size"] == 5 and result.meta["path"] == "a/b.bin"
    assert result.meta["e_tag"] and result.meta["version"] is None
    assert result.range == (0, 5)
    assert b"".join(store.get("a/b.bin")) == b"hello"


def test_get_options_ranges_and_head(store: R2Store) -> None:
    store.put("r", bytes(range(100)))
    assert bytes(store.get("r", options={"range": (10, 20)}).buffer()) == bytes(range(10, 20))
    offset = store.get("r", options={"range": {"offset": 95}})
    assert bytes(offset.buffer()) == bytes(range(95, 100))
    assert offset.range == (95, 100) and offset.meta["size"] == 100
    suffix = store.get("r", options={"range": {"suffix": 3}})
    assert suffix.range == (97, 100) and bytes(suffix.buffer()) == bytes([97, 98, 99])
    head = store.get("r", options={"head": True})
    assert head.meta["size"] == 100 and bytes(head.buffer()) == b""
    assert head.range == (0, 0) and list(head) == []
    store.put("empty", b"")
    assert store.get("empty", options={"head": True}).meta["size"] == 0
    assert bytes(store.get("empty").buffer()) == b""
    etag = store.head("r")["e_tag"]
    with pytest.raises(PreconditionError):
        store.get("r", options={"if_match": '"not-the-etag"'})
    assert bytes(store.get("r", options={"if_match": etag}).buffer()) == bytes(range(100))
    with pytest.raises(NotSupportedError):
        store.get("r", options={"version": "v1"})


def test_get_range_and_ranges(store: R2Store) -> None:
    data = bytes(range(256)) * 16
    store.put("g", data)
    assert bytes(store.get_range("g", start=5, end=9)) == data[5:9]
    assert bytes(store.get_range("g", start=5, length=4)) == data[5:9]
    # Past the end: the remainder (obspec's rule).
    assert bytes(store.get_range("g", start=4090, end=5000)) == data[4090:]
    starts, ends = [0, 100, 50, 4000], [10, 200, 60, 4096]
    got = store.get_ranges("g", starts=starts, ends=ends)
    assert [bytes(b) for b in got] == [data[s:e] for s, e in zip(starts, ends, strict=True)]
    with pytest.raises(ValueError):
        store.get_range("g", start=10, end=10)
    with pytest.raises(ValueError):
        store.get_range("g", start=1)


def test_put_modes(store: R2Store) -> None:
    first = store.put("m", b"1", mode="create")
    with pytest.raises(AlreadyExistsError) as info:
        store.put("m", b"2", mode="create")
    assert isinstance(info.value.__cause__, PreconditionFailedError)
    # obspec's own exception mapping recognises the name.
    assert isinstance(
        obspec.exceptions.map_exception(info.value), obspec.exceptions.AlreadyExistsError
    )
    with pytest.raises(PreconditionError):
        store.put("m", b"3", mode={"e_tag": '"0000"'})
    second = store.put("m", b"4", mode={"e_tag": first["e_tag"]})
    assert second["e_tag"] != first["e_tag"]
    assert bytes(store.get("m").buffer()) == b"4"
    store.put("m", b"5", mode="overwrite")
    assert bytes(store.get("m").buffer()) == b"5"
    with pytest.raises(NotSupportedError):
        store.put("m", b"6", tags={"a": "b"})


def test_put_sources_and_attributes(store: R2Store, tmp_path: Path) -> None:
    file = tmp_path / "f.bin"
    file.write_bytes(b"from a path")
    store.put("p", file)
    assert bytes(store.get("p").buffer()) == b"from a path"
    with file.open("rb") as handle:
        store.put("f", handle)
    assert bytes(store.get("f").buffer()) == b"from a path"
    store.put("i", iter([b"ab", memoryview(b"cd")]))
    assert bytes(store.get("i").buffer()) == b"abcd"
    store.put(
        "attrs",
        b"{}",
        attributes={"Content-Type": "application/json", "Cache-Control": "no-cache", "k": "v"},
    )
    attributes = store.get("attrs").attributes
    assert attributes["Content-Type"] == "application/json"
    assert attributes["Cache-Control"] == "no-cache"
    assert attributes["k"] == "v"


def test_multipart_put_has_equal_parts(store: R2Store) -> None:
    data = bytes(range(256)) * (11 * MiB // 256 + 3)
    result = store.put("big", data, use_multipart=True, chunk_size=5 * MiB)
    assert result["e_tag"] and result["e_tag"].rstrip('"').endswith("-3")
    assert bytes(store.get("big").buffer()) == data


def test_list_and_list_with_delimiter(store: R2Store) -> None:
    for key in ["a/1", "a/2", "a/b/3", "ab/4", "top"]:
        store.put(key, b"x")
    everything = sorted(m["path"] for page in store.list() for m in page)
    assert everything == ["a/1", "a/2", "a/b/3", "ab/4", "top"]
    # Whole path segments: "a" lists a/..., not ab/4.
    assert sorted(m["path"] for page in store.list("a") for m in page) == ["a/1", "a/2", "a/b/3"]
    after = sorted(m["path"] for page in store.list("a", offset="a/1") for m in page)
    assert after == ["a/2", "a/b/3"]
    pages = list(store.list(chunk_size=2))
    assert [len(p) for p in pages] == [2, 2, 1]
    top = store.list_with_delimiter()
    assert sorted(top["common_prefixes"]) == ["a", "ab"]
    assert [m["path"] for m in top["objects"]] == ["top"]
    inner = store.list_with_delimiter("a")
    assert inner["common_prefixes"] == ["a/b"]
    assert sorted(m["path"] for m in inner["objects"]) == ["a/1", "a/2"]


def test_delete_copy_rename(store: R2Store) -> None:
    store.put("src", b"data")
    store.copy("src", "dst")
    assert bytes(store.get("dst").buffer()) == b"data"
    store.put("other", b"other")
    with pytest.raises(AlreadyExistsError):
        store.copy("src", "other", overwrite=False)
    assert bytes(store.get("other").buffer()) == b"other"
    with pytest.raises(AlreadyExistsError):
        store.rename("src", "other", overwrite=False)
    assert store.head("src")["size"] == 4
    store.rename("src", "moved")
    with pytest.raises(NotFoundError) as info:
        store.head("src")
    assert isinstance(info.value, FileNotFoundError)
    assert isinstance(info.value.__cause__, NoSuchKeyError)
    store.delete("moved")
    store.delete("never-existed")
    store.delete(["dst", "other"])
    assert [m for page in store.list() for m in page] == []


def test_many_deletes_batch(store: R2Store) -> None:
    keys = [f"k/{i:04d}" for i in range(1001)]

    async def fill() -> None:
        async with R2Client(**store._options) as r2:
            import asyncio

            sem = asyncio.Semaphore(32)

            async def one(key: str) -> None:
                async with sem:
                    await r2.put_object(store.bucket, key, b"")

            await asyncio.gather(*(one(k) for k in keys))

    from r2async._store.loops import run_sync

    run_sync(fill())
    assert sum(len(p) for p in store.list("k")) == 1001
    store.delete(keys)
    assert sum(len(p) for p in store.list("k")) == 0


async def test_async_protocols_on_a_running_loop(astore: R2Store) -> None:
    put: obspec.PutAsync = astore
    get: obspec.GetAsync = astore
    await put.put_async("x/y", b"async")
    result = await get.get_async("x/y")
    assert bytes(await result.buffer_async()) == b"async"
    chunks = [bytes(c) async for c in await astore.get_async("x/y")]
    assert b"".join(chunks) == b"async"
    assert (await astore.head_async("x/y"))["size"] == 5
    pages = [page async for page in astore.list_async("x")]
    assert [m["path"] for page in pages for m in page] == ["x/y"]
    listed = await astore.list_with_delimiter_async()
    assert listed["common_prefixes"] == ["x"]
    assert await astore.get_ranges_async("x/y", starts=[0, 2], lengths=[1, 2]) == [b"a", b"yn"]
    await astore.copy_async("x/y", "x/z")
    await astore.rename_async("x/z", "x/w")
    await astore.delete_async(["x/y", "x/w"])
    with pytest.raises(FileNotFoundError):
        await astore.head_async("x/y")
    # A sync method inside async code would block the loop: refused.
    with pytest.raises(RuntimeError, match="_async"):
        astore.head("x/y")


def test_prefix_and_pickle(s3_server: LocalR2Server, bucket: str) -> None:
    store = R2Store(bucket, prefix="root/dir", **s3_server.client_kwargs)
    store.put("file", b"1")
    whole = R2Store(bucket, **s3_server.client_kwargs)
    assert bytes(whole.get("root/dir/file").buffer()) == b"1"
    assert [m["path"] for page in store.list() for m in page] == ["file"]
    clone = pickle.loads(pickle.dumps(store))
    assert bytes(clone.get("file").buffer()) == b"1"
    assert "secret" not in repr(store).lower()


def test_bad_input_before_any_request() -> None:
    options: dict[str, Any] = {
        # Nothing listens here: a request would fail with a connection error, not ValueError.
        "endpoint_url": "http://127.0.0.1:9",
        "access_key_id": "AKIAEXAMPLE",
        "secret_access_key": "not-a-real-secret",
    }
    with pytest.raises(ValueError):
        R2Store("Bad_Bucket", **options)
    with pytest.raises(TypeError):
        R2Store("good-bucket", region="us-east-1", **options)
    store = R2Store("good-bucket", **options)
    with pytest.raises(ValueError):
        store.get("")
    with pytest.raises(ValueError):
        store.get_ranges("k", starts=[0], ends=[0])
    with pytest.raises(ValueError):
        store.put("k", b"", mode="append")  # type: ignore[arg-type]


def test_iterating_closes_response_early(store: R2Store) -> None:
    store.put("stream", b"z" * (3 * MiB))
    iterator: Iterator[Any] = iter(store.get("stream"))
    first = next(iterator)
    assert len(first) > 0
    iterator.close()  # type: ignore[attr-defined]
    assert bytes(store.get("stream").buffer()) == b"z" * (3 * MiB)
