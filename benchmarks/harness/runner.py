"""The parent side of a run: passes through the clients, workers, merging and pairing.

Load from other processes comes and goes over minutes: the small-request and list rounds are
spread over several passes through every client, each figure is the median over all of them,
and the targets' ratios are paired by pass (``targets``). Every other pass runs the clients in
reverse order, so that a drift within a pass does not always favour the same clients. The
first pass also measures construction and the large objects.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from .common import ROOT, RUN_PY, SMALL_KEYS, worker_cfg
from .servers import Target, running
from .startup import measure_cold_start, measure_imports, startup_python

# Row groups a run can select (--rows): the small requests and list page (always measured,
# briefly, when not selected: they warm the client), the large objects, the streamed GET
# variants, many objects, and the 1 GiB file transfers (bench_transfer.py, --rows bulk).
ROWS = ("small", "large", "streams", "many", "bulk")


def run_worker(cfg: dict[str, Any], timeout: float) -> dict[str, Any]:
    """One client against one server in a fresh ``run.py --worker`` process."""
    try:
        proc = subprocess.run(
            [sys.executable, str(RUN_PY), "--worker", json.dumps(cfg)],
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


def measure_signing(quick: bool) -> dict[str, Any]:
    """``bench_signing.run()`` in its own process (it imports botocore)."""
    code = (
        "import json, sys; sys.path.insert(0, 'benchmarks')\n"
        "from bench_signing import run\n"
        f"print(json.dumps(run(quick={quick!r})))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


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
    """Note each figure's median within pass ``n_pass``, for the paired ratios."""
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


def _passes(
    results: dict[str, Any],
    targets: Sequence[Target],
    clients: Sequence[str],
    quick: bool,
    log: Callable[[str], None],
    started: float,
    rows: Sequence[str],
    loads: list[float],
    passes: int,
) -> None:
    passes = 1 if quick or "small" not in rows else passes
    for n_pass in range(passes):
        for target in targets:
            per_client = results["servers"].setdefault(target.name, {})
            for client in clients if n_pass % 2 == 0 else clients[::-1]:
                if "error" in per_client.get(client, {}) or "skipped" in per_client.get(client, {}):
                    continue
                cfg = worker_cfg(quick, target.name, target.endpoint, target.creds, target.ca_file)
                cfg["client"] = client
                cfg["small_only"] = n_pass > 0
                cfg["stream_variants"] = "streams" in rows
                cfg["large"] = "large" in rows
                cfg["many"] = cfg["many"] if "many" in rows else 0
                if "small" not in rows:
                    cfg["n_c1"] = cfg["n_c32"] = 1
                cfg["keys"] = [f"{client}/small-{i}" for i in range(SMALL_KEYS)] + [
                    f"{client}/large"
                ]
                log(
                    f"[{time.perf_counter() - started:5.1f}s] pass {n_pass + 1}/{passes} "
                    f"{target.name}: {client} ..."
                )
                row = _pass_medians(run_worker(cfg, timeout=300 if quick else 900), n_pass)
                loads.append(os.getloadavg()[0])
                per_client[client] = _merge(per_client.get(client), row)


def run(
    clients: Sequence[str],
    servers: Sequence[str],
    quick: bool,
    log: Callable[[str], None],
    schemes: Sequence[str] = ("http", "https"),
    rows: Sequence[str] = ROWS,
    command: str = "",
    passes: int = 5,
) -> dict[str, Any]:
    """A whole run: every client on every server, then start-up and signing; the results.

    Args:
        clients: the clients' names, in run order.
        servers: "sink" and/or "seaweedfs".
        quick: a smoke run (fewer requests, smaller objects, one pass).
        log: where progress lines go.
        schemes: "http" and/or "https": each server is measured over each.
        rows: the row groups to run (see ``ROWS``).
        command: the command line, for the report.
        passes: passes through all the clients for the small requests (default 5).
    """
    started = time.perf_counter()
    results: dict[str, Any] = {
        "meta": {
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_before": os.getloadavg()[0],
            "quick": quick,
            "command": command or "python benchmarks/run.py" + (" --quick" if quick else ""),
            "schemes": list(schemes),
            "rows": list(rows),
        },
        "servers": {},
    }

    log("preparing the start-up environment ...")
    startup_py, results["meta"]["startup_env"] = startup_python()
    loads = [os.getloadavg()[0]]
    with running(servers, schemes, log) as (sink_url, targets):
        _passes(results, targets, clients, quick, log, started, rows, loads, passes)
        for per_client in results["servers"].values():
            for row in per_client.values():
                _summarise(row)
        log(f"[{time.perf_counter() - started:5.1f}s] time to first response ...")
        results["cold_start"] = measure_cold_start(clients, quick, sink_url, startup_py)

    log(f"[{time.perf_counter() - started:5.1f}s] import times ...")
    results["imports"] = measure_imports(3 if quick else 9, quick, startup_py)
    log(f"[{time.perf_counter() - started:5.1f}s] signing ...")
    results["signing"] = measure_signing(quick)
    results["meta"]["seconds"] = round(time.perf_counter() - started, 1)
    results["meta"]["load_after"] = os.getloadavg()[0]
    loads.append(os.getloadavg()[0])
    results["meta"]["load_during"] = [min(loads), statistics.median(loads), max(loads)]
    return results
