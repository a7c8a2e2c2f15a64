"""Directories are prefixes: ls, info, find, exists, and buckets as top-level directories."""

from __future__ import annotations

from typing import Any

from fsspec.asyn import sync_wrapper

from r2async import ConflictError, NotFoundError, ObjectInfo

from .base import R2FileSystemBase, dir_info, file_info
from .errors import translate_errors
from .paths import join, split_path, strip_protocol

__all__ = ["ListingMixin"]


def _listed(bucket: str, obj: ObjectInfo) -> dict[str, Any]:
    return file_info(
        join(bucket, obj.key),
        obj.size,
        etag=obj.etag,
        last_modified=obj.last_modified,
        StorageClass=obj.storage_class,
    )


class ListingMixin(R2FileSystemBase):
    """Listing, metadata and bucket-level directories."""

    async def _lsdir(self, path: str, refresh: bool = False) -> list[dict[str, Any]]:
        """The immediate children of a bucket or prefix (cached in ``dircache``)."""
        if not refresh and path in self.dircache:
            cached: list[dict[str, Any]] = self.dircache[path]
            return cached
        bucket, key = split_path(path)
        prefix = f"{key}/" if key else None
        client = await self._client()
        out: list[dict[str, Any]] = []
        with translate_errors(path):
            async for page in client.list_objects_pages(bucket, prefix=prefix, delimiter="/"):
                for common in page.common_prefixes:
                    out.append(dir_info(join(bucket, common.rstrip("/"))))
                for obj in page.objects:
                    # The "dir/" marker object of the directory itself is not a child.
                    if obj.key != prefix:
                        out.append(_listed(bucket, obj))
        out.sort(key=lambda entry: entry["name"])
        if out:
            self.dircache[path] = out
        return out

    async def _ls(
        self, path: str, detail: bool = True, refresh: bool = False, **kwargs: Any
    ) -> list[Any]:
        path = strip_protocol(path)
        if not path:
            entries = await self._lsbuckets()
        else:
            entries = await self._lsdir(path, refresh=refresh)
            if not entries:
                # An empty bucket, a file (ls of a file lists the file), or nothing.
                info = await self._info(path)
                entries = [info] if info["type"] == "file" else []
        return entries if detail else [entry["name"] for entry in entries]

    async def _lsbuckets(self) -> list[dict[str, Any]]:
        client = await self._client()
        with translate_errors(""):
            names = [bucket.name async for bucket in client.iter_buckets()]
        return [dir_info(name) for name in sorted(names)]

    async def _info(self, path: str, refresh: bool = False, **kwargs: Any) -> dict[str, Any]:
        # refresh=True: ask the server (a listing's entry has no ContentType or metadata).
        path = strip_protocol(path)
        if not path:
            return dir_info("")
        bucket, key = split_path(path)
        client = await self._client()
        if not key:
            with translate_errors(path):
                await client.head_bucket(bucket)
            return dir_info(bucket)
        parent = self._parent(path)
        if not refresh and parent in self.dircache:
            for entry in self.dircache[parent]:
                if entry["name"] == path:
                    found: dict[str, Any] = entry
                    return found
        if not refresh and path in self.dircache:
            return dir_info(path)
        try:
            head = await client.head_object(bucket, key)
        except NotFoundError:
            pass
        else:
            return file_info(
                path,
                head.content_length or 0,
                etag=head.etag,
                last_modified=head.last_modified,
                ContentType=head.content_type,
                StorageClass=head.storage_class,
                metadata=head.metadata or None,
            )
        # Not an object: a directory if any key starts with "key/" (a marker included).
        with translate_errors(path):
            page = await client.list_objects(bucket, prefix=f"{key}/", max_keys=1)
        if page.objects or page.common_prefixes:
            return dir_info(path)
        raise FileNotFoundError(2, "no such object or directory", path)

    async def _exists(self, path: str, **kwargs: Any) -> bool:
        path = strip_protocol(path)
        if not path:
            return True
        split_path(path)  # an invalid bucket name is bad input, not "absent"
        try:
            await self._info(path)
        except FileNotFoundError:
            return False
        return True

    async def _find(
        self,
        path: str,
        maxdepth: int | None = None,
        withdirs: bool = False,
        detail: bool = False,
        prefix: str = "",
        **kwargs: Any,
    ) -> Any:
        path = strip_protocol(path)
        if maxdepth is not None and maxdepth < 1:
            raise ValueError("maxdepth must be at least 1")
        if not path:
            # Every bucket: fsspec's walk over the bucket list.
            return await super()._find(path, maxdepth=maxdepth, withdirs=withdirs, detail=detail)
        bucket, key = split_path(path)
        base = f"{key}/" if key else ""
        client = await self._client()
        out: dict[str, dict[str, Any]] = {}
        # One flat listing (no delimiter) instead of one request per directory: the implied
        # directories are derived from the keys.
        with translate_errors(path):
            async for obj in client.iter_objects(bucket, prefix=base + prefix or None):
                rel = obj.key[len(base) :]
                parts = rel.split("/")
                if withdirs:
                    for depth in range(1, len(parts)):
                        if maxdepth is None or depth <= maxdepth:
                            name = join(bucket, base + "/".join(parts[:depth]))
                            out.setdefault(name, dir_info(name))
                if not rel or rel.endswith("/"):
                    continue  # a directory marker: never a file
                if maxdepth is None or len(parts) <= maxdepth:
                    out[join(bucket, obj.key)] = _listed(bucket, obj)
        if key and not prefix:
            if out:
                if withdirs:
                    out[path] = dir_info(path)
            else:
                # find() of a file is that file; of an empty or missing directory, nothing.
                try:
                    info = await self._info(path)
                except FileNotFoundError:
                    info = None
                if info is not None and (info["type"] == "file" or withdirs):
                    out[path] = info
        names = sorted(out)
        if detail:
            return {name: out[name] for name in names}
        return names

    async def _modified(self, path: str) -> Any:
        """The object's Last-Modified (a timezone-aware datetime); DuckDB asks for it."""
        info = await self._info(path)
        if info["type"] != "file" or info.get("LastModified") is None:
            raise IsADirectoryError(21, "only objects have a modification time", path)
        return info["LastModified"]

    modified = sync_wrapper(_modified)

    # -- buckets are the top-level directories ---------------------------------------------

    async def _mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        bucket, key = split_path(path)
        client = await self._client()
        if not key:
            with translate_errors(path):
                try:
                    await client.create_bucket(bucket, **kwargs)
                except ConflictError as exc:
                    raise FileExistsError(17, "the bucket already exists", path) from exc
            self.invalidate_cache("")
            return
        # A directory inside a bucket is only a prefix: nothing to create (as in s3fs), but
        # its bucket must exist or be creatable.
        if not await self._exists(bucket):
            if not create_parents:
                raise FileNotFoundError(2, "no such bucket", bucket)
            await self._mkdir(bucket)

    async def _makedirs(self, path: str, exist_ok: bool = False) -> None:
        try:
            await self._mkdir(path, create_parents=True)
        except FileExistsError:
            if not exist_ok:
                raise

    async def _rmdir(self, path: str) -> None:
        bucket, key = split_path(path)
        if key:
            # Nothing to remove: a prefix disappears with its last object.
            return
        client = await self._client()
        with translate_errors(path):
            await client.delete_bucket(bucket)
        self.invalidate_cache(bucket)

    # fsspec mirrors only the methods it lists (rmdir is not one of them), as s3fs does.
    rmdir = sync_wrapper(_rmdir)
