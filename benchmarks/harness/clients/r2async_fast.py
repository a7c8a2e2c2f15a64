"""r2async on its opt-in fast transport: ``R2Client(transport="aiohttp")``."""

from __future__ import annotations

from .r2async_default import CLIENT_MODULE, R2AsyncAdapter

# Private: the module of r2async's aiohttp transport, preloaded (with aiohttp) so that
# construction is timed without the import. Repoint here if r2async's internals move.
TRANSPORT_MODULE = "r2async._transports.aiohttp_transport"


class R2AsyncFastAdapter(R2AsyncAdapter):
    name = "r2async-fast"
    label = "r2async (aiohttp transport)"
    order = 20
    requires = ("aiohttp",)
    modules = (CLIENT_MODULE, TRANSPORT_MODULE, "aiohttp")
    # The fast transport imports aiohttp when its first request goes out.
    import_rows = (
        ("r2async: R2Client + fast transport", "from r2async import R2Client; import aiohttp"),
    )
    fast = True


ADAPTER = R2AsyncFastAdapter
