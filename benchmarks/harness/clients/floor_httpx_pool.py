"""The same-transport floor of ``R2Client()``: unsigned httpx over r2async's ``PoolTransport``."""

from __future__ import annotations

from typing import Any

from ..common import client_ssl_context
from .floor_httpx import HttpxRawAdapter

# Private: the module that holds PoolTransport, preloaded so construction is timed without
# its import. Repoint here if r2async's internals move.
POOL_MODULE = "r2async._transports.pool"


class HttpxPoolRawAdapter(HttpxRawAdapter):
    name = "httpx-pool-raw"
    label = "raw httpx on r2async's default transport, unsigned (floor)"
    order = 40
    modules = ("httpx", POOL_MODULE)
    import_rows = ()

    def _transport(self) -> Any:
        import httpx

        from r2async import PoolTransport

        # Without ssl_context, PoolTransport takes the process's shared one, as R2Client does.
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
        return PoolTransport(limits=limits, ssl_context=client_ssl_context(self.cfg))


ADAPTER = HttpxPoolRawAdapter
