"""``R2FileSystem``: the fsspec filesystem, assembled from its parts."""

from __future__ import annotations

from typing import Any

from .file import R2File
from .objects import ObjectsMixin
from .readahead import PrefetchCache

__all__ = ["R2FileSystem"]


class R2FileSystem(ObjectsMixin):
    """An fsspec filesystem for R2 (protocol ``r2``), async-native on ``R2Client``.

    ``fsspec.filesystem("r2")`` reads the ``R2_*`` variables; ``storage_options`` carry the
    ``R2Client`` arguments (``endpoint_url``, ``jurisdiction``, ``headers``, ...). Paths are
    ``bucket/key``; buckets are the top-level directories and directories inside a bucket are
    key prefixes. Writes accept R2's typed options (``content_type``, ``metadata``,
    ``cache_control``, ...); ``mode="create"`` / ``open(path, "xb")`` write only if absent.
    """

    def _open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_type: str | None = None,
        cache_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> R2File:
        return R2File(
            self,
            path,
            mode=mode,
            block_size=block_size,
            autocommit=autocommit,
            cache_type=cache_type or PrefetchCache.name,
            cache_options=cache_options,
            **kwargs,
        )
