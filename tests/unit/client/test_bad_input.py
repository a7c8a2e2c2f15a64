"""Bad input is refused before any I/O, with a message that names the fix.

One table covers every kind the reliability issue lists (invalid bucket names, empty and
over-long keys, metadata over 8 KiB, CR/LF in header names or values, presign expiry outside
1-604800 s, malformed ranges, wrong body types, a body whose length differs from
``content_length``) plus the other arguments the operations validate. Every case runs against
a client whose transport fails the test if anything reaches it.

A streamed body that turns out shorter or longer than its ``content_length`` can only be
caught while it is being sent; that case is in test_reliability_faults.py (the request is
abandoned and nothing is stored).
"""

from __future__ import annotations

import inspect
import io
import pathlib
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from r2async import R2Client


class _NoIOTransport(httpx.AsyncBaseTransport):
    """Counts requests and fails any that arrive: bad input must never get this far."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        raise AssertionError(f"bad input reached the transport: {request.method} {request.url}")


def _stream() -> Iterator[bytes]:
    yield b"x"


async def _astream() -> AsyncIterator[bytes]:
    yield b"x"


Call = Callable[[R2Client], Any]
# (id, call, exception type, regex the message must contain: the fix, or the rule broken)
CASES: list[tuple[str, Call, type[Exception], str]] = [
    # -- bucket names ---------------------------------------------------------------------
    ("bucket-empty", lambda r: r.put_object("", "k", b""), ValueError, "3-63 characters"),
    ("bucket-too-short", lambda r: r.get_object("ab", "k"), ValueError, "3-63 characters"),
    ("bucket-too-long", lambda r: r.head_object("a" * 64, "k"), ValueError, "3-63 characters"),
    ("bucket-upper-case", lambda r: r.delete_object("Photos", "k"), ValueError, "no upper case"),
    ("bucket-underscore", lambda r: r.list_objects("my_bucket"), ValueError, "a-z, 0-9 and '-'"),
    ("bucket-dot", lambda r: r.create_bucket("my.bucket"), ValueError, "no dots"),
    ("bucket-leading-dash", lambda r: r.delete_bucket("-abc"), ValueError, "starting and ending"),
    ("bucket-trailing-dash", lambda r: r.head_bucket("abc-"), ValueError, "starting and ending"),
    ("bucket-not-str", lambda r: r.head_bucket(123), TypeError, "bucket must be str"),
    ("bucket-iter-objects", lambda r: r.iter_objects("Bad"), ValueError, "invalid bucket name"),
    ("bucket-list-pages", lambda r: r.list_objects_pages("Bad"), ValueError, "invalid bucket name"),
    (
        "bucket-copy-source",
        lambda r: r.copy_object("bkt", "k", source_key="s", source_bucket="B_ad"),
        ValueError,
        "invalid bucket name",
    ),
    ("bucket-presign", lambda r: r.presign_get_object("a", "k"), ValueError, "3-63 characters"),
    # -- keys -------------------------------------------------------------------------------
    ("key-empty", lambda r: r.put_object("bkt", "", b""), ValueError, "key must not be empty"),
    (
        "key-1025-bytes",
        lambda r: r.get_object("bkt", "k" * 1025),
        ValueError,
        "1025 bytes.*at most 1024",
    ),
    (
        "key-1026-utf8-bytes",
        lambda r: r.put_object("bkt", "é" * 513, b""),
        ValueError,
        "1026 bytes in UTF-8",
    ),
    (
        "key-lone-surrogate",
        lambda r: r.put_object("bkt", "a\ud800", b""),
        ValueError,
        "not valid Unicode",
    ),
    ("key-not-str", lambda r: r.delete_object("bkt", b"k"), TypeError, "key must be str"),
    (
        "key-empty-download",
        lambda r: r.download_file("bkt", "", "/tmp/never-written"),
        ValueError,
        "key must not be empty",
    ),
    (
        "key-empty-presign",
        lambda r: r.presign_put_object("bkt", ""),
        ValueError,
        "key must not be empty",
    ),
    (
        "key-too-long-copy-source",
        lambda r: r.copy_object("bkt", "k", source_key="s" * 1025),
        ValueError,
        "at most 1024",
    ),
    (
        "key-empty-in-batch-delete",
        lambda r: r.delete_objects("bkt", ["ok", ""]),
        ValueError,
        "empty",
    ),
    # -- metadata ---------------------------------------------------------------------------
    (
        "metadata-over-8KiB",
        lambda r: r.put_object("bkt", "k", b"", metadata={"a": "x" * 8200}),
        ValueError,
        "at most 8192 bytes.*store large values in the object body",
    ),
    (
        "metadata-over-8KiB-total",
        lambda r: r.create_multipart_upload(
            "bkt", "k", metadata={f"k{i}": "x" * 100 for i in range(90)}
        ),
        ValueError,
        "at most 8192 bytes",
    ),
    (
        "metadata-over-8KiB-utf8",
        lambda r: r.put_object("bkt", "k", b"", metadata={"a": "é" * 4100}),
        ValueError,
        "8201 bytes",
    ),
    (
        "metadata-copy-over-8KiB",
        lambda r: r.copy_object(
            "bkt", "k", source_key="s", metadata_directive="REPLACE", metadata={"a": "x" * 9000}
        ),
        ValueError,
        "at most 8192 bytes",
    ),
    (
        "metadata-bad-name",
        lambda r: r.put_object("bkt", "k", b"", metadata={"bad name": "v"}),
        ValueError,
        "not a valid header token",
    ),
    (
        "metadata-crlf-value",
        lambda r: r.put_object("bkt", "k", b"", metadata={"a": "x\r\ny"}),
        ValueError,
        "CR/LF; remove line breaks",
    ),
    (
        "metadata-not-str",
        lambda r: r.put_object("bkt", "k", b"", metadata={"a": 5}),
        TypeError,
        "must be str",
    ),
    # -- CR/LF and other bad headers ----------------------------------------------------------
    (
        "header-value-crlf",
        lambda r: r.put_object("bkt", "k", b"", headers={"x-a": "v\r\nInjected: 1"}),
        ValueError,
        "CR/LF.*remove line breaks",
    ),
    (
        "header-value-lf",
        lambda r: r.get_object("bkt", "k", headers={"x-a": "v\nx"}),
        ValueError,
        "CR/LF",
    ),
    (
        "header-value-cr",
        lambda r: r.head_object("bkt", "k", headers={"x-a": "v\rx"}),
        ValueError,
        "CR/LF",
    ),
    (
        "header-name-crlf",
        lambda r: r.get_object("bkt", "k", headers={"x-a\r\n": "v"}),
        ValueError,
        "invalid header name.*no spaces, colons, CR/LF",
    ),
    (
        "header-name-space",
        lambda r: r.get_object("bkt", "k", headers={"Bad Name": "v"}),
        ValueError,
        "invalid header name",
    ),
    (
        "header-name-colon",
        lambda r: r.get_object("bkt", "k", headers={"x-a:b": "v"}),
        ValueError,
        "invalid header name",
    ),
    (
        "header-value-non-ascii",
        lambda r: r.get_object("bkt", "k", headers={"x-a": "é"}),
        ValueError,
        "non-ASCII.*metadata=",
    ),
    (
        "header-value-not-str",
        lambda r: r.get_object("bkt", "k", headers={"x-a": 1}),
        TypeError,
        "convert it with str",
    ),
    (
        "header-signer-authorization",
        lambda r: r.get_object("bkt", "k", headers={"Authorization": "x"}),
        ValueError,
        "set by the signer",
    ),
    (
        "header-signer-token",
        lambda r: r.get_object("bkt", "k", headers={"x-amz-security-token": "x"}),
        ValueError,
        "set by the signer",
    ),
    (
        "header-typed-content-type-crlf",
        lambda r: r.put_object("bkt", "k", b"", content_type="text/plain\r\nX: y"),
        ValueError,
        "CR/LF",
    ),
    (
        "header-typed-if-match-crlf",
        lambda r: r.get_object("bkt", "k", if_match='"e"\r\nX: y'),
        ValueError,
        "CR/LF",
    ),
    (
        "header-typed-cache-control-lf",
        lambda r: r.upload_stream("bkt", "k", b"abc", cache_control="a\nb"),
        ValueError,
        "CR/LF",
    ),
    (
        "header-with-options-crlf",
        lambda r: r.with_options(headers={"x": "a\r\nb"}),
        ValueError,
        "CR/LF",
    ),
    (
        "header-operation-headers-lf",
        lambda r: r.with_options(operation_headers={"PutObject": {"x": "a\nb"}}),
        ValueError,
        "CR/LF",
    ),
    (
        "header-operation-unknown",
        lambda r: r.with_options(operation_headers={"PutObjekt": {"x": "a"}}),
        ValueError,
        "valid names are",
    ),
    (
        "header-client-crlf",
        lambda r: R2Client(
            account_id="acct",
            access_key_id="AKID",
            secret_access_key="SECRET",
            headers={"x": "a\r\nb"},
        ),
        ValueError,
        "CR/LF",
    ),
    (
        "header-typed-and-headers-disagree",
        lambda r: r.put_object(
            "bkt", "k", b"", content_type="a/b", headers={"Content-Type": "c/d"}
        ),
        ValueError,
        "pass it one way only",
    ),
    # -- presign expiry -----------------------------------------------------------------------
    (
        "presign-expiry-0",
        lambda r: r.presign_get_object("bkt", "k", expires_in=0),
        ValueError,
        "between 1 and 604800 seconds",
    ),
    (
        "presign-expiry-604801",
        lambda r: r.presign_put_object("bkt", "k", expires_in=604801),
        ValueError,
        "between 1 and 604800 seconds",
    ),
    (
        "presign-expiry-negative",
        lambda r: r.presign_head_object("bkt", "k", expires_in=-5),
        ValueError,
        "between 1 and 604800",
    ),
    (
        "presign-expiry-float",
        lambda r: r.presign_delete_object("bkt", "k", expires_in=3.5),
        TypeError,
        "int number of seconds",
    ),
    (
        "presign-expiry-bool",
        lambda r: r.presign_upload_part("bkt", "k", "uid", 1, expires_in=True),
        TypeError,
        "int number of seconds",
    ),
    # -- ranges -------------------------------------------------------------------------------
    (
        "range-reversed",
        lambda r: r.get_object("bkt", "k", range="bytes=5-1"),
        ValueError,
        "end is before the start",
    ),
    (
        "range-garbage",
        lambda r: r.get_object("bkt", "k", range="bytes=abc"),
        ValueError,
        "use 'bytes=START-END'",
    ),
    (
        "range-wrong-unit",
        lambda r: r.stream_object("bkt", "k", range="items=0-1"),
        ValueError,
        "use 'bytes=START-END'",
    ),
    (
        "range-multiple",
        lambda r: r.get_object("bkt", "k", range="bytes=0-1,5-6"),
        ValueError,
        "one range only",
    ),
    ("range-empty", lambda r: r.get_object("bkt", "k", range="bytes=-"), ValueError, "malformed"),
    (
        "range-tuple-reversed",
        lambda r: r.get_object("bkt", "k", range=(5, 1)),
        ValueError,
        "end is inclusive",
    ),
    (
        "range-tuple-negative",
        lambda r: r.presign_get_object("bkt", "k", range=(-1, 3)),
        ValueError,
        "start must be an int >= 0",
    ),
    (
        "range-tuple-3-items",
        lambda r: r.get_object("bkt", "k", range=(1, 2, 3)),
        ValueError,
        r"must be \(start, end\)",
    ),
    (
        "range-not-str-or-tuple",
        lambda r: r.get_object("bkt", "k", range=5),
        TypeError,
        "'bytes=...' str or a \\(start, end\\) tuple",
    ),
    (
        "range-and-part-number",
        lambda r: r.get_object("bkt", "k", range=(0, 1), part_number=1),
        ValueError,
        "either range= or part_number=",
    ),
    (
        "range-copy-source-reversed",
        lambda r: r.upload_part_copy("bkt", "k", "uid", 1, "src", "s", source_range="bytes=9-1"),
        ValueError,
        "last byte is before the first",
    ),
    # -- body types -------------------------------------------------------------------------
    (
        "body-int",
        lambda r: r.put_object("bkt", "k", 123),
        TypeError,
        "pass bytes, str, a binary file object",
    ),
    (
        "body-dict",
        lambda r: r.put_object("bkt", "k", {"a": 1}),
        TypeError,
        "unsupported body type dict",
    ),
    (
        "body-path",
        lambda r: r.put_object("bkt", "k", pathlib.Path("/etc/hosts")),
        TypeError,
        "use upload_file",
    ),
    (
        "body-text-file",
        lambda r: r.put_object("bkt", "k", io.StringIO("text")),
        TypeError,
        "binary mode \\('rb'\\)",
    ),
    (
        "body-float-part",
        lambda r: r.upload_part("bkt", "k", "uid", 1, 3.5),
        TypeError,
        "unsupported body type float",
    ),
    # -- body length vs content_length ----------------------------------------------------------
    (
        "length-bytes-mismatch",
        lambda r: r.put_object("bkt", "k", b"abc", content_length=4),
        ValueError,
        "omit content_length for in-memory bodies",
    ),
    (
        "length-file-too-short",
        lambda r: r.put_object("bkt", "k", io.BytesIO(b"abc"), content_length=10),
        ValueError,
        "more than the 3 bytes left",
    ),
    (
        "length-stream-missing",
        lambda r: r.put_object("bkt", "k", _stream()),
        ValueError,
        "needs content_length=.*upload_stream",
    ),
    (
        "length-async-stream-missing",
        lambda r: r.upload_part("bkt", "k", "uid", 1, _astream()),
        ValueError,
        "content_length",
    ),
    (
        "length-negative",
        lambda r: r.put_object("bkt", "k", _stream(), content_length=-1),
        ValueError,
        "int >= 0",
    ),
    (
        "length-bool",
        lambda r: r.upload_part("bkt", "k", "uid", 1, _stream(), content_length=True),
        ValueError,
        "int >= 0",
    ),
    # -- other arguments ----------------------------------------------------------------------
    (
        "part-number-0",
        lambda r: r.upload_part("bkt", "k", "uid", 0, b"x"),
        ValueError,
        "1 to 10000",
    ),
    (
        "part-number-10001",
        lambda r: r.get_object("bkt", "k", part_number=10001),
        ValueError,
        "1 to 10000",
    ),
    (
        "upload-id-empty",
        lambda r: r.abort_multipart_upload("bkt", "k", ""),
        ValueError,
        "non-empty",
    ),
    (
        "sse-key-16-bytes",
        lambda r: r.put_object("bkt", "k", b"", sse_customer_key=b"x" * 16),
        ValueError,
        "exactly 32 bytes.*os.urandom\\(32\\)",
    ),
    (
        "sse-key-str",
        lambda r: r.get_object("bkt", "k", sse_customer_key="k" * 32),
        TypeError,
        "raw 32-byte key as bytes",
    ),
    (
        "storage-class-glacier",
        lambda r: r.put_object("bkt", "k", b"", storage_class="GLACIER"),
        ValueError,
        "only 'STANDARD' and 'STANDARD_IA'",
    ),
    (
        "checksum-algorithm-md5",
        lambda r: r.put_object("bkt", "k", b"", checksum_algorithm="MD5"),
        ValueError,
        "use one of CRC32",
    ),
    ("max-keys-0", lambda r: r.list_objects("bkt", max_keys=0), ValueError, "from 1 to 1000"),
    ("max-keys-1001", lambda r: r.list_objects("bkt", max_keys=1001), ValueError, "from 1 to 1000"),
    (
        "complete-no-parts",
        lambda r: r.complete_multipart_upload("bkt", "k", "uid", []),
        ValueError,
        "upload at least one part",
    ),
    (
        "complete-duplicate-part",
        lambda r: r.complete_multipart_upload("bkt", "k", "uid", [(1, '"a"'), (1, '"b"')]),
        ValueError,
        "list each part once",
    ),
    (
        "date-not-http-date",
        lambda r: r.get_object("bkt", "k", if_modified_since="yesterday"),
        ValueError,
        "pass a datetime or a string like",
    ),
    (
        "expires-not-http-date",
        lambda r: r.put_object("bkt", "k", b"", expires="soon"),
        ValueError,
        "not an HTTP date",
    ),
    (
        "chunk-size-0",
        lambda r: r.stream_object("bkt", "k", chunk_size=0),
        ValueError,
        "positive int",
    ),
    (
        "part-size-too-small",
        lambda r: r.upload_file("bkt", "k", io.BytesIO(b"x"), part_size=1024),
        ValueError,
        "use 5,242,880 to",
    ),
    (
        "upload-file-missing",
        lambda r: r.upload_file("bkt", "k", "/nonexistent/r2async-file"),
        FileNotFoundError,
        "/nonexistent/r2async-file",
    ),
    ("cors-no-rules", lambda r: r.put_bucket_cors("bkt", []), ValueError, "delete_bucket_cors"),
    (
        "timeout-negative",
        lambda r: r.get_object("bkt", "k", timeout=-1),
        ValueError,
        "or None for no timeout",
    ),
    ("timeout-str", lambda r: r.delete_object("bkt", "k", timeout="5"), TypeError, "httpx.Timeout"),
    (
        "max-retries-negative",
        lambda r: r.with_options(max_retries=-1),
        ValueError,
        "between 0 and 100",
    ),
    ("max-retries-float", lambda r: r.with_options(max_retries=1.5), TypeError, "must be an int"),
]


async def _run(call: Call, r2: R2Client) -> None:
    # Calls return a coroutine, an async context manager (stream_object), an async iterator
    # (iter_*, *_pages) or a plain value (presign_*, with_options): drive each far enough
    # that it would send its first request.
    result = call(r2)
    if inspect.isawaitable(result):
        await result
    elif hasattr(result, "__aenter__"):
        async with result:
            pass
    elif hasattr(result, "__aiter__"):
        async for _ in result:
            break


@pytest.fixture
async def guarded() -> AsyncIterator[tuple[R2Client, _NoIOTransport]]:
    transport = _NoIOTransport()
    async with (
        httpx.AsyncClient(transport=transport) as http,
        R2Client(
            account_id="acct", access_key_id="AKID", secret_access_key="SECRET", http_client=http
        ) as r2,
    ):
        yield r2, transport


@pytest.mark.parametrize(
    ("call", "exc", "match"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_bad_input_is_refused_before_any_io(
    guarded: tuple[R2Client, _NoIOTransport], call: Call, exc: type[Exception], match: str
) -> None:
    r2, transport = guarded
    with pytest.raises(exc) as info:
        await _run(call, r2)
    assert type(info.value) is exc or (exc is ValueError and isinstance(info.value, exc))
    assert re.search(match, str(info.value)), str(info.value)
    assert transport.requests == []


def test_the_table_covers_every_kind_the_issue_lists() -> None:
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))
    for kind in (
        "bucket-",
        "key-empty",
        "key-1025",
        "metadata-over-8KiB",
        "header-value-crlf",
        "header-name-crlf",
        "presign-expiry-0",
        "presign-expiry-604801",
        "range-",
        "body-",
        "length-",
    ):
        assert any(i.startswith(kind) for i in ids), kind


async def test_the_guard_would_notice_a_request(
    guarded: tuple[R2Client, _NoIOTransport],
) -> None:
    # Control: a valid call does reach the transport, so an empty list above means something.
    r2, transport = guarded
    with pytest.raises(AssertionError, match="reached the transport"):
        await r2.with_options(max_retries=0).head_object("bkt", "k")
    assert len(transport.requests) == 1
