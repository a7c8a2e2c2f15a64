"""Parse time of one 1,000-key listing page: the ElementTree reading against the fast reader.

Run: ``python benchmarks/bench_list_parse.py [--rounds N]``. Prints, per body shape, the
median and best CPU milliseconds per page of ``_reference_list_objects`` (the ElementTree
reading that was the only one before the fast reader, still the fallback and the
reference) and of ``parse_list_objects`` (the fast reader, falling back when it must),
and their ratio. Bodies: the sink's canned page (``benchmarks/sink.py``), and pages shaped
as SeaweedFS, AWS and R2 write them, with and without owners, checksums, URL-encoded
keys, the S3 namespace; the last one mixes entry shapes (several runs) and one is left to
ElementTree on purpose (a comment) to show what falling back costs.

The end-to-end comparison with other clients (request and parse) is ``benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote_plus

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import sink

from r2async._operations.listing import (
    build_list_objects,
    build_list_objects_v1,
    parse_list_objects,
    parse_list_objects_v1,
)
from r2async._operations.listing_reference import list_objects as _reference_list_objects
from r2async._operations.listing_reference import list_objects_v1 as _reference_list_objects_v1
from r2async._operations.listparse import Unsupported, scan

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
KEYS = 1000


def _etag(i: int) -> str:
    return hashlib.md5(str(i).encode()).hexdigest()


def _page(items: list[str], *, head: str, tail: str = "", ns: bool = True) -> bytes:
    root = f'<ListBucketResult xmlns="{NS}">' if ns else "<ListBucketResult>"
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{root}{head}{"".join(items)}{tail}'
        "</ListBucketResult>"
    ).encode()


def seaweedfs(owner: bool) -> bytes:
    # As SeaweedFS 4.x writes it (Go's encoder: &#34; for quotes, header after the entries).
    who = "<Owner><ID>admin</ID><DisplayName>admin</DisplayName></Owner>" if owner else ""
    items = [
        f"<Contents><Key>list/object-{i:06d}.json</Key><ETag>&#34;{_etag(i)}&#34;</ETag>"
        f"<Size>{i + 1}</Size>{who}<StorageClass>STANDARD</StorageClass>"
        f"<LastModified>2026-11-26T04:36:{i % 60:02d}Z</LastModified></Contents>"
        for i in range(KEYS)
    ]
    return _page(
        items,
        head="<Name>bench</Name><Prefix>list/</Prefix><MaxKeys>1000</MaxKeys>"
        "<IsTruncated>false</IsTruncated>",
        tail="<EncodingType>url</EncodingType><KeyCount>1000</KeyCount>",
    )


def aws(checksums: bool, encoded_keys: bool) -> bytes:
    # As AWS (and R2) write it: &quot; quotes, millisecond timestamps, optional checksums,
    # keys that need URL-encoding (spaces, '+', '%', non-ASCII, a control character).
    extra = (
        "<ChecksumAlgorithm>CRC32</ChecksumAlgorithm><ChecksumType>FULL_OBJECT</ChecksumType>"
        if checksums
        else ""
    )
    items = []
    for i in range(KEYS):
        key = f"photos/2026 trip/été+{i:06d}%.jpg\x01" if encoded_keys else f"logs/{i:06d}.gz"
        items.append(
            f"<Contents><Key>{quote_plus(key, safe='/')}</Key>"
            f"<LastModified>2026-01-02T03:{i % 60:02d}:05.{i % 1000:03d}Z</LastModified>"
            f"<ETag>&quot;{_etag(i)}&quot;</ETag>{extra}<Size>{i * 1024}</Size>"
            "<StorageClass>STANDARD</StorageClass></Contents>"
        )
    return _page(
        items,
        head="<Name>bench</Name><Prefix></Prefix><KeyCount>1000</KeyCount>"
        "<MaxKeys>1000</MaxKeys><EncodingType>url</EncodingType>"
        "<IsTruncated>true</IsTruncated><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J"
        "/wm36Hy4vbOwM=</NextContinuationToken>",
    )


def mixed() -> bytes:
    # Objects with and without checksums interleaved: many short runs of two shapes.
    items = []
    for i in range(KEYS):
        extra = "<ChecksumAlgorithm>CRC32</ChecksumAlgorithm>" if i % 3 == 0 else ""
        items.append(
            f"<Contents><Key>k/{i:06d}</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified>"
            f"<ETag>&quot;{_etag(i)}&quot;</ETag>{extra}<Size>{i}</Size>"
            "<StorageClass>STANDARD</StorageClass></Contents>"
        )
    return _page(items, head="<Name>bench</Name><IsTruncated>false</IsTruncated>", ns=False)


def with_comment() -> bytes:
    body = seaweedfs(owner=False)
    return body.replace(b"<Name>", b"<!-- left to ElementTree --><Name>", 1)


def cpu_ms(fn: Callable[[], object], rounds: int, inner: int) -> tuple[float, float]:
    fn()
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(inner):
            fn()
        samples.append((time.process_time() - start) / inner * 1e3)
    return statistics.median(samples), min(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds per case")
    parser.add_argument("--inner", type=int, default=20, help="pages parsed per round")
    args = parser.parse_args()

    spec = build_list_objects("bench", max_keys=KEYS)
    spec_v1 = build_list_objects_v1("bench", max_keys=KEYS)
    cases = [
        ("sink canned page (V2)", sink._listing("bench", True, encoded=True), "v2"),
        ("sink canned page (V1)", sink._listing("bench", False, encoded=True), "v1"),
        ("SeaweedFS", seaweedfs(owner=False), "v2"),
        ("SeaweedFS, fetch_owner", seaweedfs(owner=True), "v2"),
        ("AWS/R2 shape", aws(checksums=False, encoded_keys=False), "v2"),
        ("AWS/R2, checksums, encoded keys", aws(checksums=True, encoded_keys=True), "v2"),
        ("mixed shapes, no namespace", mixed(), "v2"),
        ("with a comment (ElementTree)", with_comment(), "v2"),
    ]
    print(f"CPU ms per 1,000-key page: median (best) of {args.rounds} x {args.inner} pages\n")
    print("| body | bytes | ElementTree | fast reader | ratio | fast path |")
    print("|---|--:|--:|--:|--:|---|")
    for name, body, version in cases:
        if version == "v2":
            old = lambda b=body: _reference_list_objects(b, {}, spec)  # noqa: E731
            new = lambda b=body: parse_list_objects(b, {}, spec)  # noqa: E731
        else:
            old = lambda b=body: _reference_list_objects_v1(b, {}, spec_v1)  # noqa: E731
            new = lambda b=body: parse_list_objects_v1(b, {}, spec_v1)  # noqa: E731
        assert old() == new(), name
        try:
            scan(body)
            taken = "yes"
        except Unsupported:
            taken = "no (falls back)"
        old_med, old_best = cpu_ms(old, args.rounds, args.inner)
        new_med, new_best = cpu_ms(new, args.rounds, args.inner)
        print(
            f"| {name} | {len(body):,} | {old_med:.2f} ({old_best:.2f}) "
            f"| {new_med:.2f} ({new_best:.2f}) | {old_med / new_med:.1f}x | {taken} |"
        )


if __name__ == "__main__":
    main()
