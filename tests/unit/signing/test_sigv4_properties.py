"""Property tests: r2async's SigV4 agrees with independent signers on random requests.

Oracles (development dependencies only, never imported by r2async itself):

* botocore ``S3SigV4Auth`` for the ``Authorization`` header that ``SigV4Auth`` puts on real
  httpx requests (built with ``build_url`` and ``encode_key``);
* botocore ``S3SigV4QueryAuth`` for presigned URLs, compared as whole URL strings;
* botocore ``SigV4Auth`` (non-S3) for the generic, normalising path mode;
* aws-requests-auth, wherever its simpler model covers the request: it signs only
  ``host``, ``x-amz-date`` (and the token), re-quotes the path and sorts the raw
  ``name=value`` strings of the query.

Hypothesis draws methods, object keys (any Unicode, NFC and NFD spellings, spaces, ``+``,
``%``, ``~``, ``//``, ``.`` and ``..`` segments, trailing ``/``), query parameters (empty
values, bare names, repeated names, reserved characters) and headers (mixed-case names,
inner runs of whitespace, repeated names).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from collections.abc import AsyncIterator
from types import SimpleNamespace
from unittest import mock

import httpx
from aws_requests_auth.aws_auth import AWSRequestsAuth
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.auth import SigV4Auth as BotoSigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from r2async._signing.auth import SigV4Auth, build_url, presign_url
from r2async._signing.credentials import Credentials
from r2async._signing.sigv4 import (
    UNSIGNED_HEADERS,
    encode_key,
    format_amz_date,
    sign_headers,
    uri_encode,
)

PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# Naive UTC, as botocore's get_current_datetime and datetime.utcnow return.
WHEN = dt.datetime(2024, 2, 29, 23, 59, 58)
WHEN_UTC = WHEN.replace(tzinfo=dt.timezone.utc)

# -- strategies ---------------------------------------------------------------------------

# Any Unicode scalar value except surrogates (which cannot be UTF-8 encoded).
any_char = st.characters(codec="utf-8")
tricky_char = st.sampled_from([*" +%~/.-_!$&'()*,;=:@?#[]\\\"<>^`{|}\t\n\x00\x7f", "é"])
key_piece = st.one_of(
    st.sampled_from(["/", "//", "./", "../", "/.", "/..", ".", "..", "%41", "%", "100%", "+", " "]),
    st.text(any_char, min_size=1, max_size=4),
    st.text(tricky_char, min_size=1, max_size=3),
)


@st.composite
def object_keys(draw: st.DrawFn) -> str:
    key = "".join(draw(st.lists(key_piece, min_size=1, max_size=8)))
    form = draw(st.sampled_from([None, "NFC", "NFD"]))
    return key if form is None else unicodedata.normalize(form, key)  # type: ignore[arg-type]


query_text = st.text(st.one_of(any_char, tricky_char), max_size=6)
# Names from a tiny alphabet are often prefixes of each other ("a", "a-", "a b"), which is
# where sorting by name then value differs from sorting "name=value" strings.
query_name = st.one_of(st.text(st.sampled_from("a- %"), min_size=1, max_size=2), query_text)


@st.composite
def query_params(draw: st.DrawFn, *, unique: bool = False) -> list[tuple[str, str | None]]:
    """(name, value) pairs; value None means a bare name (``?uploads``)."""
    if unique:
        names = draw(st.lists(query_name.filter(bool), max_size=4, unique=True))
    else:
        pool = draw(st.lists(query_name.filter(bool), min_size=1, max_size=3))
        names = draw(st.lists(st.sampled_from(pool), max_size=5))  # repeats likely
    return [(name, draw(st.one_of(st.none(), query_text))) for name in names]


def encode_query(params: list[tuple[str, str | None]]) -> str:
    return "&".join(
        uri_encode(name) if value is None else f"{uri_encode(name)}={uri_encode(value)}"
        for name, value in params
    )


header_token = st.text(st.sampled_from("abcdefxyz0123456789-"), min_size=1, max_size=8)
header_value = st.lists(
    st.sampled_from([*"abcXYZ019 \t\"',;=/:-_.*()[]<>?@{}", "  ", "\t\t ", "   "]), max_size=12
).map("".join)


@st.composite
def header_names(draw: st.DrawFn) -> str:
    prefix = draw(
        st.sampled_from(
            [
                "x-amz-meta-",
                "cf-",
                "x-custom-",
                "content-type",
                "if-match",
                "if-none-match",
                "cache-control",
                "range",
                "content-md5",
                "content-disposition",
                "x-amz-storage-class",
            ]
        )
    )
    name = prefix + draw(header_token) if prefix.endswith("-") else prefix
    # Random casing: names are case-insensitive and must sign as lower case.
    flips = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    return "".join(c.upper() if flip else c for c, flip in zip(name, flips, strict=True))


@st.composite
def header_lists(draw: st.DrawFn) -> list[tuple[str, str]]:
    names = draw(st.lists(header_names(), max_size=5))
    repeat: bool = draw(st.booleans())
    if names and repeat:
        names.append(draw(st.sampled_from(names)).swapcase())  # a repeated header
    return [(name, draw(header_value)) for name in names]


methods = st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS"])
bodies = st.one_of(st.none(), st.binary(max_size=64), st.just("stream"))
tokens = st.one_of(st.none(), st.text(st.sampled_from("AZaz09/+="), min_size=1, max_size=40))
endpoints = st.sampled_from(
    [
        "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
        "https://acct.eu.r2.cloudflarestorage.com",
        "http://127.0.0.1:8333",
        "https://Example.COM:8443",
    ]
)
regions = st.sampled_from(["auto", "us-east-1", "eu-west-3"])

# -- oracles -------------------------------------------------------------------------------


def botocore_authorization(
    request: httpx.Request,
    headers: list[tuple[str, str]],
    credentials: Credentials,
    region: str,
    *,
    streaming: bool,
) -> str:
    """Sign the same request with botocore's S3SigV4Auth; return its Authorization."""
    aws = AWSRequest(
        method=request.method, url=str(request.url), data=request.content if not streaming else b""
    )
    for name, value in headers:
        aws.headers[name] = value  # HTTPHeaders appends: repeats are kept in order
    if streaming:
        # botocore hashes any body it can read; this is its switch for UNSIGNED-PAYLOAD.
        aws.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    boto = BotoCredentials(
        credentials.access_key_id, credentials.secret_access_key, credentials.session_token
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=WHEN):
        S3SigV4Auth(boto, "s3", region).add_auth(aws)
    return str(aws.headers["Authorization"])


