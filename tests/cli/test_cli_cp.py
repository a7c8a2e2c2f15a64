"""``cp`` and ``mv`` through the installed script against the local server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from tests.cli.runner import Cli, Store, json_lines, make_tree

from r2async.cli._locations import local_path_for_key

pytestmark = pytest.mark.integration

# Keys users write that break naive URL handling: spaces, '+', '%', '#', '?', unicode, nesting.
TRICKY = {
    "plain.txt": b"plain",
    "with space.txt": b"space",
    "plus+sign.txt": b"plus",
    "100%.txt": b"percent",
    "hash#frag.txt": b"hash",
    "query?x=1.txt": b"query",
    "caf\u00e9/\u65e5\u672c.txt": "unicode \u00e9".encode(),
    "empty.bin": b"",
    "a/b/c/deep.txt": b"deep",
}


def test_recursive_upload_and_download_round_trip_tricky_keys(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path, store: Store
) -> None:
    src = make_tree(tmp_path / "src", TRICKY)
    out = cli.json("cp", "-r", str(src), f"r2://{shared_bucket}/{prefix}")
    uploads = [r for r in out if r["action"] == "upload"]
    assert len(uploads) == len(TRICKY) and all(r["ok"] for r in uploads)
    assert out[-1]["action"] == "summary" and out[-1]["objects"] == len(TRICKY)
    assert out[-1]["failed"] == 0
    assert store.keys(shared_bucket, prefix) == {
        prefix + rel: len(data) for rel, data in TRICKY.items()
    }
    dest = tmp_path / "dest"
    cli.ok("cp", "-r", f"r2://{shared_bucket}/{prefix}", str(dest))
    for rel, data in TRICKY.items():
        assert dest.joinpath(*rel.split("/")).read_bytes() == data


def test_download_keeps_the_uploaded_mtime(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path
) -> None:
    path = tmp_path / "old.txt"
    path.write_bytes(b"old")
    os.utime(path, ns=(1_600_000_000_123_456_789, 1_600_000_000_123_456_789))
    cli.ok("cp", str(path), f"r2://{shared_bucket}/{prefix}")
    cli.ok("cp", f"r2://{shared_bucket}/{prefix}old.txt", str(tmp_path / "back.txt"))
    assert (tmp_path / "back.txt").stat().st_mtime_ns == 1_600_000_000_123_456_789


@pytest.mark.parametrize(
    ("dest_suffix", "expected_key"),
    [("", "file.txt"), ("dir/", "dir/file.txt"), ("named.bin", "named.bin")],
)
def test_single_file_key_follows_aws_cli_rules(
    cli: Cli,
    shared_bucket: str,
    prefix: str,
    tmp_path: Path,
    dest_suffix: str,
    expected_key: str,
    store: Store,
) -> None:
    (tmp_path / "file.txt").write_bytes(b"x")
    cli.ok("cp", str(tmp_path / "file.txt"), f"r2://{shared_bucket}/{prefix}{dest_suffix}")
    assert store.keys(shared_bucket, prefix) == {prefix + expected_key: 1}


def test_download_into_existing_directory_uses_the_key_name(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path, store: Store
) -> None:
    store.put(shared_bucket, f"{prefix}x/report.csv", b"a,b\n")
    cli.ok("cp", f"r2://{shared_bucket}/{prefix}x/report.csv", str(tmp_path))
    assert (tmp_path / "report.csv").read_bytes() == b"a,b\n"


def test_stdin_to_object_and_object_to_stdout_multipart(
    cli: Cli, shared_bucket: str, prefix: str, store: Store
) -> None:
    data = os.urandom(11 * 1024 * 1024 + 7)  # three 5 MiB parts: a multipart stream upload
    url = f"r2://{shared_bucket}/{prefix}stream.bin"
    cli.ok("--part-size", "5MiB", "cp", "-", url, input=data)
    assert cli.ok("cp", url, "-").stdout == data
    assert cli.ok("cat", url).stdout == data
    head = store.head(shared_bucket, f"{prefix}stream.bin")
    assert head.content_length == len(data) and head.etag.strip('"').endswith("-3")


def test_object_options_are_stored(cli: Cli, shared_bucket: str, prefix: str, store: Store) -> None:
    url = f"r2://{shared_bucket}/{prefix}page"
    cli.ok(
        "cp",
        "--content-type",
        "text/html; charset=utf-8",
        "--cache-control",
        "max-age=60",
        "--metadata",
        "owner=ops",
        "--metadata",
        "build=42",
        "-",
        url,
        input=b"<p>hi</p>",
    )
    head = store.head(shared_bucket, f"{prefix}page")
    assert head.content_type == "text/html; charset=utf-8"
    assert head.cache_control == "max-age=60"
    assert head.metadata == {"owner": "ops", "build": "42"}


def test_content_type_is_guessed_from_the_name(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path, store: Store
) -> None:
    (tmp_path / "index.html").write_bytes(b"<html></html>")
    cli.ok("cp", str(tmp_path / "index.html"), f"r2://{shared_bucket}/{prefix}")
    assert store.head(shared_bucket, f"{prefix}index.html").content_type == "text/html"


def test_if_none_match_refuses_to_overwrite(
    cli: Cli, shared_bucket: str, prefix: str, store: Store
) -> None:
    url = f"r2://{shared_bucket}/{prefix}once"
    cli.ok("cp", "--if-none-match", "-", url, input=b"first")
    proc = cli("cp", "--if-none-match", "-", url, input=b"second")
    assert proc.returncode == 1
    assert b"PreconditionFailedError" in proc.stderr
    assert store.body(shared_bucket, f"{prefix}once") == b"first"


def test_server_side_copy_keeps_metadata_and_replaces_on_request(
    cli: Cli, shared_bucket: str, prefix: str, store: Store
) -> None:
    base = f"r2://{shared_bucket}/{prefix}"
    store.put(shared_bucket, f"{prefix}src/a.txt", b"A", metadata={"k": "v"})
    store.put(shared_bucket, f"{prefix}src/sub/b.txt", b"B")
    out = cli.json("cp", "-r", base + "src", base + "dst/")
    assert sorted(r["destination"] for r in out if r["action"] == "copy") == [
        base + "dst/a.txt",
        base + "dst/sub/b.txt",
    ]
    assert store.body(shared_bucket, f"{prefix}dst/sub/b.txt") == b"B"
    assert store.head(shared_bucket, f"{prefix}dst/a.txt").metadata == {"k": "v"}
    cli.ok("cp", "--content-type", "text/csv", base + "src/a.txt", base + "typed.csv")
    head = store.head(shared_bucket, f"{prefix}typed.csv")
    assert head.content_type == "text/csv" and head.metadata == {}


def test_mv_local_to_r2_removes_the_local_files_after_upload(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path, store: Store
) -> None:
    src = make_tree(tmp_path / "src", {"a.txt": b"a", "d/b.txt": b"b"})
    out = cli.json("mv", "-r", str(src), f"r2://{shared_bucket}/{prefix}")
    assert {r["action"] for r in out} == {"move", "summary"}
    assert not (src / "a.txt").exists() and not (src / "d" / "b.txt").exists()
    assert store.keys(shared_bucket, prefix) == {prefix + "a.txt": 1, prefix + "d/b.txt": 1}


def test_mv_r2_to_r2_deletes_the_source_objects(
    cli: Cli, shared_bucket: str, prefix: str, store: Store
) -> None:
    base = f"r2://{shared_bucket}/{prefix}"
    store.put(shared_bucket, f"{prefix}from/x", b"x")
    cli.ok("mv", "-r", base + "from/", base + "to/")
    assert store.keys(shared_bucket, prefix) == {prefix + "to/x": 1}


def test_mv_onto_itself_fails_without_losing_the_object(
    cli: Cli, shared_bucket: str, prefix: str, store: Store
) -> None:
    url = f"r2://{shared_bucket}/{prefix}same"
    store.put(shared_bucket, f"{prefix}same", b"keep")
    proc = cli("mv", url, url)
    assert proc.returncode == 1 and b"same object" in proc.stderr
    assert store.body(shared_bucket, f"{prefix}same") == b"keep"


def test_missing_bucket_fails_every_object_with_exit_1(cli: Cli, tmp_path: Path) -> None:
    src = make_tree(tmp_path / "src", {"a": b"1", "b": b"2", "c": b"3"})
    proc = cli("--json", "cp", "-r", str(src), "r2://no-such-bucket-cli/p/")
    assert proc.returncode == 1
    rows = json_lines(proc.stdout)
    failures = [r for r in rows if r.get("ok") is False]
    assert len(failures) == 3
    assert {r["error"] for r in failures} == {"NoSuchBucketError"}
    assert rows[-1] == {**rows[-1], "action": "summary", "failed": 3, "objects": 0}
    assert "r2async mb r2://no-such-bucket-cli" in failures[0]["message"]


def test_missing_key_fails_and_leaves_no_file(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path
) -> None:
    proc = cli("cp", f"r2://{shared_bucket}/{prefix}absent", str(tmp_path / "out"))
    assert proc.returncode == 1
    assert b"NoSuchKeyError" in proc.stderr and b"1 failed" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_some_failures_do_not_stop_the_others(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path, store: Store
) -> None:
    src = make_tree(tmp_path / "src", {"new.txt": b"n", "taken.txt": b"t"})
    store.put(shared_bucket, f"{prefix}taken.txt", b"old")
    proc = cli("cp", "-r", "--if-none-match", str(src), f"r2://{shared_bucket}/{prefix}")
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert "1 failed:" in err and "taken.txt" in err.split("1 failed:")[1]
    assert store.body(shared_bucket, f"{prefix}new.txt") == b"n"


def test_dry_run_copies_nothing(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path, store: Store
) -> None:
    src = make_tree(tmp_path / "src", {"a": b"1"})
    out = cli.json("cp", "-r", "--dry-run", str(src), f"r2://{shared_bucket}/{prefix}")
    assert out[0]["dry_run"] is True and out[0]["destination"].endswith(prefix + "a")
    assert store.keys(shared_bucket, prefix) == {}


def test_exclude_and_include_filter_recursive_copies(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path, store: Store
) -> None:
    src = make_tree(tmp_path / "src", {"a.log": b"1", "b.txt": b"2", "keep.log": b"3"})
    cli.ok(
        "cp",
        "-r",
        "--exclude",
        "*.log",
        "--include",
        "keep*",
        str(src),
        f"r2://{shared_bucket}/{prefix}",
    )
    assert set(store.keys(shared_bucket, prefix)) == {prefix + "b.txt", prefix + "keep.log"}


@pytest.mark.parametrize("rel", ["../escape.txt", "a/../../x", "a//b", "./x", "a/", ""])
def test_key_parts_that_would_escape_the_directory_are_refused(rel: str, tmp_path: Path) -> None:
    # R2 stores such keys as written; SeaweedFS refuses them, so this is checked in-process.
    with pytest.raises(ValueError, match="cannot be a local file name"):
        local_path_for_key(str(tmp_path), rel)
    assert local_path_for_key(str(tmp_path), "a/b c.txt") == str(tmp_path / "a" / "b c.txt")


def test_header_and_endpoint_options(
    cli: Cli, shared_bucket: str, prefix: str, store: Store
) -> None:
    # --endpoint-url replaces R2_ENDPOINT_URL; --header is sent (and signed) on every request.
    env = dict(cli.env)
    endpoint = env.pop("R2_ENDPOINT_URL")
    url = f"r2://{shared_bucket}/{prefix}h"
    cli.ok(
        "--endpoint-url",
        endpoint,
        "--header",
        "x-amz-meta-via: header",
        "cp",
        "-",
        url,
        input=b"h",
        env=env,
    )
    assert store.head(shared_bucket, prefix + "h").metadata["via"] == "header"


def test_copies_above_the_single_request_limit_use_part_copies(
    s3_server: Any,
    shared_bucket: str,
    prefix: str,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # CopyObject stops at 5 GB; the limit is lowered in-process to exercise UploadPartCopy.
    from r2async.cli import _engine, main

    data = os.urandom(11 * 1024 * 1024)
    store.put(shared_bucket, prefix + "src.bin", data, metadata={"k": "v"})
    monkeypatch.setattr(_engine, "MAX_SINGLE_REQUEST", 1024)
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    base = f"r2://{shared_bucket}/{prefix}"
    assert main(["--part-size", "5MiB", "cp", base + "src.bin", base + "dst.bin"]) == 0
    assert store.body(shared_bucket, prefix + "dst.bin") == data
    head = store.head(shared_bucket, prefix + "dst.bin")
    assert head.etag.strip('"').endswith("-3") and head.metadata == {"k": "v"}
    assert "copy: " + base + "src.bin" in capsys.readouterr().out
