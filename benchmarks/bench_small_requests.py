"""Small requests (1 KiB PUT/GET, c=1 and c=32) against the sink: paired before/after.

Client CPU per request of r2async (both transports) and, for reference, of the peers, each
in a fresh process per round, rounds alternating between this working tree and a baseline
revision (``--base``, extracted with ``git archive`` and put first on the child's
``PYTHONPATH``), every other round in reverse order; medians, and the median of the paired
per-round ratios. On this shared 2-core machine wall-clock figures are noise; CPU time is
steadier, and ``--instructions`` counts instructions per request under valgrind
(cachegrind), which is deterministic enough for an A/B of a few percent.

Run::

    .venv/bin/python benchmarks/bench_small_requests.py                    # this tree only
    .venv/bin/python benchmarks/bench_small_requests.py --base e645217     # paired A/B
    .venv/bin/python benchmarks/bench_small_requests.py --base e645217 --instructions
    .venv/bin/python benchmarks/bench_small_requests.py --profile get_c1   # cProfile top 25
    .venv/bin/python benchmarks/bench_small_requests.py --clients obstore,miniopy
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from harness.common import BUCKET, SINK_CREDS, SMALL_KEYS, SMALL_OPS, SMALL_SIZE  # noqa: E402
from harness.servers import start_sink  # noqa: E402

CLIENTS = {"default": "r2async", "aiohttp": "r2async-fast"}


async def _child(cfg: dict[str, Any]) -> dict[str, Any]:
    from harness.clients import ADAPTERS
    from harness.worker import run_ops

    adapter = ADAPTERS[cfg["client"]](
        {
            "endpoint": cfg["endpoint"],
            "bucket": BUCKET,
            "access_key": SINK_CREDS[0],
            "secret_key": SINK_CREDS[1],
            "presign": False,
        }
    )
    await adapter.start()
    keys = [f"small/{i:03d}" for i in range(SMALL_KEYS)]
    data = os.urandom(SMALL_SIZE)

    async def put(key: str) -> None:
        await adapter.put(key, data)

    async def get(key: str) -> None:
        await adapter.get(key)

    ops = {"put": put, "get": get}
    out: dict[str, Any] = {}
    try:
        for name in cfg["ops"]:
            verb, conc = name.split("_c")
            op, concurrency, n = ops[verb], int(conc), cfg["n"][name]
            await run_ops(op, keys, min(n, 200), concurrency)  # warm-up
            gc.collect()
            profiler = None
            if cfg.get("profile") == name:
                import cProfile

                profiler = cProfile.Profile(time.process_time)
                profiler.enable()
            cpu0 = time.process_time()
            await run_ops(op, keys, n, concurrency)
            cpu = time.process_time() - cpu0
            if profiler is not None:
                import pstats

                profiler.disable()
                stats = pstats.Stats(profiler, stream=sys.stderr)
                stats.sort_stats("tottime").print_stats(cfg.get("top", 25))
                _by_package(stats, n)
            out[name] = cpu / n * 1e3
    finally:
        await adapter.aclose()
    return out


def _by_package(stats: Any, n: int) -> None:
    # Own time and calls per request, summed by the package each function belongs to.
    totals: dict[str, list[float]] = {}
    for (filename, _, _), (_, ncalls, tottime, _, _) in stats.stats.items():
        if "site-packages/" in filename:
            package = filename.split("site-packages/")[1].split("/")[0]
        elif "/src/r2async/" in filename:
            package = "r2async/" + filename.split("/src/r2async/")[1]
        elif filename == "~":
            package = "(C builtins)"
        else:
            package = "stdlib/" + filename.rsplit("/", 1)[-1]
        row = totals.setdefault(package, [0.0, 0.0])
        row[0] += tottime
        row[1] += ncalls
    whole = sum(t for t, _ in totals.values())
    print(f"own time by package (profiled, {n} requests)", file=sys.stderr)
    for package, (tottime, ncalls) in sorted(totals.items(), key=lambda kv: -kv[1][0])[:30]:
        print(
            f"  {tottime / whole:6.1%}  {ncalls / n:7.1f} calls/request  {package}",
            file=sys.stderr,
        )


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


def _run_child(
    cfg: dict[str, Any], src: Path | None, valgrind: bool = False
) -> dict[str, Any] | int:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    cmd = [sys.executable, str(Path(__file__)), "--child", json.dumps(cfg)]
    if valgrind:
        cmd = [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            *cmd,
        ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    if cfg.get("profile"):
        print(proc.stderr, file=sys.stderr)
    if valgrind:
        match = re.search(r"I\s+refs:\s+([\d,]+)", proc.stderr)
        assert match, proc.stderr[-2000:]
        return int(match.group(1).replace(",", ""))
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--base", help="a git revision to compare with (paired rounds)")
    parser.add_argument(
        "--clients",
        default="default,aiohttp",
        help="comma-separated: default, aiohttp, or a harness client (obstore, miniopy, ...)",
    )
    parser.add_argument("--ops", default=",".join(SMALL_OPS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n1", type=int, default=1000, help="requests a round at c=1")
    parser.add_argument("--n32", type=int, default=2000, help="requests a round at c=32")
    parser.add_argument("--profile", help="one op (e.g. get_c1): print cProfile's top entries")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="instructions per request under valgrind (difference of two request counts)",
    )
    args = parser.parse_args()
    if args.child:
        cfg = json.loads(args.child)
        print(json.dumps(asyncio.run(_child(cfg))), flush=True)
        os._exit(0)

    ops = args.ops.split(",")
    clients = [CLIENTS.get(c, c) for c in args.clients.split(",")]
    trees: list[tuple[str, Path | None]] = [("this tree", None)]
    if args.base:
        trees.append((args.base, _tree(args.base)))
    proc, endpoint = start_sink()
    try:
        for client in clients:
            base_cfg = {"client": client, "endpoint": endpoint, "ops": ops}
            if args.profile:
                _run_child(
                    {
                        **base_cfg,
                        "ops": [args.profile],
                        "profile": args.profile,
                        "n": {args.profile: args.n1 if args.profile.endswith("_c1") else args.n32},
                    },
                    None,
                )
                continue
            if args.instructions:
                _instructions(base_cfg, ops, trees, args)
                continue
            results: dict[str, dict[str, list[float]]] = {
                t: {op: [] for op in ops} for t, _ in trees
            }
            n = {op: args.n1 if op.endswith("_c1") else args.n32 for op in ops}
            for rnd in range(args.rounds):
                order = trees if rnd % 2 == 0 else trees[::-1]
                for label, src in order:
                    row = _run_child({**base_cfg, "n": n}, src)
                    assert isinstance(row, dict)
                    for op in ops:
                        results[label][op].append(row[op])
            _report(client, ops, trees, results)
    finally:
        proc.kill()
        proc.wait()


def _instructions(
    base_cfg: dict[str, Any], ops: list[str], trees: list[tuple[str, Path | None]], args: Any
) -> None:
    # Instructions per request: (count at n2 - count at n1) / (n2 - n1), so that start-up,
    # imports and the warm-up cancel out.
    low, high = 100, 600
    print(f"\n{base_cfg['client']}: instructions per request (valgrind, {high}-{low} requests)")
    line = {}
    for label, src in trees:
        line[label] = {}
        for op in ops:
            counts = []
            for n in (low, high):
                cfg = {**base_cfg, "ops": [op], "n": {op: n}}
                count = _run_child(cfg, src, valgrind=True)
                assert isinstance(count, int)
                counts.append(count)
            line[label][op] = (counts[1] - counts[0]) / (high - low)
        print(f"  {label:>12}: " + "  ".join(f"{op} {line[label][op]:>9,.0f}" for op in ops))
    if len(trees) == 2:
        new, old = (t for t, _ in trees)
        print(
            f"  {'ratio':>12}: "
            + "  ".join(f"{op} {line[new][op] / line[old][op]:>9.3f}" for op in ops)
        )


def _report(
    client: str,
    ops: list[str],
    trees: list[tuple[str, Path | None]],
    results: dict[str, dict[str, list[float]]],
) -> None:
    rounds = len(results[trees[0][0]][ops[0]])
    print(f"\n{client}: client CPU ms per request, median of {rounds} rounds")
    for label, _ in trees:
        cells = []
        for op in ops:
            vals = results[label][op]
            cells.append(f"{op} {statistics.median(vals):.3f} ({min(vals):.3f}-{max(vals):.3f})")
        print(f"  {label:>12}: " + "  ".join(cells))
    if len(trees) == 2:
        new, old = (t for t, _ in trees)
        cells = []
        for op in ops:
            ratios = [a / b for a, b in zip(results[new][op], results[old][op], strict=True)]
            cells.append(f"{op} {statistics.median(ratios):.3f}")
        print(f"  {'paired ratio':>12}: " + "  ".join(cells))


if __name__ == "__main__":
    main()
