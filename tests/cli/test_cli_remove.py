"""``rm`` (one key, a prefix, dry runs) and ``mb``/``rb``."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from tests.cli.runner import Cli, Store, make_tree

from r2async import R2Client

pytestmark = pytest.mark.integration


def test_rm_one_key_and_a_prefix(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path, store: Store
) -> None:
    base = f"r2://{shared_bucket}/{prefix}"
    src = make_tree(tmp_path, {"d/a": b"1", "d/b c+%": b"2", "d/x.log": b"3", "dd/keep": b"4"})
    cli.ok("cp", "-r", str(src), base)
    cli.ok("rm", base + "d/a")
    assert set(store.keys(shared_bucket, prefix)) == {
        prefix + k for k in ("d/b c+%", "d/x.log", "dd/keep")
    }
    dry = cli.json("rm", "-r", "--dry-run", base + "d")
    assert {r["source"] for r in dry if r.get("dry_run") and r["action"] != "summary"} == {
        base + "d/b c+%",
        base + "d/x.log",
    }
    assert summary_of(dry)["objects"] == 2 and len(set(store.keys(shared_bucket, prefix))) == 3
    # The URL is a directory: 'd' does not take 'dd/' with it; filters apply.
    out = cli.json("rm", "-r", "--exclude", "*.log", base + "d")
    assert [r["source"] for r in out if r["action"] == "delete"] == [base + "d/b c+%"]
    assert set(store.keys(shared_bucket, prefix)) == {prefix + "d/x.log", prefix + "dd/keep"}


def summary_of(rows: list[dict[str, Any]]) -> dict[str, Any]:
    assert rows[-1]["action"] == "summary"
    return rows[-1]


def test_rm_r_deletes_more_than_one_batch(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path, store: Store
) -> None:
    # 1,001 keys: two DeleteObjects requests (1,000 per request).
    names = [f"{prefix}many/{i:04d}" for i in range(1001)]

    async def put_all(client: R2Client) -> None:
        import anyio

        limit = anyio.Semaphore(32)

        async def put(key: str) -> None:
            async with limit:
                await client.put_object(shared_bucket, key, b"")

        async with anyio.create_task_group() as tg:
            for key in names:
                tg.start_soon(put, key)

    store(put_all)
    out = cli.json("rm", "-r", f"r2://{shared_bucket}/{prefix}many/")
    assert summary_of(out)["objects"] == 1001
    assert set(store.keys(shared_bucket, prefix)) == set()


def test_mb_rb_and_rb_force(cli: Cli, tmp_path: Path, store: Store) -> None:
    name = f"cli-mb-{uuid.uuid4().hex[:12]}"
    url = f"r2://{name}"
    cli.ok("mb", url)
    proc = cli("mb", url)
    assert proc.returncode == 1 and b"ConflictError" in proc.stderr
    store.put(name, "obj", b"1")
    proc = cli("rb", url)
    assert proc.returncode == 1 and b"rb --force" in proc.stderr
    dry = cli.json("rb", "--force", "--dry-run", url)
    assert [r["action"] for r in dry] == ["delete", "remove_bucket"]
    assert store.body(name, "obj") == b"1"
    cli.ok("rb", "--force", url)
    proc = cli("ls", url)
    assert proc.returncode == 1 and b"does not exist" in proc.stderr
