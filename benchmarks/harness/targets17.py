"""The issue-17 targets, each met or not, over HTTP and over HTTPS, from one run's numbers.

Servers come in pairs: ``sink`` / ``sink-https`` and ``seaweedfs`` / ``seaweedfs-https``; a
target that names a bound over HTTPS relative to a peer compares with that peer's figure on
the same HTTPS server in the same run.
"""

from __future__ import annotations

import statistics
from typing import Any

from .common import MIB

DEFAULT, FAST = "r2async", "r2async-fast"
LABEL = {DEFAULT: "default transport", FAST: "aiohttp transport"}


def _verdict(name: str, measured: str, met: bool | None, detail: str = "") -> dict[str, Any]:
    status = "n/a" if met is None else ("met" if met else "not met")
    return {"target": name, "measured": measured, "status": status, "detail": detail}


def _row(results: dict[str, Any], server: str, client: str) -> dict[str, Any]:
    row: dict[str, Any] = results["servers"].get(server, {}).get(client, {})
    return row


def _large(results: dict[str, Any], server: str, client: str, op: str) -> dict[str, Any] | None:
    large: dict[str, Any] | None = _row(results, server, client).get("large", {}).get(op)
    return large


def _paired_small(results: dict[str, Any], server: str, a: str, b: str, op: str) -> float | None:
    """Median over passes of the within-pass ratio of CPU per request (a / b)."""
    x = _row(results, server, a).get("small", {}).get(op, {})
    y = _row(results, server, b).get("small", {}).get(op, {})
    xa, ya = x.get("cpu_ms_by_pass", {}), y.get("cpu_ms_by_pass", {})
    ratios = [xa[n] / ya[n] for n in xa.keys() & ya.keys() if ya[n]]
    if ratios:
        return statistics.median(ratios)
    if x.get("cpu_ms") and y.get("cpu_ms"):
        return float(x["cpu_ms"]) / float(y["cpu_ms"])
    return None


def _is_https(server: str) -> bool:
    return server.endswith("-https")


def _get_object(results: dict[str, Any], server: str) -> list[dict[str, Any]]:
    out = []
    peer = _large(results, server, "obstore", "get")
    for client in (DEFAULT, FAST):
        get = _large(results, server, client, "get")
        if get is None:
            continue
        size_mib = get["size"] / MIB
        bound = 1.1 * size_mib + 8
        out.append(
            _verdict(
                f"[{server}] get_object peak <= 1.1x size + 8 MiB ({LABEL[client]})",
                f"+{get['peak_mib']:.1f} MiB for {size_mib:.0f} MiB (bound {bound:.1f})",
                get["peak_mib"] <= bound,
            )
        )
        if peer:
            ratio = get["cpu_s_gib"] / peer["cpu_s_gib"]
            out.append(
                _verdict(
                    f"[{server}] get_object CPU/GiB <= 1.25x obstore ({LABEL[client]})",
                    f"{ratio:.2f}x ({get['cpu_s_gib']:.2f} vs {peer['cpu_s_gib']:.2f})",
                    ratio <= 1.25,
                )
            )
    return out


def _stream(results: dict[str, Any], server: str) -> list[dict[str, Any]]:
    out = []
    https = _is_https(server)
    for client, http_bound, https_peer in ((DEFAULT, 1.0, "aiobotocore"), (FAST, 0.5, "obstore")):
        mine = _large(results, server, client, "stream")
        if mine is None:
            continue
        variants = _row(results, server, client).get("stream_variants", {})
        worst = max((v["cpu_s_gib"] for v in variants.values()), default=None)
        detail = f"worst of the chunk/write variants: {worst:.2f}" if worst is not None else ""
        if https:
            peer = _large(results, server, https_peer, "stream")
            bound = peer["cpu_s_gib"] if peer else None
            name = f"<= {https_peer}'s"
        else:
            bound, name = http_bound, f"<= {http_bound}"
        out.append(
            _verdict(
                f"[{server}] streamed GET CPU-s/GiB {name} ({LABEL[client]})",
                f"{mine['cpu_s_gib']:.2f}" + (f" vs {bound:.2f}" if bound is not None else ""),
                None if bound is None else mine["cpu_s_gib"] <= bound,
                detail,
            )
        )
    return out


