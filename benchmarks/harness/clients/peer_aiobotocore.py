"""aiobotocore, path-style, with botocore's checksums only where required."""

from __future__ import annotations

from typing import Any

from ..adapter import Adapter
from ..common import LIST_KEYS, STREAM_CHUNK


class AiobotocoreAdapter(Adapter):
    name = "aiobotocore"
    label = "aiobotocore"
    order = 100
    requires = ("aiobotocore",)
    modules = ("aiobotocore.session", "aiobotocore.config")
    import_rows = (("aiobotocore", "import aiobotocore.session"),)
    startup_dists = ("aiobotocore",)
    note = "checksums 'when_required' (botocore's default CRC32 on PUT would cost more)"

    def _config(self) -> Any:
        from aiobotocore.config import AioConfig

        return AioConfig(
            max_pool_connections=64,
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            retries={"max_attempts": 1, "mode": "standard"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )

    def construct(self) -> Any:
        from aiobotocore.session import get_session

        return get_session().create_client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.cfg["access_key"],
            aws_secret_access_key=self.cfg["secret_key"],
            region_name="auto",
            config=self._config(),
            # Over HTTPS: the run's test CA, as a path (botocore's way).
            verify=self.cfg.get("ca_file") or None,
        )

    async def build(self) -> Any:
        # create_client() returns a context manager: entering it builds the client.
        cm = self.construct()
        client = await cm.__aenter__()
        client._bench_cm = cm
        return client

    async def dispose(self, client: Any) -> None:
        await client._bench_cm.__aexit__(None, None, None)

    async def start(self) -> None:
        self.client = await self.build()

    async def put(self, key: str, data: bytes) -> None:
        await self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    async def get(self, key: str) -> int:
        r = await self.client.get_object(Bucket=self.bucket, Key=key)
        async with r["Body"] as body:
            return len(await body.read())

    async def stream(self, key: str, chunk_size: int = STREAM_CHUNK) -> int:
        n = 0
        r = await self.client.get_object(Bucket=self.bucket, Key=key)
        async with r["Body"] as body:
            async for chunk in body.iter_chunks(chunk_size):
                n += len(chunk)
        return n

    async def list_page(self, prefix: str) -> int:
        r = await self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=LIST_KEYS)
        return len(r.get("Contents", []))

    async def aclose(self) -> None:
        await self.dispose(self.client)


ADAPTER = AiobotocoreAdapter
