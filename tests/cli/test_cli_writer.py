"""Small downloads: the MD5 check and the file write done in one worker-thread hand-off.

In-process, with a stand-in client: SeaweedFS always sends a correct ETag, so a body that
does not match it (and the multipart exception to the rule) can only be staged here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from r2async import GetObjectResult, HeadObjectResult
from r2async.cli._engine import Engine, Job, WriteOptions
from r2async.cli._locations import Local, Remote
from r2async.cli._output import Output
from r2async.cli._session import Session
from r2async.cli._writer import write_file

MTIME_NS = 1_733_230_000_123_456_789
LAST_MODIFIED = dt.datetime(2024, 12, 3, 12, 0, 0, tzinfo=dt.timezone.utc)


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_a_matching_body_is_written_whole_with_its_mtime(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    data = os.urandom(300_000)
    assert write_file(str(path), data, MTIME_NS, md5(data)) is None
    assert path.read_bytes() == data
    assert path.stat().st_mtime_ns == MTIME_NS
    assert os.listdir(tmp_path) == ["f.bin"]  # no temporary file left


def test_a_mismatching_body_writes_nothing_and_returns_its_md5(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"the previous version")
    assert write_file(str(path), b"abc", None, "0" * 32) == md5(b"abc")
    assert path.read_bytes() == b"the previous version"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    # The rename fails (a directory is in the way) after the temporary file was written.
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_bytes(b"")
    with pytest.raises(OSError):
        write_file(str(tmp_path / "taken"), b"abc", MTIME_NS, None)
    assert os.listdir(tmp_path) == ["taken"]


class StandIn:
    """The two calls a small download makes: GetObject, and HeadObject on a mismatch."""

    def __init__(self, body: bytes, etag_md5: str, parts_count: int | None) -> None:
        self.body = body
        self.etag = f'"{etag_md5}"'
        self.parts_count = parts_count
        self.heads: list[dict[str, Any]] = []

    async def get_object(self, bucket: str, key: str, *, verify_md5: bool) -> GetObjectResult:
        assert not verify_md5  # the engine compares it itself, in the writer thread
        return GetObjectResult(
            body=self.body,
            content_length=len(self.body),
            etag=self.etag,
            last_modified=LAST_MODIFIED,
            metadata={"mtime": "1733230000.123456789"},
        )

    async def head_object(self, bucket: str, key: str, **kwargs: Any) -> HeadObjectResult:
        self.heads.append(kwargs)
        return HeadObjectResult(
            content_length=len(self.body),
            etag=self.etag,
            last_modified=LAST_MODIFIED,
            parts_count=self.parts_count,
        )


def download(client: StandIn, path: Path) -> tuple[list[Job], Output]:
    output = Output(quiet=True)
    session = Session(
        endpoint_url=None,
        jurisdiction=None,
        concurrency=4,
        part_size=8 * 2**20,
        headers={},
        output=output,
        show_progress=False,
    )
    engine = Engine(client, session, WriteOptions())  # type: ignore[arg-type]
    job = Job(Remote("b", "k"), Local(str(path)), len(client.body))
    done = asyncio.run(engine.run([job], label="download"))
    return done, output


def test_a_body_that_does_not_match_its_single_part_etag_fails(tmp_path: Path) -> None:
    client = StandIn(b"corrupted", md5(b"original!"), parts_count=None)
    done, output = download(client, tmp_path / "f.bin")
    assert done == []
    assert [f.error for f in output.failures] == ["IntegrityError"]
    # The mismatch was confirmed with a HEAD of part 1 pinned to the ETag, as get_object does.
    assert client.heads == [
        {
            "part_number": 1,
            "if_match": client.etag,
            "headers": None,
            "timeout": client.heads[0]["timeout"],
        }
    ]
    assert os.listdir(tmp_path) == []


def test_a_multipart_objects_etag_proves_nothing_and_the_file_is_kept(tmp_path: Path) -> None:
    client = StandIn(b"body", md5(b"something else"), parts_count=3)
    done, output = download(client, tmp_path / "f.bin")
    assert len(done) == 1 and output.failures == []
    assert (tmp_path / "f.bin").read_bytes() == b"body"
    assert (tmp_path / "f.bin").stat().st_mtime_ns == MTIME_NS
    assert os.listdir(tmp_path) == ["f.bin"]


def test_a_matching_body_sends_no_head(tmp_path: Path) -> None:
    client = StandIn(b"body", md5(b"body"), parts_count=None)
    done, output = download(client, tmp_path / "f.bin")
    assert len(done) == 1 and output.failures == [] and client.heads == []
    assert (tmp_path / "f.bin").read_bytes() == b"body"


def test_a_write_whose_caller_was_cancelled_before_it_began_is_skipped(tmp_path: Path) -> None:
    import queue

    from r2async.cli._writer import _work

    loop = asyncio.new_event_loop()
    try:
        cancelled: asyncio.Future[str | None] = loop.create_future()
        cancelled.cancel()
        pending: asyncio.Future[str | None] = loop.create_future()
        items: queue.SimpleQueue[Any] = queue.SimpleQueue()
        items.put((loop, cancelled, str(tmp_path / "skipped"), b"a", None, None))
        items.put((loop, pending, str(tmp_path / "written"), b"b", None, None))
        items.put(None)
        _work(items)  # in this thread: returns at the None
        loop.run_until_complete(asyncio.sleep(0))  # runs the call_soon_threadsafe callbacks
        assert pending.result() is None
    finally:
        loop.close()
    assert os.listdir(tmp_path) == ["written"]
