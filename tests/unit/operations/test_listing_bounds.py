"""Bounds a listing server cannot exceed: tokens that never end, pages over max-keys, huge pages.

``iter_objects`` and ``iter_multipart_uploads`` stop (``ResponseParseError``) on a repeated or
cycling token or marker pair, on endless empty pages and past ``MAX_PAGES``; a page holding
more objects than ``max-keys`` (1,000 by default) is refused, never trimmed (trimming would
lose the entries the next token skips); a document with more tags than a page can need is
refused before either reader builds anything, so memory stays bounded whatever the server
sends (measured with tracemalloc on a 30 MiB answer).
"""

from __future__ import annotations

import itertools
import tracemalloc
from collections.abc import Callable, Iterator

import httpx
import pytest
import respx

from r2async import R2Client, ResponseParseError, _paging
from r2async._operations.listing import (
    build_list_objects,
    build_list_objects_v1,
    parse_list_objects,
    parse_list_objects_v1,
)
from r2async._operations.listing_reference import list_objects as reference_v2
from r2async._operations.listing_reference import list_objects_v1 as reference_v1

BASE = "http://127.0.0.1:9"
NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
# A test that finds a loop fails here instead of hanging.
REQUEST_BUDGET = 200


def _client() -> R2Client:
    return R2Client(endpoint_url=BASE, access_key_id="a", secret_access_key="b")


def _contents(key: str) -> str:
    return (
        f"<Contents><Key>{key}</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>"
        '<ETag>"e"</ETag><Size>1</Size></Contents>'
    )


def v2_page(keys: list[str], token: str | None) -> bytes:
    truncated = token is not None
    return (
        f"<ListBucketResult {NS}><Name>bkt</Name><IsTruncated>{str(truncated).lower()}"
        "</IsTruncated>"
        + (f"<NextContinuationToken>{token}</NextContinuationToken>" if token else "")
        + "".join(_contents(k) for k in keys)
        + "</ListBucketResult>"
    ).encode()


def uploads_page(key_marker: str, upload_marker: str) -> bytes:
    return (
        f"<ListMultipartUploadsResult {NS}><Bucket>bkt</Bucket><IsTruncated>true</IsTruncated>"
        f"<NextKeyMarker>{key_marker}</NextKeyMarker>"
        f"<NextUploadIdMarker>{upload_marker}</NextUploadIdMarker>"
        f"<Upload><Key>{key_marker}</Key><UploadId>{upload_marker}</UploadId></Upload>"
        "</ListMultipartUploadsResult>"
    ).encode()


def _serve(pages: Iterator[bytes]) -> Callable[[httpx.Request], httpx.Response]:
    calls = itertools.count(1)

    def respond(request: httpx.Request) -> httpx.Response:
        if next(calls) > REQUEST_BUDGET:
            raise AssertionError("the client kept paging past the test's request budget")
        return httpx.Response(200, content=next(pages))

    return respond


async def _drain_objects(pages: Iterator[bytes]) -> tuple[int, ResponseParseError]:
    async with _client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").mock(side_effect=_serve(pages))
            with pytest.raises(ResponseParseError) as caught:
                async for _ in r2.iter_objects("bkt"):
                    pass
    return route.call_count, caught.value


async def test_iter_objects_stops_on_a_repeated_token() -> None:
    pages = iter([v2_page(["a"], "A"), v2_page(["b"], "A"), v2_page(["c"], None)])
    calls, error = await _drain_objects(pages)
    assert calls == 2 and "repeated a" in str(error)


@pytest.mark.parametrize("cycle", [2, 3, 7, 40])
async def test_iter_objects_stops_on_cycling_tokens(cycle: int) -> None:
    # A, B, ..., A, B, ...: found in constant memory within a few cycles.
    tokens = itertools.cycle([f"T{i}" for i in range(cycle)])
    pages = (v2_page([f"k{n}"], next(tokens)) for n in itertools.count())
    calls, error = await _drain_objects(pages)
    assert "repeated a" in str(error)
    assert calls <= 4 * cycle + 2


async def test_iter_objects_stops_on_endless_invented_tokens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_paging, "MAX_PAGES", 50)
    pages = (v2_page([f"k{n}"], f"T{n}") for n in itertools.count())
    calls, error = await _drain_objects(pages)
    assert calls == 50 and "50 pages" in str(error)


async def test_iter_objects_stops_on_endless_empty_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_paging, "MAX_EMPTY_PAGES", 20)
    pages = (v2_page([], f"T{n}") for n in itertools.count())
    calls, error = await _drain_objects(pages)
    assert calls == 20 and "no entries" in str(error)


async def test_empty_pages_between_full_ones_are_followed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_paging, "MAX_EMPTY_PAGES", 3)
    pages = [v2_page([], "T1"), v2_page([], "T2"), v2_page(["a"], "T3"), v2_page([], "T4")]
    pages += [v2_page([], "T5"), v2_page(["b"], None)]
    async with _client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").mock(side_effect=_serve(iter(pages)))
            keys = [o.key async for o in r2.iter_objects("bkt")]
    assert keys == ["a", "b"]


