"""Benchmark r2async against its peers and the raw HTTP floors, in one run, on one server.

Run: ``.venv/bin/python benchmarks/run.py [--quick]`` (``--quick``: a smoke run, under a
minute). Writes ``benchmarks/results/results.{md,json}`` and ``benchmarks/results/chart.png``
(``--out DIR`` to write elsewhere) and prints the markdown.

What is compared, against the same server in the same run:

* ``r2async`` on its default transport (httpx/httpcore) and on its opt-in fast transport
  (``R2Client(transport="aiohttp")``);
* the floors: unsigned requests with raw httpx, with httpx on r2async's aiohttp transport,
  and with raw aiohttp (on SeaweedFS they use presigned URLs, signed before timing starts,
  since SeaweedFS refuses unsigned requests);
* the peers, each skipped with a note when not installed (``pip install -e '.[bench]'``):
  aiobotocore, obstore, miniopy-async.

Servers: (a) ``benchmarks/sink.py``, a minimal S3-shaped responder in its own process, so
that the figures are the clients' own cost; (b) SeaweedFS (``r2async.testing``), a real S3
server that checks signatures.

Metrics: client CPU per request (process CPU time of the client process, all its threads:
the servers run in other processes) and ops/s for 1 KiB PUT and GET at concurrency 1 and
32; MB/s, CPU-s per GiB and peak RSS above the baseline for a 64 MiB PUT, GET (into
memory) and streamed GET; CPU per 1,000-key list page (request and parse); signatures
per second (``bench_signing.run``); import time and client construction time.

Each client runs in a fresh subprocess per server, so that its imports, memory and CPU
time are its own. Repeated rounds report the median. The machine may be shared: CPU time
is steadier than wall time, but both move with load.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import io
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SMALL_SIZE = 1024
MIB = 1024 * 1024
GIB = 1024 * MIB
BUCKET = "bench"
LIST_PREFIX = "list/"
LIST_KEYS = 1000
SMALL_KEYS = 64
STREAM_CHUNK = 256 * 1024

# name -> (label, library to import for the import-time row)
CLIENTS: dict[str, str] = {
    "r2async": "r2async (httpx transport)",
    "r2async-fast": "r2async (aiohttp transport)",
    "httpx-raw": "raw httpx, unsigned (floor)",
    "httpx-pool-raw": "raw httpx on r2async's default transport, unsigned (floor)",
    "httpx-aiohttp-raw": "raw httpx on r2async's aiohttp transport, unsigned (floor)",
    "aiohttp-raw": "raw aiohttp, unsigned (floor)",
    "aiobotocore": "aiobotocore",
    "obstore": "obstore",
    "miniopy-async": "miniopy-async",
}
IMPORTS: dict[str, str] = {
    "r2async": "import r2async",
    "r2async: from r2async import R2Client": "from r2async import R2Client",
    # The fast transport imports aiohttp when its first request goes out.
    "r2async: R2Client + fast transport": "from r2async import R2Client; import aiohttp",
    "httpx": "import httpx",
    "aiohttp": "import aiohttp",
    "aiobotocore": "import aiobotocore.session",
    "obstore": "import obstore; from obstore.store import S3Store",
    "miniopy-async": "from miniopy_async import Minio",
}


class Skip(Exception):
    """The client cannot run here (not installed): noted in the table, not an error."""


# -- memory --------------------------------------------------------------------------------------


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    # Linux: writing 5 to clear_refs resets VmHWM (the peak RSS) to the current RSS, which
    # gives a per-operation peak inside one process.
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class PeakRSS:
    """Peak resident memory during a block, in MiB above the RSS at its start."""

    def __enter__(self) -> PeakRSS:
        gc.collect()
        self.base = _status_kib("VmRSS") or 0
        self.exact = _reset_peak()
        self.start_max = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return self

    def __exit__(self, *exc: object) -> None:
        if self.exact:
            peak = _status_kib("VmHWM") or 0
        else:  # ru_maxrss never goes down: only meaningful if this block set a new high
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.peak_mib = max(0.0, (peak - self.base) / 1024)
        self.rss_mib = peak / 1024


# -- client adapters -----------------------------------------------------------------------------


class Adapter:
    """One client library behind the calls the benchmark makes."""

    name = ""
    note = ""
    # What construct() imports: loaded before construction is timed.
    modules: tuple[str, ...] = ()

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.endpoint: str = cfg["endpoint"]
        self.bucket: str = cfg["bucket"]

    async def start(self) -> None:
        """Create the client (the construction time is measured separately)."""

    def construct(self) -> Any:
        """Build one client object as a user would, for the construction-time row."""
        raise NotImplementedError

    async def build(self) -> Any:
        """Construct a client ready to send (what the construction row times)."""
        return self.construct()

    async def dispose(self, client: Any) -> None:
        """Close what build() made (some clients hold sessions)."""
        for method in ("aclose", "close"):
            fn = getattr(client, method, None)
            if fn is not None:
                result = fn()
                if asyncio.iscoroutine(result):
                    await result
                return

    async def put(self, key: str, data: bytes) -> None:
        raise NotImplementedError

    async def get(self, key: str) -> int:
        raise NotImplementedError

    async def stream(self, key: str) -> int:
        raise NotImplementedError

    async def list_page(self, prefix: str) -> int:
        raise NotImplementedError

    async def aclose(self) -> None:
        pass


class R2AsyncAdapter(Adapter):
    name = "r2async"
    modules = ("r2async._client.r2client",)
    fast = False

    def __init__(self, cfg: dict[str, Any]) -> None:
        super().__init__(cfg)
        self._own_http: list[Any] = []

    def _kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "endpoint_url": self.endpoint,
            "access_key_id": self.cfg["access_key"],
            "secret_access_key": self.cfg["secret_key"],
        }
        if self.fast:
            kwargs["transport"] = "aiohttp"
        return kwargs

    def construct(self) -> Any:
        from r2async import R2Client

        try:
            return R2Client(**self._kwargs())
        except TypeError:
            if not self.fast:
                raise
            # An r2async without the transport= argument: the transport through http_client.
            import httpx

            from r2async._transports.aiohttp_transport import AiohttpTransport

            kwargs = self._kwargs()
            del kwargs["transport"]
            self.note = "fast transport via http_client="
            http = httpx.AsyncClient(transport=AiohttpTransport())
            self._own_http.append(http)
            return R2Client(**kwargs, http_client=http)

    async def start(self) -> None:
        self.client = self.construct()

    async def put(self, key: str, data: bytes) -> None:
        await self.client.put_object(self.bucket, key, data)

    async def get(self, key: str) -> int:
        return len((await self.client.get_object(self.bucket, key)).body)

    async def stream(self, key: str) -> int:
        n = 0
        async with self.client.stream_object(self.bucket, key, chunk_size=STREAM_CHUNK) as s:
            async for chunk in s:
                n += len(chunk)
        return n

    async def list_page(self, prefix: str) -> int:
        page = await self.client.list_objects(self.bucket, prefix=prefix, max_keys=LIST_KEYS)
        return len(page.objects)

    async def aclose(self) -> None:
        await self.client.aclose()
        for http in self._own_http:
            await http.aclose()


class R2AsyncFastAdapter(R2AsyncAdapter):
    name = "r2async-fast"
    modules = ("r2async._client.r2client", "r2async._transports.aiohttp_transport", "aiohttp")
    fast = True


class _RawMixin(Adapter):
    """Unsigned requests to plain URLs (sink) or to URLs presigned before timing (SeaweedFS)."""

    _urls: dict[tuple[str, str], str]

    def _prepare_urls(self, keys: Sequence[str]) -> None:
        self._urls = {}
        base = self.endpoint.rstrip("/")
        if not self.cfg["presign"]:
            for key in keys:
                self._urls["PUT", key] = self._urls["GET", key] = f"{base}/{self.bucket}/{key}"
            self._urls["LIST", ""] = f"{base}/{self.bucket}?list-type=2&prefix={LIST_PREFIX}"
            return
        from r2async import R2Client

        signer = R2Client(
            endpoint_url=self.endpoint,
            access_key_id=self.cfg["access_key"],
            secret_access_key=self.cfg["secret_key"],
        )
        day = 86400
        for key in keys:
            self._urls["PUT", key] = signer.presign_put_object(self.bucket, key, expires_in=day).url
            self._urls["GET", key] = signer.presign_get_object(self.bucket, key, expires_in=day).url
        # No presign_list_objects: a signed list URL made by hand with the same signer.
        import httpx

        from r2async._signing.presign import presign_url

        creds = signer._shared.settings.credentials
        self._urls["LIST", ""] = presign_url(
            method="GET",
            url=httpx.URL(f"{base}/{self.bucket}?list-type=2&prefix={LIST_PREFIX}"),
            credentials=creds,
            expires_in=day,
        )

    def url(self, method: str, key: str) -> str:
        return self._urls[method, key]


class HttpxRawAdapter(_RawMixin):
    name = "httpx-raw"
    modules = ("httpx",)

    def _transport(self) -> Any:
        return None

    def construct(self) -> Any:
        import httpx

        return httpx.AsyncClient(
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            transport=self._transport(),
        )

    async def start(self) -> None:
        self.client = self.construct()
        self._prepare_urls(self.cfg["keys"])

    async def put(self, key: str, data: bytes) -> None:
        r = await self.client.put(self.url("PUT", key), content=data)
        r.raise_for_status()

    async def get(self, key: str) -> int:
        r = await self.client.get(self.url("GET", key))
        r.raise_for_status()
        return len(r.content)

    async def stream(self, key: str) -> int:
        n = 0
        async with self.client.stream("GET", self.url("GET", key)) as r:
            r.raise_for_status()
            async for chunk in r.aiter_raw():
                n += len(chunk)
        return n

    async def list_page(self, prefix: str) -> int:
        # The floor: the request and the body, no parsing.
        r = await self.client.get(self.url("LIST", ""))
        r.raise_for_status()
        return r.content.count(b"<Key>")

    async def aclose(self) -> None:
        await self.client.aclose()


class HttpxPoolRawAdapter(HttpxRawAdapter):
    """The same-transport floor of R2Client(): httpx over r2async's connection pool."""

    name = "httpx-pool-raw"
    modules = ("httpx", "r2async._transports.pool")

    def _transport(self) -> Any:
        import httpx

        from r2async._transports.pool import PoolTransport
        from r2async._transports.tls import shared_ssl_context as _shared_ssl_context

        limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
        return PoolTransport(ssl_context=_shared_ssl_context(), limits=limits)


