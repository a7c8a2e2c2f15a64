"""User metadata: decoding never raises, every value put_object accepts reads back identically,
and a stream whose headers cannot be read closes its response.

A stored value that looks like an RFC 2047 encoded-word with bad base64 (``=?utf-8?b?a?=``)
made the decoder raise ``email.errors.HeaderParseError`` (fuzzing also hit ``CharsetError``)
from head_object/get_object, and from stream_object after the response was opened, leaking
the connection. An ASCII value that looks encoded (``=?utf-8?b?aGk=?=``) read back as ``hi``.
"""

from __future__ import annotations

import email.errors

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.r2_answers import LAST_MODIFIED, object_headers

from r2async import R2Client
from r2async._headers import metadata_headers, read_metadata, rfc2047_decode, rfc2047_encode

BASE = "http://127.0.0.1:9"

# Values a writer other than r2async may have stored: each looks like an encoded-word.
HOSTILE = [
    "=?utf-8?b?a?=",  # bad base64: HeaderParseError
    "=?utf-8?b?aGk?=",  # missing padding
    "=?bogus-charset?q?x?=",  # unknown charset: LookupError
    "=?utf-8?b?/w==?=",  # bytes invalid in UTF-8
    "=?utf-8?q?=ff?=",
    "=?utf-8?x?abc?=",  # unknown encoding
    "=?unicode-1-1-utf-7?q?x?=",
    "=?",
    "a =?utf-8?b?a?= b",
    "=?utf-8?b?aGk=?==?utf-8?b?a?=",
    "=?iso-2022-jp?b?GyRC?=",  # a charset email handles oddly
]


@pytest.mark.parametrize("value", HOSTILE)
def test_decoding_never_raises_and_falls_back_to_the_stored_value(value: str) -> None:
    decoded = rfc2047_decode(value)
    assert isinstance(decoded, str)


def test_a_bad_encoded_word_reads_back_as_stored() -> None:
    assert rfc2047_decode("=?utf-8?b?a?=") == "=?utf-8?b?a?="
    # What made it raise before: email's own error, not a ValueError.
    from email.header import decode_header

    with pytest.raises(email.errors.HeaderParseError):
        decode_header("=?utf-8?b?a?=")


def _echo_server() -> respx.MockRouter:
    """A PUT stores the x-amz-meta-* headers as sent; GET/HEAD answer them back."""
    stored: dict[str, str] = {}
    router = respx.mock(base_url=BASE, assert_all_called=False)

    def put(request: httpx.Request) -> httpx.Response:
        stored.clear()
        stored.update({k: v for k, v in request.headers.items() if k.startswith("x-amz-meta-")})
        return httpx.Response(200, headers={"etag": '"e"', "Last-Modified": LAST_MODIFIED})

    def get(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={**stored, **object_headers(b"x")}, content=b"x")

    router.put(url__regex=r".*").mock(side_effect=put)
    router.get(url__regex=r".*").mock(side_effect=get)
    router.head(url__regex=r".*").mock(
        side_effect=lambda r: httpx.Response(200, headers={**stored, **object_headers(size=1)})
    )
    return router


def _stored_value_server(value: str) -> respx.MockRouter:
    router = respx.mock(base_url=BASE, assert_all_called=False)
    headers = {
        "x-amz-meta-note": value,
        "content-length": "1",
        "etag": '"e"',
        "Last-Modified": LAST_MODIFIED,
    }
    router.get(url__regex=r".*").mock(
        return_value=httpx.Response(200, headers=headers, content=b"x")
    )
    router.head(url__regex=r".*").mock(return_value=httpx.Response(200, headers=headers))
    return router


def _client() -> R2Client:
    return R2Client(endpoint_url=BASE, access_key_id="a", secret_access_key="b")


