"""What a resumed read reports, exactly: why a response cannot be resumed (``span_of``), the
cut of a body that ends short, and the fields of ObjectChangedError (another ETag, or a 412 to
the pinned If-Match). A scripted transport, no sockets.
"""

from __future__ import annotations

import httpx
import pytest
from tests.unit.client.test_resumed_answers_are_checked import (
    DATA,
    ETAG,
    Breaking,
    Scripted,
    client,
    cut_answer,
    no_waits,  # noqa: F401 (an autouse fixture: no real waits between resumes)
    partial,
    read_get,
    resumed_range,
)

from r2async import APIConnectionError, ObjectChangedError
from r2async._resume import Span, span_of

NO_RANGE = "the response has no usable Content-Range"
NO_LENGTH = "the response has no Content-Length"


def head(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers={"etag": ETAG, **headers})


@pytest.mark.parametrize(
    ("response", "why"),
    [
        (
            httpx.Response(200, headers={"content-length": "10"}),
            "the response has no ETag to pin a resumed request to",
        ),
        (
            httpx.Response(200, headers={"content-length": "10", "etag": ""}),
            "the response has no ETag to pin a resumed request to",
        ),
        (head(206), NO_RANGE),
        (head(206, **{"content-range": "bytes 5-9/*"}), NO_RANGE),
        (head(206, **{"content-range": "bytes 9-5/10"}), NO_RANGE),
        (head(206, **{"content-range": "bytes 5-10/10"}), NO_RANGE),
        (head(200), NO_LENGTH),
        (head(200, **{"content-length": "0"}), NO_LENGTH),
        (head(200, **{"content-length": "ten"}), NO_LENGTH),
        (
            head(206, **{"content-range": "bytes 5-9/10", "content-length": "4"}),
            "its Content-Length and Content-Range disagree",
        ),
        (head(304), "a 304 response cannot be resumed"),
    ],
)
def test_span_of_says_exactly_why_not(response: httpx.Response, why: str) -> None:
    assert span_of(response) == why


def test_span_of_a_one_byte_range() -> None:
    response = head(206, **{"content-range": "bytes 5-5/10", "content-length": "1"})
    assert span_of(response) == Span(5, 5, 10, ETAG)
    padded = head(206, **{"content-range": " bytes 0-9/10 "})
    assert span_of(padded) == Span(0, 9, 10, ETAG)


async def test_a_short_body_that_cannot_be_resumed_says_where_it_ended() -> None:
    def handler(request: httpx.Request, n: int) -> httpx.Response:
        headers = {"content-length": str(len(DATA)), "etag": ETAG}
        return httpx.Response(200, headers=headers, stream=Breaking(DATA[:3000], error=False))

    async with client(Scripted(handler), max_retries=0) as r2:
        with pytest.raises(APIConnectionError) as info:
            await read_get(r2)
    error = info.value
    assert error.message.startswith(
        f"GetObject: the body of 'key' ended after 3000 of {len(DATA)} bytes"
    )
    assert error.method == "GET"
    assert error.url == "https://acct.r2.cloudflarestorage.com/bucket/key"


async def test_another_etag_is_object_changed_with_the_answer_s_fields() -> None:
    other = '"ffffffffffffffffffffffffffffffff"'

    def handler(request: httpx.Request, n: int) -> httpx.Response:
        if n == 0:
            return cut_answer(4000)
        return partial(*resumed_range(request), etag=other, **{"x-amz-request-id": "RID"})

    async with client(Scripted(handler)) as r2:
        with pytest.raises(ObjectChangedError) as info:
            await read_get(r2)
    error = info.value
    assert error.message == (
        "'key' changed while its body was read: resuming from byte 4000, "
        f"it now has ETag {other}; no byte of the new version was delivered"
    )
    assert (error.status_code, error.code, error.operation) == (
        206,
        "PreconditionFailed",
        "GetObject",
    )
    assert error.request_id == "RID" and error.headers["etag"] == other


async def test_a_refused_if_match_is_object_changed_with_the_412_s_fields() -> None:
    def handler(request: httpx.Request, n: int) -> httpx.Response:
        if n == 0:
            return cut_answer(4000)
        return httpx.Response(412, headers={"x-amz-request-id": "RID412"})

    async with client(Scripted(handler)) as r2:
        with pytest.raises(ObjectChangedError) as info:
            await read_get(r2)
    error = info.value
    assert error.message == (
        "'key' changed while its body was read: resuming from byte 4000, "
        f"If-Match {ETAG} failed; no byte of the new version was delivered"
    )
    assert (error.status_code, error.code, error.operation) == (
        412,
        "PreconditionFailed",
        "GetObject",
    )
    assert error.request_id == "RID412" and error.headers.get("x-amz-request-id") == "RID412"
