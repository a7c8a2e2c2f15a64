"""upload_file / upload_stream / download_file / download_stream against SeaweedFS.

Parts are R2's minimum (5 MiB) so multipart paths run with little data; the threshold equals
the part size, so ``part`` bytes go out as one PutObject and ``part + 1`` as two parts.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
from tests.support.faults import FaultProxy, respond

from r2async import (
    APIStatusError,
    InternalServerError,
    NoSuchKeyError,
    ObjectChangedError,
    PreconditionFailedError,
    R2Client,
)
from r2async.testing import LocalR2Server

P = 5 * 1024 * 1024  # R2's minimum part size
SIZES = {"0": 0, "1": 1, "part-1": P - 1, "part": P, "part+1": P + 1, "many": 4 * P + 12345}


def payload(size: int, seed: int = 0) -> bytes:
    # Deterministic and non-repeating within a part, so a misplaced part changes the hash.
    block = hashlib.sha256(f"{seed}".encode()).digest() * 2048  # 64 KiB
    out = bytearray()
    i = 0
    while len(out) < size:
        out += hashlib.sha256(block[:32] + i.to_bytes(8, "big")).digest() + block[32:4096]
        i += 1
    return bytes(out[:size])


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def chunks(data: bytes, size: int = 1024 * 1024 + 7) -> AsyncIterator[bytes]:
    """An async iterable of unknown length with chunk sizes that do not divide the part size."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