def make_request(
    method: str, url: httpx.URL, headers: list[tuple[str, str]], body: bytes | str | None
) -> httpx.Request:
    if body == "stream":

        async def chunks() -> AsyncIterator[bytes]:
            yield b"streamed"

        return httpx.Request(method, url, headers=headers, content=chunks())
    assert not isinstance(body, str)
    return httpx.Request(method, url, headers=headers, content=body)


# -- properties ------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    method=methods,
    endpoint=endpoints,
    key=object_keys(),
    params=query_params(),
    headers=header_lists(),
    body=bodies,
    token=tokens,
    region=regions,
)
@example(  # the traps named in the design, in one request
    method="PUT",
    endpoint="https://acct.r2.cloudflarestorage.com",
    key="a/../b/./100%/%41/a b+c/\u00e9/e\u0301//double/trail/",
    params=[("a", "2"), ("a-b", "1"), ("a b", None), ("a", ""), ("x", "y=z&/+")],
    headers=[("X-Amz-Meta-A", "  v   w\t x "), ("x-amz-meta-a", "second"), ("If-Match", '"e"')],
    body=b"payload",
    token="tok/+=",
    region="auto",
)
def test_authorization_equals_botocore(
    method: str,
    endpoint: str,
    key: str,
    params: list[tuple[str, str | None]],
    headers: list[tuple[str, str]],
    body: bytes | str | None,
    token: str | None,
    region: str,
) -> None:
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    raw_path = "/bucket/" + encode_key(key)
    query = encode_query(params)
    url = build_url(httpx.URL(endpoint), raw_path, query)
    request = make_request(method, url, headers, body)
    # The key reaches the wire exactly as encoded, dot segments and all.
    assert request.url.raw_path == (f"{raw_path}?{query}" if query else raw_path).encode()
    # botocore gets every header the request carries, minus those r2async deliberately
    # leaves unsigned and botocore would sign (accept, accept-encoding...).
    oracle_headers = [(k, v) for k, v in request.headers.multi_items() if k not in UNSIGNED_HEADERS]
    expected = botocore_authorization(
        request, oracle_headers, credentials, region, streaming=body == "stream"
    )
    SigV4Auth(credentials, region=region, clock=lambda: WHEN_UTC).sign(request)
    assert request.headers["authorization"] == expected
    assert request.headers["x-amz-date"] == "20240229T235958Z"
    assert request.headers.get("x-amz-security-token") == token


@PROPERTY_SETTINGS
@given(
    method=methods,
    endpoint=endpoints,
    key=object_keys(),
    params=query_params(unique=True),
    headers=st.dictionaries(header_names(), header_value, max_size=3).filter(
        lambda h: len({k.lower() for k in h}) == len(h)
    ),
    token=tokens,
    region=regions,
    expires=st.integers(1, 604800),
    as_string=st.booleans(),
)
def test_presigned_url_equals_botocore(
    method: str,
    endpoint: str,
    key: str,
    params: list[tuple[str, str | None]],
    headers: dict[str, str],
    token: str | None,
    region: str,
    expires: int,
    as_string: bool,
) -> None:
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    # botocore rebuilds the query as "name=value" pairs, so bare names get "=" here.
    query = encode_query([(name, value or "") for name, value in params])
    url = build_url(httpx.URL(endpoint), "/bucket/" + encode_key(key), query)
    ours = presign_url(
        method=method,
        url=str(url) if as_string else url,
        credentials=credentials,
        expires_in=expires,
        headers=headers,
        region=region,
        now=WHEN_UTC,
    )
    aws = AWSRequest(method=method, url=str(url), headers=headers)
    boto = BotoCredentials(credentials.access_key_id, credentials.secret_access_key, token)
    with mock.patch("botocore.auth.get_current_datetime", return_value=WHEN):
        S3SigV4QueryAuth(boto, "s3", region, expires=expires).add_auth(aws)
    assert ours == aws.url