class HttpxAiohttpRawAdapter(HttpxRawAdapter):
    name = "httpx-aiohttp-raw"
    modules = ("httpx", "r2async._transports.aiohttp_transport", "aiohttp")

    def _transport(self) -> Any:
        from r2async._transports.aiohttp_transport import AiohttpTransport

        return AiohttpTransport()


class AiohttpRawAdapter(_RawMixin):
    name = "aiohttp-raw"
    modules = ("aiohttp",)

    def construct(self) -> Any:
        import aiohttp

        return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))

    async def start(self) -> None:
        self.session = self.construct()
        self._prepare_urls(self.cfg["keys"])

    async def put(self, key: str, data: bytes) -> None:
        async with self.session.put(self.url("PUT", key), data=data) as r:
            r.raise_for_status()
            await r.read()

    async def get(self, key: str) -> int:
        async with self.session.get(self.url("GET", key)) as r:
            r.raise_for_status()
            return len(await r.read())

    async def stream(self, key: str) -> int:
        n = 0
        async with self.session.get(self.url("GET", key)) as r:
            r.raise_for_status()
            async for chunk in r.content.iter_any():
                n += len(chunk)
        return n

    async def list_page(self, prefix: str) -> int:
        async with self.session.get(self.url("LIST", "")) as r:
            r.raise_for_status()
            return (await r.read()).count(b"<Key>")

    async def aclose(self) -> None:
        await self.session.close()


class AiobotocoreAdapter(Adapter):
    name = "aiobotocore"
    modules = ("aiobotocore.session", "aiobotocore.config")
    note = "checksums 'when_required' (botocore's default CRC32 on PUT would cost more)"

    def _config(self) -> Any:
        from aiobotocore.config import AioConfig

        return AioConfig(
            max_pool_connections=64,
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            retries={"max_attempts": 1, "mode": "standard"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )

    def construct(self) -> Any:
        from aiobotocore.session import get_session

        return get_session().create_client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.cfg["access_key"],
            aws_secret_access_key=self.cfg["secret_key"],
            region_name="auto",
            config=self._config(),
        )

    async def build(self) -> Any:
        # create_client() returns a context manager: entering it builds the client.
        cm = self.construct()
        client = await cm.__aenter__()
        client._bench_cm = cm
        return client

    async def dispose(self, client: Any) -> None:
        await client._bench_cm.__aexit__(None, None, None)

    async def start(self) -> None:
        self.client = await self.build()

    async def put(self, key: str, data: bytes) -> None:
        await self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    async def get(self, key: str) -> int:
        r = await self.client.get_object(Bucket=self.bucket, Key=key)
        async with r["Body"] as body:
            return len(await body.read())

    async def stream(self, key: str) -> int:
        n = 0
        r = await self.client.get_object(Bucket=self.bucket, Key=key)
        async with r["Body"] as body:
            async for chunk in body.iter_chunks(STREAM_CHUNK):
                n += len(chunk)
        return n

    async def list_page(self, prefix: str) -> int:
        r = await self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=LIST_KEYS)
        return len(r.get("Contents", []))

    async def aclose(self) -> None:
        await self.dispose(self.client)


