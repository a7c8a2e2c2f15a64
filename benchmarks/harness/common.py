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


# Many objects (issue 17): distinct 1 KiB keys PUT then GET at this concurrency, one client.
MANY_OBJECTS = 10_000
MANY_OBJECTS_QUICK = 1_000
MANY_CONCURRENCY = 64
MANY_CLIENTS = ("r2async", "r2async-fast", "obstore", "aiobotocore")
# Streamed GET variants (issue 17: "the range a user will see"): chunk sizes asked of the
# client, and the sink's write piece (a GET of ``key~w<N>``): 1 MiB writes, or 16 KiB ones
# (one TLS record each, the way many servers write).
STREAM_CHUNKS = (64 * 1024, 256 * 1024, 1024 * 1024)
SINK_WRITES = (1024 * 1024, 16 * 1024)
STREAM_CLIENTS = ("r2async", "r2async-fast", "aiobotocore", "obstore", "miniopy-async")

_SSL_CONTEXTS: dict[str, Any] = {}


class Skip(Exception):
    """The client cannot run here (not installed): noted in the table, not an error."""


def client_ssl_context(cfg: dict[str, Any]) -> Any:
    """A verifying ``ssl.SSLContext`` trusting the run's test CA (None over plain HTTP).

    One per process (building one loads a CA file): every Python client over HTTPS gets the
    same standard-library defaults, so the TLS settings are not what differs between them.
    """
    ca_file = cfg.get("ca_file")
    if not ca_file:
        return None
    context = _SSL_CONTEXTS.get(ca_file)
    if context is None:
        import ssl

        context = _SSL_CONTEXTS[ca_file] = ssl.create_default_context(cafile=ca_file)
    return context


def worker_cfg(
    quick: bool, target: str, endpoint: str, creds: tuple[str, str], ca_file: str | None = None
) -> dict[str, Any]:
    """What one worker is told: the server, the key pair, the CA to trust and the sizes."""
    large = (8 if quick else 64) * MIB
    return {
        "quick": quick,
        "target": target,
        "endpoint": endpoint,
        "ca_file": ca_file,
        "bucket": BUCKET,
        "access_key": creds[0],
        "secret_key": creds[1],
        # SeaweedFS refuses unsigned requests: the floors presign their URLs before timing.
        "presign": target.startswith("seaweedfs"),
        "rounds": 1,
        "n_c1": 150 if quick else 600,
        "n_c32": 300 if quick else 1500,
        "list_rounds": 3 if quick else 7,
        "large_size": large,
        "large_rounds": 1 if quick else 3,
        "small_only": False,
        "many": MANY_OBJECTS_QUICK if quick else MANY_OBJECTS,
        "stream_variants": True,
    }
