"""The process-wide TLS context every r2async transport shares.

Building an SSL context (loading the CA bundle) costs 50-90 ms: one per process serves every
client and every transport, and is built once, on first use.
"""

from __future__ import annotations

from typing import Any

import httpx

_SSL_CONTEXT: Any = None
_PLAIN_CONTEXT: Any = None


def shared_ssl_context() -> Any:
    """The shared ``ssl.SSLContext`` (httpx's defaults: certifi's CAs, verification on)."""
    global _SSL_CONTEXT
    if _SSL_CONTEXT is None:
        _SSL_CONTEXT = httpx.create_ssl_context()
    return _SSL_CONTEXT


def plain_ssl_context() -> Any:
    """A context for a pool that only speaks plain HTTP (an ``http://`` endpoint).

    httpx's transport wants a context even then, and building the verifying one (loading the
    CA bundle) is most of a fresh process's time to its first response. This one loads no
    CAs, so should it ever be used for a handshake, verification fails: it fails closed.
    """
    global _PLAIN_CONTEXT
    if _PLAIN_CONTEXT is None:
        import ssl

        _PLAIN_CONTEXT = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return _PLAIN_CONTEXT