class ObstoreAdapter(Adapter):
    name = "obstore"
    modules = ("obstore", "obstore.store")

    def construct(self) -> Any:
        from obstore.store import S3Store

        return S3Store(
            self.bucket,
            endpoint=self.endpoint,
            access_key_id=self.cfg["access_key"],
            secret_access_key=self.cfg["secret_key"],
            region="auto",
            virtual_hosted_style_request=False,
            client_options={"allow_http": True, "pool_max_idle_per_host": "64"},
        )

    async def start(self) -> None:
        import obstore

        self.obs = obstore
        self.store = self.construct()

    async def put(self, key: str, data: bytes) -> None:
        # One PUT, as every client here sends (obstore would go multipart above 5 MiB).
        await self.obs.put_async(self.store, key, data, use_multipart=False)

    async def get(self, key: str) -> int:
        r = await self.obs.get_async(self.store, key)
        return len(await r.bytes_async())

    async def stream(self, key: str) -> int:
        n = 0
        r = await self.obs.get_async(self.store, key)
        async for chunk in r.stream(min_chunk_size=STREAM_CHUNK):
            n += len(chunk)
        return n

    async def list_page(self, prefix: str) -> int:
        stream = self.obs.list(self.store, prefix=prefix, chunk_size=LIST_KEYS)
        async for batch in stream:
            return len(batch)
        return 0


class MinioAdapter(Adapter):
    name = "miniopy-async"
    modules = ("miniopy_async",)

    def construct(self) -> Any:
        from miniopy_async import Minio

        host = self.endpoint.split("://", 1)[1].rstrip("/")
        return Minio(
            host,
            access_key=self.cfg["access_key"],
            secret_key=self.cfg["secret_key"],
            secure=self.endpoint.startswith("https"),
            region="auto",
        )

    async def start(self) -> None:
        self.client = self.construct()

    async def put(self, key: str, data: bytes) -> None:
        # One PUT, as every client here sends (a part size >= the length avoids multipart).
        part = max(len(data), 5 * MIB)
        await self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), part_size=part)

    async def get(self, key: str) -> int:
        r = await self.client.get_object(self.bucket, key)
        try:
            return len(await r.read())
        finally:
            r.release()

    async def stream(self, key: str) -> int:
        n = 0
        r = await self.client.get_object(self.bucket, key)
        try:
            async for chunk in r.content.iter_chunked(STREAM_CHUNK):
                n += len(chunk)
        finally:
            r.release()
        return n

    async def list_page(self, prefix: str) -> int:
        n = 0
        async for _ in self.client.list_objects(self.bucket, prefix=prefix, recursive=True):
            n += 1
            if n == LIST_KEYS:
                break
        return n

    async def aclose(self) -> None:
        await self.client.close_session()

    async def dispose(self, client: Any) -> None:
        await client.close_session()


ADAPTERS: dict[str, type[Adapter]] = {
    cls.name: cls
    for cls in (
        R2AsyncAdapter,
        R2AsyncFastAdapter,
        HttpxRawAdapter,
        HttpxPoolRawAdapter,
        HttpxAiohttpRawAdapter,
        AiohttpRawAdapter,
        AiobotocoreAdapter,
        ObstoreAdapter,
        MinioAdapter,
    )
}
REQUIRES: dict[str, tuple[str, ...]] = {
    "r2async-fast": ("aiohttp",),
    "httpx-aiohttp-raw": ("aiohttp",),
    "aiohttp-raw": ("aiohttp",),
    "aiobotocore": ("aiobotocore",),
    "obstore": ("obstore",),
    "miniopy-async": ("miniopy_async",),
}


# -- the worker (one client, one server, in its own process) -------------------------------------


async def _run_ops(
    op: Callable[[str], Awaitable[Any]], keys: Sequence[str], n: int, concurrency: int
) -> None:
    indices = iter(range(n))

    async def worker() -> None:
        for i in indices:  # shared by the workers: n operations in all
            await op(keys[i % len(keys)])

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _timed(
    op: Callable[[str], Awaitable[Any]], keys: Sequence[str], n: int, concurrency: int
) -> tuple[float, float]:
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await _run_ops(op, keys, n, concurrency)
    return time.process_time() - cpu0, time.perf_counter() - wall0


async def worker_main(cfg: dict[str, Any]) -> dict[str, Any]:
    quick = cfg["quick"]
    name = cfg["client"]
    for module in REQUIRES.get(name, ()):
        try:
            __import__(module)
        except ImportError:
            raise Skip(f"{module} not installed") from None
    adapter = ADAPTERS[name](cfg)
    out: dict[str, Any] = {"client": name}
    # Imports are measured on their own (measure_imports), not as part of construction.
    for module in adapter.modules:
        __import__(module)

    # Construction: the first one in the process (cold), then the median of a few more.
    t0 = time.perf_counter()
    first = await adapter.build()
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(5 if quick else 30):
        t0 = time.perf_counter()
        other = await adapter.build()
        warm.append(time.perf_counter() - t0)
        await adapter.dispose(other)
    await adapter.dispose(first)
    out["construct_ms"] = {"first": cold * 1e3, "median": statistics.median(warm) * 1e3}

    await adapter.start()
    try:
        prefix = f"{name}/"
        keys = [f"{prefix}small-{i}" for i in range(SMALL_KEYS)]
        small = b"s" * SMALL_SIZE
        rounds = cfg["rounds"]

        async def put(key: str) -> None:
            await adapter.put(key, small)

        async def get(key: str) -> None:
            got = await adapter.get(key)
            if got != SMALL_SIZE:
                raise RuntimeError(f"GET returned {got} bytes, expected {SMALL_SIZE}")

        # Warm up: connections, caches, lazy imports. Also creates the GET keys.
        await _run_ops(put, keys, SMALL_KEYS, 8)
        await _run_ops(get, keys, SMALL_KEYS, 8)
        small_results: dict[str, Any] = {}
        for concurrency, n in ((1, cfg["n_c1"]), (32, cfg["n_c32"])):
            for op_name, op in (("put", put), ("get", get)):
                cpus, walls = [], []
                for _ in range(rounds):
                    cpu, wall = await _timed(op, keys, n, concurrency)
                    cpus.append(cpu / n)
                    walls.append(n / wall)
                small_results[f"{op_name}_c{concurrency}"] = {
                    "cpu_ms_rounds": [c * 1e3 for c in cpus],
                    "ops_s_rounds": walls,
                    "n": n,
                }
        out["small"] = small_results

        # One 1,000-key list page: request and parse.
        listed = await adapter.list_page(LIST_PREFIX)
        if listed != LIST_KEYS:
            raise RuntimeError(f"list returned {listed} keys, expected {LIST_KEYS}")
        cpus = []
        for _ in range(cfg["list_rounds"]):
            gc.collect()
            cpu0 = time.process_time()
            await adapter.list_page(LIST_PREFIX)
            cpus.append(time.process_time() - cpu0)
        out["list_cpu_ms_rounds"] = [c * 1e3 for c in cpus]
        if cfg["small_only"]:
            return out

        # Large objects.
        size = cfg["large_size"]
        data = random.Random(7).randbytes(size)
        big_key = f"{prefix}large"
        large: dict[str, Any] = {}
        for op_name in ("put", "get", "stream"):
            rows = []
            for _ in range(cfg["large_rounds"]):
                gc.collect()
                with PeakRSS() as mem:
                    cpu0, wall0 = time.process_time(), time.perf_counter()
                    if op_name == "put":
                        await adapter.put(big_key, data)
                        got = size
                    elif op_name == "get":
                        got = await adapter.get(big_key)
                    else:
                        got = await adapter.stream(big_key)
                    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
                if got != size:
                    raise RuntimeError(f"{op_name} moved {got} bytes, expected {size}")
                rows.append((cpu, wall, mem.peak_mib))
            cpu = statistics.median(r[0] for r in rows)
            wall = statistics.median(r[1] for r in rows)
            large[op_name] = {
                "mb_s": size / wall / 1e6,
                "cpu_s_gib": cpu / (size / GIB),
                "peak_mib": max(r[2] for r in rows),
                "size": size,
            }
        out["large"] = large
        out["rss_mib"] = (_status_kib("VmRSS") or 0) / 1024
    finally:
        await adapter.aclose()
    out["note"] = adapter.note
    return out