@PROPERTY_SETTINGS
@given(
    method=methods,
    key=object_keys(),
    params=query_params(),
    headers=header_lists(),
    body=st.binary(max_size=64),
    token=tokens,
)
def test_generic_mode_equals_botocore_sigv4(
    method: str,
    key: str,
    params: list[tuple[str, str | None]],
    headers: list[tuple[str, str]],
    body: bytes,
    token: str | None,
) -> None:
    # The normalising, double-encoding mode of other AWS services.
    path = "/" + encode_key(key)
    query = encode_query(params)
    host = "service.us-east-1.amazonaws.com"
    aws = AWSRequest(
        method=method, url=f"https://{host}{path}" + (f"?{query}" if query else ""), data=body
    )
    for name, value in headers:
        aws.headers[name] = value
    boto = BotoCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    with mock.patch("botocore.auth.get_current_datetime", return_value=WHEN):
        BotoSigV4Auth(boto, "service", "us-east-1").add_auth(aws)
    amz_date = format_amz_date(WHEN)
    signed = [("host", host), *headers, ("x-amz-date", amz_date)]
    if token is not None:
        signed.append(("x-amz-security-token", token))
    ours = sign_headers(
        method=method,
        path=path,
        query=query,
        headers=signed,
        payload_hash=hashlib.sha256(body).hexdigest(),
        access_key_id="AKIDEXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        amz_date=amz_date,
        region="us-east-1",
        service="service",
        normalize_path=True,
    )
    assert ours.authorization == aws.headers["Authorization"]


# aws-requests-auth re-quotes the path (so only keys that encode to themselves are in its
# model) and sorts raw "name=value" strings (so names must not be prefixes of each other:
# equal-length distinct names guarantee that).
plain_key = st.text(st.sampled_from("abcXYZ019-._~/"), min_size=1, max_size=24)
plain_params = st.integers(0, 4).flatmap(
    lambda n: st.tuples(
        st.lists(
            st.text(st.sampled_from("abcz019-_"), min_size=3, max_size=3),
            min_size=n,
            max_size=n,
            unique=True,
        ),
        st.lists(st.one_of(st.none(), query_text), min_size=n, max_size=n),
    )
)


@PROPERTY_SETTINGS
@given(
    method=methods,
    key=plain_key,
    params=plain_params,
    body=st.binary(max_size=64),
    token=tokens,
    region=regions,
)
def test_header_signature_equals_aws_requests_auth(
    method: str,
    key: str,
    params: tuple[list[str], list[str | None]],
    body: bytes,
    token: str | None,
    region: str,
) -> None:
    host = "acct.r2.cloudflarestorage.com"
    path = "/bucket/" + encode_key(key)
    assert path == "/bucket/" + key  # inside the oracle's model
    query = encode_query(list(zip(*params, strict=True)))
    signer = AWSRequestsAuth(
        "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", host, region, "s3", token
    )
    fake_request = SimpleNamespace(
        method=method, url=f"https://{host}{path}" + (f"?{query}" if query else ""), body=body
    )
    fake_datetime = SimpleNamespace(datetime=SimpleNamespace(utcnow=lambda: WHEN))
    with mock.patch("aws_requests_auth.aws_auth.datetime", fake_datetime):
        expected = signer.get_aws_request_headers(
            fake_request, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token
        )
    amz_date = format_amz_date(WHEN)
    signed = [("host", host), ("x-amz-date", amz_date)]
    if token is not None:
        signed.append(("x-amz-security-token", token))
    ours = sign_headers(
        method=method,
        path=path,
        query=query,
        headers=signed,
        payload_hash=hashlib.sha256(body).hexdigest(),
        access_key_id="AKIDEXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        amz_date=amz_date,
        region=region,
        service="s3",
    )
    assert expected["x-amz-date"] == amz_date
    assert ours.authorization == expected["Authorization"]


@PROPERTY_SETTINGS
@given(key=object_keys(), params=query_params())
def test_wire_path_is_exactly_what_encode_key_produced(
    key: str, params: list[tuple[str, str | None]]
) -> None:
    # Through a real client send (MockTransport stands where the socket would be).
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path)
        return httpx.Response(200)

    raw_path = "/bucket/" + encode_key(key)
    query = encode_query(params)
    url = build_url(httpx.URL("https://h.example"), raw_path, query)
    auth = SigV4Auth(Credentials("AK", "SK"), clock=lambda: WHEN_UTC)
    with httpx.Client(transport=httpx.MockTransport(handler), auth=auth) as client:
        client.get(url)
    assert seen == [(f"{raw_path}?{query}" if query else raw_path).encode()]
