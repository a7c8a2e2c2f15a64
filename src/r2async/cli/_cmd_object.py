"""One object: ``cat`` (bytes to stdout), ``stat`` (metadata) and ``presign`` (a URL)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ._engine import Engine, Job, WriteOptions
from ._errors import EXIT_FAILED, EXIT_OK
from ._locations import Local, Remote, parse_remote
from ._session import Session, run


def main(args: argparse.Namespace, session: Session) -> int:
    """Check the arguments, then run cat, stat or presign.

    Args:
        args: the parsed command line.
        session: global options and output.
    """
    where = parse_remote(args.url, what="URL", need_key=True)
    session.check_credentials()
    if args.command == "presign":
        return _presign(args, session, where)
    if args.command == "stat":
        return run(lambda: _stat(session, where))
    return run(lambda: _cat(session, where))


async def _cat(session: Session, where: Remote) -> int:
    async with session.client(bulk=True) as client:
        engine = Engine(client, session, WriteOptions())
        # Per-object lines would mix with the object's bytes on stdout: failures only.
        session.output.quiet = True
        done = await engine.run([Job(where, Local("-"))], label="cat")
    return EXIT_OK if done else EXIT_FAILED


async def _stat(session: Session, where: Remote) -> int:
    output = session.output
    async with session.client() as client:
        try:
            head = await client.head_object(where.bucket, where.key)
        except Exception as exc:
            output.failed("stat", where.url(), None, exc)
            return EXIT_FAILED
    fields: dict[str, Any] = {
        "url": where.url(),
        "bucket": where.bucket,
        "key": where.key,
        "size": head.content_length,
        "etag": head.etag,
        "last_modified": head.last_modified.isoformat() if head.last_modified else None,
        "content_type": head.content_type,
        "cache_control": head.cache_control,
        "content_disposition": head.content_disposition,
        "content_encoding": head.content_encoding,
        "content_language": head.content_language,
        "expires": head.expires,
        "storage_class": head.storage_class,
        "parts_count": head.parts_count,
        "metadata": dict(head.metadata),
    }
    if output.json_lines:
        output.record(None, fields)
        return EXIT_OK
    width = max(len(name) for name in fields)
    for name, value in fields.items():
        if name == "metadata":
            continue
        if value is not None:
            output.record(f"{name + ':':<{width + 1}} {value}", {})
    for key, value in sorted(head.metadata.items()):
        output.record(f"{'metadata.' + key + ':'} {value}", {})
    return EXIT_OK


def _presign(args: argparse.Namespace, session: Session, where: Remote) -> int:
    # Signing needs no request, so no event loop; the client is closed without I/O.
    import asyncio

    client = session.client()
    try:
        b, k, expires = where.bucket, where.key, args.expires
        if args.method == "PUT":
            signed = client.presign_put_object(b, k, expires_in=expires)
        elif args.method == "HEAD":
            signed = client.presign_head_object(b, k, expires_in=expires)
        elif args.method == "DELETE":
            signed = client.presign_delete_object(b, k, expires_in=expires)
        else:
            signed = client.presign_get_object(b, k, expires_in=expires)
    finally:
        asyncio.run(client.aclose())
    session.output.record(
        signed.url,
        {
            "url": signed.url,
            "method": signed.method,
            "expires_at": signed.expires_at.isoformat(),
            "headers": signed.headers,
        },
    )
    if signed.headers and not session.output.json_lines:
        names = ", ".join(sorted(signed.headers))
        print(f"the request must also send these signed headers: {names}", file=sys.stderr)
    return EXIT_OK