# -- the report ----------------------------------------------------------------------------------

SMALL_OPS = ("put_c1", "get_c1", "put_c32", "get_c32")
STREAM_BOUND_MIB = 16.0


def _small(results: dict[str, Any], server: str, client: str, op: str) -> float | None:
    row = results["servers"].get(server, {}).get(client, {})
    value = row.get("small", {}).get(op, {}).get("cpu_ms")
    return float(value) if value is not None else None


def _paired(a: dict[str, float], b: dict[str, float]) -> float | None:
    """The median over passes of the ratio within each pass (None without a common pass)."""
    ratios = [a[n] / b[n] for n in a.keys() & b.keys() if b[n]]
    return statistics.median(ratios) if ratios else None


def _ratios(
    results: dict[str, Any], server: str, ours: str, theirs: str, ops: Sequence[str] = SMALL_OPS
) -> dict[str, float]:
    # Paired by pass: the two clients ran minutes apart at most, so a drift in the machine's
    # load or in the server (SeaweedFS slows as overwritten objects pile up) between passes
    # cancels out instead of landing on whichever client ran in the slow pass.
    rows = results["servers"].get(server, {})
    out = {}
    for op in ops:
        a = rows.get(ours, {}).get("small", {}).get(op, {}).get("cpu_ms_by_pass")
        b = rows.get(theirs, {}).get("small", {}).get(op, {}).get("cpu_ms_by_pass")
        ratio = _paired(a, b) if a and b else None
        if ratio is None:
            x, y = _small(results, server, ours, op), _small(results, server, theirs, op)
            ratio = x / y if x is not None and y else None
        if ratio is not None:
            out[op] = ratio
    return out


def _verdict(name: str, measured: str, met: bool | None, detail: str = "") -> dict[str, Any]:
    status = "n/a" if met is None else ("met" if met else "not met")
    return {"target": name, "measured": measured, "status": status, "detail": detail}


def _fmt_ratios(ratios: dict[str, float]) -> str:
    return ", ".join(f"{op} {r:.2f}x" for op, r in ratios.items())


def evaluate_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each issue-8 target with its measured ratio, from this run's numbers only."""
    out: list[dict[str, Any]] = []
    servers = list(results["servers"])
    for server in servers:
        for ours, floor, label in (
            ("r2async", "httpx-pool-raw", "default transport vs raw httpx on it"),
            ("r2async-fast", "httpx-aiohttp-raw", "aiohttp transport vs raw httpx on it"),
        ):
            ratios = _ratios(results, server, ours, floor)
            worst = max(ratios.values()) if ratios else None
            out.append(
                _verdict(
                    f"[{server}] r2async {label}: client CPU/request <= 1.15x",
                    f"worst {worst:.2f}x" if worst is not None else "not measured",
                    None if worst is None else worst <= 1.15,
                    _fmt_ratios(ratios),
                )
            )
        # Not the same transport, so for reference: what R2Client() costs against the stock
        # httpx.AsyncClient() a user might otherwise write.
        ratios = _ratios(results, server, "r2async", "httpx-raw")
        worst = max(ratios.values()) if ratios else None
        out.append(
            _verdict(
                f"[{server}] (reference) r2async default transport vs stock raw httpx "
                "(httpcore's pool): client CPU/request <= 1.15x",
                f"worst {worst:.2f}x" if worst is not None else "not measured",
                None if worst is None else worst <= 1.15,
                _fmt_ratios(ratios),
            )
        )
        for peer, limit, text in (
            ("aiobotocore", 1 / 3, "<= 1/3 of aiobotocore"),
            ("obstore", 2.0, "within 2x of obstore"),
        ):
            ratios = _ratios(results, server, "r2async-fast", peer)
            worst = max(ratios.values()) if ratios else None
            out.append(
                _verdict(
                    f"[{server}] fast transport: CPU per small request {text}",
                    f"worst {worst:.2f}x" if worst is not None else "not measured",
                    None if worst is None else worst <= limit,
                    _fmt_ratios(ratios),
                )
            )
        fast = results["servers"][server].get("r2async-fast", {})
        stream = fast.get("large", {}).get("stream")
        if stream:
            ok = stream["cpu_s_gib"] <= 1.0 and stream["peak_mib"] <= STREAM_BOUND_MIB
            out.append(
                _verdict(
                    f"[{server}] fast transport: streamed GET <= 1 CPU-s/GiB, memory bounded",
                    f"{stream['cpu_s_gib']:.2f} CPU-s/GiB, peak +{stream['peak_mib']:.1f} MiB",
                    ok,
                    f"bounded = peak RSS <= {STREAM_BOUND_MIB:.0f} MiB above the baseline while "
                    f"streaming a {stream['size'] // MIB} MiB object",
                )
            )
        for ours in ("r2async-fast", "r2async"):
            mine = results["servers"][server].get(ours, {})
            peer = results["servers"][server].get("obstore", {})
            a, b = mine.get("list_cpu_ms"), peer.get("list_cpu_ms")
            ratio = _paired(
                mine.get("list_cpu_ms_by_pass", {}), peer.get("list_cpu_ms_by_pass", {})
            )
            if ratio is None and a and b:
                ratio = a / b
            out.append(
                _verdict(
                    f"[{server}] {CLIENTS[ours]}: 1,000-key list page within 1.2x of obstore",
                    f"{ratio:.2f}x ({a:.2f} vs {b:.2f} ms)"
                    if ratio and a and b
                    else "not measured",
                    None if ratio is None else ratio <= 1.2,
                )
            )
    imports = results.get("imports", {})
    for name in ("r2async", "r2async: from r2async import R2Client"):
        row = imports.get(name, {})
        if "wall_ms" in row:
            out.append(
                _verdict(
                    f"`{IMPORTS[name]}` <= 150 ms (median of {row['runs']} fresh processes)",
                    f"{row['wall_ms']:.1f} ms (CPU {row['cpu_ms']:.1f} ms, "
                    f"best {row['min_wall_ms']:.1f} ms)",
                    row["wall_ms"] <= 150,
                )
            )
    for server in servers[:1]:
        row = results["servers"][server].get("r2async", {}).get("construct_ms")
        if row:
            out.append(
                _verdict(
                    "R2Client() construction <= 5 ms (first in a process)",
                    f"{row['first']:.2f} ms first, {row['median']:.3f} ms after",
                    row["first"] <= 5,
                )
            )
    signing = results.get("signing", {})
    if "ratio" in signing:
        out.append(
            _verdict(
                "signing (issue 2): >= 8x botocore's signatures/s",
                f"{signing['ratio']:.1f}x",
                signing["ratio"] >= signing.get("target_ratio", 8.0),
            )
        )
    return out


