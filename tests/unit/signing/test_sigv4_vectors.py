"""SigV4 against published vectors, byte for byte.

* The AWS SigV4 test suite (tests/vectors/aws-sigv4-testsuite, from aws-c-auth, Apache-2.0,
  LICENSE and NOTICE kept beside it): for every case, the canonical request, the string to
  sign and the signature of both the header and the query-string variant.
* The worked examples of the Amazon S3 API reference (tests/vectors/s3-documented-examples.json):
  header auth through the pure functions and through SigV4Auth on real httpx requests, and
  the presigned URL through presign_url.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from r2async._signing.auth import SigV4Auth, build_url, presign_url
from r2async._signing.credentials import Credentials
from r2async._signing.sigv4 import (
    EMPTY_SHA256,
    HeaderSignature,
    PresignedQuery,
    encode_key,
    format_amz_date,
    presign_query,
    sign_headers,
)

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
SUITE = VECTORS / "aws-sigv4-testsuite"
S3_EXAMPLES = json.loads((VECTORS / "s3-documented-examples.json").read_text("utf-8"))
CASES = sorted(p.name for p in SUITE.iterdir() if p.is_dir())


def test_suite_is_complete_and_licensed() -> None:
    # The copy must not silently lose cases or its licence files.
    assert len(CASES) == 38
    assert (SUITE / "LICENSE").read_text().startswith("\n                                 Apache")
    assert "Amazon.com" in (SUITE / "NOTICE").read_text()
    for case in CASES:
        names = {p.name for p in (SUITE / case).iterdir()}
        for variant in ("header", "query"):
            for part in ("canonical-request", "string-to-sign", "signature", "signed-request"):
                assert f"{variant}-{part}.txt" in names, (case, variant, part)


class SuiteRequest(NamedTuple):
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes


def _read(case: str, name: str) -> str:
    # Exact bytes: no newline translation, no stripping.
    return (SUITE / case / name).read_bytes().decode("utf-8")


def _parse_request(text: str) -> SuiteRequest:
    """Parse a suite request.txt: request line, headers (with obs-fold continuations), body."""
    head, _, body = text.partition("\n\n")
    lines = head.rstrip("\n").split("\n")
    method, rest = lines[0].split(" ", 1)
    target = rest.rsplit(" ", 1)[0]  # the target may itself hold spaces
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t"):
            name, value = headers[-1]
            headers[-1] = (name, f"{value}\n{line}")
        else:
            name, _, value = line.partition(":")
            headers.append((name, value))
    path, _, query = target.partition("?")
    return SuiteRequest(method, path, query, headers, body.encode("utf-8"))


def _context(case: str) -> dict[str, Any]:
    context: dict[str, Any] = json.loads(_read(case, "context.json"))
    return context


def _amz_date(context: dict[str, Any]) -> str:
    moment = dt.datetime.strptime(context["timestamp"], "%Y-%m-%dT%H:%M:%SZ")
    return format_amz_date(moment.replace(tzinfo=dt.timezone.utc))


def _sign_header_variant(
    case: str, *, path: str | None = None, normalize: bool | None = None
) -> HeaderSignature:
    context = _context(case)
    request = _parse_request(_read(case, "request.txt"))
    amz_date = _amz_date(context)
    token = context["credentials"].get("token")
    payload_hash = hashlib.sha256(request.body).hexdigest()
    headers = [*request.headers, ("X-Amz-Date", amz_date)]
    if token and not context.get("omit_session_token", False):
        headers.append(("X-Amz-Security-Token", token))
    if context["sign_body"]:
        headers.append(("x-amz-content-sha256", payload_hash))
    return sign_headers(
        method=request.method,
        path=request.path if path is None else path,
        query=request.query,
        headers=headers,
        payload_hash=payload_hash,
        access_key_id=context["credentials"]["access_key_id"],
        secret_access_key=context["credentials"]["secret_access_key"],
        amz_date=amz_date,
        region=context["region"],
        service=context["service"],
        normalize_path=context["normalize"] if normalize is None else normalize,
    )


def _sign_query_variant(
    case: str, *, path: str | None = None, normalize: bool | None = None
) -> PresignedQuery:
    context = _context(case)
    request = _parse_request(_read(case, "request.txt"))
    omit_token = context.get("omit_session_token", False)
    return presign_query(
        method=request.method,
        path=request.path if path is None else path,
        query=request.query,
        headers=request.headers,
        access_key_id=context["credentials"]["access_key_id"],
        secret_access_key=context["credentials"]["secret_access_key"],
        session_token=None if omit_token else context["credentials"].get("token"),
        amz_date=_amz_date(context),
        expires_in=context["expiration_in_seconds"],
        region=context["region"],
        service=context["service"],
        payload_hash=hashlib.sha256(request.body).hexdigest(),
        normalize_path=context["normalize"] if normalize is None else normalize,
    )


@pytest.mark.parametrize("case", CASES)
def test_suite_header_variant(case: str) -> None:
    signed = _sign_header_variant(case)
    assert signed.canonical_request == _read(case, "header-canonical-request.txt")
    assert signed.string_to_sign == _read(case, "header-string-to-sign.txt")
    assert signed.signature == _read(case, "header-signature.txt")
    # The Authorization line of the expected signed request, whole.
    lines = _read(case, "header-signed-request.txt").split("\n")
    expected = [line for line in lines if line.startswith("Authorization:")]
    assert expected == [f"Authorization:{signed.authorization}"]


@pytest.mark.parametrize("case", CASES)
def test_suite_query_variant(case: str) -> None:
    signed = _sign_query_variant(case)
    assert signed.canonical_request == _read(case, "query-canonical-request.txt")
    assert signed.string_to_sign == _read(case, "query-string-to-sign.txt")
    assert signed.signature == _read(case, "query-signature.txt")
    # The query of the expected signed request holds the same parameters (the suite orders
    # X-Amz-SignedHeaders before X-Amz-Expires; S3's documented order is the reverse).
    request_line = _read(case, "query-signed-request.txt").split("\n")[0]
    target = request_line.split(" ", 1)[1].rsplit(" ", 1)[0]
    expected = sorted(parse_qsl(target.partition("?")[2], keep_blank_values=True))
    ours = parse_qsl(signed.query, keep_blank_values=True)
    context = _context(case)
    if context.get("omit_session_token", False):
        # Token added to the URL after signing, as that case prescribes.
        ours.append(("X-Amz-Security-Token", context["credentials"]["token"]))
    assert sorted(ours) == expected
    assert signed.query.endswith(f"&X-Amz-Signature={signed.signature}")


UNNORMALIZED = [case for case in CASES if not _context(case)["normalize"]]


@pytest.mark.parametrize("case", UNNORMALIZED)
def test_suite_unnormalized_cases_in_s3_mode_from_encoded_path(case: str) -> None:
    # The "normalize": false cases are S3 mode. Feeding them the path as it goes on the wire
    # (encoded once, as encode_key does) must give the same bytes as the raw path.
    raw_path = _parse_request(_read(case, "request.txt")).path
    wire_path = encode_key(raw_path)
    assert _sign_header_variant(case, path=wire_path, normalize=False).canonical_request == (
        _read(case, "header-canonical-request.txt")
    )
    assert _sign_query_variant(case, path=wire_path, normalize=False).signature == (
        _read(case, "query-signature.txt")
    )


def test_normalize_flag_matters_for_dot_segment_cases() -> None:
    # Guards against a harness that would pass whatever the flag: S3 mode must keep "..".
    signed = _sign_header_variant("get-relative-relative-normalized", normalize=False)
    assert signed.canonical_request.split("\n")[1] == "/example1/example2/../.."
    assert signed.signature != _read("get-relative-relative-normalized", "header-signature.txt")


# -- S3 API reference examples ------------------------------------------------------------

S3_CREDENTIALS = Credentials(
    S3_EXAMPLES["credentials"]["access_key_id"], S3_EXAMPLES["credentials"]["secret_access_key"]
)
S3_DATE = S3_EXAMPLES["amz_date"]
S3_MOMENT = dt.datetime.strptime(S3_DATE, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)


def _example_query(example: dict[str, Any], *, bare: bool) -> str:
    # "lifecycle" may go on the wire bare (?lifecycle) or with "=" (?lifecycle=).
    return "&".join(
        name if bare and not value else f"{name}={value}" for name, value in example["query"]
    )


@pytest.mark.parametrize("example", S3_EXAMPLES["header_auth"], ids=lambda e: e["name"])
@pytest.mark.parametrize("path_form", ["as documented", "encode_key"])
@pytest.mark.parametrize("bare", [False, True])
def test_s3_header_examples_pure(example: dict[str, Any], path_form: str, bare: bool) -> None:
    payload = example["payload"].encode("utf-8")
    payload_hash = hashlib.sha256(payload).hexdigest()
    path = example["path"] if path_form == "as documented" else encode_key(example["path"])
    headers = [
        ("Host", example["host"]),
        *example["headers"].items(),
        ("x-amz-content-sha256", payload_hash),
        ("x-amz-date", S3_DATE),
    ]
    signed = sign_headers(
        method=example["method"],
        path=path,
        query=_example_query(example, bare=bare),
        headers=headers,
        payload_hash=payload_hash,
        access_key_id=S3_CREDENTIALS.access_key_id,
        secret_access_key=S3_CREDENTIALS.secret_access_key,
        amz_date=S3_DATE,
        region=S3_EXAMPLES["region"],
        service=S3_EXAMPLES["service"],
    )
    assert signed.signed_headers == example["signed_headers"]
    assert signed.signature == example["signature"]


@pytest.mark.parametrize("example", S3_EXAMPLES["header_auth"], ids=lambda e: e["name"])
def test_s3_header_examples_through_sigv4auth(example: dict[str, Any]) -> None:
    # The same examples as real httpx requests: what SigV4Auth signs is what httpx sends.
    auth = SigV4Auth(
        S3_CREDENTIALS, region=S3_EXAMPLES["region"], service="s3", clock=lambda: S3_MOMENT
    )
    url = build_url(
        httpx.URL(f"https://{example['host']}"),
        "/" + encode_key(example["path"].lstrip("/")),
        _example_query(example, bare=True),
    )
    payload = example["payload"].encode("utf-8")
    with httpx.Client() as client:  # for its default headers (accept, user-agent...)
        request = client.build_request(
            example["method"], url, headers=example["headers"], content=payload or None
        )
    if "content-length" in request.headers:
        # The documented PutObject does not sign Content-Length, which httpx adds.
        del request.headers["content-length"]
    auth.sign(request)
    authorization = request.headers["authorization"]
    assert authorization.endswith(f"Signature={example['signature']}")
    assert f"SignedHeaders={example['signed_headers']}," in authorization
    assert request.headers["x-amz-date"] == S3_DATE
    assert request.headers["x-amz-content-sha256"] == (
        hashlib.sha256(payload).hexdigest() if payload else EMPTY_SHA256
    )


@pytest.mark.parametrize("example", S3_EXAMPLES["query_auth"], ids=lambda e: e["name"])
@pytest.mark.parametrize("as_string", [True, False])
def test_s3_presign_examples(example: dict[str, Any], as_string: bool) -> None:
    url = f"https://{example['host']}{example['path']}"
    presigned = presign_url(
        method=example["method"],
        url=url if as_string else httpx.URL(url),
        credentials=S3_CREDENTIALS,
        expires_in=example["expires"],
        region=S3_EXAMPLES["region"],
        service=S3_EXAMPLES["service"],
        now=S3_MOMENT,
    )
    assert presigned == example["url"]
    query = dict(parse_qsl(urlsplit(presigned).query))
    assert query["X-Amz-Signature"] == example["signature"]
    assert query["X-Amz-SignedHeaders"] == example["signed_headers"]


def test_s3_chunked_upload_seed_signature_reference() -> None:
    # Reference only: R2 rejects streaming (aws-chunked) signatures and r2async never sends
    # them. The seed signature is an ordinary header signature, so it checks the signer
    # with a non-hash payload value and seven signed headers.
    example = S3_EXAMPLES["chunked_upload"]
    headers = [
        ("host", example["host"]),
        *example["headers"].items(),
        ("x-amz-date", S3_DATE),
    ]
    signed = sign_headers(
        method=example["method"],
        path=example["path"],
        query="",
        headers=headers,
        payload_hash=example["headers"]["x-amz-content-sha256"],
        access_key_id=S3_CREDENTIALS.access_key_id,
        secret_access_key=S3_CREDENTIALS.secret_access_key,
        amz_date=S3_DATE,
        region=S3_EXAMPLES["region"],
        service=S3_EXAMPLES["service"],
    )
    assert signed.signed_headers == example["signed_headers"]
    assert signed.signature == example["seed_signature"]
