"""Ctrl-C (SIGINT) while parts are in flight: exit 130 and nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tests.cli.runner import SCRIPT, Cli, Store

from r2async import NoSuchKeyError, R2Client

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX"),
]

SIZE = 96 * 1024 * 1024  # 20 parts of 5 MiB: long enough to interrupt between parts


def _interrupt_when(proc: subprocess.Popen[bytes], ready: Any, what: str) -> None:
    deadline = time.monotonic() + 30
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"the command ended before {what}: {proc.communicate()[1]!r}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)


def test_sigint_during_multipart_upload_aborts_it(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path, store: Store
) -> None:
    path = tmp_path / "big.bin"
    with open(path, "wb") as f:
        f.write(os.urandom(1024 * 1024) * (SIZE // (1024 * 1024)))
    key = prefix + "big.bin"

    async def uploads(client: R2Client) -> list[str]:
        result = await client.list_multipart_uploads(shared_bucket, prefix=prefix)
        return [u.key for u in result.uploads]

    proc = subprocess.Popen(
        [str(SCRIPT), "--part-size", "5MiB", "cp", str(path), f"r2://{shared_bucket}/{key}"],
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _interrupt_when(proc, lambda: store(uploads) == [key], "the multipart upload started")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert store(uploads) == []

    async def head(client: R2Client) -> object:
        return await client.head_object(shared_bucket, key)

    with pytest.raises(NoSuchKeyError):
        store(head)


def test_sigint_during_download_leaves_no_partial_file(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path, store: Store
) -> None:
    key = prefix + "big.bin"

    async def put(client: R2Client) -> None:
        await client.upload_stream(shared_bucket, key, os.urandom(1024 * 1024) * (SIZE // 2**20))

    store(put)
    dest = tmp_path / "dest"
    dest.mkdir()
    proc = subprocess.Popen(
        [str(SCRIPT), "--part-size", "5MiB", "cp", f"r2://{shared_bucket}/{key}", str(dest)],
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # The temporary file appears once the first range is being written.
    _interrupt_when(proc, lambda: any(dest.iterdir()), "the download started")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert list(dest.iterdir()) == []
