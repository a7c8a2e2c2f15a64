"""No secret ever shows: not in reprs, log records, exception text, or objects errors carry.

Secrets: the secret access key, the session token, every ``Authorization`` value sent (and
the signature inside it), ``x-amz-security-token``, and an SSE-C key. Checked across a failing
and a succeeding run against SeaweedFS, with every logger (r2async, httpx, httpcore) captured
at DEBUG.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import socket
import traceback
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from tests.support.r2_answers import object_headers

from r2async import (
    APIConnectionError,
    APIStatusError,
    PermissionDeniedError,
    R2Client,
    R2Error,
    _retry,
)
from r2async._signing.auth import SigV4Auth
from r2async._signing.credentials import Credentials
from r2async.testing import LocalR2Server

SESSION_TOKEN = "FwoGZXIvYXdzE" + secrets.token_hex(24)
SSE_KEY = os.urandom(32)


@pytest.fixture
def sent_authorizations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Authorization header value r2async signs, to search for afterwards."""
    values: list[str] = []
    real_sign = SigV4Auth.sign

    def recording_sign(self: SigV4Auth, request: httpx.Request) -> None:
        real_sign(self, request)
        values.append(request.headers["authorization"])

    monkeypatch.setattr(SigV4Auth, "sign", recording_sign)
    return values


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fake_sleep(seconds: float) -> None:
        return None

    monkeypatch.setattr(_retry, "sleep", fake_sleep)


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    for name in ("r2async", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog


def _record_text(record: logging.LogRecord) -> str:
    # The formatted line and every attribute (args, extra fields, exception info).
    text = record.getMessage() + " " + repr(vars(record))
    if record.exc_info:
        text += "".join(traceback.format_exception(*record.exc_info))
    return text


def _exception_texts(exc: BaseException) -> list[str]:
    """Everything an exception shows: str, repr, args, attributes, the whole chain."""
    texts = ["".join(traceback.format_exception(type(exc), exc, exc.__traceback__))]
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            break
        texts += [str(seen), repr(seen), repr(seen.args), repr(vars(seen))]
        request = getattr(seen, "_request", None)
        if isinstance(request, httpx.Request):
            # The request an httpx exception carries: what a debugger or error tracker sees.
            texts += [
                repr(request),
                repr(request.headers),
                repr(dict(request.headers)),
                repr(request.url),
            ]
        seen = seen.__cause__ or seen.__context__
    return texts


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_no_secret_in_reprs_logs_or_errors(
    s3_server: LocalR2Server,
    bucket: str,
    sent_authorizations: list[str],
    all_logs: pytest.LogCaptureFixture,
    no_sleep: None,
) -> None:
    secret = s3_server.secret_access_key
    akid = s3_server.access_key_id
    shown: list[str] = []  # every text a user could see
    errors: list[BaseException] = []

    def show(*objects: Any) -> None:
        for obj in objects:
            shown.extend([repr(obj), str(obj)])

    # -- a failing run: a session token SeaweedFS does not know, a wrong secret, no server --
    async with R2Client(**s3_server.client_kwargs, session_token=SESSION_TOKEN) as with_token:
        show(
            with_token,
            with_token.with_options(max_retries=0),
            with_token._shared.auth,
            with_token._shared.settings,
            with_token._shared.settings.credentials,
        )
        with pytest.raises(PermissionDeniedError) as denied:
            await with_token.put_object(bucket, "k", b"data", sse_customer_key=SSE_KEY)
        errors.append(denied.value)
        with pytest.raises(PermissionDeniedError) as denied_get:
            async with with_token.stream_object(bucket, "k") as stream:
                show(stream)
        errors.append(denied_get.value)
    wrong = {**s3_server.client_kwargs, "secret_access_key": secret[::-1]}
    async with R2Client(**wrong) as wrong_secret:
        with pytest.raises(PermissionDeniedError) as mismatch:
            await wrong_secret.get_object(bucket, "k")
        errors.append(mismatch.value)
    nowhere = {**s3_server.client_kwargs, "endpoint_url": f"http://127.0.0.1:{_closed_port()}"}
    async with R2Client(**nowhere, session_token=SESSION_TOKEN, max_retries=1) as offline:
        with pytest.raises(APIConnectionError) as refused:
            await offline.put_object(bucket, "k", b"data", sse_customer_key=SSE_KEY)
        errors.append(refused.value)

    # -- a succeeding run ---------------------------------------------------------------------
    async with R2Client(**s3_server.client_kwargs) as r2:
        show(r2, r2._shared.auth, r2._shared.settings.credentials)
        show(await r2.put_object(bucket, "k", b"data", metadata={"a": "b"}))
        show(await r2.put_object(bucket, "enc", b"secret data", sse_customer_key=SSE_KEY))
        show(await r2.get_object(bucket, "k"), await r2.head_object(bucket, "k"))
        show(await r2.list_objects(bucket))
        async with r2.stream_object(bucket, "k") as stream:
            show(stream, stream.metadata, await stream.read())
        show(await r2.delete_object(bucket, "k"))

    secrets_to_hide = {
        "secret access key": secret,
        "session token": SESSION_TOKEN,
        "SSE-C key (base64)": base64.b64encode(SSE_KEY).decode(),
    }
    assert sent_authorizations, "the recorder saw no signed request"
    for i, value in enumerate(sent_authorizations):
        secrets_to_hide[f"Authorization #{i}"] = value
        secrets_to_hide[f"signature #{i}"] = value.rpartition("Signature=")[2]

    for exc in errors:
        assert isinstance(exc, R2Error)
        shown.extend(_exception_texts(exc))
    records = all_logs.records
    assert any(r.name == "r2async" for r in records)
    assert any(r.name.startswith("httpx") for r in records)
    assert any(r.name.startswith("httpcore") for r in records)
    shown.extend(_record_text(r) for r in records)
    shown.append(all_logs.text)

    for label, value in secrets_to_hide.items():
        leaks = [text for text in shown if value in text]
        assert not leaks, f"{label} leaked: {leaks[0][:300]}"
    # Sanity: the texts searched do hold the non-secret identifiers, so the search is real.
    joined = "\n".join(shown)
    assert akid in joined and bucket in joined and "PutObject" in joined


async def test_error_documents_echoing_the_request_do_not_leak(
    no_sleep: None, sent_authorizations: list[str]
) -> None:
    # AWS-style SignatureDoesNotMatch bodies echo the canonical request, which holds the
    # session token; r2async keeps only the code, message and ids.
    base = "https://acct.r2.cloudflarestorage.com"
    async with R2Client(
        account_id="acct",
        access_key_id="AKID",
        secret_access_key="S3CR3T-KEY",
        session_token=SESSION_TOKEN,
    ) as r2:
        with respx.mock(base_url=base) as mock:

            def echo(request: httpx.Request) -> httpx.Response:
                canonical = "\n".join(f"{k}:{v}" for k, v in request.headers.items())
                body = (
                    "<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message>"
                    f"<CanonicalRequest>{canonical}</CanonicalRequest>"
                    f"<StringToSign>{request.headers['authorization']}</StringToSign></Error>"
                )
                return httpx.Response(403, content=body.encode(), headers={"x-amz-request-id": "R"})

            mock.get(url__regex=r".*").mock(side_effect=echo)
            with pytest.raises(APIStatusError) as info:
                await r2.get_object("bkt", "k")
    texts = _exception_texts(info.value)
    for value in (SESSION_TOKEN, "S3CR3T-KEY", *sent_authorizations):
        assert not [t for t in texts if value in t]
    assert info.value.code == "SignatureDoesNotMatch"


def test_credentials_and_signer_reprs() -> None:
    creds = Credentials("AKID", "S3CR3T-KEY", SESSION_TOKEN)
    for text in (repr(creds), str(creds), repr(SigV4Auth(creds)), f"{creds}", f"{creds!r}"):
        assert "S3CR3T-KEY" not in text and SESSION_TOKEN not in text and "AKID" in text


async def test_an_error_mid_stream_does_not_carry_the_token(no_sleep: None) -> None:
    class Broken(httpx.AsyncByteStream):
        async def __aiter__(self):  # type: ignore[no-untyped-def]
            yield b"abc"
            raise httpx.ReadError("connection lost")

    base = "https://acct.r2.cloudflarestorage.com"
    async with R2Client(
        account_id="acct",
        access_key_id="AKID",
        secret_access_key="S3CR3T-KEY",
        session_token=SESSION_TOKEN,
        max_retries=0,  # the cut is reported, not resumed (the mock would answer 200 again)
    ) as r2:
        with respx.mock(base_url=base) as mock:
            mock.get(url__regex=r".*").mock(
                return_value=httpx.Response(200, headers=object_headers(size=10), stream=Broken())
            )
            with pytest.raises(APIConnectionError) as info:
                async with r2.stream_object("bkt", "k", chunk_size=1) as stream:
                    async for _ in stream:
                        pass
    texts = _exception_texts(info.value)
    assert any("connection lost" in t for t in texts)
    assert any("x-amz-date" in t for t in texts)  # the carried request's headers were searched
    assert not [t for t in texts if SESSION_TOKEN in t or "S3CR3T-KEY" in t]
