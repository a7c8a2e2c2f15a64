"""r2async against moto's S3 server, with boto3 as the reference for what a listing holds.

moto checks the signing region (CreateBucket signed for "auto" is refused), answers ListParts
with ``<ListPartsResponse>``, and pages ListObjects V1 with an opaque ``NextMarker`` while
repeating every common prefix on every page: each of these broke r2async before.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from r2async import R2Client

pytest.importorskip("moto.server", reason="needs moto[server] (the dev extra)")
boto3 = pytest.importorskip("boto3", reason="needs boto3 (the dev extra)")

pytestmark = pytest.mark.integration

REGION = "us-east-1"
AKID = "testing"
SECRET = "testing-secret"
# 30 keys in a small tree, with characters URL encoding changes.
KEYS = sorted(
    [f"{d}/{i}" for d in ("a", "c", "e+f", "g h") for i in range(4)]
    + ["b", "d", "d+", "f%g", "h i", "x"]
    + [f"p/q/{i}" for i in range(4)]
    + ["z/1", "z/2", "zz", "é"]
)
START_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto S3 server on a free loopback port, for this module; killed at the end."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:  # bounded by the deadline
            if process.poll() is not None:
                pytest.fail(f"moto_server exited at start-up with code {process.returncode}")
            try:
                httpx.get(endpoint + "/", timeout=1.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not answer within {START_TIMEOUT} s")
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(params=["httpx", "aiohttp"])
async def moto(moto_endpoint: str, request: pytest.FixtureRequest) -> AsyncIterator[R2Client]:
    client = R2Client(
        endpoint_url=moto_endpoint,
        access_key_id=AKID,
        secret_access_key=SECRET,
        region=REGION,
        transport=request.param,
    )
    async with client:
        yield client


@pytest.fixture
def boto(moto_endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
        region_name=REGION,
    )


def _bucket() -> str:
    return f"moto-{uuid.uuid4().hex[:12]}"


async def test_create_bucket_put_and_get(moto: R2Client) -> None:
    bucket = _bucket()
    await moto.create_bucket(bucket)
    await moto.put_object(bucket, "a b+c", b"hello", metadata={"note": "x y"})
    got = await moto.get_object(bucket, "a b+c")
    assert got.body == b"hello"
    assert got.metadata == {"note": "x y"}


async def test_signed_for_auto_moto_refuses_create_bucket(moto_endpoint: str) -> None:
    # Why region= exists: the default ("auto", R2's) is not a region moto accepts.
    async with R2Client(
        endpoint_url=moto_endpoint, access_key_id=AKID, secret_access_key=SECRET, region="auto"
    ) as r2:
        with pytest.raises(Exception) as caught:
            await r2.create_bucket(_bucket())
    assert "auto" in str(caught.value) or "location" in str(caught.value).lower()


async def test_multipart_upload_and_list_parts(moto: R2Client) -> None:
    bucket = _bucket()
    await moto.create_bucket(bucket)
    first, last = b"a" * (5 * 1024 * 1024), b"b" * 1024
    upload = await moto.create_multipart_upload(bucket, "mp")
    parts = [
        await moto.upload_part(bucket, "mp", upload.upload_id, 1, first),
        await moto.upload_part(bucket, "mp", upload.upload_id, 2, last),
    ]
    listed = await moto.list_parts(bucket, "mp", upload.upload_id)
    assert [(p.part_number, p.size, p.etag) for p in listed.parts] == [
        (1, len(first), parts[0].etag),
        (2, len(last), parts[1].etag),
    ]
    await moto.complete_multipart_upload(bucket, "mp", upload.upload_id, parts)
    assert (await moto.get_object(bucket, "mp")).body == first + last


@pytest.fixture
async def tree(moto: R2Client) -> str:
    bucket = _bucket()
    await moto.create_bucket(bucket)
    for key in KEYS:
        await moto.put_object(bucket, key, b"x")
    return bucket


def _boto_listing(
    boto: Any, bucket: str, operation: str, page_size: int
) -> tuple[list[str], set[str]]:
    keys: list[str] = []
    prefixes: set[str] = set()
    paginator = boto.get_paginator(operation)
    for page in paginator.paginate(
        Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": page_size}
    ):
        keys += [o["Key"] for o in page.get("Contents", [])]
        prefixes.update(p["Prefix"] for p in page.get("CommonPrefixes", []))
    return keys, prefixes


@pytest.mark.parametrize("page_size", [1, 2, 5, 1000])
async def test_v1_listing_with_a_delimiter_matches_boto3(
    moto: R2Client, boto: Any, tree: str, page_size: int
) -> None:
    keys: list[str] = []
    prefixes: set[str] = set()
    marker = None
    for _ in range(len(KEYS) + 2):  # bounded: one page per key at worst
        page = await moto.list_objects_v1(tree, delimiter="/", marker=marker, max_keys=page_size)
        keys += [o.key for o in page.objects]
        prefixes.update(page.common_prefixes)
        if not page.is_truncated:
            break
        marker = page.next_marker
    else:
        pytest.fail("the V1 listing did not end")
    expected_keys, expected_prefixes = _boto_listing(boto, tree, "list_objects", page_size)
    assert keys == expected_keys
    assert prefixes == expected_prefixes
    assert set(keys) | prefixes  # not vacuous
    assert len(expected_keys) == len({k for k in KEYS if "/" not in k})


@pytest.mark.parametrize("page_size", [1, 2, 5, 1000])
async def test_v2_listing_with_a_delimiter_matches_boto3(
    moto: R2Client, boto: Any, tree: str, page_size: int
) -> None:
    keys: list[str] = []
    prefixes: set[str] = set()
    async for page in moto.list_objects_pages(tree, delimiter="/", max_keys=page_size):
        keys += [o.key for o in page.objects]
        prefixes.update(page.common_prefixes)
    assert (keys, prefixes) == _boto_listing(boto, tree, "list_objects_v2", page_size)
    assert [o.key async for o in moto.iter_objects(tree)] == KEYS
