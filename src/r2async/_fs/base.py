"""The filesystem's core: options, one R2Client per event loop, paths, the listing cache."""

from __future__ import annotations

import asyncio
import importlib.util
import weakref
from collections.abc import Mapping
from typing import Any

from fsspec.asyn import AsyncFileSystem

from r2async import R2Client
from r2async._store.loops import ClientSlot

from .options import client_kwargs
from .paths import split_path, strip_protocol

__all__ = ["MiB", "R2FileSystemBase", "dir_info", "file_info"]

MiB = 1024 * 1024
# R2 needs equal parts of at least 5 MiB; 8 MiB is r2async's default part size.
DEFAULT_BLOCK_SIZE = 8 * MiB


def _default_transport() -> str | None:
    # aiohttp reads bodies with about half the CPU of httpx (benchmarks/bench_fs.py); the
    # filesystem runs only on asyncio loops, the one place aiohttp needs.
    return "aiohttp" if importlib.util.find_spec("aiohttp") is not None else None


def file_info(
    path: str,
    size: int,
    *,
    etag: str | None = None,
    last_modified: Any = None,
    **extra: Any,
) -> dict[str, Any]:
    """An fsspec info dict for an object.

    Args:
        path: the filesystem path, ``bucket/key``.
        size: the object's size in bytes.
        etag: the object's quoted ETag, if known.
        last_modified: its Last-Modified (datetime), if known.
        extra: more fields (``ContentType``, ``StorageClass``, ...), kept when not None.
    """
    info: dict[str, Any] = {"name": path, "size": size, "type": "file"}
    if etag is not None:
        info["ETag"] = etag
    if last_modified is not None:
        info["LastModified"] = last_modified
    info.update({k: v for k, v in extra.items() if v is not None})
    return info


def dir_info(path: str) -> dict[str, Any]:
    """An fsspec info dict for a bucket or a prefix (a directory).

    Args:
        path: the filesystem path, ``bucket`` or ``bucket/prefix``.
    """
    return {"name": path, "size": 0, "type": "directory"}


class R2FileSystemBase(AsyncFileSystem):  # type: ignore[misc]  # fsspec is untyped
    """Options, the per-loop client, path handling and cache invalidation."""

    protocol = ("r2",)
    root_marker = ""
    async_impl = True
    # fsspec's FSMap/zarr and pyarrow ask for this to know ls() results are cached.
    cachable = True

    def __init__(
        self,
        *,
        account_id: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        jurisdiction: str | None = None,
        endpoint_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        operation_headers: Mapping[str, Mapping[str, str]] | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        transport: str | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        read_ahead: int = 4,
        concurrency: int = 8,
        asynchronous: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        batch_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        """A filesystem over R2; unset client arguments come from the ``R2_*`` variables.

        Args:
            account_id: Cloudflare account id (default ``R2_ACCOUNT_ID``).
            access_key_id: R2 access key id (default ``R2_ACCESS_KEY_ID``).
            secret_access_key: R2 secret access key (default ``R2_SECRET_ACCESS_KEY``).
            session_token: temporary-credential token (default ``R2_SESSION_TOKEN``).
            jurisdiction: 'eu', 'fedramp' or 'us' (default ``R2_JURISDICTION``).
            endpoint_url: any S3-compatible endpoint (default ``R2_ENDPOINT_URL``).
            headers: headers sent (and signed) on every request.
            operation_headers: per S3 operation name, headers for every request of it.
            timeout: seconds for each request phase (default: the client's, 60 s).
            max_retries: retries of retryable failures (default: the client's, 3).
            transport: 'httpx' or 'aiohttp' (default: 'aiohttp' when it is installed, as
                fsspec always runs on asyncio and it costs about half the CPU per byte;
                else 'httpx').
            block_size: bytes per ranged GET when reading and per multipart part when
                writing (default 8 MiB; at least 5 MiB, R2's smallest part).
            read_ahead: blocks fetched ahead of a sequential reader (default 4); a reader
                holds at most ``block_size * (read_ahead + 1)`` bytes.
            concurrency: requests in flight for one file, ``get`` or ``put`` (default 8).
            asynchronous: True when used from your own event loop (``await fs._cat(...)``).
            loop: the loop to run sync calls on (default: fsspec's I/O thread).
            batch_size: files handled at once by many-path calls (default: fsspec's).
            kwargs: fsspec options (``use_listings_cache``, ``skip_instance_cache``, ...).
        """
        super().__init__(asynchronous=asynchronous, loop=loop, batch_size=batch_size, **kwargs)
        if not isinstance(block_size, int) or block_size < 5 * MiB:
            raise ValueError("block_size must be an int of at least 5 MiB (R2's smallest part)")
        for name, value in (("read_ahead", read_ahead), ("concurrency", concurrency)):
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 64:
                raise ValueError(f"{name} must be an int between 0 and 64")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.blocksize = block_size
        self.read_ahead = read_ahead
        self.concurrency = concurrency
        self._slot = ClientSlot(
            client_kwargs(
                {
                    "account_id": account_id,
                    "access_key_id": access_key_id,
                    "secret_access_key": secret_access_key,
                    "session_token": session_token,
                    "jurisdiction": jurisdiction,
                    "endpoint_url": endpoint_url,
                    "headers": headers,
                    "operation_headers": operation_headers,
                    "timeout": timeout,
                    "max_retries": max_retries,
                    "transport": transport or _default_transport(),
                }
            )
        )
        # Closes a sync filesystem's client on fsspec's I/O loop when the instance goes away
        # (or at exit); holds the slot, not self, so it does not keep the instance alive.
        weakref.finalize(self, self._slot.close_sync)

    def __repr__(self) -> str:
        # Never the credentials: only where the filesystem points.
        return f"R2FileSystem(endpoint_url={self._slot.client.endpoint_url!r})"

    # -- the client ---------------------------------------------------------------------------

    async def _client(self) -> R2Client:
        """The R2Client for the running event loop (created on first use in that loop)."""
        return self._slot.get()

    async def set_session(self) -> R2Client:
        """The R2Client of the running loop, as s3fs's ``set_session`` returns its session."""
        return self._slot.get()

    async def aclose(self) -> None:
        """Close the client of the running loop; a later call opens a fresh one."""
        await self._slot.aclose()

    async def __aenter__(self) -> R2FileSystemBase:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- paths --------------------------------------------------------------------------------

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        return strip_protocol(str(path))

    @staticmethod
    def _get_kwargs_from_urls(urlpath: str) -> dict[str, Any]:
        return {}

    def split_path(self, path: str) -> tuple[str, str]:
        """``r2://bucket/key`` -> (bucket, key); ValueError for a missing or invalid bucket.

        Args:
            path: the path to split.
        """
        return split_path(path)

    # -- the listing cache --------------------------------------------------------------------

    def invalidate_cache(self, path: str | None = None) -> None:
        """Forget cached listings of ``path`` and of every parent (all when None).

        Args:
            path: the path written or deleted (default None: clear the whole cache).
        """
        if path is None:
            self.dircache.clear()
            return
        path = strip_protocol(path)
        while path:
            self.dircache.pop(path, None)
            path = self._parent(path)
        self.dircache.pop("", None)
