"""obstore (Rust object_store): ``S3Store``, single PUTs."""

from __future__ import annotations

from typing import Any

from ..adapter import Adapter
from ..common import LIST_KEYS, STREAM_CHUNK


class ObstoreAdapter(Adapter):
    name = "obstore"
    label = "obstore"
    order = 110
    requires = ("obstore",)
    modules = ("obstore", "obstore.store")
    import_rows = (("obstore", "import obstore; from obstore.store import S3Store"),)
    startup_dists = ("obstore",)

    def construct(self) -> Any:
        from obstore.store import S3Store

        options: dict[str, Any] = {"allow_http": True, "pool_max_idle_per_host": "64"}
        if self.cfg.get("ca_file"):
            # Over HTTPS: the run's test CA, added to the trusted roots (PEM text).
            with open(self.cfg["ca_file"], encoding="ascii") as fh:
                options["root_certificate"] = fh.read()
        return S3Store(
            self.bucket,
            endpoint=self.endpoint,
            access_key_id=self.cfg["access_key"],
            secret_access_key=self.cfg["secret_key"],
            region="auto",
            virtual_hosted_style_request=False,
            client_options=options,
        )

    async def start(self) -> None:
        import obstore

        self.obs = obstore
        self.store = self.construct()

    async def put(self, key: str, data: bytes) -> None:
        # One PUT, as every client here sends (obstore would go multipart above 5 MiB).
        await self.obs.put_async(self.store, key, data, use_multipart=False)

    async def get(self, key: str) -> int:
        r = await self.obs.get_async(self.store, key)
        return len(await r.bytes_async())

    async def stream(self, key: str, chunk_size: int = STREAM_CHUNK) -> int:
        n = 0
        r = await self.obs.get_async(self.store, key)
        async for chunk in r.stream(min_chunk_size=chunk_size):
            n += len(chunk)
        return n

    async def list_page(self, prefix: str) -> int:
        stream = self.obs.list(self.store, prefix=prefix, chunk_size=LIST_KEYS)
        async for batch in stream:
            return len(batch)
        return 0


ADAPTER = ObstoreAdapter
