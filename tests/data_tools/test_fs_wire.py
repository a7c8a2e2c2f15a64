"""Wire details of R2FileSystem that SeaweedFS cannot show (respx, no server).

SeaweedFS accepts multipart parts of unequal sizes and ignores what it does not check, so the
requests themselves are the evidence: equal parts, no checksum headers, ETag-pinned ranges,
DeleteObjects batches of at most 1,000 keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from tests.support.r2_answers import LAST_MODIFIED, object_headers

from r2async.fs import R2FileSystem

ACCOUNT = "0123456789abcdef0123456789abcdef"
BASE = f"https://{ACCOUNT}.r2.cloudflarestorage.com"
MiB = 1024 * 1024
ETAG = '"9b2cf535f27731c974343645a3985328"'


@pytest.fixture
def wire_fs() -> Iterator[R2FileSystem]:
    yield R2FileSystem(
        account_id=ACCOUNT,
        access_key_id="AKIDEXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        max_retries=0,
        # respx intercepts httpx; the default would be aiohttp where it is installed.
        transport="httpx",
        skip_instance_cache=True,
    )


def _no_checksums(request: httpx.Request) -> None:
    # R2 rejects some of the checksum headers recent AWS SDKs send by default.
    assert not any(h.startswith("x-amz-checksum") for h in request.headers), request.headers
    assert "x-amz-sdk-checksum-algorithm" not in request.headers


def test_open_write_sends_equal_parts_and_no_checksums(wire_fs: R2FileSystem) -> None:
    parts: dict[int, int] = {}
    completed: list[bytes] = []

    def handle(request: httpx.Request) -> httpx.Response:
        _no_checksums(request)
        query = request.url.params
        if request.method == "POST" and "uploads" in query:
            return httpx.Response(
                200,
                content=b"<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                b"<UploadId>UP1</UploadId></InitiateMultipartUploadResult>",
            )
        if request.method == "PUT" and "partNumber" in query:
            assert query["uploadId"] == "UP1"
            parts[int(query["partNumber"])] = len(request.content)
            return httpx.Response(200, headers={"ETag": f'"p{query["partNumber"]}"'})
        if request.method == "POST" and "uploadId" in query:
            completed.append(request.content)
            return httpx.Response(
                200,
                content=b"<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                b'<ETag>"abc-5"</ETag></CompleteMultipartUploadResult>',
            )
        raise AssertionError(f"unexpected {request.method} {request.url}")

    with respx.mock(base_url=BASE) as mock:
        mock.route().mock(side_effect=handle)
        with wire_fs.open("my-bucket/k.bin", "wb", block_size=5 * MiB) as f:
            for size in (1, 3 * MiB, 7 * MiB + 5, 2 * MiB, 9 * MiB, 123):
                f.write(b"x" * size)
    total = 1 + 3 * MiB + 7 * MiB + 5 + 2 * MiB + 9 * MiB + 123
    assert sum(parts.values()) == total
    numbers = sorted(parts)
    assert numbers == list(range(1, len(numbers) + 1))
    # Every part but the last has exactly the block size; the last is not larger.
    assert all(parts[n] == 5 * MiB for n in numbers[:-1])
    assert 0 < parts[numbers[-1]] <= 5 * MiB
    assert completed and b"<PartNumber>5</PartNumber>" in completed[0]


def test_ranged_reads_are_pinned_to_the_opening_etag(wire_fs: R2FileSystem) -> None:
    size = 12 * MiB
    seen: list[tuple[str, str | None]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "HEAD":
            return httpx.Response(
                200,
                headers={"Content-Length": str(size), "ETag": ETAG, "Last-Modified": LAST_MODIFIED},
            )
        match = re.fullmatch(r"bytes=(\d+)-(\d+)", request.headers["range"])
        assert match
        start, last = int(match[1]), int(match[2])
        seen.append((request.headers["range"], request.headers.get("if-match")))
        body = b"y" * (last - start + 1)
        return httpx.Response(
            206,
            content=body,
            headers={
                "Content-Range": f"bytes {start}-{last}/{size}",
                "ETag": ETAG,
                "Last-Modified": LAST_MODIFIED,
            },
        )

    with respx.mock(base_url=BASE) as mock:
        mock.route().mock(side_effect=handle)
        with wire_fs.open("my-bucket/data.bin", "rb", block_size=5 * MiB) as f:
            assert len(f.read(6 * MiB)) == 6 * MiB
            assert len(f.read()) == 6 * MiB
    assert seen and all(if_match == ETAG for _, if_match in seen)
    assert sorted(r for r, _ in seen) == [
        "bytes=0-5242879",
        "bytes=10485760-12582911",
        "bytes=5242880-10485759",
    ]


def test_rm_sends_delete_objects_in_batches_of_1000(wire_fs: R2FileSystem) -> None:
    batches: list[int] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and "delete" in request.url.params:
            batches.append(request.content.count(b"<Object>"))
            return httpx.Response(
                200,
                headers=object_headers(b"<DeleteResult></DeleteResult>"),
                content=b"<DeleteResult></DeleteResult>",
            )
        raise AssertionError(f"unexpected {request.method} {request.url}")

    paths = [f"my-bucket/k/{i:05d}" for i in range(2500)]
    with respx.mock(base_url=BASE) as mock:
        mock.route().mock(side_effect=handle)
        wire_fs.rm(paths)
    assert batches == [1000, 1000, 500]


def test_pipe_file_sends_typed_headers(wire_fs: R2FileSystem) -> None:
    captured: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        _no_checksums(request)
        return httpx.Response(200, headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED})

    options: dict[str, Any] = {
        "content_type": "text/csv",
        "cache_control": "max-age=60",
        "metadata": {"team": "data"},
    }
    with respx.mock(base_url=BASE) as mock:
        mock.route().mock(side_effect=handle)
        wire_fs.pipe_file("my-bucket/r.csv", b"a,b\n", mode="create", **options)
    (request,) = captured
    assert request.headers["if-none-match"] == "*"
    assert request.headers["content-type"] == "text/csv"
    assert request.headers["cache-control"] == "max-age=60"
    assert request.headers["x-amz-meta-team"] == "data"


def _copy_handler(
    size: int, ranges: list[str], events: list[str], fail_part: int | None = None
) -> Any:
    def handle(request: httpx.Request) -> httpx.Response:
        query = request.url.params
        if request.method == "HEAD":
            return httpx.Response(
                200,
                headers={"Content-Length": str(size), "ETag": ETAG, "Last-Modified": LAST_MODIFIED},
            )
        if request.method == "POST" and "uploads" in query:
            events.append("create")
            return httpx.Response(
                200,
                content=b"<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                b"<UploadId>CP1</UploadId></InitiateMultipartUploadResult>",
            )
        if request.method == "PUT" and "partNumber" in query:
            assert request.headers["x-amz-copy-source"] == "/my-bucket/huge.bin"
            assert request.headers["x-amz-copy-source-if-match"] == ETAG
            if int(query["partNumber"]) == fail_part:
                return httpx.Response(403, content=b"<Error><Code>AccessDenied</Code></Error>")
            ranges.append(request.headers["x-amz-copy-source-range"])
            return httpx.Response(
                200,
                content=b"<CopyPartResult><ETag>&quot;e&quot;</ETag>"
                b"<LastModified>2024-01-01T00:00:00.000Z</LastModified></CopyPartResult>",
            )
        if request.method == "POST" and "uploadId" in query:
            events.append("complete")
            return httpx.Response(
                200,
                content=b"<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                b'<ETag>"abc-13"</ETag></CompleteMultipartUploadResult>',
            )
        if request.method == "DELETE" and "uploadId" in query:
            events.append("abort")
            return httpx.Response(204)
        raise AssertionError(f"unexpected {request.method} {request.url}")

    return handle


def test_copy_above_5_gib_is_multipart_with_equal_ranges(wire_fs: R2FileSystem) -> None:
    size = 6 * 1024 * MiB + 123  # no bytes move: UploadPartCopy is server-side
    ranges: list[str] = []
    events: list[str] = []
    with respx.mock(base_url=BASE) as mock:
        mock.route().mock(side_effect=_copy_handler(size, ranges, events))
        wire_fs.cp_file("my-bucket/huge.bin", "my-bucket/copy.bin")
    part = 512 * MiB
    expected = [f"bytes={start}-{min(start + part, size) - 1}" for start in range(0, size, part)]
    assert sorted(ranges, key=lambda r: int(r[6:].split("-")[0])) == expected
    assert len(expected) == 13 and events == ["create", "complete"]


def test_failed_multipart_copy_is_aborted(wire_fs: R2FileSystem) -> None:
    events: list[str] = []
    with respx.mock(base_url=BASE) as mock:
        mock.route().mock(side_effect=_copy_handler(6 * 1024 * MiB, [], events, fail_part=3))
        with pytest.raises(PermissionError):
            wire_fs.cp_file("my-bucket/huge.bin", "my-bucket/copy.bin")
    assert events[0] == "create" and events[-1] == "abort" and "complete" not in events


def test_client_arguments_from_storage_options() -> None:
    fs = R2FileSystem(
        account_id=ACCOUNT,
        jurisdiction="eu",
        access_key_id="AKIDEXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        operation_headers={"PutObject": {"x-amz-meta-origin": "fs"}},
        headers={"x-custom": "1"},
        transport="httpx",
        skip_instance_cache=True,
    )
    eu = f"https://{ACCOUNT}.eu.r2.cloudflarestorage.com"
    assert eu in repr(fs)
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED})

    with respx.mock(base_url=eu) as mock:
        mock.route().mock(side_effect=handle)
        fs.pipe_file("my-bucket/k", b"v")
    assert seen[0].headers["x-amz-meta-origin"] == "fs"
    assert seen[0].headers["x-custom"] == "1"
    assert "x-amz-meta-origin" in seen[0].headers["authorization"]  # signed
