"""Talking to a starting server: validation of arguments, ListBuckets and error bodies, waits."""

from __future__ import annotations

import math
import time
import xml.etree.ElementTree as ET

import httpx

# R2's bucket rule (stricter than SeaweedFS, which also accepts dots and underscores), so a
# name that works here also works on R2. _headers imports only the standard library.
from .._headers import validate_bucket
from .errors import LocalServerError

PROBE_TIMEOUT = httpx.Timeout(5.0, connect=2.0)


def bucket_done(name: str, response: httpx.Response) -> bool:
    """True when a PUT created bucket ``name`` (or it was already ours); False to retry."""
    if response.status_code == 200:
        return True
    if is_transient(response):
        return False
    code, message = error_code(response)
    if response.status_code == 409 and code == "BucketAlreadyOwnedByYou":
        return True
    raise LocalServerError(
        f"creating bucket {name!r} failed: HTTP {response.status_code} {code}: {message}"
    )


def check_bucket(name: object) -> str:
    """``name`` if it is a valid R2 bucket name, else a ValueError worded for ``buckets=``."""
    try:
        return validate_bucket(name)
    except ValueError:
        # The same rule as every R2Client call, worded for the buckets= of a test server.
        raise ValueError(
            f"bucket name {name!r} is invalid: use 3-63 lowercase letters, digits and hyphens, "
            "starting and ending with a letter or digit (R2's rule)"
        ) from None


def check_seconds(value: object, name: str) -> float:
    """``value`` as a positive, finite number of seconds, or a TypeError/ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, got {type(value).__name__}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name}={value!r}: use a positive, finite number of seconds")
    return float(value)


def bucket_names(body: bytes) -> set[str]:
    """Bucket names from a ListBuckets response (namespace-agnostic)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return set()
    return {
        (el.text or "") for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "Name" and el.text
    }


def error_code(response: httpx.Response) -> tuple[str, str]:
    """The S3 ``<Code>`` and ``<Message>`` of an error response ('' when absent)."""
    code = message = ""
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError:
        return code, response.text[:200]
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag == "Code" and not code:
            code = el.text or ""
        elif tag == "Message" and not message:
            message = el.text or ""
    return code, message


def is_transient(response: httpx.Response) -> bool:
    """Whether an error response is worth another attempt (5xx, 429)."""
    return response.status_code >= 500 or response.status_code == 429


def sleep_time(delay: float, deadline: float) -> float:
    """``delay``, cut so that it ends by ``deadline`` (a ``time.monotonic()`` value)."""
    return max(0.0, min(delay, deadline - time.monotonic()))
