"""``sync`` both ways: unchanged files are not transferred again, --delete, filters, dry runs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from tests.cli.runner import Cli, Store, make_tree

pytestmark = pytest.mark.integration

FILES = {
    "index.html": b"<h1>hi</h1>",
    "empty": b"",
    "a b/c+d%#.txt": b"tricky",
    "n/e/s/t/ed.txt": b"nested",
    "\u00e9t\u00e9.txt": b"unicode",
}


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    assert rows[-1]["action"] == "summary"
    return rows[-1]


def transfers(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(r["source"] for r in rows if r["action"] in ("upload", "download", "copy"))


def test_upload_sync_twice_transfers_nothing_the_second_time(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path
) -> None:
    src = make_tree(tmp_path / "src", FILES)
    dest = f"r2://{shared_bucket}/{prefix}"
    first = cli.json("sync", str(src), dest)
    assert summary(first)["transferred"] == len(FILES)
    second = cli.json("sync", str(src), dest)
    assert transfers(second) == []
    # Settled by times (the listing, or the stored mtime): no file is read.
    assert summary(second) | {"seconds": 0} == {
        "action": "summary",
        "compared": len(FILES),
        "unchanged": len(FILES),
        "compared_by_md5": 0,
        "compared_by_mtime": len(FILES),
        "compared_by_etag": 0,
        "transferred": 0,
        "bytes": 0,
        "deleted": 0,
        "seconds": 0,
        "dry_run": False,
        "failed": 0,
    }


def test_same_size_change_with_a_newer_mtime_is_sent_again(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path, store: Store
) -> None:
    src = make_tree(tmp_path / "src", {"index.html": b"<h1>hi</h1>", "other": b"o"})
    dest = f"r2://{shared_bucket}/{prefix}"
    cli.ok("sync", str(src), dest)
    page = src / "index.html"
    before = page.stat().st_mtime_ns
    page.write_bytes(b"<h1>HI</h1>")
    os.utime(page, ns=(before + 5 * 10**9, before + 5 * 10**9))
    out = cli.json("sync", str(src), dest)
    assert transfers(out) == [str(page)]
    assert summary(out)["compared_by_md5"] == 1  # mtime differed, the hash decided
    assert store.body(shared_bucket, prefix + "index.html") == b"<h1>HI</h1>"


def test_same_content_with_a_new_mtime_is_not_sent_again(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path
) -> None:
    src = make_tree(tmp_path / "src", {"f.txt": b"same"})
    dest = f"r2://{shared_bucket}/{prefix}"
    cli.ok("sync", str(src), dest)
    os.utime(src / "f.txt", ns=(2_000_000_000 * 10**9, 2_000_000_000 * 10**9))
    out = cli.json("sync", str(src), dest)
    assert transfers(out) == [] and summary(out)["compared_by_md5"] == 1


def test_exact_finds_a_same_size_change_whose_mtime_went_back(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path, store: Store
) -> None:
    # A file replaced by other bytes of the same size with an older mtime (cp -p, tar x):
    # the times say "unchanged" (as for the AWS CLI and s5cmd); --exact reads the file.
    src = make_tree(tmp_path / "src", {"f.txt": b"aaaa"})
    dest = f"r2://{shared_bucket}/{prefix}"
    cli.ok("sync", str(src), dest)
    (src / "f.txt").write_bytes(b"bbbb")
    os.utime(src / "f.txt", ns=(10**18, 10**18))  # 2001: older than the object
    assert transfers(cli.json("sync", str(src), dest)) == []
    out = cli.json("sync", "--checksum", str(src), dest)
    assert transfers(out) == [str(src / "f.txt")] and summary(out)["compared_by_md5"] == 1
    assert store.body(shared_bucket, prefix + "f.txt") == b"bbbb"
    again = cli.json("sync", "--exact", str(src), dest)
    assert transfers(again) == [] and summary(again)["compared_by_md5"] == 1


def test_delete_removes_what_is_gone_and_dry_run_changes_nothing(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path, store: Store
) -> None:
    src = make_tree(tmp_path / "src", {"keep.txt": b"k", "gone.txt": b"g", "skip.tmp": b"t"})
    dest = f"r2://{shared_bucket}/{prefix}"
    cli.ok("sync", str(src), dest)
    (src / "gone.txt").unlink()
    (src / "skip.tmp").unlink()
    (src / "new.txt").write_bytes(b"n")
    dry = cli.json("sync", "--delete", "--dry-run", "--exclude", "*.tmp", str(src), dest)
    assert {
        (r["action"], r["source"]) for r in dry if r.get("dry_run") and r["action"] != "summary"
    } == {
        ("upload", str(src / "new.txt")),
        ("delete", dest + "gone.txt"),
    }
    assert store.body(shared_bucket, prefix + "gone.txt") == b"g"
    real = cli.json("sync", "--delete", "--exclude", "*.tmp", str(src), dest)
    assert summary(real)["deleted"] == 1 and summary(real)["transferred"] == 1
    listed = set(store.keys(shared_bucket, prefix))
    # An excluded path is neither sent nor deleted.
    assert listed == {prefix + "keep.txt", prefix + "new.txt", prefix + "skip.tmp"}


def test_download_sync_twice_and_delete_local_files(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path
) -> None:
    src = make_tree(tmp_path / "src", FILES)
    remote = f"r2://{shared_bucket}/{prefix}"
    cli.ok("sync", str(src), remote)
    local = tmp_path / "local"
    first = cli.json("sync", remote, str(local))
    assert summary(first)["transferred"] == len(FILES)
    for rel, data in FILES.items():
        path = local.joinpath(*rel.split("/"))
        assert path.read_bytes() == data
        # The uploaded file's mtime, from the object's metadata.
        assert path.stat().st_mtime_ns == src.joinpath(*rel.split("/")).stat().st_mtime_ns
    second = cli.json("sync", remote, str(local))
    assert transfers(second) == [] and summary(second)["compared_by_md5"] == 0
    (local / "stray.txt").write_bytes(b"x")
    out = cli.json("sync", "--delete", remote, str(local))
    assert summary(out)["deleted"] == 1 and not (local / "stray.txt").exists()


def test_download_sync_fetches_a_rewritten_object_and_not_a_touched_file(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path, store: Store
) -> None:
    remote = f"r2://{shared_bucket}/{prefix}"
    # a.txt as r2async uploads it (an mtime in 2001), b.txt as another tool would (none).
    store.put(shared_bucket, prefix + "a.txt", b"1111", metadata={"mtime": "1000000000.5"})
    store.put(shared_bucket, prefix + "b.txt", b"bbbb")
    local = tmp_path / "local"
    cli.ok("sync", remote, str(local))
    assert (local / "a.txt").stat().st_mtime_ns == 1_000_000_000_500_000_000
    store.put(shared_bucket, prefix + "a.txt", b"2222")  # same size, new bytes
    os.utime(local / "b.txt", ns=(10**18, 10**18))  # touched, same bytes
    out = cli.json("sync", remote, str(local))
    assert transfers(out) == [remote + "a.txt"]
    assert (local / "a.txt").read_bytes() == b"2222"
    # The touched file was hashed, found equal, and given the object's time back.
    listed = store.head(shared_bucket, prefix + "b.txt").last_modified
    assert (local / "b.txt").stat().st_mtime_ns == int(listed.timestamp()) * 10**9
    again = cli.json("sync", remote, str(local))
    assert transfers(again) == [] and summary(again)["compared_by_md5"] == 0


def test_multipart_objects_are_compared_by_the_stored_mtime(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path
) -> None:
    # Above the single-PUT threshold (16 MiB) the ETag is not an MD5: mtime metadata decides.
    src = tmp_path / "src"
    src.mkdir()
    (src / "big.bin").write_bytes(os.urandom(1024) * (17 * 1024))
    remote = f"r2://{shared_bucket}/{prefix}"
    cli.ok("--part-size", "5MiB", "sync", str(src), remote)
    again = cli.json("sync", str(src), remote)
    assert transfers(again) == [] and summary(again)["compared_by_mtime"] == 1
    local = tmp_path / "back"
    cli.ok("sync", remote, str(local))
    assert (local / "big.bin").stat().st_mtime_ns == (src / "big.bin").stat().st_mtime_ns
    back = cli.json("sync", remote, str(local))
    assert transfers(back) == [] and summary(back)["compared_by_mtime"] == 1
    # Newer than the object, and not the stored mtime: no MD5 to ask, so it is sent.
    os.utime(src / "big.bin", ns=(2_000_000_000 * 10**9, 2_000_000_000 * 10**9))
    assert transfers(cli.json("sync", str(src), remote)) == [str(src / "big.bin")]


def test_r2_to_r2_sync_compares_etags(
    cli: Cli, shared_bucket: str, prefix: str, store: Store
) -> None:
    base = f"r2://{shared_bucket}/{prefix}"
    store.put(shared_bucket, prefix + "a/x.txt", b"x")
    assert summary(cli.json("sync", base + "a", base + "b"))["transferred"] == 1
    again = cli.json("sync", base + "a/", base + "b/")
    assert transfers(again) == [] and summary(again)["compared_by_etag"] == 1
    assert store.body(shared_bucket, prefix + "b/x.txt") == b"x"


def test_sync_of_a_missing_bucket_exits_1(cli: Cli, tmp_path: Path) -> None:
    src = make_tree(tmp_path / "src", {"a": b"1"})
    proc = cli("sync", str(src), "r2://no-such-bucket-sync/")
    assert proc.returncode == 1 and b"NoSuchBucketError" in proc.stderr
