"""The issue-17 sections of the report: spreads, streamed GET variants, many objects, bulk."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .clients import CLIENTS
from .common import MIB, SINK_WRITES, STREAM_CHUNKS


def spread(values: Sequence[float] | None, fmt: str) -> str:
    """``min-max`` of the values (the per-pass or per-round spread), '' for fewer than 2."""
    if not values or len(values) < 2 or min(values) == max(values):
        return ""
    return f" ({format(min(values), fmt)}-{format(max(values), fmt)})"


def _kib(n: int) -> str:
    return f"{n // MIB} MiB" if n >= MIB and n % MIB == 0 else f"{n // 1024} KiB"


def stream_variant_lines(server: str, rows: dict[str, Any]) -> list[str]:
    """One table: streamed GET CPU-s/GiB per chunk size asked and server write piece."""
    with_variants = {c: r["stream_variants"] for c, r in rows.items() if r.get("stream_variants")}
    if not with_variants:
        return []
    writes: Sequence[int | None] = SINK_WRITES if server.startswith("sink") else (None,)
    columns = [(w, c) for w in writes for c in STREAM_CHUNKS]

    def title(write: int | None, chunk: int) -> str:
        head = f"{_kib(chunk)} chunks"
        return head if write is None else f"{head}, server writes {_kib(write)}"

    size = next((r["large"]["stream"]["size"] for r in rows.values() if "large" in r), 0)
    lines = [
        "",
        f"## {server}: streamed GET of the {size // MIB} MiB object, CPU-s/GiB by chunk size"
        + (" and server write size" if server.startswith("sink") else ""),
        "",
        "The same read, asked for in different chunk sizes"
        + (
            " and served in 1 MiB or 16 KiB writes (a GET of `key~w<N>`; over TLS each 16 KiB "
            "write is one record)"
            if server.startswith("sink")
            else ""
        )
        + ": the range a user sees. Median of the rounds (min-max). The floors are not "
        "repeated here: they take whatever arrives.",
        "",
        "| client | " + " | ".join(title(w, c) for w, c in columns) + " | worst / best |",
        "|---|" + "--:|" * (len(columns) + 1),
    ]
    for client, variants in with_variants.items():
        cells, medians = [], []
        for w, c in columns:
            v = variants.get(f"{w or 0}/{c}")
            if v is None:
                cells.append("-")
                continue
            medians.append(v["cpu_s_gib"])
            cells.append(f"{v['cpu_s_gib']:.2f}{spread(v.get('cpu_s_gib_range'), '.2f')}")
        ratio = f"{max(medians) / min(medians):.1f}x" if medians and min(medians) else "-"
        lines.append(f"| {CLIENTS[client]} | " + " | ".join(cells) + f" | {ratio} |")
    return lines


def many_lines(server: str, rows: dict[str, Any]) -> list[str]:
    """One table: many distinct 1 KiB objects PUT then GET through one client at c=64."""
    with_many = {c: r["many"] for c, r in rows.items() if r.get("many")}
    if not with_many:
        return []
    first = next(iter(with_many.values()))
    lines = [
        "",
        f"## {server}: {first['n']:,} objects of 1 KiB, PUT then GET, concurrency "
        f"{first['concurrency']}, one client",
        "",
        "| client | PUT ops/s | PUT CPU ms/op | GET ops/s | GET CPU ms/op | PUT s | GET s |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for client, m in with_many.items():
        lines.append(
            f"| {CLIENTS[client]} | {m['put']['ops_s']:,.0f} | {m['put']['cpu_ms']:.3f} | "
            f"{m['get']['ops_s']:,.0f} | {m['get']['cpu_ms']:.3f} | "
            f"{m['put']['seconds']:.1f} | {m['get']['seconds']:.1f} |"
        )
    return lines


def bulk_lines(bulk: dict[str, Any]) -> list[str]:
    """One table: bench_transfer.py --defaults (1 GiB upload_file / download_file)."""
    if not bulk:
        return []
    if "error" in bulk:
        return ["", "## Bulk: 1 GiB file transfers", "", f"Failed: {bulk['error']}"]
    lines = [
        "",
        f"## Bulk: {bulk['size'] // MIB:,} MiB file transfers with default settings, SeaweedFS",
        "",
        "`benchmarks/bench_transfer.py --defaults` (run by `run.py --rows bulk`): each "
        "client's own defaults (r2async `upload_file`/`download_file`; obstore `put_async` of "
        "the path and a streamed `get_async` into the file; `s5cmd cp`), a fresh process per "
        f"transfer, median of {bulk['rounds']} (min-max). CPU is the client process's (s5cmd: "
        "the child's rusage).",
        "",
        "| scheme | client | direction | wall s | MB/s | CPU-s | CPU-s/GiB | peak +MiB |",
        "|---|---|---|--:|--:|--:|--:|--:|",
    ]
    for row in bulk["rows"]:
        if "error" in row:
            lines.append(
                f"| {row['scheme']} | {row['client']} | {row['direction']} | "
                f"error: {row['error']} | | | | |"
            )
            continue
        gib = bulk["size"] / (1024 * MIB)
        lines.append(
            f"| {row['scheme']} | {row['client']} | {row['direction']} | "
            f"{row['seconds']:.2f}{spread(row.get('seconds_all'), '.2f')} | "
            f"{bulk['size'] / 1e6 / row['seconds']:,.0f} | "
            f"{row['cpu']:.2f}{spread(row.get('cpu_all'), '.2f')} | {row['cpu'] / gib:.2f} | "
            f"{row['rss_peak_over_baseline'] / MIB:,.0f} |"
        )
    return lines
