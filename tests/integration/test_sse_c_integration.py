"""SSE-C against a real S3 server (SeaweedFS): stored encrypted, readable only with the key.

What SeaweedFS answers (R2's codes may differ, hence the class checks): reading without the key
is 400 InvalidArgument (BadRequestError), with the wrong key 403 AccessDenied
(PermissionDeniedError). SeaweedFS quirks: it does not echo the SSE-C headers on
CreateMultipartUpload, it sends the key-MD5 header twice on GET, it accepts an UploadPart
without the key on an SSE-C upload, it answers 501 to UploadPartCopy from an SSE-C source, and
an UploadPartCopy into an SSE-C upload completes but then reads back as 500 InternalError.
R2 supports both copies; the respx tests in test_sse_c.py pin their headers.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import pytest

from r2async import BadRequestError, PermissionDeniedError, R2Client
from r2async.testing import LocalR2Server

KEY = os.urandom(32)
OTHER = os.urandom(32)
KEY_MD5 = base64.b64encode(hashlib.md5(KEY).digest()).decode()
PART = 5 * 1024 * 1024


async def assert_key_required(r2: R2Client, bucket: str, key: str, data: bytes) -> None:
    with pytest.raises(BadRequestError):
        await r2.get_object(bucket, key)
    with pytest.raises(PermissionDeniedError):
        await r2.get_object(bucket, key, sse_customer_key=OTHER)
    with pytest.raises(BadRequestError):
        await r2.head_object(bucket, key)
    with pytest.raises(PermissionDeniedError):
        await r2.head_object(bucket, key, sse_customer_key=OTHER)
    got = await r2.get_object(bucket, key, sse_customer_key=KEY)
    assert got.body == data
    assert got.sse_customer_algorithm == "AES256"
    # SeaweedFS sends the key-MD5 header twice on GET (httpx joins them with ", ").
    assert got.sse_customer_key_md5 is not None
    assert {v.strip() for v in got.sse_customer_key_md5.split(",")} == {KEY_MD5}
    head = await r2.head_object(bucket, key, sse_customer_key=KEY)
    assert head.content_length == len(data)


async def test_put_object_with_sse_c(r2: R2Client, bucket: str) -> None:
    data = os.urandom(2000)
    put = await r2.put_object(bucket, "secret", data, sse_customer_key=KEY)
    assert put.sse_customer_algorithm == "AES256" and put.sse_customer_key_md5 == KEY_MD5
    await assert_key_required(r2, bucket, "secret", data)
    ranged = await r2.get_object(bucket, "secret", range=(10, 19), sse_customer_key=KEY)
    assert ranged.body == data[10:20]


def _found_on_disk(root: Path, needle: bytes) -> bool:
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                if needle in path.read_bytes():
                    return True
            except OSError:
                continue
    return False


async def test_data_is_encrypted_at_rest(
    r2: R2Client, bucket: str, s3_server: LocalR2Server
) -> None:
    # Random (incompressible) bodies; a 64-byte window of each is searched for in the server's
    # files. The plaintext control shows the search would find unencrypted data.
    plain, secret = os.urandom(64 * 1024), os.urandom(64 * 1024)
    await r2.put_object(bucket, "plain", plain)
    await r2.put_object(bucket, "encrypted", secret, sse_customer_key=KEY)
    assert _found_on_disk(s3_server.data_dir, plain[1000:1064])
    assert not _found_on_disk(s3_server.data_dir, secret[1000:1064])


async def test_multipart_upload_with_sse_c(r2: R2Client, bucket: str) -> None:
    first, last = os.urandom(PART), os.urandom(500)
    upload = await r2.create_multipart_upload(bucket, "mp-secret", sse_customer_key=KEY)
    p1 = await r2.upload_part(bucket, "mp-secret", upload.upload_id, 1, first, sse_customer_key=KEY)
    p2 = await r2.upload_part(bucket, "mp-secret", upload.upload_id, 2, last, sse_customer_key=KEY)
    assert p1.sse_customer_algorithm == "AES256" and p1.sse_customer_key_md5 == KEY_MD5
    await r2.complete_multipart_upload(
        bucket, "mp-secret", upload.upload_id, [p1, p2], sse_customer_key=KEY
    )
    await assert_key_required(r2, bucket, "mp-secret", first + last)
