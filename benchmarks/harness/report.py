"""The report: markdown tables, the chart, and the results block of benchmarks/README.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .clients import CLIENTS, IMPORTS
from .common import BENCH_DIR, MIB, SMALL_OPS
from .report_rows import bulk_lines, many_lines, spread, stream_variant_lines


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
    during = meta.get("load_during")
    load = (
        f"; during the run min {during[0]:.1f}, median {during[1]:.1f}, max {during[2]:.1f}"
        if during
        else ""
    )
    lines = [
        "# r2async benchmarks",
        "",
        f"Run `{meta['command']}` on {meta['time']}: Python {meta['python']}, "
        f"{meta['cpus']} CPUs, {meta['platform']}; load average {meta['load_before']:.1f} "
        f"before and {meta['load_after']:.1f} after{load} ({meta['seconds']:.0f} s).",
        "",
        "Client CPU is the client process's CPU time (all threads) per operation; the server "
        "runs in another process. Medians of the rounds, with the spread over the rounds "
        "(min-max: over the passes for the small requests, over the rounds for the large "
        "object) in brackets: the range a user may see, not only the best case. "
        "`-https` servers are the same server over TLS with a test CA generated for the run, "
        "which every client verifies.",
    ]
    small_rows = "small" in meta.get("rows", ["small"])
    for server, rows in results["servers"].items():
        if not small_rows:
            lines += _large_lines(server, rows)
            lines += stream_variant_lines(server, rows)
            lines += many_lines(server, rows)
            continue
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
            cpu = [
                _cell(small[op]["cpu_ms"], ".3f") + spread(small[op].get("cpu_ms_rounds"), ".3f")
                for op in SMALL_OPS
            ]
            ops = [_cell(small[op]["ops_s"], ",.0f") for op in SMALL_OPS]
            lines.append(
                f"| {CLIENTS[client]} | "
                + " | ".join(cpu + ops)
                + f" | {_cell(row.get('list_cpu_ms'), '.2f')} |"
            )
        lines += _large_lines(server, rows)
        lines += stream_variant_lines(server, rows)
        lines += many_lines(server, rows)
        notes = [f"{CLIENTS[c]}: {r['note']}" for c, r in rows.items() if r.get("note")]
        if notes:
            lines += ["", "Notes: " + "; ".join(notes) + "."]
    lines += bulk_lines(results.get("bulk", {}))
    lines += _startup_lines(results)
    return "\n".join(lines) + "\n"


def _large_lines(server: str, rows: dict[str, Any]) -> list[str]:
    if not any("large" in r for r in rows.values()):
        return []
    size = next((r["large"]["put"]["size"] for r in rows.values() if "large" in r), 64 * MIB)
    lines = [
        "",
        f"## {server}: one {size // MIB} MiB object",
        "",
        "| client | PUT MB/s | PUT CPU-s/GiB | PUT peak +MiB | GET MB/s | GET CPU-s/GiB "
        "| GET peak +MiB | stream MB/s | stream CPU-s/GiB | stream peak +MiB |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for client, row in rows.items():
        status = _client_status(row)
        if status or "large" not in row:
            lines.append(f"| {CLIENTS[client]} | {status or 'not run'} |" + " |" * 8)
            continue
        cells = []
        for op in ("put", "get", "stream"):
            r = row["large"][op]
            cells += [
                _cell(r["mb_s"], ",.0f"),
                _cell(r["cpu_s_gib"], ".2f") + spread(r.get("cpu_s_gib_range"), ".2f"),
                _cell(r["peak_mib"], ".1f"),
            ]
        lines.append(f"| {CLIENTS[client]} | " + " | ".join(cells) + " |")
    return lines


def _startup_lines(results: dict[str, Any]) -> list[str]:
    lines = [
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
    return lines


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


def write(results: dict[str, Any], out: Path) -> None:
    """results.json, results.md, chart.png, and the README block when writing the default."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    markdown = render_markdown(results)
    (out / "results.md").write_text(markdown)
    chart = render_chart(results, out / "chart.png")
    if out.resolve() == (BENCH_DIR / "results").resolve():
        _refresh_readme(markdown, chart is not None)
    print(markdown)


_BEGIN = "<!-- results:begin"
_END = "<!-- results:end -->"


def _refresh_readme(markdown: str, chart: bool) -> None:
    """Put this run's tables (and chart) into benchmarks/README.md between its markers."""
    readme = BENCH_DIR / "README.md"
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
