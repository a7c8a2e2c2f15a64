"""The command's pure helpers, in-process: sizes, filters, mtimes, names, locations."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from r2async.cli._engine import format_mtime, parse_mtime
from r2async.cli._errors import UsageError
from r2async.cli._locations import (
    Local,
    Remote,
    key_for_upload,
    parse_location,
    path_for_download,
)
from r2async.cli._output import human_size
from r2async.cli._parser import parse_header, parse_metadata, parse_size
from r2async.cli._walk import included, is_plain_md5, walk_local


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("5242880", 5 * 2**20),
        ("8MiB", 8 * 2**20),
        ("16m", 16 * 2**20),
        ("1.5G", 3 * 2**29),
        ("64 KiB", 64 * 1024),
        ("1kb", 1024),
    ],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MiB", "-1", "8 PB", "1e6"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_size(text)


def test_headers_and_metadata() -> None:
    assert parse_header("X-Custom:  a: b ") == ("X-Custom", "a: b")
    with pytest.raises(UsageError):
        parse_header("bad name: v")
    assert parse_metadata(["a=1", "b==2", "c="]) == {"a": "1", "b": "=2", "c": ""}
    with pytest.raises(UsageError):
        parse_metadata(["=v"])


def test_filters_apply_in_order_and_the_last_match_wins() -> None:
    rules = [("exclude", "*.log"), ("include", "keep/*")]
    assert included("a.txt", rules)
    assert not included("x/a.log", rules)  # '*' crosses '/'
    assert included("keep/a.log", rules)
    assert not included("keep/a.log", [*rules, ("exclude", "keep/a*")])


def test_mtime_round_trips_to_the_nanosecond() -> None:
    for ns in (0, 1, 1_600_000_000_123_456_789, 10**18 - 1):
        assert parse_mtime(format_mtime(ns)) == ns
    assert format_mtime(1_600_000_000_000_000_005) == "1600000000.000000005"
    for bad in (None, "", "abc", "nan", "-1", "1e30"):
        assert parse_mtime(bad) is None


def test_plain_md5_etags() -> None:
    assert is_plain_md5('"d41d8cd98f00b204e9800998ecf8427e"')
    assert not is_plain_md5('"d41d8cd98f00b204e9800998ecf8427e-3"')
    assert not is_plain_md5(None)


def test_human_sizes() -> None:
    assert [human_size(n) for n in (0, 1023, 1024, 1536, 5 * 2**30)] == [
        "0 B",
        "1023 B",
        "1.0 KiB",
        "1.5 KiB",
        "5.0 GiB",
    ]


def test_locations_keep_keys_literally() -> None:
    assert parse_location("r2://b-1/a b+c%20#x?y", what="SRC") == Remote("b-1", "a b+c%20#x?y")
    assert parse_location("R2://bkt", what="SRC") == Remote("bkt", "")
    assert parse_location("./r2:/x", what="SRC") == Local("./r2:/x")
    assert Remote("bkt", "p").as_directory() == "p/"
    assert Remote("bkt", "").as_directory() == ""


def test_single_object_names(tmp_path: Path) -> None:
    assert key_for_upload(Remote("b", "k"), "/x/f.txt") == "k"
    assert key_for_upload(Remote("b", "p/"), f"x{os.sep}f.txt") == "p/f.txt"
    assert path_for_download(str(tmp_path), "a/b.txt") == str(tmp_path / "b.txt")
    assert path_for_download(str(tmp_path / "new.txt"), "a/b.txt") == str(tmp_path / "new.txt")


def test_walk_skips_special_files_and_does_not_follow_directory_links(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_bytes(b"12")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "link.txt").symlink_to(tmp_path / "d" / "f")
    (tmp_path / "dangling").symlink_to(tmp_path / "missing")
    os.mkfifo(tmp_path / "fifo")
    found = {(e.rel, e.size) for e in walk_local(str(tmp_path), [])}
    assert found == {("d/f", 2), ("link.txt", 2)}


def test_bulk_transport_only_for_large_or_unknown_transfers() -> None:
    from r2async.cli._engine import BULK_BYTES, BULK_OBJECTS, Job, moves_bulk

    def up(size: int | None) -> Job:
        return Job(Local("f"), Remote("b", "k"), size)

    assert not moves_bulk([up(10)] * BULK_OBJECTS)
    assert moves_bulk([up(10)] * (BULK_OBJECTS + 1))
    assert moves_bulk([up(BULK_BYTES + 1)])
    assert moves_bulk([up(None)])  # stdin: length unknown
    assert moves_bulk([Job(Remote("b", "k"), Local("f"))])  # size learnt from the GET
    # Server-side copies move no bytes through the process.
    assert not moves_bulk([Job(Remote("b", "k"), Remote("b", "j"))] * (BULK_OBJECTS + 1))


def test_sync_settles_same_size_paths_from_listing_times() -> None:
    import datetime as dt

    from r2async.cli._cmd_sync import _Plan, _Rules, _settled_by_listing
    from r2async.cli._walk import LocalEntry, RemoteEntry

    at = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
    second = int(at.timestamp()) * 10**9
    obj = RemoteEntry("f", "p/f", 4, '"' + "a" * 32 + '"', at)

    def local(mtime_ns: int) -> LocalEntry:
        return LocalEntry("f", "/x/f", 4, mtime_ns)

    rules = _Rules(exact=False, dry_run=False)
    plan = _Plan(transfers=[], deletes=[])
    # Uploading: the object written at or after the file's mtime is unchanged ...
    assert _settled_by_listing(local(second), obj, rules, plan) is False
    assert _settled_by_listing(local(second - 1), obj, rules, plan) is False
    # ... a file newer than the object (even by less than LastModified's second) is not
    # settled here: the stored mtime, then the MD5, decide.
    assert _settled_by_listing(local(second + 1), obj, rules, plan) is None
    # Downloading: the file at least as new as the object is unchanged.
    assert _settled_by_listing(obj, local(second), rules, plan) is False
    assert _settled_by_listing(obj, local(second - 1), rules, plan) is None
    assert plan.by_mtime == 3
    # --exact trusts no times; R2 to R2 compares ETags.
    exact = _Rules(exact=True, dry_run=False)
    assert _settled_by_listing(local(second), obj, exact, plan) is None
    other = RemoteEntry("f", "q/f", 4, '"' + "b" * 32 + '"', at)
    assert _settled_by_listing(obj, other, rules, plan) is True
    assert _settled_by_listing(obj, obj, rules, plan) is False
