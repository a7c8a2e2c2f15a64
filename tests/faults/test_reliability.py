"""The retry policy, timeouts, redirects, TLS, event-hook guard, safe XML and attempt logging.

Wire-level tests (respx / httpx.MockTransport); faults against a real server are in
test_reliability_faults.py.
"""

from __future__ import annotations

import email.utils
import io
import itertools
import logging
import ssl
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import respx
from tests.support.faults import TLSServer
from tests.support.r2_answers import LAST_MODIFIED, object_headers
from tests.support.sigcheck import assert_signature_valid

from r2async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BadDigestError,
    InternalServerError,
    NoSuchKeyError,
    NotImplementedByR2Error,
    PermissionDeniedError,
    PreconditionFailedError,
    R2Client,
    RateLimitError,
    ResponseParseError,
    _retry,
    _xml,
)
from r2async._signing import auth as _auth
from r2async._spec import RequestSpec

ACCOUNT = "0123456789abcdef0123456789abcdef"
BASE = f"https://{ACCOUNT}.r2.cloudflarestorage.com"
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def make_client(**kwargs: object) -> R2Client:
    return R2Client(account_id=ACCOUNT, access_key_id=AKID, secret_access_key=SECRET, **kwargs)  # type: ignore[arg-type]


def error_xml(code: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
        f"<Message>injected</Message><RequestId>RID</RequestId></Error>"
    ).encode()


def error(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=error_xml(code), headers=headers)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the waits between attempts instead of sleeping."""
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(_retry, "sleep", fake_sleep)
    return waits


@pytest.fixture
def ticking_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Advance the signer's clock by one second per signature, so each attempt's differs."""
    counter = itertools.count(1_700_000_000)
    monkeypatch.setattr(_auth.time, "time", lambda: float(next(counter)))


# -- the policy, as pure functions -------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (429, None, True),
        (429, "TooManyRequests", True),
        (500, "InternalError", True),
        (500, None, True),
        (502, None, True),
        (503, "SlowDown", True),
        (503, "ServiceUnavailable", True),
        (504, None, True),
        (400, "RequestTimeout", True),
        (400, "TooMuchConcurrency", True),
        (429, "TooMuchConcurrency", True),
        (400, "BadDigest", False),
        (500, "BadDigest", False),
        (400, "InvalidDigest", False),
        (400, "InvalidArgument", False),
        (403, "SignatureDoesNotMatch", False),
        (404, "NoSuchKey", False),
        (409, "BucketNotEmpty", False),
        (412, "PreconditionFailed", False),
        (412, None, False),
        (416, "InvalidRange", False),
        (501, "NotImplemented", False),
        (501, None, False),
    ],
)
def test_what_is_retryable(status: int, code: str | None, expected: bool) -> None:
    assert _retry.is_retryable(status, code) is expected


def test_backoff_is_full_jitter_with_an_exponential_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    ceilings: list[float] = []
    monkeypatch.setattr(_retry.random, "uniform", lambda lo, hi: ceilings.append(hi) or lo)
    for attempt in range(10):
        assert _retry.backoff(attempt) == 0.0
    assert ceilings == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 20.0, 20.0, 20.0]
    monkeypatch.undo()
    draws = [_retry.backoff(3) for _ in range(200)]
    assert all(0.0 <= d <= 2.0 for d in draws)
    assert len(set(draws)) > 100  # jittered, not a fixed wait
    assert 0.0 <= _retry.backoff(10_000) <= _retry.MAX_DELAY  # no overflow on huge counts


def test_retry_after_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _retry.retry_after({"retry-after": "3"}) == 3.0
    assert _retry.retry_after({"retry-after": " 1.5 "}) == 1.5
    assert _retry.retry_after({"retry-after": "0"}) == 0.0
    assert _retry.retry_after({"retry-after": "-4"}) == 0.0
    assert _retry.retry_after({"retry-after": "soon"}) is None
    assert _retry.retry_after({"retry-after": "nan"}) is None
    assert _retry.retry_after({"retry-after": "inf"}) is None
    assert _retry.retry_after({}) is None
    now = 1_700_000_000.0
    monkeypatch.setattr(_retry.time, "time", lambda: now)
    future = email.utils.formatdate(now + 7, usegmt=True)
    assert _retry.retry_after({"retry-after": future}) == 7.0
    past = email.utils.formatdate(now - 100, usegmt=True)
    assert _retry.retry_after({"retry-after": past}) == 0.0


