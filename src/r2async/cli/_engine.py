"""Running many transfers: a fixed number of objects in flight, progress, failures collected.

One object's failure never stops the others; it is printed at once and listed at the end.
A missing bucket fails the remaining objects of that bucket without sending their requests.
"""

from __future__ import annotations

import contextlib
import gc
import math
import mimetypes
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import anyio

from r2async._md5_check import comparable_md5, confirm_md5
from r2async._options import NOT_GIVEN

from ._locations import Local, Location, Remote
from ._progress import FileProgress, Progress
from ._session import PART_CONCURRENCY, Session
from ._writer import FileWriter

if TYPE_CHECKING:
    from r2async import ObjectMetadata, R2Client

# The metadata key holding a file's modification time, as rclone does: decimal seconds since
# the epoch with nanoseconds ("1733230000.123456789"), so a download can restore it exactly.
MTIME_KEY = "mtime"
# Largest single PutObject (and CopyObject): R2 refuses more in one request.
MAX_SINGLE_REQUEST = 5 * 1024**3 - 5 * 1024**2
SINGLE_PUT_THRESHOLD = 16 * 1024**2
MAX_PARTS = 10_000
SMALL_FILE = 1024 * 1024
MAX_BIG_OBJECTS = 4
# Above either, a transfer uses the bulk (aiohttp) transport. Its import costs ~1 G
# instructions (~0.3 s of CPU: aiohttp's modules and the CA bundles it and the shared TLS
# context load) and it saves ~1 M instructions per small object against httpx (valgrind:
# 2,000 files of 4-256 KiB, 8.7 G against 9.8 G; 500 files, 4.0 G against 3.6 G; equal CPU
# time at about 500 files).
BULK_OBJECTS = 500
BULK_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class WriteOptions:
    """What cp/mv/sync store with each object written to R2."""

    content_type: str | None = None
    cache_control: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    if_none_match: bool = False

    @property
    def replaces_metadata(self) -> bool:
        """Whether an R2-to-R2 copy must replace the source's metadata with these."""
        return bool(self.content_type or self.cache_control or self.metadata)


@dataclass(frozen=True)
class Job:
    """One object to move: local to R2 (upload), R2 to local (download) or R2 to R2 (copy)."""

    src: Location
    dst: Location
    size: int | None = None
    mtime_ns: int | None = None

    @property
    def action(self) -> str:
        """'upload', 'download' or 'copy'."""
        if isinstance(self.src, Local):
            return "upload"
        return "download" if isinstance(self.dst, Local) else "copy"


def moves_bulk(jobs: Sequence[Job]) -> bool:
    """Whether jobs move enough object data to be worth the bulk transport's start-up.

    Args:
        jobs: the planned transfers (R2-to-R2 copies move no data through this process).
    """
    moving = [job for job in jobs if job.action != "copy"]
    if len(moving) > BULK_OBJECTS:
        return True
    if any(job.size is None for job in moving):
        return True  # a stream, or a download whose size is learnt from its first response
    return sum(job.size or 0 for job in moving) > BULK_BYTES


def describe_location(location: Location) -> str:
    """How a location is printed: the path, or the object's URL.

    Args:
        location: a job's source or destination.
    """
    return location.path if isinstance(location, Local) else location.url()


def format_mtime(mtime_ns: int) -> str:
    """The metadata value for a modification time in nanoseconds.

    Args:
        mtime_ns: ``st_mtime_ns``.
    """
    seconds, nanos = divmod(mtime_ns, 10**9)
    return f"{seconds}.{nanos:09d}"


def parse_mtime(value: str | None) -> int | None:
    """Nanoseconds from a ``mtime`` metadata value (None when absent or unreadable).

    Args:
        value: the stored value.
    """
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    if not number.is_finite() or not 0 <= number < 10**12:
        return None
    return int(number * 10**9)


