"""``sync SRC DST``: make DST like SRC in one direction, transferring only what differs.

What is compared, for each relative path present on both sides (in this order; the same text
is in ``sync --help`` and docs/cli.md):

1. the sizes: different sizes are transferred;
2. the times in the listing: unchanged when the destination is at least as new as the source
   (uploading: the object's LastModified >= the file's mtime; downloading: the file's mtime >=
   the object's LastModified). No request per path: a sync with nothing to do costs two
   listings, as the AWS CLI's and s5cmd's do;
3. otherwise one HeadObject: unchanged when the file's mtime equals, to the millisecond, the
   ``mtime`` metadata r2async stores on every upload (a download sets the file's mtime from
   it, else from LastModified, so the next sync finds them equal);
4. otherwise, when the object's ETag is a plain MD5 (32 hex digits: one PutObject), the MD5 of
   the local file decides: a file touched but not changed is not transferred (downloading, its
   mtime is then set to the object's, so the next run stops at step 3). Else it is transferred.

R2 to R2: size and ETag. ``--exact`` hashes every same-size file whose ETag is a plain MD5
(exact whatever the clocks say, but reads every such file); multipart objects then go by step 3.

New paths are transferred; with ``--delete``, DST paths absent from SRC are deleted (paths
excluded by --exclude are neither transferred nor deleted).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from ._cmd_copy import write_options
from ._cmd_remove import delete_keys
from ._engine import (
    MTIME_KEY,
    Engine,
    Job,
    WriteOptions,
    moves_bulk,
    parse_mtime,
    restore_mtime_ns,
)
from ._errors import EXIT_FAILED, EXIT_OK, UsageError
from ._locations import Local, Location, Remote, local_path_for_key, parse_location
from ._output import human_size
from ._session import Session, run
from ._walk import LocalEntry, RemoteEntry, is_plain_md5, walk_local, walk_remote

if TYPE_CHECKING:
    from r2async import R2Client

Entry = LocalEntry | RemoteEntry
# Threads hashing local files at once (hashlib releases the GIL on large buffers).
HASH_THREADS = 4
_CHUNK = 1024 * 1024
_MTIME_TOLERANCE_NS = 1_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def main(args: argparse.Namespace, session: Session) -> int:
    """Check the arguments, then sync.

    Args:
        args: the parsed command line.
        session: global options and output.
    """
    src = parse_location(args.src, what="SRC")
    dst = parse_location(args.dst, what="DST")
    write = write_options(args, dst)
    if isinstance(src, Local) and isinstance(dst, Local):
        raise UsageError("SRC or DST must be an r2:// URL (use rsync for local directories)")
    for loc, what in ((src, "SRC"), (dst, "DST")):
        if isinstance(loc, Local) and loc.is_stdio:
            raise UsageError(f"sync works on directories and prefixes; {what} cannot be '-'")
    if isinstance(src, Local) and not os.path.isdir(src.path):
        raise UsageError(f"SRC {src.path!r} is not a directory (use cp for single files)")
    if isinstance(dst, Local) and os.path.exists(dst.path) and not os.path.isdir(dst.path):
        raise UsageError(f"DST {dst.path!r} exists and is not a directory")
    session.check_credentials()
    return run(lambda: _sync(args, session, src, dst, write))


@dataclass
class _Plan:
    transfers: list[Job]
    deletes: list[Entry]
    compared: int = 0
    by_md5: int = 0
    by_mtime: int = 0
    by_etag: int = 0
    skipped: int = 0


async def _list(client: R2Client, loc: Location, filters: list[tuple[str, str]]) -> list[Entry]:
    if isinstance(loc, Local):
        if not os.path.isdir(loc.path):  # noqa: ASYNC240 (one stat)
            return []
        return list(await anyio.to_thread.run_sync(walk_local, loc.path, filters))
    return list(await walk_remote(client, loc.bucket, loc.as_directory(), filters))


async def _sync(
    args: argparse.Namespace,
    session: Session,
    src: Location,
    dst: Location,
    write: WriteOptions,
) -> int:
    output = session.output
    started = time.monotonic()
    # Listing and comparing need no bulk transport: a sync with nothing to send never pays
    # for importing aiohttp (the transfers get their own client below).
    async with session.client() as client:
        try:
            sources = await _list(client, src, args.filters)
            targets = {e.rel: e for e in await _list(client, dst, args.filters)}
        except Exception as exc:
            output.failed("sync", args.src, args.dst, exc)
            return EXIT_FAILED
        plan = await _compare(
            client,
            session,
            src,
            dst,
            sources,
            targets,
            args.delete,
            _Rules(exact=args.exact, dry_run=args.dry_run),
        )
        transferred = 0
        nbytes = 0
        if args.dry_run:
            for job in plan.transfers:
                output.done(job.action, _show(job.src), _show(job.dst), job.size, dry_run=True)
        elif plan.transfers and not moves_bulk(plan.transfers):
            engine = Engine(client, session, write)
            done = await engine.run(plan.transfers, label="sync")
            transferred, nbytes = len(done), engine.bytes_done
        elif plan.transfers:
            async with session.client(bulk=True) as bulk:
                engine = Engine(bulk, session, write)
                done = await engine.run(plan.transfers, label="sync")
            transferred, nbytes = len(done), engine.bytes_done
        deleted = await _delete(client, session, dst, plan.deletes, args.dry_run)
    seconds = time.monotonic() - started
    how = f"{plan.by_md5} by MD5, {plan.by_mtime} by mtime, {plan.by_etag} by ETag"
    verb = "would transfer" if args.dry_run else "transferred"
    output.summary(
        f"sync: compared {plan.compared} paths present on both sides by size ({how}); "
        f"{plan.skipped} unchanged; {verb} {len(plan.transfers) if args.dry_run else transferred}"
        f" objects ({human_size(nbytes)}), "
        f"{'would delete' if args.dry_run else 'deleted'} {deleted} in {seconds:.2f} s",
        {
            "compared": plan.compared,
            "unchanged": plan.skipped,
            "compared_by_md5": plan.by_md5,
            "compared_by_mtime": plan.by_mtime,
            "compared_by_etag": plan.by_etag,
            "transferred": len(plan.transfers) if args.dry_run else transferred,
            "bytes": nbytes,
            "deleted": deleted,
            "seconds": round(seconds, 3),
            "dry_run": args.dry_run,
        },
    )
    return EXIT_FAILED if output.failures else EXIT_OK


def _show(loc: Location) -> str:
    return loc.path if isinstance(loc, Local) else loc.url()


def _target(dst: Location, rel: str) -> Location:
    if isinstance(dst, Local):
        return Local(local_path_for_key(dst.path, rel))
    return Remote(dst.bucket, dst.as_directory() + rel)


def _source(src: Location, entry: Entry) -> Location:
    if isinstance(entry, LocalEntry):
        return Local(entry.path)
    assert isinstance(src, Remote)
    return Remote(src.bucket, entry.key)


@dataclass(frozen=True)
class _Rules:
    """How same-size paths are compared (from the command line)."""

    exact: bool
    dry_run: bool


async def _compare(
    client: R2Client,
    session: Session,
    src: Location,
    dst: Location,
    sources: list[Entry],
    targets: dict[str, Entry],
    delete: bool,
    rules: _Rules,
) -> _Plan:
    plan = _Plan(transfers=[], deletes=[])
    hash_limit = anyio.CapacityLimiter(HASH_THREADS)
    head_limit = anyio.Semaphore(session.concurrency)
    changed: dict[str, bool] = {}
    slow: list[tuple[Entry, Entry]] = []
    for s in sources:
        d = targets.get(s.rel)
        if d is not None and d.size == s.size:
            # Most unchanged paths are settled here from the listings, with no task nor request.
            quick = _settled_by_listing(s, d, rules, plan)
            if quick is None:
                slow.append((s, d))
            else:
                changed[s.rel] = quick

    async def check(s: Entry, d: Entry) -> None:
        try:
            changed[s.rel] = await _differs(
                client, s, d, src, dst, plan, hash_limit, head_limit, rules
            )
        except Exception as exc:
            session.output.failed(
                "compare", _show(_source(src, s)), _show(_target(dst, s.rel)), exc
            )

    if slow:
        async with anyio.create_task_group() as tg:
            for s, d in slow:
                tg.start_soon(check, s, d)
    for s in sources:
        d = targets.get(s.rel)
        if d is not None:
            plan.compared += 1
            if d.size == s.size:
                if s.rel not in changed:
                    continue  # its comparison failed (reported): leave it alone
                if not changed[s.rel]:
                    plan.skipped += 1
                    continue
        if isinstance(s, RemoteEntry) and s.rel.endswith("/") and s.size == 0:
            continue  # a "directory marker" object
        try:
            target = _target(dst, s.rel)
        except ValueError as exc:
            session.output.failed("sync", _show(_source(src, s)), _show(dst), exc)
            continue
        mtime = s.mtime_ns if isinstance(s, LocalEntry) else None
        plan.transfers.append(Job(_source(src, s), target, s.size, mtime))
    if delete:
        names = {s.rel for s in sources}
        plan.deletes = [d for rel, d in sorted(targets.items()) if rel not in names]
    return plan


def _ns(when: dt.datetime | None) -> int | None:
    # Exact integer nanoseconds (a float timestamp would round them).
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return (when - _EPOCH) // dt.timedelta(microseconds=1) * 1000


def _settled_by_listing(s: Entry, d: Entry, rules: _Rules, plan: _Plan) -> bool | None:
    """Whether a same-size pair differs, when the listings alone tell (step 2); else None."""
    if isinstance(s, RemoteEntry) and isinstance(d, RemoteEntry):
        plan.by_etag += 1
        return s.etag != d.etag
    if rules.exact:
        return None
    local, remote = (s, d) if isinstance(s, LocalEntry) else (d, s)
    assert isinstance(local, LocalEntry) and isinstance(remote, RemoteEntry)
    listed = _ns(remote.last_modified)
    if listed is None:
        return None
    # The destination at least as new as the source: written from it (or after it) since
    # the source last changed. LastModified has whole seconds: a file changed within the
    # second of its upload falls through to the stored mtime, never the other way.
    newer = listed >= local.mtime_ns if isinstance(s, LocalEntry) else local.mtime_ns >= listed
    if newer:
        plan.by_mtime += 1
        return False
    return None


async def _differs(
    client: R2Client,
    s: Entry,
    d: Entry,
    src: Location,
    dst: Location,
    plan: _Plan,
    hash_limit: anyio.CapacityLimiter,
    head_limit: anyio.Semaphore,
    rules: _Rules,
) -> bool:
    local, remote = (s, d) if isinstance(s, LocalEntry) else (d, s)
    assert isinstance(local, LocalEntry) and isinstance(remote, RemoteEntry)
    plain = is_plain_md5(remote.etag)
    if rules.exact and plain:
        plan.by_md5 += 1
        return not await _same_md5(local, remote, hash_limit)
    bucket = src.bucket if isinstance(src, Remote) else dst.bucket  # type: ignore[union-attr]
    async with head_limit:
        head = await client.head_object(bucket, remote.key)
    stored = parse_mtime(head.metadata.get(MTIME_KEY))
    if stored is None and isinstance(s, RemoteEntry) and head.last_modified is not None:
        # A download without mtime metadata set the file's mtime to LastModified (seconds).
        stored = int(head.last_modified.timestamp()) * 10**9
    if stored is not None and abs(stored - local.mtime_ns) < _MTIME_TOLERANCE_NS:
        plan.by_mtime += 1
        return False
    if not plain or rules.exact:
        plan.by_mtime += 1
        return True
    plan.by_md5 += 1
    if not await _same_md5(local, remote, hash_limit):
        return True
    if isinstance(s, RemoteEntry) and not rules.dry_run:
        # Downloading, same bytes: the file takes the object's time, as a download would,
        # so the next sync settles it without reading it again.
        await anyio.to_thread.run_sync(restore_mtime_ns, local.path, stored)
    return False


async def _same_md5(
    local: LocalEntry, remote: RemoteEntry, hash_limit: anyio.CapacityLimiter
) -> bool:
    digest = await anyio.to_thread.run_sync(_md5, local.path, limiter=hash_limit)
    return digest == (remote.etag or "").strip('"').lower()


def _md5(path: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


async def _delete(
    client: R2Client, session: Session, dst: Location, deletes: list[Entry], dry_run: bool
) -> int:
    output = session.output
    if not deletes:
        return 0
    if isinstance(dst, Remote):
        keys = [d.key for d in deletes if isinstance(d, RemoteEntry)]
        return await delete_keys(client, session, dst.bucket, keys, dry_run=dry_run)
    count = 0
    for d in deletes:
        assert isinstance(d, LocalEntry)
        if dry_run:
            output.done("delete", d.path, None, d.size, dry_run=True)
        else:
            try:
                os.remove(d.path)
            except OSError as exc:
                output.failed("delete", d.path, None, exc)
                continue
            output.done("delete", d.path, None, d.size)
        count += 1
    return count