@pytest.mark.parametrize(
    "markers",
    [
        [("a", "1"), ("b", "2")],  # A, B, A, B, ...
        [("a", "1"), ("a", "2"), ("b", "1")],  # a longer cycle
        [("a", "1")],  # the same pair again
    ],
    ids=["alternating", "cycle-of-3", "repeated"],
)
async def test_iter_multipart_uploads_stops_on_repeating_markers(
    markers: list[tuple[str, str]],
) -> None:
    cycle = itertools.cycle(markers)
    pages = (uploads_page(*next(cycle)) for _ in itertools.count())
    async with _client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").mock(side_effect=_serve(pages))
            with pytest.raises(ResponseParseError, match=r"no new|repeated a"):
                async for _ in r2.iter_multipart_uploads("bkt"):
                    pass
    assert route.call_count <= 4 * len(markers) + 2


PARSERS = [
    (parse_list_objects, build_list_objects),
    (reference_v2, build_list_objects),
    (parse_list_objects_v1, build_list_objects_v1),
    (reference_v1, build_list_objects_v1),
]
PARSER_IDS = ["v2-fast", "v2-reference", "v1-fast", "v1-reference"]


@pytest.mark.parametrize(("parse", "build"), PARSERS, ids=PARSER_IDS)
@pytest.mark.parametrize(("max_keys", "sent"), [(2, 3), (None, 1001), (1, 2)])
def test_a_page_over_max_keys_is_refused(
    parse: Callable[..., object], build: Callable[..., object], max_keys: int | None, sent: int
) -> None:
    body = v2_page([f"k{i:05}" for i in range(sent)], "T")
    with pytest.raises(ResponseParseError, match=f"{sent:,} objects on a page of at most"):
        parse(body, {}, build("bkt", max_keys=max_keys))


@pytest.mark.parametrize(("parse", "build"), PARSERS, ids=PARSER_IDS)
def test_a_page_of_exactly_max_keys_is_read(
    parse: Callable[..., object], build: Callable[..., object]
) -> None:
    body = v2_page([f"k{i:05}" for i in range(1000)], "T")
    assert len(parse(body, {}, build("bkt")).objects) == 1000  # type: ignore[attr-defined]


def test_common_prefixes_do_not_count_against_max_keys() -> None:
    # moto and s3rver repeat every common prefix on every page, whatever max-keys says.
    prefixes = "".join(
        f"<CommonPrefixes><Prefix>p{i}/</Prefix></CommonPrefixes>" for i in range(50)
    )
    body = v2_page(["a", "b"], "T").replace(
        b"</ListBucketResult>", prefixes.encode() + b"</ListBucketResult>"
    )
    page = parse_list_objects_v1(body, {}, build_list_objects_v1("bkt", max_keys=2))
    assert len(page.objects) == 2 and len(page.common_prefixes) == 50


HOSTILE_SIZE = 30 * 1024 * 1024


def _flood(entry: bytes) -> bytes:
    head = f"<ListBucketResult {NS}><Name>bkt</Name><IsTruncated>false</IsTruncated>".encode()
    tail = b"</ListBucketResult>"
    return head + entry * ((HOSTILE_SIZE - len(head) - len(tail)) // len(entry)) + tail


HOSTILE = {
    # 1.2 million tiny entries: refused by the tag count before parsing.
    "tiny-entries": b"<Contents><Key>k</Key></Contents>",
    # 100,000 entries with long keys, under the tag bound: parsed (bounded), then refused as
    # over max-keys before a single ObjectInfo is built.
    "long-keys": b"<Contents><Key>" + b"k" * 400 + b"</Key></Contents>",
    # Any other element in bulk.
    "unknown-elements": b"<X>1</X>",
}


@pytest.mark.parametrize("parse", [parse_list_objects, reference_v2], ids=["dispatch", "reference"])
@pytest.mark.parametrize("shape", list(HOSTILE), ids=list(HOSTILE))
def test_a_30_mib_hostile_listing_is_refused_in_bounded_memory(
    parse: Callable[..., object], shape: str
) -> None:
    body = _flood(HOSTILE[shape])
    assert len(body) > 29 * 1024 * 1024
    spec = build_list_objects("bkt")
    tracemalloc.start()
    try:
        with pytest.raises(ResponseParseError, match=r"tags|objects on a page"):
            parse(body, {}, spec)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Before: 1.27 GB for the tiny-entries shape. Now at most 4x the body (the text of the
    # entries parsed, as str, before they are counted).
    assert peak < 4 * len(body), f"peak {peak / 2**20:.0f} MiB"


async def test_a_30_mib_hostile_listing_through_the_client() -> None:
    body = _flood(HOSTILE["tiny-entries"])
    async with _client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").mock(return_value=httpx.Response(200, content=body))
            tracemalloc.start()
            try:
                with pytest.raises(ResponseParseError, match="tags"):
                    await r2.list_objects("bkt")
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    assert peak < 200 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB"


def test_the_tag_bound_counts_tags_only_past_its_size() -> None:
    from r2async._operations.listing_models import MAX_LISTING_TAGS, check_listing_size

    check_listing_size(b"<" * MAX_LISTING_TAGS, "listing")  # at the bound: accepted
    with pytest.raises(ResponseParseError, match="tags"):
        check_listing_size(b"<" * (MAX_LISTING_TAGS + 1), "listing")
    check_listing_size(b"x" * (10 * MAX_LISTING_TAGS), "listing")  # big, but few tags


def test_the_fast_reader_alone_refuses_a_tag_flood_before_splitting_it() -> None:
    from r2async._operations.listparse import Unsupported, scan

    body = _flood(HOSTILE["tiny-entries"])
    tracemalloc.start()
    try:
        with pytest.raises(Unsupported, match="more tags"):
            scan(body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
