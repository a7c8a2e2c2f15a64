"""Checksums against a real S3 server (SeaweedFS): verified, reported back, typed when wrong.

SeaweedFS quirks seen here: its BadDigest message always says "Content-Md5" even when an
``x-amz-checksum-*`` did not match, and ListParts does not report per-part checksums.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import AsyncIterator

import httpx
import pytest

from r2async import BadDigestError, NoSuchKeyError, R2Client
from r2async._checksums import ALGORITHMS, checksum_b64, composite_checksum, crc_combine
from r2async.testing import LocalR2Server

PART = 5 * 1024 * 1024


@pytest.fixture
async def counted(s3_server: LocalR2Server) -> AsyncIterator[tuple[R2Client, list[httpx.Request]]]:
    """A client that retries (max_retries=3) and records every request it sends."""
    sent: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        sent.append(request)

    http = httpx.AsyncClient(event_hooks={"request": [record]})
    async with R2Client(**s3_server.client_kwargs, http_client=http, max_retries=3) as r2:
        yield r2, sent
    await http.aclose()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_put_object_checksum_is_verified_and_reported(
    r2: R2Client, bucket: str, algorithm: str
) -> None:
    data = os.urandom(1000)
    expected = checksum_b64(algorithm, data)
    field = f"checksum_{algorithm.lower()}"
    put = await r2.put_object(bucket, "obj", data, checksum_algorithm=algorithm)
    assert getattr(put, field) == expected
    head = await r2.head_object(bucket, "obj", checksum_mode=True)
    assert getattr(head, field) == expected


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_bad_checksum_is_bad_digest_and_not_retried(
    counted: tuple[R2Client, list[httpx.Request]], bucket: str, algorithm: str
) -> None:
    r2, sent = counted
    wrong = checksum_b64(algorithm, b"other data")
    with pytest.raises(BadDigestError) as info:
        await r2.put_object(bucket, "bad", b"data", checksum_algorithm=algorithm, checksum=wrong)
    assert info.value.status_code == 400 and info.value.code == "BadDigest"
    assert len(sent) == 1
    with pytest.raises(NoSuchKeyError):
        await r2.head_object(bucket, "bad")


async def test_bad_content_md5_is_bad_digest_and_not_retried(
    counted: tuple[R2Client, list[httpx.Request]], bucket: str
) -> None:
    r2, sent = counted
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(BadDigestError):
        await r2.put_object(bucket, "bad-md5", b"data", content_md5=wrong)
    assert len(sent) == 1
    assert sent[0].headers["content-md5"] == wrong
    put = await r2.put_object(bucket, "good-md5", b"data", content_md5=True)
    assert put.etag == f'"{hashlib.md5(b"data").hexdigest()}"'


async def test_bad_part_checksum_is_bad_digest_and_not_retried(
    counted: tuple[R2Client, list[httpx.Request]], bucket: str
) -> None:
    r2, sent = counted
    upload = await r2.create_multipart_upload(bucket, "mp", checksum_algorithm="CRC32C")
    sent.clear()
    with pytest.raises(BadDigestError):
        await r2.upload_part(
            bucket,
            "mp",
            upload.upload_id,
            1,
            b"part",
            checksum_algorithm="CRC32C",
            checksum=checksum_b64("CRC32C", b"tampered"),
        )
    with pytest.raises(BadDigestError):
        await r2.upload_part(
            bucket,
            "mp",
            upload.upload_id,
            1,
            b"part",
            content_md5=base64.b64encode(hashlib.md5(b"tampered").digest()).decode(),
        )
    assert len(sent) == 2
    await r2.abort_multipart_upload(bucket, "mp", upload.upload_id)


async def test_composite_crc32c_multipart(r2: R2Client, bucket: str) -> None:
    upload = await r2.create_multipart_upload(bucket, "comp", checksum_algorithm="CRC32C")
    assert upload.checksum_algorithm == "CRC32C"
    first, last = os.urandom(PART), os.urandom(100)
    p1 = await r2.upload_part(
        bucket, "comp", upload.upload_id, 1, first, checksum_algorithm="CRC32C", content_md5=True
    )
    p2 = await r2.upload_part(
        bucket, "comp", upload.upload_id, 2, last, checksum_algorithm="CRC32C"
    )
    assert p1.checksum_crc32c == checksum_b64("CRC32C", first)
    assert p2.checksum_crc32c == checksum_b64("CRC32C", last)
    done = await r2.complete_multipart_upload(bucket, "comp", upload.upload_id, [p1, p2])
    expected = composite_checksum("CRC32C", [p1.checksum_crc32c, p2.checksum_crc32c])
    assert done.checksum_crc32c == expected
    assert done.checksum_type == "COMPOSITE"
    head = await r2.head_object(bucket, "comp", checksum_mode=True)
    assert head.checksum_crc32c == expected


async def test_full_object_crc64nvme_multipart(r2: R2Client, bucket: str) -> None:
    upload = await r2.create_multipart_upload(
        bucket, "full", checksum_algorithm="CRC64NVME", checksum_type="FULL_OBJECT"
    )
    assert upload.checksum_type == "FULL_OBJECT"
    first, last = os.urandom(PART), os.urandom(321)
    p1 = await r2.upload_part(
        bucket, "full", upload.upload_id, 1, first, checksum_algorithm="CRC64NVME"
    )
    p2 = await r2.upload_part(
        bucket, "full", upload.upload_id, 2, last, checksum_algorithm="CRC64NVME"
    )
    assert p1.checksum_crc64nvme and p2.checksum_crc64nvme
    # The whole object's CRC from the parts' CRCs alone, as a parallel uploader would do it.
    whole = crc_combine(
        "CRC64NVME",
        base64.b64decode(p1.checksum_crc64nvme),
        base64.b64decode(p2.checksum_crc64nvme),
        len(last),
    )
    whole_b64 = base64.b64encode(whole).decode()
    assert whole_b64 == checksum_b64("CRC64NVME", first + last)
    done = await r2.complete_multipart_upload(
        bucket,
        "full",
        upload.upload_id,
        [p1, p2],
        checksum_algorithm="CRC64NVME",
        checksum=whole_b64,
        checksum_type="FULL_OBJECT",
    )
    assert done.checksum_crc64nvme == whole_b64
    assert done.checksum_type == "FULL_OBJECT"
    assert (await r2.get_object(bucket, "full")).body == first + last


async def test_no_checksum_headers_unless_asked(
    counted: tuple[R2Client, list[httpx.Request]], bucket: str
) -> None:
    r2, sent = counted
    await r2.put_object(bucket, "plain", b"data")
    upload = await r2.create_multipart_upload(bucket, "plain-mp")
    part = await r2.upload_part(bucket, "plain-mp", upload.upload_id, 1, b"data")
    await r2.complete_multipart_upload(bucket, "plain-mp", upload.upload_id, [part])
    for request in sent:
        names = [n for n in request.headers if n.startswith("x-amz-checksum") or n == "content-md5"]
        assert names == [], (request.method, request.url, names)
