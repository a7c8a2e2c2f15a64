"""Inside a client's own process: construction, the timed operations, time to first response.

The parent (``runner``) starts ``run.py --worker CFG`` once per client, server and pass, so
that the client's imports, memory and CPU time are its own; the worker prints one JSON line.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from .clients import ADAPTERS
from .common import (
    GIB,
    LIST_KEYS,
    LIST_PREFIX,
    MANY_CLIENTS,
    MANY_CONCURRENCY,
    SINK_WRITES,
    SMALL_KEYS,
    SMALL_SIZE,
    STREAM_CHUNKS,
    STREAM_CLIENTS,
    Skip,
)
from .memory import PeakRSS, status_kib


async def run_ops(
    op: Callable[[str], Awaitable[Any]], keys: Sequence[str], n: int, concurrency: int
) -> None:
    """``n`` calls of ``op`` over ``keys`` in turn, by ``concurrency`` tasks."""
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
    await run_ops(op, keys, n, concurrency)
    return time.process_time() - cpu0, time.perf_counter() - wall0


async def worker_main(cfg: dict[str, Any]) -> dict[str, Any]:
    quick = cfg["quick"]
    name = cfg["client"]
    adapter_cls = ADAPTERS[name]
    for module in adapter_cls.requires:
        try:
            __import__(module)
        except ImportError:
            raise Skip(f"{module} not installed") from None
    adapter = adapter_cls(cfg)
    out: dict[str, Any] = {"client": name}
    # Imports are measured on their own (startup.measure_imports), not as part of construction.
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
        await run_ops(put, keys, SMALL_KEYS, 8)
        await run_ops(get, keys, SMALL_KEYS, 8)
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

        if cfg.get("large", True) or cfg.get("stream_variants"):
            out["large"] = await _large(adapter, cfg, f"{prefix}large")
        if cfg.get("stream_variants") and name in STREAM_CLIENTS:
            out["stream_variants"] = await _stream_variants(adapter, cfg, f"{prefix}large")
        if cfg.get("many") and name in MANY_CLIENTS:
            out["many"] = await _many(adapter, cfg["many"], f"{prefix}many/", small)
        out["rss_mib"] = (status_kib("VmRSS") or 0) / 1024
    finally:
        await adapter.aclose()
    out["note"] = adapter.note
    return out


async def _large(adapter: Any, cfg: dict[str, Any], big_key: str) -> dict[str, Any]:
    """One large object: PUT, GET into memory, streamed GET; medians, the largest peak."""
    size = cfg["large_size"]
    data = random.Random(7).randbytes(size)
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
        gib = size / GIB
        large[op_name] = {
            "mb_s": size / wall / 1e6,
            "cpu_s_gib": cpu / gib,
            "cpu_s_gib_range": [min(r[0] for r in rows) / gib, max(r[0] for r in rows) / gib],
            "peak_mib": max(r[2] for r in rows),
            "size": size,
        }
    return large


async def _stream_variants(adapter: Any, cfg: dict[str, Any], big_key: str) -> dict[str, Any]:
    """The streamed GET again, per chunk size asked and (on the sink) server write piece.

    The same object read the same way can cost a client several times more CPU depending on
    how it asks (chunk size) and how the server writes (large or small pieces, which over TLS
    also means one record per piece): the table shows the range a user will see.
    """
    size = cfg["large_size"]
    writes: tuple[int | None, ...] = SINK_WRITES if cfg["target"].startswith("sink") else (None,)
    rows: dict[str, Any] = {}
    for write in writes:
        # The sink serves key~w<N> as key's object written in N-byte pieces.
        key = big_key if write is None else f"{big_key}~w{write}"
        for chunk in STREAM_CHUNKS:
            cpus = []
            for _ in range(cfg["large_rounds"]):
                gc.collect()
                cpu0 = time.process_time()
                got = await adapter.stream(key, chunk)
                cpus.append(time.process_time() - cpu0)
                if got != size:
                    raise RuntimeError(f"stream moved {got} bytes, expected {size}")
            rows[f"{write or 0}/{chunk}"] = {
                "write": write,
                "chunk": chunk,
                "cpu_s_gib": statistics.median(cpus) / (size / GIB),
                "cpu_s_gib_range": [min(cpus) / (size / GIB), max(cpus) / (size / GIB)],
            }
    return rows


async def _many(adapter: Any, n: int, prefix: str, data: bytes) -> dict[str, Any]:
    """``n`` distinct 1 KiB objects PUT, then GET, by 64 tasks through the one client."""
    keys = [f"{prefix}{i:06d}" for i in range(n)]
    out: dict[str, Any] = {"n": n, "concurrency": MANY_CONCURRENCY}

    async def put(key: str) -> None:
        await adapter.put(key, data)

    async def get(key: str) -> None:
        got = await adapter.get(key)
        if got != len(data):
            raise RuntimeError(f"GET returned {got} bytes, expected {len(data)}")

    for op_name, op in (("put", put), ("get", get)):
        cpu, wall = await _timed(op, keys, n, MANY_CONCURRENCY)
        out[op_name] = {"ops_s": n / wall, "cpu_ms": cpu / n * 1e3, "seconds": wall}
    return out


def serve_worker(cfg: dict[str, Any]) -> None:
    """``run.py --worker``: measure, print the result as one JSON line, exit at once."""
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


async def cold_request(cfg: dict[str, Any]) -> dict[str, Any]:
    """``run.py --cold-start``: import, build and one GET, timed from before the import."""
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
