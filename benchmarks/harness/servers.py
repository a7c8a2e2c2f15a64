"""The servers a run measures against: the sink (client cost alone) and SeaweedFS (real S3).

Both run in processes of their own, so their CPU time never counts as the client's; each is
measured over plain HTTP and over HTTPS (R2 speaks only HTTPS), with a test CA generated at
start-up that every client is told to trust (``ca_file``; nothing turns verification off).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from .common import BENCH_DIR, BUCKET, LIST_KEYS, LIST_PREFIX, SINK_CREDS


class Target(NamedTuple):
    """One server to measure against: its name in the tables, URL and key pair."""

    name: str
    endpoint: str
    creds: tuple[str, str]
    # The test CA's PEM file over HTTPS, None over HTTP.
    ca_file: str | None = None


def start_sink(tls: tuple[Path, Path] | None = None) -> tuple[subprocess.Popen[str], str]:
    """``benchmarks/sink.py`` in its own process; returns it and its URL once it listens.

    Args:
        tls: (certificate, key) PEM files to serve HTTPS with; None for plain HTTP.
    """
    args = [sys.executable, str(BENCH_DIR / "sink.py"), "--port", "0"]
    if tls is not None:
        args += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"the sink did not start: {line!r}")
    scheme = "https" if tls is not None else "http"
    return proc, f"{scheme}://127.0.0.1:{int(line.split()[1])}"


def test_ca(directory: Path) -> Any:
    """A CA and a 127.0.0.1 certificate for the HTTPS sink (the test server's own generator)."""
    # Private on purpose: the generator r2async.testing uses for tls=True, so the sink and
    # SeaweedFS are set up the same way.
    from r2async._testing.tls import write_test_ca

    return write_test_ca(directory)


async def _populate_listing(server: Any) -> None:
    # The list rows need 1,000 keys under list/; the sink has its canned page instead.
    from r2async import PoolTransport, R2Client

    from .worker import run_ops

    transport = PoolTransport(ssl_context=server.ssl_context()) if server.tls else None
    async with R2Client(**server.client_kwargs, transport=transport or "httpx") as r2:
        keys = [f"{LIST_PREFIX}object-{i:06d}.json" for i in range(LIST_KEYS)]

        async def put(key: str) -> None:
            await r2.put_object(BUCKET, key, b"x")

        await run_ops(put, keys, len(keys), 32)


@contextmanager
def running(
    servers: Sequence[str], schemes: Sequence[str], log: Callable[[str], None]
) -> Iterator[tuple[str, list[Target]]]:
    """Start the sink (always: the time-to-first-response rows use it) and the named servers.

    Yields the plain sink's URL and the targets, in the order sink, sink over HTTPS,
    seaweedfs, seaweedfs over HTTPS (those of ``servers`` x ``schemes``); stops them all on
    the way out, whatever happened.
    """
    procs: list[subprocess.Popen[str]] = []
    seaweeds: list[Any] = []
    tmp = Path(tempfile.mkdtemp(prefix="r2async-bench-tls-"))
    try:
        sink_proc, sink_url = start_sink()
        procs.append(sink_proc)
        targets: list[Target] = []
        if "sink" in servers:
            if "http" in schemes:
                targets.append(Target("sink", sink_url, SINK_CREDS))
            if "https" in schemes:
                files = test_ca(tmp)
                proc, url = start_sink((files.cert_file, files.key_file))
                procs.append(proc)
                targets.append(Target("sink-https", url, SINK_CREDS, str(files.ca_file)))
        if "seaweedfs" in servers:
            from r2async.testing import start_local_server

            for scheme in schemes:
                log(f"starting SeaweedFS ({scheme}) ...")
                seaweed = start_local_server(buckets=[BUCKET], tls=scheme == "https")
                seaweeds.append(seaweed)
                asyncio.run(_populate_listing(seaweed))
                creds = (seaweed.access_key_id, seaweed.secret_access_key)
                name = "seaweedfs" + ("-https" if seaweed.tls else "")
                ca = str(seaweed.ca_file) if seaweed.tls else None
                targets.append(Target(name, seaweed.endpoint_url, creds, ca))
        yield sink_url, targets
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
        for seaweed in seaweeds:
            seaweed.stop()
        shutil.rmtree(tmp, ignore_errors=True)
