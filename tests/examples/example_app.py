"""Run examples/fastapi_app.py for tests: imported in-process, or served by uvicorn."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType, TracebackType

import httpx

from r2async.testing import LocalR2Server

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ARTIFACTS = ROOT / "test-artifacts"


def load_example() -> ModuleType:
    """Import examples/fastapi_app.py (it is a script directory, not a package)."""
    name = "fastapi_app"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / "fastapi_app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def read_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in bytes, from /proc/<pid>/status."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                out[name] = int(value.split()[0]) * 1024  # reported in kB
    return out


class ServedApp:
    """``uvicorn fastapi_app:app`` in a subprocess, on a loopback port bound here and inherited.

    The port is bound before uvicorn starts (``--fd``), so the page's origin is known for the
    CORS rule and no other process can take the port in between.
    """

    def __init__(self, server: LocalR2Server, bucket: str, *, startup_timeout: float = 60.0):
        self._server = server
        self.bucket = bucket
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.url = ""

    def __enter__(self) -> ServedApp:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.set_inheritable(True)
        port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("R2_", "APP_"))}
        env.update(self._server.env)
        env.update({"APP_BUCKET": self.bucket, "APP_CORS_ORIGINS": self.url})
        try:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--app-dir",
                    str(EXAMPLES),
                    "--fd",
                    str(sock.fileno()),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                    "fastapi_app:app",
                ],
                pass_fds=(sock.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=ROOT,
            )
        finally:
            sock.close()  # the child holds its own copy
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self._startup_timeout
        with httpx.Client(timeout=5.0, trust_env=False) as client:
            while True:  # bounded by the deadline
                assert self._process is not None
                if self._process.poll() is not None:
                    raise RuntimeError(f"uvicorn exited during startup:\n{self.log()}")
                try:
                    if client.get(self.url + "/api/objects").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"uvicorn did not answer in time:\n{self.log()}")
                time.sleep(0.1)

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-4000:]

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._log.close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
