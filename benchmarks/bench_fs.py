"""fsspec filesystems on SeaweedFS: r2async.fs against s3fs and obstore's adapter (issue 14).

Run: ``.venv/bin/python benchmarks/bench_fs.py`` (about 5 minutes; ``--quick`` for a smoke
run). Writes ``benchmarks/results/fs.md`` and ``fs.json``.

Rows (each client through its own fsspec filesystem, sync API, default settings):

* ``cat`` of 1,000 objects of 16 KiB in one ``fs.cat(list)`` call;
* ``find`` over 10,000 keys (100 directories of 100), listing cache cleared first;
* sequential ``open()`` read of a 256 MiB object in 8 MiB ``read()`` calls;
* ``open("wb")`` write of 256 MiB in 8 MiB ``write()`` calls;
* pandas ``read_parquet`` of a ~64 MiB Parquet file (``filesystem=`` the client's fs).

Client CPU is ``time.process_time()`` of this process (all threads: obstore's Rust threads
and fsspec's I/O thread count); SeaweedFS runs in its own processes. Peak memory is the peak
RSS above the RSS before the operation (``VmHWM`` reset through ``/proc/self/clear_refs``).
Every row runs ``--rounds`` times per client, clients interleaved and the order reversed every
other round (the machine is shared and SeaweedFS's speed drifts); tables show medians, and the
targets compare medians of the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib.metadata
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

MiB = 1024 * 1024
BUCKET = "bench-fs"
RESULTS = Path(__file__).resolve().parent / "results"


# -- measurement -------------------------------------------------------------------------------


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


@contextlib.contextmanager
def measure(out: dict[str, float]) -> Iterator[None]:
    """Wall and CPU seconds of the block, and its peak RSS above the RSS before it (MiB)."""
    gc.collect()
    resettable = _reset_peak()
    before = _rss_kib("VmRSS")
    cpu0, wall0 = time.process_time(), time.perf_counter()
    yield
    out["wall"] = time.perf_counter() - wall0
    out["cpu"] = time.process_time() - cpu0
    out["peak_mib"] = (_rss_kib("VmHWM") - before) / 1024 if resettable else float("nan")


# -- clients -----------------------------------------------------------------------------------


def make_clients(kwargs: dict[str, str], wanted: list[str]) -> dict[str, Any]:
    clients: dict[str, Any] = {}
    if "r2async" in wanted:
        from r2async.fs import R2FileSystem

        clients["r2async"] = R2FileSystem(**kwargs, skip_instance_cache=True)
    if "s3fs" in wanted:
        try:
            import s3fs
        except ImportError:
            print("s3fs not installed: skipped", file=sys.stderr)
        else:
            clients["s3fs"] = s3fs.S3FileSystem(
                key=kwargs["access_key_id"],
                secret=kwargs["secret_access_key"],
                endpoint_url=kwargs["endpoint_url"],
                client_kwargs={"region_name": "us-east-1"},
                skip_instance_cache=True,
            )
    if "obstore" in wanted:
        try:
            from obstore.fsspec import FsspecStore
        except ImportError:
            print("obstore not installed: skipped", file=sys.stderr)
        else:
            clients["obstore"] = FsspecStore(
                "s3",
                endpoint=kwargs["endpoint_url"],
                access_key_id=kwargs["access_key_id"],
                secret_access_key=kwargs["secret_access_key"],
                region="us-east-1",
                client_options={"allow_http": True},
                skip_instance_cache=True,
            )
    return clients


# -- data --------------------------------------------------------------------------------------


async def _fill(kwargs: dict[str, str], n_small: int, n_keys: int, big: int) -> None:
    from r2async import R2Client

    async with R2Client(**kwargs) as r2:
        semaphore = asyncio.Semaphore(32)

        async def put(key: str, body: bytes) -> None:
            async with semaphore:
                await r2.put_object(BUCKET, key, body)

        small = os.urandom(16 * 1024)
        await asyncio.gather(*(put(f"small/{i:04d}", small) for i in range(n_small)))
        await asyncio.gather(*(put(f"many/d{i // 100:03d}/k{i:05d}", b"") for i in range(n_keys)))
        await r2.upload_stream(BUCKET, "big/read.bin", os.urandom(big), content_length=big)


def make_parquet(fs: Any, target_mib: int) -> str:
    import numpy as np
    import pandas as pd

    rows = target_mib * MiB // 32
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "a": rng.integers(0, 1 << 60, rows),
            "b": rng.random(rows),
            "c": rng.integers(0, 1 << 60, rows),
            "d": rng.random(rows),
        }
    )
    path = f"{BUCKET}/frame.parquet"
    frame.to_parquet(path, filesystem=fs, compression=None, row_group_size=rows // 8)
    return path


# -- rows --------------------------------------------------------------------------------------


def row_cat(fs: Any, n: int) -> dict[str, float]:
    paths = [f"{BUCKET}/small/{i:04d}" for i in range(n)]
    out: dict[str, float] = {}
    with measure(out):
        got = fs.cat(paths)
    assert len(got) == n and all(len(v) == 16 * 1024 for v in got.values())
    out["rate"] = n / out["wall"]  # objects/s
    out["cpu_ms_per_op"] = out["cpu"] / n * 1000
    return out


def row_find(fs: Any, n: int) -> dict[str, float]:
    fs.invalidate_cache()
    out: dict[str, float] = {}
    with measure(out):
        found = fs.find(f"{BUCKET}/many")
    assert len(found) == n, len(found)
    out["rate"] = n / out["wall"]  # keys/s
    return out


def row_read(fs: Any, size: int) -> dict[str, float]:
    out: dict[str, float] = {}
    total = 0
    with measure(out), fs.open(f"{BUCKET}/big/read.bin", "rb") as f:
        while chunk := f.read(8 * MiB):
            total += len(chunk)
            del chunk
    assert total == size
    out["rate"] = size / MiB / out["wall"]  # MiB/s
    return out


def row_write(fs: Any, size: int, name: str) -> dict[str, float]:
    block = os.urandom(8 * MiB)
    out: dict[str, float] = {}
    with measure(out), fs.open(f"{BUCKET}/big/write-{name}.bin", "wb") as f:
        for _ in range(size // len(block)):
            f.write(block)
    out["rate"] = size / MiB / out["wall"]
    return out


def row_pandas(fs: Any, path: str, size: int) -> dict[str, float]:
    import pandas as pd

    out: dict[str, float] = {}
    with measure(out):
        frame = pd.read_parquet(path, filesystem=fs)
    assert len(frame) > 0
    out["rate"] = size / MiB / out["wall"]
    return out


# -- report ------------------------------------------------------------------------------------

UNITS = {
    "cat": "objects/s",
    "find": "keys/s",
    "read": "MiB/s",
    "write": "MiB/s",
    "pandas": "MiB/s",
}
TITLES = {
    "cat": "cat 1,000 x 16 KiB",
    "find": "find 10,000 keys",
    "read": "open() read 256 MiB",
    "write": 'open("wb") write 256 MiB',
    "pandas": "pandas read_parquet ~64 MiB",
}


def summarise(raw: dict[str, dict[str, list[dict[str, float]]]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for row, by_client in raw.items():
        summary[row] = {}
        for client, rounds in by_client.items():
            summary[row][client] = {
                "wall": statistics.median(r["wall"] for r in rounds),
                "cpu": statistics.median(r["cpu"] for r in rounds),
                "rate": statistics.median(r["rate"] for r in rounds),
                "peak_mib": max(r["peak_mib"] for r in rounds),
                "rounds": len(rounds),
            }
    return summary


def targets(summary: dict[str, Any]) -> list[tuple[str, bool, str]]:
    checks: list[tuple[str, bool, str]] = []
    cat = summary.get("cat", {})
    if "r2async" in cat and "s3fs" in cat:
        speed = cat["r2async"]["rate"] / cat["s3fs"]["rate"]
        cpu = cat["r2async"]["cpu"] / cat["s3fs"]["cpu"]
        checks.append(("cat: >= 3x s3fs's throughput", speed >= 3, f"{speed:.2f}x"))
        checks.append(("cat: <= 1/3 of s3fs's client CPU", cpu <= 1 / 3, f"{cpu:.2f}x"))
    for row, by_client in summary.items():
        if "r2async" in by_client and "obstore" in by_client:
            ratio = by_client["r2async"]["wall"] / by_client["obstore"]["wall"]
            checks.append(
                (f"{row}: within 1.25x of obstore's time", ratio <= 1.25, f"{ratio:.2f}x")
            )
    return checks


def render(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    lines = [
        "# fsspec filesystems: r2async.fs, s3fs, obstore.fsspec (issue 14)",
        "",
        f"Command: `{meta['command']}`  ",
        f"Server: SeaweedFS {meta['server']} on loopback; machine: {meta['machine']}; "
        f"{meta['rounds']} rounds per row per client, clients interleaved, medians shown "
        "(peak memory: the largest). The machine is shared with other work (load average "
        f"{meta['load_before']} at the start, {meta['load_after']} at the end), so absolute "
        "figures are noisy; the ratios compare clients within the same run.",
        "",
        f"Versions: r2async {meta['r2async']}, "
        + ", ".join(f"{name} {version}" for name, version in meta["versions"].items())
        + ".",
        "",
        "| row | client | time (s) | throughput | client CPU (s) | peak RSS above start (MiB) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row, by_client in summary.items():
        for client, m in by_client.items():
            lines.append(
                f"| {TITLES[row]} | {client} | {m['wall']:.3f} | {m['rate']:,.0f} {UNITS[row]} "
                f"| {m['cpu']:.3f} | {m['peak_mib']:.0f} |"
            )
    lines += ["", "## Targets", "", "| target | met | measured |", "|---|---|---|"]
    for name, ok, value in targets(summary):
        lines.append(f"| {name} | {'yes' if ok else 'no'} | {value} |")
    bound_read = meta["block_mib"] * (meta["read_ahead"] + 1) + 8
    bound_write = meta["block_mib"] * (meta["concurrency"] + 3)
    for row, bound in (("read", bound_read), ("write", bound_write)):
        m = summary.get(row, {}).get("r2async")
        if m:
            ok = m["peak_mib"] <= bound
            lines.append(
                f"| {row}: r2async memory <= its bound ({bound} MiB) | {'yes' if ok else 'no'} "
                f"| {m['peak_mib']:.0f} MiB |"
            )
    lines += [
        "",
        "Memory bounds: reading holds at most `block_size * (read_ahead + 1)` (8 MiB x 5) plus "
        "the bytes one `read()` returns (8 MiB); writing holds up to `concurrency` (8) parts "
        "in flight, the part being cut, and the buffer (up to one block plus one `write()`, "
        "8 MiB here): `block_size * (concurrency + 3)`.",
        "",
    ]
    return "\n".join(lines)


# -- main --------------------------------------------------------------------------------------


def main() -> None:
    if os.environ.get("MALLOC_MMAP_THRESHOLD_") is None:
        # glibc raises its mmap threshold after large frees, so freed buffers stay in the
        # heap and the RSS before one row hides the next row's peak; a fixed threshold
        # returns large buffers to the system and makes the peak measurable.
        os.environ["MALLOC_MMAP_THRESHOLD_"] = str(128 * 1024)
        os.execv(sys.executable, [sys.executable, *sys.argv])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 round")
    parser.add_argument("--clients", default="r2async,s3fs,obstore")
    parser.add_argument("--rows", default="cat,find,read,write,pandas")
    parser.add_argument("--out", type=Path, default=RESULTS / "fs.md")
    parser.add_argument("--render", action="store_true", help="redraw --out from its .json")
    args = parser.parse_args()
    if args.render:
        saved = json.loads(args.out.with_suffix(".json").read_text())
        args.out.write_text(render(saved["summary"], saved["meta"]))
        return
    n_small, n_keys = (200, 1000) if args.quick else (1000, 10_000)
    big = (32 if args.quick else 256) * MiB
    parquet_mib = 8 if args.quick else 64
    rounds = 1 if args.quick else args.rounds
    rows = args.rows.split(",")

    from r2async.testing import start_local_server

    load_before = f"{os.getloadavg()[0]:.1f}"
    server = start_local_server(buckets=[BUCKET])
    try:
        kwargs = dict(server.client_kwargs)
        print("filling the bucket...", file=sys.stderr)
        asyncio.run(_fill(kwargs, n_small, n_keys, big))
        clients = make_clients(kwargs, args.clients.split(","))
        parquet = make_parquet(clients["r2async"], parquet_mib) if "pandas" in rows else ""
        parquet_size = clients["r2async"].info(parquet)["size"] if parquet else 0
        jobs: dict[str, Callable[[str, Any], dict[str, float]]] = {
            "cat": lambda name, fs: row_cat(fs, n_small),
            "find": lambda name, fs: row_find(fs, n_keys),
            "read": lambda name, fs: row_read(fs, big),
            "write": lambda name, fs: row_write(fs, big, name),
            "pandas": lambda name, fs: row_pandas(fs, parquet, parquet_size),
        }
        raw: dict[str, dict[str, list[dict[str, float]]]] = {}
        for row in rows:
            raw[row] = {name: [] for name in clients}
            order = list(clients)
            for name in order:  # warm-up: connections, imports, caches
                jobs[row](name, clients[name])
            for i in range(rounds):
                for name in order if i % 2 == 0 else order[::-1]:
                    result = jobs[row](name, clients[name])
                    raw[row][name].append(result)
                    print(f"{row:7} {name:8} {result['wall']:.3f}s", file=sys.stderr)
        summary = summarise(raw)
        import r2async

        versions = {}
        for package in ("fsspec", "s3fs", "obstore", "aiohttp", "pandas", "pyarrow"):
            with contextlib.suppress(Exception):
                versions[package] = importlib.metadata.version(package)

        meta = {
            "command": "python benchmarks/bench_fs.py " + " ".join(sys.argv[1:]),
            "server": "weed mini (r2async.testing)",
            "machine": f"{os.cpu_count()} cores",
            "rounds": rounds,
            "block_mib": clients["r2async"].blocksize // MiB if "r2async" in clients else 8,
            "read_ahead": getattr(clients.get("r2async"), "read_ahead", 4),
            "concurrency": getattr(clients.get("r2async"), "concurrency", 8),
            "r2async": r2async.__version__,
            "versions": versions,
            "load_before": load_before,
            "load_after": f"{os.getloadavg()[0]:.1f}",
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(render(summary, meta))
        args.out.with_suffix(".json").write_text(
            json.dumps({"meta": meta, "summary": summary, "raw": raw}, indent=1)
        )
        print(render(summary, meta))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
