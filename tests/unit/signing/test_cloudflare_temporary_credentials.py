"""CloudflareTemporaryCredentials at the wire (respx), against the documented API shapes.

No Cloudflare account is reachable from the test machines: the request is checked against the
API reference (POST /accounts/{account_id}/r2/temp-access-credentials, Bearer token, JSON body
with bucket, parentAccessKeyId, permission, ttlSeconds, prefixes, objects) and the answer is
the documented ``{"success": true, "result": {accessKeyId, secretAccessKey, sessionToken}}``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import httpx
import pytest
import respx
from tests.support.r2_answers import object_headers
from tests.support.sigcheck import assert_signature_valid

from r2async import CloudflareTemporaryCredentials, CredentialsError, R2Client

API = "https://api.cloudflare.com/client/v4"
S3 = "https://acct.r2.cloudflarestorage.com"
TOKEN = "cf-api-token-VERYSECRET"
ANSWER = {
    "success": True,
    "errors": [],
    "messages": [],
    "result": {
        "accessKeyId": "TEMPAKID",
        "secretAccessKey": "TEMPSECRET-abc",
        "sessionToken": "TEMPTOKEN-def",
    },
}


def _provider(**kwargs: object) -> CloudflareTemporaryCredentials:
    args: dict[str, object] = {
        "api_token": TOKEN,
        "account_id": "acct",
        "bucket": "photos",
        "parent_access_key_id": "PARENTAKID",
        "permission": "object-read-only",
        "ttl_seconds": 900,
        "prefixes": ["public/"],
    }
    args.update(kwargs)
    return CloudflareTemporaryCredentials(**args)  # type: ignore[arg-type]


async def test_the_request_matches_the_documented_api_and_the_answer_becomes_credentials() -> None:
    provider = _provider(objects=["public/a.jpg"])
    before = dt.datetime.now(dt.timezone.utc)
    with respx.mock() as mock:
        route = mock.post(f"{API}/accounts/acct/r2/temp-access-credentials").respond(
            200, json=ANSWER
        )
        creds = await provider()
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "bucket": "photos",
        "parentAccessKeyId": "PARENTAKID",
        "permission": "object-read-only",
        "ttlSeconds": 900,
        "prefixes": ["public/"],
        "objects": ["public/a.jpg"],
    }
    assert (creds.access_key_id, creds.secret_access_key, creds.session_token) == (
        "TEMPAKID",
        "TEMPSECRET-abc",
        "TEMPTOKEN-def",
    )
    assert creds.expires_at is not None
    lifetime = (creds.expires_at - before).total_seconds()
    assert 899 <= lifetime <= 901


async def test_r2client_signs_s3_requests_with_the_temporary_credentials() -> None:
    async with R2Client(account_id="acct", credentials=_provider()) as r2:
        with respx.mock() as mock:
            api = mock.post(f"{API}/accounts/acct/r2/temp-access-credentials").respond(
                200, json=ANSWER
            )
            s3 = mock.get(f"{S3}/photos/public/a.jpg").respond(
                200, headers=object_headers(b"jpg"), content=b"jpg"
            )
            for _ in range(3):
                assert (await r2.get_object("photos", "public/a.jpg")).body == b"jpg"
    assert api.call_count == 1  # reused until the refresh margin
    request = s3.calls.last.request
    assert request.headers["x-amz-security-token"] == "TEMPTOKEN-def"
    assert_signature_valid(
        request,
        access_key_id="TEMPAKID",
        secret_access_key="TEMPSECRET-abc",
        session_token="TEMPTOKEN-def",
    )


@pytest.mark.parametrize(
    ("status", "body", "match"),
    [
        (
            403,
            {"success": False, "errors": [{"code": 10000, "message": "Authentication error"}]},
            "10000: Authentication error",
        ),
        (200, {"success": True, "result": {"accessKeyId": "A"}}, "lacks accessKeyId"),
        (200, {"success": True}, "no 'result'"),
        (502, None, "no error details"),
    ],
)
async def test_refusals_become_a_typed_error_without_the_token(
    status: int, body: object, match: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with R2Client(account_id="acct", credentials=_provider(), max_retries=0) as r2:
        with respx.mock(assert_all_called=False) as mock:
            mock.post(f"{API}/accounts/acct/r2/temp-access-credentials").respond(status, json=body)
            s3 = mock.get(url__startswith=S3).respond(200, headers=object_headers())
            with caplog.at_level(logging.DEBUG), pytest.raises(CredentialsError) as info:
                await r2.get_object("photos", "k")
    assert s3.call_count == 0
    assert match in str(info.value.__cause__)
    assert info.value.provider == "CloudflareTemporaryCredentials"
    chain: list[BaseException] = []
    error: BaseException | None = info.value
    while error is not None and len(chain) < 10:
        chain.append(error)
        error = error.__cause__ or error.__context__
    for text in [*(repr(e) for e in chain), *(str(e) for e in chain), caplog.text]:
        assert TOKEN not in text


async def test_an_unreachable_api_does_not_chain_the_request_holding_the_token() -> None:
    async with R2Client(account_id="acct", credentials=_provider(), max_retries=0) as r2:
        with respx.mock(assert_all_called=False) as mock:
            mock.post(f"{API}/accounts/acct/r2/temp-access-credentials").mock(
                side_effect=httpx.ConnectError("refused")
            )
            with pytest.raises(CredentialsError) as info:
                await r2.get_object("photos", "k")
    cause = info.value.__cause__
    assert cause is not None and "ConnectError" in str(cause)
    assert cause.__cause__ is None and cause.__context__ is None


def test_repr_hides_the_token_and_bad_arguments_fail_early() -> None:
    assert TOKEN not in repr(_provider())
    with pytest.raises(ValueError, match="permission must be one of"):
        _provider(permission="read")
    with pytest.raises(ValueError, match="ttl_seconds must be between 60 and 604800"):
        _provider(ttl_seconds=604801)
    with pytest.raises(TypeError, match="ttl_seconds must be an int"):
        _provider(ttl_seconds=1.5)
    with pytest.raises(ValueError, match="invalid bucket name"):
        _provider(bucket="Bad_Bucket")
    with pytest.raises(TypeError, match="prefixes must be a list"):
        _provider(prefixes="public/")
    with pytest.raises(ValueError, match="api_token must be non-empty"):
        _provider(api_token=" token\n")
