"""The ``httpx.Request`` of one attempt, with its headers built once instead of twice.

Why: given ``content=``, ``httpx.Request`` builds its ``Headers`` from the given mapping,
then looks up ``Content-Type``, ``Content-Length`` and ``Host`` (each lookup decodes the
whole list again) to add what it derives, and builds the ``Headers`` a second time with
those in front: about a tenth of a small request's CPU on the aiohttp transport. Given
``stream=``, httpx adds nothing (its documented contract for that argument), so the one
header it would derive that r2async does not already set, ``Host``, goes first here, as
httpx puts it; the result is the same request (same headers in the same order, same
``content``, same stream type), which tests/unit/client/test_plain_request.py checks.
Bodies that are not in memory (streams, files) keep httpx's own path.
"""

from __future__ import annotations

from typing import Any

import httpx

from ._logging import RedactedHeaders
from ._signing.hook_guard import GuardedRequest


def attempt_request(
    method: str,
    url: httpx.URL,
    merged: dict[str, str],
    content: Any,
    extensions: dict[str, Any],
    guard: bool,
) -> httpx.Request:
    """One attempt's request: :func:`plain_request` where it applies, else httpx's own.

    Args:
        method: the HTTP method.
        url: the request URL.
        merged: the headers to send.
        content: the body (bytes, a stream or an iterable), or None for none.
        extensions: the request's extensions.
        guard: whether user request hooks run (a ``GuardedRequest``, whose ``__setattr__``
            costs on every request, only then).
    """
    if not guard and (content is None or isinstance(content, bytes)):
        return plain_request(method, url, merged, content, extensions)
    cls = GuardedRequest if guard else httpx.Request
    return cls(method, url, headers=merged, content=content, extensions=extensions)


def plain_request(
    method: str,
    url: httpx.URL,
    merged: dict[str, str],
    content: bytes | None,
    extensions: dict[str, Any],
) -> httpx.Request:
    """``httpx.Request(method, url, headers=merged, content=content, extensions=...)``, cheaper.

    Args:
        method: the HTTP method.
        url: the request URL.
        merged: the headers to send (``_frame_body`` set the Content-Length of any body).
        content: the whole body, or None for none.
        extensions: the request's extensions.
    """
    # RedactedHeaders, as merged: it may hold an SSE-C key (see merged_headers).
    headers = RedactedHeaders({"Host": url.netloc.decode("ascii")})
    headers.update(merged)
    request = httpx.Request(
        method, url, headers=headers, stream=httpx.ByteStream(content or b""), extensions=extensions
    )
    request.read()  # the body as request.content (the bytes themselves: no copy), as content= does
    return request
