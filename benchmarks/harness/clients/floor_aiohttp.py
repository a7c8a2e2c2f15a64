"""The aiohttp floor: unsigned requests through a plain ``aiohttp.ClientSession``."""

from __future__ import annotations

from typing import Any

from ..common import STREAM_CHUNK, client_ssl_context
from ._raw import RawAdapter


class AiohttpRawAdapter(RawAdapter):
    name = "aiohttp-raw"
    label = "raw aiohttp, unsigned (floor)"
    order = 60
    requires = ("aiohttp",)
    modules = ("aiohttp",)
    import_rows = (("aiohttp", "import aiohttp"),)

    def construct(self) -> Any:
        import aiohttp

        context = client_ssl_context(self.cfg)
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=64, ssl=context if context is not None else True)
        )

    async def start(self) -> None:
        self.session = self.construct()
        self._prepare_urls(self.cfg["keys"])

    async def put(self, key: str, data: bytes) -> None:
        async with self.session.put(self.url("PUT", key), data=data) as r:
            r.raise_for_status()
            await r.read()

    async def get(self, key: str) -> int:
        async with self.session.get(self.url("GET", key)) as r:
            r.raise_for_status()
            return len(await r.read())

    async def stream(self, key: str, chunk_size: int = STREAM_CHUNK) -> int:
        n = 0
        async with self.session.get(self.url("GET", key)) as r:
            r.raise_for_status()
            # The floor takes what arrives (chunk_size unused: not in the stream variants).
            async for chunk in r.content.iter_any():
                n += len(chunk)
        return n

    async def list_page(self, prefix: str) -> int:
        async with self.session.get(self.url("LIST", "")) as r:
            r.raise_for_status()
            return (await r.read()).count(b"<Key>")

    async def aclose(self) -> None:
        await self.session.close()


ADAPTER = AiohttpRawAdapter
