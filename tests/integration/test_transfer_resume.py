"""download_file(resume=True) against SeaweedFS: keep a partial download, continue it later.

Objects are seven 5 MiB parts (the last one short); downloads run with ``concurrency=1`` where
the test needs to know exactly which parts completed before the interruption.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest

from r2async import NoSuchKeyError, R2Client
from r2async.testing import LocalR2Server

P = 5 * 1024 * 1024  # the smallest part size download_file accepts
SIZE = 6 * P + 12345  # seven parts
PARTS = 7


def payload(size: int, seed: int = 0) -> bytes:
    # Non-repeating, so a part at the wrong offset or from another version changes the bytes.
    out = bytearray()
    i = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}-{i}".encode()).digest() * 128
        i += 1
    return bytes(out[:size])


def span(index: int, size: int = SIZE) -> tuple[int, int]:
    return index * P, min((index + 1) * P, size) - 1


class Interrupt(Exception):
    """Raised by a progress callback to break a download off."""


def stop_after(limit: int):  # type: ignore[no-untyped-def]
    def progress(done: int, total: int | None) -> None:
        if done > limit:
            raise Interrupt(done)

    return progress


class GetLog:
    """Records the Range header of every GET (the http_client's request hook)."""

    def __init__(self) -> None:
        self.ranges: list[str | None] = []
        self.requests = 0

    async def __call__(self, request: httpx.Request) -> None:
        self.requests += 1
        if request.method == "GET":
            self.ranges.append(request.headers.get("range"))

    def spans(self) -> set[tuple[int, int]]:
        out = set()
        for value in self.ranges:
            assert value is not None and value.startswith("bytes=")
            start, end = value[len("bytes=") :].split("-")
            out.add((int(start), int(end)))
        return out

    def clear(self) -> None:
        self.ranges.clear()
        self.requests = 0


@pytest.fixture
async def logged(s3_server: LocalR2Server) -> AsyncIterator[tuple[R2Client, GetLog]]:
    log = GetLog()
    http = httpx.AsyncClient(event_hooks={"request": [log]})
    async with http, R2Client(**s3_server.client_kwargs, http_client=http) as r2:
        yield r2, log


def files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def sidecar(dest: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(Path(f"{dest}.r2async-part.json").read_text())


def done_parts(dest: Path) -> list[int]:
    # The sidecar records each complete part as [index, CRC-32 of its bytes].
    return [index for index, _crc in sidecar(dest)["done"]]


def damage_state(dest: Path, damage: str) -> None:
    state_path = Path(f"{dest}.r2async-part.json")
    part_path = Path(f"{dest}.r2async-part")
    state = sidecar(dest)
    if damage == "garbage":
        state_path.write_bytes(b"\xff{not json")
    elif damage == "empty":
        state_path.write_bytes(b"")
    elif damage == "other-key":
        state_path.write_text(json.dumps({**state, "key": "another"}))
    elif damage == "other-part-size":
        state_path.write_text(json.dumps({**state, "part_size": 2 * P}))
    elif damage == "part-file-truncated":
        with open(part_path, "r+b") as f:
            f.truncate(P)
    else:
        state_path.write_text(json.dumps({**state, "done": [*state["done"][:2], [99, 0]]}))
    # Poison the partial file: a restart must not reuse any of its bytes.
    with open(part_path, "r+b") as f:
        f.write(b"\0" * 1000)


def make_complete_partial(full: Path, dest: Path, bucket: str, etag: str | None) -> None:
    full.rename(f"{dest}.r2async-part")
    data = Path(f"{dest}.r2async-part").read_bytes()
    crcs = [zlib.crc32(data[i * P : (i + 1) * P]) for i in range(PARTS)]
    state = {"version": 2, "bucket": bucket, "key": "mp", "etag": etag, "size": SIZE}
    state.update(part_size=P, done=[[i, crcs[i]] for i in range(PARTS)])
    Path(f"{dest}.r2async-part.json").write_text(json.dumps(state))


async def interrupted(r2: R2Client, bucket: str, key: str, dest: Path, *, parts: int) -> None:
    """Start a resumable download and break it off once ``parts`` parts are complete."""
    with pytest.raises(Interrupt):
        await r2.download_file(
            bucket,
            key,
            dest,
            part_size=P,
            concurrency=1,
            resume=True,
            progress=stop_after(parts * P),
        )
    assert_partial(dest)


def assert_partial(dest: Path) -> None:
    assert not dest.exists()
    mine = [name for name in files(dest.parent) if name.startswith(dest.name)]
    assert mine == [f"{dest.name}.r2async-part", f"{dest.name}.r2async-part.json"]


async def test_resume_fetches_only_the_missing_parts(
    logged: tuple[R2Client, GetLog], bucket: str, tmp_path: Path
) -> None:
    r2, log = logged
    data = payload(SIZE)
    put = await r2.put_object(bucket, "obj", data)
    dest = tmp_path / "out.bin"

    await interrupted(r2, bucket, "obj", dest, parts=3)
    state = sidecar(dest)
    assert done_parts(dest) == [0, 1, 2]
    assert (state["bucket"], state["key"], state["size"], state["part_size"]) == (
        bucket,
        "obj",
        SIZE,
        P,
    )
    assert state["etag"] == put.etag

    log.clear()
    calls: list[tuple[int, int | None]] = []
    result = await r2.download_file(
        bucket,
        "obj",
        dest,
        part_size=P,
        concurrency=2,
        resume=True,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert dest.read_bytes() == data
    assert files(tmp_path) == ["out.bin"]
    assert sorted(log.spans()) == [span(i) for i in range(3, PARTS)]
    assert len(log.ranges) == PARTS - 3
    # Already-complete bytes are reported first, then counts grow to (size, size).
    assert calls[0] == (3 * P, SIZE)
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    assert calls[-1] == (SIZE, SIZE)

    # The result is what a plain download reports.
    plain = await r2.download_file(bucket, "obj", tmp_path / "plain.bin", part_size=P)
    assert result.md5_verified and plain.md5_verified
    skip = {"path", "request_id"}
    assert result.model_dump(exclude=skip) == plain.model_dump(exclude=skip)
    assert result.path == str(dest)


async def test_resume_after_cancellation(
    logged: tuple[R2Client, GetLog], bucket: str, tmp_path: Path
) -> None:
    r2, log = logged
    data = payload(SIZE, seed=3)
    await r2.put_object(bucket, "obj", data)
    dest = tmp_path / "out.bin"
    two_parts = anyio.Event()

    def progress(done: int, total: int | None) -> None:
        # Some part is recorded (and at most two are in flight, so not all of them).
        if done > 2 * P and Path(f"{dest}.r2async-part.json").exists():
            two_parts.set()

    async with anyio.create_task_group() as tg:

        async def download() -> None:
            await r2.download_file(
                bucket, "obj", dest, part_size=P, concurrency=2, resume=True, progress=progress
            )

        tg.start_soon(download)
        await two_parts.wait()
        tg.cancel_scope.cancel()
    assert not dest.exists()
    done = done_parts(dest)
    assert done and len(done) < PARTS

    log.clear()
    await r2.download_file(bucket, "obj", dest, part_size=P, concurrency=3, resume=True)
    assert dest.read_bytes() == data
    assert files(tmp_path) == ["out.bin"]
    assert log.spans() == {span(i) for i in range(PARTS) if i not in done}


async def test_object_overwritten_between_attempts_starts_over(
    logged: tuple[R2Client, GetLog], bucket: str, tmp_path: Path
) -> None:
    r2, log = logged
    await r2.put_object(bucket, "obj", payload(SIZE))
    dest = tmp_path / "out.bin"
    await interrupted(r2, bucket, "obj", dest, parts=3)

    # Same size, other bytes: only the ETag tells them apart.
    new = payload(SIZE, seed=1)
    put = await r2.put_object(bucket, "obj", new)
    log.clear()
    result = await r2.download_file(bucket, "obj", dest, part_size=P, concurrency=2, resume=True)
    assert dest.read_bytes() == new
    assert result.etag == put.etag and result.md5_verified
    assert files(tmp_path) == ["out.bin"]
    # The probe of the first missing part, then the whole object again.
    assert log.spans() == {span(i) for i in range(PARTS)}

    # A smaller object (the old first missing part is now past its end) also starts over.
    dest2 = tmp_path / "out2.bin"
    await r2.put_object(bucket, "obj2", payload(SIZE, seed=2))
    await interrupted(r2, bucket, "obj2", dest2, parts=3)
    small = payload(2 * P, seed=4)
    await r2.put_object(bucket, "obj2", small)
    await r2.download_file(bucket, "obj2", dest2, part_size=P, resume=True)
    assert dest2.read_bytes() == small
    assert files(tmp_path) == ["out.bin", "out2.bin"]


@pytest.mark.parametrize(
    "damage",
    ["garbage", "empty", "other-key", "other-part-size", "part-file-truncated", "bad-done"],
)
async def test_unusable_state_starts_over(
    logged: tuple[R2Client, GetLog], bucket: str, tmp_path: Path, damage: str
) -> None:
    r2, log = logged
    data = payload(SIZE, seed=5)
    await r2.put_object(bucket, "obj", data)
    dest = tmp_path / "out.bin"
    await interrupted(r2, bucket, "obj", dest, parts=3)
    damage_state(dest, damage)

    log.clear()
    result = await r2.download_file(bucket, "obj", dest, part_size=P, concurrency=2, resume=True)
    assert dest.read_bytes() == data
    assert result.md5_verified
    assert files(tmp_path) == ["out.bin"]
    assert log.spans() == {span(i) for i in range(PARTS)}
    assert len(log.ranges) == PARTS


async def test_state_of_another_object_at_the_same_path_is_not_used(
    r2: R2Client, bucket: str, tmp_path: Path
) -> None:
    await r2.put_object(bucket, "a", payload(SIZE, seed=6))
    b = payload(SIZE, seed=7)
    await r2.put_object(bucket, "b", b)
    dest = tmp_path / "out.bin"
    await interrupted(r2, bucket, "a", dest, parts=2)
    await r2.download_file(bucket, "b", dest, part_size=P, resume=True)
    assert dest.read_bytes() == b
    assert files(tmp_path) == ["out.bin"]


async def test_resume_of_a_complete_partial_and_of_a_multipart_object(
    logged: tuple[R2Client, GetLog], bucket: str, tmp_path: Path
) -> None:
    r2, log = logged
    data = payload(SIZE, seed=8)
    up = await r2.upload_stream(bucket, "mp", data, part_size=P)
    assert up.part_count == PARTS
    dest = tmp_path / "out.bin"

    # Every part on disk but not yet renamed (say, cancelled during the MD5 check): the next
    # call re-checks one part (for the metadata and the ETag) and renames.
    await r2.download_file(bucket, "mp", tmp_path / "full", part_size=P)
    make_complete_partial(tmp_path / "full", dest, bucket, up.etag)
    log.clear()
    result = await r2.download_file(bucket, "mp", dest, part_size=P, resume=True)
    assert dest.read_bytes() == data
    assert not result.md5_verified  # a multipart ETag is not an MD5
    assert result.content_length == SIZE and result.content_range is None
    assert log.spans() == {span(PARTS - 1)}
    assert files(tmp_path) == ["out.bin"]


async def test_resume_false_failure_leaves_nothing_and_ignores_resume_state(
    r2: R2Client, bucket: str, tmp_path: Path
) -> None:
    data = payload(SIZE, seed=9)
    await r2.put_object(bucket, "obj", data)
    dest = tmp_path / "out.bin"
    with pytest.raises(Interrupt):
        await r2.download_file(bucket, "obj", dest, part_size=P, progress=stop_after(2 * P))
    assert files(tmp_path) == []

    # A resumable failure before any part completed keeps nothing either.
    with pytest.raises(Interrupt):
        await r2.download_file(
            bucket,
            "obj",
            dest,
            part_size=P,
            concurrency=1,
            resume=True,
            progress=stop_after(P // 2),
        )
    assert files(tmp_path) == []
    with pytest.raises(NoSuchKeyError):
        await r2.download_file(bucket, "missing", dest, part_size=P, resume=True)
    assert files(tmp_path) == []

    # resume=False leaves another call's partial download alone and does not use it.
    await interrupted(r2, bucket, "obj", dest, parts=2)
    await r2.download_file(bucket, "obj", dest, part_size=P)
    assert dest.read_bytes() == data
    assert files(tmp_path) == sorted(
        ["out.bin", "out.bin.r2async-part", "out.bin.r2async-part.json"]
    )


@pytest.mark.parametrize("bad", ["yes", 1, None, 0.0])
async def test_bad_resume_type_is_rejected_before_any_io(
    logged: tuple[R2Client, GetLog], tmp_path: Path, bad: object
) -> None:
    r2, log = logged
    with pytest.raises(TypeError, match="resume"):
        await r2.download_file("bucket", "key", tmp_path / "out", resume=bad)  # type: ignore[arg-type]
    assert log.requests == 0
    assert files(tmp_path) == []