@pytest.mark.parametrize("value", HOSTILE)
async def test_every_reader_returns_a_hostile_stored_value_as_stored(value: str) -> None:
    async with _client() as r2:
        with _stored_value_server(value):
            head = await r2.head_object("bkt", "k")
            got = await r2.get_object("bkt", "k")
            async with r2.stream_object("bkt", "k") as stream:
                streamed = stream.metadata
                assert await stream.read() == b"x"
    expected = rfc2047_decode(value)
    assert head.metadata == got.metadata == streamed.metadata == {"note": expected}


# Any text put_object accepts: everything but CR/LF (refused) and lone surrogates (not text).
METADATA_VALUES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
    max_size=200,
)
ENCODED_LOOKALIKES = st.sampled_from(
    ["=?utf-8?b?aGk=?=", "=?UTF-8?Q?a_b?=", "=?", "?=", " =?x?= ", "=?utf-8?b?a?="]
)


@settings(max_examples=500, deadline=None)
@given(value=st.one_of(METADATA_VALUES, ENCODED_LOOKALIKES))
def test_encode_then_decode_is_the_identity(value: str) -> None:
    encoded = rfc2047_encode(value)
    assert encoded.isascii() and encoded.isprintable()
    assert encoded == encoded.strip(" ")
    assert rfc2047_decode(encoded) == value


def test_a_value_that_looks_encoded_round_trips() -> None:
    headers = metadata_headers({"note": "=?utf-8?b?aGk=?="})
    assert headers["x-amz-meta-note"] != "=?utf-8?b?aGk=?="
    assert read_metadata(headers) == {"note": "=?utf-8?b?aGk=?="}


def test_plain_values_are_sent_as_they_are() -> None:
    # The common case stays readable on the wire (and costs one regex match).
    assert metadata_headers({"a": "plain value, 1-2_3"}) == {"x-amz-meta-a": "plain value, 1-2_3"}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    metadata=st.dictionaries(
        st.sampled_from(["a", "note", "x-y", "k.1"]),
        st.one_of(METADATA_VALUES, ENCODED_LOOKALIKES),
        max_size=3,
    )
)
async def test_any_metadata_written_by_put_object_reads_back_identically(
    metadata: dict[str, str],
) -> None:
    if sum(len(k.encode()) + len(v.encode()) for k, v in metadata.items()) > 8192:
        return
    async with _client() as r2:
        with _echo_server():
            await r2.put_object("bkt", "k", b"x", metadata=metadata)
            head = await r2.head_object("bkt", "k")
            got = await r2.get_object("bkt", "k")
    assert head.metadata == metadata
    assert got.metadata == metadata


class _TrackedStream(httpx.AsyncByteStream):
    def __init__(self) -> None:
        self.closed = False

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        yield b"x"

    async def aclose(self) -> None:
        self.closed = True


async def test_stream_object_closes_its_response_when_the_headers_cannot_be_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import r2async._models as models

    body = _TrackedStream()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=object_headers(size=1), stream=body)

    def broken(headers: object, operation: str) -> dict[str, object]:
        raise RuntimeError("metadata parsing failed")

    monkeypatch.setattr(models, "object_metadata_fields", broken)
    async with R2Client(
        endpoint_url=BASE,
        access_key_id="a",
        secret_access_key="b",
        transport=httpx.MockTransport(handler),
    ) as r2:
        with pytest.raises(RuntimeError, match="metadata parsing failed"):
            async with r2.stream_object("bkt", "k"):
                pass
    assert body.closed


ENCODED_WORDISH = st.lists(
    st.one_of(
        st.sampled_from(["=?", "?=", "?b?", "?B?", "?q?", "?Q?", "utf-8", "utf-8*en", "=", " "]),
        st.sampled_from(["iso-2022-jp", "unicode-1-1-utf-7", "x-unknown", "us-ascii", "latin-1"]),
        st.text(max_size=8),
    ),
    max_size=12,
).map("".join)


@settings(max_examples=500, deadline=None)
@given(value=ENCODED_WORDISH)
def test_decoding_arbitrary_encoded_word_lookalikes_never_raises(value: str) -> None:
    assert isinstance(rfc2047_decode(value), str)
