"""Time to first response, paired before/after: fresh processes, alternating trees.

Each measurement is one fresh process doing what ``run.py --cold-start`` does (the start-up
row of ``run.py``: the runner's own imports are loaded, then the clock starts, and r2async is
imported, ``R2Client`` built and one 1 KiB ``get_object`` answered by the sink), except that
it exits right after that first response (no ``aclose``, no interpreter teardown), so that
instruction counts cover the same work as the timed span, plus the fixed start-up.
Pairs alternate between this working tree and a baseline revision (``--base``, extracted with
``git archive``; each tree's ``src`` is put first on the child's ``PYTHONPATH``), every other
pair in reverse order. Reported: the child's wall and CPU time of the timed span (CPU of all
its threads, ``time.process_time``), the whole process's CPU (``getrusage``: interpreter
start-up included, the same in both trees), medians with min-max, and the median of the
per-pair ratios. The machine is shared: wall times move with its load, CPU time much less,
and ``--instructions`` counts the whole child's instructions under valgrind (cachegrind),
which does not move with the load at all.

Run it with the lean start-up interpreter (``benchmarks/.startup-venv``, built by the runner:
the clients and their runtime dependencies only, as a user's install), or give one::

    .venv/bin/python benchmarks/bench_startup.py --base main --pairs 15
    .venv/bin/python benchmarks/bench_startup.py --base main --instructions --pairs 3
    .venv/bin/python benchmarks/bench_startup.py --python /path/to/venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from harness.common import SINK_CREDS, worker_cfg  # noqa: E402
from harness.servers import start_sink  # noqa: E402
from harness.startup import STARTUP_VENV  # noqa: E402


def _tree(rev: str) -> Path:
    """The ``src`` directory of revision ``rev``, extracted once into the temp directory."""
    commit = subprocess.run(
        ["git", "rev-parse", rev], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    dest = Path(tempfile.gettempdir()) / f"r2async-src-{commit[:12]}"
    if not (dest / "src" / "r2async").exists():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", commit, "src"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "src"


async def _cold(cfg: dict[str, Any]) -> dict[str, Any]:
    # run.py's cold_request, ending at the first response: the process exits right after,
    # so that an instruction count covers the start-up, the preloads and this span only
    # (not the background loads r2async starts after its first answer, nor the teardown).
    import time

    from harness.clients import ADAPTERS

    wall, cpu = time.perf_counter(), time.process_time()
    if not cfg["client"]:  # the fixed part alone: start-up and preloads
        return {"wall_ms": 0.0, "cpu_ms": 0.0, "bytes": 0}
    adapter = ADAPTERS[cfg["client"]](cfg)
    await adapter.start()
    size = await adapter.get("cold/object")
    return {
        "wall_ms": (time.perf_counter() - wall) * 1e3,
        "cpu_ms": (time.process_time() - cpu) * 1e3,
        "bytes": size,
    }


def _child(python: str, src: Path, cfg: dict[str, Any], valgrind: bool) -> dict[str, float]:
    """One fresh process: the timed span's wall/CPU ms, and the whole process's CPU ms."""
    # Bytecode cached, as for an installed package (a development shell may set
    # PYTHONDONTWRITEBYTECODE, which would recompile every module each time).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(src)
    cmd = [python, __file__, "--child", json.dumps(cfg)]
    if valgrind:
        cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]
        cmd += [python, __file__, "--child", json.dumps(cfg)]
    # The CPU of reaped children grows by this child's alone (the sink is reaped last).
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out, err = proc.stdout, proc.stderr
    if proc.returncode != 0:
        raise RuntimeError(err[-3000:])
    row: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    if valgrind:
        match = re.search(r"I\s+refs:\s+([\d,]+)", err)
        assert match, err[-2000:]
        row["instructions"] = float(match.group(1).replace(",", ""))
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    row["process_cpu_ms"] = cpu * 1e3
    return row


def _loadavg() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", help="a git revision to compare with (paired runs)")
    parser.add_argument("--pairs", type=int, default=15, help="fresh processes per tree")
    parser.add_argument("--python", help="interpreter (default: benchmarks/.startup-venv)")
    parser.add_argument("--client", default="r2async", help="harness client (default r2async)")
    parser.add_argument("--instructions", action="store_true", help="count under valgrind")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import asyncio

        # What run.py --cold-start has loaded before its clock starts (its own imports).
        import run  # noqa: F401

        print(json.dumps(asyncio.run(_cold(json.loads(args.child)))), flush=True)
        os._exit(0)

    python = args.python or str(STARTUP_VENV / "bin" / "python")
    if not Path(python).exists():
        sys.exit(f"{python} is missing: run benchmarks/run.py once, or pass --python")
    trees: list[tuple[str, Path]] = [("this tree", ROOT / "src")]
    if args.base:
        trees.append((args.base, _tree(args.base)))
    proc, endpoint = start_sink()
    load_before = _loadavg()
    try:
        cfg = worker_cfg(True, "sink", endpoint, SINK_CREDS)
        cfg["client"] = args.client
        for _, src in trees:  # unmeasured: writes the bytecode, warms the file cache
            _child(python, src, cfg, False)
        fixed = None
        if args.instructions:
            fixed = _child(python, ROOT / "src", {**cfg, "client": ""}, True)["instructions"]
        rows: dict[str, list[dict[str, float]]] = {label: [] for label, _ in trees}
        for i in range(args.pairs):
            for label, src in trees if i % 2 == 0 else trees[::-1]:
                rows[label].append(_child(python, src, cfg, args.instructions))
    finally:
        proc.kill()
        proc.wait()
    print(
        f"time to first response ({args.client}, sink, {python}), {args.pairs} fresh processes "
        f"per tree, alternating; load average before {load_before}, after {_loadavg()}"
    )
    keys = ["wall_ms", "cpu_ms", "process_cpu_ms"]
    if fixed is not None:
        keys = ["instructions", "span_instructions"]
        print(f"  the fixed part (interpreter, preloads, no client): {fixed / 1e6:.1f} M")
        for row in (r for label in rows for r in rows[label]):
            row["span_instructions"] = row["instructions"] - fixed
    for label, _ in trees:
        cells = []
        for key in keys:
            vals = [r[key] for r in rows[label] if key in r]
            scale = 1e6 if key.endswith("instructions") else 1
            cells.append(
                f"{key} {statistics.median(vals) / scale:.1f} "
                f"({min(vals) / scale:.1f}-{max(vals) / scale:.1f})"
            )
        print(
            f"  {label:>12}: "
            + "  ".join(cells)
            + ("  (instructions in millions)" * args.instructions)
        )
    if len(trees) == 2:
        new, old = (label for label, _ in trees)
        cells = []
        for key in keys:
            ratios = [
                a[key] / b[key] for a, b in zip(rows[new], rows[old], strict=True) if key in a
            ]
            cells.append(
                f"{key} {statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})"
            )
        print(f"  {'paired ratio':>12}: " + "  ".join(cells))


if __name__ == "__main__":
    main()
