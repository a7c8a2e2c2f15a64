"""``rm``: one object (DeleteObject) or every object under a prefix (DeleteObjects).

``rm -r r2://b/p`` deletes the keys under ``p/`` (the URL is taken as a directory, so
``photos`` never takes ``photos-old/`` with it); ``--dry-run`` prints what would go.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._errors import EXIT_FAILED, EXIT_OK, DeleteFailedError, UsageError
from ._locations import Remote, parse_remote
from ._session import Session, run
from ._walk import walk_remote

if TYPE_CHECKING:
    from r2async import R2Client

# DeleteObjects takes at most 1,000 keys per request (r2async batches; this is for progress).
BATCH = 1000


def main(args: argparse.Namespace, session: Session) -> int:
    """Check the arguments, then delete.

    Args:
        args: the parsed command line.
        session: global options and output.
    """
    where = parse_remote(args.url, what="URL")
    if not args.recursive and where.is_prefix:
        raise UsageError(
            f"{where.url()!r} names a bucket or prefix; add -r to delete every object under "
            "it (try --dry-run first), or use rb to delete the bucket"
        )
    if args.filters and not args.recursive:
        raise UsageError("--include/--exclude need -r")
    session.check_credentials()
    return run(lambda: _rm(args, session, where))


async def _rm(args: argparse.Namespace, session: Session, where: Remote) -> int:
    output = session.output
    started = time.monotonic()
    async with session.client() as client:
        if not args.recursive:
            if args.dry_run:
                output.done("delete", where.url(), None, None, dry_run=True)
                return EXIT_OK
            try:
                await client.delete_object(where.bucket, where.key)
            except Exception as exc:
                output.failed("delete", where.url(), None, exc)
                return EXIT_FAILED
            output.done("delete", where.url(), None, None)
            return EXIT_OK
        prefix = where.as_directory()
        try:
            entries = await walk_remote(client, where.bucket, prefix, args.filters)
        except Exception as exc:
            output.failed("delete", where.url(prefix), None, exc)
            return EXIT_FAILED
        deleted = await delete_keys(
            client, session, where.bucket, [e.key for e in entries], dry_run=args.dry_run
        )
    seconds = time.monotonic() - started
    what = "would delete" if args.dry_run else "deleted"
    output.summary(
        f"{what} {deleted} objects under {where.url(prefix)} in {seconds:.2f} s"
        + (f"; {len(output.failures)} failed" if output.failures else ""),
        {"objects": deleted, "seconds": round(seconds, 3), "dry_run": args.dry_run},
    )
    return EXIT_FAILED if output.failures else EXIT_OK


async def delete_keys(
    client: R2Client, session: Session, bucket: str, keys: Sequence[str], *, dry_run: bool
) -> int:
    """Delete keys 1,000 per request, printing each; return how many were (or would be) deleted.

    Args:
        client: the client.
        session: global options and output.
        bucket: the bucket.
        keys: the keys.
        dry_run: print instead of deleting.
    """
    output = session.output
    base = Remote(bucket, "")
    if dry_run:
        for key in keys:
            output.done("delete", base.url(key), None, None, dry_run=True)
        return len(keys)
    count = 0
    for start in range(0, len(keys), BATCH):
        batch = list(keys[start : start + BATCH])
        try:
            result = await client.delete_objects(bucket, batch)
        except Exception as exc:
            for key in batch:
                output.failed("delete", base.url(key), None, exc)
            continue
        for key in result.deleted:
            output.done("delete", base.url(key), None, None)
        count += len(result.deleted)
        for failure in result.errors:
            output.failed(
                "delete",
                base.url(failure.key),
                None,
                DeleteFailedError(f"{failure.code}: {failure.message}"),
            )
    return count
