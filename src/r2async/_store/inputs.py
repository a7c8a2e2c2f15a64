"""What ``put`` accepts besides paths and files: buffers and (async) iterables of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

__all__ = ["as_bytes", "is_buffer"]


def is_buffer(value: object) -> bool:
    """Whether ``value`` supports the buffer protocol."""
    try:
        memoryview(value)  # type: ignore[arg-type]
    except TypeError:
        return False
    return True


async def as_bytes(chunks: Any) -> AsyncIterator[bytes]:
    """Buffers from an (async) iterable, as the bytes-like chunks upload_stream takes."""
    if hasattr(chunks, "__aiter__"):
        async for chunk in chunks:
            yield memoryview(chunk).cast("B").tobytes() if not isinstance(chunk, bytes) else chunk
    else:
        for chunk in chunks:
            yield memoryview(chunk).cast("B").tobytes() if not isinstance(chunk, bytes) else chunk