def test_delay_for_honours_retry_after_up_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_retry, "backoff", lambda attempt: 0.125 * (attempt + 1))
    assert _retry.delay_for(0, {"retry-after": "2"}) == 2.0
    assert _retry.delay_for(0, {"retry-after": "60"}) == 60.0
    assert _retry.delay_for(0, {"retry-after": "61"}) is None
    assert _retry.delay_for(2, {}) == 0.375
    assert _retry.delay_for(1, None) == 0.25


# -- the send loop: what is retried, what is not ------------------------------------------------


async def test_retryable_status_is_retried_with_a_fresh_signature(
    sleeps: list[float], ticking_clock: None
) -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").mock(
                side_effect=[
                    error(503, "SlowDown", {"Retry-After": "2"}),
                    error(500, "InternalError"),
                    httpx.Response(200, headers={"ETag": '"e"', "Last-Modified": LAST_MODIFIED}),
                ]
            )
            result = await r2.put_object("bkt", "k", b"payload")
    assert result.etag == '"e"'
    assert route.call_count == 3
    assert sleeps[0] == 2.0  # Retry-After honoured exactly
    assert 0.0 <= sleeps[1] <= 0.5  # then backoff (attempt 1: ceiling 0.5 s)
    requests = [call.request for call in route.calls]
    assert len({id(r) for r in requests}) == 3  # a new request per attempt
    dates = [r.headers["x-amz-date"] for r in requests]
    signatures = [r.headers["authorization"] for r in requests]
    assert len(set(dates)) == 3 and len(set(signatures)) == 3
    for request in requests:
        assert request.content == b"payload"
        assert_signature_valid(request, access_key_id=AKID, secret_access_key=SECRET)


async def test_gives_up_after_max_retries_and_says_so(sleeps: list[float]) -> None:
    async with make_client(max_retries=2) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").mock(return_value=error(500, "InternalError"))
            with pytest.raises(InternalServerError) as info:
                await r2.get_object("bkt", "k")
    assert route.call_count == 3
    assert len(sleeps) == 2
    assert "gave up after 3 attempts" in str(info.value)
    assert info.value.retry_note == "gave up after 3 attempts"


async def test_max_retries_per_client_and_per_call_via_with_options(sleeps: list[float]) -> None:
    async with make_client(max_retries=5) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").mock(return_value=error(503, "SlowDown"))
            with pytest.raises(RateLimitError):
                await r2.with_options(max_retries=0).get_object("bkt", "k")
            assert route.call_count == 1
            with pytest.raises(RateLimitError):
                await r2.with_options(max_retries=1).get_object("bkt", "k")
            assert route.call_count == 3
            with pytest.raises(RateLimitError):
                await r2.get_object("bkt", "k")
            assert route.call_count == 9
    assert len(sleeps) == 6


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (412, "PreconditionFailed", PreconditionFailedError),
        (501, "NotImplemented", NotImplementedByR2Error),
        (400, "BadDigest", BadDigestError),
        (500, "BadDigest", BadDigestError),
        (403, "SignatureDoesNotMatch", PermissionDeniedError),
        (404, "NoSuchKey", NoSuchKeyError),
        (400, "InvalidArgument", APIStatusError),
    ],
)
async def test_final_errors_are_not_retried(
    sleeps: list[float], status: int, code: str, cls: type[APIStatusError]
) -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").mock(return_value=error(status, code))
            with pytest.raises(cls) as info:
                await r2.put_object("bkt", "k", b"data")
    assert route.call_count == 1 and sleeps == []
    assert info.value.code == code and info.value.retry_note is None


async def test_retry_after_too_long_raises_at_once(sleeps: list[float]) -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").mock(
                return_value=error(503, "SlowDown", {"Retry-After": "3600"})
            )
            with pytest.raises(RateLimitError) as info:
                await r2.get_object("bkt", "k")
    assert route.call_count == 1 and sleeps == []
    assert "longer than 60 s" in str(info.value)


async def _one_shot() -> AsyncIterator[bytes]:
    yield b"abc"
    yield b"def"