def _cell(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _client_status(row: dict[str, Any]) -> str | None:
    if "skipped" in row:
        return f"skipped: {row['skipped']}"
    if "error" in row:
        return f"failed: {row['error']}"
    return None


def render_markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        "# r2async benchmarks",
        "",
        f"Run `{meta['command']}` on {meta['time']}: Python {meta['python']}, "
        f"{meta['cpus']} CPUs, {meta['platform']}; load average {meta['load_before']:.1f} "
        f"before and {meta['load_after']:.1f} after ({meta['seconds']:.0f} s).",
        "",
        "Client CPU is the client process's CPU time (all threads) per operation; the server "
        "runs in another process. Medians of the rounds.",
    ]
    for server, rows in results["servers"].items():
        lines += [
            "",
            f"## {server}: 1 KiB objects and a 1,000-key list page",
            "",
            "| client | PUT c=1 CPU ms | GET c=1 CPU ms | PUT c=32 CPU ms | GET c=32 CPU ms "
            "| PUT c=1 ops/s | GET c=1 ops/s | PUT c=32 ops/s | GET c=32 ops/s "
            "| list 1,000 CPU ms |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for client, row in rows.items():
            status = _client_status(row)
            if status:
                lines.append(f"| {CLIENTS[client]} | {status} |" + " |" * 8)
                continue
            small = row["small"]
            cpu = [_cell(small[op]["cpu_ms"], ".3f") for op in SMALL_OPS]
            ops = [_cell(small[op]["ops_s"], ",.0f") for op in SMALL_OPS]
            lines.append(
                f"| {CLIENTS[client]} | "
                + " | ".join(cpu + ops)
                + f" | {_cell(row.get('list_cpu_ms'), '.2f')} |"
            )
        size = next((r["large"]["put"]["size"] for r in rows.values() if "large" in r), 64 * MIB)
        lines += [
            "",
            f"## {server}: one {size // MIB} MiB object",
            "",
            "| client | PUT MB/s | PUT CPU-s/GiB | PUT peak +MiB | GET MB/s | GET CPU-s/GiB "
            "| GET peak +MiB | stream MB/s | stream CPU-s/GiB | stream peak +MiB |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for client, row in rows.items():
            status = _client_status(row)
            if status:
                lines.append(f"| {CLIENTS[client]} | {status} |" + " |" * 8)
                continue
            cells = []
            for op in ("put", "get", "stream"):
                r = row["large"][op]
                cells += [
                    _cell(r["mb_s"], ",.0f"),
                    _cell(r["cpu_s_gib"], ".2f"),
                    _cell(r["peak_mib"], ".1f"),
                ]
            lines.append(f"| {CLIENTS[client]} | " + " | ".join(cells) + " |")
        notes = [f"{CLIENTS[c]}: {r['note']}" for c, r in rows.items() if r.get("note")]
        if notes:
            lines += ["", "Notes: " + "; ".join(notes) + "."]

    lines += [
        "",
        "## Start-up",
        "",
        results["meta"].get("startup_env", "start-up measured in the run's environment") + ".",
        "",
        "| what | wall ms (median) | CPU ms | best wall ms | fresh processes |",
        "|---|--:|--:|--:|--:|",
    ]
    for name, row in results.get("imports", {}).items():
        stmt = IMPORTS[name]
        if "error" in row:
            lines.append(f"| `{stmt}` | {row['error']} | | | |")
        else:
            lines.append(
                f"| `{stmt}` | {row['wall_ms']:.1f} | {row['cpu_ms']:.1f} | "
                f"{row['min_wall_ms']:.1f} | {row['runs']} |"
            )
    cold = results.get("cold_start", {})
    if cold:
        lines += [
            "",
            "Time to first response: a fresh process imports the client, builds it and GETs one "
            "1 KiB object from the sink (the interpreter and asyncio already loaded). "
            "r2async loads pydantic and its result models here, on first use, not at import.",
            "",
            "| client | wall ms (median) | CPU ms | best wall ms | fresh processes |",
            "|---|--:|--:|--:|--:|",
        ]
        for client, row in cold.items():
            if "error" in row:
                lines.append(f"| {CLIENTS[client]} | {row['error']} | | | |")
            else:
                lines.append(
                    f"| {CLIENTS[client]} | {row['wall_ms']:.1f} | {row['cpu_ms']:.1f} | "
                    f"{row['min_wall_ms']:.1f} | {row['runs']} |"
                )
    first_server = next(iter(results["servers"]), None)
    if first_server:
        lines += [
            "",
            "| client construction | first in process, ms | then (median), ms |",
            "|---|--:|--:|",
        ]
        for client, row in results["servers"][first_server].items():
            c = row.get("construct_ms")
            if c:
                lines.append(f"| {CLIENTS[client]} | {c['first']:.2f} | {c['median']:.3f} |")
    signing = results.get("signing", {})
    if "cases" in signing:
        lines += [
            "",
            "## Signing (benchmarks/bench_signing.py, signing key cached)",
            "",
            "| case | r2async signatures/s | botocore signatures/s | ratio |",
            "|---|--:|--:|--:|",
        ]
        for case, row in signing["cases"].items():
            lines.append(
                f"| {case} | {row['r2async_per_s']:,} | {row['botocore_per_s']:,} | "
                f"{row['ratio']:.1f}x |"
            )
    lines += [
        "",
        "## Targets (ratios within this run)",
        "",
        "Per-request and list ratios are paired by pass: the median, over the passes, of the "
        "ratio of the two clients' figures within that pass (so they can differ a little from "
        "the ratio of the overall medians in the tables above).",
        "",
        "| target | measured | status | detail |",
        "|---|---|---|---|",
    ]
    for t in results.get("targets", []):
        lines.append(f"| {t['target']} | {t['measured']} | **{t['status']}** | {t['detail']} |")
    return "\n".join(lines) + "\n"


def render_chart(results: dict[str, Any], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib import ticker
    except ImportError:
        return None
    servers = list(results["servers"])
    fig, axes = plt.subplots(len(servers) + 1, 2, figsize=(15, 4.6 * (len(servers) + 1)))
    if len(servers) + 1 == 1:
        axes = [axes]
    colors = plt.get_cmap("tab10").colors
    for row_axes, server in zip(axes, servers, strict=False):
        rows = {c: r for c, r in results["servers"][server].items() if "small" in r}
        ax = row_axes[0]
        width = 0.8 / max(1, len(rows))
        for i, (client, r) in enumerate(rows.items()):
            values = [r["small"][op]["cpu_ms"] for op in SMALL_OPS]
            xs = [j + i * width for j in range(len(SMALL_OPS))]
            ax.bar(xs, values, width, label=CLIENTS[client], color=colors[i % len(colors)])
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(SMALL_OPS))])
        ax.set_xticklabels(["PUT 1 KiB c=1", "GET 1 KiB c=1", "PUT 1 KiB c=32", "GET 1 KiB c=32"])
        ax.set_ylabel("client CPU ms per request (lower is better)")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%.2g"))
        ax.yaxis.set_minor_formatter(ticker.FormatStrFormatter("%.2g"))
        ax.set_title(f"{server}: small requests")
        ax.grid(axis="y", alpha=0.3, which="both")
        ax = row_axes[1]
        ops = ("put", "get", "stream")
        for i, (client, r) in enumerate(rows.items()):
            values = [r["large"][op]["cpu_s_gib"] for op in ops] + [r["list_cpu_ms"] / 10]
            xs = [j + i * width for j in range(len(ops) + 1)]
            ax.bar(xs, values, width, label=CLIENTS[client], color=colors[i % len(colors)])
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(ops) + 1)])
        size = next(iter(rows.values()))["large"]["put"]["size"] // MIB if rows else 64
        ax.set_xticklabels(
            [f"PUT {size} MiB", f"GET {size} MiB", f"streamed GET {size} MiB", "list 1,000 keys"]
        )
        ax.set_ylabel("CPU-s per GiB (list: CPU ms / 10)")
        ax.set_title(f"{server}: large objects and listing (lower is better)")
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    last = axes[-1]
    last[1].axis("off")
    last[1].legend(handles, labels, loc="center", fontsize=11)
    ax = last[0]
    imports = {n: r for n, r in results.get("imports", {}).items() if "wall_ms" in r}
    ax.barh(list(imports), [r["wall_ms"] for r in imports.values()], color=colors[0])
    ax.axvline(150, color="red", linestyle="--", label="150 ms target")
    ax.set_xlabel("import time, ms (median wall; lower is better)")
    ax.set_title("start-up: import in a fresh process")
    ax.legend()
    ax.invert_yaxis()
    meta = results["meta"]
    fig.suptitle(f"r2async benchmarks ({meta['time']}, Python {meta['python']})")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


