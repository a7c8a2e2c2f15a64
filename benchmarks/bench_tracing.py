"""What r2async's OpenTelemetry support costs per small request, on and off.

Run: ``.venv/bin/python benchmarks/bench_tracing.py [--requests N] [--rounds R]``

Each configuration runs in its own fresh process against the benchmark sink (its own process
too, so its CPU never counts), sends N sequential 1 KiB GETs after a warm-up, and reports the
client's CPU per request (``time.process_time``). Rounds alternate the configurations; the
table gives medians and the spread over rounds. The configurations:

* ``no check``: ``r2async._tracing.tracer`` replaced by a function that returns None at once,
  the floor: what the hot path would cost without any tracing support;
* ``absent``: OpenTelemetry not imported (the usual case);
* ``not configured``: ``opentelemetry.trace`` imported, no tracer provider set;
* ``configured``: the SDK's ``TracerProvider`` with a processor that drops every span.

The requirement (issue 16): absent or not configured costs at most 2% CPU per small request.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

WORKER = r"""
import asyncio, json, sys, time
mode, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if mode in ("not configured", "configured"):
    from opentelemetry import trace
if mode == "configured":
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    class Drop(SpanExporter):
        def export(self, spans):
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Drop()))
    trace.set_tracer_provider(provider)
from r2async import R2Client
if mode == "no check":
    from r2async import _send
    _send._tracing.tracer = lambda: None

async def main():
    async with R2Client(endpoint_url=f"http://127.0.0.1:{port}", access_key_id="AKID",
                        secret_access_key="SECRET", max_retries=0) as r2:
        for _ in range(200):
            await r2.get_object("bench", "k")
        start = time.process_time()
        for _ in range(n):
            await r2.get_object("bench", "k")
        cpu = time.process_time() - start
    print(json.dumps({"cpu_ms": cpu * 1000 / n}))

asyncio.run(main())
"""

MODES = ("no check", "absent", "not configured", "configured")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sink = subprocess.Popen(
        [sys.executable, str(HERE / "sink.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sink.stdout is not None
        line = sink.stdout.readline().split()
        port = int(line[1])
        results: dict[str, list[float]] = {m: [] for m in MODES}
        for r in range(args.rounds):
            order = MODES if r % 2 == 0 else tuple(reversed(MODES))
            for mode in order:
                out = subprocess.run(
                    [sys.executable, "-c", WORKER, mode, str(port), str(args.requests)],
                    capture_output=True,
                    text=True,
                    timeout=300,
                    check=True,
                )
                results[mode].append(json.loads(out.stdout)["cpu_ms"])
    finally:
        sink.kill()
        sink.wait()
    floor = statistics.median(results["no check"])
    print(f"{args.requests} sequential 1 KiB GETs against the sink, {args.rounds} rounds\n")
    print("| configuration | CPU ms/request (median) | min-max over rounds | vs no check |")
    print("|---|--:|--:|--:|")
    for mode in MODES:
        values = results[mode]
        med = statistics.median(values)
        print(f"| {mode} | {med:.4f} | {min(values):.4f}-{max(values):.4f} | {med / floor:.3f}x |")


if __name__ == "__main__":
    main()
