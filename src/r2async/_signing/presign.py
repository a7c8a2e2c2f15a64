"""Presigned URLs: a request signed in its query string (``X-Amz-*``) instead of its headers."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx

from .auth import TOKEN, check_credentials, check_scope_part
from .credentials import Credentials
from .sigv4 import canonical_uri, check_expires, encode_query_once, format_amz_date, presign_query

__all__ = ["presign_url"]

# Headers presign_url's caller may not pass: the signer sets them.
_SIGNER_HEADERS = frozenset(
    {"authorization", "host", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"}
)
_PRESIGN_PARAMS = frozenset(
    {
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-expires",
        "x-amz-security-token",
        "x-amz-signature",
        "x-amz-signedheaders",
    }
)


def _check_presign_headers(headers: Mapping[str, str] | None) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if not isinstance(headers, Mapping):
        raise TypeError(f"headers must be a mapping of str to str, got {type(headers).__name__}")
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError("header names and values must be str")
        if not TOKEN.fullmatch(name):
            raise ValueError(f"header name {name!r} is not a valid HTTP token")
        lname = name.lower()
        if lname in _SIGNER_HEADERS:
            raise ValueError(f"header {name!r} is set by the signer; remove it from headers")
        if lname in seen:
            raise ValueError(f"header {name!r} is given twice (names are case-insensitive)")
        if not value.isascii() or any(c in value for c in "\r\n\0"):
            raise ValueError(
                f"value of header {name!r} must be ASCII without CR, LF or NUL; "
                "encode non-ASCII metadata (RFC 2047) first"
            )
        seen.add(lname)
        pairs.append((name, value))
    return pairs


def presign_url(
    *,
    method: str,
    url: httpx.URL | str,
    credentials: Credentials,
    expires_in: int,
    headers: Mapping[str, str] | None = None,
    region: str = "auto",
    service: str = "s3",
    now: datetime.datetime | None = None,
) -> str:
    """Return ``url`` presigned with SigV4 query parameters (``X-Amz-*``), payload unsigned.

    Whoever uses the URL must send the given ``headers`` with the same values. The path is
    taken as sent: build ``url`` with :func:`build_url` (or encode keys with ``encode_key``
    in a string URL) so that ``.``/``..`` segments survive. Existing query parameters are
    kept, in order, and signed. The path and query come back in encode-once form (the
    identity for input built with ``encode_key``/``uri_encode``).

    Trap: for a key with ``.`` or ``..`` segments, the returned string must reach the server
    as is, but most HTTP clients (httpx and browsers included) remove such segments when
    they parse a URL; with httpx, send it through :func:`build_url`'s technique or avoid
    such keys in presigned URLs.

    Args:
        method: the HTTP method the URL is for, e.g. "GET" or "PUT".
        url: the absolute http(s) URL of the request, path and query percent-encoded.
        credentials: the access key pair (and session token) to sign with.
        expires_in: seconds the URL stays valid, 1 to 604800 (7 days).
        headers: extra headers to sign, besides ``host``; default None.
        region: the signing region; default "auto".
        service: the signing service; default "s3".
        now: the signing time; default None (the current time).
    """
    credentials = check_credentials(credentials)
    if not isinstance(method, str) or not TOKEN.fullmatch(method):
        raise ValueError(f"method must be an HTTP method such as 'GET', got {method!r}")
    check_expires(expires_in)
    check_scope_part("region", region)
    check_scope_part("service", service)
    if now is not None and not isinstance(now, datetime.datetime):
        raise TypeError(f"now must be a datetime or None, got {type(now).__name__}")
    if isinstance(url, httpx.URL):
        parsed = url
        path, _, query = url.raw_path.decode("ascii").partition("?")
        has_fragment = bool(url.fragment)
    elif isinstance(url, str):
        # urlsplit keeps the path as written (httpx.URL would drop dot segments);
        # httpx.URL supplies the normalised host and port for the Host header.
        split = urlsplit(url)
        parsed = httpx.URL(url)
        path, query, has_fragment = split.path, split.query, bool(split.fragment)
    else:
        raise TypeError(f"url must be an httpx.URL or str, got {type(url).__name__}")
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(f"url must be an absolute http(s) URL, got scheme {parsed.scheme!r}")
    if parsed.userinfo:
        raise ValueError("url must not carry user:password; credentials sign the URL instead")
    if has_fragment:
        raise ValueError("url must not have a #fragment; remove it")
    for part in query.split("&"):
        if part.partition("=")[0].lower() in _PRESIGN_PARAMS:
            raise ValueError("url already carries X-Amz-* presign parameters; pass the plain URL")
    signed_headers = _check_presign_headers(headers)
    host = parsed.netloc.decode("ascii").lower()
    # Send the path and query in the same encode-once form they are signed in, so that no
    # client or server can read them differently.
    path = canonical_uri(path)
    query = encode_query_once(query)
    presigned = presign_query(
        method=method.upper(),
        path=path,
        query=query,
        headers=[("host", host), *signed_headers],
        access_key_id=credentials.access_key_id,
        secret_access_key=credentials.secret_access_key,
        session_token=credentials.session_token,
        amz_date=format_amz_date(now or datetime.datetime.now(datetime.timezone.utc)),
        expires_in=expires_in,
        region=region,
        service=service,
    )
    return f"{parsed.scheme}://{host}{path}?{presigned.query}"
