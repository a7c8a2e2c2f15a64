"""The issue-8 targets (and issue 17's, ``targets17``), each measured, from one run's numbers.

Per-request and list ratios are paired by pass: the median, over the passes, of the ratio
of the two clients' figures within the same pass.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from .clients import CLIENTS, IMPORTS
from .common import MIB, SMALL_OPS
from .targets17 import evaluate_issue17

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
    out += evaluate_issue17(results)
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
