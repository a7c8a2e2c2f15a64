"""download_file(resume=True) starts over, and never writes through a link, whatever it finds
at its partial-file and sidecar paths; bytes on disk are verified before they are reused."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.support.object_server import ObjectServer, busy_connections

from r2async import R2Client

P = 5 * 1024 * 1024
DATA = bytes((i * 7) % 251 for i in range(4096)) * (3 * P // 4096) + b"end"
MULTIPART_ETAG = '"0123456789abcdef0123456789abcdef-3"'  # no MD5 check can catch bad bytes


@pytest.fixture
async def r2() -> AsyncIterator[R2Client]:
    async with ObjectServer() as server:
        server.put("obj", DATA)
        server.etags["obj"] = MULTIPART_ETAG
        async with R2Client(**server.client_kwargs) as client:
            yield client
            assert busy_connections(client) == 0


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def overwrite(path: str, offset: int, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


class Stop(Exception):
    pass


def stop_after(limit: int):  # type: ignore[no-untyped-def]
    def progress(done: int, total: int | None) -> None:
        if done >= limit:
            raise Stop

    return progress


@pytest.mark.parametrize("where", ["partial", "sidecar", "sidecar-tmp"])
async def test_a_symlink_planted_at_a_resume_path_is_not_followed(
    r2: R2Client, tmp_path: Path, where: str
) -> None:
    dest = tmp_path / "dest.bin"
    victim = tmp_path / "victim"
    victim.write_bytes(b"must stay")
    link = {
        "partial": f"{dest}.r2async-part",
        "sidecar": f"{dest}.r2async-part.json",
        "sidecar-tmp": f"{dest}.r2async-part.json.tmp",
    }[where]
    os.symlink(victim, link)
    result = await r2.download_file("bkt", "obj", dest, part_size=P, resume=True)
    assert victim.read_bytes() == b"must stay"
    assert not dest.is_symlink() and dest.read_bytes() == DATA
    assert result.path == str(dest)
    assert names(tmp_path) == ["dest.bin", "victim"]


@pytest.mark.parametrize("where", ["partial", "sidecar"])
@pytest.mark.parametrize("full", [False, True])
async def test_a_directory_at_a_resume_path_means_starting_over(
    r2: R2Client, tmp_path: Path, where: str, full: bool
) -> None:
    dest = tmp_path / "dest.bin"
    directory = Path(f"{dest}.r2async-part" + (".json" if where == "sidecar" else ""))
    os.mkdir(directory)
    if full:  # cannot be removed: the download goes on without resuming
        (directory / "inside").write_bytes(b"x")
    await r2.download_file("bkt", "obj", dest, part_size=P, resume=True)
    assert dest.read_bytes() == DATA
    expected = ["dest.bin", directory.name] if full else ["dest.bin"]
    assert names(tmp_path) == expected


async def test_stale_bytes_in_the_partial_file_are_fetched_again(
    r2: R2Client, tmp_path: Path
) -> None:
    dest = tmp_path / "dest.bin"
    with pytest.raises(Stop):
        await r2.download_file(
            "bkt",
            "obj",
            dest,
            part_size=P,
            concurrency=1,
            resume=True,
            progress=stop_after(2 * P),
        )
    # Something else wrote into the recorded parts since (the multipart ETag is unchanged).
    overwrite(f"{dest}.r2async-part", 17, b"stale bytes")  # in part 0, recorded as done
    result = await r2.download_file("bkt", "obj", dest, part_size=P, resume=True)
    assert dest.read_bytes() == DATA
    assert not result.md5_verified
    assert names(tmp_path) == ["dest.bin"]
