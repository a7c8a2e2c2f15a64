"""``R2Store``: obspec's protocols (Get, Put, List, Head, Delete, Copy, Rename) on R2Client."""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from r2async import InvalidRangeError, R2Client

from .errors import NotSupportedError, store_errors
from .inputs import as_bytes, is_buffer
from .loops import ClientSlot, run_sync
from .ranges import coalesce, range_header, resolve_ranges
from .results import (
    AsyncGetResult,
    SyncGetResult,
    attribute_kwargs,
    meta,
    total_size,
)

if TYPE_CHECKING:
    from obspec import (
        Attributes,
        GetOptions,
        ListResult,
        ObjectMeta,
        PutMode,
        PutResult,
    )

__all__ = ["R2Store"]

MiB = 1024 * 1024
# Bodies up to this go out as one PutObject unless use_multipart=True.
_SINGLE_PUT = 16 * MiB
# The largest single PutObject r2async sends (R2: 5 GiB - 5 MiB).
_MAX_SINGLE_PUT = 5_363_466_240
_CLIENT_ARGS = (
    "account_id",
    "access_key_id",
    "secret_access_key",
    "session_token",
    "jurisdiction",
    "endpoint_url",
    "headers",
    "operation_headers",
    "timeout",
    "max_retries",
    "transport",
)