class _Unseekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize(
    ("make_body", "reason"),
    [
        (_one_shot, "the body is a one-shot stream"),
        (lambda: _Unseekable(b"abcdef"), "not seekable"),
    ],
)
async def test_a_body_that_cannot_be_replayed_is_sent_once(
    sleeps: list[float], make_body: object, reason: str
) -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").mock(return_value=error(500, "InternalError"))
            with pytest.raises(InternalServerError) as info:
                await r2.put_object("bkt", "k", make_body(), content_length=6)  # type: ignore[operator]
    assert route.call_count == 1 and sleeps == []
    assert "not retried" in str(info.value) and reason in str(info.value)
    assert route.calls.last.request.content == b"abcdef"


async def test_a_seekable_file_is_replayed_from_its_start(sleeps: list[float]) -> None:
    f = io.BytesIO(b"XXhello world")
    f.seek(2)  # the body starts where the file position was
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").mock(
                side_effect=[
                    error(500, "InternalError"),
                    httpx.Response(200, headers=object_headers()),
                ]
            )
            await r2.put_object("bkt", "k", f)
    assert [call.request.content for call in route.calls] == [b"hello world", b"hello world"]


async def test_connect_errors_are_retried_and_chained(sleeps: list[float]) -> None:
    async with make_client(max_retries=2) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").mock(side_effect=httpx.ConnectError("refused"))
            with pytest.raises(APIConnectionError) as info:
                await r2.get_object("bkt", "k")
    assert route.call_count == 3
    err = info.value
    assert type(err) is APIConnectionError
    assert isinstance(err.__cause__, httpx.ConnectError)
    assert "ConnectError: refused" in str(err) and "gave up after 3 attempts" in str(err)
    assert err.method == "GET" and err.url == f"{BASE}/bkt/k"


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ReadTimeout("slow"),
        httpx.WriteTimeout("slow"),
        httpx.ConnectTimeout("slow"),
        httpx.PoolTimeout("busy"),
    ],
)
async def test_timeouts_become_api_timeout_error(
    sleeps: list[float], exc: httpx.TimeoutException
) -> None:
    async with make_client(max_retries=1, timeout=httpx.Timeout(5.0, read=2.0)) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").mock(
                side_effect=[exc, httpx.Response(200, headers=object_headers())]
            )
            result = await r2.get_object("bkt", "k")
            assert result.body == b"" and route.call_count == 2
            route.mock(side_effect=exc)
            with pytest.raises(APITimeoutError) as info:
                await r2.get_object("bkt", "k")
    # The cause is a copy of the transport error without its frames (whose locals hold the
    # request as sent): same type and message.
    cause = info.value.__cause__
    assert type(cause) is type(exc) and str(cause) == str(exc) and cause is not exc
    assert cause.__traceback__ is None
    phase = type(exc).__name__.removesuffix("Timeout").lower()
    limit = 2.0 if phase == "read" else 5.0
    assert f"{type(exc).__name__}: no progress within the {phase} timeout of {limit} s" in str(
        info.value
    )
    assert f"pass timeout=httpx.Timeout(..., {phase}=...)" in str(info.value)


@pytest.mark.parametrize(
    ("exc", "retried"),
    [
        (httpx.ReadError(""), False),
        (httpx.RemoteProtocolError("Server disconnected"), False),
        (httpx.ReadTimeout("slow"), False),
        (httpx.ConnectError("refused"), True),  # nothing was sent
        (httpx.PoolTimeout("busy"), True),  # nothing was sent
    ],
)
async def test_requests_unsafe_to_repeat_are_retried_only_if_nothing_was_sent(
    sleeps: list[float], exc: httpx.TransportError, retried: bool
) -> None:
    # CreateMultipartUpload is not idempotent: a repeat after a lost answer orphans an upload.
    spec = RequestSpec(
        "CreateMultipartUpload", "POST", "bkt", "k", query=[("uploads", None)], idempotent=False
    )
    async with make_client(max_retries=2) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.post(url__regex=r".*").mock(side_effect=exc)
            with pytest.raises(APIConnectionError) as info:
                await r2._send(spec)
    assert route.call_count == (3 if retried else 1)
    if not retried:
        assert "not safe to repeat" in str(info.value)
    assert type(exc).__name__ in str(info.value)
    # The cause is a copy of the transport error without its frames (whose locals hold the
    # request as sent): same type and message.
    cause = info.value.__cause__
    assert type(cause) is type(exc) and str(cause) == str(exc) and cause is not exc
    assert cause.__traceback__ is None


