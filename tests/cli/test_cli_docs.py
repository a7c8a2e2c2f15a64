"""Every ```bash block of docs/cli.md runs as written, in order, against the local server."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from tests.cli.runner import SCRIPT, Cli

pytestmark = pytest.mark.integration

DOC = Path(__file__).parents[2] / "docs" / "cli.md"


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def test_the_docs_page_commands_run_as_written(cli: Cli, tmp_path: Path) -> None:
    blocks = bash_blocks(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 5
    script = "set -euo pipefail\n" + "\n".join(blocks)
    env = {**cli.env, "PATH": f"{SCRIPT.parent}{os.pathsep}{cli.env.get('PATH', '')}"}
    proc = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, timeout=240
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
    out = proc.stdout.decode()
    assert "<h1>hi</h1>" in out  # cat
    assert "X-Amz-Signature=" in out  # presign
    assert "site/css/main.css" in out  # tar tf of the streamed download
    assert "['upload', 'summary']" in out  # the --json example
    assert (tmp_path / "2024.txt").read_text() == "report\n"
    assert sorted(p.name for p in (tmp_path / "www-copy").rglob("*") if p.is_file()) == [
        "extra.css",
        "index.html",
    ]