def _mtime_ns(head: ObjectMetadata) -> int | None:
    # The file gets the object's recorded mtime (from an r2async upload), else its
    # LastModified, so `sync` back from R2 can tell it is unchanged.
    mtime_ns = parse_mtime(head.metadata.get(MTIME_KEY))
    if mtime_ns is None and head.last_modified is not None:
        mtime_ns = int(head.last_modified.timestamp()) * 10**9
    return mtime_ns


def _restore_mtime(path: str, head: ObjectMetadata) -> None:
    restore_mtime_ns(path, _mtime_ns(head))


def restore_mtime_ns(path: str, mtime_ns: int | None) -> None:
    """Set a file's modification time (its access time to now); nothing when None.

    Args:
        path: the file.
        mtime_ns: nanoseconds since the epoch.
    """
    if mtime_ns is not None:
        os.utime(path, ns=(time.time_ns(), mtime_ns))


def silence_stdout() -> None:
    """Point stdout at /dev/null: its reader is gone, and Python flushes it at exit."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


class Engine:
    """Runs jobs with ``--concurrency`` objects in flight and reports each one."""

    def __init__(
        self,
        client: R2Client,
        session: Session,
        write: WriteOptions,
        *,
        verb: str | None = None,
    ) -> None:
        """Prepare to run jobs.

        Args:
            client: the client.
            session: global options and output.
            write: what to store with uploaded/copied objects.
            verb: the word printed for each object instead of the action (e.g. 'move').
        """
        self.client = client
        self.session = session
        self.output = session.output
        self.write = write
        self.verb = verb
        self.progress = Progress()
        # Big objects move PART_CONCURRENCY parts at once each; bounding how many run together
        # keeps requests in flight near --concurrency and memory below
        # part_size * PART_CONCURRENCY * MAX_BIG_OBJECTS (256 MiB at the defaults).
        self._big = anyio.Semaphore(
            max(1, min(MAX_BIG_OBJECTS, session.concurrency // PART_CONCURRENCY))
        )
        self._missing_buckets: dict[str, BaseException] = {}
        # Directories this run made or found: one makedirs per directory, not per file.
        self._directories: set[str] = set()
        self.bytes_done = 0
        # Worker threads writing small downloaded objects, started by the first one.
        self._writer: FileWriter | None = None

    @property
    def threshold(self) -> int:
        """Largest object sent as one request."""
        return max(SINGLE_PUT_THRESHOLD, self.session.part_size)

    async def run(self, jobs: Sequence[Job], *, label: str) -> list[Job]:
        """Run every job; return the ones that succeeded (failures are in the output).

        Args:
            jobs: the objects to move.
            label: the progress display's first column.
        """
        succeeded: list[Job] = []
        total = sum(job.size or 0 for job in jobs)
        self.progress.start(
            total_bytes=total,
            total_objects=len(jobs),
            label=label,
            show=self.session.show_progress,
        )
        pending: Iterator[Job] = iter(jobs)

        async def worker() -> None:
            # Workers share one iterator: each takes the next job when it is free.
            for job in pending:
                if await self._run_one(job):
                    succeeded.append(job)

        # Everything imported and planned so far outlives the transfers: kept out of the
        # collector's passes meanwhile, which otherwise walk it again and again (-2% of the
        # CPU of 500 small downloads, valgrind); given back afterwards (main() may be called
        # in a longer-lived process).
        gc.freeze()
        try:
            async with anyio.create_task_group() as tg:
                for _ in range(min(self.session.concurrency, len(jobs))):
                    tg.start_soon(worker)
        finally:
            gc.unfreeze()
            self.progress.close()
            if self._writer is not None:
                # Writes whose callers were cancelled finish (whole files, never partial).
                self._writer.close()
                self._writer = None
        return succeeded

    async def _run_one(self, job: Job) -> bool:
        tracker = FileProgress(self.progress)
        action = job.action
        try:
            for loc in (job.src, job.dst):
                if isinstance(loc, Remote) and loc.bucket in self._missing_buckets:
                    raise self._missing_buckets[loc.bucket]
            big = job.size is None or job.size > self.threshold
            if big:
                async with self._big:
                    size = await self._transfer(job, tracker)
            else:
                size = await self._transfer(job, tracker)
        except Exception as exc:
            tracker.undo()
            if type(exc).__name__ == "NoSuchBucketError":
                name = getattr(exc, "bucket", None)
                if name:
                    self._missing_buckets.setdefault(name, exc)
            self.output.failed(
                self.verb or action,
                describe_location(job.src),
                describe_location(job.dst),
                exc,
            )
            self.progress.object_done()
            return False
        self.bytes_done += size
        self.progress.object_done()
        self.output.done(
            self.verb or action, describe_location(job.src), describe_location(job.dst), size
        )
        return True

    async def _transfer(self, job: Job, tracker: FileProgress) -> int:
        src, dst = job.src, job.dst
        if isinstance(src, Local) and isinstance(dst, Remote):
            return await self._upload(src.path, dst, job, tracker)
        if isinstance(src, Remote) and isinstance(dst, Local):
            return await self._download(src, dst.path, job.size, tracker)
        assert isinstance(src, Remote) and isinstance(dst, Remote)
        return await self._copy(src, dst, job.size, tracker)

    async def _upload(self, path: str, dst: Remote, job: Job, tracker: FileProgress) -> int:
        write = self.write
        metadata = dict(write.metadata)
        if job.mtime_ns is not None:
            metadata.setdefault(MTIME_KEY, format_mtime(job.mtime_ns))
        content_type = write.content_type
        if content_type is None and path != "-":
            content_type = mimetypes.guess_type(path, strict=False)[0]
        common = {
            "part_size": self.session.part_size,
            "threshold": self.threshold,
            "concurrency": PART_CONCURRENCY,
            "progress": tracker,
            "content_type": content_type,
            "cache_control": write.cache_control,
            "metadata": metadata or None,
            "if_none_match": "*" if write.if_none_match else None,
        }
        if job.size is not None and job.size <= SMALL_FILE and path != "-":
            # A small file costs less read here in one call than streamed through worker
            # threads (a thread hop per read, seek and close; measured on 2,000 files).
            with open(path, "rb") as f:  # noqa: ASYNC230 (<= 1 MiB from the page cache)
                data = f.read()
            put = await self.client.put_object(
                dst.bucket,
                dst.key,
                data,
                content_type=content_type,
                cache_control=write.cache_control,
                metadata=metadata or None,
                if_none_match="*" if write.if_none_match else None,
            )
            del put
            tracker(len(data), len(data))
            return len(data)
        if path == "-":
            result = await self.client.upload_stream(
                dst.bucket,
                dst.key,
                sys.stdin.buffer,
                **common,  # type: ignore[arg-type]
            )
        else:
            result = await self.client.upload_file(
                dst.bucket,
                dst.key,
                path,
                **common,  # type: ignore[arg-type]
            )
        return result.size

    async def _download(
        self, src: Remote, path: str, size: int | None, tracker: FileProgress
    ) -> int:
        if path == "-":
            return await self._download_stdout(src, tracker)
        parent = os.path.dirname(path)
        if parent and parent not in self._directories:
            os.makedirs(parent, exist_ok=True)
            self._directories.add(parent)
        if size is not None and size <= SMALL_FILE:
            return await self._download_small(src, path, tracker)
        result = await self.client.download_file(
            src.bucket,
            src.key,
            path,
            part_size=self.session.part_size,
            concurrency=PART_CONCURRENCY,
            progress=tracker,
        )
        _restore_mtime(path, result)
        return result.content_length or 0

    async def _download_small(self, src: Remote, path: str, tracker: FileProgress) -> int:
        # One GET into memory, then one worker-thread hand-off (cli/_writer.py) that compares
        # the body with a plain-MD5 ETag and writes, renames and dates the file: that work
        # (most of a small object's cost on the loop) spreads over the cores, and the loop
        # skips download_file's several hand-offs per object. The comparison is get_object's
        # own (r2async._md5_check): a mismatch is IntegrityError unless a HEAD shows the
        # object is multipart, and a failed check writes nothing.
        result = await self.client.get_object(src.bucket, src.key, verify_md5=False)
        data = result.body
        expected = comparable_md5(result.etag, sse_c=False)
        mtime_ns = _mtime_ns(result)
        writer = self._writer
        if writer is None:
            writer = self._writer = FileWriter()
        digest = await writer.write(path, data, mtime_ns, expected)
        if digest is not None:
            assert expected is not None and result.etag is not None
            await confirm_md5(
                self.client,
                src.bucket,
                src.key,
                etag=result.etag,
                expected=expected,
                digest=digest,
                size=len(data),
                headers=None,
                timeout=NOT_GIVEN,
            )
            # A multipart object (its ETag is no MD5 of the bytes): kept unverified, as
            # get_object and download_file keep it.
            await writer.write(path, data, mtime_ns, None)
        tracker(len(data), len(data))
        return len(data)

    async def _download_stdout(self, src: Remote, tracker: FileProgress) -> int:
        out = sys.stdout.buffer
        size = 0
        stream = self.client.download_stream(
            src.bucket,
            src.key,
            part_size=self.session.part_size,
            concurrency=PART_CONCURRENCY,
            progress=tracker,
        )
        try:
            async with stream:
                async for chunk in stream:
                    out.write(chunk)
                    size += len(chunk)
            out.flush()
        except BrokenPipeError:
            # The reader went away (`r2async cat ... | head`): stop quietly, as cat does.
            silence_stdout()
        return size

    async def _copy(self, src: Remote, dst: Remote, size: int | None, tracker: FileProgress) -> int:
        write = self.write
        if size is None:
            size = (await self.client.head_object(src.bucket, src.key)).content_length or 0
        if size > MAX_SINGLE_REQUEST:
            await self._copy_multipart(src, dst, size, tracker)
            return size
        await self.client.copy_object(
            dst.bucket,
            dst.key,
            source_key=src.key,
            source_bucket=src.bucket,
            metadata_directive="REPLACE" if write.replaces_metadata else None,
            content_type=write.content_type,
            cache_control=write.cache_control,
            metadata=write.metadata or None,
            destination_if_none_match="*" if write.if_none_match else None,
        )
        tracker(size, size)
        return size

    async def _copy_multipart(
        self, src: Remote, dst: Remote, size: int, tracker: FileProgress
    ) -> None:
        # CopyObject stops at 5 GB: copy ranges with UploadPartCopy (equal parts, as R2 needs),
        # keeping the source's type and metadata unless options replace them.
        head = await self.client.head_object(src.bucket, src.key)
        write = self.write
        part = max(self.session.part_size, math.ceil(size / MAX_PARTS))
        upload = await self.client.create_multipart_upload(
            dst.bucket,
            dst.key,
            content_type=write.content_type or head.content_type,
            cache_control=write.cache_control or head.cache_control,
            metadata=write.metadata or head.metadata or None,
            if_none_match="*" if write.if_none_match else None,
        )
        ranges = [(start, min(start + part, size) - 1) for start in range(0, size, part)]
        results: dict[int, object] = {}
        done = 0
        limit = anyio.Semaphore(PART_CONCURRENCY)

        async def copy_part(number: int, first: int, last: int) -> None:
            nonlocal done
            async with limit:
                results[number] = await self.client.upload_part_copy(
                    dst.bucket,
                    dst.key,
                    upload.upload_id,
                    number,
                    src.bucket,
                    src.key,
                    source_range=(first, last),
                )
            done += last - first + 1
            tracker(done, size)

        try:
            async with anyio.create_task_group() as tg:
                for number, (first, last) in enumerate(ranges, 1):
                    tg.start_soon(copy_part, number, first, last)
            await self.client.complete_multipart_upload(
                dst.bucket,
                dst.key,
                upload.upload_id,
                [results[n] for n in sorted(results)],  # type: ignore[misc]
            )
        except BaseException:
            with anyio.CancelScope(shield=True):
                try:
                    await self.client.abort_multipart_upload(dst.bucket, dst.key, upload.upload_id)
                except Exception as exc:
                    self.output.error(f"could not abort the copy's multipart upload: {exc}")
            raise
