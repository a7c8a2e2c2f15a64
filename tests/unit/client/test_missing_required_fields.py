"""A server that leaves out a field R2 always sends gets a ResponseParseError naming it.

The result models declare ``etag``, ``content_length``, ``last_modified`` (objects),
``etag``/``last_modified`` (copies), ``etag`` (PUT, Complete), ``creation_date`` (buckets)
non-optional, so callers need no None checks. A server that is not R2 (or a hostile one) and
omits one must get a typed error that names the missing header or element: never a raw pydantic
``ValidationError``, never a result holding None.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pydantic
import pytest
import respx
from tests.support.loopback import LoopbackServer, Received, response
from tests.support.r2_answers import LAST_MODIFIED, object_headers

from r2async import R2Client, ResponseParseError

BASE = "http://r2.test"
BODY = b"hello"


def _client(**kwargs: object) -> R2Client:
    return R2Client(
        endpoint_url=BASE,
        access_key_id="AKID",
        secret_access_key="SECRET",
        max_retries=0,
        **kwargs,  # type: ignore[arg-type]
    )


def _without(name: str, **kwargs: object) -> dict[str, str]:
    headers = object_headers(BODY, **kwargs)  # type: ignore[arg-type]
    return {k: v for k, v in headers.items() if k.lower() != name.lower()}


async def _read_stream(r2: R2Client) -> object:
    async with r2.stream_object("bkt", "k") as stream:
        return stream.metadata


async def _open(r2: R2Client) -> object:
    stream = await r2.open_object("bkt", "k")
    await stream.aclose()
    return stream


READS: dict[str, Callable[[R2Client], Awaitable[object]]] = {
    "head_object": lambda r2: r2.head_object("bkt", "k"),
    "get_object": lambda r2: r2.get_object("bkt", "k"),
    "stream_object": _read_stream,
    "open_object": _open,
}


@pytest.mark.parametrize("read", sorted(READS))
@pytest.mark.parametrize(
    ("drop", "named"),
    [
        ("ETag", "the ETag header"),
        ("Last-Modified", "the Last-Modified header"),
        ("Content-Length", "the Content-Length header"),
    ],
)
async def test_an_object_answer_without_a_header_r2_always_sends_is_refused(
    read: str, drop: str, named: str
) -> None:
    async with _client() as r2:
        with respx.mock(base_url=BASE) as mock:
            # A stream body: httpx would otherwise add the Content-Length being left out.
            mock.route(url__regex=r".*").mock(
                return_value=httpx.Response(
                    200, headers=_without(drop), stream=httpx.ByteStream(BODY)
                )
            )
            with pytest.raises(ResponseParseError) as info:
                await READS[read](r2)
    message = str(info.value)
    assert named in message and "R2 always sends it" in message
    assert not isinstance(info.value.__cause__, pydantic.ValidationError)


@pytest.mark.parametrize("read", sorted(READS))
async def test_an_unreadable_date_or_length_is_refused_like_a_missing_one(read: str) -> None:
    headers = object_headers(BODY)
    headers.update({"Last-Modified": "yesterday", "Content-Length": str(len(BODY))})
    async with _client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.route(url__regex=r".*").respond(200, headers=headers, content=BODY)
            with pytest.raises(ResponseParseError, match="the Last-Modified header is missing"):
                await READS[read](r2)


async def test_a_chunked_ranged_answer_takes_its_length_from_content_range() -> None:
    # A 206 sent chunked (no Content-Length) still says which bytes it holds.
    headers = _without("Content-Length", content_range=f"bytes 1-3/{len(BODY)}")
    async with _client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").mock(
                return_value=httpx.Response(
                    206, headers=headers, stream=httpx.ByteStream(BODY[1:4])
                )
            )
            result = await r2.get_object("bkt", "k", range=(1, 3))
    assert result.content_length == 3 and result.body == b"ell"


@pytest.mark.parametrize(
    ("call", "answer", "named"),
    [
        (
            lambda r2: r2.put_object("bkt", "k", BODY),
            httpx.Response(200, headers={"x-amz-request-id": "R"}),
            "PutObject response: the ETag header",
        ),
        (
            lambda r2: r2.copy_object("bkt", "k", source_bucket="bkt", source_key="s"),
            httpx.Response(
                200, content=b"<CopyObjectResult><ETag>&quot;e&quot;</ETag></CopyObjectResult>"
            ),
            "CopyObject response: the <LastModified> element",
        ),
        (
            lambda r2: r2.copy_object("bkt", "k", source_bucket="bkt", source_key="s"),
            httpx.Response(
                200,
                content=b"<CopyObjectResult><LastModified>2025-01-01T00:00:00Z</LastModified>"
                b"</CopyObjectResult>",
            ),
            "CopyObject response: the <ETag> element",
        ),
        (
            lambda r2: r2.complete_multipart_upload("bkt", "k", "up", [(1, '"e"')]),
            httpx.Response(
                200,
                content=b"<CompleteMultipartUploadResult><Bucket>bkt</Bucket><Key>k</Key>"
                b"</CompleteMultipartUploadResult>",
            ),
            "CompleteMultipartUpload response: the <ETag> element",
        ),
        (
            lambda r2: r2.list_buckets(),
            httpx.Response(
                200,
                content=b"<ListAllMyBucketsResult><Buckets><Bucket><Name>photos</Name></Bucket>"
                b"</Buckets></ListAllMyBucketsResult>",
            ),
            "bucket 'photos': the <CreationDate> element",
        ),
        (
            lambda r2: r2.list_objects("bkt"),
            httpx.Response(
                200,
                content=b"<ListBucketResult><Contents><Key>a</Key><Size>1</Size>"
                b"<ETag>e</ETag></Contents></ListBucketResult>",
            ),
            "entry for 'a': <LastModified>",
        ),
    ],
    ids=["put", "copy-date", "copy-etag", "complete", "list-buckets", "list-objects"],
)
async def test_other_answers_without_a_field_r2_always_sends_are_refused(
    call: Callable[[R2Client], Awaitable[object]], answer: httpx.Response, named: str
) -> None:
    async with _client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.route(url__regex=r".*").mock(return_value=answer)
            with pytest.raises(ResponseParseError, match=f"{named}.*R2 always sends"):
                await call(r2)


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_both_transports_refuse_a_head_answer_without_an_etag(transport: str) -> None:
    async def handler(request: Received) -> bytes:
        # Content-Length and Last-Modified as R2 sends them, and no ETag.
        head = response(200, headers={"Last-Modified": LAST_MODIFIED, "ETag": ""})
        return head.replace(b"ETag: \r\n", b"")

    async with (
        LoopbackServer(handler) as server,
        R2Client(
            endpoint_url=server.url,
            access_key_id="AKID",
            secret_access_key="SECRET",
            transport=transport,  # type: ignore[arg-type]
            max_retries=0,
        ) as r2,
    ):
        with pytest.raises(ResponseParseError, match="HeadObject response: the ETag header"):
            await r2.head_object("bkt", "k")
