"""Object results built without a validator equal the validated ones, or are validated.

``_construct.construct`` builds GET/HEAD/PUT/DELETE and transfer results directly when every
value already has its field's exact type (so a fresh process's first request waits for no
validator); anything else must go through validation unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from typing import Any

import httpx
import pydantic
import pytest

from r2async import (
    DeleteObjectResult,
    DownloadResult,
    GetObjectResult,
    HeadObjectResult,
    ObjectMetadata,
    PutObjectResult,
    UploadResult,
    _construct,
)
from r2async._construct import construct, fields_of
from r2async._operations import objects as ops

MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"
ANSWERS = [
    {"etag": '"e"', "last-modified": MODIFIED, "content-length": "3"},
    {
        "etag": '"e"',
        "last-modified": MODIFIED,
        "content-length": "3",
        "content-type": "text/plain",
        "content-range": "bytes 0-2/10",
        "x-amz-meta-colour": "blue",
        "x-amz-meta-Size": "L",
        "x-amz-checksum-crc32": "AAAAAA==",
        "x-amz-checksum-type": "FULL_OBJECT",
        "x-amz-version-id": "v1",
        "x-amz-mp-parts-count": "2",
        "x-amz-missing-meta": "1",
        "x-amz-request-id": "req-1",
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
    },
]


def _same(built: pydantic.BaseModel, validated: pydantic.BaseModel) -> None:
    assert type(built) is type(validated)
    assert built == validated
    assert repr(built) == repr(validated)
    assert list(built.__dict__) == list(validated.__dict__)  # field order, as validated
    assert built.model_fields_set == validated.model_fields_set
    assert built.model_dump() == validated.model_dump()
    for name, value in validated.__dict__.items():
        assert type(getattr(built, name)) is type(value), name


@pytest.mark.parametrize("answer", ANSWERS)
def test_object_results_equal_the_validated_ones(answer: dict[str, str]) -> None:
    headers = httpx.Headers(answer)
    got = ops.parse_get_object(headers, b"abc")
    _same(got, GetObjectResult(**{**ops.object_metadata_fields(headers, "GetObject")}, body=b"abc"))
    assert got.body == b"abc" and type(got.body) is bytes
    head = ops.parse_head_object(headers)
    _same(head, HeadObjectResult(**ops.object_metadata_fields(headers, "HeadObject")))
    put = ops.parse_put_object(headers)
    _same(put, PutObjectResult.model_validate(put.model_dump(exclude_unset=True)))
    assert put.etag == '"e"'
    deleted = ops.parse_delete_object(headers)
    _same(deleted, DeleteObjectResult(request_id=deleted.request_id))
    if len(answer) > 3:
        assert got.metadata == {"colour": "blue", "size": "L"}
        assert (got.parts_count, got.missing_meta, got.checksum_crc32) == (2, 1, "AAAAAA==")
        assert got.last_modified == dt.datetime(2015, 10, 21, 7, 28, tzinfo=dt.timezone.utc)


def test_every_result_built_this_way_is_a_plain_model() -> None:
    # Else construct validates them (correct, but the first request would then wait for
    # pydantic's plugin look-up again): a model that stops being plain must be noticed.
    models = [GetObjectResult, HeadObjectResult, PutObjectResult, DeleteObjectResult]
    models += [ObjectMetadata, UploadResult, DownloadResult]
    assert [m.__name__ for m in models if _construct._plan(m) is None] == []


def test_transfer_results_equal_the_validated_ones() -> None:
    fields: dict[str, Any] = {"bucket": "b", "key": "k", "size": 5, "etag": '"e"'}
    fields.update(part_count=2, part_size=5 * 2**20, upload_id="u", checksum_sha256="x")
    _same(construct(UploadResult, fields), UploadResult(**fields))
    meta = ops.parse_head_object(httpx.Headers(ANSWERS[1]))
    down = fields_of(meta)
    down.update(path="/tmp/f", md5_verified=True, content_range=None)
    _same(construct(DownloadResult, down), DownloadResult(**down))
    _same(construct(ObjectMetadata, fields_of(meta)), ObjectMetadata(**fields_of(meta)))


def test_fields_of_is_model_dump_with_its_own_dicts() -> None:
    meta = ops.parse_get_object(httpx.Headers(ANSWERS[1]), b"abc")
    fields = fields_of(meta)
    assert fields == meta.model_dump()
    assert fields["metadata"] == meta.metadata and fields["metadata"] is not meta.metadata


class _Subclass(str):
    pass


def test_a_value_of_another_type_is_validated() -> None:
    # Validation converts (a str subclass to str) or refuses; construct must do the same.
    built = construct(PutObjectResult, {"etag": _Subclass('"e"')})
    assert built == PutObjectResult(etag='"e"')
    with pytest.raises(pydantic.ValidationError):
        construct(PutObjectResult, {"etag": 5})
    with pytest.raises(pydantic.ValidationError):
        construct(PutObjectResult, {"etag": None})
    with pytest.raises(pydantic.ValidationError):
        construct(PutObjectResult, {"etag": '"e"', "colour": "blue"})  # extra="forbid"
    fields = ops.object_metadata_fields(httpx.Headers(ANSWERS[0]), "HeadObject")
    with pytest.raises(pydantic.ValidationError):
        construct(HeadObjectResult, {**fields, "metadata": {"a": 1}})
    # bool is an int subclass: not taken as a length without validation.
    assert construct(HeadObjectResult, {**fields, "content_length": True}).content_length == 1


def test_a_mutable_default_is_not_shared() -> None:
    fields = ops.object_metadata_fields(httpx.Headers(ANSWERS[0]), "HeadObject")
    del fields["metadata"]
    first, second = construct(HeadObjectResult, fields), construct(HeadObjectResult, fields)
    assert first.metadata == {} and first.metadata is not second.metadata
    assert "metadata" not in first.model_fields_set


def test_a_model_with_a_validator_is_validated() -> None:
    class Loud(PutObjectResult):
        @pydantic.field_validator("etag")
        @classmethod
        def _upper(cls, value: str) -> str:
            return value.upper()

    class Sized(PutObjectResult):
        etag: str = pydantic.Field(max_length=3)

    assert construct(Loud, {"etag": '"e"'}).etag == '"E"'
    with pytest.raises(pydantic.ValidationError):
        construct(Sized, {"etag": '"long"'})


def test_a_first_get_builds_no_validator_and_the_background_primes_pydantic() -> None:
    # A fresh process: the first GET needs no validator (no plugin look-up on its path), the
    # background loads start only once its task yields, and a later request whose result is
    # validated finds pydantic primed (by the background, or by its own warm-up first).
    code = (
        "import asyncio, json, sys, httpx, respx\n"
        "from r2async import R2Client, GetObjectResult\n"
        "from r2async import _lazy\n"
        "seen = []\n"
        "def answer(request):\n"
        "    seen.append(_lazy.primed())\n"
        "    if request.url.params.get('list-type'):\n"
        "        return httpx.Response(200, content=b'<ListBucketResult><Name>bkt</Name>'\n"
        "            b'<IsTruncated>false</IsTruncated><KeyCount>0</KeyCount>'\n"
        "            b'<MaxKeys>1000</MaxKeys></ListBucketResult>')\n"
        "    return httpx.Response(200, content=b'x', headers={\n"
        "        'etag': '\"9dd4e461268c8034f5c8564e155c67a6\"',\n"
        "        'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT'})\n"
        "async def main():\n"
        "    r2 = R2Client(endpoint_url='http://127.0.0.1:9', access_key_id='A',\n"
        "                  secret_access_key='S')\n"
        "    with respx.mock(base_url='http://127.0.0.1:9') as mock:\n"
        "        mock.route().mock(side_effect=answer)\n"
        "        got = await r2.get_object('bkt', 'k')\n"
        "        out = [got.body.decode(), GetObjectResult.__pydantic_complete__,\n"
        "               len(_lazy._LATER), r2._shared.cold]\n"
        "        await asyncio.sleep(0)\n"
        "        out.append(len(_lazy._LATER))\n"
        "        listed = await r2.list_objects('bkt')\n"
        "        out += [len(listed.objects), _lazy.primed()]\n"
        "        await r2.aclose()\n"
        "    return out\n"
        "out = asyncio.run(main())\n"
        "print(json.dumps([seen, out]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    seen, out = json.loads(proc.stdout)
    body, validator_built, threads_at_answer, cold, threads_after_yield, listed, primed = out
    assert body == "x" and not validator_built
    assert seen[0] is False  # pydantic was not primed on the first GET's path
    assert threads_at_answer == 0 and threads_after_yield == 1
    assert cold  # the client warms up for good once pydantic is primed
    assert seen[1] is True and listed == 0 and primed  # the list waited for the priming
