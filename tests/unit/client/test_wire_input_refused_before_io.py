"""Header and timeout input that would misbehave on the wire is refused before any I/O.

Each case once passed validation and then did something different per transport: framing and
hop-by-hop headers sent twice or dropped (or a raw h11 error after connecting), spaces at the
ends of a value retried as "connection failed" or stripped, control characters sent or a bare
aiohttp ValueError, metadata names differing only in case merged, and ``timeout=nan/inf``
failing later in each transport's own way. Now each is a ``ValueError`` naming the fix, raised
the same on both transports, and the server (a loopback one counting connections) sees nothing.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from tests.support.loopback import Answer, LoopbackServer, Received, response

from r2async import R2Client

TRANSPORTS = ["httpx", "aiohttp"]

Call = Callable[[R2Client], Any]
# (id, call, regex the message must contain: the fix, or the rule broken)
HEADER_CASES: list[tuple[str, Call, str]] = [
    (
        "transfer-encoding-put",
        lambda r: r.put_object("bkt", "k", b"x", headers={"Transfer-Encoding": "chunked"}),
        "'Transfer-Encoding' cannot be set: R2 needs a Content-Length",
    ),
    (
        "content-length-get",
        lambda r: r.get_object("bkt", "k", headers={"Content-Length": "5"}),
        "r2async sets Content-Length",
    ),
    (
        "content-length-put",
        lambda r: r.put_object("bkt", "k", b"x", headers={"content-length": "1"}),
        "r2async sets Content-Length",
    ),
    (
        "expect-100",
        lambda r: r.put_object("bkt", "k", b"x", headers={"Expect": "100-continue"}),
        "does not support 100 Continue",
    ),
    ("connection", lambda r: r.head_object("bkt", "k", headers={"Connection": "close"}), "remove"),
    ("keep-alive", lambda r: r.head_object("bkt", "k", headers={"Keep-Alive": "5"}), "remove"),
    ("te", lambda r: r.get_object("bkt", "k", headers={"TE": "trailers"}), "remove"),
    ("trailer", lambda r: r.get_object("bkt", "k", headers={"Trailer": "x-a"}), "remove"),
    ("upgrade", lambda r: r.get_object("bkt", "k", headers={"Upgrade": "h2c"}), "remove"),
    (
        "proxy-authorization",
        lambda r: r.get_object("bkt", "k", headers={"Proxy-Authorization": "Basic eA=="}),
        "remove",
    ),
    ("proxy-other", lambda r: r.get_object("bkt", "k", headers={"Proxy-Foo": "1"}), "remove"),
    ("host", lambda r: r.get_object("bkt", "k", headers={"Host": "evil.example"}), "signer"),
    (
        "value-leading-space",
        lambda r: r.get_object("bkt", "k", headers={"x-custom": " v"}),
        "starts or ends with a space.*strip it",
    ),
    (
        "value-trailing-space",
        lambda r: r.put_object("bkt", "k", b"x", headers={"x-custom": "v "}),
        "starts or ends with a space.*strip it",
    ),
    (
        "value-control-char",
        lambda r: r.get_object("bkt", "k", headers={"x-custom": "a\x01b"}),
        "control character.*remove it",
    ),
    (
        "value-tab",
        lambda r: r.get_object("bkt", "k", headers={"x-custom": "a\tb"}),
        "control character.*remove it",
    ),
    (
        "value-del",
        lambda r: r.get_object("bkt", "k", headers={"x-custom": "a\x7f"}),
        "control character.*remove it",
    ),
    # Control characters and edge spaces in metadata= values are not refused: they are
    # RFC 2047-encoded and read back identically on both transports (never sent raw; see
    # tests/integration/test_metadata_integration.py). CR/LF is refused:
    (
        "metadata-line-break",
        lambda r: r.put_object("bkt", "k", b"x", metadata={"note": "a\r\nx-evil: 1"}),
        "CR/LF; remove line breaks",
    ),
    (
        "metadata-names-differ-in-case",
        lambda r: r.put_object("bkt", "k", b"x", metadata={"Colour": "red", "colour": "blue"}),
        "'Colour' and 'colour' differ only in case",
    ),
    (
        "metadata-header-control-char",
        lambda r: r.put_object("bkt", "k", b"x", headers={"x-amz-meta-note": "a\x02"}),
        "control character",
    ),
    (
        "upload-file-transfer-encoding",
        lambda r: r.upload_file(
            "bkt", "k", io.BytesIO(b"x"), headers={"Transfer-Encoding": "chunked"}
        ),
        "R2 needs a Content-Length",
    ),
    (
        "with-options-connection",
        lambda r: r.with_options(headers={"Connection": "keep-alive"}),
        "remove",
    ),
]

TIMEOUT_CASES: list[tuple[str, Call, str]] = [
    ("nan", lambda r: r.get_object("bkt", "k", timeout=math.nan), "timeout=nan: use a positive"),
    ("inf", lambda r: r.get_object("bkt", "k", timeout=math.inf), "or None for no timeout"),
    ("minus-inf", lambda r: r.put_object("bkt", "k", b"x", timeout=-math.inf), "positive"),
    ("zero", lambda r: r.head_object("bkt", "k", timeout=0), "positive"),
    (
        "httpx-timeout-nan-read",
        lambda r: r.get_object("bkt", "k", timeout=httpx.Timeout(5.0, read=math.nan)),
        r"timeout\.read=nan",
    ),
    (
        "httpx-timeout-inf-connect",
        lambda r: r.get_object("bkt", "k", timeout=httpx.Timeout(5.0, connect=math.inf)),
        r"timeout\.connect=inf.*finite",
    ),
    (
        "httpx-timeout-negative-pool",
        lambda r: r.get_object("bkt", "k", timeout=httpx.Timeout(5.0, pool=-1)),
        r"timeout\.pool=-1",
    ),
    (
        "with-options-inf",
        lambda r: r.with_options(timeout=math.inf),
        "or None for no timeout",
    ),
]


@pytest.fixture
async def counting() -> AsyncIterator[LoopbackServer]:
    async def answer(request: Received) -> Answer:
        return response(200)

    async with LoopbackServer(answer) as server:
        yield server


async def _run(call: Call, r2: R2Client) -> None:
    result = call(r2)
    if hasattr(result, "__await__"):
        await result


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("call", "match"),
    [c[1:] for c in HEADER_CASES + TIMEOUT_CASES],
    ids=[c[0] for c in HEADER_CASES + TIMEOUT_CASES],
)
async def test_wire_input_is_refused_before_any_io(
    counting: LoopbackServer, transport: str, call: Call, match: str
) -> None:
    async with R2Client(
        endpoint_url=counting.url,
        access_key_id="AKID",
        secret_access_key="SECRET",
        transport=transport,  # type: ignore[arg-type]
        max_retries=0,
    ) as r2:
        with pytest.raises(ValueError) as info:
            await _run(call, r2)
        assert re.search(match, str(info.value)), str(info.value)
        assert counting.connections == 0 and counting.requests == []
        # Control: a valid call on the same client does reach the server.
        await r2.head_object("bkt", "k")
    assert counting.connections == 1


@pytest.mark.parametrize(
    ("where", "kwargs"),
    [
        ("client-headers", {"headers": {"Transfer-Encoding": "chunked"}}),
        ("client-headers-space", {"headers": {"x-a": "v "}}),
        ("operation-headers", {"operation_headers": {"GetObject": {"Content-Length": "3"}}}),
        ("client-timeout-nan", {"timeout": math.nan}),
        ("client-timeout-fields", {"timeout": httpx.Timeout(1.0, write=math.inf)}),
    ],
)
def test_client_level_input_is_refused_at_construction(where: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"remove it|strip it|positive, finite"):
        R2Client(
            endpoint_url="http://127.0.0.1:9", access_key_id="A", secret_access_key="S", **kwargs
        )


def test_ordinary_values_still_pass() -> None:
    # Inner spaces, the empty value, and httpx.Timeout with None phases are fine.
    r2 = R2Client(
        endpoint_url="http://127.0.0.1:9",
        access_key_id="A",
        secret_access_key="S",
        headers={"x-a": "one two", "x-b": ""},
        timeout=httpx.Timeout(5.0, pool=None),
    )
    assert r2.with_options(timeout=None) is not None
