"""Multipart uploads against a real S3 server (SeaweedFS), end to end.

SeaweedFS differs from R2 in ways these tests work around (each is noted where it matters):
ListMultipartUploads echoes ``EncodingType=url`` without encoding keys, sorts by upload id,
ignores ``delimiter`` and pages by ``NextUploadIdMarker`` alone; a failed ``If-None-Match`` on
Complete does not abort the upload; ``If-None-Match`` on Create is not evaluated; aborting an
unknown upload is ``NoSuchUpload`` (R2 succeeds).
"""

from __future__ import annotations

import hashlib
import os

import pytest

from r2async import (
    BadRequestError,
    NoSuchUploadError,
    PreconditionFailedError,
    R2Client,
)

MIB = 1024 * 1024
PART = 5 * MIB  # the smallest part size S3 and R2 accept for all but the last part


def multipart_etag(*parts: bytes) -> str:
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


async def test_multipart_round_trip(r2: R2Client, bucket: str) -> None:
    key = "big/a b(1).bin"
    first, last = os.urandom(PART), os.urandom(1234)
    upload = await r2.create_multipart_upload(
        bucket, key, content_type="application/x-test", metadata={"origin": "zoë"}
    )
    assert upload.bucket == bucket and upload.key == key and upload.upload_id
    # Upload out of order: parts are assembled by number, not arrival.
    p2 = await r2.upload_part(bucket, key, upload.upload_id, 2, last)
    p1 = await r2.upload_part(bucket, key, upload.upload_id, 1, first)
    assert p1.etag.strip('"') == hashlib.md5(first).hexdigest()

    listed = [p async for p in r2.iter_parts(bucket, key, upload.upload_id, page_size=1)]
    assert [(p.part_number, p.size, p.etag) for p in listed] == [
        (1, PART, p1.etag),
        (2, 1234, p2.etag),
    ]
    page = await r2.list_parts(bucket, key, upload.upload_id, max_parts=1)
    assert page.is_truncated and page.next_part_number_marker == 1
    assert [p.part_number for p in page.parts] == [1]

    done = await r2.complete_multipart_upload(bucket, key, upload.upload_id, [p2, p1])
    assert done.etag == multipart_etag(first, last)
    got = await r2.get_object(bucket, key)
    assert got.body == first + last
    assert got.content_type == "application/x-test"
    assert got.metadata == {"origin": "zoë"}
    with pytest.raises(NoSuchUploadError):
        await r2.list_parts(bucket, key, upload.upload_id)


async def test_complete_with_parts_from_list_parts(r2: R2Client, bucket: str) -> None:
    # Resuming: the parts can come from list_parts instead of upload_part's results.
    upload = await r2.create_multipart_upload(bucket, "resume")
    await r2.upload_part(bucket, "resume", upload.upload_id, 1, b"only part")
    parts = [p async for p in r2.iter_parts(bucket, "resume", upload.upload_id)]
    await r2.complete_multipart_upload(bucket, "resume", upload.upload_id, parts)
    assert (await r2.get_object(bucket, "resume")).body == b"only part"


async def test_reuploading_a_part_replaces_it(r2: R2Client, bucket: str) -> None:
    upload = await r2.create_multipart_upload(bucket, "replace")
    await r2.upload_part(bucket, "replace", upload.upload_id, 1, b"old data")
    new = await r2.upload_part(bucket, "replace", upload.upload_id, 1, b"new")
    await r2.complete_multipart_upload(bucket, "replace", upload.upload_id, [new])
    assert (await r2.get_object(bucket, "replace")).body == b"new"


async def test_upload_part_copy_with_ranges(r2: R2Client, bucket: str) -> None:
    source = os.urandom(PART + 3 * MIB)
    own = os.urandom(PART)
    await r2.put_object(bucket, "src/data+1.bin", source)
    upload = await r2.create_multipart_upload(bucket, "assembled")
    p1 = await r2.upload_part(bucket, "assembled", upload.upload_id, 1, own)
    c2 = await r2.upload_part_copy(
        bucket,
        "assembled",
        upload.upload_id,
        2,
        bucket,
        "src/data+1.bin",
        source_range=(0, PART - 1),
    )
    c3 = await r2.upload_part_copy(
        bucket,
        "assembled",
        upload.upload_id,
        3,
        bucket,
        "src/data+1.bin",
        source_range=f"bytes={PART}-{len(source) - 1}",
    )
    assert c2.part_number == 2 and c2.etag and c2.last_modified is not None
    parts = [
        (p.part_number, p.size) async for p in r2.iter_parts(bucket, "assembled", upload.upload_id)
    ]
    assert parts == [(1, PART), (2, PART), (3, 3 * MIB)]
    await r2.complete_multipart_upload(bucket, "assembled", upload.upload_id, [c3, p1, c2])
    got = await r2.get_object(bucket, "assembled")
    assert got.body == own + source


