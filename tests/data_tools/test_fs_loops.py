"""Event loops, pickling, registration and configuration of R2FileSystem."""

from __future__ import annotations

import asyncio
import pickle
import threading
from typing import Any

import fsspec
import pytest

from r2async.fs import R2FileSystem
from r2async.testing import LocalR2Server


def test_registered_as_r2_protocol(
    monkeypatch: pytest.MonkeyPatch, s3_server: LocalR2Server, fs_bucket: str
) -> None:
    assert fsspec.get_filesystem_class("r2") is R2FileSystem
    kwargs = s3_server.client_kwargs
    monkeypatch.setenv("R2_ENDPOINT_URL", kwargs["endpoint_url"])
    monkeypatch.setenv("R2_ACCESS_KEY_ID", kwargs["access_key_id"])
    monkeypatch.setenv("R2_SECRET_ACCESS_KEY", kwargs["secret_access_key"])
    fs = fsspec.filesystem("r2", skip_instance_cache=True)
    fs.pipe_file(f"r2://{fs_bucket}/env/hello", b"from env")
    with fsspec.open(f"r2://{fs_bucket}/env/hello", "rb") as f:
        assert f.read() == b"from env"
    assert fs.unstrip_protocol(f"{fs_bucket}/env/hello") == f"r2://{fs_bucket}/env/hello"


def test_storage_options_carry_client_arguments(fs_options: dict[str, Any], base: str) -> None:
    options = {**fs_options, "headers": {"x-test": "1"}, "timeout": 30, "max_retries": 1}
    with fsspec.open(f"r2://{base}/so", "wb", **options) as f:
        f.write(b"storage options")
    of = fsspec.open(f"r2://{base}/so", "rb", **options)
    with of as f:
        assert f.read() == b"storage options"
    assert isinstance(of.fs, R2FileSystem)


def test_pickled_filesystem_works_and_keeps_only_options(
    fs_options: dict[str, Any], base: str
) -> None:
    fs = R2FileSystem(**fs_options, skip_instance_cache=True)
    fs.pipe_file(f"{base}/pk", b"pickled")
    blob = pickle.dumps(fs)
    # No client, connection or loop inside: only the options (which do hold the key).
    assert b"R2Client" not in blob and b"_slot" not in blob
    clone = pickle.loads(blob)
    assert clone.cat_file(f"{base}/pk") == b"pickled"
    with fs.open(f"{base}/pk", "rb") as f:
        again = pickle.loads(pickle.dumps(f))
        assert again.read() == b"pickled"


def test_instances_are_cached_by_options(fs_options: dict[str, Any]) -> None:
    assert R2FileSystem(**fs_options) is R2FileSystem(**fs_options)
    assert R2FileSystem(**fs_options) is not R2FileSystem(**fs_options, max_retries=1)


def test_repr_has_no_secret(fs_options: dict[str, Any]) -> None:
    fs = R2FileSystem(**fs_options, skip_instance_cache=True)
    assert fs_options["secret_access_key"] not in repr(fs)
    assert fs_options["endpoint_url"] in repr(fs)


async def test_asynchronous_on_the_callers_loop(afs: R2FileSystem, base: str) -> None:
    await afs._pipe_file(f"{base}/a1", b"one")
    await afs._pipe({f"{base}/a2": b"two", f"{base}/a3": b"three"})
    assert await afs._cat_file(f"{base}/a1") == b"one"
    out = await afs._cat(f"{base}/a*")
    assert out == {f"{base}/a1": b"one", f"{base}/a2": b"two", f"{base}/a3": b"three"}
    assert await afs._find(base) == [f"{base}/a1", f"{base}/a2", f"{base}/a3"]
    client = await afs._client()
    assert client is await afs.set_session()
    await afs._rm(base, recursive=True)
    assert not await afs._exists(base)


def test_one_async_instance_used_from_two_loops(fs_options: dict[str, Any], base: str) -> None:
    fs = R2FileSystem(**fs_options, asynchronous=True, skip_instance_cache=True)

    async def use() -> bytes:
        await fs._pipe_file(f"{base}/loops", b"x")
        data: bytes = await fs._cat_file(f"{base}/loops")
        await fs.aclose()
        return data

    # Each asyncio.run is a new loop: the client is re-created on each, never shared.
    assert asyncio.run(use()) == b"x"
    assert asyncio.run(use()) == b"x"


def test_sync_api_from_threads(fs: R2FileSystem, base: str) -> None:
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            fs.pipe_file(f"{base}/t/{i}", str(i).encode())
            assert fs.cat_file(f"{base}/t/{i}") == str(i).encode()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(fs.ls(f"{base}/t")) == 8


def test_transport_default_and_the_httpx_path(fs_options: dict[str, Any], base: str) -> None:
    import os

    default = R2FileSystem(**fs_options, skip_instance_cache=True)
    assert default._slot.options["transport"] == "aiohttp"  # installed with the dev extra
    fs = R2FileSystem(**fs_options, transport="httpx", skip_instance_cache=True)
    assert fs._slot.options["transport"] == "httpx"
    data = os.urandom(11 * 1024 * 1024)
    with fs.open(f"{base}/h/big", "wb", block_size=5 * 1024 * 1024) as f:
        f.write(data)
    fs.pipe({f"{base}/h/{i}": b"x" for i in range(5)})
    with fs.open(f"{base}/h/big", "rb", block_size=5 * 1024 * 1024) as f:
        assert f.read() == data
    assert len(fs.find(f"{base}/h")) == 6
    assert fs.cat(f"{base}/h/[0-4]") == {f"{base}/h/{i}": b"x" for i in range(5)}
    fs.rm(f"{base}/h", recursive=True)
    assert not fs.exists(f"{base}/h")
