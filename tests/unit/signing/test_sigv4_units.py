"""Unit tests of the pure SigV4 pieces in r2async._signing.sigv4 and of Credentials."""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import hmac
import subprocess
import sys
from pathlib import Path

import pytest

from r2async._signing import sigv4 as _sigv4
from r2async._signing.credentials import Credentials
from r2async._signing.sigv4 import (
    EMPTY_SHA256,
    UNSIGNED_PAYLOAD,
    canonical_headers,
    canonical_query,
    canonical_uri,
    canonical_wire_path,
    check_expires,
    encode_key,
    encode_query_once,
    format_amz_date,
    hmac_sha256_hex,
    prepared_signing_key,
    presign_query,
    sign_headers,
    signing_key,
    uri_encode,
)

SIGV4_SOURCE = Path(_sigv4.__file__)


def test_constants() -> None:
    assert UNSIGNED_PAYLOAD == "UNSIGNED-PAYLOAD"
    assert EMPTY_SHA256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(
    ("value", "safe", "expected"),
    [
        ("AZaz09-._~", "", "AZaz09-._~"),
        ("a b", "", "a%20b"),
        ("a+b", "", "a%2Bb"),
        ("100%", "", "100%25"),
        ("%41", "", "%2541"),
        ("a/b", "", "a%2Fb"),
        ("a/b", "/", "a/b"),
        ("é", "", "%C3%A9"),
        ("e\u0301", "", "e%CC%81"),
        ("ሴ", "", "%E1%88%B4"),
        ("😀", "", "%F0%9F%98%80"),
        ("*'()!$&,;=:@?#[]", "", "%2A%27%28%29%21%24%26%2C%3B%3D%3A%40%3F%23%5B%5D"),
        ("\x00\n\x7f", "", "%00%0A%7F"),
    ],
)
def test_uri_encode(value: str, safe: str, expected: str) -> None:
    assert uri_encode(value, safe=safe) == expected


def test_uri_encode_every_byte_outside_unreserved() -> None:
    unreserved = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    for code in range(256):
        char = chr(code)
        encoded = uri_encode(char)
        expected = char if code in unreserved else "".join(f"%{b:02X}" for b in char.encode())
        assert encoded == expected, code


def test_uri_encode_rejects_bad_input() -> None:
    with pytest.raises(TypeError, match="decode bytes"):
        uri_encode(b"abc")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lone surrogate"):
        uri_encode("a\ud800")
    with pytest.raises(ValueError, match="safe may only hold"):
        uri_encode("a", safe="%")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("a/../b", "a/../b"),
        ("./x", "./x"),
        ("100%", "100%25"),
        ("%41", "%2541"),
        ("a b+c", "a%20b%2Bc"),
        ("\u00e9", "%C3%A9"),  # NFC é
        ("e\u0301", "e%CC%81"),  # NFD é: a different key, encoded differently
        ("//double", "//double"),
        ("trail/", "trail/"),
        ("~tilde", "~tilde"),
        ("q?x=1#f", "q%3Fx%3D1%23f"),
    ],
)
def test_encode_key(key: str, expected: str) -> None:
    assert encode_key(key) == expected


def test_encode_key_type() -> None:
    with pytest.raises(TypeError, match="decode bytes keys"):
        encode_key(b"k")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", "/"),
        ("/", "/"),
        ("/b/a/../c", "/b/a/../c"),  # S3 mode: no normalisation
        ("/b//c/", "/b//c/"),
        ("/b/%2541", "/b/%2541"),  # no double encoding
        ("/b/%2f", "/b/%2F"),  # escapes get upper-case hex
        ("/b/test$file", "/b/test%24file"),  # raw reserved characters get encoded once
        ("/b/a b", "/b/a%20b"),
        ("/b/100%", "/b/100%25"),  # a "%" that starts no escape
        ("/b/%zz", "/b/%25zz"),
        ("/b/é", "/b/%C3%A9"),
    ],
)
def test_canonical_uri_s3_mode(path: str, expected: str) -> None:
    assert canonical_uri(path) == expected
    if path.isascii():
        assert canonical_wire_path(path.encode("ascii")) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/a/./b/../c", "/a/c"),
        ("//a//b//", "/a/b/"),
        ("/a/..", "/"),
        ("/..", "/"),
        ("/a/b/..", "/a"),  # as botocore and the AWS suite: no trailing "/" added
        ("/a%20b", "/a%2520b"),  # generic mode encodes again
        ("/a b", "/a%20b"),
    ],
)
def test_canonical_uri_generic_mode(path: str, expected: str) -> None:
    assert canonical_uri(path, normalize_path=True) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ""),
        ("uploads", "uploads="),
        ("b=2&a=1", "a=1&b=2"),
        ("a=2&a=1&a=", "a=&a=1&a=2"),  # repeated names sort by value
        ("a-b=1&a=2", "a=2&a-b=1"),  # by name first, not by the "name=value" string
        ("a=b=c", "a=b%3Dc"),
        ("k=a%2fb", "k=a%2Fb"),
        ("k=a/b", "k=a%2Fb"),
        ("k=a+b", "k=a%2Bb"),  # "+" is a plus, never a space
        ("k=a b", "k=a%20b"),
        ("k=100%", "k=100%25"),
        ("&&a=1&", "a=1"),
        ("%E1%88%B4=1&ሴ=2", "%E1%88%B4=1&%E1%88%B4=2"),
    ],
)
def test_canonical_query(query: str, expected: str) -> None:
    assert canonical_query(query) == expected


