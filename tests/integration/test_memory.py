"""Streaming 256 MiB in and out keeps the client's memory bounded (peak RSS, in a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from r2async.testing import LocalR2Server

SCRIPT = textwrap.dedent(
    """
    import asyncio, hashlib, json, os, resource, sys
    from r2async import R2Client

    SIZE = 256 * 1024 * 1024
    CHUNK = 1024 * 1024

    def peak_mib():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    async def main():
        kwargs = json.loads(os.environ["R2_TEST_KWARGS"])
        bucket = os.environ["R2_TEST_BUCKET"]
        block = hashlib.sha256(b"x").digest() * (CHUNK // 32)

        async def produce():
            for _ in range(SIZE // CHUNK):
                yield block

        async with R2Client(**kwargs) as r2:
            # Warm up the client and its imports before taking the baseline.
            await r2.put_object(bucket, "warm", b"w")
            await r2.get_object(bucket, "warm")
            base = peak_mib()
            await r2.put_object(bucket, "big", produce(), content_length=SIZE)
            after_put = peak_mib()
            digest, total = hashlib.sha256(), 0
            async with r2.stream_object(bucket, "big") as stream:
                async for piece in stream:
                    digest.update(piece)
                    total += len(piece)
            after_get = peak_mib()
            reference = hashlib.sha256()
            for _ in range(SIZE // CHUNK):
                reference.update(block)
            expected = reference.hexdigest()
            print(json.dumps({
                "base": base, "after_put": after_put, "after_get": after_get,
                "total": total, "ok": digest.hexdigest() == expected,
            }))

    asyncio.run(main())
    """
)


def test_streaming_256_mib_keeps_memory_bounded(s3_server: LocalR2Server) -> None:
    bucket = "mem-" + os.urandom(6).hex()
    s3_server.create_bucket(bucket)
    env = dict(os.environ)
    env["R2_TEST_KWARGS"] = json.dumps(s3_server.client_kwargs)
    env["R2_TEST_BUCKET"] = bucket
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["ok"] and result["total"] == 256 * 1024 * 1024
    # 256 MiB went each way; the client's peak grew by far less than one copy of it.
    assert result["after_put"] - result["base"] < 48, result
    assert result["after_get"] - result["base"] < 48, result


GET_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, os, resource, sys
    from r2async import R2Client

    SIZE = 128 * 1024 * 1024
    CHUNK = 1024 * 1024

    def rss_mib():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1048576

    def reset_peak():
        # Linux: start the high-water mark (VmHWM) afresh, so that only the GET counts.
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    def peak_mib(fresh):
        if fresh:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    async def main():
        kwargs = json.loads(os.environ["R2_TEST_KWARGS"])
        bucket = os.environ["R2_TEST_BUCKET"]
        block = bytes(range(256)) * (CHUNK // 256)

        async def produce():
            for _ in range(SIZE // CHUNK):
                yield block

        async with R2Client(**kwargs, transport=sys.argv[1]) as r2:
            await r2.put_object(bucket, "warm", b"w")
            await r2.get_object(bucket, "warm")
            await r2.put_object(bucket, "big", produce(), content_length=SIZE)
            # From the resident memory now (not the earlier peak): a conservative baseline.
            fresh = reset_peak()
            base = rss_mib()
            body = (await r2.get_object(bucket, "big")).body
            grown = peak_mib(fresh) - base
            ok = len(body) == SIZE and body[:CHUNK] == block and body[-CHUNK:] == block
            print(json.dumps({"grown": grown, "ok": ok, "fresh": fresh}))

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
def test_get_object_holds_the_body_once(s3_server: LocalR2Server, transport: str) -> None:
    # get_object reads into one buffer of the declared size: no list of chunks joined at
    # the end, which held the body twice at its peak.
    bucket = "memget-" + os.urandom(6).hex()
    s3_server.create_bucket(bucket)
    env = dict(os.environ)
    env["R2_TEST_KWARGS"] = json.dumps(s3_server.client_kwargs)
    env["R2_TEST_BUCKET"] = bucket
    out = subprocess.run(
        [sys.executable, "-c", GET_SCRIPT, transport],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["ok"], result
    # 128 MiB object: at most 1.1x its size + 8 MiB above the resident memory before.
    assert result["grown"] <= 1.1 * 128 + 8, result
