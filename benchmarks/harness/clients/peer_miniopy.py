"""miniopy-async (MinIO's client on aiohttp), single PUTs."""

from __future__ import annotations

import io
from typing import Any

from ..adapter import Adapter
from ..common import LIST_KEYS, MIB, STREAM_CHUNK


class MinioAdapter(Adapter):
    name = "miniopy-async"
    label = "miniopy-async"
    order = 120
    requires = ("miniopy_async",)
    modules = ("miniopy_async",)
    import_rows = (("miniopy-async", "from miniopy_async import Minio"),)
    startup_dists = ("miniopy-async",)

    def __init__(self, cfg: dict[str, Any]) -> None:
        super().__init__(cfg)
        if cfg.get("ca_file"):
            # Over HTTPS: miniopy-async builds its own session's context from SSL_CERT_FILE
            # (else certifi's bundle); this worker process runs this one client only.
            import os

            os.environ["SSL_CERT_FILE"] = cfg["ca_file"]

    def construct(self) -> Any:
        from miniopy_async import Minio

        host = self.endpoint.split("://", 1)[1].rstrip("/")
        return Minio(
            host,
            access_key=self.cfg["access_key"],
            secret_key=self.cfg["secret_key"],
            secure=self.endpoint.startswith("https"),
            region="auto",
        )

    async def start(self) -> None:
        self.client = self.construct()

    async def put(self, key: str, data: bytes) -> None:
        # One PUT, as every client here sends (a part size >= the length avoids multipart).
        part = max(len(data), 5 * MIB)
        await self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), part_size=part)

    async def get(self, key: str) -> int:
        r = await self.client.get_object(self.bucket, key)
        try:
            return len(await r.read())
        finally:
            r.release()

    async def stream(self, key: str, chunk_size: int = STREAM_CHUNK) -> int:
        n = 0
        r = await self.client.get_object(self.bucket, key)
        try:
            async for chunk in r.content.iter_chunked(chunk_size):
                n += len(chunk)
        finally:
            r.release()
        return n

    async def list_page(self, prefix: str) -> int:
        n = 0
        async for _ in self.client.list_objects(self.bucket, prefix=prefix, recursive=True):
            n += 1
            if n == LIST_KEYS:
                break
        return n

    async def aclose(self) -> None:
        await self.client.close_session()

    async def dispose(self, client: Any) -> None:
        await client.close_session()


ADAPTER = MinioAdapter
