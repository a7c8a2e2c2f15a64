"""The process-wide TLS context every r2async transport shares.

Building an SSL context (loading the CA bundle) costs 50-90 ms: one per process serves every
client and every transport, and is built once. A client that will need it starts building it
when it is constructed (:func:`prepare_in_background`), in a thread of its own: loading the
bundle releases the GIL, so it overlaps the imports the first request still has to do.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

_SSL_CONTEXT: Any = None
_PLAIN_CONTEXT: Any = None
_LOCK = threading.Lock()
_PREPARING: list[threading.Thread] = []


def shared_ssl_context() -> Any:
    """The shared ``ssl.SSLContext`` (httpx's defaults: certifi's CAs, verification on)."""
    global _SSL_CONTEXT
    context = _SSL_CONTEXT
    if context is not None:
        return context
    # One build per process, also when a background build (prepare_in_background) and a
    # worker thread ask at once: the second waits for the first.
    with _LOCK:
        if _SSL_CONTEXT is None:
            built = httpx.create_ssl_context()
            if _SSL_CONTEXT is None:
                _SSL_CONTEXT = built
        return _SSL_CONTEXT


def prepare_in_background() -> None:
    """Start building the shared context in a daemon thread, once per process (if not built)."""
    if _SSL_CONTEXT is not None or _PREPARING:
        return
    thread = threading.Thread(target=_prepare, name="r2async-tls", daemon=True)
    _PREPARING.append(thread)
    thread.start()


def _prepare() -> None:
    # A failure here resurfaces where the context is needed (built again there).
    import contextlib

    with contextlib.suppress(Exception):
        shared_ssl_context()


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
