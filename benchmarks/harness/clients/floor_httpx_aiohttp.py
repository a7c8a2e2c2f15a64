"""The same-transport floor of the fast transport: unsigned httpx over ``AiohttpTransport``."""

from __future__ import annotations

from typing import Any

from ..common import client_ssl_context
from .floor_httpx import HttpxRawAdapter
from .r2async_fast import TRANSPORT_MODULE


class HttpxAiohttpRawAdapter(HttpxRawAdapter):
    name = "httpx-aiohttp-raw"
    label = "raw httpx on r2async's aiohttp transport, unsigned (floor)"
    order = 50
    requires = ("aiohttp",)
    modules = ("httpx", TRANSPORT_MODULE, "aiohttp")
    import_rows = ()

    def _transport(self) -> Any:
        from r2async import AiohttpTransport

        context = client_ssl_context(self.cfg)
        return AiohttpTransport(verify=context if context is not None else True)


ADAPTER = HttpxAiohttpRawAdapter
