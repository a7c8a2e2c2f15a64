"""r2async on its default transport: ``R2Client()``, httpx over r2async's own pool."""

from __future__ import annotations

from typing import Any

from ..adapter import Adapter
from ..common import LIST_KEYS, STREAM_CHUNK, client_ssl_context

# Private: the module that holds R2Client, preloaded so construction is timed without its
# import. Repoint here if r2async's internals move.
CLIENT_MODULE = "r2async._client.r2client"


class R2AsyncAdapter(Adapter):
    name = "r2async"
    label = "r2async (httpx transport)"
    order = 10
    modules: tuple[str, ...] = (CLIENT_MODULE,)
    import_rows: tuple[tuple[str, str], ...] = (
        ("r2async", "import r2async"),
        ("r2async: from r2async import R2Client", "from r2async import R2Client"),
    )
    fast = False

    def __init__(self, cfg: dict[str, Any]) -> None:
        super().__init__(cfg)
        self._own_http: list[Any] = []

    def _kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "endpoint_url": self.endpoint,
            "access_key_id": self.cfg["access_key"],
            "secret_access_key": self.cfg["secret_key"],
        }
        if self.fast:
            kwargs["transport"] = "aiohttp"
        context = client_ssl_context(self.cfg)
        if context is not None:
            # Over HTTPS the test CA must be trusted: R2Client takes it through a transport
            # it will own, the same one R2Client() / transport="aiohttp" would build.
            from r2async import AiohttpTransport, PoolTransport

            kwargs["transport"] = (
                AiohttpTransport(verify=context)
                if self.fast
                else PoolTransport(ssl_context=context)
            )
        return kwargs

    def construct(self) -> Any:
        from r2async import R2Client

        try:
            return R2Client(**self._kwargs())
        except TypeError:
            if not self.fast:
                raise
            # An r2async without the transport= argument: the transport through http_client.
            import httpx

            from r2async import AiohttpTransport

            kwargs = self._kwargs()
            del kwargs["transport"]
            self.note = "fast transport via http_client="
            http = httpx.AsyncClient(transport=AiohttpTransport())
            self._own_http.append(http)
            return R2Client(**kwargs, http_client=http)

    async def start(self) -> None:
        self.client = self.construct()

    async def put(self, key: str, data: bytes) -> None:
        await self.client.put_object(self.bucket, key, data)

    async def get(self, key: str) -> int:
        return len((await self.client.get_object(self.bucket, key)).body)

    async def stream(self, key: str, chunk_size: int = STREAM_CHUNK) -> int:
        n = 0
        async with self.client.stream_object(self.bucket, key, chunk_size=chunk_size) as s:
            async for chunk in s:
                n += len(chunk)
        return n

    async def list_page(self, prefix: str) -> int:
        page = await self.client.list_objects(self.bucket, prefix=prefix, max_keys=LIST_KEYS)
        return len(page.objects)

    async def aclose(self) -> None:
        await self.client.aclose()
        for http in self._own_http:
            await http.aclose()


ADAPTER = R2AsyncAdapter
