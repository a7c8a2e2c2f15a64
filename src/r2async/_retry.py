"""The one retry policy: what is retried, and how long to wait.

What is retried (``max_retries`` times, default 3, after the first attempt):

- error responses with status 429, 500, 502, 503 or 504, or with the S3 code ``SlowDown``,
  ``InternalError``, ``RequestTimeout``, ``TooMuchConcurrency``, ``TooManyRequests`` or
  ``ServiceUnavailable`` whatever their status (S3 sends ``RequestTimeout`` as a 400);
- failures to connect and pool timeouts, always (the request never left the machine), except
  a TLS certificate that fails verification;
- any other transport failure or timeout (reset, truncated response, read timeout) only for
  requests that are safe to repeat (``RequestSpec.idempotent``).

Never retried: any other 4xx, 412 ``PreconditionFailed`` (a real answer), 501
``NotImplemented`` (final on R2) and ``BadDigest``/``InvalidDigest`` (the data is wrong, and
sending it again will not fix it). A body that cannot be replayed (a one-shot stream, an
unseekable file) is sent once; the error then says why it was not retried.

Waits: exponential backoff with full jitter, ``uniform(0, min(20 s, 0.25 s * 2**attempt))``,
unless the server sent ``Retry-After``, which is honoured exactly up to 60 s; a server asking
for a longer pause gets the error raised at once instead of a silent minute-long hang.

A write refused with 429/``SlowDown`` waits at least :data:`WRITE_RATE_FLOOR` (1 s) plus the
jittered backoff: R2 allows about one write per second to the same key, and the plain backoff
(0.9 s on average over three retries, 1.75 s at most) could spend every retry inside that
window. ``Retry-After``, when sent, still decides.
"""

from __future__ import annotations

import email.utils
import random
import ssl
import time
from collections.abc import Mapping

import httpx

# Statuses worth another attempt. 501 is final (not implemented), 412 a real answer.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# S3 codes that mean "try again later" whatever the status they came with.
RETRY_CODES = frozenset(
    {
        "SlowDown",
        "InternalError",
        "RequestTimeout",
        "TooMuchConcurrency",
        "TooManyRequests",
        "ServiceUnavailable",
    }
)
# Codes that must never be retried even if they arrive with a retryable status.
NEVER_RETRY_CODES = frozenset(
    {
        "BadDigest",
        "InvalidDigest",
        "XAmzContentSHA256Mismatch",
        "PreconditionFailed",
        "NotImplemented",
    }
)
NEVER_RETRY_STATUSES = frozenset({412, 501})

# Statuses and codes that say "too many requests" (as opposed to a server fault).
RATE_STATUSES = frozenset({429})
RATE_CODES = frozenset({"SlowDown", "TooManyRequests", "TooMuchConcurrency"})
# R2's same-key write limit is about one write per second.
WRITE_RATE_FLOOR = 1.0

BASE_DELAY = 0.25
MAX_DELAY = 20.0
# A server asking for a longer pause than this is not waited for: the error is raised instead.
MAX_RETRY_AFTER = 60.0


def is_retryable(status: int, code: str | None) -> bool:
    """Whether an error response deserves another attempt.

    Args:
        status: the HTTP status.
        code: the S3 error code, or None.
    """
    if code in NEVER_RETRY_CODES or status in NEVER_RETRY_STATUSES:
        return False
    return status in RETRY_STATUSES or code in RETRY_CODES


def is_retryable_transport(exc: httpx.TransportError, *, idempotent: bool) -> bool:
    """Whether a transport failure deserves another attempt.

    A failed connect or a pool timeout means nothing was sent, so any request may be repeated.
    After that point the server may have acted on the request (a reset after the body, a lost
    response), so only requests that are safe to repeat are retried.

    Args:
        exc: the httpx transport exception.
        idempotent: whether repeating the request is harmless.
    """
    if isinstance(exc, httpx.ConnectError) and _caused_by_certificate(exc):
        # A certificate that fails verification will fail again: not a transient fault.
        return False
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return True
    return idempotent


def _caused_by_certificate(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):  # httpx -> httpcore -> ssl: a short chain
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or HTTP date), else None.

    Args:
        headers: the response headers.
    """
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            # RFC 7231 dates are GMT; a date without a zone would otherwise be read as local.
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds or seconds == float("inf"):  # NaN or infinity: not a usable answer
        return None
    return max(seconds, 0.0)


def backoff(attempt: int, *, base: float = BASE_DELAY, cap: float = MAX_DELAY) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)].

    Args:
        attempt: 0 for the wait after the first failure, 1 after the second, ...
        base: the first ceiling in seconds (default 0.25).
        cap: the largest ceiling in seconds (default 20).
    """
    return random.uniform(0.0, min(cap, base * (2 ** min(attempt, 30))))


def is_rate_limited(status: int | None, code: str | None) -> bool:
    """Whether an error says "too many requests" (429, ``SlowDown``, ...)."""
    return status in RATE_STATUSES or code in RATE_CODES


def delay_for(
    attempt: int, headers: Mapping[str, str] | None, *, rate_limited_write: bool = False
) -> float | None:
    """The wait before the next attempt, or None when the server asked for too long a pause.

    ``Retry-After`` is honoured when the server sent one (up to ``MAX_RETRY_AFTER``); otherwise
    the wait is :func:`backoff`, plus :data:`WRITE_RATE_FLOOR` for a rate-limited write.

    Args:
        attempt: 0 for the wait after the first failure, 1 after the second, ...
        headers: the error response's headers, or None after a transport failure.
        rate_limited_write: the failure is a write refused with 429/SlowDown (default False).
    """
    if headers is not None:
        asked = retry_after(headers)
        if asked is not None:
            return asked if asked <= MAX_RETRY_AFTER else None
    if rate_limited_write:
        return WRITE_RATE_FLOOR + backoff(attempt)
    return backoff(attempt)


async def sleep(seconds: float) -> None:
    """Sleep on whichever async library is running (asyncio or trio).

    Args:
        seconds: how long; zero or less returns at once.
    """
    if seconds <= 0:
        return
    import anyio

    await anyio.sleep(seconds)
