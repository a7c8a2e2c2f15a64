"""Start-up rows: import time and time to first response, each in fresh processes.

Measured in a lean venv (``benchmarks/.startup-venv``) holding only the clients and their
runtime dependencies, as a user's install would: the development venv also holds trio, click
and pygments, which httpx and httpcore import when present (70 ms and 14 ms here), which
would be the test tools' cost, not the client's.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from .clients import ADAPTERS, IMPORTS
from .common import BENCH_DIR, ROOT, RUN_PY, SINK_CREDS, worker_cfg

STARTUP_VENV = BENCH_DIR / ".startup-venv"


def _installed(dist: str) -> bool:
    import importlib.metadata as md

    try:
        md.version(dist)
    except md.PackageNotFoundError:
        return False
    return True


def startup_python() -> tuple[str, str]:
    """An interpreter for start-up measurements, and a note saying which environment it is."""
    import hashlib
    import importlib.metadata as md

    pins = []
    for dist in md.distributions():
        name = dist.metadata["Name"]
        if name and name.lower() != "r2async":
            pins.append(f"{name}=={dist.version}")
    pins.sort(key=str.lower)
    # The peers' distributions, from their adapters (r2async[fast] covers the floors).
    peers = [d for cls in ADAPTERS.values() for d in cls.startup_dists if _installed(d)]
    # Editable, so that the measured r2async is this working tree, not a copy of it.
    wanted = ["-e", f"{ROOT}[fast]", *peers]
    stamp = hashlib.sha256(
        "\n".join([*pins, *wanted, (ROOT / "pyproject.toml").read_text()]).encode()
    ).hexdigest()
    python = STARTUP_VENV / "bin" / "python"
    marker = STARTUP_VENV / "stamp"
    if not (python.exists() and marker.exists() and marker.read_text() == stamp):
        try:
            subprocess.run(
                [sys.executable, "-m", "venv", "--clear", str(STARTUP_VENV)],
                check=True,
                capture_output=True,
                timeout=300,
            )
            constraints = STARTUP_VENV / "constraints.txt"
            constraints.write_text("\n".join(pins) + "\n")
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", "-c", str(constraints), *wanted],
                check=True,
                capture_output=True,
                timeout=900,
            )
            marker.write_text(stamp)
        except (OSError, subprocess.SubprocessError) as exc:
            return sys.executable, (
                f"start-up measured in the development environment ({type(exc).__name__} "
                "building benchmarks/.startup-venv): trio, click and pygments there add to httpx"
            )
    return str(python), (
        "start-up measured in benchmarks/.startup-venv: the clients and their runtime "
        "dependencies only, same versions as the run"
    )


def fresh_runs(cmd: list[str], runs: int) -> dict[str, Any]:
    """Run ``cmd`` (whose last stdout line is JSON with wall_ms and cpu_ms) in fresh processes.

    As an installed package runs: bytecode cached (a development environment may set
    PYTHONDONTWRITEBYTECODE, which would recompile every edited module each time), and one
    unmeasured run first to write it and warm the file cache. Medians of ``runs``.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(cmd, capture_output=True, env=env, cwd=ROOT, timeout=120)
    walls, cpus = [], []
    for _ in range(runs):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        lines = proc.stdout.strip().splitlines()
        if proc.returncode != 0 or not lines or not lines[-1].startswith("{"):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            return {"error": tail[0][:200]}
        row = json.loads(lines[-1])
        walls.append(row["wall_ms"])
        cpus.append(row["cpu_ms"])
    return {
        "wall_ms": statistics.median(walls),
        "cpu_ms": statistics.median(cpus),
        "min_wall_ms": min(walls),
        "runs": runs,
    }


def measure_imports(runs: int, quick: bool, python: str) -> dict[str, Any]:
    """Each start-up row's import statement, timed in fresh interpreters (median)."""
    out: dict[str, Any] = {}
    for name, stmt in IMPORTS.items():
        code = (
            "import time\n"
            "w, c = time.perf_counter(), time.process_time()\n"
            f"{stmt}\n"
            "w, c = time.perf_counter() - w, time.process_time() - c\n"
            # JSON by hand: importing json first would preload it for the timed statement.
            'print(\'{"wall_ms": %r, "cpu_ms": %r}\' % (w * 1e3, c * 1e3))\n'
        )
        n = runs if (name.startswith("r2async") or not quick) else 1
        out[name] = fresh_runs([python, "-c", code], n)
    return out


def measure_cold_start(
    clients: Sequence[str], quick: bool, endpoint: str, python: str
) -> dict[str, Any]:
    """Time to first response: import, construct and one 1 KiB GET, each in a fresh process."""
    out: dict[str, Any] = {}
    runs = 3 if quick else 9
    for client in clients:
        cfg = worker_cfg(quick, "sink", endpoint, SINK_CREDS)
        cfg["client"] = client
        cfg["keys"] = ["cold/object"]
        cmd = [python, str(RUN_PY), "--cold-start", json.dumps(cfg)]
        out[client] = fresh_runs(cmd, runs)
    return out
