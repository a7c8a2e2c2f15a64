"""Listing and batch deletion against a real S3 server (SeaweedFS, which verifies signatures)."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from r2async import R2Client
from r2async.testing import LocalR2Server

# Keys whose URL-encoded listing form differs from the key: space ('+' on the wire), '+'
# ('%2B'), '%', unicode (NFC and NFD spellings are distinct keys here), control characters
# (only listable because r2async always asks for encoding-type=url), XML markup, CR/LF/tab.
# SeaweedFS quirks (not r2async's): it rejects "a/./b", collapses "//x" into "x", and
# stores a key ending in "/" as a directory marker whose body is dropped (so those are empty).
TRICKY_KEYS = [
    "a b+c",
    "100%",
    "%41",
    "é/NFC",
    "e\u0301/NFD",
    "plus+",
    "  lead",
    "trail ",
    "ctl\x01\x1f",
    "tab\tkey",
    "cr\rlf\n",
    "t&<>\"'",
    "dir/",
    "日本語/κ",
    "~tilde*",
    "q?x=1#f",
]


def _body(key: str) -> bytes:
    return b"" if key.endswith("/") else key.encode()


async def _put_all(r2: R2Client, bucket: str, keys: list[str], *, limit: int = 32) -> None:
    sem = asyncio.Semaphore(limit)

    async def put(key: str) -> None:
        async with sem:
            await r2.put_object(bucket, key, _body(key))

    await asyncio.gather(*(put(k) for k in keys))


async def test_tricky_keys_round_trip_through_list_objects_and_v1(
    r2: R2Client, bucket: str
) -> None:
    await _put_all(r2, bucket, TRICKY_KEYS)
    page = await r2.list_objects(bucket)
    keys = [o.key for o in page.objects]
    assert sorted(keys) == sorted(TRICKY_KEYS)
    # Every listed key addresses its object: the decoded key is the real one.
    for obj in page.objects:
        got = await r2.get_object(bucket, obj.key)
        assert got.body == _body(obj.key)
        assert obj.size == len(_body(obj.key))
        assert obj.etag == got.etag
    v1 = await r2.list_objects_v1(bucket)
    assert [o.key for o in v1.objects] == keys
    # Prefix, start_after and delimiter with special characters, echoed as sent.
    page = await r2.list_objects(bucket, prefix="a b+", start_after="100%")
    assert [o.key for o in page.objects] == ["a b+c"]
    assert page.prefix == "a b+" and page.start_after == "100%"
    page = await r2.list_objects(bucket, prefix="日本語/")
    assert [o.key for o in page.objects] == ["日本語/κ"]
    page = await r2.list_objects(bucket, delimiter="/")
    assert sorted(page.common_prefixes) == sorted(["é/", "e\u0301/", "dir/", "日本語/"])
    assert "a b+c" in [o.key for o in page.objects]
    assert page.key_count == len(page.objects) + len(page.common_prefixes)


async def test_2500_keys_listed_exactly_once_then_deleted_in_batches(
    s3_server: LocalR2Server, bucket: str
) -> None:
    # 500 keys at the top level and 2,000 under 100 prefixes (20 each), names with spaces,
    # '+' and non-ASCII so that URL decoding is exercised on every page.
    top = [f"top {i:04d}+é" for i in range(500)]
    nested = [f"d{p:03d} x+/k {j:02d}" for p in range(100) for j in range(20)]
    keys = top + nested
    prefixes = [f"d{p:03d} x+/" for p in range(100)]
    assert len(keys) == 2500

    requests: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        requests.append(request)

    http = httpx.AsyncClient(event_hooks={"request": [record]})
    client = R2Client(
        endpoint_url=s3_server.endpoint_url,
        access_key_id=s3_server.access_key_id,
        secret_access_key=s3_server.secret_access_key,
        http_client=http,
    )
    async with client as r2:
        await _put_all(r2, bucket, keys)

        # With a delimiter and an odd page size, pages mix objects and common prefixes.
        pages = [p async for p in r2.list_objects_pages(bucket, delimiter="/", max_keys=97)]
        seen_keys = Counter(o.key for p in pages for o in p.objects)
        seen_prefixes = Counter(cp for p in pages for cp in p.common_prefixes)
        assert sorted(seen_keys) == sorted(top) and set(seen_keys.values()) == {1}
        assert sorted(seen_prefixes) == prefixes and set(seen_prefixes.values()) == {1}
        assert len(pages) >= (500 + 100) // 97
        assert all(p.is_truncated for p in pages[:-1]) and not pages[-1].is_truncated
        assert all(p.key_count == len(p.objects) + len(p.common_prefixes) for p in pages)

        # Without a delimiter: every one of the 2,500 keys once, in order, over 3 pages.
        requests.clear()
        listed = [o.key async for o in r2.iter_objects(bucket)]
        assert listed == sorted(keys)
        assert len(requests) == 3

        # Inside one prefix, the delimiter yields only that prefix's 20 objects.
        inner = [o.key async for o in r2.iter_objects(bucket, prefix="d042 x+/", delimiter="/")]
        assert inner == [f"d042 x+/k {j:02d}" for j in range(20)]

        requests.clear()
        result = await r2.delete_objects(bucket, keys)
        assert sorted(result.deleted) == sorted(keys)
        assert result.errors == []
        # 1,000 + 1,000 + 500: three DeleteObjects requests, each with a Content-MD5.
        posts = [r for r in requests if r.method == "POST"]
        assert len(posts) == 3 and len(result.request_ids) == 3
        assert [r.content.count(b"<Object>") for r in posts] == [1000, 1000, 500]
        assert all("content-md5" in r.headers for r in posts)

        after = await r2.list_objects(bucket)
        assert after.objects == [] and after.key_count == 0 and not after.is_truncated
    await http.aclose()
