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
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Imported eagerly in every mode: the time-to-first-response row (--cold-start) starts its
# clock with these (standard-library-only) modules loaded, as it always has.
from harness.clients import CLIENTS
from harness.common import BENCH_DIR, ROOT
from harness.report import write
from harness.runner import ROWS, run
from harness.targets import evaluate_targets
from harness.worker import cold_request, serve_worker


def run_bulk(
    quick: bool, schemes: list[str], out: Path, log: Callable[[str], None], rounds: int
) -> dict[str, Any]:
    """``bench_transfer.py --defaults`` in its own process; its rows (or the error)."""
    log("bulk: bench_transfer.py --defaults ...")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "transfer-defaults.json"
    path.unlink(missing_ok=True)
    cmd = [sys.executable, str(BENCH_DIR / "bench_transfer.py"), "--defaults"]
    cmd += ["--schemes", ",".join(schemes), "--json", str(path), "--rounds", str(rounds)]
    cmd += ["--quick"] if quick else []
    proc = subprocess.run(cmd, cwd=ROOT, check=False, capture_output=True, text=True)
    if proc.returncode != 0 or not path.exists():
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]}
    bulk: dict[str, Any] = json.loads(path.read_text())
    return bulk


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
        "--schemes",
        default="http,https",
        help="comma-separated: http, https (every server over each; default both)",
    )
    parser.add_argument(
        "--rows",
        default="small,large,streams,many",
        help="comma-separated row groups: " + ", ".join(ROWS) + " (default all but bulk; "
        "bulk: 1 GiB upload_file/download_file with default settings against obstore and s5cmd)",
    )
    parser.add_argument(
        "--passes",
        type=int,
        default=5,
        help="passes through all the clients for the small requests (default 5; --quick: 1)",
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
        bulk = out / "transfer-defaults.json"
        if "bulk" not in results and bulk.exists():
            # A bulk run made on its own (bench_transfer.py --defaults --json ...).
            results["bulk"] = json.loads(bulk.read_text())
        results["targets"] = evaluate_targets(results)
        write(results, out)
        return 0

    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    for c in clients:
        if c not in CLIENTS:
            parser.error(f"unknown client {c!r}; choose from {', '.join(CLIENTS)}")
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    schemes = [s.strip() for s in args.schemes.split(",") if s.strip()]
    if not schemes or set(schemes) - {"http", "https"}:
        parser.error("--schemes takes http, https or both")
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    if not rows or set(rows) - set(ROWS):
        parser.error(f"--rows takes some of: {', '.join(ROWS)}")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    if not 1 <= args.passes <= 20:
        parser.error("--passes takes 1 to 20")
    results = run(clients, servers, args.quick, log, schemes, rows, command.strip(), args.passes)
    out = Path(args.out)
    if "bulk" in rows:
        results["bulk"] = run_bulk(args.quick, schemes, out, log, min(args.passes, 3))
    results["targets"] = evaluate_targets(results)
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