def test_encode_query_once_keeps_order_and_bare_names() -> None:
    assert encode_query_once("b=2&uploads&a=x y&&c=%2f") == "b=2&uploads&a=x%20y&c=%2F"
    assert encode_query_once("") == ""


def test_canonical_headers() -> None:
    block, signed = canonical_headers(
        [
            ("Host", "example.com"),
            ("X-Amz-Meta-A", "  two   inner\t runs  "),
            ("x-amz-meta-a", "second"),
            ("Content-Type", "text/plain"),
            ("X-Empty", ""),
        ]
    )
    assert block == (
        "content-type:text/plain\nhost:example.com\nx-amz-meta-a:two inner runs,second\nx-empty:\n"
    )
    assert signed == "content-type;host;x-amz-meta-a;x-empty"


def test_signing_key_matches_the_documented_derivation_and_is_cached() -> None:
    # AWS's documented example key derivation (General Reference, "Examples of how to
    # derive a signing key"): secret, 20120215, us-east-1, iam.
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    key = signing_key(secret, "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
    signing_key.cache_clear()
    signing_key(secret, "20120215", "us-east-1", "iam")
    signing_key(secret, "20120215", "us-east-1", "iam")
    info = signing_key.cache_info()
    assert (info.hits, info.misses) == (1, 1)
    signing_key(secret, "20120216", "us-east-1", "iam")
    assert signing_key.cache_info().misses == 2


def test_prepared_key_hmac_equals_stdlib_hmac() -> None:
    secret = "s3cr3t"
    key = signing_key(secret, "20240101", "auto", "s3")
    prepared = prepared_signing_key(secret, "20240101", "auto", "s3")
    for message in (b"", b"x", b"x" * 63, b"x" * 64, b"x" * 1000):
        expected = hmac.new(key, message, hashlib.sha256).hexdigest()
        assert hmac_sha256_hex(prepared, message) == expected
    # The cached states are copied, never consumed.
    assert hmac_sha256_hex(prepared, b"abc") == hmac.new(key, b"abc", hashlib.sha256).hexdigest()


def test_format_amz_date() -> None:
    aware = dt.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=dt.timezone.utc)
    assert format_amz_date(aware) == "20240229T235959Z"
    plus_two = dt.timezone(dt.timedelta(hours=2))
    assert format_amz_date(dt.datetime(2024, 3, 1, 1, 0, 0, tzinfo=plus_two)) == "20240229T230000Z"
    assert format_amz_date(dt.datetime(2024, 3, 1, 1, 0, 0)) == "20240301T010000Z"  # naive = UTC
    with pytest.raises(TypeError, match="datetime"):
        format_amz_date("20240101")  # type: ignore[arg-type]


@pytest.mark.parametrize("good", [1, 3600, 604800])
def test_check_expires_accepts(good: int) -> None:
    assert check_expires(good) == good


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (0, ValueError),
        (-1, ValueError),
        (604801, ValueError),
        (True, TypeError),
        (1.5, TypeError),
        ("60", TypeError),
    ],
)
def test_check_expires_rejects(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="expires_in"):
        check_expires(bad)


def _presign(**overrides: object) -> str:
    arguments: dict[str, object] = {
        "method": "GET",
        "path": "/b/k",
        "query": "",
        "headers": {"host": "h.example"},
        "access_key_id": "AK",
        "secret_access_key": "SK",
        "amz_date": "20240101T000000Z",
        "expires_in": 60,
    }
    arguments.update(overrides)
    return presign_query(**arguments).query  # type: ignore[arg-type]


def test_presign_query_layout() -> None:
    query = _presign(query="x-id=GetObject", session_token="tok/+=")
    names = [part.partition("=")[0] for part in query.split("&")]
    assert names == [
        "x-id",
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Security-Token",
        "X-Amz-Signature",
    ]
    assert "X-Amz-Credential=AK%2F20240101%2Fauto%2Fs3%2Faws4_request" in query
    assert "X-Amz-Security-Token=tok%2F%2B%3D" in query


