"""Logging through ``logging.getLogger("r2async")``: one debug line per attempt, no secrets.

Each attempt of each request logs one DEBUG line such as::

    PutObject PUT bucket=photos key='cat.jpg' attempt=1 status=503 duration=4.2ms
        error=RateLimitError code=SlowDown retry_in=1.000s

The record also carries the fields as attributes (``r2_operation``, ``r2_method``,
``r2_bucket``, ``r2_key``, ``r2_status``, ``r2_duration_ms``, ``r2_attempt``) for structured
handlers. Nothing secret is ever logged: no headers, no query strings, no bodies. Keys are
written with ``repr`` so that a key containing a line break cannot forge a log line.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

logger = logging.getLogger("r2async")

# Header values that are credentials (or data keys): never logged, never shown in a repr.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-amz-security-token",
        "x-amz-server-side-encryption-customer-key",
        "x-amz-copy-source-server-side-encryption-customer-key",
    }
)
REDACTED = "[redacted]"


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """A copy of ``headers`` with secret values replaced by ``[redacted]`` (names lower-case).

    Args:
        headers: a mapping or (name, value) pairs, e.g. ``request.headers.multi_items()``.
    """
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in items:
        lname = name.lower()
        out[lname] = REDACTED if lname in SECRET_HEADERS else value
    return out


class RedactedHeaders(dict[str, str]):
    """A plain dict of headers whose ``repr`` (and ``str``) hides the secret values.

    For headers held while a request is built and sent (the SSE-C key among them), so that
    a traceback rendered with its frames' locals, or a debugger, does not show them.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"RedactedHeaders({redact_headers(self)!r})"

    __str__ = __repr__


def log_attempt(
    *,
    operation: str,
    method: str,
    bucket: str | None,
    key: str | None,
    attempt: int,
    status: int | None,
    duration: float,
    error: BaseException | None = None,
    code: str | None = None,
    retry_in: float | None = None,
) -> None:
    """Log one attempt at DEBUG (callers check ``logger.isEnabledFor`` first to skip the cost).

    Args:
        operation: the S3 operation name.
        method: the HTTP method.
        bucket: the bucket, or None.
        key: the object key, or None.
        attempt: 1 for the first attempt, 2 for the first retry, ...
        status: the HTTP status, or None when no response arrived.
        duration: seconds the attempt took.
        error: the exception this attempt ended with, or None on success.
        code: the S3 error code, if any.
        retry_in: seconds until the next attempt, or None when there is none.
    """
    duration_ms = duration * 1000.0
    line = "%s %s bucket=%s key=%s attempt=%d status=%s duration=%.1fms"
    args: list[object] = [
        operation,
        method,
        bucket if bucket is not None else "-",
        repr(key) if key is not None else "-",
        attempt,
        status if status is not None else "-",
        duration_ms,
    ]
    if error is not None:
        line += " error=%s"
        args.append(type(error).__name__)
        if code:
            # The code comes from the server: quote anything that is not a plain word.
            line += " code=%s"
            args.append(code if code.isalnum() else repr(code))
    if retry_in is not None:
        line += " retry_in=%.3fs"
        args.append(retry_in)
    logger.debug(
        line,
        *args,
        extra={
            "r2_operation": operation,
            "r2_method": method,
            "r2_bucket": bucket,
            "r2_key": key,
            "r2_status": status,
            "r2_duration_ms": duration_ms,
            "r2_attempt": attempt,
        },
    )