def _small(results: dict[str, Any], server: str) -> list[dict[str, Any]]:
    out = []
    for ours, theirs, limit, ops in (
        (DEFAULT, "miniopy-async", 1.0, ("put_c1", "get_c1", "put_c32", "get_c32")),
        (FAST, "obstore", 1.25, ("put_c1", "get_c1", "put_c32", "get_c32")),
    ):
        ratios = {op: r for op in ops if (r := _paired_small(results, server, ours, theirs, op))}
        if not ratios:
            continue
        worst = max(ratios.values())
        out.append(
            _verdict(
                f"[{server}] small requests CPU <= {limit:g}x {theirs} ({LABEL[ours]})",
                f"worst {worst:.2f}x",
                worst <= limit,
                ", ".join(f"{op} {r:.2f}x" for op, r in ratios.items()),
            )
        )
    return out


def _many(results: dict[str, Any], server: str) -> list[dict[str, Any]]:
    out = []
    peer = _row(results, server, "obstore").get("many")
    if not peer:
        return out
    for client in (DEFAULT, FAST):
        mine = _row(results, server, client).get("many")
        if not mine:
            continue
        ratios = {op: mine[op]["ops_s"] / peer[op]["ops_s"] for op in ("put", "get")}
        worst = min(ratios.values())
        out.append(
            _verdict(
                f"[{server}] {mine['n']:,} objects at c=64: ops/s >= 0.8x obstore "
                f"({LABEL[client]})",
                f"worst {worst:.2f}x",
                worst >= 0.8,
                ", ".join(
                    f"{op} {mine[op]['ops_s']:,.0f} vs {peer[op]['ops_s']:,.0f}/s"
                    for op in ("put", "get")
                ),
            )
        )
    return out


def _bulk(results: dict[str, Any]) -> list[dict[str, Any]]:
    bulk = results.get("bulk") or {}
    out: list[dict[str, Any]] = []
    rows = [r for r in bulk.get("rows", []) if "error" not in r]
    gib = bulk.get("size", 0) / (1024 * MIB)
    for scheme in ("http", "https"):
        for direction in ("upload", "download"):
            group = [r for r in rows if r["scheme"] == scheme and r["direction"] == direction]
            if not group:
                continue
            best_wall = min(r["seconds"] for r in group)
            best_cpu = min(r["cpu"] for r in group)
            for r in group:
                if not r["client"].startswith("r2async"):
                    continue
                wall, cpu = r["seconds"] / best_wall, r["cpu"] / best_cpu
                out.append(
                    _verdict(
                        f"[bulk {scheme}] {direction}_file {bulk['size'] // MIB} MiB within "
                        f"1.25x of the best, wall and CPU ({r['client']})",
                        f"wall {wall:.2f}x, CPU {cpu:.2f}x",
                        wall <= 1.25 and cpu <= 1.25,
                        f"{r['seconds']:.2f} s, {r['cpu']:.2f} CPU-s; best "
                        f"{best_wall:.2f} s, {best_cpu:.2f} CPU-s",
                    )
                )
            if direction != "download":
                continue
            # Streamed-GET bounds apply to download_file too (CPU-s per GiB).
            for r in group:
                if r["client"] == "r2async":
                    bound = 1.0 if scheme == "http" else 1.5
                    name = "<= 1.0" if scheme == "http" else "<= 1.5 (aiobotocore's over HTTPS)"
                elif r["client"].startswith("r2async"):
                    peer = next((p for p in group if p["client"] == "obstore"), None)
                    bound = 0.5 if scheme == "http" else (peer["cpu"] / gib if peer else None)
                    name = "<= 0.5" if scheme == "http" else "<= obstore's"
                else:
                    continue
                per_gib = r["cpu"] / gib
                out.append(
                    _verdict(
                        f"[bulk {scheme}] download_file CPU-s/GiB {name} ({r['client']})",
                        f"{per_gib:.2f}" + (f" vs {bound:.2f}" if bound is not None else ""),
                        None if bound is None else per_gib <= bound,
                    )
                )
    return out


def evaluate_issue17(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each issue-17 target with its measured figure and met / not met."""
    out: list[dict[str, Any]] = []
    for server in results["servers"]:
        out += _get_object(results, server)
        out += _stream(results, server)
        out += _small(results, server)
        out += _many(results, server)
    out += _bulk(results)
    cold = results.get("cold_start", {}).get(DEFAULT)
    if cold and "wall_ms" in cold:
        out.append(
            _verdict(
                "time to first response <= 120 ms (default transport, fresh process, sink)",
                f"{cold['wall_ms']:.1f} ms (best {cold['min_wall_ms']:.1f} ms)",
                cold["wall_ms"] <= 120,
            )
        )
    return out
