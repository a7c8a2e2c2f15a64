"""A two-minute tour of r2async, printing what it does.

Runs against Cloudflare R2 when R2_ACCOUNT_ID (or R2_ENDPOINT_URL), R2_ACCESS_KEY_ID and
R2_SECRET_ACCESS_KEY are set (it then needs R2_DEMO_BUCKET, an existing bucket it may write
to); otherwise it starts the embedded local S3 server (SeaweedFS) and uses that.

    python examples/demo.py
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

from r2async import PreconditionFailedError, R2Client


@contextlib.asynccontextmanager
async def target() -> AsyncIterator[tuple[dict[str, Any], str, str]]:
    """Client arguments, a bucket, and a description of where the demo runs."""
    have_r2 = (os.environ.get("R2_ACCOUNT_ID") or os.environ.get("R2_ENDPOINT_URL")) and (
        os.environ.get("R2_ACCESS_KEY_ID") and os.environ.get("R2_SECRET_ACCESS_KEY")
    )
    if have_r2:
        bucket = os.environ.get("R2_DEMO_BUCKET")
        if not bucket:
            sys.exit("set R2_DEMO_BUCKET to a bucket the demo may write to")
        yield {}, bucket, "Cloudflare R2 (from the R2_* environment variables)"
        return
    from r2async.testing import local_r2

    async with local_r2(buckets=["demo"]) as server:
        yield (
            dict(server.client_kwargs),
            "demo",
            f"the embedded local server at {server.endpoint_url}",
        )


async def main() -> None:
    async with target() as (kwargs, bucket, where):
        print(f"r2async demo against {where}, bucket {bucket!r}")
        # Headers are plain arguments: this one goes, signed, on every PutObject of this client.
        client = R2Client(
            **kwargs, operation_headers={"PutObject": {"x-amz-meta-written-by": "r2async-demo"}}
        )
        async with client as r2:
            key = "r2async-demo/hello.txt"
            put = await r2.put_object(bucket, key, b"hello, R2", content_type="text/plain")
            print(f"put_object   {key!r} -> ETag {put.etag}")

            head = await r2.head_object(bucket, key)
            print(
                f"head_object  {head.content_length} bytes, {head.content_type}, "
                f"metadata {head.metadata}"
            )

            # An If-Match on one call: write only if nobody changed the object meanwhile.
            put2 = await r2.put_object(bucket, key, b"hello again", headers={"If-Match": put.etag})
            print(f"put_object   If-Match {put.etag} matched -> new ETag {put2.etag}")
            try:
                await r2.put_object(bucket, key, b"stale write", headers={"If-Match": put.etag})
            except PreconditionFailedError as exc:
                print(f"put_object   If-Match with a stale ETag: {exc.status_code} {exc.code}")

            got = await r2.get_object(bucket, key)
            print(f"get_object   {got.body!r}")

            async with r2.stream_object(bucket, key, chunk_size=4) as stream:
                chunks = [chunk async for chunk in stream]
            print(f"stream_object {len(chunks)} chunks: {chunks}")

            await r2.delete_object(bucket, key)
            print(f"delete_object {key!r}: done")


if __name__ == "__main__":
    asyncio.run(main())