# -- the parent: servers, workers, tables --------------------------------------------------------


def _python() -> str:
    return sys.executable


STARTUP_VENV = HERE / ".startup-venv"
# Start-up is measured where only the clients and their runtime dependencies are installed,
# as a user's `pip install r2async` (or aiobotocore, ...) would leave them. The development
# environment also holds trio, click and pygments, which httpx and httpcore import when
# present (70 ms and 14 ms here): that would be the test tools' cost, not the client's.
_STARTUP_PEERS = ("aiobotocore", "obstore", "miniopy-async")


def startup_python() -> tuple[str, str]:
    """An interpreter for start-up measurements, and a note saying which environment it is."""
    import hashlib
    import importlib.metadata as md

    pins = []
    for dist in md.distributions():
        name = dist.metadata["Name"]
        if name and name.lower() != "r2async":
            pins.append(f"{name}=={dist.version}")
    pins.sort(key=str.lower)
    peers = [p for p in _STARTUP_PEERS if _installed(p)]
    # Editable, so that the measured r2async is this working tree, not a copy of it.
    wanted = ["-e", f"{ROOT}[fast]", *peers]
    stamp = hashlib.sha256(
        "\n".join([*pins, *wanted, (ROOT / "pyproject.toml").read_text()]).encode()
    ).hexdigest()
    python = STARTUP_VENV / "bin" / "python"
    marker = STARTUP_VENV / "stamp"
    if not (python.exists() and marker.exists() and marker.read_text() == stamp):
        try:
            subprocess.run(
                [sys.executable, "-m", "venv", "--clear", str(STARTUP_VENV)],
                check=True,
                capture_output=True,
                timeout=300,
            )
            constraints = STARTUP_VENV / "constraints.txt"
            constraints.write_text("\n".join(pins) + "\n")
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", "-c", str(constraints), *wanted],
                check=True,
                capture_output=True,
                timeout=900,
            )
            marker.write_text(stamp)
        except (OSError, subprocess.SubprocessError) as exc:
            return sys.executable, (
                f"start-up measured in the development environment ({type(exc).__name__} "
                "building benchmarks/.startup-venv): trio, click and pygments there add to httpx"
            )
    return str(python), (
        "start-up measured in benchmarks/.startup-venv: the clients and their runtime "
        "dependencies only, same versions as the run"
    )


def _installed(dist: str) -> bool:
    import importlib.metadata as md

    try:
        md.version(dist)
    except md.PackageNotFoundError:
        return False
    return True


