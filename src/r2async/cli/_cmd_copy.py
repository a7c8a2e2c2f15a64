"""``cp`` and ``mv``: local to R2, R2 to local, R2 to R2 (server-side), and stdin/stdout.

Names follow the AWS CLI and s5cmd: ``cp f r2://b/k`` writes ``k``; ``cp f r2://b/p/`` writes
``p/f``; ``cp -r dir r2://b/p`` puts the contents of ``dir`` under ``p/``; ``cp r2://b/k d/``
writes ``d/k``'s last segment. ``mv`` deletes each source only after its copy succeeded.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from typing import TYPE_CHECKING

import anyio

from ._engine import Engine, Job, WriteOptions, describe_location, moves_bulk
from ._errors import EXIT_FAILED, EXIT_OK, DeleteFailedError, UsageError
from ._locations import (
    Local,
    Location,
    Remote,
    key_for_upload,
    local_path_for_key,
    parse_location,
    path_for_download,
)
from ._output import human_size, rate
from ._parser import parse_metadata
from ._session import Session, run
from ._walk import walk_local, walk_remote

if TYPE_CHECKING:
    from r2async import R2Client


def write_options(args: argparse.Namespace, dst: Location) -> WriteOptions:
    """The object options given, refused when the destination is local.

    Args:
        args: the parsed command line.
        dst: the destination.
    """
    write = WriteOptions(
        content_type=args.content_type,
        cache_control=args.cache_control,
        metadata=parse_metadata(args.metadata),
        if_none_match=bool(getattr(args, "if_none_match", False)),
    )
    if isinstance(dst, Local) and (write.replaces_metadata or write.if_none_match):
        raise UsageError(
            "--content-type, --cache-control, --metadata and --if-none-match apply to "
            "r2:// destinations only"
        )
    return write


def main(args: argparse.Namespace, session: Session) -> int:
    """Check the arguments (no I/O but local stats), then copy or move.

    Args:
        args: the parsed command line.
        session: global options and output.
    """
    move = args.command == "mv"
    src = parse_location(args.src, what="SRC")
    dst = parse_location(args.dst, what="DST")
    write = write_options(args, dst)
    if isinstance(src, Local) and isinstance(dst, Local):
        raise UsageError("SRC or DST must be an r2:// URL (use your shell's cp for local copies)")
    if isinstance(src, Local) and src.is_stdio:
        if move:
            raise UsageError("mv cannot read standard input; use cp - r2://BUCKET/KEY")
        if not isinstance(dst, Remote) or dst.is_prefix:
            raise UsageError("reading standard input needs an object URL: cp - r2://BUCKET/KEY")
    elif isinstance(src, Local):
        if not os.path.exists(src.path):
            raise UsageError(f"SRC {src.path!r} does not exist")
        if os.path.isdir(src.path) and not args.recursive:
            raise UsageError(f"SRC {src.path!r} is a directory; add -r to copy its contents")
    if isinstance(src, Remote) and not args.recursive and src.is_prefix:
        raise UsageError(
            f"SRC {src.url()!r} names a bucket or prefix; add -r to copy every object under it"
        )
    if isinstance(dst, Local) and dst.is_stdio and (args.recursive or move):
        raise UsageError("writing to standard output takes one object: cp r2://BUCKET/KEY -")
    if isinstance(dst, Local) and dst.is_stdio:
        # stdout carries the object's bytes: no per-object lines nor JSON there.
        session.output.quiet = True
        session.output.json_lines = False
    session.check_credentials()
    return run(lambda: _copy(args, session, src, dst, write, move))


async def _copy(
    args: argparse.Namespace,
    session: Session,
    src: Location,
    dst: Location,
    write: WriteOptions,
    move: bool,
) -> int:
    output = session.output
    verb = "move" if move else None
    # Planning (a listing at most) and small transfers run on the default transport; a bulk
    # client is opened only for transfers large enough to repay its start-up.
    async with session.client() as client:
        jobs = await _plan(client, session, args, src, dst)
        if move:
            same = [job for job in jobs if job.src == job.dst]
            for job in same:
                output.failed(
                    "move",
                    describe_location(job.src),
                    describe_location(job.dst),
                    ValueError("source and destination are the same object"),
                )
            jobs = [job for job in jobs if job.src != job.dst]
        if not jobs:
            if not output.failures:
                output.error(f"nothing to copy: no objects match {describe_location(src)}")
                return EXIT_FAILED
            output.list_failures()
            return EXIT_FAILED
        if args.dry_run:
            for job in jobs:
                output.done(
                    verb or job.action,
                    describe_location(job.src),
                    describe_location(job.dst),
                    job.size,
                    dry_run=True,
                )
            output.summary(
                f"(dry run) {len(jobs)} objects", {"objects": len(jobs), "dry_run": True}
            )
            return EXIT_FAILED if output.failures else EXIT_OK
        started = time.monotonic()
        if moves_bulk(jobs):
            async with session.client(bulk=True) as bulk:
                engine = Engine(bulk, session, write, verb=verb)
                done = await engine.run(jobs, label=verb or jobs[0].action)
        else:
            engine = Engine(client, session, write, verb=verb)
            done = await engine.run(jobs, label=verb or jobs[0].action)
        if move:
            await _delete_sources(client, session, done)
        seconds = time.monotonic() - started
        nbytes = engine.bytes_done
        output.summary(
            f"{verb or 'copied'}: {len(done)} of {len(jobs)} objects, {human_size(nbytes)} in "
            f"{seconds:.2f} s ({rate(nbytes, seconds)})"
            + (f"; {len(output.failures)} failed" if output.failures else ""),
            {"objects": len(done), "bytes": nbytes, "seconds": round(seconds, 3)},
        )
    return EXIT_FAILED if output.failures else EXIT_OK


async def _plan(
    client: R2Client, session: Session, args: argparse.Namespace, src: Location, dst: Location
) -> list[Job]:
    if isinstance(src, Local):
        assert isinstance(dst, Remote)
        if src.is_stdio:
            return [Job(src, dst)]
        if args.recursive and os.path.isdir(src.path):  # noqa: ASYNC240 (one stat)
            prefix = dst.as_directory()
            files = await anyio.to_thread.run_sync(walk_local, src.path, args.filters)
            return [
                Job(Local(f.path), Remote(dst.bucket, prefix + f.rel), f.size, f.mtime_ns)
                for f in files
            ]
        st = os.stat(src.path)
        key = key_for_upload(dst, src.path)
        return [Job(src, Remote(dst.bucket, key), st.st_size, st.st_mtime_ns)]
    if not args.recursive:
        size = None
        if isinstance(dst, Local) and session.show_progress and not dst.is_stdio:
            # Only to size the progress display: download_file learns it from the first GET.
            size = (await client.head_object(src.bucket, src.key)).content_length
        if isinstance(dst, Local):
            target: Location = dst if dst.is_stdio else Local(path_for_download(dst.path, src.key))
        else:
            target = Remote(dst.bucket, key_for_upload(dst, src.key))
        return [Job(src, target, size)]
    prefix = src.as_directory()
    entries = await walk_remote(client, src.bucket, prefix, args.filters)
    jobs: list[Job] = []
    for e in entries:
        source = Remote(src.bucket, e.key)
        if isinstance(dst, Remote):
            jobs.append(Job(source, Remote(dst.bucket, dst.as_directory() + e.rel), e.size))
            continue
        if e.rel.endswith("/") and e.size == 0:
            continue  # a "directory marker" object: the directory is created anyway
        try:
            path = local_path_for_key(dst.path, e.rel)
        except ValueError as exc:
            session.output.failed("download", source.url(), dst.path, exc)
            continue
        jobs.append(Job(source, Local(path), e.size))
    return jobs


async def _delete_sources(client: R2Client, session: Session, done: list[Job]) -> None:
    output = session.output
    by_bucket: dict[str, list[str]] = defaultdict(list)
    for job in done:
        if isinstance(job.src, Local):
            try:
                os.remove(job.src.path)
            except OSError as exc:
                output.failed("delete", job.src.path, None, exc)
        else:
            by_bucket[job.src.bucket].append(job.src.key)
    for bucket, keys in by_bucket.items():
        try:
            result = await client.delete_objects(bucket, keys, quiet=True)
        except Exception as exc:
            output.failed("delete", f"r2://{bucket}/ ({len(keys)} moved objects)", None, exc)
            continue
        for failure in result.errors:
            output.failed(
                "delete",
                f"r2://{bucket}/{failure.key}",
                None,
                DeleteFailedError(f"{failure.code}: {failure.message}"),
            )
