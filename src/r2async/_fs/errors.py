"""Typed R2 errors -> the OSError subclasses fsspec users catch, with the R2 error chained."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

from r2async import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    R2Error,
)

__all__ = ["ObjectChangedError", "os_error", "translate_errors"]


class ObjectChangedError(OSError):
    """The object was overwritten while a file opened on it was being read."""


def os_error(exc: R2Error, path: str, *, create: bool = False) -> Exception:
    """The fsspec-conventional exception for ``exc`` (``exc`` itself when there is none).

    Args:
        exc: the typed R2 error.
        path: the filesystem path it concerns (shown in the message).
        create: the request was a create-only write, so a 412 means the key exists.
    """
    if isinstance(exc, NotFoundError):
        return FileNotFoundError(errno.ENOENT, f"no such object or bucket ({exc.code})", path)
    if isinstance(exc, PermissionDeniedError):
        return PermissionError(errno.EACCES, f"access denied ({exc.code})", path)
    if isinstance(exc, PreconditionFailedError) and create:
        return FileExistsError(errno.EEXIST, "the object already exists", path)
    if isinstance(exc, ConflictError) and exc.code in {"BucketNotEmpty"}:
        return OSError(errno.ENOTEMPTY, "the bucket is not empty", path)
    return exc


@contextmanager
def translate_errors(path: str, *, create: bool = False) -> Iterator[None]:
    """Re-raise typed R2 errors inside the block as fsspec's exceptions, chaining the original.

    Args:
        path: the filesystem path the block works on.
        create: the block makes create-only writes (412 -> FileExistsError).
    """
    try:
        yield
    except R2Error as exc:
        new = os_error(exc, path, create=create)
        if new is exc:
            raise
        raise new from exc