def test_presign_query_signs_extra_headers_and_expiry() -> None:
    query = _presign(headers={"host": "h.example", "If-Match": '"e"'})
    assert "&X-Amz-SignedHeaders=host%3Bif-match&" in query
    assert query != _presign(headers={"host": "h.example", "If-Match": '"f"'})
    assert _presign(expires_in=61) != _presign(expires_in=60)
    with pytest.raises(ValueError, match="604800"):
        _presign(expires_in=604801)


def test_sign_headers_exposes_its_intermediates() -> None:
    signed = sign_headers(
        method="PUT",
        path="/b/k",
        query="a=1",
        headers=[("host", "h"), ("x-amz-date", "20240101T000000Z")],
        payload_hash=UNSIGNED_PAYLOAD,
        access_key_id="AK",
        secret_access_key="SK",
        amz_date="20240101T000000Z",
    )
    assert signed.canonical_request == (
        "PUT\n/b/k\na=1\nhost:h\nx-amz-date:20240101T000000Z\n\nhost;x-amz-date\nUNSIGNED-PAYLOAD"
    )
    digest = hashlib.sha256(signed.canonical_request.encode()).hexdigest()
    assert signed.string_to_sign == (
        f"AWS4-HMAC-SHA256\n20240101T000000Z\n20240101/auto/s3/aws4_request\n{digest}"
    )
    key = signing_key("SK", "20240101", "auto", "s3")
    expected = hmac.new(key, signed.string_to_sign.encode(), hashlib.sha256).hexdigest()
    assert signed.signature == expected
    assert signed.authorization == (
        "AWS4-HMAC-SHA256 Credential=AK/20240101/auto/s3/aws4_request, "
        f"SignedHeaders=host;x-amz-date, Signature={expected}"
    )


def test_sigv4_module_imports_only_the_standard_library() -> None:
    tree = ast.parse(SIGV4_SOURCE.read_text("utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports: _sigv4 stands alone"
            imported.add((node.module or "").split(".")[0])
    assert imported
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_sigv4_module_loads_without_httpx() -> None:
    # Load the file on its own, outside the package, and check nothing pulled httpx in.
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('sigv4_alone', {str(SIGV4_SOURCE)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "assert module.encode_key('a b') == 'a%20b'\n"
        "print(sorted(m for m in ('httpx', 'botocore', 'r2async') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


# -- Credentials ------------------------------------------------------------------------


def test_credentials_repr_hides_secrets() -> None:
    credentials = Credentials("AKID", "very-secret-value", "session-token-value")
    for text in (repr(credentials), str(credentials), f"{credentials}", f"{credentials!r}"):
        assert "very-secret-value" not in text
        assert "session-token-value" not in text
        assert "AKID" in text
        assert "***" in text
    assert "session_token=None" in repr(Credentials("AKID", "very-secret-value"))


def test_credentials_fields_and_immutability() -> None:
    credentials = Credentials("AKID", "secret")
    assert (credentials.access_key_id, credentials.secret_access_key) == ("AKID", "secret")
    assert credentials.session_token is None
    with pytest.raises(AttributeError):
        credentials.access_key_id = "other"  # type: ignore[misc]
    assert credentials == Credentials("AKID", "secret")


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ((1, "Secret-Value-123"), TypeError, "access_key_id must be a str"),
        (("", "Secret-Value-123"), ValueError, "access_key_id is empty"),
        ((" AK", "Secret-Value-123"), ValueError, "strip it"),
        (("A/K", "Secret-Value-123"), ValueError, "access key id"),
        (("AK", None), TypeError, "secret_access_key must be a str"),
        (("AK", ""), ValueError, "secret_access_key is empty"),
        (("AK", "Secret-Value-123\n"), ValueError, "strip it"),
        (("AK", "Sé-Secret-Value"), ValueError, "printable ASCII"),
        (("AK", "Secret-Value-123", ""), ValueError, "session_token is empty"),
        (("AK", "Secret-Value-123", "tok\r\nX-Injected: 1"), ValueError, "printable ASCII"),
        (("AK", "Secret-Value-123", 5), TypeError, "session_token must be a str"),
    ],
)
def test_credentials_validation(
    arguments: tuple[object, ...], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as info:
        Credentials(*arguments)  # type: ignore[arg-type]
    # Whatever was passed, the secret and the token never reach the message.
    for secret in arguments[1:]:
        if isinstance(secret, str) and secret.strip():
            assert secret.strip() not in str(info.value)