async def test_small_non_last_part_is_refused_at_complete(r2: R2Client, bucket: str) -> None:
    upload = await r2.create_multipart_upload(bucket, "small")
    p1 = await r2.upload_part(bucket, "small", upload.upload_id, 1, b"too small")
    p2 = await r2.upload_part(bucket, "small", upload.upload_id, 2, b"last")
    # r2async knows the sizes it sent: refused before Complete is sent ...
    with pytest.raises(ValueError, match="part 1 is 9 bytes"):
        await r2.complete_multipart_upload(bucket, "small", upload.upload_id, [p1, p2])
    # ... and the server refuses it too when the sizes are not known to r2async.
    with pytest.raises(BadRequestError) as info:
        await r2.complete_multipart_upload(
            bucket, "small", upload.upload_id, [(1, p1.etag), (2, p2.etag)]
        )
    assert info.value.code == "EntityTooSmall"
    await r2.abort_multipart_upload(bucket, "small", upload.upload_id)


async def test_upload_part_copy_of_a_whole_object(r2: R2Client, bucket: str) -> None:
    await r2.put_object(bucket, "small-src", b"copied whole")
    upload = await r2.create_multipart_upload(bucket, "whole")
    c = await r2.upload_part_copy(bucket, "whole", upload.upload_id, 1, bucket, "small-src")
    await r2.complete_multipart_upload(bucket, "whole", upload.upload_id, [c])
    assert (await r2.get_object(bucket, "whole")).body == b"copied whole"


async def test_list_multipart_uploads_and_abort(r2: R2Client, bucket: str) -> None:
    # Keys avoid '+' and '%': SeaweedFS claims EncodingType=url but sends keys unencoded,
    # so they are decoded once too often (R2 encodes them; the respx tests pin decoding).
    keys = ["lmu/one", "lmu/two words", "lmu/sub/three-é", "other/x"]
    ids = {}
    for key in keys:
        ids[key] = (await r2.create_multipart_upload(bucket, key)).upload_id
    extra = (await r2.create_multipart_upload(bucket, "lmu/one")).upload_id

    page = await r2.list_multipart_uploads(bucket, prefix="lmu/")
    assert sorted((u.key, u.upload_id) for u in page.uploads) == sorted(
        [(k, ids[k]) for k in keys[:3]] + [("lmu/one", extra)]
    )
    assert all(u.initiated is not None for u in page.uploads)

    # Page by one: every upload exactly once.
    seen = [(u.key, u.upload_id) async for u in r2.iter_multipart_uploads(bucket, page_size=1)]
    assert sorted(seen) == sorted([(k, ids[k]) for k in keys] + [("lmu/one", extra)])

    for key, upload_id in [*ids.items(), ("lmu/one", extra)]:
        await r2.abort_multipart_upload(bucket, key, upload_id)
    assert (await r2.list_multipart_uploads(bucket)).uploads == ()
    with pytest.raises(NoSuchUploadError):
        await r2.upload_part(bucket, "lmu/one", extra, 1, b"late")
    with pytest.raises(NoSuchUploadError):
        await r2.list_parts(bucket, "lmu/one", extra)


async def test_complete_errors(r2: R2Client, bucket: str) -> None:
    upload = await r2.create_multipart_upload(bucket, "errs")
    part = await r2.upload_part(bucket, "errs", upload.upload_id, 1, b"x")
    with pytest.raises(BadRequestError) as info:
        await r2.complete_multipart_upload(bucket, "errs", upload.upload_id, [(1, "0" * 32)])
    assert info.value.code == "InvalidPart"
    with pytest.raises(BadRequestError) as info:
        await r2.complete_multipart_upload(bucket, "errs", upload.upload_id, [(2, part.etag)])
    assert info.value.code == "InvalidPart"

    await r2.put_object(bucket, "errs", b"already here")
    with pytest.raises(PreconditionFailedError):
        await r2.complete_multipart_upload(
            bucket, "errs", upload.upload_id, [part], if_none_match="*"
        )
    assert (await r2.get_object(bucket, "errs")).body == b"already here"
    # R2 aborts the upload after a failed condition; SeaweedFS keeps it, so clean up.
    await r2.abort_multipart_upload(bucket, "errs", upload.upload_id)


async def test_complete_with_if_match(r2: R2Client, bucket: str) -> None:
    put = await r2.put_object(bucket, "cond", b"v1")
    upload = await r2.create_multipart_upload(bucket, "cond")
    part = await r2.upload_part(bucket, "cond", upload.upload_id, 1, b"v2")
    assert put.etag is not None
    await r2.complete_multipart_upload(bucket, "cond", upload.upload_id, [part], if_match=put.etag)
    assert (await r2.get_object(bucket, "cond")).body == b"v2"
