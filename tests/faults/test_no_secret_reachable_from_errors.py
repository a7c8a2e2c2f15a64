"""No secret is reachable from an error: not through its chain, its attributes, or its frames.

A hostile loopback server answers with an error status, a malformed response head, a bad XML
body, nothing (a read timeout), a reset after the request, and a cut-off body, to a client with
a session token, sending an SSE-C key. Each error is searched as a debugger or an error tracker
would: every exception reachable through ``__cause__``/``__context__`` (str, repr, args,
attributes, the request an httpx error carries) and the whole chain rendered by
``traceback.TracebackException(..., capture_locals=True)`` (every local of every frame). None
may show the secret key, the session token, the SSE-C key or any ``Authorization`` value sent.
Both transports.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import traceback
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.support.loopback import (
    Answer,
    LoopbackServer,
    Received,
    Stall,
    error_response,
    response,
)

from r2async import R2Client, R2Error
from r2async._spec import RequestSpec

SECRET = "S3CR3T-" + secrets.token_hex(16)
TOKEN = "FwoGZXIvYXdzE-" + secrets.token_hex(20)
SSE_KEY = os.urandom(32)
SSE_B64 = base64.b64encode(SSE_KEY).decode()

# What the server does with each request.
ANSWERS: dict[str, Callable[[Received], Answer]] = {
    "status-403": lambda r: error_response(403, "AccessDenied"),
    "status-500": lambda r: error_response(500, "InternalError"),
    "malformed-status-line": lambda r: b"HTTP/1.1 abc Broken\r\nContent-Length: 0\r\n\r\n",
    "malformed-header": lambda r: b"HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 0\r\n\r\n",
    "bad-xml": lambda r: response(200, b"<ListBucketResult><Contents>"),
    "timeout": lambda r: Stall(5.0),
    "reset": lambda r: None,
    "cut-off-body": lambda r: response(200, b"x" * 10, {"Content-Length": "100"}),
    "cut-off-stream": lambda r: response(200, b"x" * 10, {"Content-Length": "100"}),
}


def _call(name: str, r2: R2Client) -> Any:
    if name == "bad-xml":
        return r2.list_objects("bkt")
    if name == "cut-off-body":
        return r2.get_object("bkt", "k", sse_customer_key=SSE_KEY)
    if name == "cut-off-stream":
        return _stream(r2)
    return r2.put_object("bkt", "k", b"data", sse_customer_key=SSE_KEY)


async def _stream(r2: R2Client) -> None:
    async with r2.stream_object("bkt", "k", sse_customer_key=SSE_KEY) as stream:
        async for _ in stream:
            pass


def _texts(exc: BaseException) -> list[str]:
    texts = [
        "".join(
            traceback.TracebackException(
                type(exc), exc, exc.__traceback__, capture_locals=True
            ).format()
        ),
        "".join(traceback.format_exception(exc)),
    ]
    seen: list[BaseException] = []
    stack: list[BaseException | None] = [exc]
    while stack and len(seen) < 50:  # bounded walk of the chain
        item = stack.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        texts += [str(item), repr(item), repr(item.args)]
        with contextlib.suppress(TypeError):
            texts.append(repr(vars(item)))
        request = getattr(item, "_request", None)
        if isinstance(request, httpx.Request):
            texts += [repr(dict(request.headers)), repr(request.headers)]
        info = getattr(item, "request_info", None)
        if info is not None:
            texts += [repr(info), repr(getattr(info, "headers", None))]
        stack += [item.__cause__, item.__context__]
    return texts


@pytest.fixture(params=["httpx", "aiohttp"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize("answer", sorted(ANSWERS))
async def test_no_secret_is_reachable_from_an_error(transport: str, answer: str) -> None:
    async def handler(request: Received) -> Answer:
        return ANSWERS[answer](request)

    async with LoopbackServer(handler) as server:
        async with R2Client(
            endpoint_url=server.url,
            access_key_id="AKID",
            secret_access_key=SECRET,
            session_token=TOKEN,
            transport=transport,  # type: ignore[arg-type]
            max_retries=1 if answer in ("status-500", "reset") else 0,
            timeout=httpx.Timeout(10.0, read=0.3),
        ) as r2:
            with pytest.raises(R2Error) as info:
                await _call(answer, r2)
            # Rendered at once: the locals of this test's own frame are part of the rendering,
            # so no secret may be a local here before this line.
            texts = _texts(info.value)
        sent = [r.headers["authorization"] for r in server.requests]
    assert sent, "the server saw no request"
    assert any(r.headers.get("x-amz-security-token") == TOKEN for r in server.requests)
    hidden = {"secret key": SECRET, "session token": TOKEN}
    if answer != "bad-xml":
        assert any(
            r.headers.get("x-amz-server-side-encryption-customer-key") == SSE_B64
            for r in server.requests
        )
        hidden["SSE-C key"] = SSE_B64
    for i, value in enumerate(sent):
        hidden[f"signature #{i}"] = value.rpartition("Signature=")[2]
    # The search is real: the rendering shows locals, and the request's identifiers.
    joined = "\n".join(texts)
    assert "AKID" in joined or "bkt" in joined
    for label, value in hidden.items():
        leaks = [t for t in texts if value in t]
        assert not leaks, f"{label} leaked: ...{_around(leaks[0], value)}..."


def _around(text: str, value: str) -> str:
    # The line holding it (in a locals rendering, "name = value"), and the frame above it.
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if value in line:
            frame = next((x for x in reversed(lines[:i]) if x.lstrip().startswith("File ")), "")
            return f"{frame.strip()} :: {line.strip()[:160]}"
    return text[:200]


def test_request_spec_repr_redacts_secret_headers() -> None:
    spec = RequestSpec(
        "PutObject",
        "PUT",
        "bkt",
        "k",
        headers={
            "x-amz-server-side-encryption-customer-key": SSE_B64,
            "x-amz-copy-source-server-side-encryption-customer-key": SSE_B64,
            "content-type": "text/plain",
        },
    )
    text = repr(spec)
    assert SSE_B64 not in text
    assert "[redacted]" in text and "text/plain" in text and "PutObject" in text


async def test_merged_headers_repr_redacts(monkeypatch: pytest.MonkeyPatch) -> None:
    from r2async import _send

    async with R2Client(
        endpoint_url="http://127.0.0.1:9", access_key_id="A", secret_access_key=SECRET
    ) as r2:
        spec = RequestSpec(
            "PutObject",
            "PUT",
            "bkt",
            "k",
            headers={"x-amz-server-side-encryption-customer-key": SSE_B64},
        )
        merged = _send.merged_headers(r2, spec, {"x-a": "1"})
    assert merged["x-amz-server-side-encryption-customer-key"] == SSE_B64  # still the value
    assert SSE_B64 not in repr(merged) and SSE_B64 not in str(merged)
    assert "x-a" in repr(merged)


async def test_the_aiohttp_transport_alone_chains_no_request_headers() -> None:
    # Used under a plain httpx client (no r2async send loop): a malformed answer's aiohttp
    # error, chained as the cause, keeps the request headers it carries redacted.
    from r2async import AiohttpTransport

    async def handler(request: Received) -> Answer:
        return ANSWERS["malformed-header"](request)

    async with (
        LoopbackServer(handler) as server,
        httpx.AsyncClient(transport=AiohttpTransport()) as http,
    ):
        with pytest.raises(httpx.RemoteProtocolError) as info:
            await http.get(
                server.url, headers={"Authorization": SECRET, "x-amz-security-token": TOKEN}
            )
        assert server.requests[0].headers["authorization"] == SECRET
    cause = info.value.__cause__
    assert cause is not None and getattr(cause, "request_info", None) is not None
    texts = [repr(cause), repr(cause.args), repr(vars(cause)), str(cause)]
    assert not [t for t in texts if SECRET in t or TOKEN in t]
    assert "[redacted]" in repr(cause.request_info)  # type: ignore[attr-defined]


def test_a_detached_cause_keeps_types_and_messages_but_no_frames() -> None:
    from r2async._response import detached

    def write(data: bytes) -> None:
        raise ConnectionResetError(104, "reset while writing")

    try:
        try:
            write(b"PUT / HTTP/1.1\r\nAuthorization: " + SECRET.encode())
        except OSError as exc:
            raise httpx.WriteError("write failed") from exc
    except httpx.WriteError as exc:
        copy = detached(exc)
    assert type(copy) is httpx.WriteError and str(copy) == "write failed"
    assert isinstance(copy.__cause__, ConnectionResetError)
    assert copy.__cause__.errno == 104
    assert copy.__traceback__ is None and copy.__cause__.__traceback__ is None
    rendered = "".join(
        traceback.TracebackException(
            type(copy), copy, copy.__traceback__, capture_locals=True
        ).format()
    )
    assert SECRET not in rendered and "reset while writing" in rendered
