"""Transfer engine without a server: part sizing, validation, request sequencing, shielding."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
import respx

from r2async import R2Client
from r2async._exceptions import InternalServerError, NoSuchUploadError
from r2async._transfer import api as tr
from r2async._transfer import upload as transfer_upload

MiB = 1024 * 1024
P = tr.MIN_PART_SIZE


def notes(exc: BaseException) -> str:
    return "\n".join(getattr(exc, "__notes__", []))


# -- part sizing -----------------------------------------------------------------------------


def test_part_size_stays_at_the_preferred_size_while_10000_parts_suffice() -> None:
    assert tr.part_size_for(0) == tr.DEFAULT_PART_SIZE
    assert tr.part_size_for(10_000 * 8 * MiB) == 8 * MiB
    assert tr.part_size_for(10_000 * 8 * MiB + 1) == 9 * MiB
    assert tr.part_size_for(100 * MiB, 5 * MiB) == 5 * MiB


@pytest.mark.parametrize(
    "size", [1, 5 * MiB, 10_000 * 5 * MiB + 1, 1 << 40, 3 * (1 << 40) + 12345, tr.MAX_OBJECT_SIZE]
)
def test_part_size_obeys_r2_limits(size: int) -> None:
    part = tr.part_size_for(size, tr.MIN_PART_SIZE)
    assert tr.MIN_PART_SIZE <= part <= tr.MAX_PART_SIZE
    assert -(-size // part) <= tr.MAX_PARTS
    assert part % MiB == 0


def test_objects_above_r2_maximum_are_refused() -> None:
    with pytest.raises(ValueError, match="largest object"):
        tr.part_size_for(tr.MAX_OBJECT_SIZE + 1)


# -- validation before any I/O ---------------------------------------------------------------


def _client() -> R2Client:
    return R2Client(account_id="acct", access_key_id="AKID", secret_access_key="SECRET")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"part_size": P - 1}, ValueError, "part_size"),
        ({"part_size": 8.0 * MiB}, TypeError, "part_size"),
        ({"concurrency": 0}, ValueError, "concurrency"),
        ({"threshold": -1}, ValueError, "threshold"),
        ({"progress": 42}, TypeError, "progress"),
        ({"checksum_algorithm": "MD5"}, ValueError, "checksum_algorithm"),
        ({"storage_class": "GLACIER"}, ValueError, "storage_class"),
        ({"sse_customer_key": b"short"}, ValueError, "32 bytes"),
        ({"headers": {"Bad\nName": "x"}}, ValueError, "header"),
        ({"content_length": -1}, ValueError, "content_length"),
    ],
)
async def test_bad_upload_arguments_fail_before_any_request(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    async with _client() as r2:
        with respx.mock(base_url="https://acct.r2.cloudflarestorage.com") as mock:
            with pytest.raises(error, match=match):
                await r2.upload_stream("bucket", "key", b"data", **kwargs)
            assert mock.calls.call_count == 0


async def test_bad_data_types_are_named() -> None:
    async with _client() as r2:
        with respx.mock(base_url="https://acct.r2.cloudflarestorage.com") as mock:
            with pytest.raises(TypeError, match="bytes, not str"):
                await r2.upload_stream("bucket", "key", "text")
            with pytest.raises(TypeError, match="upload_stream"):
                await r2.upload_file("bucket", "key", b"data")  # type: ignore[arg-type]
            with pytest.raises(TypeError, match="upload_file"):
                import pathlib

                await r2.upload_stream("bucket", "key", pathlib.Path("x"))
            with pytest.raises(TypeError, match="binary mode"):
                await r2.upload_file("bucket", "key", io.StringIO("x"))  # type: ignore[arg-type]
            with pytest.raises(ValueError, match="bucket"):
                await r2.upload_stream("Bad_Bucket", "key", b"x")
            assert mock.calls.call_count == 0


async def test_bad_download_arguments_fail_before_any_request(tmp_path: Any) -> None:
    async with _client() as r2:
        with respx.mock(base_url="https://acct.r2.cloudflarestorage.com") as mock:
            with pytest.raises(ValueError, match="part_size"):
                await r2.download_file("bucket", "key", tmp_path / "x", part_size=1)
            with pytest.raises(ValueError, match="concurrency"):
                r2.download_stream("bucket", "key", concurrency=1000)
            with pytest.raises(TypeError):
                await r2.download_file("bucket", "key", tmp_path / "x", if_match=3)  # type: ignore[arg-type]
            assert mock.calls.call_count == 0
        assert list(tmp_path.iterdir()) == []


# -- request sequencing with a fake client ---------------------------------------------------


class FakeClient:
    """Records the multipart calls the engine makes; fails where told to."""

    def __init__(self, *, fail_part: int | None = None, abort_error: Exception | None = None):
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.parts: dict[int, int] = {}
        self.fail_part = fail_part
        self.abort_error = abort_error
        self.in_flight = 0
        self.max_in_flight = 0

    async def create_multipart_upload(self, bucket: str, key: str, **kw: Any) -> Any:
        self.calls.append(("create", kw))
        return type("R", (), {"upload_id": "UP1"})()

    async def upload_part(
        self, bucket: str, key: str, upload_id: str, number: int, body: Any, **kw: Any
    ) -> Any:
        self.calls.append(("part", {"number": number, **kw}))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await anyio.sleep(0.001 * (number % 3))  # finish out of order
            if number == self.fail_part:
                raise InternalServerError("boom", status_code=500, operation="UploadPart")
            self.parts[number] = len(body)
            return (number, f'"etag{number}"')
        finally:
            self.in_flight -= 1

    async def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: list[Any], **kw: Any
    ) -> Any:
        self.calls.append(("complete", {"parts": parts, **kw}))
        return type("C", (), {"etag": '"x-2"', "version_id": None, "request_id": None})()

    async def abort_multipart_upload(self, bucket: str, key: str, upload_id: str, **kw: Any) -> Any:
        self.calls.append(("abort", {"upload_id": upload_id}))
        if self.abort_error is not None:
            raise self.abort_error
        return None

    async def put_object(self, bucket: str, key: str, body: Any, **kw: Any) -> Any:
        self.calls.append(("put", {"size": len(body), **kw}))
        return type("P", (), {"etag": '"e"', "version_id": None, "request_id": None})()

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


def _uploader(fake: FakeClient, **overrides: Any) -> tr.Uploader:
    args: dict[str, Any] = {
        "write_args": {},
        "checksum_algorithm": None,
        "part_size": P,
        "threshold": P,
        "concurrency": 3,
        "progress": None,
        "headers": None,
        "timeout": None,
    }
    write_args = overrides.pop("write_args", {})
    args.update(overrides)
    args["write_args"] = {name: None for name in tr.WRITE_ARGS} | write_args
    opts = tr.UploadOptions.build("upload_stream", "bucket", "key", **args)
    return tr.Uploader(fake, opts)  # type: ignore[arg-type]


async def _stream(total: int, chunk: int = 700_001) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        n = min(chunk, total - sent)
        yield b"x" * n
        sent += n


async def test_conditions_and_sse_key_go_on_create_every_part_and_complete() -> None:
    fake = FakeClient()
    key = bytes(range(32))
    up = _uploader(fake, write_args={"if_none_match": "*", "sse_customer_key": key})
    reader, _ = tr.make_reader(_stream(2 * P + 1), None, what="t")
    result = await up.upload_reader(reader, in_memory=False)
    assert result.part_count == 3 and result.size == 2 * P + 1
    create = fake.calls[0][1]
    complete = fake.calls[-1][1]
    assert create["if_none_match"] == "*" and create["sse_customer_key"] == key
    assert complete["if_none_match"] == "*" and complete["sse_customer_key"] == key
    assert all(kw["sse_customer_key"] == key for name, kw in fake.calls if name == "part")
    assert [p[0] for p in complete["parts"]] == [1, 2, 3]
    assert fake.parts == {1: P, 2: P, 3: 1}


async def test_parts_in_flight_never_exceed_concurrency() -> None:
    fake = FakeClient()
    up = _uploader(fake, concurrency=2)
    reader, _ = tr.make_reader(_stream(9 * P), None, what="t")
    await up.upload_reader(reader, in_memory=False)
    assert fake.max_in_flight == 2
    assert sorted(fake.parts) == list(range(1, 10))


async def test_failed_part_aborts_and_keeps_exception_type() -> None:
    fake = FakeClient(fail_part=2)
    up = _uploader(fake)
    reader, _ = tr.make_reader(_stream(5 * P), None, what="t")
    with pytest.raises(InternalServerError) as info:
        await up.upload_reader(reader, in_memory=False)
    assert fake.names()[-1] == "abort" and "complete" not in fake.names()
    text = notes(info.value)
    assert "while uploading part 2" in text and "the upload was aborted" in text


async def test_failed_abort_is_reported_in_the_note() -> None:
    fake = FakeClient(fail_part=1, abort_error=ConnectionError("down"))
    up = _uploader(fake)
    reader, _ = tr.make_reader(_stream(2 * P), None, what="t")
    with pytest.raises(InternalServerError) as info:
        await up.upload_reader(reader, in_memory=False)
    assert "aborting it also failed (ConnectionError: down)" in notes(info.value)


async def test_abort_of_an_upload_already_gone_is_not_an_error() -> None:
    gone = NoSuchUploadError("gone", status_code=404)
    fake = FakeClient(fail_part=1, abort_error=gone)
    up = _uploader(fake)
    reader, _ = tr.make_reader(_stream(2 * P), None, what="t")
    with pytest.raises(InternalServerError) as info:
        await up.upload_reader(reader, in_memory=False)
    assert "the upload was aborted" in notes(info.value)


async def test_stream_longer_than_part_size_times_max_parts_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Patched where it is read: the upload loop.
    monkeypatch.setattr(transfer_upload, "MAX_PARTS", 2)
    fake = FakeClient()
    up = _uploader(fake, concurrency=1)
    reader, _ = tr.make_reader(_stream(2 * P + 1), None, what="t")
    with pytest.raises(ValueError, match="part_size \\* 10,000"):
        await up.upload_reader(reader, in_memory=False)
    assert fake.names()[-1] == "abort"
    # Exactly part_size * MAX_PARTS bytes still fits.
    fake = FakeClient()
    reader, _ = tr.make_reader(_stream(2 * P), None, what="t")
    result = await _uploader(fake, concurrency=1).upload_reader(reader, in_memory=False)
    assert result.part_count == 2


async def test_small_streams_go_out_as_one_put_with_checksum() -> None:
    fake = FakeClient()
    up = _uploader(fake, checksum_algorithm="crc32")
    reader, _ = tr.make_reader(_stream(1000), None, what="t")
    result = await up.upload_reader(reader, in_memory=False)
    assert fake.names() == ["put"]
    put = fake.calls[0][1]
    assert put["size"] == 1000 and put["checksum_algorithm"] == "CRC32" and put["checksum"]
    assert result.part_count == 0 and result.size == 1000


async def test_progress_reports_are_increasing_and_end_at_the_size() -> None:
    calls: list[tuple[int, int | None]] = []
    fake = FakeClient()
    up = _uploader(fake, concurrency=1, progress=lambda d, t: calls.append((d, t)))
    reader, _ = tr.make_reader(_stream(3 * P), None, what="t")
    await up.upload_reader(reader, in_memory=False)
    assert calls == [(P, None), (2 * P, None), (3 * P, 3 * P)]
    # In parallel, reports may coalesce but stay increasing and end at the size.
    calls.clear()
    up = _uploader(FakeClient(), concurrency=4, progress=lambda d, t: calls.append((d, t)))
    reader, _ = tr.make_reader(_stream(7 * P + 3), None, what="t")
    await up.upload_reader(reader, in_memory=False)
    done = [d for d, _ in calls]
    assert done == sorted(set(done)) and calls[-1] == (7 * P + 3, 7 * P + 3)


def test_fileobj_from_a_pipe_has_unknown_length() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._buf = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, b: Any) -> int:
            return self._buf.readinto(b)

    reader, in_memory = tr.make_reader(io.BufferedReader(Pipe(b"x" * 10)), None, what="t")
    assert reader.size is None and not in_memory

    seekable = io.BytesIO(b"abcdef")
    seekable.seek(2)
    reader, _ = tr.make_reader(seekable, None, what="t")
    assert reader.size == 4


# -- shielding -------------------------------------------------------------------------------


async def test_cleanup_survives_repeated_asyncio_cancellation() -> None:
    finished: list[str] = []

    async def cleanup() -> str:
        await asyncio.sleep(0.05)
        finished.append("done")
        return "ok"

    async def worker() -> None:
        await tr.run_shielded(cleanup)

    task = asyncio.ensure_future(worker())
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished == ["done"]


async def test_cleanup_survives_anyio_cancellation() -> None:
    finished: list[str] = []

    async def cleanup() -> None:
        await anyio.sleep(0.02)
        finished.append("done")

    with anyio.move_on_after(0.001):
        await anyio.sleep(0.01)
        await tr.run_shielded(cleanup)
    assert finished == []  # cancelled before cleanup started
    with anyio.CancelScope() as scope:
        scope.cancel()
        await tr.run_shielded(cleanup)
    assert finished == ["done"]
