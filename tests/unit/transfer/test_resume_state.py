"""The resume sidecar is validated within bounds before anything is computed from it, never
read through a symlink, and the parts it records are verified on disk (CRC-32) before use."""

from __future__ import annotations

import json
import os
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from r2async._limits import MAX_OBJECT_SIZE
from r2async._transfer.options import DownloadOptions
from r2async._transfer.resume import ResumeState

P = 5 * 1024 * 1024
SIZE = 3 * P + 100
DATA = bytes(range(256)) * (SIZE // 256) + bytes(SIZE % 256)


def state_for(tmp_path: Path) -> ResumeState:
    opts = DownloadOptions.build(
        "bkt",
        "key",
        read_args={},
        part_size=P,
        concurrency=2,
        progress=None,
        headers=None,
        timeout=None,
    )
    return ResumeState(str(tmp_path / "dest.r2async-part"), opts)


def crc(index: int, data: bytes = DATA) -> int:
    return zlib.crc32(data[index * P : (index + 1) * P])


def good_sidecar(**changes: Any) -> dict[str, Any]:
    state = {
        "version": 2,
        "bucket": "bkt",
        "key": "key",
        "etag": '"abc-3"',
        "size": SIZE,
        "part_size": P,
        "done": [[0, crc(0)], [2, crc(2)]],
    }
    return {**state, **changes}


def write(tmp_path: Path, sidecar: object, partial: bytes = DATA) -> ResumeState:
    (tmp_path / "dest.r2async-part").write_bytes(partial)
    (tmp_path / "dest.r2async-part.json").write_text(json.dumps(sidecar))
    return state_for(tmp_path)


def test_a_good_sidecar_is_used(tmp_path: Path) -> None:
    state = write(tmp_path, good_sidecar())
    assert state.load()
    assert state.done == {0: crc(0), 2: crc(2)}
    assert list(state.missing()) == [1, 3]


@pytest.mark.parametrize(
    "changes",
    [
        {"size": 10**30},  # used to materialise the missing parts: 3 GB, loop blocked
        {"size": MAX_OBJECT_SIZE + 1},
        {"size": 0},
        {"size": True},
        {"size": float(SIZE)},
        {"part_size": "5242880"},
        {"etag": ""},
        {"etag": "x" * 5000},
        {"etag": 5},
        {"version": 1},  # no per-part checksums: its bytes cannot be verified
        {"done": [0, 2]},
        {"done": [[0, crc(0)], [0, crc(0)]]},
        {"done": [[-1, 0]]},
        {"done": [[4, 0]]},
        {"done": [[0, -1]]},
        {"done": [[0, 1 << 32]]},
        {"done": [[True, 0]]},
        {"done": [[0, crc(0), 1]]},
        {"done": [[i, 0] for i in range(5)]},
        {"done": {"0": crc(0)}},
        {"bucket": "other"},
    ],
)
def test_an_implausible_sidecar_means_starting_over_quickly(
    tmp_path: Path, changes: dict[str, Any]
) -> None:
    state = write(tmp_path, good_sidecar(**changes))
    started = time.monotonic()
    assert not state.load()
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("document", ["[]", "null", '"text"', "{", "[" * 100_000])
def test_a_sidecar_that_is_not_an_object_means_starting_over(tmp_path: Path, document: str) -> None:
    write(tmp_path, {})
    (tmp_path / "dest.r2async-part.json").write_text(document)
    assert not state_for(tmp_path).load()


def test_the_largest_plausible_object_is_handled_lazily(tmp_path: Path) -> None:
    state = write(tmp_path, good_sidecar(size=MAX_OBJECT_SIZE, done=[]), partial=b"")
    started = time.monotonic()
    assert state.load()
    assert next(state.missing()) == 0 and state.bytes_done() == 0
    assert time.monotonic() - started < 1.0


def test_a_huge_sidecar_file_is_not_read(tmp_path: Path) -> None:
    write(tmp_path, good_sidecar())
    with open(tmp_path / "dest.r2async-part.json", "ab") as f:
        f.truncate(33 * 1024 * 1024)  # sparse: cheap to make
    assert not state_for(tmp_path).load()


def test_a_sidecar_reached_through_a_symlink_is_not_trusted(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps(good_sidecar()))
    (tmp_path / "dest.r2async-part").write_bytes(DATA)
    os.symlink(elsewhere, tmp_path / "dest.r2async-part.json")
    assert not state_for(tmp_path).load()


def test_a_directory_in_place_of_the_sidecar_or_partial_file_means_starting_over(
    tmp_path: Path,
) -> None:
    (tmp_path / "dest.r2async-part.json").mkdir()
    (tmp_path / "dest.r2async-part").write_bytes(DATA)
    state = state_for(tmp_path)
    assert not state.load()
    state.reset()  # clears the (empty) directory
    assert not (tmp_path / "dest.r2async-part.json").exists()

    (tmp_path / "dest.r2async-part").unlink()
    (tmp_path / "dest.r2async-part").mkdir()
    (tmp_path / "dest.r2async-part.json").write_text(json.dumps(good_sidecar()))
    assert not state_for(tmp_path).load()


def test_parts_whose_bytes_changed_on_disk_are_fetched_again(tmp_path: Path) -> None:
    stale = bytearray(DATA)
    stale[10] ^= 0xFF  # part 0 no longer has the recorded bytes
    state = write(tmp_path, good_sidecar(), partial=bytes(stale))
    assert state.load()
    assert state.done == {2: crc(2)} and state.dropped == 1
    assert list(state.missing()) == [0, 1, 3]


def test_the_sidecar_is_never_written_through_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    os.symlink(victim, tmp_path / "dest.r2async-part.json.tmp")
    os.symlink(victim, tmp_path / "dest.r2async-part.json")
    state = state_for(tmp_path)
    state.start('"abc-3"', SIZE)
    generation, done = state.snapshot(0, crc(0))
    fd = os.open(tmp_path / "victim", os.O_RDONLY)
    try:
        state.save(generation, done, fd, False)
    finally:
        os.close(fd)
    assert victim.read_bytes() == b"keep me"
    assert not (tmp_path / "dest.r2async-part.json").is_symlink()
    assert json.loads((tmp_path / "dest.r2async-part.json").read_text())["done"] == [[0, crc(0)]]
