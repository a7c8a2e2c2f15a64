"""A user-style program written against the public API: mypy --strict must accept it."""

from __future__ import annotations

import asyncio
import datetime as dt
import typing
from pathlib import Path

from r2async import (
    BodyLike,
    ChecksumAlgorithm,
    DateLike,
    HeaderMap,
    NoSuchKeyError,
    ObjectInfo,
    ObjectStream,
    ProgressTotals,
    PutObjectResult,
    R2Client,
    StorageClass,
    TimeoutTypes,
)

TRACE: HeaderMap = {"x-request-source": "backup-tool"}


async def store(
    r2: R2Client,
    key: str,
    body: BodyLike,
    *,
    algorithm: ChecksumAlgorithm | None = "SHA256",
    storage: StorageClass = "STANDARD_IA",
    expires: DateLike | None = None,
    timeout: TimeoutTypes = 30.0,
) -> PutObjectResult:
    return await r2.put_object(
        "backups",
        key,
        body,
        checksum_algorithm=algorithm,
        storage_class=storage,
        expires=expires,
        headers=TRACE,
        timeout=timeout,
    )


async def newest(r2: R2Client, prefix: str, count: int) -> list[ObjectInfo]:
    return [obj async for obj in r2.iter_objects("backups", prefix=prefix, limit=count)]


async def first_bytes(r2: R2Client, key: str) -> bytes | None:
    try:
        stream: ObjectStream = await r2.open_object("backups", key, range=(0, 99))
    except NoSuchKeyError:
        return None
    async with stream:
        return await stream.read()


async def main(paths: list[Path]) -> int:
    totals = ProgressTotals(lambda done, total: print(done, total))
    async with R2Client() as r2:
        await store(r2, "a.txt", "text", expires=dt.datetime.now(dt.timezone.utc))
        await store(r2, "b.bin", b"bytes", algorithm=None)
        with open(__file__, "rb") as fh:  # noqa: ASYNC230 - a type check, never run
            await store(r2, "c.py", fh)
        for path in paths:
            await r2.upload_file("backups", path.name, path, progress=totals.track())
        result = await r2.put_object("backups", "d", memoryview(b"view"))
        # Fields R2 always sends are not Optional: no None check needed.
        etag: str = result.etag.strip('"')
        listed = await newest(r2, "", 5)
        head = await first_bytes(r2, "a.txt")
        print(etag, len(listed), head, totals.done)
        meta = await r2.head_object("backups", "d")
        age = dt.datetime.now(dt.timezone.utc) - meta.last_modified
        print(meta.etag.strip('"'), meta.content_length + 1, age.total_seconds())
        for obj in listed:
            print(obj.etag.strip('"'), obj.size // 2, obj.last_modified.isoformat())
        buckets = await r2.list_buckets()
        print([b.creation_date.year for b in buckets.buckets])
        copied = await r2.copy_object("backups", "e", source_bucket="backups", source_key="d")
        print(copied.etag.lower(), copied.last_modified.date())
        uploaded = await r2.upload_file("backups", "f", Path("f"))
        print(uploaded.etag.strip('"'))
    return 0


HINTS = typing.get_type_hints(R2Client.put_object)

if __name__ == "__main__":
    raise SystemExit(asyncio.run(main([])))