async def test_the_same_failures_are_retried_for_idempotent_requests(sleeps: list[float]) -> None:
    async with make_client(max_retries=3) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").mock(
                side_effect=[
                    httpx.ReadError(""),
                    httpx.RemoteProtocolError("Server disconnected"),
                    httpx.ReadTimeout("slow"),
                    httpx.Response(200, headers=object_headers(b"ok"), content=b"ok"),
                ]
            )
            result = await r2.get_object("bkt", "k")
    assert result.body == b"ok" and route.call_count == 4 and len(sleeps) == 3


async def test_a_bare_read_error_still_says_what_happened(sleeps: list[float]) -> None:
    async with make_client(max_retries=0) as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").mock(side_effect=httpx.ReadError(""))
            with pytest.raises(APIConnectionError) as info:
                await r2.get_object("bkt", "k")
    assert "ReadError, no detail given: typically a connection reset" in str(info.value)


# -- timeouts ------------------------------------------------------------------------------------


async def test_timeouts_per_client_and_per_call_reach_httpx() -> None:
    seen: list[dict[str, float | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(204)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler), timeout=99.0)
    client_tmo = httpx.Timeout(connect=1.0, read=2.0, write=3.0, pool=4.0)
    async with make_client(http_client=http, timeout=client_tmo) as r2:
        await r2.delete_object("bkt", "k")
        await r2.delete_object("bkt", "k", timeout=7)
        await r2.delete_object("bkt", "k", timeout=httpx.Timeout(5.0, read=0.5))
        await r2.delete_object("bkt", "k", timeout=None)
        await r2.with_options(timeout=2.5).delete_object("bkt", "k")
    await http.aclose()
    assert seen == [
        {"connect": 1.0, "read": 2.0, "write": 3.0, "pool": 4.0},
        {"connect": 7.0, "read": 7.0, "write": 7.0, "pool": 7.0},
        {"connect": 5.0, "read": 0.5, "write": 5.0, "pool": 5.0},
        {"connect": None, "read": None, "write": None, "pool": None},
        {"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5},
    ]


async def test_default_timeout() -> None:
    seen: list[dict[str, float | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(204)

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http,
        make_client(http_client=http) as r2,
    ):
        await r2.delete_object("bkt", "k")
    assert seen == [{"connect": 10.0, "read": 60.0, "write": 60.0, "pool": 60.0}]


@pytest.mark.parametrize("bad", [0, -1, "5", True])
def test_bad_timeouts_are_refused(bad: object) -> None:
    with pytest.raises((TypeError, ValueError), match="timeout"):
        make_client(timeout=bad)


# -- redirects, TLS ------------------------------------------------------------------------------


@pytest.mark.parametrize("user_client", [False, True])
async def test_redirects_are_not_followed(user_client: bool) -> None:
    http = httpx.AsyncClient(follow_redirects=True) if user_client else None
    async with make_client(http_client=http) as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.get("/bkt/k").respond(
                307,
                headers={"Location": "https://evil.example/steal"},
                content=error_xml("TemporaryRedirect"),
            )
            elsewhere = mock.get("https://evil.example/steal").respond(
                200, headers=object_headers(b"x"), content=b"x"
            )
            with pytest.raises(APIStatusError) as info:
                await r2.get_object("bkt", "k")
    if http is not None:
        await http.aclose()
    assert info.value.status_code == 307 and info.value.code == "TemporaryRedirect"
    assert route.call_count == 1 and elsewhere.call_count == 0


async def test_tls_is_verified_by_default_and_a_bad_certificate_is_not_retried(
    tmp_path: Path, sleeps: list[float]
) -> None:
    async with TLSServer(str(tmp_path)) as server:
        async with R2Client(
            endpoint_url=server.url, access_key_id=AKID, secret_access_key=SECRET
        ) as r2:
            pool = r2._shared.client()._transport._pool  # type: ignore[attr-defined]
            ctx = pool._ssl_context
            assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
            with pytest.raises(APIConnectionError) as info:
                await r2.delete_object("bkt", "k")
        assert server.requests == 0
        assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)
        assert sleeps == []  # a certificate that fails will fail again: not retried
        # Control: the same server works for a client that trusts its certificate.
        trusting = httpx.AsyncClient(verify=server.trusting_context())  # type: ignore[arg-type]
        async with (
            trusting,
            R2Client(
                endpoint_url=server.url,
                access_key_id=AKID,
                secret_access_key=SECRET,
                http_client=trusting,
            ) as r2,
        ):
            await r2.delete_object("bkt", "k")
        assert server.requests == 1


# -- user http_client: its auth and event hooks cannot break the signature -------------------


def _recording_client(
    calls: list[httpx.Request], hook: object | None = None, **kwargs: object
) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, headers=object_headers())

    hooks = {"request": [hook]} if hook is not None else {}
    return httpx.AsyncClient(transport=httpx.MockTransport(handler), event_hooks=hooks, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.headers.__setitem__("x-amz-meta-added", "1"),
        lambda r: r.headers.__setitem__("Content-Type", "text/evil"),
        lambda r: r.headers.__setitem__("authorization", "forged"),
        lambda r: r.headers.__delitem__("x-amz-date"),
        lambda r: r.headers.update({"If-Match": '"x"'}),
        lambda r: r.headers.pop("x-amz-content-sha256"),
        lambda r: r.headers.setdefault("cf-create-bucket-if-missing", "true"),
    ],
)
async def test_an_event_hook_cannot_change_signed_headers(change: object) -> None:
    calls: list[httpx.Request] = []

    async def hook(request: httpx.Request) -> None:
        change(request)  # type: ignore[operator]

    async with _recording_client(calls, hook) as http, make_client(http_client=http) as r2:
        with pytest.raises(RuntimeError, match="event hook") as info:
            await r2.delete_object("bkt", "k")
    assert calls == []  # refused before anything was sent
    assert "headers=" in str(info.value)


