"""Throughput of each checksum r2async can send, per implementation.

Run: ``python benchmarks/bench_checksums.py [--mib N]``. Prints MiB/s for every algorithm with
the implementation r2async picks, then for each candidate backend that is installed, so the
choice documented in ``r2async._checksums`` can be re-checked on any machine.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
import zlib
from collections.abc import Callable

from r2async import _checksums

Fn = Callable[[bytes], object]


def _rate(fn: Fn, data: bytes, *, min_seconds: float = 0.5, max_rounds: int = 50) -> float:
    """MiB/s of ``fn`` over ``data``: best of several rounds, bounded in count and time."""
    best = float("inf")
    deadline = time.perf_counter() + min_seconds
    for _ in range(max_rounds):
        start = time.perf_counter()
        fn(data)
        best = min(best, time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return len(data) / (1024 * 1024) / best


def _candidates() -> dict[str, dict[str, Fn]]:
    out: dict[str, dict[str, Fn]] = {
        "CRC32": {"zlib (stdlib)": zlib.crc32},
        "CRC32C": {"pure Python (table)": lambda d: _checksums._crc32c_py(d, 0)},
        "CRC64NVME": {"pure Python (table)": lambda d: _checksums._crc64nvme_py(d, 0)},
        "SHA1": {"hashlib": lambda d: hashlib.sha1(d).digest()},
        "SHA256": {"hashlib": lambda d: hashlib.sha256(d).digest()},
        "MD5": {"hashlib": lambda d: hashlib.md5(d).digest()},
    }
    try:
        import google_crc32c  # type: ignore[import-untyped,import-not-found,unused-ignore]

        out["CRC32C"]["google-crc32c"] = lambda d: google_crc32c.extend(0, d)
    except ImportError:
        pass
    try:
        import crc32c  # type: ignore[import-untyped,import-not-found,unused-ignore]

        out["CRC32C"]["crc32c (ICRAR)"] = lambda d: crc32c.crc32c(d)
    except ImportError:
        pass
    try:
        from awscrt import checksums as crt  # type: ignore[import-untyped,import-not-found,unused-ignore]

        out["CRC32C"]["awscrt"] = lambda d: crt.crc32c(d)
        out["CRC64NVME"]["awscrt"] = lambda d: crt.crc64nvme(d)
    except ImportError:
        pass
    try:
        import anycrc  # type: ignore[import-untyped,import-not-found,unused-ignore]

        c32c = anycrc.Model("CRC32C")
        c64 = anycrc.Model("CRC64-NVME")
        out["CRC32C"]["anycrc"] = c32c.calc
        out["CRC64NVME"]["anycrc"] = c64.calc
    except ImportError:
        pass
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=16, help="buffer size for fast backends")
    parser.add_argument(
        "--slow-kib", type=int, default=256, help="buffer size for pure-Python backends"
    )
    args = parser.parse_args()
    big = os.urandom(args.mib * 1024 * 1024)
    small = big[: args.slow_kib * 1024]
    print(f"buffer: {args.mib} MiB (pure Python: {args.slow_kib} KiB)")
    print("\nr2async's choice (new_hasher):")
    for alg in (*_checksums.ALGORITHMS, "MD5"):
        backend = _checksums.backend(alg)
        data = small if backend.startswith("pure") else big

        def run(d: bytes, alg: str = alg) -> None:
            h = _checksums.new_hasher(alg)
            h.update(d)
            h.digest()

        print(f"  {alg:<10} {backend:<22} {_rate(run, data):>10.1f} MiB/s")
    print("\ncandidates:")
    for alg, impls in _candidates().items():
        for name, fn in impls.items():
            data = small if name.startswith("pure") else big
            print(f"  {alg:<10} {name:<22} {_rate(fn, data):>10.1f} MiB/s")


if __name__ == "__main__":
    main()
