"""download_file: parallel ranged GETs into a temporary file renamed into place when complete.

Ownership, so that a cancellation at any await leaves nothing behind: the output file is
opened in a worker thread that runs to completion even when the caller is cancelled
(``run_shielded``), and from then on its descriptor and path belong to the cleanup below;
the first response belongs to this function's ``finally`` from the moment ``open_first``
returns it (before the first ``slots.acquire()`` or ``progress.add()``), and every later
part's response to the task that opened it. Each is closed, shielded, on any exit.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc

from .._construct import construct, fields_of
from .._exceptions import IntegrityError
from .._md5_check import comparable_md5, confirm_md5
from .cleanup import close_shielded, run_shielded, unwrapped
from .files import (
    RESUME_SUFFIX,
    fsync_dir,
    md5_of_fd,
    open_new,
    open_partial,
    pwrite,
    pwrite_crc,
    temp_path,
    unlink_quietly,
)
from .options import DownloadOptions
from .progress import Progress
from .ranges import (
    FirstResponse,
    changed_note,
    check_chunk,
    check_end,
    open_first,
    open_part,
    part_spans,
)
from .results import DownloadResult
from .resume import ResumeState, open_resumed

if TYPE_CHECKING:
    from .._streaming import ObjectStream
    from .client import TransferClient


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
    if state is not None:
        resuming = await anyio.to_thread.run_sync(state.load)
        if not resuming:
            # Start over: no bytes of an unknown or other object version may be reused.
            await anyio.to_thread.run_sync(state.reset)
    opened: list[tuple[int, str]] = []

    async def open_output() -> None:
        result = await anyio.to_thread.run_sync(_open_output, dest, tmp, state, resuming)
        opened.append(result)  # before anything can interrupt: the cleanup sees it

    lock = threading.Lock()
    progress = Progress(opts.progress, None)
    discard = state is None  # delete the partial file on failure
    first: FirstResponse | None = None
    written = 0
    try:
        # Shielded: a cancellation waits for the open, so its descriptor is never lost.
        await run_shielded(open_output)
        out_fd, tmp = opened[0]
        if state is not None and tmp != dest + RESUME_SUFFIX:
            # Something that cannot be removed is at the partial path: not resumable.
            state, resuming, discard = None, False, True
        if state is not None and resuming:
            first = await open_resumed(client, opts, state)
            if first is None:  # the object changed since: start over
                resuming = False
                await anyio.to_thread.run_sync(state.reset)
                await run_shielded(
                    functools.partial(anyio.to_thread.run_sync, os.ftruncate, out_fd, 0)
                )
        if first is None:
            first = await open_first(client, opts)
        size, etag = first.size, first.etag
        progress.total = size
        failure: list[Exception] = []
        slots = anyio.Semaphore(opts.concurrency)
        spans: Iterable[tuple[int, int]]
        if state is not None and resuming:
            first_start = first.start
            # Lazily: parts recorded meanwhile were already produced (both go in order).
            spans = (state.span(i) for i in state.missing() if i * opts.part_size != first_start)
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
            crc = 0
            # One chunk is written (in a worker thread) while the next is read, so that the
            # connection's reader is usually waiting when bytes arrive and the transport
            # places them in its chunk directly (not queued, then copied). Writes stay in
            # order (each waits for the one before: the part's CRC runs over them in order);
            # at most two chunks per part are held.
            wrote = anyio.Event()
            wrote.set()

            async def write(chunk: bytes, at: int, finished: anyio.Event) -> None:
                nonlocal crc, written
                try:
                    if track:
                        crc = await anyio.to_thread.run_sync(
                            pwrite_crc, out_fd, chunk, at, lock, crc
                        )
                    else:
                        await anyio.to_thread.run_sync(pwrite, out_fd, chunk, at, lock)
                    written += len(chunk)
                    await progress.add(len(chunk))
                finally:
                    finished.set()

            try:
                async with anyio.create_task_group() as writes:
                    async for chunk in stream:
                        check_chunk(pos, len(chunk), start, end, opts.key)
                        await wrote.wait()
                        wrote = anyio.Event()
                        writes.start_soon(write, chunk, pos, wrote)
                        pos += len(chunk)
            except BaseException as exc:
                # The part's own failure, not the group anyio wraps it in.
                raise unwrapped(exc) from None
            finally:
                await close_shielded(stream)
            check_end(pos, start, end, opts.key)
            if track:
                assert state is not None
                generation, done = state.snapshot(start // opts.part_size, crc)
                await anyio.to_thread.run_sync(state.save, generation, done, out_fd, fsync)

        async def fetch(start: int, end: int) -> None:
            assert first is not None
            # open_part closes the response itself if its checks fail; consume closes it
            # from its first line on, and nothing awaits in between.
            stream = await open_part(client, opts, first, start, end)
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
        expected = comparable_md5(etag, sse_c="sse_customer_key" in opts.read_args)
        if verify_md5 and expected is not None and etag is not None:
            digest = await run_shielded(
                functools.partial(anyio.to_thread.run_sync, md5_of_fd, out_fd, size)
            )
            # Whatever the answer, bytes that failed the comparison are never resumed from.
            discard = discard or digest.lower() != expected
            md5_checked = await confirm_md5(
                client,
                opts.bucket,
                opts.key,
                etag=etag,
                expected=expected,
                digest=digest,
                size=size,
                headers=opts.headers,
                timeout=opts.timeout,
            )
        if fsync:
            await run_shielded(functools.partial(anyio.to_thread.run_sync, os.fsync, out_fd))
        # Reported before the rename, so a callback that raises still leaves ``dest`` alone.
        await progress.finish()
        opened.clear()
        os.close(out_fd)
        # In a worker thread (a rename waits on the file system), shielded: no cancellation
        # may land between "replaced" and "reported as failed".
        await run_shielded(functools.partial(anyio.to_thread.run_sync, os.replace, tmp, dest))
        if state is not None:
            state.reset()
    except BaseException:
        # No awaits here: cleanup must happen even while being cancelled.
        if opened:
            out_fd, tmp = opened.pop()
            os.close(out_fd)
        if discard or state is None or not state.on_disk:
            unlink_quietly(tmp)
            if state is not None:
                state.reset()
        raise
    finally:
        if first is not None:
            await close_shielded(first.stream)  # already closed unless its task never ran
    if fsync:
        await anyio.to_thread.run_sync(fsync_dir, directory)
    meta = first.stream.metadata
    fields = fields_of(meta)
    fields.update(content_length=size, content_range=None, path=dest, md5_verified=md5_checked)
    # Without a validator, as the object operations' results (see _construct).
    return construct(DownloadResult, fields)


def _open_output(dest: str, tmp: str, state: ResumeState | None, resuming: bool) -> tuple[int, str]:
    """Open the partial file (blocking): its descriptor and path.

    A resumable download continues (or truncates) ``<dest>.r2async-part`` unless something that
    cannot be cleared is in its way (a non-empty directory); then, as without ``resume``, a new
    temporary file with a random name is used. Never opened through a symlink.
    """
    if state is not None:
        try:
            return open_partial(tmp, keep=resuming), tmp
        except OSError:
            state.on_disk = False
            tmp = temp_path(dest)[2]
    return open_new(tmp), tmp