def start_sink() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [_python(), str(HERE / "sink.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"the sink did not start: {line!r}")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}"


def run_worker(cfg: dict[str, Any], timeout: float) -> dict[str, Any]:
    try:
        proc = subprocess.run(
            [_python(), str(Path(__file__).resolve()), "--worker", json.dumps(cfg)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        return {"client": cfg["client"], "error": f"timed out after {timeout:.0f} s"}
    lines = proc.stdout.strip().splitlines()
    if lines and lines[-1].startswith("{"):
        # The worker's answer, even if the process then failed on its way out (a native
        # extension's teardown, say): the measurements were complete.
        result: dict[str, Any] = json.loads(lines[-1])
        if proc.returncode != 0:
            result.setdefault("note", "")
            result["note"] += f" (worker exited with status {proc.returncode} after reporting)"
        return result
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    return {"client": cfg["client"], "error": tail[0][:200]}


def _fresh_runs(cmd: list[str], runs: int) -> dict[str, Any]:
    """Run ``cmd`` (whose last stdout line is JSON with wall_ms and cpu_ms) in fresh processes.

    As an installed package runs: bytecode cached (a development environment may set
    PYTHONDONTWRITEBYTECODE, which would recompile every edited module each time), and one
    unmeasured run first to write it and warm the file cache. Medians of ``runs``.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(cmd, capture_output=True, env=env, cwd=ROOT, timeout=120)
    walls, cpus = [], []
    for _ in range(runs):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        lines = proc.stdout.strip().splitlines()
        if proc.returncode != 0 or not lines or not lines[-1].startswith("{"):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            return {"error": tail[0][:200]}
        row = json.loads(lines[-1])
        walls.append(row["wall_ms"])
        cpus.append(row["cpu_ms"])
    return {
        "wall_ms": statistics.median(walls),
        "cpu_ms": statistics.median(cpus),
        "min_wall_ms": min(walls),
        "runs": runs,
    }


def measure_imports(runs: int, quick: bool, python: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, stmt in IMPORTS.items():
        code = (
            "import time\n"
            "w, c = time.perf_counter(), time.process_time()\n"
            f"{stmt}\n"
            "w, c = time.perf_counter() - w, time.process_time() - c\n"
            # JSON by hand: importing json first would preload it for the timed statement.
            'print(\'{"wall_ms": %r, "cpu_ms": %r}\' % (w * 1e3, c * 1e3))\n'
        )
        n = runs if (name.startswith("r2async") or not quick) else 1
        out[name] = _fresh_runs([python, "-c", code], n)
    return out


async def _cold_request(cfg: dict[str, Any]) -> dict[str, Any]:
    # Timed from before the client library is imported to the first response's body in hand;
    # the interpreter, asyncio and this runner's own (stdlib) imports are already up.
    wall, cpu = time.perf_counter(), time.process_time()
    adapter = ADAPTERS[cfg["client"]](cfg)
    await adapter.start()
    size = await adapter.get("cold/object")
    out = {
        "wall_ms": (time.perf_counter() - wall) * 1e3,
        "cpu_ms": (time.process_time() - cpu) * 1e3,
        "bytes": size,
    }
    await adapter.aclose()
    return out


def measure_cold_start(
    clients: Sequence[str],
    args: argparse.Namespace,
    endpoint: str,
    creds: tuple[str, str],
    python: str,
) -> dict[str, Any]:
    """Time to first response: import, construct and one 1 KiB GET, each in a fresh process."""
    out: dict[str, Any] = {}
    runs = 3 if args.quick else 9
    for client in clients:
        cfg = _cfg(args, "sink", endpoint, creds)
        cfg["client"] = client
        cfg["keys"] = ["cold/object"]
        cmd = [python, str(Path(__file__).resolve()), "--cold-start", json.dumps(cfg)]
        out[client] = _fresh_runs(cmd, runs)
    return out


def measure_signing(quick: bool) -> dict[str, Any]:
    code = (
        "import json, sys; sys.path.insert(0, 'benchmarks')\n"
        "from bench_signing import run\n"
        f"print(json.dumps(run(quick={quick!r})))\n"
    )
    proc = subprocess.run([_python(), "-c", code], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


async def _populate_listing(endpoint: str, access_key: str, secret_key: str) -> None:
    from r2async import R2Client

    async with R2Client(
        endpoint_url=endpoint, access_key_id=access_key, secret_access_key=secret_key
    ) as r2:
        keys = [f"{LIST_PREFIX}object-{i:06d}.json" for i in range(LIST_KEYS)]

        async def put(key: str) -> None:
            await r2.put_object(BUCKET, key, b"x")

        await _run_ops(put, keys, len(keys), 32)


def _merge(previous: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """Add a later pass's rounds to the first pass's result of a client."""
    if previous is None or "error" in new or "skipped" in new:
        return new if previous is None or "small" not in previous else previous
    for op, row in new.get("small", {}).items():
        mine = previous["small"][op]
        mine["cpu_ms_rounds"] += row["cpu_ms_rounds"]
        mine["ops_s_rounds"] += row["ops_s_rounds"]
        mine["cpu_ms_by_pass"].update(row["cpu_ms_by_pass"])
    previous["list_cpu_ms_rounds"] += new.get("list_cpu_ms_rounds", [])
    previous.setdefault("list_cpu_ms_by_pass", {}).update(new.get("list_cpu_ms_by_pass", {}))
    return previous


def _pass_medians(row: dict[str, Any], n_pass: int) -> dict[str, Any]:
    """Note each figure's median within pass ``n_pass``, for the paired ratios (_ratios)."""
    for op in row.get("small", {}).values():
        op["cpu_ms_by_pass"] = {str(n_pass): statistics.median(op["cpu_ms_rounds"])}
    if row.get("list_cpu_ms_rounds"):
        row["list_cpu_ms_by_pass"] = {str(n_pass): statistics.median(row["list_cpu_ms_rounds"])}
    return row


def _summarise(row: dict[str, Any]) -> None:
    """Medians over all the rounds of all passes."""
    for op in row.get("small", {}).values():
        op["cpu_ms"] = statistics.median(op["cpu_ms_rounds"])
        op["ops_s"] = statistics.median(op["ops_s_rounds"])
        op["rounds"] = len(op["cpu_ms_rounds"])
    if "list_cpu_ms_rounds" in row:
        row["list_cpu_ms"] = statistics.median(row["list_cpu_ms_rounds"])


def _cfg(
    args: argparse.Namespace, target: str, endpoint: str, creds: tuple[str, str]
) -> dict[str, Any]:
    quick = args.quick
    large = (8 if quick else 64) * MIB
    return {
        "quick": quick,
        "target": target,
        "endpoint": endpoint,
        "bucket": BUCKET,
        "access_key": creds[0],
        "secret_key": creds[1],
        "presign": target == "seaweedfs",
        "rounds": 1,
        "n_c1": 150 if quick else 600,
        "n_c32": 300 if quick else 1500,
        "list_rounds": 3 if quick else 7,
        "large_size": large,
        "large_rounds": 1 if quick else 3,
        "small_only": False,
    }


def _write(results: dict[str, Any], out: Path) -> None:
    """results.json, results.md, chart.png, and the README block when writing the default."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    markdown = render_markdown(results)
    (out / "results.md").write_text(markdown)
    chart = render_chart(results, out / "chart.png")
    if out.resolve() == (HERE / "results").resolve():
        _refresh_readme(markdown, chart is not None)
    print(markdown)


_BEGIN = "<!-- results:begin"
_END = "<!-- results:end -->"


def _refresh_readme(markdown: str, chart: bool) -> None:
    """Put this run's tables (and chart) into benchmarks/README.md between its markers."""
    readme = HERE / "README.md"
    text = readme.read_text()
    start, end = text.find(_BEGIN), text.find(_END)
    if start < 0 or end < start:
        return
    start = text.index("\n", start) + 1
    # The results file's own title is dropped; its sections become the README's subsections.
    body = markdown.split("\n", 2)[2].replace("\n## ", "\n### ")
    if chart:
        body = "![client CPU per request, per GiB and per list page](results/chart.png)\n\n" + body
    readme.write_text(text[:start] + body.strip() + "\n" + text[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smoke run, under a minute")
    parser.add_argument("--out", default=str(HERE / "results"), help="output directory")
    parser.add_argument(
        "--clients",
        default=",".join(CLIENTS),
        help="comma-separated subset of: " + ", ".join(CLIENTS),
    )
    parser.add_argument(
        "--servers", default="sink,seaweedfs", help="comma-separated: sink, seaweedfs"
    )
    parser.add_argument(
        "--with-transfer",
        action="store_true",
        help="also run benchmarks/bench_transfer.py (1 GiB multipart transfers, issue 5)",
    )
    parser.add_argument(
        "--render",
        action="store_true",
        help="only redraw the table, chart and README block from --out's results.json",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--cold-start", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.cold_start:
        print(json.dumps(asyncio.run(_cold_request(json.loads(args.cold_start)))))
        return 0

    if args.worker:
        cfg = json.loads(args.worker)
        try:
            result = asyncio.run(worker_main(cfg))
        except Skip as exc:
            result = {"client": cfg["client"], "skipped": str(exc)}
        except Exception as exc:
            import traceback

            traceback.print_exc()
            result = {"client": cfg["client"], "error": f"{type(exc).__name__}: {exc}"[:300]}
        print(json.dumps(result), flush=True)
        # Skip interpreter teardown: a native extension's (obstore's runtime) has been seen
        # to abort there now and then, after the measurements were complete.
        os._exit(0)

    if args.render:
        out = Path(args.out)
        results = json.loads((out / "results.json").read_text())
        results["targets"] = evaluate_targets(results)
        _write(results, out)
        return 0

    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    for c in clients:
        if c not in CLIENTS:
            parser.error(f"unknown client {c!r}; choose from {', '.join(CLIENTS)}")
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    started = time.perf_counter()
    results: dict[str, Any] = {
        "meta": {
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_before": os.getloadavg()[0],
            "quick": args.quick,
            "command": "python benchmarks/run.py" + (" --quick" if args.quick else ""),
        },
        "servers": {},
    }
    _print = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731

    _print("preparing the start-up environment ...")
    startup_py, results["meta"]["startup_env"] = startup_python()
    sink_proc, sink_url = start_sink()
    seaweed = None
    try:
        targets: list[tuple[str, str, tuple[str, str], bool]] = []
        if "sink" in servers:
            targets.append(("sink", sink_url, ("AKIDBENCHMARK", "benchmark-secret"), False))
        if "seaweedfs" in servers:
            from r2async.testing import start_local_server

            _print("starting SeaweedFS ...")
            seaweed = start_local_server(buckets=[BUCKET])
            asyncio.run(
                _populate_listing(
                    seaweed.endpoint_url, seaweed.access_key_id, seaweed.secret_access_key
                )
            )
            targets.append(
                (
                    "seaweedfs",
                    seaweed.endpoint_url,
                    (seaweed.access_key_id, seaweed.secret_access_key),
                    True,
                )
            )
        # Load from other processes comes and goes over minutes: the small-request and list
        # rounds are spread over several passes through every client, each figure is the
        # median over all of them, and the targets' ratios are paired by pass. Every other
        # pass runs the clients in reverse order, so that a drift within a pass does not
        # always favour the same clients. The first pass also measures the rest.
        passes = 1 if args.quick else 5
        for n_pass in range(passes):
            for target, endpoint, creds, _ in targets:
                per_client = results["servers"].setdefault(target, {})
                for client in clients if n_pass % 2 == 0 else clients[::-1]:
                    if "error" in per_client.get(client, {}) or "skipped" in per_client.get(
                        client, {}
                    ):
                        continue
                    cfg = _cfg(args, target, endpoint, creds)
                    cfg["client"] = client
                    cfg["small_only"] = n_pass > 0
                    cfg["keys"] = [f"{client}/small-{i}" for i in range(SMALL_KEYS)] + [
                        f"{client}/large"
                    ]
                    _print(
                        f"[{time.perf_counter() - started:5.1f}s] pass {n_pass + 1}/{passes} "
                        f"{target}: {client} ..."
                    )
                    row = _pass_medians(run_worker(cfg, timeout=120 if args.quick else 900), n_pass)
                    per_client[client] = _merge(per_client.get(client), row)
        for per_client in results["servers"].values():
            for row in per_client.values():
                _summarise(row)
        _print(f"[{time.perf_counter() - started:5.1f}s] time to first response ...")
        results["cold_start"] = measure_cold_start(
            clients, args, sink_url, ("AKIDBENCHMARK", "benchmark-secret"), startup_py
        )
    finally:
        sink_proc.kill()
        sink_proc.wait()
        if seaweed is not None:
            seaweed.stop()

    _print(f"[{time.perf_counter() - started:5.1f}s] import times ...")
    results["imports"] = measure_imports(3 if args.quick else 9, args.quick, startup_py)
    _print(f"[{time.perf_counter() - started:5.1f}s] signing ...")
    results["signing"] = measure_signing(args.quick)
    results["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    results["meta"]["load_after"] = os.getloadavg()[0]

    results["targets"] = evaluate_targets(results)
    out = Path(args.out)
    _write(results, out)
    if args.with_transfer:
        _print("running benchmarks/bench_transfer.py ...")
        transfer = [_python(), str(HERE / "bench_transfer.py")] + (
            ["--quick"] if args.quick else []
        )
        subprocess.run(transfer, cwd=ROOT, check=False)
    _print(f"done in {results['meta']['seconds']} s; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main())
