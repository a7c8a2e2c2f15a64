"""Large bodies: client CPU per GiB and peak memory of GETs, over HTTP and over HTTPS.

Run:  python benchmarks/bench_large_bodies.py                     (HTTP and HTTPS, 64 MiB)
      python benchmarks/bench_large_bodies.py --tls on --size 256 --rounds 5
      python benchmarks/bench_large_bodies.py --before /tmp/base/src   (paired before/after)
      python benchmarks/bench_large_bodies.py --profile stream --clients r2async --tls on

Against the S3-shaped sink (``benchmarks/sink.py``), in its own process; for HTTPS the sink
is served through ``ssl`` with a throwaway CA made at run time (``cryptography``), which the
clients trust through ``SSL_CERT_FILE`` (r2async, httpx) and ``AWS_CA_BUNDLE`` (aiobotocore);
obstore skips verification (same TLS work, no CA option). Every measurement runs in a fresh
worker process, and the clients take turns round by round (every other round in reverse
order), so that a noisy neighbour on a shared machine touches them all alike. Figures are
client CPU (user + system, ``time.process_time``) per GiB, medians over the rounds with the
range (min-max), and, for ``get`` (the whole object into memory), the peak RSS above the
process's RSS before the call, in MiB.

Operations: ``stream`` (r2async ``stream_object`` with 256 KiB chunks; the peers' streamed
reads), ``get`` (``get_object``: the body in memory; r2async with ``verify_md5=False``, as
neither peer checks an MD5), ``download`` (``download_file`` to a
file in a temporary directory, default part size and concurrency, ``verify_md5=False``;
r2async only; the file is deleted after the timed call, since dropping a just-written file's
pages costs kernel time that is no part of a download).

With ``--before DIR`` every r2async row is measured twice per round, with ``DIR`` (an older
``src`` tree, e.g. from ``git archive``) first on ``PYTHONPATH`` and with this tree.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MiB = 1024 * 1024
GiB = 1024 * MiB
HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
BUCKET = "bench"
CREDS = ("AKIDBENCHMARK", "benchmark-secret")
CHUNK = 256 * 1024
CLIENTS = ("r2async", "r2async-aiohttp", "aiobotocore", "obstore")
OPS = ("stream", "get", "download")


# -- the server: the sink, over TLS when asked ------------------------------------------------


def make_ca(directory: str) -> tuple[str, str, str]:
    """A throwaway CA and a certificate for 127.0.0.1 signed by it: (ca, cert, key) paths."""
    # The generator r2async.testing uses for tls=True (private on purpose, as in harness/).
    from r2async._testing.tls import write_test_ca

    files = write_test_ca(Path(directory))
    return str(files.ca_file), str(files.cert_file), str(files.key_file)


# -- the worker: one client, one operation, one fresh process --------------------------------


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MiB


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _r2async(job: dict[str, Any], aiohttp: bool) -> Any:
    from r2async import R2Client

    kwargs: dict[str, Any] = {
        "endpoint_url": job["endpoint"],
        "access_key_id": CREDS[0],
        "secret_access_key": CREDS[1],
    }
    if aiohttp:
        kwargs["transport"] = "aiohttp"
    r2 = R2Client(**kwargs)
    await r2.__aenter__()
    await r2.get_object(BUCKET, "warm")
    # The first request starts a background thread that imports the other operation families
    # (r2async._lazy.load_later, 50-150 ms of CPU); process_time counts every thread, so a
    # timed op started before it ends is charged for it (+1-2 CPU-s/GiB on a 64 MiB object).
    import threading

    for thread in threading.enumerate():
        if thread.name == "r2async-load-later":
            await asyncio.to_thread(thread.join)

    async def stream() -> int:
        n = 0
        async with r2.stream_object(BUCKET, job["key"], chunk_size=CHUNK) as s:
            async for chunk in s:
                n += len(chunk)
        return n

    async def get() -> int:
        # Like for like: neither peer checks the body's MD5 (it costs ~1.7 CPU-s/GiB here).
        return len((await r2.get_object(BUCKET, job["key"], verify_md5=False)).body)

    # Removed after the timed call: deleting a file just written costs the kernel time
    # (dropping its dirty pages) that is no part of a download.
    out_dir = tempfile.mkdtemp()
    downloads = [0]

    async def download() -> int:
        downloads[0] += 1
        path = os.path.join(out_dir, f"out{downloads[0]}")
        # Like for like: the peers check no MD5 either.
        await r2.download_file(BUCKET, job["key"], path, verify_md5=False)
        return os.path.getsize(path)  # noqa: ASYNC240 (after the timed call)

    async def close() -> None:
        await r2.aclose()
        shutil.rmtree(out_dir, ignore_errors=True)

    return {"stream": stream, "get": get, "download": download}, close


async def _aiobotocore(job: dict[str, Any]) -> Any:
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    cm = get_session().create_client(
        "s3",
        endpoint_url=job["endpoint"],
        aws_access_key_id=CREDS[0],
        aws_secret_access_key=CREDS[1],
        region_name="auto",
        config=AioConfig(
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
    client = await cm.__aenter__()
    await client.get_object(Bucket=BUCKET, Key="warm")

    async def stream() -> int:
        n = 0
        r = await client.get_object(Bucket=BUCKET, Key=job["key"])
        async with r["Body"] as body:
            async for chunk in body.iter_chunks(CHUNK):
                n += len(chunk)
        return n

    async def get() -> int:
        r = await client.get_object(Bucket=BUCKET, Key=job["key"])
        async with r["Body"] as body:
            return len(await body.read())

    async def close() -> None:
        await cm.__aexit__(None, None, None)

    return {"stream": stream, "get": get}, close


async def _obstore(job: dict[str, Any]) -> Any:
    import obstore
    from obstore.store import S3Store

    options = {"allow_http": "true"}
    if job["endpoint"].startswith("https"):
        options["allow_invalid_certificates"] = "true"
    store = S3Store(
        BUCKET,
        endpoint=job["endpoint"],
        access_key_id=CREDS[0],
        secret_access_key=CREDS[1],
        region="auto",
        virtual_hosted_style_request=False,
        client_options=options,
    )
    await (await obstore.get_async(store, "warm")).bytes_async()

    async def stream() -> int:
        n = 0
        r = await obstore.get_async(store, job["key"])
        async for chunk in r.stream(min_chunk_size=CHUNK):
            n += len(chunk)
        return n

    async def get() -> int:
        r = await obstore.get_async(store, job["key"])
        return len(await r.bytes_async())

    async def close() -> None:
        pass

    return {"stream": stream, "get": get}, close


async def _work(job: dict[str, Any]) -> dict[str, Any]:
    client = job["client"]
    if client.startswith("r2async"):
        ops, close = await _r2async(job, client == "r2async-aiohttp")
    elif client == "aiobotocore":
        ops, close = await _aiobotocore(job)
    else:
        ops, close = await _obstore(job)
    op = ops.get(job["op"])
    if op is None:
        await close()
        return {"skip": True}
    try:
        if job.get("profile"):
            import cProfile
            import pstats

            prof = cProfile.Profile(time.process_time)
            prof.enable()
            n = await op()
            prof.disable()
            stats = pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime")
            stats.print_stats(int(job["profile"]))
            stats.sort_stats("cumulative").print_stats(int(job["profile"]))
            if os.environ.get("BENCH_PROFILE_CALLS"):
                stats.sort_stats("ncalls").print_stats(int(job["profile"]))
            return {"n": n}
        rss0 = _rss_mib()
        peak0 = _peak_mib()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        n = await op()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        peak = _peak_mib()
        # ru_maxrss only ever grows: the call's peak is measurable only when it exceeds
        # the process's earlier peak, which the warm-up kept small.
        return {
            "n": n,
            "cpu": cpu,
            "wall": wall,
            "peak": max(0.0, peak - max(rss0, 0.0)),
            "peak0": peak0,
            "rss0": rss0,
        }
    finally:
        await close()


def worker(job: dict[str, Any]) -> None:
    if job.get("trio"):
        import trio

        async def run() -> dict[str, Any]:
            return await _work(job)

        result = trio.run(run)
    else:
        result = asyncio.run(_work(job))
    print(json.dumps(result), flush=True)


# -- the runner -------------------------------------------------------------------------------


def _start_server(cert: str | None, key: str | None) -> tuple[subprocess.Popen[str], int]:
    args = [sys.executable, str(HERE / "sink.py"), "--port", "0"]
    if cert is not None:
        args += ["--tls-cert", cert, "--tls-key", str(key)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"the sink did not start: {line!r}")
    return proc, int(line.split()[1])


def _put(endpoint: str, key: str, size: int, ca: str | None) -> None:
    # The sink remembers only the length of what is PUT.
    import ssl

    import httpx

    verify: Any = ssl.create_default_context(cafile=ca) if ca else True
    piece = bytes(MiB)

    def body() -> Any:
        for _ in range(size // MiB):
            yield piece
        if size % MiB:
            yield bytes(size % MiB)

    with httpx.Client(verify=verify) as http:
        r = http.put(
            f"{endpoint}/{BUCKET}/{key}",
            content=body(),
            headers={"content-length": str(size)},
        )
        r.raise_for_status()


def _run_job(job: dict[str, Any], pythonpath: str | None, env: dict[str, str]) -> dict[str, Any]:
    e = dict(env)
    if pythonpath:
        e["PYTHONPATH"] = pythonpath
    out = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(job)],
        env=e,
        capture_output=True,
        text=True,
        timeout=600,
    )
    # obstore's runtime may abort at interpreter exit, after the result was printed.
    if out.returncode != 0 and not out.stdout.strip().startswith("{"):
        raise RuntimeError(
            f"worker {job['client']} {job['op']} failed ({out.returncode}):\n"
            f"{out.stdout[-2000:]}{out.stderr[-3000:]}"
        )
    if job.get("profile"):
        sys.stdout.write(out.stderr)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64, help="object size in MiB (default 64)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tls", choices=("off", "on", "both"), default="both")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--ops", default=",".join(OPS))
    parser.add_argument("--before", help="an older src/ tree to measure r2async rows against")
    parser.add_argument("--trio", action="store_true", help="run r2async workers under trio")
    parser.add_argument("--profile", help="cProfile one run of this op (top 30 entries)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return 0

    clients = [c for c in args.clients.split(",") if c]
    ops = [o for o in args.ops.split(",") if o]
    if args.profile:
        ops = [args.profile]
        args.rounds = 1
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.tls]
    size = args.size * MiB
    variants: list[tuple[str, str | None]] = [("", str(SRC))]
    if args.before:
        variants = [(" before", args.before), (" after", str(SRC))]
    print(
        f"# {args.size} MiB object, {args.rounds} rounds, client CPU-s per GiB "
        f"(median [min-max]); get: peak RSS above start, MiB"
    )
    with tempfile.TemporaryDirectory() as tmp:
        ca, cert, key = make_ca(tmp)
        for tls in modes:
            server, port = _start_server(cert if tls else None, key if tls else None)
            try:
                scheme = "https" if tls else "http"
                endpoint = f"{scheme}://127.0.0.1:{port}"
                env = dict(os.environ)
                if tls:
                    env["SSL_CERT_FILE"] = ca
                    env["AWS_CA_BUNDLE"] = ca
                _put(endpoint, "big", size, ca if tls else None)
                rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
                for r in range(args.rounds):
                    order = [(c, v) for c in clients for v in variants if c.startswith("r2async")]
                    order += [(c, ("", None)) for c in clients if not c.startswith("r2async")]
                    if r % 2:
                        order.reverse()
                    for op in ops:
                        for client, (label, path) in order:
                            job = {
                                "client": client,
                                "op": op,
                                "endpoint": endpoint,
                                "key": "big",
                                "profile": 30 if args.profile else 0,
                                "trio": args.trio and client == "r2async",
                            }
                            res = _run_job(job, path, env)
                            if res.get("skip"):
                                continue
                            if not args.profile and res["n"] != size:
                                raise RuntimeError(f"{client} {op} read {res['n']} of {size}")
                            rows.setdefault((op, client + label), []).append(res)
                if args.profile:
                    continue
                print(f"\n## {scheme.upper()}\n")
                print("| op | client | CPU-s/GiB | MB/s | peak MiB (get) |")
                print("|---|---|--:|--:|--:|")
                for (op, name), results in rows.items():
                    per_gib = [x["cpu"] * GiB / size for x in results]
                    mbs = [size / x["wall"] / 1e6 for x in results]
                    peak = max(x["peak"] for x in results)
                    print(
                        f"| {op} | {name} | {statistics.median(per_gib):.2f} "
                        f"[{min(per_gib):.2f}-{max(per_gib):.2f}] | "
                        f"{statistics.median(mbs):.0f} | "
                        f"{f'{peak:.0f}' if op == 'get' else ''} |",
                        flush=True,
                    )
            finally:
                server.kill()
                server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
