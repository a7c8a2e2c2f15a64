"""Wrong bytes under a plain-MD5 ETag raise IntegrityError and leave nothing behind, while an
ETag that is no MD5 of the body (an R2 multipart object from before 2023-06-21) never fails a
correct download: download_file (one GET and ranged parts, with and without resume),
download_stream and get_object, both transports, a loopback server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.support.object_server import ObjectServer, etag_of

from r2async import IntegrityError, PreconditionFailedError, R2Client

P = 5 * 1024 * 1024
TRANSPORTS = ["httpx", "aiohttp"]
SIZES = {"one-get": 1000, "ranged-parts": 2 * P + 123}


def payload(size: int, seed: int = 0) -> bytes:
    block = bytes((i * 7 + seed) % 251 for i in range(4096))
    return (block * (size // len(block) + 1))[:size]


def corrupt(data: bytes) -> bytes:
    """The same length, one byte flipped near the end (in the last part when there are parts)."""
    at = len(data) - 10
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


@pytest.fixture
async def server() -> AsyncIterator[ObjectServer]:
    async with ObjectServer() as srv:
        yield srv


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def client(server: ObjectServer, transport: str) -> R2Client:
    return R2Client(**server.client_kwargs, transport=transport)  # type: ignore[arg-type]


def serve_corrupt(server: ObjectServer, key: str, size: int) -> tuple[bytes, bytes]:
    """Serve wrong bytes at ``key`` under the ETag (plain MD5) of the right ones."""
    right = payload(size)
    wrong = corrupt(right)
    server.put(key, wrong)
    server.etags[key] = etag_of(right)
    return right, wrong


async def read_stream(r2: R2Client, key: str) -> bytes:
    async with r2.download_stream("bkt", key, part_size=P, concurrency=2) as stream:
        return await stream.read()


# --- a single-part object: wrong bytes raise, nothing is written ---------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("shape", list(SIZES))
@pytest.mark.parametrize("resume", [False, True])
async def test_download_file_refuses_wrong_bytes_and_leaves_no_file(
    server: ObjectServer, tmp_path: Path, transport: str, shape: str, resume: bool
) -> None:
    right, _ = serve_corrupt(server, "obj", SIZES[shape])
    dest = tmp_path / "out.bin"
    async with client(server, transport) as r2:
        with pytest.raises(IntegrityError, match="MD5") as info:
            await r2.download_file("bkt", "obj", dest, part_size=P, resume=resume)
    assert etag_of(right).strip('"') in str(info.value)
    assert names(tmp_path) == []  # no file, no temporary or .r2async-part file
    # The mismatch was confirmed against the object's part 1, pinned to the ETag read.
    assert server.heads == [("obj?partNumber=1", etag_of(right))]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_download_file_keeps_an_existing_file_when_the_bytes_are_wrong(
    server: ObjectServer, tmp_path: Path, transport: str
) -> None:
    serve_corrupt(server, "obj", SIZES["ranged-parts"])
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"previous")
    async with client(server, transport) as r2:
        with pytest.raises(IntegrityError):
            await r2.download_file("bkt", "obj", dest, part_size=P)
    assert names(tmp_path) == ["out.bin"]
    assert dest.read_bytes() == b"previous"


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("shape", list(SIZES))
async def test_download_stream_raises_after_the_last_chunk_of_wrong_bytes(
    server: ObjectServer, transport: str, shape: str
) -> None:
    serve_corrupt(server, "obj", SIZES[shape])
    async with client(server, transport) as r2:
        with pytest.raises(IntegrityError, match="MD5"):
            await read_stream(r2, "obj")
    assert [target for target, _ in server.heads] == ["obj?partNumber=1"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_get_object_refuses_wrong_bytes(server: ObjectServer, transport: str) -> None:
    right, _ = serve_corrupt(server, "obj", 300 * 1024)  # hashed in a worker thread
    serve_corrupt(server, "small", 1000)  # hashed inline
    async with client(server, transport) as r2:
        for key in ("obj", "small"):
            with pytest.raises(IntegrityError, match="MD5"):
                await r2.get_object("bkt", key)
    assert server.heads == [
        ("obj?partNumber=1", etag_of(right)),
        ("small?partNumber=1", etag_of(payload(1000))),
    ]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_verify_md5_false_skips_the_comparison(
    server: ObjectServer, tmp_path: Path, transport: str
) -> None:
    _, wrong = serve_corrupt(server, "obj", 1000)
    async with client(server, transport) as r2:
        assert (await r2.get_object("bkt", "obj", verify_md5=False)).body == wrong
        async with r2.download_stream("bkt", "obj", verify_md5=False) as stream:
            assert await stream.read() == wrong
            assert not stream.md5_verified
        result = await r2.download_file("bkt", "obj", tmp_path / "f", verify_md5=False)
    assert not result.md5_verified and (tmp_path / "f").read_bytes() == wrong
    assert server.heads == []


# --- nothing to compare with: no HEAD, the bytes are delivered ---------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_reads_that_cannot_be_compared_are_not_compared(
    server: ObjectServer, tmp_path: Path, transport: str
) -> None:
    _, wrong = serve_corrupt(server, "obj", 1000)
    server.put("mp", wrong)
    server.etags["mp"] = '"' + "a" * 32 + '-2"'  # a multipart ETag: never an MD5
    async with client(server, transport) as r2:
        # A range, or one part, has no MD5 of its own to compare with.
        assert (await r2.get_object("bkt", "obj", range=(0, 99))).body == wrong[:100]
        assert (await r2.get_object("bkt", "obj", range=(0, None))).body == wrong
        assert (await r2.get_object("bkt", "mp")).body == wrong
        result = await r2.download_file("bkt", "mp", tmp_path / "mp")
        async with r2.download_stream("bkt", "mp") as stream:
            assert await stream.read() == wrong
            assert not stream.md5_verified
    assert not result.md5_verified and (tmp_path / "mp").read_bytes() == wrong
    assert server.heads == []


# --- right bytes: verified without any extra request --------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("shape", list(SIZES))
async def test_right_bytes_are_verified_without_a_head(
    server: ObjectServer, tmp_path: Path, transport: str, shape: str
) -> None:
    data = payload(SIZES[shape])
    server.put("obj", data)
    async with client(server, transport) as r2:
        result = await r2.download_file("bkt", "obj", tmp_path / "f", part_size=P)
        async with r2.download_stream("bkt", "obj", part_size=P) as stream:
            assert await stream.read() == data
            assert stream.md5_verified
        assert (await r2.get_object("bkt", "obj")).body == data
    assert result.md5_verified and (tmp_path / "f").read_bytes() == data
    assert server.heads == []


# --- a 32-hex ETag that is no MD5 of the body: a multipart object is never failed ----------


def serve_old_multipart(server: ObjectServer, key: str, size: int, how: str) -> bytes:
    """An object whose 32-hex ETag is not its MD5, which HEAD ?partNumber=1 shows multipart."""
    data = payload(size)
    server.put(key, data)
    server.etags[key] = '"' + "0123456789abcdef" * 2 + '"'
    if how == "part-1-shorter":
        server.part1_sizes[key] = size // 2
    else:  # the parts count header, even for one part of the whole size
        server.parts_counts[key] = 1
    return data


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("how", ["part-1-shorter", "parts-count"])
@pytest.mark.parametrize("shape", list(SIZES))
async def test_an_old_multipart_etag_never_fails_a_correct_download(
    server: ObjectServer, tmp_path: Path, transport: str, how: str, shape: str
) -> None:
    data = serve_old_multipart(server, "obj", SIZES[shape], how)
    async with client(server, transport) as r2:
        result = await r2.download_file("bkt", "obj", tmp_path / "f", part_size=P)
        async with r2.download_stream("bkt", "obj", part_size=P) as stream:
            assert await stream.read() == data
            assert not stream.md5_verified
        assert (await r2.get_object("bkt", "obj")).body == data
    assert not result.md5_verified and (tmp_path / "f").read_bytes() == data
    assert [target for target, _ in server.heads] == ["obj?partNumber=1"] * 3


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_failed_check_for_multipart_is_raised_and_nothing_is_kept(
    server: ObjectServer, tmp_path: Path, transport: str
) -> None:
    # The object changed between the download and the HEAD: neither passed nor condemned.
    serve_corrupt(server, "obj", 1000)
    server.head_status = 412
    async with client(server, transport) as r2:
        with pytest.raises(PreconditionFailedError) as info:
            await r2.download_file("bkt", "obj", tmp_path / "f", resume=True)
        with pytest.raises(PreconditionFailedError):
            await r2.get_object("bkt", "obj")
    assert "multipart" in "".join(getattr(info.value, "__notes__", []))
    assert names(tmp_path) == []
