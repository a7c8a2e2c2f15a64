"""download_file: parallel ranged GETs into a temporary file renamed into place when complete."""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from .._exceptions import IntegrityError
from .._headers import etag_unquoted
from .cleanup import close_shielded
from .files import fsync_dir, md5_of_fd, pwrite, temp_path, unlink_quietly
from .options import DownloadOptions
from .progress import Progress
from .ranges import FirstResponse, changed_note, open_first, parse_content_range, part_spans
from .results import DownloadResult
from .resume import ResumeState, open_resumed

if TYPE_CHECKING:
    from .._streaming import ObjectStream
    from .client import TransferClient

_MD5_ETAG = re.compile(r"^[0-9a-fA-F]{32}$")


async def download_file(
    client: TransferClient,
    opts: DownloadOptions,
    path: str,
    *,
    verify_md5: bool,
    fsync: bool,
    resume: bool = False,
) -> DownloadResult:
    """Download to ``path`` through a temporary file renamed into place when complete."""
    dest, directory, tmp = await anyio.to_thread.run_sync(
        functools.partial(temp_path, path, resume=resume)
    )
    state = ResumeState(tmp, opts) if resume else None
    resuming = False
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0)
    if state is None:
        flags |= os.O_EXCL
    else:
        resuming = await anyio.to_thread.run_sync(state.load)
        if not resuming:
            # Start over: no bytes of an unknown or other object version may be reused.
            await anyio.to_thread.run_sync(state.reset)
            flags |= os.O_TRUNC
    out_fd: int = await anyio.to_thread.run_sync(os.open, tmp, flags, 0o666)
    fd: int | None = out_fd
    lock = threading.Lock()
    progress = Progress(opts.progress, None)
    discard = state is None  # delete the partial file on failure
    try:
        first: FirstResponse | None = None
        if state is not None and resuming:
            first = await open_resumed(client, opts, state)
            if first is None:  # the object changed since: start over
                resuming = False
                await anyio.to_thread.run_sync(state.reset)
                await anyio.to_thread.run_sync(os.ftruncate, out_fd, 0)
        if first is None:
            first = await open_first(client, opts)
        size, etag = first.size, first.etag
        progress.total = size
        failure: list[Exception] = []
        slots = anyio.Semaphore(opts.concurrency)
        written = 0
        if state is not None and resuming:
            spans = [state.span(i) for i in state.missing() if state.span(i)[0] != first.start]
            written = state.bytes_done()
            await progress.add(written)  # the bytes already on disk, reported first
        else:
            spans = part_spans(first.end, size, opts.part_size)
            if state is not None:
                state.start(etag, size)
        track = state is not None and state.active

        async def consume(stream: ObjectStream, start: int, end: int) -> None:
            nonlocal written
            pos = start
            try:
                async for chunk in stream:
                    if pos + len(chunk) > end + 1:
                        raise IntegrityError(f"GetObject sent more than bytes {start}-{end}")
                    await anyio.to_thread.run_sync(pwrite, out_fd, chunk, pos, lock)
                    pos += len(chunk)
                    written += len(chunk)
                    await progress.add(len(chunk))
            finally:
                await close_shielded(stream)
            if pos != end + 1:
                raise IntegrityError(
                    f"GetObject of {opts.key!r} bytes {start}-{end} ended after {pos - start} bytes"
                )
            if track:
                assert state is not None
                generation, done = state.snapshot(start // opts.part_size)
                await anyio.to_thread.run_sync(state.save, generation, done, out_fd, fsync)

        async def fetch(start: int, end: int) -> None:
            stream = opts.stream(client, (start, end), etag)
            try:
                await stream.__aenter__()
                span = parse_content_range(stream.metadata)
                if span is None or span[:2] != (start, end) or span[2] != size:
                    raise IntegrityError(
                        f"asked for bytes {start}-{end}/{size} of {opts.key!r} but got "
                        f"{stream.metadata.content_range!r}"
                    )
            except BaseException:
                await close_shielded(stream)
                raise
            await consume(stream, start, end)

        async def guarded(
            tg: anyio.abc.TaskGroup, func: Callable[..., Awaitable[None]], *args: Any
        ) -> None:
            try:
                await func(*args)
            except Exception as exc:
                if not failure:
                    failure.append(exc)
                tg.cancel_scope.cancel()
            finally:
                slots.release()

        async with anyio.create_task_group() as tg:
            await slots.acquire()
            tg.start_soon(guarded, tg, consume, first.stream, first.start, first.end)
            try:
                for start, end in spans:
                    await slots.acquire()
                    tg.start_soon(guarded, tg, fetch, start, end)
            except Exception as exc:  # pragma: no cover - defensive
                failure.append(exc)
                tg.cancel_scope.cancel()
        if failure:
            changed_note(failure[0], opts.key, etag)
            raise failure[0]
        actual = os.fstat(out_fd).st_size
        if written != size or actual != size:
            discard = True  # the bytes on disk are wrong: never resume from them
            raise IntegrityError(
                f"downloaded {written:,} bytes of {opts.key!r} (file has {actual:,}) but the "
                f"object has {size:,}"
            )
        md5_checked = False
        plain = etag_unquoted(etag)
        if (
            verify_md5
            and plain is not None
            and _MD5_ETAG.match(plain)
            and "sse_customer_key" not in opts.read_args
        ):
            digest = await anyio.to_thread.run_sync(md5_of_fd, out_fd, size)
            if digest.lower() != plain.lower():
                discard = True
                raise IntegrityError(
                    f"the MD5 of the downloaded {opts.key!r} is {digest}, but its ETag is {plain}"
                )
            md5_checked = True
        if fsync:
            await anyio.to_thread.run_sync(os.fsync, out_fd)
        # Reported before the rename, so a callback that raises still leaves ``dest`` alone.
        await progress.finish()
        os.close(out_fd)
        fd = None
        # Synchronous on purpose: a rename is instant, and no cancellation may land between
        # "replaced" and "reported as failed".
        os.replace(tmp, dest)
        if state is not None:
            state.reset()
    except BaseException:
        # No awaits here: cleanup must happen even while being cancelled.
        if fd is not None:
            os.close(fd)
        if discard or state is None or not state.on_disk:
            unlink_quietly(tmp)
            if state is not None:
                state.reset()
        raise
    if fsync:
        await anyio.to_thread.run_sync(fsync_dir, directory)
    meta = first.stream.metadata
    fields = meta.model_dump()
    fields.update(content_length=size, content_range=None)
    return DownloadResult(path=dest, md5_verified=md5_checked, **fields)
