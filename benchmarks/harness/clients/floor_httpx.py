"""The stock httpx floor: unsigned requests through ``httpx.AsyncClient()`` (httpcore's pool).

Also the base of the other httpx floors, which change only the transport.
"""

from __future__ import annotations

from typing import Any

from ..common import STREAM_CHUNK, client_ssl_context
from ._raw import RawAdapter


class HttpxRawAdapter(RawAdapter):
    name = "httpx-raw"
    label = "raw httpx, unsigned (floor)"
    order = 30
    modules: tuple[str, ...] = ("httpx",)
    import_rows: tuple[tuple[str, str], ...] = (("httpx", "import httpx"),)

    def _transport(self) -> Any:
        return None

    def construct(self) -> Any:
        import httpx

        context = client_ssl_context(self.cfg)
        return httpx.AsyncClient(
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            transport=self._transport(),
            verify=context if context is not None else True,
        )

    async def start(self) -> None:
        self.client = self.construct()
        self._prepare_urls(self.cfg["keys"])

    async def put(self, key: str, data: bytes) -> None:
        r = await self.client.put(self.url("PUT", key), content=data)
        r.raise_for_status()

    async def get(self, key: str) -> int:
        r = await self.client.get(self.url("GET", key))
        r.raise_for_status()
        return len(r.content)

    async def stream(self, key: str, chunk_size: int = STREAM_CHUNK) -> int:
        n = 0
        async with self.client.stream("GET", self.url("GET", key)) as r:
            r.raise_for_status()
            # The floor takes what arrives (chunk_size unused: not in the stream variants).
            async for chunk in r.aiter_raw():
                n += len(chunk)
        return n

    async def list_page(self, prefix: str) -> int:
        # The floor: the request and the body, no parsing.
        r = await self.client.get(self.url("LIST", ""))
        r.raise_for_status()
        return r.content.count(b"<Key>")

    async def aclose(self) -> None:
        await self.client.aclose()


ADAPTER = HttpxRawAdapter
