"""The process-wide TLS context every r2async transport shares.

Building an SSL context (loading the CA bundle) costs 50-90 ms: one per process serves every
client and every transport, and is built once, on first use.
"""

from __future__ import annotations

from typing import Any

import httpx

_SSL_CONTEXT: Any = None


def shared_ssl_context() -> Any:
    """The shared ``ssl.SSLContext`` (httpx's defaults: certifi's CAs, verification on)."""
    global _SSL_CONTEXT
    if _SSL_CONTEXT is None:
        _SSL_CONTEXT = httpx.create_ssl_context()
    return _SSL_CONTEXT
