"""``region=``: the SigV4 signing region, "auto" (R2's) unless the caller or ``R2_REGION`` says.

Other S3-compatible endpoints check the region in the credential scope (moto refuses
CreateBucket signed for "auto"); requests and presigned URLs must both carry the chosen one.
"""

from __future__ import annotations

import httpx
import pytest
import respx
from tests.support.r2_answers import object_headers
from tests.support.sigcheck import assert_signature_valid

from r2async import R2Client

BASE = "http://127.0.0.1:9"
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def _client(monkeypatch: pytest.MonkeyPatch, env: str | None = None, **kwargs: object) -> R2Client:
    if env is None:
        monkeypatch.delenv("R2_REGION", raising=False)
    else:
        monkeypatch.setenv("R2_REGION", env)
    return R2Client(endpoint_url=BASE, access_key_id=AKID, secret_access_key=SECRET, **kwargs)  # type: ignore[arg-type]


async def _signed_request(r2: R2Client) -> httpx.Request:
    with respx.mock(base_url=BASE) as mock:
        route = mock.put(url__regex=r".*").mock(
            return_value=httpx.Response(200, headers=object_headers())
        )
        await r2.put_object("bucket", "key", b"x")
    return route.calls.last.request


@pytest.mark.parametrize(
    ("env", "kwargs", "region"),
    [
        (None, {}, "auto"),
        ("us-east-1", {}, "us-east-1"),
        ("us-east-1", {"region": "eu-west-3"}, "eu-west-3"),
        ("", {}, "auto"),
    ],
    ids=["default", "from-env", "argument-wins", "empty-env"],
)
async def test_requests_are_signed_for_the_chosen_region(
    monkeypatch: pytest.MonkeyPatch, env: str | None, kwargs: dict[str, object], region: str
) -> None:
    async with _client(monkeypatch, env, **kwargs) as r2:
        request = await _signed_request(r2)
    assert f"/{region}/s3/aws4_request" in request.headers["authorization"]
    assert_signature_valid(request, access_key_id=AKID, secret_access_key=SECRET, region=region)


async def test_presigned_urls_carry_the_chosen_region(monkeypatch: pytest.MonkeyPatch) -> None:
    async with _client(monkeypatch, region="us-east-1") as r2:
        presigned = r2.presign_get_object("bucket", "key")
    scope = httpx.URL(presigned.url).params["X-Amz-Credential"]
    assert scope.endswith("/us-east-1/s3/aws4_request")


@pytest.mark.parametrize("bad", ["US East", "a/b", "-x", "x" * 64, "ÿ"])
def test_a_bad_region_is_refused_before_any_io(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    with pytest.raises(ValueError, match="region"):
        _client(monkeypatch, region=bad)
    with pytest.raises(ValueError, match="region"):
        _client(monkeypatch, env=bad)


def test_a_region_of_the_wrong_type_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(TypeError, match="region"):
        _client(monkeypatch, region=1)