class Recorder:
    """A progress callback that records every call (sync)."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int | None]] = []

    def __call__(self, done: int, total: int | None) -> None:
        self.calls.append((done, total))

    def check(self, size: int) -> None:
        assert self.calls, "progress was never called"
        done = [c[0] for c in self.calls]
        assert done == sorted(done), f"not monotonic: {done}"
        assert len(set(self.calls)) == len(self.calls), "a report was repeated"
        assert self.calls[-1] == (size, size)
        assert all(total in (None, size) for _, total in self.calls)


def server_kwargs(server: LocalR2Server) -> dict[str, Any]:
    return dict(server.client_kwargs)


async def no_uploads(r2: R2Client, bucket: str) -> None:
    listing = await r2.list_multipart_uploads(bucket)
    assert listing.uploads == ()


def notes(exc: BaseException) -> str:
    return "\n".join(getattr(exc, "__notes__", []))


def no_temp_files(directory: Path) -> None:
    assert [p.name for p in directory.iterdir() if ".r2async-" in p.name] == []


# -- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["path", "fileobj", "bytes", "aiter"])
@pytest.mark.parametrize("label", list(SIZES))
async def test_round_trip_byte_for_byte(
    r2: R2Client, bucket: str, tmp_path: Path, source: str, label: str
) -> None:
    size = SIZES[label]
    data = payload(size, seed=size)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    up = Recorder()
    common = {"part_size": P, "threshold": P, "concurrency": 3, "progress": up}
    if source == "path":
        result = await r2.upload_file(bucket, "obj", src, **common)  # type: ignore[arg-type]
    elif source == "fileobj":
        with open(src, "rb") as f:  # noqa: ASYNC230 - a local test file; blocking is fine
            result = await r2.upload_file(bucket, "obj", f, **common)  # type: ignore[arg-type]
    elif source == "bytes":
        result = await r2.upload_stream(bucket, "obj", data, **common)  # type: ignore[arg-type]
    else:
        result = await r2.upload_stream(bucket, "obj", chunks(data), **common)  # type: ignore[arg-type]
    up.check(size)
    assert result.size == size
    expected_parts = 0 if size <= P else -(-size // P)
    assert result.part_count == expected_parts
    head = await r2.head_object(bucket, "obj")
    assert head.content_length == size
    assert head.etag == result.etag
    if expected_parts:
        assert result.etag is not None and result.etag.strip('"').endswith(f"-{expected_parts}")
    await no_uploads(r2, bucket)

    down = Recorder()
    dest = tmp_path / "dest.bin"
    got = await r2.download_file(bucket, "obj", dest, part_size=P, concurrency=3, progress=down)
    assert sha(dest.read_bytes()) == sha(data)
    assert got.content_length == size and got.path == str(dest)
    assert got.md5_verified == (expected_parts == 0)
    down.check(size)
    no_temp_files(tmp_path)

    async with r2.download_stream(bucket, "obj", part_size=P, concurrency=3) as stream:
        assert stream.metadata.content_length == size
        streamed = await stream.read()
    assert sha(streamed) == sha(data)


async def test_many_parts_upload_and_download_are_parallel_and_exact(
    r2: R2Client, bucket: str, tmp_path: Path
) -> None:
    data = payload(7 * P + 3, seed=7)
    result = await r2.upload_stream(
        bucket, "big", chunks(data, 300_001), part_size=P, concurrency=4
    )
    assert (result.part_count, result.part_size, result.size) == (8, P, len(data))
    seen: list[int] = []
    async with r2.download_stream(bucket, "big", part_size=P, concurrency=4) as stream:
        out = bytearray()
        async for chunk in stream:
            seen.append(len(chunk))
            out += chunk
    assert sha(bytes(out)) == sha(data)
    assert stream.bytes_received == len(data)
    dest = tmp_path / "big.bin"
    await r2.download_file(bucket, "big", dest, part_size=P, concurrency=4)
    assert sha(dest.read_bytes()) == sha(data)


async def test_known_length_stream_uses_content_length_and_checks_it(
    r2: R2Client, bucket: str
) -> None:
    data = payload(2 * P + 5)
    result = await r2.upload_stream(
        bucket, "k", chunks(data), content_length=len(data), part_size=P, threshold=P
    )
    assert result.part_count == 3
    got = await r2.get_object(bucket, "k")
    assert sha(got.body) == sha(data)
    # A stream shorter than its declared length fails and leaves nothing behind.
    with pytest.raises(ValueError, match="content_length"):
        await r2.upload_stream(
            bucket, "short", chunks(data), content_length=len(data) + 1, part_size=P, threshold=P
        )
    with pytest.raises(NoSuchKeyError):
        await r2.head_object(bucket, "short")
    await no_uploads(r2, bucket)


async def test_typed_options_reach_single_and_multipart_uploads(r2: R2Client, bucket: str) -> None:
    for key, size in (("small", 10), ("large", P + 1)):
        await r2.upload_stream(
            bucket,
            key,
            payload(size),
            part_size=P,
            threshold=P,
            content_type="application/x-test",
            metadata={"origin": "transfer-test"},
            headers={"Cache-Control": "max-age=60"},
        )
        head = await r2.head_object(bucket, key)
        assert head.content_type == "application/x-test"
        assert head.metadata == {"origin": "transfer-test"}
        assert head.cache_control == "max-age=60"


async def test_if_none_match_star_refuses_to_overwrite_single_and_multipart(
    r2: R2Client, bucket: str
) -> None:
    await r2.put_object(bucket, "taken", b"original")
    for size in (10, P + 1):
        with pytest.raises(PreconditionFailedError):
            await r2.upload_stream(
                bucket, "taken", payload(size), part_size=P, threshold=P, if_none_match="*"
            )
    assert (await r2.get_object(bucket, "taken")).body == b"original"
    await no_uploads(r2, bucket)
    fresh = await r2.upload_stream(
        bucket, "fresh", payload(P + 1), part_size=P, threshold=P, if_none_match="*"
    )
    assert fresh.part_count == 2


async def test_async_progress_callback_is_awaited_in_order(r2: R2Client, bucket: str) -> None:
    calls: list[tuple[int, int | None]] = []

    async def progress(done: int, total: int | None) -> None:
        await anyio.lowlevel.checkpoint()
        calls.append((done, total))

    data = payload(3 * P)
    await r2.upload_stream(bucket, "k", chunks(data), part_size=P, concurrency=1, progress=progress)
    assert calls == [(P, None), (2 * P, None), (3 * P, 3 * P)]
    assert calls[-1] == (3 * P, 3 * P)


# -- failures and cancellation: uploads ----------------------------------------------------


async def test_part_failing_after_retries_aborts_and_keeps_the_old_object(
    s3_server: LocalR2Server, bucket: str
) -> None:
    async with FaultProxy(s3_server.endpoint_url) as proxy:
        kwargs = {**server_kwargs(s3_server), "endpoint_url": proxy.endpoint_url}
        async with R2Client(**kwargs, max_retries=1) as r2:
            await r2.put_object(bucket, "obj", b"old version")
            # Two 500s for part 3: the first attempt and its one retry.
            proxy.inject(
                respond(500, method="PUT", path="partNumber=3"),
                respond(500, method="PUT", path="partNumber=3"),
            )
            with pytest.raises(InternalServerError) as info:
                await r2.upload_stream(bucket, "obj", payload(4 * P), part_size=P, concurrency=2)
            text = notes(info.value)
            assert "part 3" in text and "aborted" in text and "unchanged" in text
            assert "gave up after 2 attempts" in str(info.value)
            assert proxy.pending == []
            await no_uploads(r2, bucket)
            assert (await r2.get_object(bucket, "obj")).body == b"old version"


async def test_local_read_error_aborts_the_upload(r2: R2Client, bucket: str) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield payload(2 * P)
        raise OSError("disk on fire")

    with pytest.raises(OSError, match="disk on fire") as info:
        await r2.upload_stream(bucket, "obj", broken(), part_size=P, concurrency=2)
    assert "aborted" in notes(info.value)
    await no_uploads(r2, bucket)
    with pytest.raises(NoSuchKeyError):
        await r2.head_object(bucket, "obj")


async def test_file_shrinking_during_upload_aborts(
    r2: R2Client, bucket: str, tmp_path: Path
) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(payload(3 * P))

    def shrink(done: int, total: int | None) -> None:
        with open(src, "r+b") as f:
            f.truncate(P)

    with pytest.raises(OSError, match="changed size during the upload") as info:
        await r2.upload_file(
            bucket, "obj", src, part_size=P, threshold=P, concurrency=1, progress=shrink
        )
    assert "aborted" in notes(info.value)
    await no_uploads(r2, bucket)
    with pytest.raises(NoSuchKeyError):
        await r2.head_object(bucket, "obj")


async def test_exception_in_progress_callback_aborts(r2: R2Client, bucket: str) -> None:
    def progress(done: int, total: int | None) -> None:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        await r2.upload_stream(bucket, "obj", payload(2 * P + 1), part_size=P, progress=progress)
    await no_uploads(r2, bucket)


@pytest.mark.parametrize("how", ["anyio-scope", "asyncio-task"])
async def test_cancellation_mid_upload_aborts_and_keeps_the_old_object(
    r2: R2Client, bucket: str, how: str
) -> None:
    await r2.put_object(bucket, "obj", b"old version")
    first_part_done = anyio.Event()

    def progress(done: int, total: int | None) -> None:
        first_part_done.set()

    async def upload() -> None:
        await r2.upload_stream(
            bucket, "obj", chunks(payload(6 * P)), part_size=P, concurrency=2, progress=progress
        )

    if how == "anyio-scope":
        async with anyio.create_task_group() as tg:
            tg.start_soon(upload)
            await first_part_done.wait()
            tg.cancel_scope.cancel()
    else:
        task = asyncio.ensure_future(upload())
        await first_part_done.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    await no_uploads(r2, bucket)
    assert (await r2.get_object(bucket, "obj")).body == b"old version"


# -- failures and cancellation: downloads --------------------------------------------------


async def test_missing_key_leaves_destination_untouched(
    r2: R2Client, bucket: str, tmp_path: Path
) -> None:
    dest = tmp_path / "dest.bin"
    with pytest.raises(NoSuchKeyError):
        await r2.download_file(bucket, "missing", dest)
    assert not dest.exists()
    dest.write_bytes(b"keep me")
    with pytest.raises(NoSuchKeyError):
        await r2.download_file(bucket, "missing", dest)
    assert dest.read_bytes() == b"keep me"
    no_temp_files(tmp_path)


async def test_object_overwritten_mid_download_fails_cleanly(
    r2: R2Client, bucket: str, tmp_path: Path
) -> None:
    await r2.put_object(bucket, "obj", payload(3 * P))
    overwritten = False

    async def overwrite(done: int, total: int | None) -> None:
        nonlocal overwritten
        if not overwritten:
            overwritten = True
            await r2.put_object(bucket, "obj", payload(3 * P, seed=1))

    dest = tmp_path / "dest.bin"
    dest.write_bytes(b"previous download")
    # The typed "object changed" error, still a PreconditionFailedError.
    with pytest.raises(ObjectChangedError, match="changed during the download") as info:
        await r2.download_file(bucket, "obj", dest, part_size=P, concurrency=1, progress=overwrite)
    assert isinstance(info.value, PreconditionFailedError)
    assert dest.read_bytes() == b"previous download"
    no_temp_files(tmp_path)

    # download_stream reports the same when it reaches the changed part.
    await r2.put_object(bucket, "obj2", payload(3 * P))
    with pytest.raises(ObjectChangedError):
        async with r2.download_stream(bucket, "obj2", part_size=P, concurrency=2) as stream:
            await r2.put_object(bucket, "obj2", payload(3 * P, seed=1))
            await stream.read()


async def test_cancelled_download_leaves_no_file(r2: R2Client, bucket: str, tmp_path: Path) -> None:
    await r2.put_object(bucket, "obj", payload(3 * P))
    started = anyio.Event()

    def progress(done: int, total: int | None) -> None:
        started.set()

    dest = tmp_path / "dest.bin"
    async with anyio.create_task_group() as tg:

        async def download() -> None:
            await r2.download_file(bucket, "obj", dest, part_size=P, progress=progress)

        tg.start_soon(download)
        await started.wait()
        tg.cancel_scope.cancel()
    assert not dest.exists()
    no_temp_files(tmp_path)


async def test_conditional_download_arguments(r2: R2Client, bucket: str, tmp_path: Path) -> None:
    put = await r2.put_object(bucket, "obj", b"abc")
    dest = tmp_path / "d"
    with pytest.raises(APIStatusError) as info:
        await r2.download_file(bucket, "obj", dest, if_none_match=put.etag)
    assert info.value.status_code == 304
    with pytest.raises(PreconditionFailedError):
        await r2.download_file(bucket, "obj", dest, if_match='"0123"')
    assert not dest.exists()
    result = await r2.download_file(bucket, "obj", dest, if_match=put.etag)
    assert dest.read_bytes() == b"abc" and result.etag == put.etag


async def test_download_into_missing_directory_or_onto_a_directory(
    r2: R2Client, bucket: str, tmp_path: Path
) -> None:
    await r2.put_object(bucket, "obj", b"abc")
    with pytest.raises(FileNotFoundError):
        await r2.download_file(bucket, "obj", tmp_path / "no" / "such" / "dir")
    with pytest.raises(IsADirectoryError):
        await r2.download_file(bucket, "obj", tmp_path)


# -- trio ----------------------------------------------------------------------------------


def test_transfers_run_under_trio(s3_server: LocalR2Server, tmp_path: Path) -> None:
    pytest.importorskip("trio")
    data = payload(2 * P + 1)

    async def main() -> None:
        async with R2Client(**server_kwargs(s3_server)) as r2:
            bucket = "trio-transfers"
            await r2.create_bucket(bucket)
            result = await r2.upload_stream(bucket, "obj", chunks(data), part_size=P)
            assert result.part_count == 3
            await r2.download_file(bucket, "obj", tmp_path / "out", part_size=P)
            async with r2.download_stream(bucket, "obj", part_size=P) as stream:
                assert sha(await stream.read()) == sha(data)
            # Cancellation under trio also aborts.
            with anyio.move_on_after(30) as scope:
                async with anyio.create_task_group() as tg:
                    started = anyio.Event()
                    tg.start_soon(_upload_until_cancelled, r2, bucket, data, lambda: started.set())
                    await started.wait()
                    tg.cancel_scope.cancel()
            assert not scope.cancelled_caught
            assert (await r2.list_multipart_uploads(bucket)).uploads == ()
            assert (await r2.head_object(bucket, "obj")).etag == result.etag

    anyio.run(main, backend="trio")
    assert sha((tmp_path / "out").read_bytes()) == sha(data)


async def _upload_until_cancelled(
    r2: R2Client, bucket: str, data: bytes, started: Callable[[], None]
) -> None:
    await r2.upload_stream(
        bucket,
        "obj",
        chunks(data * 3),
        part_size=P,
        concurrency=1,
        progress=lambda done, total: started(),
    )


async def test_conditions_are_sent_on_create_and_complete(
    s3_server: LocalR2Server, bucket: str
) -> None:
    # R2 evaluates If-None-Match on CreateMultipartUpload *and* CompleteMultipartUpload, so a
    # key created while parts upload is not overwritten. SeaweedFS checks only Create, so this
    # shows the header reaches both requests (signed: SeaweedFS verifies every signature).
    seen: list[tuple[str, str, str | None]] = []

    async def record(request: httpx.Request) -> None:
        query = request.url.query.decode()
        seen.append((request.method, query, request.headers.get("if-none-match")))

    http = httpx.AsyncClient(event_hooks={"request": [record]})
    async with http, R2Client(**server_kwargs(s3_server), http_client=http) as r2:
        await r2.upload_stream(
            bucket, "obj", payload(2 * P + 1), part_size=P, threshold=P, if_none_match="*"
        )
    create = [s for s in seen if s[0] == "POST" and s[1] == "uploads"]
    complete = [s for s in seen if s[0] == "POST" and s[1].startswith("uploadId=")]
    parts = [s for s in seen if s[0] == "PUT"]
    assert [c[2] for c in create + complete] == ["*", "*"]
    assert len(parts) == 3 and all(p[2] is None for p in parts)