async def test_an_event_hook_may_add_unsigned_tracing_headers_and_read_the_rest() -> None:
    calls: list[httpx.Request] = []
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request.headers["x-amz-date"])
        request.headers["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        request.headers["User-Agent"] = "my-app/1.0"

    async with _recording_client(calls, hook) as http, make_client(http_client=http) as r2:
        await r2.put_object("bkt", "k", b"data")
    assert len(calls) == 1 and len(seen) == 1
    request = calls[0]
    assert request.headers["traceparent"].startswith("00-")
    assert request.headers["user-agent"] == "my-app/1.0"
    assert_signature_valid(request, access_key_id=AKID, secret_access_key=SECRET)


async def test_an_event_hook_replacing_the_headers_is_refused_before_sending() -> None:
    calls: list[httpx.Request] = []

    async def hook(request: httpx.Request) -> None:
        request.headers = httpx.Headers({**request.headers, "x-amz-meta-sneaky": "1"})

    async with _recording_client(calls, hook) as http, make_client(http_client=http) as r2:
        with pytest.raises(RuntimeError, match="tried to replace the request's headers"):
            await r2.delete_object("bkt", "k")
    assert calls == []  # refused while the hook ran, before anything was sent


async def test_an_event_hook_replacing_the_url_is_refused_before_sending() -> None:
    calls: list[httpx.Request] = []

    async def hook(request: httpx.Request) -> None:
        request.url = request.url.copy_with(path="/bkt/other")

    async with _recording_client(calls, hook) as http, make_client(http_client=http) as r2:
        with pytest.raises(RuntimeError, match="tried to replace the request's URL"):
            await r2.delete_object("bkt", "k")
    assert calls == []


async def test_a_user_client_auth_is_not_applied_over_the_signature() -> None:
    calls: list[httpx.Request] = []
    async with (
        _recording_client(calls, auth=("user", "pass")) as http,
        make_client(http_client=http) as r2,
    ):
        await r2.put_object("bkt", "k", b"data")
    assert calls[0].headers["authorization"].startswith("AWS4-HMAC-SHA256 ")
    assert_signature_valid(calls[0], access_key_id=AKID, secret_access_key=SECRET)


# -- XML from the server -------------------------------------------------------------------------


def _billion_laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [' + "".join(entities) + "]>"
        "<ListBucketResult><Name>&lol9;</Name></ListBucketResult>"
    ).encode()


BILLION_LAUGHS = _billion_laughs()
UNSAFE_DOCUMENTS = {
    "billion-laughs": BILLION_LAUGHS,
    "billion-laughs-utf16": BILLION_LAUGHS.decode()
    .replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
    .encode("utf-16"),
    "billion-laughs-utf16-no-bom": BILLION_LAUGHS.decode().encode("utf-16-le"),
    "external-entity": (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<Error><Code>&x;</Code></Error>"
    ),
    "latin1-declared": b'<?xml version="1.0" encoding="ISO-8859-1"?><Error/>',
    # Leading keep-alive whitespace (stripped before parsing) must not hide the declaration.
    "latin1-declared-after-whitespace": (
        b' \r\n\t\x0b\x0c<?xml version="1.0" encoding="ISO-8859-1"?><Error/>'
    ),
    "cp500-declared-after-whitespace": (
        b'   <?xml version="1.0" encoding="cp500"?>'
        + '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'.encode("cp500")
    ),
    "unterminated-declaration": b'<?xml version="1.0" encoding="UTF-8"',
}


@pytest.fixture
def parser_spy(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Record what reaches the XML parser."""
    parsed: list[bytes] = []
    real = ET.fromstring

    def spy(text: bytes, parser: object = None) -> ET.Element:
        parsed.append(text)
        return real(text)

    # The parser module itself: _xml imports it when it first parses (see _xml.load_parser).
    monkeypatch.setattr(ET, "fromstring", spy)
    return parsed


@pytest.mark.parametrize("name", sorted(UNSAFE_DOCUMENTS))
def test_unsafe_xml_is_refused_before_parsing(name: str, parser_spy: list[bytes]) -> None:
    with pytest.raises(ResponseParseError, match="refused"):
        _xml.parse(UNSAFE_DOCUMENTS[name])
    # Refused by a few byte scans: the parser (and any entity expansion) never ran.
    assert parser_spy == []


def test_safe_xml_still_parses(parser_spy: list[bytes]) -> None:
    root = _xml.parse(
        b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?>'
        b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<Name>b</Name><!-- a comment --><Prefix><![CDATA[a<b]]></Prefix></ListBucketResult>"
    )
    assert root.tag == "ListBucketResult"
    assert _xml.text(root, "Name") == "b" and _xml.text(root, "Prefix") == "a<b"
    assert len(parser_spy) == 1


def test_oversized_xml_is_refused(monkeypatch: pytest.MonkeyPatch, parser_spy: list[bytes]) -> None:
    monkeypatch.setattr(_xml, "MAX_XML_BYTES", 100)
    with pytest.raises(ResponseParseError, match="limit"):
        _xml.parse(b"<a>" + b"x" * 200 + b"</a>")
    assert parser_spy == []


async def test_billion_laughs_from_the_server_is_refused(parser_spy: list[bytes]) -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").respond(200, content=BILLION_LAUGHS)
            with pytest.raises(ResponseParseError, match="DTD"):
                await r2.list_objects("bkt")
            # In an error body it cannot be read, so the status alone decides the error.
            mock.get(url__regex=r".*").respond(400, content=BILLION_LAUGHS)
            with pytest.raises(APIStatusError) as info:
                await r2.get_object("bkt", "k")
    assert info.value.status_code == 400 and "lol" not in str(info.value)
    assert parser_spy == []


async def test_xml_answers_are_read_with_a_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_xml, "MAX_XML_BYTES", 1000)
    big = b"<ListBucketResult>" + b" " * 5000 + b"</ListBucketResult>"

    async def unbounded() -> AsyncIterator[bytes]:
        # No Content-Length: the limit must hold while reading, whatever the server claims.
        for _ in range(10_000):
            yield b" " * 1000

    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*")
            route.respond(200, content=big)
            with pytest.raises(ResponseParseError, match="limit"):
                await r2.list_objects("bkt")
            route.mock(return_value=httpx.Response(200, content=unbounded()))
            with pytest.raises(ResponseParseError, match="limit"):
                await r2.list_objects("bkt")
            # Object data is not XML: get_object is not limited.
            route.mock(return_value=httpx.Response(200, headers=object_headers(big), content=big))
            assert (await r2.get_object("bkt", "k")).body == big


async def test_a_short_xml_body_is_an_error(sleeps: list[float]) -> None:
    async with make_client(max_retries=1) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").mock(
                side_effect=httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body"
                )
            )
            with pytest.raises(APIConnectionError, match="complete message body"):
                await r2.list_objects("bkt")
    assert route.call_count == 2


# -- logging -------------------------------------------------------------------------------------


async def test_one_debug_line_per_attempt(
    caplog: pytest.LogCaptureFixture, sleeps: list[float]
) -> None:
    caplog.set_level(logging.DEBUG, logger="r2async")
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.put(url__regex=r".*").mock(
                side_effect=[
                    error(503, "SlowDown", {"Retry-After": "1"}),
                    httpx.ConnectError("refused"),
                    httpx.Response(200, headers=object_headers()),
                ]
            )
            await r2.put_object("bkt", "dir/a\nb", b"x")
    records = [r for r in caplog.records if r.name == "r2async"]
    assert len(records) == 3
    lines = [r.getMessage() for r in records]
    assert all("\n" not in line for line in lines)  # a key with a line break cannot forge a line
    assert lines[0].startswith("PutObject PUT bucket=bkt key='dir/a\\nb' attempt=1 status=503 ")
    assert "error=RateLimitError code=SlowDown retry_in=1.000s" in lines[0]
    assert "attempt=2 status=- " in lines[1] and "error=APIConnectionError" in lines[1]
    assert "attempt=3 status=200 " in lines[2] and "error" not in lines[2]
    for record, attempt in zip(records, (1, 2, 3), strict=False):
        assert record.levelno == logging.DEBUG
        assert record.r2_attempt == attempt  # type: ignore[attr-defined]
        assert record.r2_key == "dir/a\nb" and record.r2_bucket == "bkt"  # type: ignore[attr-defined]
        assert record.r2_duration_ms >= 0  # type: ignore[attr-defined]


async def test_nothing_is_logged_above_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="r2async")
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.delete(url__regex=r".*").respond(204)
            await r2.delete_object("bkt", "k")
    assert [r for r in caplog.records if r.name == "r2async"] == []


def test_redact_headers() -> None:
    from r2async._logging import redact_headers

    out = redact_headers(
        [
            ("Authorization", "AWS4 sig"),
            ("X-Amz-Security-Token", "tok"),
            ("x-amz-date", "d"),
            ("x-amz-server-side-encryption-customer-key", "k"),
        ]
    )
    assert out == {
        "authorization": "[redacted]",
        "x-amz-security-token": "[redacted]",
        "x-amz-date": "d",
        "x-amz-server-side-encryption-customer-key": "[redacted]",
    }


# -- admission in front of httpx's pool ------------------------------------------------------------


async def test_the_gate_admits_at_most_its_limit_in_fifo_order() -> None:
    from r2async._transports.gate import Gate as _Gate

    gate = _Gate(2)
    request = httpx.Request("GET", "https://example.invalid/")
    first = await gate.enter(None, request)
    second = await gate.enter(None, request)
    with pytest.raises(httpx.PoolTimeout, match="waiting for a free connection"):
        await gate.enter(0.01, request)
    order: list[int] = []

    async def waiter(i: int) -> None:
        permit = await gate.enter(None, request)
        order.append(i)
        permit.release()

    import asyncio

    waiters = [asyncio.create_task(waiter(i)) for i in range(5)]
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(waiter(99))
    await asyncio.sleep(0)
    cancelled.cancel()  # a caller that gives up while queued takes no place with it
    first.release()
    first.release()  # releasing twice is harmless
    await asyncio.gather(*waiters)
    assert order == [0, 1, 2, 3, 4]
    second.release()
    third = await gate.enter(0.01, request)
    fourth = await gate.enter(0.01, request)
    third.release()
    fourth.release()


def test_the_gate_follows_the_pool_size() -> None:
    from r2async._transports.gate import Gate as _Gate

    assert _Gate.for_client(httpx.AsyncClient(limits=httpx.Limits(max_connections=7))).limit == 7  # type: ignore[union-attr]
    assert _Gate.for_client(httpx.AsyncClient(limits=httpx.Limits(max_connections=None))) is None
    mocked = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(204)))
    assert _Gate.for_client(mocked) is None
