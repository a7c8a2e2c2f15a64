"""Paths inside the filesystem: ``bucket/key`` without the protocol, checked before any request."""

from __future__ import annotations

from .._headers import validate_bucket

__all__ = ["check_bucket", "join", "split_path", "strip_protocol"]

_PROTOCOLS = ("r2://", "r2::")


def strip_protocol(path: str) -> str:
    """``r2://bucket/key/`` -> ``bucket/key``: no protocol, no leading or trailing slash.

    Args:
        path: a path with or without the ``r2://`` prefix.
    """
    if not isinstance(path, str):
        raise TypeError(f"path must be a str, got {type(path).__name__}")
    for proto in _PROTOCOLS:
        if path.startswith(proto):
            path = path[len(proto) :]
            break
    return path.lstrip("/").rstrip("/")


def check_bucket(bucket: str) -> str:
    """Return ``bucket`` if it is a valid R2 bucket name, else raise ValueError.

    Args:
        bucket: the bucket name to check.
    """
    # The client's own rule (R2's), checked locally so that a typo fails before any request.
    return validate_bucket(bucket)


def split_path(path: str, *, need_key: bool = False) -> tuple[str, str]:
    """Split ``bucket/key`` into its bucket (validated) and key ('' for the bucket itself).

    Args:
        path: a path, with or without ``r2://``.
        need_key: raise ValueError when the path names only a bucket (default False).
    """
    stripped = strip_protocol(path)
    bucket, _, key = stripped.partition("/")
    if not bucket:
        raise ValueError(f"path {path!r} has no bucket: use 'r2://bucket/key'")
    check_bucket(bucket)
    if need_key and not key:
        raise ValueError(f"path {path!r} names a bucket, not an object: use 'r2://bucket/key'")
    return bucket, key


def join(bucket: str, key: str) -> str:
    """``bucket`` + ``key`` -> ``bucket/key`` (just the bucket when the key is empty).

    Args:
        bucket: the bucket name.
        key: the object key or prefix, possibly empty.
    """
    return f"{bucket}/{key}" if key else bucket
