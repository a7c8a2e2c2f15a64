"""Unit tests for presigned URLs: exact URL shape, signed headers, expiry rules, redaction.

Every signature is recomputed independently with botocore's S3 query signer.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pytest
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from r2async import PresignedRequest, R2Client
from r2async._client import presign as _client_presign
from r2async._operations import objects as obj_ops

ACCOUNT = "0123456789abcdef0123456789abcdef"
HOST = f"{ACCOUNT}.r2.cloudflarestorage.com"
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
SSE_KEY = bytes(range(32))


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_client_presign, "_utcnow", lambda: NOW)


def make_client(**kwargs: Any) -> R2Client:
    return R2Client(account_id=ACCOUNT, access_key_id=AKID, secret_access_key=SECRET, **kwargs)


def params(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def botocore_signature(p: PresignedRequest, *, token: str | None = None) -> str:
    """The signature botocore computes for the same URL (minus the signature) and headers."""
    split = urlsplit(p.url)
    query = "&".join(q for q in split.query.split("&") if not q.startswith("X-Amz-Signature="))
    qp = params(p.url)
    request = AWSRequest(
        method=p.method,
        url=urlunsplit(split._replace(query=query)),
        headers={"host": split.netloc, **p.headers},
    )
    request.context["timestamp"] = qp["X-Amz-Date"]
    signer = S3SigV4QueryAuth(
        Credentials(AKID, SECRET, token), "s3", "auto", expires=int(qp["X-Amz-Expires"])
    )
    canonical = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical), request)


def assert_signed(p: PresignedRequest, *, token: str | None = None) -> None:
    assert params(p.url)["X-Amz-Signature"] == botocore_signature(p, token=token)


def test_presign_get_object_exact_url() -> None:
    r2 = make_client()
    p = r2.presign_get_object("my-bucket", "dir/a b+c%.txt")
    assert p.method == "GET" and p.headers == {}
    base, _, query = p.url.partition("?")
    assert base == f"https://{HOST}/my-bucket/dir/a%20b%2Bc%25.txt"
    signature = params(p.url)["X-Amz-Signature"]
    assert query == (
        "X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={AKID}%2F20260102%2Fauto%2Fs3%2Faws4_request"
        "&X-Amz-Date=20260102T030405Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
        f"&X-Amz-Signature={signature}"
    )
    assert len(signature) == 64
    assert p.expires_at == NOW + dt.timedelta(hours=1)
    assert_signed(p)


@pytest.mark.parametrize("expires_in", [1, 60, 604800])
def test_expiry_bounds_accepted(expires_in: int) -> None:
    p = make_client().presign_get_object("my-bucket", "k", expires_in=expires_in)
    assert params(p.url)["X-Amz-Expires"] == str(expires_in)
    assert p.expires_at == NOW + dt.timedelta(seconds=expires_in)


@pytest.mark.parametrize(
    ("expires_in", "exc"),
    [(0, ValueError), (-5, ValueError), (604801, ValueError), (1.5, TypeError), (True, TypeError)],
)
def test_expiry_out_of_range_is_rejected(expires_in: Any, exc: type[Exception]) -> None:
    r2 = make_client()
    with pytest.raises(exc, match="expires_in"):
        r2.presign_get_object("my-bucket", "k", expires_in=expires_in)
    with pytest.raises(exc, match="expires_in"):
        r2.presign_put_object("my-bucket", "k", expires_in=expires_in)


def test_session_token_is_signed_into_the_url() -> None:
    r2 = make_client(session_token="TOKEN/with+chars=")
    p = r2.presign_delete_object("my-bucket", "k")
    assert p.method == "DELETE"
    assert params(p.url)["X-Amz-Security-Token"] == "TOKEN/with+chars="
    assert "X-Amz-Security-Token=TOKEN%2Fwith%2Bchars%3D" in p.url
    assert_signed(p, token="TOKEN/with+chars=")


def test_presign_put_object_signs_typed_headers() -> None:
    r2 = make_client()
    md5 = base64.b64encode(hashlib.md5(b"{}").digest()).decode()
    crc = base64.b64encode(b"\x00\x01\x02\x03").decode()
    p = r2.presign_put_object(
        "my-bucket",
        "uploads/photo.jpg",
        expires_in=600,
        content_type="image/jpeg",
        content_length=2,
        cache_control="max-age=60",
        metadata={"owner": "zoë"},
        storage_class="STANDARD_IA",
        if_none_match="*",
        sse_customer_key=SSE_KEY,
        checksum_algorithm="CRC32",
        checksum=crc,
        content_md5=md5,
        headers={"x-custom": "yes"},
    )
    assert p.method == "PUT"
    assert p.headers == {
        "content-type": "image/jpeg",
        "content-length": "2",
        "cache-control": "max-age=60",
        "x-amz-meta-owner": "=?UTF-8?B?em/Dqw==?=",
        "x-amz-storage-class": "STANDARD_IA",
        "if-none-match": "*",
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": base64.b64encode(SSE_KEY).decode(),
        "x-amz-server-side-encryption-customer-key-md5": base64.b64encode(
            hashlib.md5(SSE_KEY).digest()
        ).decode(),
        "x-amz-checksum-crc32": crc,
        "content-md5": md5,
        "x-custom": "yes",
    }
    assert params(p.url)["X-Amz-SignedHeaders"] == ";".join(sorted([*p.headers, "host"]))
    assert_signed(p)


def test_presign_put_object_minimal_signs_only_host() -> None:
    p = make_client().presign_put_object("my-bucket", "k")
    assert p.headers == {} and params(p.url)["X-Amz-SignedHeaders"] == "host"
    assert_signed(p)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"checksum_algorithm": "CRC32C"}, ValueError, "checksum="),
        ({"content_md5": True}, TypeError, "base64 MD5"),
        ({"content_md5": "nope"}, ValueError, "base64"),
        ({"content_length": -1}, ValueError, "content_length"),
        ({"content_length": "2"}, TypeError, "content_length"),
        ({"storage_class": "GLACIER"}, ValueError, "STANDARD"),
        ({"headers": {"x-amz-date": "x"}}, ValueError, "signer"),
        ({"headers": {"bad name": "x"}}, ValueError, "header name"),
        ({"content_type": "a", "headers": {"Content-Type": "b"}}, ValueError, "one way"),
    ],
)
def test_presign_put_object_rejects_bad_input(
    kwargs: dict[str, Any], exc: type[Exception], match: str
) -> None:
    with pytest.raises(exc, match=match):
        make_client().presign_put_object("my-bucket", "k", **kwargs)


def test_presign_head_object_with_conditions_and_sse_c() -> None:
    p = make_client().presign_head_object(
        "my-bucket", "k", if_match='"abc"', sse_customer_key=SSE_KEY, part_number=2
    )
    assert p.method == "HEAD"
    assert p.url.split("?", 1)[1].startswith("partNumber=2&X-Amz-Algorithm=")
    assert p.headers["if-match"] == '"abc"'
    assert "x-amz-server-side-encryption-customer-key" in p.headers
    assert_signed(p)


def test_presign_get_object_signs_a_range() -> None:
    p = make_client().presign_get_object("my-bucket", "k", range=(0, 99))
    assert p.headers == {"range": "bytes=0-99"}
    assert "range" in params(p.url)["X-Amz-SignedHeaders"].split(";")
    assert_signed(p)


def test_presign_upload_part() -> None:
    p = make_client().presign_upload_part(
        "my-bucket", "big.bin", "id+/=", 7, content_length=5242880, expires_in=900
    )
    assert p.method == "PUT"
    base, _, query = p.url.partition("?")
    assert base == f"https://{HOST}/my-bucket/big.bin"
    assert query.startswith("partNumber=7&uploadId=id%2B%2F%3D&X-Amz-Algorithm=")
    assert p.headers == {"content-length": "5242880"}
    assert_signed(p)


@pytest.mark.parametrize(
    ("args", "exc"),
    [(("", 1), ValueError), (("u", 0), ValueError), (("u", 10001), ValueError)],
)
def test_presign_upload_part_rejects_bad_input(args: tuple[Any, ...], exc: type[Exception]) -> None:
    with pytest.raises(exc):
        make_client().presign_upload_part("my-bucket", "k", *args)


@pytest.mark.parametrize(
    "key", ["a/../b", "x/./y", "//double", "trail/", "100%", "caf\u00e9", "q?x&y#z", "a b+c"]
)
def test_presigned_path_is_exactly_what_the_client_sends(key: str) -> None:
    # The same URL builder as the operations: dot segments and escapes survive unchanged.
    r2 = make_client()
    p = r2.presign_get_object("my-bucket", key)
    wire = r2._url(obj_ops.build_get_object("my-bucket", key))
    assert p.url.partition("?")[0] == str(wire)
    assert_signed(p)


def test_endpoint_with_a_path_prefix() -> None:
    r2 = R2Client(
        endpoint_url="http://127.0.0.1:9000/s3/",
        access_key_id=AKID,
        secret_access_key=SECRET,
    )
    p = r2.presign_get_object("my-bucket", "k")
    assert p.url.startswith("http://127.0.0.1:9000/s3/my-bucket/k?X-Amz-")
    assert_signed(p)


def test_client_level_headers_are_not_signed_into_urls() -> None:
    # Whoever uses the URL would have to send them; only the call's headers= are signed.
    r2 = make_client(headers={"x-team": "a"}, operation_headers={"GetObject": {"x-op": "b"}})
    p = r2.presign_get_object("my-bucket", "k", headers={"X-Call": "c"})
    assert p.headers == {"x-call": "c"}
    assert params(p.url)["X-Amz-SignedHeaders"] == "host;x-call"


def test_bad_bucket_or_key_is_rejected() -> None:
    r2 = make_client()
    with pytest.raises(ValueError, match="bucket"):
        r2.presign_get_object("Bad_Bucket", "k")
    with pytest.raises(ValueError, match="key"):
        r2.presign_delete_object("my-bucket", "")


def test_repr_redacts_the_signature_and_header_values() -> None:
    p = make_client(session_token="SESSION-TOKEN").presign_put_object(
        "my-bucket", "k", sse_customer_key=SSE_KEY
    )
    text = repr(p) + str(p)
    signature = params(p.url)["X-Amz-Signature"]
    assert signature not in text
    assert "SESSION-TOKEN" not in text
    assert base64.b64encode(SSE_KEY).decode() not in text
    assert "x-amz-server-side-encryption-customer-key" in text  # names are fine to show
    assert f"https://{HOST}/my-bucket/k" in text


def test_presigned_request_is_frozen() -> None:
    p = make_client().presign_get_object("my-bucket", "k")
    with pytest.raises(Exception, match="frozen"):
        p.url = "x"  # type: ignore[misc]
