"""The ``weed mini`` process: finding the binary, its configuration, spawning and stopping it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from .errors import LocalServerError
from .ports import GRPC_OFFSET

INSTALL_HINT = "pip install 'r2async[testing]'"
# Environment variables `weed mini` reads to add identities or buckets: stripped so the server has
# only the generated credentials and only the requested buckets.
_STRIPPED_ENV_PREFIXES = ("AWS_", "S3_")
_STOP_WAIT_SECONDS = 10.0  # for a SIGKILLed weed to be reaped (milliseconds in practice)
_LOG_TAIL_CHARS = 4000
LOG_NAME = "server.log"


async def run_shielded(func: Callable[[], object]) -> None:
    """Run a blocking function in a worker thread; a cancellation waits for it to finish."""
    import anyio
    import anyio.to_thread

    # Shielded so that neither a half-launched process nor a half-stopped one is abandoned.
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(func)


def find_weed(binary: str | os.PathLike[str] | None) -> str:
    """Locate the ``weed`` executable: explicit, next to the interpreter, then on PATH."""
    if binary is not None:
        path = Path(binary)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise LocalServerError(
                f"binary={str(binary)!r} is not an executable file; pass the path of SeaweedFS's "
                f"'weed' or leave it unset after `{INSTALL_HINT}`"
            )
        return str(path)
    names = ("weed.exe", "weed") if sys.platform == "win32" else ("weed",)
    # The directory of sys.executable is the venv's bin/ even when python is a symlink (not
    # resolved on purpose); sysconfig's scripts dir covers installs where they differ.
    dirs = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))]
    for directory in dirs:
        for name in names:
            candidate = directory / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    found = shutil.which("weed")
    if found:
        return found
    raise LocalServerError(
        "SeaweedFS's 'weed' binary was not found next to the Python interpreter "
        f"({Path(sys.executable).parent}) nor on PATH; install it with `{INSTALL_HINT}`"
    )


def write_identities(data_dir: Path, access_key_id: str, secret: str) -> Path:
    """Write the S3 identities file (one admin identity, owner-only: it holds the secret)."""
    config = data_dir / "s3-identities.json"
    identities = {
        "identities": [
            {
                "name": "admin",
                "credentials": [{"accessKey": access_key_id, "secretKey": secret}],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            }
        ]
    }
    fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(identities, fh)
    return config


def weed_args(
    weed: str,
    data_dir: Path,
    ports: dict[str, int],
    config: Path,
    buckets: Iterable[str],
    extra_args: Iterable[str],
) -> list[str]:
    """The ``weed mini`` command line: loopback only, our ports, R2's semantics where possible."""
    args = [
        weed,
        "-logtostderr",  # glog files would otherwise land in the system temp dir
        "mini",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",  # no phoning home from tests
        *(
            arg
            for name, port in ports.items()
            for arg in (f"-{name}.port={port}", f"-{name}.port.grpc={port + GRPC_OFFSET}")
        ),
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        "-admin.ui=false",
        f"-filer.localSocket={data_dir / 'filer.sock'}",
        f"-s3.localSocket={data_dir / 's3.sock'}",
        f"-s3.config={config}",
        # R2 semantics: no bucket appears by uploading into it, and DeleteBucket refuses a
        # non-empty bucket (BucketNotEmpty).
        "-s3.autoCreateBucket=false",
        "-s3.allowDeleteBucketNotEmpty=false",
        # R2 answers a CORS preflight only when the bucket has a CORS rule; SeaweedFS allows
        # every origin by default ("*"). A never-matching origin (reserved .invalid TLD) makes
        # preflights depend on the bucket's rule, as on R2.
        "-s3.allowedOrigins=http://cors-not-configured.invalid",
        # The data is thrown away on stop: no grace period for draining the volume.
        "-volume.preStopSeconds=0",
        # SeaweedFS keeps each bucket in its own collection with volumes of its own, and the
        # default slot count (~75 here) runs out after as many buckets: every later write fails
        # with 500 "No writable volumes". Test suites create a bucket per test, so allow many
        # (volumes are created empty, on demand).
        "-volume.max=5000",
    ]
    names = list(buckets)
    if names:
        args.append("-bucket=" + ",".join(names))
    args += extra_args
    return args


def spawn(args: list[str], data_dir: Path) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    """Start ``args`` in ``data_dir`` with its output in the server log; returns (process, log)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_STRIPPED_ENV_PREFIXES)}
    env["TMPDIR"] = str(data_dir / "tmp")
    log_file = open(data_dir / LOG_NAME, "wb")  # noqa: SIM115 - closed by stop_process()
    try:
        process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=data_dir,
        )
    except BaseException:
        log_file.close()
        raise
    return process, log_file


def stop_process(
    process: subprocess.Popen[bytes] | None, log_file: IO[bytes] | None, data_dir: Path | None
) -> None:
    """Kill the process and close its log.

    Killed, not terminated: the data is thrown away, so a graceful shutdown buys nothing, and
    weed sometimes took over 15 s to act on SIGTERM.
    """
    if process is not None and process.poll() is None:
        process.kill()
        process.wait(timeout=_STOP_WAIT_SECONDS)
    if log_file is not None:
        log_file.close()
        keep = os.environ.get("R2ASYNC_KEEP_SERVER_LOGS")
        if keep and data_dir is not None:
            # For debugging a CI run: the data directory (and its log) is deleted afterwards.
            with contextlib.suppress(OSError):
                os.makedirs(keep, exist_ok=True)
                shutil.copyfile(
                    data_dir / LOG_NAME, os.path.join(keep, f"weed-{data_dir.name}.log")
                )


def log_tail(data_dir: Path | None, secret: str) -> str:
    """The end of the server log, with ``secret`` removed ('' when there is none)."""
    if data_dir is None:
        return ""
    try:
        with open(data_dir / LOG_NAME, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - _LOG_TAIL_CHARS))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return text.replace(secret, "[redacted]")


def rmtree(path: Path) -> None:
    """Delete ``path``, retrying briefly: weed's last writes can race the removal."""
    for _ in range(5):  # bounded
        try:
            shutil.rmtree(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.2)
    shutil.rmtree(path, ignore_errors=True)


def start_reaper(pid: int, data_dir: Path, ports: dict[str, int]) -> subprocess.Popen[bytes]:
    """Start the watchdog that removes weed and its files if this process dies (reaper.py).

    Args:
        pid: weed's process id.
        data_dir: the server's data directory (removed by the watchdog).
        ports: the components' HTTP ports (their gRPC sockets under /tmp are removed too).
    """
    from .ports import _TMP_SOCKET_PATTERNS, GRPC_OFFSET

    sockets = [
        pattern.format(grpc=port + GRPC_OFFSET)
        for port in ports.values()
        for pattern in _TMP_SOCKET_PATTERNS
    ]
    try:
        return subprocess.Popen(
            [
                sys.executable,
                "-I",
                str(Path(__file__).with_name("reaper.py")),
                str(pid),
                str(data_dir),
                *sockets,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd="/",
            # Its own session: a Ctrl-C sent to the owner's process group must not end it.
            start_new_session=True,
        )
    except OSError as exc:
        raise LocalServerError(f"could not start the server's watchdog: {exc}") from exc


def end_reaper(reaper: subprocess.Popen[bytes]) -> None:
    """Tell the watchdog that the server was stopped (closing its stdin) and wait for it."""
    if reaper.stdin is not None:
        with contextlib.suppress(OSError):
            reaper.stdin.close()
    try:
        reaper.wait(timeout=_STOP_WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        reaper.kill()
        reaper.wait()
