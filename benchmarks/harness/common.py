"""The workload's constants and paths, shared by the runner, the workers and the adapters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent.parent
ROOT = BENCH_DIR.parent
# Workers and fresh start-up processes are launched through the entry point, so that the
# command line stays the one documented in benchmarks/README.md.
RUN_PY = BENCH_DIR / "run.py"

SMALL_SIZE = 1024
MIB = 1024 * 1024
GIB = 1024 * MIB
BUCKET = "bench"
LIST_PREFIX = "list/"
LIST_KEYS = 1000
SMALL_KEYS = 64
STREAM_CHUNK = 256 * 1024
SMALL_OPS = ("put_c1", "get_c1", "put_c32", "get_c32")
# The sink checks no signature: any well-formed key pair does.
SINK_CREDS = ("AKIDBENCHMARK", "benchmark-secret")


class Skip(Exception):
    """The client cannot run here (not installed): noted in the table, not an error."""


def worker_cfg(quick: bool, target: str, endpoint: str, creds: tuple[str, str]) -> dict[str, Any]:
    """What one worker is told: the server, the key pair and the workload's sizes."""
    large = (8 if quick else 64) * MIB
    return {
        "quick": quick,
        "target": target,
        "endpoint": endpoint,
        "bucket": BUCKET,
        "access_key": creds[0],
        "secret_key": creds[1],
        # SeaweedFS refuses unsigned requests: the floors presign their URLs before timing.
        "presign": target == "seaweedfs",
        "rounds": 1,
        "n_c1": 150 if quick else 600,
        "n_c32": 300 if quick else 1500,
        "list_rounds": 3 if quick else 7,
        "large_size": large,
        "large_rounds": 1 if quick else 3,
        "small_only": False,
    }
