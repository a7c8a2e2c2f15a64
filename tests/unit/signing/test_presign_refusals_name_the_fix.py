"""presign_url refuses bad input with the exact argument at fault and the fix, before signing."""

from __future__ import annotations

import datetime as dt
import re
import time
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from r2async._signing.credentials import Credentials
from r2async._signing.presign import presign_url

CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
MOMENT = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)


def _presign(**overrides: object) -> str:
    arguments: dict[str, object] = {
        "method": "GET",
        "url": "https://acct.r2.cloudflarestorage.com/b/k",
        "credentials": CREDENTIALS,
        "expires_in": 3600,
        "now": MOMENT,
    }
    arguments.update(overrides)
    return presign_url(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        (
            {"headers": [("x-a", "1")]},
            TypeError,
            "headers must be a mapping of str to str, got list",
        ),
        ({"headers": {1: "v"}}, TypeError, "header names and values must be str"),
        ({"headers": {"x-a": 1}}, TypeError, "header names and values must be str"),
        (
            {"headers": {"x-amz-meta-a": "é"}},
            ValueError,
            "value of header 'x-amz-meta-a' must be ASCII without CR, LF or NUL; encode "
            "non-ASCII metadata (RFC 2047) first",
        ),
        ({"region": "a/b"}, ValueError, "region must be a non-empty token"),
        ({"service": "s 3"}, ValueError, "service must be a non-empty token"),
        ({"now": "2024-01-01"}, TypeError, "now must be a datetime or None, got str"),
        ({"url": 5}, TypeError, "url must be an httpx.URL or str, got int"),
        (
            {"url": "https://user:pw@h/b/k"},
            ValueError,
            "url must not carry user:password; credentials sign the URL instead",
        ),
        ({"url": "https://h/b/k#frag"}, ValueError, "url must not have a #fragment; remove it"),
        (
            {"url": httpx.URL("https://h/b/k#frag")},
            ValueError,
            "url must not have a #fragment; remove it",
        ),
    ],
)
def test_each_refusal_names_the_argument_and_the_fix(
    overrides: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match="^" + re.escape(message)):
        _presign(**overrides)


@pytest.mark.parametrize(
    "query",
    [
        "a=1&X-Amz-Signature=abc",  # after another parameter
        "X-Amz-Date",  # a bare flag, no "="
        "X-Amz-Credential=a=b",  # a value holding "="
    ],
)
def test_a_url_already_presigned_is_refused_wherever_the_parameter_is(query: str) -> None:
    with pytest.raises(
        ValueError,
        match="^" + re.escape("url already carries X-Amz-* presign parameters; pass the plain URL"),
    ):
        _presign(url=f"https://h/b/k?{query}")


def test_the_signing_service_given_is_the_one_in_the_credential_scope() -> None:
    query = dict(parse_qsl(urlsplit(_presign(service="s3-other")).query))
    assert query["X-Amz-Credential"] == "AKIDEXAMPLE/20240506/auto/s3-other/aws4_request"
    default = dict(parse_qsl(urlsplit(_presign()).query))
    assert default["X-Amz-Credential"] == "AKIDEXAMPLE/20240506/auto/s3/aws4_request"
    assert query["X-Amz-Signature"] != default["X-Amz-Signature"]


def test_the_default_signing_time_is_utc_whatever_the_local_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A naive local time would be read as UTC: off by the zone's offset (here +9 h).
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        stamped = dict(parse_qsl(urlsplit(_presign(now=None)).query))["X-Amz-Date"]
    finally:
        monkeypatch.undo()
        time.tzset()
    moment = dt.datetime.strptime(stamped, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    assert abs((dt.datetime.now(dt.timezone.utc) - moment).total_seconds()) < 600