class R2Store:
    """An obspec store over one R2 bucket: ``R2Store("bucket").get("key").buffer()``.

    Every protocol has a sync method (run on a background event loop; not for async code)
    and an ``*_async`` twin for your own loop. Paths are keys relative to ``prefix``.
    Errors carry obspec's names (``NotFoundError`` is a FileNotFoundError,
    ``AlreadyExistsError`` a FileExistsError, ...), each chaining the typed R2 error.
    """

    def __init__(self, bucket: str, *, prefix: str | None = None, **client_options: Any) -> None:
        """A store over ``bucket``; unset client options come from the ``R2_*`` variables.

        Args:
            bucket: the bucket name (R2 rules; checked now).
            prefix: a key prefix every path is relative to (default none).
            client_options: ``R2Client`` arguments (``endpoint_url``, ``jurisdiction``,
                ``headers``, ``timeout``, ``max_retries``, ``transport``, credentials).
        """
        from r2async._fs.paths import check_bucket  # standard library only

        unknown = sorted(set(client_options) - set(_CLIENT_ARGS))
        if unknown:
            raise TypeError(f"R2Store() got unexpected keyword arguments {unknown}")
        self.bucket = check_bucket(bucket)
        self.prefix = prefix.strip("/") + "/" if prefix and prefix.strip("/") else ""
        self._options = {k: v for k, v in client_options.items() if v is not None}
        self._slot = ClientSlot(self._options)
        # The sync API's client lives on the background loop: close it there when the store
        # goes away (holds the slot, not self).
        weakref.finalize(self, self._slot.close_sync)

    def __repr__(self) -> str:
        return f"R2Store(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Only the options travel (Dask, multiprocessing): the client is rebuilt on first use.
        return (_rebuild, (self.bucket, self.prefix or None, self._options))

    async def _client(self) -> R2Client:
        return self._slot.get()

    async def aclose(self) -> None:
        """Close the client of the running loop (a later call opens a fresh one)."""
        await self._slot.aclose()

    async def __aenter__(self) -> R2Store:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _key(self, path: str) -> str:
        if not isinstance(path, str):
            raise TypeError(f"path must be a str, got {type(path).__name__}")
        key = self.prefix + path.lstrip("/")
        if not key:
            raise ValueError("an empty path names no object")
        return key

    def _path(self, key: str) -> str:
        return key[len(self.prefix) :]

    # -- Get -------------------------------------------------------------------------------

    async def get_async(self, path: str, *, options: GetOptions | None = None) -> AsyncGetResult:
        """Read an object: stream the result or ``await result.buffer_async()``.

        Args:
            path: the object's path.
            options: obspec ``GetOptions`` (conditions, ``range``, ``head``); ``version``
                is not supported by R2.
        """
        options = options or {}
        key = self._key(path)
        if options.get("version") is not None:
            raise NotSupportedError("R2 has no object versions")
        conditions: dict[str, Any] = {
            name: options.get(name)
            for name in ("if_match", "if_none_match", "if_modified_since", "if_unmodified_since")
        }
        byte_range, start = range_header(options.get("range"))
        client = await self._client()
        if options.get("head"):
            # No body: a HEAD with the same conditions (also right for empty objects, where
            # any Range would be unsatisfiable).
            with store_errors(path):
                head = await client.head_object(self.bucket, key, **conditions)
            return AsyncGetResult(None, path, 0, head.content_length or 0, head)
        stream = client.stream_object(self.bucket, key, range=byte_range, **conditions)
        with store_errors(path):
            await stream.__aenter__()
        try:
            metadata = stream.metadata
            size = total_size(metadata.content_range, metadata.content_length)
            if start < 0:
                start = max(0, size + start)
            return AsyncGetResult(stream, path, start, size, metadata)
        except BaseException:
            await stream.aclose()
            raise

    def get(self, path: str, *, options: GetOptions | None = None) -> SyncGetResult:
        """Sync ``get_async``: iterate the result or call ``buffer()``.

        Args:
            path: the object's path.
            options: obspec ``GetOptions``.
        """
        return SyncGetResult(run_sync(self.get_async(path, options=options)))

    async def get_range_async(
        self, path: str, *, start: int, end: int | None = None, length: int | None = None
    ) -> bytes:
        """Bytes [start, end) (or ``length`` bytes from ``start``) of an object.

        Args:
            path: the object's path.
            start: the first byte.
            end: the end, exclusive (give ``end`` or ``length``).
            length: the number of bytes (give ``end`` or ``length``).
        """
        ((start, end),) = resolve_ranges([start], None if end is None else [end], _one(length))
        client = await self._client()
        with store_errors(path):
            try:
                result = await client.get_object(
                    self.bucket, self._key(path), range=f"bytes={start}-{end - 1}"
                )
            except InvalidRangeError as exc:
                raise ValueError(f"range starts after the end of {path!r}") from exc
        return result.body

    def get_range(
        self, path: str, *, start: int, end: int | None = None, length: int | None = None
    ) -> bytes:
        """Sync ``get_range_async``.

        Args:
            path: the object's path.
            start: the first byte.
            end: the end, exclusive.
            length: the number of bytes.
        """
        return run_sync(self.get_range_async(path, start=start, end=end, length=length))

    async def get_ranges_async(
        self,
        path: str,
        *,
        starts: Sequence[int],
        ends: Sequence[int] | None = None,
        lengths: Sequence[int] | None = None,
    ) -> list[bytes]:
        """Several ranges of one object; nearby ranges share a GET, GETs run in parallel.

        Args:
            path: the object's path.
            starts: the first byte of each range.
            ends: each range's end, exclusive (give ``ends`` or ``lengths``).
            lengths: each range's length (give ``ends`` or ``lengths``).
        """
        wanted = resolve_ranges(starts, ends, lengths)
        fetches = coalesce(wanted)
        semaphore = asyncio.Semaphore(8)

        async def fetch(begin: int, stop: int) -> bytes:
            async with semaphore:
                return await self.get_range_async(path, start=begin, end=stop)

        bodies = await asyncio.gather(*(fetch(b, e) for b, e in fetches))
        out: list[bytes] = []
        for start, end in wanted:
            for (begin, stop), body in zip(fetches, bodies, strict=True):
                if begin <= start and end <= stop:
                    out.append(body[start - begin : end - begin])
                    break
        return out

    def get_ranges(
        self,
        path: str,
        *,
        starts: Sequence[int],
        ends: Sequence[int] | None = None,
        lengths: Sequence[int] | None = None,
    ) -> list[bytes]:
        """Sync ``get_ranges_async``.

        Args:
            path: the object's path.
            starts: the first byte of each range.
            ends: each range's end, exclusive.
            lengths: each range's length.
        """
        return run_sync(self.get_ranges_async(path, starts=starts, ends=ends, lengths=lengths))

    # -- Head --------------------------------------------------------------------------------

    async def head_async(self, path: str) -> ObjectMeta:
        """An object's ``ObjectMeta`` (HeadObject).

        Args:
            path: the object's path.
        """
        client = await self._client()
        with store_errors(path):
            head = await client.head_object(self.bucket, self._key(path))
        return meta(path, head.content_length, head.etag, head.last_modified)

    def head(self, path: str) -> ObjectMeta:
        """Sync ``head_async``.

        Args:
            path: the object's path.
        """
        return run_sync(self.head_async(path))

    # -- Put ---------------------------------------------------------------------------------

    async def put_async(
        self,
        path: str,
        file: IO[bytes]
        | Path
        | bytes
        | Any
        | AsyncIterator[Any]
        | AsyncIterable[Any]
        | Iterator[Any]
        | Iterable[Any],
        *,
        attributes: Attributes | None = None,
        tags: dict[str, str] | None = None,
        mode: PutMode | None = None,
        use_multipart: bool | None = None,
        chunk_size: int = 5 * MiB,
        max_concurrency: int = 12,
    ) -> PutResult:
        """Write an object: one PutObject, or a multipart upload of equal parts.

        Args:
            path: the object's path.
            file: bytes or any buffer, a path, a binary file, or an (async) iterable of
                buffers.
            attributes: HTTP attributes (``Content-Type``, ...); other names are user
                metadata.
            tags: not supported by R2 (must be empty).
            mode: 'overwrite' (default), 'create' (``If-None-Match: *``) or an
                ``UpdateVersion`` (``If-Match`` on its ``e_tag``).
            use_multipart: force (True) or forbid (False) a multipart upload (default:
                multipart above 16 MiB).
            chunk_size: bytes per part (default 5 MiB, R2's smallest part).
            max_concurrency: parts in flight at once (default 12).
        """
        if tags:
            raise NotSupportedError("R2 does not support object tags")
        key = self._key(path)
        write = attribute_kwargs(attributes)
        create = mode == "create"
        if create:
            write["if_none_match"] = "*"
        elif isinstance(mode, Mapping):
            if mode.get("version") is not None:
                raise NotSupportedError("R2 has no object versions")
            if not mode.get("e_tag"):
                raise ValueError("an UpdateVersion needs an e_tag")
            write["if_match"] = mode["e_tag"]
        elif mode not in (None, "overwrite"):
            raise ValueError(f"mode must be 'create', 'overwrite' or an UpdateVersion: {mode!r}")
        # use_multipart=False: one PutObject up to R2's largest (5 GiB); True: always parts.
        if use_multipart is None:
            threshold = _SINGLE_PUT
        else:
            threshold = 0 if use_multipart else _MAX_SINGLE_PUT
        transfer: dict[str, Any] = {
            "part_size": max(chunk_size, 5 * MiB),
            "concurrency": max(1, min(max_concurrency, 64)),
            "threshold": threshold,
        }
        client = await self._client()
        with store_errors(path, create=create):
            if isinstance(file, (str, os.PathLike)) or hasattr(file, "read"):
                source = cast("str | os.PathLike[str] | IO[bytes]", file)
                result = await client.upload_file(self.bucket, key, source, **transfer, **write)
            elif is_buffer(file):
                data = memoryview(cast("bytes", file)).cast("B")
                if len(data) <= threshold:
                    put = await client.put_object(self.bucket, key, data, **write)
                    return {"e_tag": put.etag, "version": None}
                result = await client.upload_stream(
                    self.bucket, key, data, content_length=len(data), **transfer, **write
                )
            else:
                result = await client.upload_stream(
                    self.bucket, key, as_bytes(file), **transfer, **write
                )
        return {"e_tag": result.etag, "version": None}

    def put(
        self,
        path: str,
        file: IO[bytes] | Path | bytes | Any | Iterator[Any] | Iterable[Any],
        *,
        attributes: Attributes | None = None,
        tags: dict[str, str] | None = None,
        mode: PutMode | None = None,
        use_multipart: bool | None = None,
        chunk_size: int = 5 * MiB,
        max_concurrency: int = 12,
    ) -> PutResult:
        """Sync ``put_async``.

        Args:
            path: the object's path.
            file: bytes or any buffer, a path, a binary file, or an iterable of buffers.
            attributes: HTTP attributes; other names are user metadata.
            tags: not supported by R2 (must be empty).
            mode: 'overwrite' (default), 'create' or an ``UpdateVersion``.
            use_multipart: force (True) or forbid (False) a multipart upload.
            chunk_size: bytes per part (default 5 MiB).
            max_concurrency: parts in flight at once (default 12).
        """
        return run_sync(
            self.put_async(
                path,
                file,
                attributes=attributes,
                tags=tags,
                mode=mode,
                use_multipart=use_multipart,
                chunk_size=chunk_size,
                max_concurrency=max_concurrency,
            )
        )

    # -- List --------------------------------------------------------------------------------

    async def list_async(
        self, prefix: str | None = None, *, offset: str | None = None, chunk_size: int = 1000
    ) -> AsyncIterator[Sequence[ObjectMeta]]:
        """Every object under ``prefix`` (recursive), one page (``chunk_size``) at a time.

        Args:
            prefix: a path prefix, matched on whole segments ('a/b' lists 'a/b/x', not
                'a/bc') (default: everything).
            offset: only paths sorting after this one (default: from the start).
            chunk_size: objects per page, 1-1000 (default 1000).
        """
        client = await self._client()
        key_prefix = self._dir_prefix(prefix)
        start_after = self.prefix + offset if offset else None
        with store_errors(prefix or ""):
            async for page in client.list_objects_pages(
                self.bucket, prefix=key_prefix or None, start_after=start_after, max_keys=chunk_size
            ):
                yield [
                    meta(self._path(obj.key), obj.size, obj.etag, obj.last_modified)
                    for obj in page.objects
                ]

    def list(
        self, prefix: str | None = None, *, offset: str | None = None, chunk_size: int = 1000
    ) -> Iterator[Sequence[ObjectMeta]]:
        """Sync ``list_async``.

        Args:
            prefix: a path prefix, matched on whole segments (default: everything).
            offset: only paths sorting after this one (default: from the start).
            chunk_size: objects per page, 1-1000 (default 1000).
        """
        pages = self.list_async(prefix, offset=offset, chunk_size=chunk_size)

        async def step() -> Sequence[ObjectMeta] | None:
            try:
                return await pages.__anext__()
            except StopAsyncIteration:
                return None

        while True:
            page = run_sync(step())
            if page is None:
                return
            yield page

    async def list_with_delimiter_async(
        self, prefix: str | None = None
    ) -> ListResult[Sequence[ObjectMeta]]:
        """The objects and "directories" directly under ``prefix`` (delimiter '/').

        Args:
            prefix: a path prefix, matched on whole segments (default: the top level).
        """
        client = await self._client()
        key_prefix = self._dir_prefix(prefix)
        objects: list[ObjectMeta] = []
        prefixes: list[str] = []
        with store_errors(prefix or ""):
            async for page in client.list_objects_pages(
                self.bucket, prefix=key_prefix or None, delimiter="/"
            ):
                prefixes.extend(self._path(p).rstrip("/") for p in page.common_prefixes)
                objects.extend(
                    meta(self._path(obj.key), obj.size, obj.etag, obj.last_modified)
                    for obj in page.objects
                    if obj.key != key_prefix
                )
        return {"common_prefixes": prefixes, "objects": objects}

    def list_with_delimiter(self, prefix: str | None = None) -> ListResult[Sequence[ObjectMeta]]:
        """Sync ``list_with_delimiter_async``.

        Args:
            prefix: a path prefix, matched on whole segments (default: the top level).
        """
        return run_sync(self.list_with_delimiter_async(prefix))

    def _dir_prefix(self, prefix: str | None) -> str:
        # obspec prefixes are whole path segments: "a/b" means the directory "a/b/".
        stripped = (prefix or "").strip("/")
        return self.prefix + (stripped + "/" if stripped else "")

    # -- Delete, Copy, Rename ---------------------------------------------------------------

    async def delete_async(self, paths: str | Sequence[str]) -> None:
        """Delete one path or many (DeleteObjects, 1,000 per request); absent paths are fine.

        Args:
            paths: a path or a sequence of paths.
        """
        client = await self._client()
        if isinstance(paths, str):
            with store_errors(paths):
                await client.delete_object(self.bucket, self._key(paths))
            return
        keys = [self._key(p) for p in paths]
        with store_errors(self.bucket):
            result = await client.delete_objects(self.bucket, keys, quiet=True)
        if result.errors:
            first = result.errors[0]
            raise OSError(
                f"{len(result.errors)} deletions failed; first {first.key!r}: {first.code}"
            )

    def delete(self, paths: str | Sequence[str]) -> None:
        """Sync ``delete_async``.

        Args:
            paths: a path or a sequence of paths.
        """
        run_sync(self.delete_async(paths))

    async def copy_async(self, from_: str, to: str, *, overwrite: bool = True) -> None:
        """Copy an object server-side (CopyObject).

        Args:
            from_: the source path.
            to: the destination path.
            overwrite: replace an existing destination (default True); False raises
                AlreadyExistsError instead (R2 checks it atomically).
        """
        client = await self._client()
        source, dest = self._key(from_), self._key(to)
        guard: dict[str, Any] = {}
        if not overwrite:
            # R2 refuses atomically (cf-copy-destination-if-none-match); the HEAD first gives
            # the same answer on servers without that extension.
            guard["destination_if_none_match"] = "*"
            try:
                await self.head_async(to)
            except FileNotFoundError:
                pass
            else:
                from .errors import AlreadyExistsError

                raise AlreadyExistsError(f"{to!r}: already exists")
        with store_errors(from_, create=not overwrite):
            await client.copy_object(self.bucket, dest, source_key=source, **guard)

    def copy(self, from_: str, to: str, *, overwrite: bool = True) -> None:
        """Sync ``copy_async``.

        Args:
            from_: the source path.
            to: the destination path.
            overwrite: replace an existing destination (default True).
        """
        run_sync(self.copy_async(from_, to, overwrite=overwrite))

    async def rename_async(self, from_: str, to: str, *, overwrite: bool = True) -> None:
        """Move an object: copy, then delete the source (not atomic: S3 has no rename).

        Args:
            from_: the source path.
            to: the destination path.
            overwrite: replace an existing destination (default True); False raises
                AlreadyExistsError and leaves both objects alone.
        """
        await self.copy_async(from_, to, overwrite=overwrite)
        await self.delete_async(from_)

    def rename(self, from_: str, to: str, *, overwrite: bool = True) -> None:
        """Sync ``rename_async``.

        Args:
            from_: the source path.
            to: the destination path.
            overwrite: replace an existing destination (default True).
        """
        run_sync(self.rename_async(from_, to, overwrite=overwrite))


def _rebuild(bucket: str, prefix: str | None, options: dict[str, Any]) -> R2Store:
    return R2Store(bucket, prefix=prefix, **options)


def _one(length: int | None) -> list[int] | None:
    return None if length is None else [length]
