"""``bench_transfer.py --defaults``: 1 GiB file transfers with each client's default settings.

Issue 17's bulk row: r2async's ``upload_file``/``download_file`` untuned (default part size and
concurrency) on both transports, obstore, and ``s5cmd cp`` as the external reference, against
SeaweedFS over HTTP and over HTTPS (a test CA generated at start-up, verified by every client).
Each transfer runs in a fresh process (``bench_transfer.py --worker``) after ``os.sync()``;
rounds alternate the client order. Results: ``benchmarks/results/transfer-defaults.md`` and,
with ``--json``, the rows for ``run.py``'s report.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench_transfer import BUCKET, GiB, MiB, available, make_source, run_job

RESULTS = Path(__file__).parent / "results" / "transfer-defaults.md"


def _clients() -> list[tuple[str, str, dict[str, Any]]]:
    """(label, worker, extra job fields) of each client installed here."""
    out: list[tuple[str, str, dict[str, Any]]] = [("r2async", "r2async", {})]
    if available("aiohttp"):
        out.append(("r2async (aiohttp transport)", "r2async", {"transport": "aiohttp"}))
    if available("obstore"):
        out.append(("obstore", "obstore", {}))
    out.append(("s5cmd", "s5cmd", {}))
    return out


def _summary(label: str, scheme: str, direction: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    row: dict[str, Any] = {"client": label, "scheme": scheme, "direction": direction}
    errors = [r["error"] for r in runs if "error" in r]
    if errors:
        row["error"] = errors[0]
        return row
    for k in ("seconds", "cpu", "user", "sys"):
        row[k] = statistics.median(r[k] for r in runs)
    row["seconds_all"] = [r["seconds"] for r in runs]
    row["cpu_all"] = [r["cpu"] for r in runs]
    row["rss_peak_over_baseline"] = max(r["rss_peak_over_baseline"] for r in runs)
    return row


def run_defaults(
    quick: bool, schemes: list[str], json_path: str | None, rounds: int
) -> dict[str, Any]:
    """Every client, both directions, each scheme; writes the markdown (and the JSON).

    Args:
        quick: 256 MiB instead of 1 GiB.
        schemes: "http" and/or "https".
        json_path: where to write the rows as JSON too (None: not).
        rounds: rounds through the clients (medians, spread).
    """
    from r2async.testing import start_local_server

    size = 256 * MiB if quick else GiB
    clients = _clients()
    rows: list[dict[str, Any]] = []
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="r2async-bench-") as tmp:
        src = Path(tmp) / "source.bin"
        make_source(src, size)
        for scheme in schemes:
            with start_local_server(buckets=[BUCKET], tls=scheme == "https") as server:
                base = {
                    "endpoint": server.endpoint_url,
                    "key_id": server.access_key_id,
                    "secret": server.secret_access_key,
                    "ca_file": str(server.ca_file) if server.tls else None,
                    "defaults": True,
                }
                for direction in ("upload", "download"):
                    runs: dict[str, list[dict[str, Any]]] = {}
                    for n in range(rounds):
                        for label, client, extra in clients if n % 2 == 0 else clients[::-1]:
                            dest = Path(tmp) / "download.bin"
                            # Uploads each to their own key; downloads all read r2async's.
                            key = label.replace(" ", "-") + ".bin"
                            if direction == "download":
                                key = "r2async.bin"
                            path = src if direction == "upload" else dest
                            job = {
                                **base,
                                "client": client,
                                "direction": direction,
                                "key": key,
                                "path": str(path),
                                **extra,
                            }
                            result = run_job(job)
                            if direction == "download" and "error" not in result:
                                got = dest.stat().st_size if dest.exists() else -1
                                if got != size:
                                    result = {"error": f"downloaded {got} bytes, expected {size}"}
                            dest.unlink(missing_ok=True)
                            loads.append(os.getloadavg()[0])
                            runs.setdefault(label, []).append(result)
                            print(scheme, label, direction, result, flush=True)
                    rows += [_summary(label, scheme, direction, r) for label, r in runs.items()]
    out = {
        "size": size,
        "rounds": rounds,
        "rows": rows,
        "load": [min(loads), statistics.median(loads), max(loads)],
    }
    _write_markdown(out)
    if json_path:
        Path(json_path).write_text(json.dumps(out, indent=1) + "\n")
    return out


def _write_markdown(out: dict[str, Any]) -> None:
    size, gib = out["size"], out["size"] / GiB
    lines = [
        "# Transfer benchmark with default settings (issue 17, bulk)",
        "",
        f"{size // MiB} MiB, each client's defaults, SeaweedFS on this machine over HTTP and "
        f"HTTPS; median of {out['rounds']} round(s), min-max in brackets; load average during "
        f"the run {out['load'][0]:.1f}-{out['load'][2]:.1f} (median {out['load'][1]:.1f}).",
        "",
        "| scheme | client | direction | wall s | MB/s | CPU-s | CPU-s/GiB | peak +MiB |",
        "|---|---|---|--:|--:|--:|--:|--:|",
    ]
    for r in out["rows"]:
        if "error" in r:
            lines.append(
                f"| {r['scheme']} | {r['client']} | {r['direction']} | "
                f"error: {r['error']} | | | | |"
            )
            continue
        spread = ""
        if len(r["seconds_all"]) > 1:
            spread = f" ({min(r['seconds_all']):.2f}-{max(r['seconds_all']):.2f})"
        lines.append(
            f"| {r['scheme']} | {r['client']} | {r['direction']} | {r['seconds']:.2f}{spread} | "
            f"{size / 1e6 / r['seconds']:,.0f} | {r['cpu']:.2f} | {r['cpu'] / gib:.2f} | "
            f"{r['rss_peak_over_baseline'] / MiB:,.0f} |"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
