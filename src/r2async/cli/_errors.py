"""Exit codes, the usage error, and one-line descriptions of failures.

Standard library only: imported on every start, ``--help`` included.
"""

from __future__ import annotations

EXIT_OK = 0
# Some objects failed; the others completed (each failure is listed at the end).
EXIT_FAILED = 1
# Bad input, found before any request: the message names the fix.
EXIT_USAGE = 2
# 128 + SIGINT, as shells report a process stopped by Ctrl-C.
EXIT_INTERRUPTED = 130

CREDENTIAL_VARIABLES = "R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY"


class UsageError(Exception):
    """Bad command-line input; the message says how to fix it (exit status 2)."""


def describe(exc: BaseException) -> tuple[str, str]:
    """The error's type name and a one-line message for the user (never a secret).

    Args:
        exc: the exception a command or a single object's operation raised.
    """
    name = type(exc).__name__
    code = getattr(exc, "code", None)
    bucket = getattr(exc, "bucket", None)
    if name == "NoSuchBucketError" and bucket:
        return name, f"bucket {bucket!r} does not exist (create it with: r2async mb r2://{bucket})"
    if name == "PermissionDeniedError":
        return name, (
            f"{exc}; check {CREDENTIAL_VARIABLES} and that the token may access this bucket"
        )
    if name == "PreconditionFailedError":
        return name, f"{exc} (the destination exists and --if-none-match was given?)"
    if code == "BucketNotEmpty":
        return name, f"bucket {bucket!r} is not empty; delete it with its objects: rb --force"
    if isinstance(exc, OSError) and exc.filename is not None:
        return name, f"{exc.strerror or exc}: {exc.filename}"
    text = " ".join(str(exc).split()) or name
    return name, text


class DeleteFailedError(Exception):
    """One key of a DeleteObjects request was not deleted (the server's code and message)."""
