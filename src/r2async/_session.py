"""What a client and every ``with_options`` view of it share: settings, signer and transport.

The httpx client and the transport behind it are created on first use, so that constructing
``R2Client`` costs next to nothing and imports neither the pool nor aiohttp.
"""

from __future__ import annotations

import sys
from typing import Literal

import httpx

from ._config import DEFAULT_LIMITS, DEFAULT_TIMEOUT, REGION, Settings
from ._signing.auth import SigV4Auth
from ._transports.gate import Gate

TransportChoice = Literal["httpx", "aiohttp"]
_TRANSPORTS = ("httpx", "aiohttp")


class Session:
    """State shared by a client and every ``with_options`` view of it."""

    __slots__ = (
        "auth",
        "bounds_calls",
        "closed",
        "endpoint",
        "gate",
        "http",
        "owns_http",
        "settings",
        "transport",
    )

    def __init__(
        self,
        settings: Settings,
        http: httpx.AsyncClient | None,
        transport: TransportChoice | httpx.AsyncBaseTransport = "httpx",
    ) -> None:
        """Hold the settings; nothing connects yet.

        Args:
            settings: resolved credentials and endpoint.
            http: the user's ``httpx.AsyncClient`` (never closed here), or None to create one.
            transport: "httpx", "aiohttp" or a transport r2async will own (default "httpx").
        """
        self.settings = settings
        self.endpoint = settings.endpoint
        self.auth = SigV4Auth(settings.credentials, region=REGION, service="s3")
        self.http = http
        self.owns_http = http is None
        self.closed = False
        self.gate = Gate.for_client(http) if http is not None else None
        # Whether the transport enforces a call's deadline itself (else _send does).
        self.bounds_calls = http is not None and enforces_deadline(
            getattr(http, "_transport", None)
        )
        # What r2async sends through when it owns the pool: a choice until the first
        # request, then the transport itself (requests go to it directly, see _send).
        self.transport: str | httpx.AsyncBaseTransport = transport

    def client(self) -> httpx.AsyncClient:
        """The httpx client, created on first use (a RuntimeError once closed)."""
        if self.closed:
            raise RuntimeError("this R2Client is closed; create a new one")
        if self.http is None:
            # Created on first use so that constructing R2Client costs next to nothing.
            transport = self.transport
            if transport == "aiohttp":
                from ._transports.aiohttp_transport import AiohttpTransport

                transport = AiohttpTransport(limits=DEFAULT_LIMITS)
            elif not isinstance(transport, httpx.AsyncBaseTransport):
                # httpx's transport over r2async's own connection pool: httpcore's costs
                # 40-55% of the CPU of a small request at concurrency 32 (see _transports.pool).
                from ._transports.pool import PoolTransport

                # One SSL context per process (building one costs 50-90 ms), also for
                # http:// endpoints, where httpx would otherwise build one per client.
                transport = PoolTransport()
            self.transport = transport
            # The client is what with_options views share and what aclose closes; requests
            # skip it (see _send).
            self.http = httpx.AsyncClient(
                timeout=DEFAULT_TIMEOUT,
                follow_redirects=False,
                trust_env=False,
                transport=transport,
            )
            # A given httpcore pool needs the queue in front of it (see Gate); for r2async's
            # pool, which queues in O(1) itself, and for aiohttp's, for_client gives None.
            self.gate = Gate.for_client(self.http)
            self.bounds_calls = enforces_deadline(transport)
        return self.http

    async def aclose(self) -> None:
        """Close what r2async created (or was given to own)."""
        if self.http is not None:
            await self.http.aclose()
        elif isinstance(self.transport, httpx.AsyncBaseTransport):
            # Given to R2Client but never used: still r2async's to close.
            await self.transport.aclose()


def enforces_deadline(transport: object) -> bool:
    """Whether ``transport`` honours the ``r2async.deadline`` extension (r2async's own do)."""
    # Looked up, not imported: neither can be one unless its module is loaded.
    for module, name in (
        ("r2async._transports.pool", "PoolTransport"),
        ("r2async._transports.aiohttp_transport", "AiohttpTransport"),
    ):
        loaded = sys.modules.get(module)
        if loaded is not None and isinstance(transport, getattr(loaded, name)):
            return True
    return False


def check_transport(transport: object, http_client: httpx.AsyncClient | None) -> None:
    """Refuse a bad ``transport=`` (or one given with ``http_client=``) before any I/O."""
    if isinstance(transport, str):
        if transport not in _TRANSPORTS:
            raise ValueError(
                f"transport must be 'httpx', 'aiohttp' or an httpx.AsyncBaseTransport, "
                f"got {transport!r}"
            )
    elif not isinstance(transport, httpx.AsyncBaseTransport):
        raise TypeError(
            "transport must be 'httpx', 'aiohttp' or an httpx.AsyncBaseTransport, got "
            f"{type(transport).__name__}"
        )
    if http_client is not None and transport != "httpx":
        raise ValueError(
            "pass either http_client= or transport=, not both: configure the transport of "
            "your own client with httpx.AsyncClient(transport=...)"
        )
    if transport == "aiohttp":
        import importlib.util

        if importlib.util.find_spec("aiohttp") is None:
            raise ImportError("transport='aiohttp' needs aiohttp: pip install 'r2async[fast]'")
