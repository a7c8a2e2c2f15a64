"""Nothing r2async does blocks the event loop: the core scenarios under a blocking-call detector.

blockbuster (PyPI) wraps the blocking functions of the standard library (file and socket I/O,
``os.stat``/``os.rename``/``os.fsync``, ``ssl`` context loading, ``time.sleep``, ...) and
raises ``BlockingError`` when one is called on the event loop's thread with an r2async frame on
the stack (through httpx, httpcore or aiohttp included). Calls made in worker threads are fine.
The shared TLS context is dropped first, so that building it is part of the scenario.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from blockbuster import BlockBuster, BlockBusterFunction

import r2async
from r2async import R2Client
from r2async._transports import tls
from r2async.testing import LocalR2Server

MiB = 1024 * 1024
HERE = os.path.dirname(r2async.__file__)


@pytest.fixture(scope="module")
def quiet_bucket(s3_server: LocalR2Server) -> str:
    name = f"noblock-{uuid.uuid4().hex[:20]}"
    s3_server.create_bucket(name)
    return name


@pytest.fixture
def detector(monkeypatch: pytest.MonkeyPatch) -> Iterator[BlockBuster]:
    monkeypatch.setattr(tls, "_SSL_CONTEXT", None)
    # r2async's frames are scanned, except the local test server's (the test's own tool).
    scanned, excluded = ["r2async"], ["r2async.testing", "r2async.pytest_plugin"]
    buster = BlockBuster(scanned, excluded_modules=excluded)
    # blockbuster does not watch certificate loading: building a TLS context reads the CA
    # bundle from disk (50-90 ms).
    for name in ("load_verify_locations", "load_cert_chain", "set_default_verify_paths"):
        buster.functions[f"ssl.SSLContext.{name}"] = BlockBusterFunction(
            None, f"ssl.SSLContext.{name}", scanned_modules=scanned, excluded_modules=excluded
        )
    buster.activate()
    try:
        yield buster
    finally:
        buster.deactivate()


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_core_scenarios_make_no_blocking_call_on_the_event_loop(
    s3_server: LocalR2Server,
    quiet_bucket: str,
    transport: str,
    tmp_path: Path,
    detector: BlockBuster,
) -> None:
    source = tmp_path / "source.bin"
    detector.deactivate()  # the test's own setup may block
    data = os.urandom(12 * MiB)
    source.write_bytes(data)
    detector.activate()
    prefix = f"{transport}-{uuid.uuid4().hex[:8]}"
    async with R2Client(**s3_server.client_kwargs, transport=transport) as r2:  # type: ignore[arg-type]
        await r2.put_object(quiet_bucket, f"{prefix}/small", b"x" * 1024)
        assert (await r2.get_object(quiet_bucket, f"{prefix}/small")).body == b"x" * 1024
        async with r2.stream_object(quiet_bucket, f"{prefix}/small") as stream:
            assert b"".join([chunk async for chunk in stream]) == b"x" * 1024
        await r2.head_object(quiet_bucket, f"{prefix}/small")
        listed = await r2.list_objects(quiet_bucket, prefix=f"{prefix}/")
        assert [o.key for o in listed.objects] == [f"{prefix}/small"]
        # Multipart upload from a file and a parallel ranged download into a file.
        await r2.upload_file(
            quiet_bucket, f"{prefix}/big", source, part_size=5 * MiB, threshold=5 * MiB
        )
        await r2.download_file(
            quiet_bucket, f"{prefix}/big", tmp_path / "copy.bin", part_size=5 * MiB
        )
        await r2.delete_object(quiet_bucket, f"{prefix}/small")
    detector.deactivate()
    assert (tmp_path / "copy.bin").read_bytes() == data
    if transport == "aiohttp":
        assert tls._SSL_CONTEXT is not None  # built during the scenario, in a worker thread
    else:
        # The local server speaks plain HTTP: the default transport loads no CA bundle at all.
        assert tls._SSL_CONTEXT is None


async def test_the_detector_sees_a_blocking_call_made_through_r2async(
    detector: BlockBuster, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The check itself: building the TLS context on the loop (as before) is caught.
    from blockbuster import BlockingError

    with pytest.raises(BlockingError):
        tls.shared_ssl_context()
