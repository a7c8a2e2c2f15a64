"""Running the installed ``r2async`` script as a user would, and reading its output."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from r2async import R2Client
from r2async.testing import LocalR2Server

_T = TypeVar("_T")
SCRIPT = Path(sys.executable).parent / ("r2async.exe" if sys.platform == "win32" else "r2async")


def base_env() -> dict[str, str]:
    """The test process's environment without any R2_* variable (and no colour/progress)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("R2_")}
    env["PYTHONIOENCODING"] = "utf-8"
    if env.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
        # Without cached bytecode every run of the script compiles r2async's sources again
        # (~0.2 s each, over a hundred runs): cache it outside the source tree instead.
        env.setdefault(
            "PYTHONPYCACHEPREFIX", os.path.join(tempfile.gettempdir(), "r2async-cli-pycache")
        )
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


class Store:
    """Checks on the server from sync tests: one client on a background event loop.

    Much cheaper than a CLI subprocess per check, so the tests run the CLI only for what
    they test.
    """

    def __init__(self, server: LocalR2Server) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.client: R2Client = self.call_sync(lambda: _make_client(server))

    def call_sync(self, factory: Callable[[], Awaitable[_T]]) -> _T:
        return asyncio.run_coroutine_threadsafe(_await(factory), self._loop).result(timeout=60)

    def __call__(self, fn: Callable[[R2Client], Awaitable[_T]]) -> _T:
        """Run ``fn(client)`` and return its result."""
        return self.call_sync(lambda: fn(self.client))

    def keys(self, bucket: str, prefix: str) -> dict[str, int]:
        """Key -> size of every object under ``prefix``."""

        async def go(client: R2Client) -> dict[str, int]:
            return {o.key: o.size async for o in client.iter_objects(bucket, prefix=prefix)}

        return self(go)

    def body(self, bucket: str, key: str) -> bytes:
        """An object's bytes."""

        async def go(client: R2Client) -> bytes:
            return (await client.get_object(bucket, key)).body

        return self(go)

    def head(self, bucket: str, key: str) -> Any:
        """An object's HeadObjectResult."""

        async def go(client: R2Client) -> Any:
            return await client.head_object(bucket, key)

        return self(go)

    def put(self, bucket: str, key: str, data: bytes, **kwargs: Any) -> None:
        """Write an object (keyword arguments go to put_object)."""

        async def go(client: R2Client) -> None:
            await client.put_object(bucket, key, data, **kwargs)

        self(go)

    def close(self) -> None:
        self.call_sync(self.client.aclose)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


async def _make_client(server: LocalR2Server) -> R2Client:
    return R2Client(**server.client_kwargs)


async def _await(factory: Callable[[], Awaitable[_T]]) -> _T:
    return await factory()
