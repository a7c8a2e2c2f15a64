"""``ls`` (buckets, or objects and prefixes) and ``du`` (total size and count under a prefix).

``ls r2://b/p`` lists like ``aws s3 ls``: keys starting with ``p``, grouped at the next '/',
names shown relative to the last '/' of the prefix; ``-r`` lists every key in full.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING, Any

from ._errors import EXIT_FAILED, EXIT_OK, UsageError
from ._locations import Remote, parse_remote
from ._output import human_size
from ._session import Session, run

if TYPE_CHECKING:
    from r2async import R2Client


def main(args: argparse.Namespace, session: Session) -> int:
    """Check the arguments, then list or sum.

    Args:
        args: the parsed command line.
        session: global options and output.
    """
    if args.command == "du":
        where = parse_remote(args.url, what="URL")
        session.check_credentials()
        return run(lambda: _du(args, session, where))
    where_or_none = None
    if args.url and args.url.lower() != "r2://":
        where_or_none = parse_remote(args.url, what="URL")
    elif args.recursive:
        raise UsageError("ls -r needs a bucket: r2async ls -r r2://BUCKET[/PREFIX]")
    session.check_credentials()
    return run(lambda: _ls(args, session, where_or_none))


def _stamp(when: dt.datetime | None) -> str:
    if when is None:
        return " " * 19
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _size(size: int, human: bool) -> str:
    return f"{human_size(size):>10}" if human else f"{size:>12}"


async def _ls(args: argparse.Namespace, session: Session, where: Remote | None) -> int:
    output = session.output
    async with session.client() as client:
        try:
            if where is None:
                async for bucket in client.iter_buckets():
                    output.record(
                        f"{_stamp(bucket.creation_date)}  {bucket.name}",
                        {
                            "type": "bucket",
                            "name": bucket.name,
                            "creation_date": _iso(bucket.creation_date),
                        },
                    )
                return EXIT_OK
            await _list_objects(client, args, session, where)
        except BrokenPipeError:
            raise  # the reader went away (`ls | head`): main() exits quietly
        except Exception as exc:
            output.failed("ls", where.url() if where else "r2://", None, exc)
            return EXIT_FAILED
    return EXIT_OK


async def _list_objects(
    client: R2Client, args: argparse.Namespace, session: Session, where: Remote
) -> None:
    output = session.output
    prefix = where.key
    # Names are shown relative to the "directory" being listed, as aws s3 ls does.
    base = 0 if args.recursive else prefix.rfind("/") + 1
    blank = " " * (10 if args.human_readable else 12)
    pages = client.list_objects_pages(
        where.bucket, prefix=prefix or None, delimiter=None if args.recursive else "/"
    )
    async for page in pages:
        for common in page.common_prefixes:
            output.record(
                f"{' ' * 19}  {blank}  PRE {common[base:]}",
                {"type": "prefix", "url": where.url(common), "prefix": common},
            )
        for obj in page.objects:
            output.record(
                f"{_stamp(obj.last_modified)}  {_size(obj.size, args.human_readable)}  "
                f"{obj.key[base:]}",
                _object_record(where, obj),
            )


def _object_record(where: Remote, obj: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "url": where.url(obj.key),
        "key": obj.key,
        "size": obj.size,
        "last_modified": _iso(obj.last_modified),
        "etag": obj.etag,
        "storage_class": obj.storage_class,
    }


def _iso(when: dt.datetime | None) -> str | None:
    return None if when is None else when.isoformat()


async def _du(args: argparse.Namespace, session: Session, where: Remote) -> int:
    output = session.output
    count = total = 0
    async with session.client() as client:
        try:
            async for obj in client.iter_objects(where.bucket, prefix=where.key or None):
                count += 1
                total += obj.size
        except Exception as exc:
            output.failed("du", where.url(), None, exc)
            return EXIT_FAILED
    size = human_size(total) if args.human_readable else str(total)
    output.record(
        f"{size}\t{count} objects\t{where.url()}",
        {"url": where.url(), "bytes": total, "objects": count},
    )
    return EXIT_OK
