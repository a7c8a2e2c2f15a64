"""User metadata against SeaweedFS, on both transports: values r2async writes read back
identically, and a value another writer stored that only looks encoded reads back as stored,
from every reader, without breaking the client (64 failed reads used to exhaust its pool)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from r2async import R2Client
from r2async.testing import LocalR2Server

pytestmark = pytest.mark.integration

VALUES = [
    "=?utf-8?b?aGk=?=",  # read back as "hi" before
    "=?utf-8?b?a?=",
    " leading and trailing ",
    "tab\tinside",
    "control\x01char",
    "naïve café",
    "emoji 🎉 and 中文",
    "a  double  space",
    "x=?y?=z",
    "plain",
]


@pytest.fixture(params=["httpx", "aiohttp"])
async def client(
    s3_server: LocalR2Server, request: pytest.FixtureRequest
) -> AsyncIterator[R2Client]:
    async with R2Client(**s3_server.client_kwargs, transport=request.param) as r2:
        yield r2


async def test_metadata_values_round_trip(client: R2Client, bucket: str) -> None:
    metadata = {f"v{i}": value for i, value in enumerate(VALUES)}
    await client.put_object(bucket, "k", b"body", metadata=metadata)
    assert (await client.head_object(bucket, "k")).metadata == metadata
    assert (await client.get_object(bucket, "k")).metadata == metadata
    async with client.stream_object(bucket, "k") as stream:
        assert stream.metadata.metadata == metadata
        assert await stream.read() == b"body"


async def test_a_stored_value_that_only_looks_encoded_breaks_no_reader(
    client: R2Client, bucket: str
) -> None:
    # Written raw, as another client would store it (headers= bypasses r2async's encoding).
    await client.put_object(bucket, "k", b"body", headers={"x-amz-meta-note": "=?utf-8?b?a?="})
    assert (await client.head_object(bucket, "k")).metadata == {"note": "=?utf-8?b?a?="}
    assert (await client.get_object(bucket, "k")).metadata == {"note": "=?utf-8?b?a?="}
    # More reads than the pool has connections: each one must give its connection back.
    for _ in range(80):
        async with client.stream_object(bucket, "k") as stream:
            assert stream.metadata.metadata == {"note": "=?utf-8?b?a?="}
            assert await stream.read() == b"body"
    assert (await client.get_object(bucket, "k")).body == b"body"
