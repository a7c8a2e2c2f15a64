"""What a client and every ``with_options`` view of it share: settings, signer and transport.

The httpx client and the transport behind it are created on first use, so that constructing
``R2Client`` costs next to nothing and imports neither the pool nor aiohttp.
"""

from __future__ import annotations

import sys
from typing import Literal

import httpx

from ._config import DEFAULT_LIMITS, DEFAULT_TIMEOUT, Settings
from ._signing.auth import SigV4Auth
from ._signing.credentials import Credentials
from ._signing.providers import Refresher
from ._transports.gate import Gate

TransportChoice = Literal["httpx", "aiohttp"]
_UNUSED = object()
_OTHER_LOOP = (
    "this R2Client is used from another event loop than the one that first used it (its "
    "connections belong to that loop, which may be closed). Create the client inside the "
    "loop that uses it: in the async function given to asyncio.run() (async with "
    "R2Client() as r2: ...), in your app's lifespan, or one client per event loop/thread"
)
_TRANSPORTS = ("httpx", "aiohttp")


class Session:
    """State shared by a client and every ``with_options`` view of it."""

    __slots__ = (
        "auth",
        "bounds_calls",
        "clock_offset",
        "closed",
        "cold",
        "endpoint",
        "gate",
        "http",
        "loop",
        "owns_http",
        "presign_host_checked",
        "refresher",
        "settings",
        "started",
        "transport",
        "warmed",
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
        # Seconds to add to this machine's clock when signing (see _send: RequestTimeTooSkewed).
        self.clock_offset = 0.0
        self.warmed = False
        # True until this client is warm: its transport ready and pydantic primed (see warm).
        self.cold = True
        # Whether this client's first request has been sent (see _send.send).
        self.started = False
        # Whether a presign has already warned about a host that is not R2's S3 endpoint.
        self.presign_host_checked = False
        # Static credentials sign with one SigV4Auth; a provider's are refreshed (see signer).
        self.refresher: Refresher | None = None
        self.auth: SigV4Auth | None = None
        if settings.credentials is not None:
            self.auth = SigV4Auth(settings.credentials, region=settings.region, service="s3")
        else:
            self.refresher = Refresher(settings.provider)
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
        if http is None and (
            transport == "aiohttp" or (transport == "httpx" and self.endpoint.scheme == "https")
        ):
            # The CA bundle loads while the first request's imports run (see tls).
            from ._transports.tls import prepare_in_background

            prepare_in_background()
        # The asyncio loop of the first request (None under trio): the pool's sockets belong
        # to it. A sentinel until then.
        self.loop: object = _UNUSED

    async def signer(self, timeout: float | None = None) -> SigV4Auth:
        """The signer for the next attempt: the provider's current credentials, refreshed if due.

        Args:
            timeout: seconds the provider may take (default: the refresher's, 30 s).
        """
        assert self.refresher is not None
        credentials = await self.refresher.get(timeout)
        auth = self.auth
        if auth is None or auth.credentials is not credentials:
            auth = SigV4Auth(credentials, region=self.settings.region, service="s3")
            auth.clock_offset = self.clock_offset
            self.auth = auth
        return auth

    def credentials(self) -> Credentials:
        """The credentials to presign with now (synchronously)."""
        if self.refresher is None:
            assert self.settings.credentials is not None
            return self.settings.credentials
        return self.refresher.get_sync()

    def set_clock_offset(self, offset: float) -> None:
        """Sign from now on with this machine's clock plus ``offset`` seconds."""
        self.clock_offset = offset
        if self.auth is not None:
            self.auth.clock_offset = offset

    async def warm(self, models: bool = True) -> None:
        """Before the first request, in a worker thread: what would otherwise block the loop.

        What the first request needs runs here, off the event loop, once per client (cheap
        checks afterwards): the TLS context (loading the CA bundle takes 50-90 ms; only for an
        https:// endpoint), the transport's modules and, when the request's result is
        validated, pydantic's first validator build (which reads its plugins' entry points
        from disk). The object operations build their results without a validator
        (``_construct``): their first request skips that, and it runs in the background
        after it, with the deferred modules of the other operation families (see
        ``_lazy.load_later``); a later request that validates waits here for it if that has
        not finished. The client stays ``cold`` (``send`` calls this first) until its first
        request is out and both are done.

        Args:
            models: whether pydantic must be primed before the request (default True).
        """
        from . import _lazy

        prime = models and not _lazy.primed()
        if self.warmed and not prime:
            # Warm for good once the first request is out and pydantic is primed.
            self.cold = not (self.started and _lazy.primed())
            return
        from anyio import to_thread

        owns = (
            not self.warmed
            and self.http is None
            and not isinstance(self.transport, httpx.AsyncBaseTransport)
        )
        aiohttp = owns and self.transport == "aiohttp"
        # The aiohttp transport takes the shared context whatever the scheme.
        await to_thread.run_sync(
            _warm, owns and (aiohttp or self.endpoint.scheme == "https"), aiohttp, owns, prime
        )
        self.warmed = True
        self.cold = not (self.started and _lazy.primed())

    def client(self) -> httpx.AsyncClient:
        """The httpx client, created on first use (a RuntimeError once closed)."""
        if self.closed:
            raise RuntimeError("this R2Client is closed; create a new one")
        # One C call and a comparison per request. Without it, a client reused by a second
        # asyncio.run() fails deep in the pool with "Event loop is closed".
        loop = _running_asyncio_loop()
        if loop is not self.loop:
            if self.loop is not _UNUSED:
                raise RuntimeError(_OTHER_LOOP)
            self.loop = loop
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

                # One SSL context per process (building one costs 50-90 ms); an http://
                # endpoint never handshakes, and gets a context without CAs (see tls).
                from ._transports.tls import plain_ssl_context, shared_ssl_context

                https = self.endpoint.scheme == "https"
                transport = PoolTransport(
                    ssl_context=shared_ssl_context() if https else plain_ssl_context()
                )
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


def _running_asyncio_loop() -> object:
    """The running asyncio loop, or None (also under trio); never imports asyncio itself."""
    # Not imported at module level: asyncio costs 10-20 ms of start-up that trio programs and
    # scripts that never make a request need not pay; when it is not imported, no loop runs.
    asyncio = sys.modules.get("asyncio")
    return None if asyncio is None else asyncio._get_running_loop()


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


def _warm(needs_tls: bool, uses_aiohttp: bool, owns: bool, prime: bool) -> None:
    from . import _lazy

    if uses_aiohttp:
        # aiohttp builds its default TLS contexts when it is imported.
        import importlib

        importlib.import_module("r2async._transports.aiohttp_transport")
        importlib.import_module("aiohttp")
    elif owns:
        # httpcore, anyio's stream classes and the pool: imported here, not in client().
        from ._transports import pool  # noqa: F401

    from ._transports.tls import plain_ssl_context, shared_ssl_context

    if needs_tls:
        shared_ssl_context()
    elif owns and not uses_aiohttp:
        plain_ssl_context()
    if prime:
        _lazy.warm()
