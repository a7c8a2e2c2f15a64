"""Deliberate mistakes: mypy --strict must report each line marked ``# E: <code>``."""

from __future__ import annotations

from pathlib import Path

from r2async import R2Client


async def mistakes(r2: R2Client) -> None:
    await r2.put_object("b", "k", Path("data.bin"))  # E: arg-type
    await r2.put_object("b", "k", 12345)  # E: arg-type
    await r2.put_object("b", "k", {"not": "bytes"})  # E: dict-item
    await r2.put_object("b", "k", b"x", checksum_algorithm="MD5")  # E: arg-type
    await r2.put_object("b", "k", b"x", storage_class="GLACIER")  # E: arg-type
    await r2.put_object("b", "k", b"x", headers={"x-count": 1})  # E: dict-item
    await r2.upload_file("b", "k", "f", checksum_algorithm="md5")  # E: arg-type
    await r2.upload_file("b", "k", "f", progress=lambda done: None)  # E: arg-type
    r2.put_object("b", "k", b"x")  # E: unused-coroutine
    result = await r2.put_object("b", "k", b"x")
    result.version_id.upper()  # E: union-attr
    head = await r2.head_object("b", "k")
    head.content_type.lower()  # E: union-attr
    async for _ in r2.iter_objects("b", limit="5"):  # E: arg-type
        pass
    async for _ in r2.list_objects("b"):  # E: attr-defined
        pass
    async with r2.open_object("b", "k") as stream:  # E: attr-defined
        print(stream)
    await r2.get_object("b", "k", timeout="30")  # E: arg-type
