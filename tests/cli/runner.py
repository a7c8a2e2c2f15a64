"""Running the installed ``r2async`` script as a user would, and reading its output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(sys.executable).parent / ("r2async.exe" if sys.platform == "win32" else "r2async")


def base_env() -> dict[str, str]:
    """The test process's environment without any R2_* variable (and no colour/progress)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("R2_")}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


class Cli:
    """Runs ``r2async`` in a subprocess with the local server's credentials."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(
        self,
        *args: str,
        input: bytes | None = None,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[bytes]:
        if not SCRIPT.exists():
            pytest.fail(f"{SCRIPT} is missing: pip install -e '.[cli]' to install the script")
        return subprocess.run(
            [str(SCRIPT), *args],
            input=input if input is not None else b"",
            capture_output=True,
            cwd=cwd,
            env=self.env if env is None else env,
            timeout=timeout,
            check=False,
        )

    def ok(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        """Run and assert exit status 0 (showing stderr otherwise)."""
        proc = self(*args, **kwargs)
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        return proc

    def json(self, *args: str, **kwargs: Any) -> list[dict[str, Any]]:
        """Run with --json, assert success, and parse every stdout line."""
        proc = self.ok("--json", *args, **kwargs)
        return json_lines(proc.stdout)


def json_lines(data: bytes) -> list[dict[str, Any]]:
    """Each line of ``data`` parsed as JSON (every line must be an object)."""
    out = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
    assert all(isinstance(item, dict) for item in out)
    return out


def make_tree(root: Path, files: dict[str, bytes]) -> Path:
    """Write ``files`` (relative '/'-separated path -> bytes) under ``root``."""
    for rel, data in files.items():
        path = root.joinpath(*rel.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root
