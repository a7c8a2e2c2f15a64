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

This file is the entry point only; the work is in ``benchmarks/harness/`` (see its
``__init__``), and each client is one module in ``benchmarks/harness/clients/``. The worker
processes are this same script (``--worker``, ``--cold-start``), so the harness is found
next to it on ``sys.path`` in every process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from pathlib import Path

# Imported eagerly in every mode: the time-to-first-response row (--cold-start) starts its
# clock with these (standard-library-only) modules loaded, as it always has.
from harness.clients import CLIENTS
from harness.common import BENCH_DIR, ROOT
from harness.report import write
from harness.runner import run
from harness.targets import evaluate_targets
from harness.worker import cold_request, serve_worker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smoke run, under a minute")
    parser.add_argument("--out", default=str(BENCH_DIR / "results"), help="output directory")
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

    # The two child modes: one client's time to first response, one client's measurements.
    if args.cold_start:
        print(json.dumps(asyncio.run(cold_request(json.loads(args.cold_start)))))
        return 0
    if args.worker:
        serve_worker(json.loads(args.worker))  # exits the process

    if args.render:
        out = Path(args.out)
        results = json.loads((out / "results.json").read_text())
        results["targets"] = evaluate_targets(results)
        write(results, out)
        return 0

    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    for c in clients:
        if c not in CLIENTS:
            parser.error(f"unknown client {c!r}; choose from {', '.join(CLIENTS)}")
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    results = run(clients, servers, args.quick, log)
    results["targets"] = evaluate_targets(results)
    out = Path(args.out)
    write(results, out)
    if args.with_transfer:
        log("running benchmarks/bench_transfer.py ...")
        transfer = [sys.executable, str(BENCH_DIR / "bench_transfer.py")] + (
            ["--quick"] if args.quick else []
        )
        subprocess.run(transfer, cwd=ROOT, check=False)
    log(f"done in {results['meta']['seconds']} s; wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
