"""Object operations: cat, pipe, get, put, copy and delete."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from fsspec.callbacks import DEFAULT_CALLBACK

from r2async import InvalidRangeError, PreconditionFailedError

from .base import MiB, R2FileSystemBase
from .errors import ObjectChangedError, translate_errors
from .listing import ListingMixin
from .options import write_kwargs
from .paths import join, split_path, strip_protocol

__all__ = ["ObjectsMixin"]

# Largest source CopyObject takes; above it the copy is multipart (UploadPartCopy).
MAX_COPY = 5 * 1024 * MiB
# Bodies up to this go out as one PutObject; larger ones as parts (R2: at most 5 GiB per PUT).
SINGLE_PUT = 16 * MiB


def has_magic(path: str) -> bool:
    """Whether ``path`` is a glob pattern (fsspec's rule)."""
    return any(c in path for c in "*?[")


def _markers(base: str, key: str) -> list[str]:
    """The "dir/" marker keys of the directories between ``base`` and ``key``.

    Deleted with a tree: R2 has such keys only where a tool made them (the dashboard's
    folders), and SeaweedFS keeps a folder listed until its marker is deleted.
    """
    parts = key[len(base) :].split("/")[:-1]
    return [base + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _range_header(start: int, end: int | None) -> str:
    """``bytes=start-last`` for [start, end) (open-ended when end is None)."""
    return f"bytes={start}-" if end is None else f"bytes={start}-{end - 1}"


class ObjectsMixin(ListingMixin, R2FileSystemBase):
    """Reading, writing, copying and deleting objects."""

    # -- reading ------------------------------------------------------------------------------

    async def _cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any
    ) -> bytes:
        bucket, key = split_path(path, need_key=True)
        client = await self._client()
        if (start is not None and start < 0) or (end is not None and end < 0):
            size = (await self._info(path))["size"]
            start = None if start is None else max(0, size + start if start < 0 else start)
            end = None if end is None else max(0, size + end if end < 0 else end)
        if start is None and end is None:
            with translate_errors(path):
                return (await client.get_object(bucket, key)).body
        start = start or 0
        if end is not None and end <= start:
            return b""
        try:
            with translate_errors(path):
                result = await client.get_object(bucket, key, range=_range_header(start, end))
        except InvalidRangeError:
            # A range starting at or past the end: like reading past a local file's end.
            return b""
        return result.body

    async def _fetch_pinned(
        self, bucket: str, key: str, start: int, end: int, etag: str | None
    ) -> bytes:
        """Bytes [start, end) of the object, only if it still has ``etag`` (open files)."""
        client = await self._client()
        path = join(bucket, key)
        try:
            with translate_errors(path):
                result = await client.get_object(
                    bucket, key, range=_range_header(start, end), if_match=etag
                )
        except PreconditionFailedError as exc:
            raise ObjectChangedError(
                116, f"the object changed since it was opened (was ETag {etag})", path
            ) from exc
        return result.body

    async def _get_file(
        self, rpath: str, lpath: str, callback: Any = DEFAULT_CALLBACK, **kwargs: Any
    ) -> None:
        # A stat can block (a network filesystem): off the event loop, like every file call.
        if await asyncio.to_thread(os.path.isdir, lpath):
            return
        bucket, key = split_path(rpath, need_key=True)
        client = await self._client()

        def progress(done: int, total: int | None) -> None:
            if total is not None:
                callback.set_size(total)
            callback.absolute_update(done)

        with translate_errors(rpath):
            await client.download_file(
                bucket,
                key,
                lpath,
                part_size=self.blocksize,
                concurrency=self.concurrency,
                progress=progress,
                **kwargs,
            )

    # -- writing ------------------------------------------------------------------------------

    async def _pipe_file(
        self, path: str, value: Any, mode: str = "overwrite", **kwargs: Any
    ) -> None:
        bucket, key = split_path(path, need_key=True)
        options = write_kwargs(kwargs, key, mode=mode, what="pipe_file")
        data = memoryview(value).cast("B") if not isinstance(value, bytes) else value
        client = await self._client()
        try:
            with translate_errors(path, create=options.get("if_none_match") == "*"):
                if len(data) <= SINGLE_PUT:
                    await client.put_object(bucket, key, data, **options)
                else:
                    await client.upload_stream(
                        bucket,
                        key,
                        data,
                        content_length=len(data),
                        part_size=self.blocksize,
                        threshold=SINGLE_PUT,
                        concurrency=self.concurrency,
                        **options,
                    )
        finally:
            self.invalidate_cache(path)

    async def _put_file(
        self,
        lpath: str,
        rpath: str,
        callback: Any = DEFAULT_CALLBACK,
        mode: str = "overwrite",
        **kwargs: Any,
    ) -> None:
        if await asyncio.to_thread(os.path.isdir, lpath):
            # A directory is a prefix: it exists once something is put under it.
            return
        bucket, key = split_path(rpath, need_key=True)
        options = write_kwargs(kwargs, key, mode=mode, what="put_file")
        client = await self._client()

        def progress(done: int, total: int | None) -> None:
            if total is not None:
                callback.set_size(total)
            callback.absolute_update(done)

        try:
            with translate_errors(rpath, create=options.get("if_none_match") == "*"):
                await client.upload_file(
                    bucket,
                    key,
                    lpath,
                    part_size=self.blocksize,
                    concurrency=self.concurrency,
                    progress=progress,
                    **options,
                )
        finally:
            self.invalidate_cache(rpath)

    async def _cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        src_bucket, src_key = split_path(path1, need_key=True)
        bucket, key = split_path(path2, need_key=True)
        client = await self._client()
        info = await self._info(path1)
        if info["type"] != "file":
            # A recursive copy lists directories too; a prefix has nothing to copy itself.
            return
        try:
            with translate_errors(path1):
                if info["size"] <= MAX_COPY:
                    await client.copy_object(
                        bucket, key, source_key=src_key, source_bucket=src_bucket, **kwargs
                    )
                else:
                    await self._copy_multipart(src_bucket, src_key, bucket, key, info, **kwargs)
        finally:
            self.invalidate_cache(path2)

    async def _copy_multipart(
        self,
        src_bucket: str,
        src_key: str,
        bucket: str,
        key: str,
        info: dict[str, Any],
        **kwargs: Any,
    ) -> None:
        """Copy an object over 5 GiB as equal UploadPartCopy ranges (R2's equal-parts rule)."""
        client = await self._client()
        size: int = info["size"]
        # Equal 512 MiB ranges (R2's equal-parts rule): few requests, each far below the
        # 5 GiB part limit; larger only when 10,000 parts would not cover the object.
        part = max(512 * MiB, -(-size // 10_000))
        etag = info.get("ETag")
        upload = await client.create_multipart_upload(
            bucket, key, content_type=info.get("ContentType"), **kwargs
        )
        try:
            semaphore = asyncio.Semaphore(self.concurrency)

            async def one(number: int, first: int) -> Any:
                async with semaphore:
                    return await client.upload_part_copy(
                        bucket,
                        key,
                        upload.upload_id,
                        number,
                        src_bucket,
                        src_key,
                        source_range=(first, min(first + part, size) - 1),
                        headers={"x-amz-copy-source-if-match": etag} if etag else None,
                    )

            parts = await asyncio.gather(
                *(one(i + 1, first) for i, first in enumerate(range(0, size, part)))
            )
            await client.complete_multipart_upload(bucket, key, upload.upload_id, parts)
        except BaseException:
            await asyncio.shield(client.abort_multipart_upload(bucket, key, upload.upload_id))
            raise

    # -- deleting -----------------------------------------------------------------------------

    async def _rm_file(self, path: str, **kwargs: Any) -> None:
        await self._rm(path)

    async def _rm(
        self,
        path: str | list[str],
        recursive: bool = False,
        maxdepth: int | None = None,
        **kwargs: Any,
    ) -> None:
        inputs = [path] if isinstance(path, str) else list(path)
        by_bucket: dict[str, set[str]] = {}
        buckets: list[str] = []
        touched: list[str] = []
        client = await self._client()
        if recursive and maxdepth is None and not any(has_magic(p) for p in inputs):
            # One flat listing per tree: every key under it, "dir/" marker objects included
            # (which a find() would not show as files).
            for one in inputs:
                bucket, key = split_path(one)
                keys = by_bucket.setdefault(bucket, set())
                if key:
                    keys.update((key, key + "/"))
                else:
                    buckets.append(bucket)
                base = f"{key}/" if key else ""
                with translate_errors(one):
                    async for obj in client.iter_objects(bucket, prefix=base or None):
                        keys.add(obj.key)
                        keys.update(_markers(base, obj.key))
                touched.append(strip_protocol(one))
        else:
            for one in await self._expand_path(path, recursive=recursive, maxdepth=maxdepth):
                bucket, key = split_path(one)
                if key:
                    by_bucket.setdefault(bucket, set()).add(key)
                elif recursive:
                    buckets.append(bucket)
                touched.append(one)
        try:
            for bucket, keys in by_bucket.items():
                # Children before their directory's marker, in case a server (SeaweedFS)
                # refuses to drop a folder that still has entries.
                await self._delete_keys(bucket, sorted(keys, reverse=True))
        finally:
            for one in touched:
                self.invalidate_cache(one)
        # rm(bucket, recursive=True) removes the emptied bucket too, as s3fs does.
        for bucket in buckets:
            await self._rmdir(bucket)

    async def _delete_keys(self, bucket: str, keys: list[str]) -> None:
        """DeleteObjects, 1,000 keys per request; absent keys are not an error."""
        client = await self._client()
        with translate_errors(bucket):
            result = await client.delete_objects(bucket, keys, quiet=True)
        if result.errors:
            first = result.errors[0]
            where = join(bucket, first.key)
            if first.code == "AccessDenied":
                raise PermissionError(13, "access denied", where)
            raise OSError(5, f"{len(result.errors)} deletions failed: {first.code}", where)
