"""Read-only commands: ls, du, stat, cat and presign."""

from __future__ import annotations

import httpx
import pytest
from tests.cli.runner import Cli, Store, json_lines

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def listed(store: Store, shared_bucket: str) -> str:
    """A small tree shared by this module's read-only tests."""
    for key, size in (("top.txt", 3), ("dir/a.bin", 2048), ("dir/sub/b", 0), ("dirt.txt", 1)):
        store.put(shared_bucket, key, b"x" * size)
    return shared_bucket


def test_ls_without_url_lists_buckets(cli: Cli, listed: str) -> None:
    rows = cli.json("ls")
    assert {"type": "bucket", "name": listed} == {
        k: v
        for k, v in next(r for r in rows if r["name"] == listed).items()
        if k != "creation_date"
    }
    assert listed in cli.ok("ls").stdout.decode()


def test_ls_groups_at_slash_and_shows_relative_names(cli: Cli, listed: str) -> None:
    text = cli.ok("ls", f"r2://{listed}").stdout.decode().splitlines()
    assert any(line.endswith("PRE dir/") for line in text)
    assert any(line.endswith(" 3  top.txt") for line in text)
    rows = cli.json("ls", f"r2://{listed}/dir")
    # A prefix without '/' matches 'dir/' and 'dirt.txt', as in aws s3 ls.
    assert [(r["type"], r.get("key") or r.get("prefix")) for r in rows] == [
        ("prefix", "dir/"),
        ("object", "dirt.txt"),
    ]
    sub = cli.ok("ls", f"r2://{listed}/dir/").stdout.decode()
    assert "PRE sub/" in sub and "a.bin" in sub and "dir/a.bin" not in sub


def test_ls_recursive_and_human_sizes(cli: Cli, listed: str) -> None:
    rows = cli.json("ls", "-r", f"r2://{listed}/dir/")
    assert [(r["key"], r["size"], r["url"]) for r in rows] == [
        ("dir/a.bin", 2048, f"r2://{listed}/dir/a.bin"),
        ("dir/sub/b", 0, f"r2://{listed}/dir/sub/b"),
    ]
    assert all(r["etag"] and r["last_modified"] for r in rows)
    text = cli.ok("ls", "-r", "-H", f"r2://{listed}/dir/").stdout.decode()
    assert "2.0 KiB  dir/a.bin" in text and "0 B  dir/sub/b" in text


def test_du_sums_a_prefix(cli: Cli, listed: str) -> None:
    assert cli.json("du", f"r2://{listed}/dir/") == [
        {"url": f"r2://{listed}/dir/", "bytes": 2048, "objects": 2}
    ]
    assert cli.ok("du", "-H", f"r2://{listed}").stdout.decode().startswith("2.0 KiB\t4 objects")


def test_missing_bucket_names_the_bucket(cli: Cli) -> None:
    for command in (["ls"], ["du"]):
        proc = cli(*command, "r2://no-such-bucket-ls")
        assert proc.returncode == 1
        assert b"bucket 'no-such-bucket-ls' does not exist" in proc.stderr
    proc = cli("--json", "ls", "r2://no-such-bucket-ls")
    assert json_lines(proc.stdout)[0]["error"] == "NoSuchBucketError"


def test_stat_and_missing_key(cli: Cli, listed: str) -> None:
    stat = cli.json("stat", f"r2://{listed}/top.txt")[0]
    assert stat["size"] == 3 and stat["key"] == "top.txt" and stat["etag"]
    assert "size:" in cli.ok("stat", f"r2://{listed}/top.txt").stdout.decode()
    proc = cli("stat", f"r2://{listed}/absent")
    assert (proc.returncode == 1 and b"NotFoundError" in proc.stderr) or b"NoSuchKey" in proc.stderr


def test_cat_missing_key_exits_1_with_nothing_on_stdout(cli: Cli, listed: str) -> None:
    proc = cli("cat", f"r2://{listed}/absent")
    assert proc.returncode == 1 and proc.stdout == b"" and b"NoSuchKeyError" in proc.stderr


def test_presigned_get_and_put_work_without_credentials(
    cli: Cli, listed: str, store: Store
) -> None:
    url = cli.ok("presign", f"r2://{listed}/top.txt").stdout.decode().strip()
    assert "X-Amz-Signature=" in url
    assert httpx.get(url).content == b"xxx"
    put = cli.json("presign", "--method", "put", "--expires", "60", f"r2://{listed}/up.txt")[0]
    assert put["method"] == "PUT"
    assert httpx.put(put["url"], content=b"uploaded").status_code == 200
    assert store.body(listed, "up.txt") == b"uploaded"


@pytest.mark.parametrize("command", ["cat", "ls"])
def test_a_closed_pipe_ends_quietly(
    cli: Cli, shared_bucket: str, store: Store, command: str
) -> None:
    # `r2async cat big | head -c 10`: the reader goes away; exit 0, no traceback.
    import subprocess

    from tests.cli.runner import SCRIPT

    store.put(shared_bucket, "pipe.bin", b"y" * (4 * 1024 * 1024))
    for i in range(300):
        store.put(shared_bucket, f"many/{i:03d}", b"")
    args = ["cat", f"r2://{shared_bucket}/pipe.bin"]
    if command == "ls":
        args = ["ls", "-r", f"r2://{shared_bucket}/many/"]
    proc = subprocess.Popen(
        [str(SCRIPT), *args], env=cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert len(proc.stdout.read(10)) == 10
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 0, err
    assert b"Traceback" not in err and b"BrokenPipe" not in err
