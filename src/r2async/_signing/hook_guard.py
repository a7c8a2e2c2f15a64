"""Guarding a signed request against a user's httpx request event hooks.

httpx runs a client's request event hooks after r2async has signed the request, so a hook that
changes a signed header or the URL would break the signature, or send the credentials to
another host. :class:`SignedHeaders` (an ``httpx.Headers`` subclass, public API only) refuses
changes to signed headers; :func:`check_not_rewritten` catches a hook that replaced the
headers or the URL wholesale.
"""

from __future__ import annotations

from typing import Any

import httpx

from .sigv4 import UNSIGNED_HEADERS


class SignedHeaders(httpx.Headers):
    """Request headers after signing: refuses changes that would break the signature.

    Installed only when a user's ``http_client`` has request event hooks, which httpx runs
    after r2async has signed. Headers the signer leaves unsigned (``traceparent``,
    ``user-agent``...) may still be set by a hook; the rest may not.
    """

    def __setitem__(self, key: str, value: str) -> None:
        _refuse_signed_change(key)
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        _refuse_signed_change(key)
        super().__delitem__(key)

    def update(self, headers: Any = None) -> None:  # type: ignore[override]
        for key in httpx.Headers(headers):
            _refuse_signed_change(key)
        super().update(headers)


_HOOK_FIX = (
    "r2async signs the request before httpx runs event hooks, so the signature would no "
    "longer match; pass headers with R2Client(headers=...), with_options(headers=...) or the "
    "call's headers=, which are signed"
)


def _refuse_signed_change(key: str) -> None:
    name = key.lower()
    if name == "authorization" or name not in UNSIGNED_HEADERS:
        raise RuntimeError(
            f"a request event hook on http_client tried to change header {name!r}; {_HOOK_FIX}"
        )


def check_not_rewritten(request: httpx.Request, url: httpx.URL, signed: SignedHeaders) -> None:
    # A hook that replaced request.headers or request.url wholesale bypassed SignedHeaders;
    # the request has gone out already, but its answer must not be taken for the intended one.
    if request.headers is signed and request.url is url:
        return
    before = [(k, v) for k, v in signed.multi_items() if k not in UNSIGNED_HEADERS]
    after = [(k, v) for k, v in request.headers.multi_items() if k not in UNSIGNED_HEADERS]
    same_auth = request.headers.get("authorization") == signed.get("authorization")
    moved = (request.url.scheme, request.url.netloc, request.url.raw_path) != (
        url.scheme,
        url.netloc,
        url.raw_path,
    )
    if before != after or not same_auth or moved:
        raise RuntimeError(f"a request event hook on http_client rewrote the request; {_HOOK_FIX}")
