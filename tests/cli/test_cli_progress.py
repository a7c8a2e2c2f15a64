"""The progress display: drawn on a terminal, never when stderr is piped or turned off."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.cli.runner import SCRIPT, Cli, make_tree

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal"),
]


def run_on_terminal(cli: Cli, *args: str) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal; return the exit status and what it drew."""
    import pty

    leader, follower = pty.openpty()
    env = {**cli.env, "COLUMNS": "120", "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [str(SCRIPT), *args], env=env, stdout=subprocess.DEVNULL, stderr=follower
    )
    os.close(follower)
    chunks: list[bytes] = []
    # Bounded: read until the child closes the terminal (EIO) or exits.
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=60), b"".join(chunks).decode(errors="replace")


def test_progress_is_drawn_on_a_terminal(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path
) -> None:
    src = make_tree(tmp_path / "src", {f"f{i}": b"x" * 1000 for i in range(5)})
    status, drawn = run_on_terminal(cli, "cp", "-r", str(src), f"r2://{shared_bucket}/{prefix}")
    assert status == 0
    assert "5/5 objects" in drawn and "upload" in drawn
    assert "copied: 5 of 5 objects" in drawn


def test_no_progress_when_turned_off_or_piped(
    cli: Cli, shared_bucket: str, prefix: str, tmp_path: Path
) -> None:
    src = make_tree(tmp_path / "src", {f"f{i}": b"x" for i in range(3)})
    status, drawn = run_on_terminal(
        cli, "--no-progress", "cp", "-r", str(src), f"r2://{shared_bucket}/{prefix}"
    )
    assert status == 0 and "objects" in drawn and "3/3 objects" not in drawn
    status, drawn = run_on_terminal(
        cli, "-q", "cp", "-r", str(src), f"r2://{shared_bucket}/{prefix}"
    )
    assert status == 0 and drawn == ""
    piped = cli.ok("cp", "-r", str(src), f"r2://{shared_bucket}/{prefix}")
    assert b"3/3 objects" not in piped.stderr and b"copied: 3 of 3" in piped.stderr
