"""The store's exceptions: obspec's names (``obspec.exceptions.map_exception`` maps by name).

Each also derives from the builtin a caller would catch (FileNotFoundError, FileExistsError,
PermissionError, NotImplementedError), and chains the typed R2 error it comes from.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from r2async import (
    NotFoundError as R2NotFoundError,
)
from r2async import (
    NotModifiedError as R2NotModifiedError,
)
from r2async import (
    PermissionDeniedError as R2PermissionDeniedError,
)
from r2async import (
    PreconditionFailedError,
    R2Error,
)

__all__ = [
    "AlreadyExistsError",
    "BaseError",
    "NotFoundError",
    "NotModifiedError",
    "NotSupportedError",
    "PermissionDeniedError",
    "PreconditionError",
    "store_errors",
]


class BaseError(Exception):
    """Base of the store's errors."""


class NotFoundError(FileNotFoundError, BaseError):
    """No object at that path (or no such bucket)."""


class AlreadyExistsError(FileExistsError, BaseError):
    """A create-only write (``mode="create"``, ``overwrite=False``) found the path taken."""


class PreconditionError(BaseError):
    """An ``UpdateVersion`` or ``if_match`` condition did not hold (HTTP 412)."""


class NotModifiedError(BaseError):
    """``if_none_match`` / ``if_modified_since`` matched: nothing to send (HTTP 304)."""


class PermissionDeniedError(PermissionError, BaseError):
    """R2 refused the request (HTTP 403)."""


class NotSupportedError(NotImplementedError, BaseError):
    """An obspec option R2 has no equivalent for (object versions, tags)."""


@contextmanager
def store_errors(path: str, *, create: bool = False) -> Iterator[None]:
    """Re-raise typed R2 errors inside the block as the store's (obspec-named) errors.

    Args:
        path: the store path concerned (in messages).
        create: the block makes create-only writes (412 -> AlreadyExistsError).
    """
    try:
        yield
    except R2NotFoundError as exc:
        raise NotFoundError(f"{path!r}: not found ({exc.code})") from exc
    except PreconditionFailedError as exc:
        if create:
            raise AlreadyExistsError(f"{path!r}: already exists") from exc
        raise PreconditionError(f"{path!r}: precondition failed ({exc.code})") from exc
    except R2NotModifiedError as exc:
        raise NotModifiedError(f"{path!r}: not modified") from exc
    except R2PermissionDeniedError as exc:
        raise PermissionDeniedError(f"{path!r}: access denied ({exc.code})") from exc
    except R2Error:
        raise
