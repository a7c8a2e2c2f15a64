"""``mb`` (create a bucket) and ``rb`` (delete one; ``--force`` empties it first)."""

from __future__ import annotations

import argparse

from ._cmd_remove import delete_keys
from ._errors import EXIT_FAILED, EXIT_OK, UsageError
from ._locations import Remote, parse_remote
from ._session import Session, run
from ._walk import walk_remote


def main(args: argparse.Namespace, session: Session) -> int:
    """Check the arguments, then create or delete the bucket.

    Args:
        args: the parsed command line.
        session: global options and output.
    """
    where = parse_remote(args.url, what="URL")
    if where.key:
        raise UsageError(f"{args.url!r}: give only the bucket, as r2://{where.bucket}")
    session.check_credentials()
    if args.command == "mb":
        return run(lambda: _mb(args, session, where))
    return run(lambda: _rb(args, session, where))


async def _mb(args: argparse.Namespace, session: Session, where: Remote) -> int:
    output = session.output
    async with session.client() as client:
        try:
            await client.create_bucket(where.bucket, location_hint=args.location_hint)
        except Exception as exc:
            output.failed("make_bucket", where.url(), None, exc)
            return EXIT_FAILED
    output.done("make_bucket", where.url(), None, None)
    return EXIT_OK


async def _rb(args: argparse.Namespace, session: Session, where: Remote) -> int:
    output = session.output
    async with session.client() as client:
        try:
            if args.force:
                entries = await walk_remote(client, where.bucket, "", ())
                await delete_keys(
                    client, session, where.bucket, [e.key for e in entries], dry_run=args.dry_run
                )
                if output.failures:
                    output.list_failures()
                    return EXIT_FAILED
                # Unfinished multipart uploads keep a bucket from being deleted on R2.
                async for upload in client.iter_multipart_uploads(where.bucket):
                    if args.dry_run:
                        output.done("abort_upload", where.url(upload.key), None, None, dry_run=True)
                    else:
                        await client.abort_multipart_upload(
                            where.bucket, upload.key, upload.upload_id
                        )
            if args.dry_run:
                output.done("remove_bucket", where.url(), None, None, dry_run=True)
                return EXIT_OK
            await client.delete_bucket(where.bucket)
        except Exception as exc:
            output.failed("remove_bucket", where.url(), None, exc)
            return EXIT_FAILED
    output.done("remove_bucket", where.url(), None, None)
    return EXIT_OK
