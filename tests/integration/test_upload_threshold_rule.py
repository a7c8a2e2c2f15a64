"""The README's one rule for one PutObject versus multipart, checked as stated.

A path and bytes in memory: one PutObject up to ``threshold``. Data read sequentially (a file
object, an async iterator, with or without ``content_length``): one PutObject only if it ends
within ``min(threshold, part_size)`` bytes.
"""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from r2async import R2Client

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
PART = 5 * MIB
THRESHOLD = 6 * MIB


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), MIB):
        yield data[start : start + MIB]


def _operations(caplog: pytest.LogCaptureFixture) -> list[str]:
    ops = [getattr(r, "r2_operation", "") for r in caplog.records]
    caplog.clear()
    return [op for op in ops if op in ("PutObject", "UploadPart")]


async def test_one_rule_for_single_put_or_multipart(
    r2: R2Client, bucket: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="r2async")
    six = b"s" * THRESHOLD
    path = tmp_path / "six"
    path.write_bytes(six)
    kw = {"part_size": PART, "threshold": THRESHOLD}

    await r2.upload_file(bucket, "path", path, **kw)  # type: ignore[arg-type]
    assert _operations(caplog) == ["PutObject"]
    await r2.upload_stream(bucket, "bytes", six, **kw)  # type: ignore[arg-type]
    assert _operations(caplog) == ["PutObject"]

    await r2.upload_stream(bucket, "iter", _chunks(six), **kw)  # type: ignore[arg-type]
    assert _operations(caplog) == ["UploadPart", "UploadPart"]
    await r2.upload_stream(
        bucket,
        "iter-len",
        _chunks(six),
        content_length=len(six),
        **kw,  # type: ignore[arg-type]
    )
    assert _operations(caplog) == ["UploadPart", "UploadPart"]
    await r2.upload_file(bucket, "fileobj", io.BytesIO(six), **kw)  # type: ignore[arg-type]
    assert _operations(caplog) == ["UploadPart", "UploadPart"]

    await r2.upload_stream(bucket, "iter-small", _chunks(six[:PART]), **kw)  # type: ignore[arg-type]
    assert _operations(caplog) == ["PutObject"]
