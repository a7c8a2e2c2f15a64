"""SigV4Auth on real httpx requests, build_url on the wire, and presign_url's contract."""

from __future__ import annotations

import datetime as dt
import hashlib
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from r2async._signing import auth as _auth
from r2async._signing.auth import SigV4Auth, build_url, presign_url
from r2async._signing.credentials import Credentials
from r2async._signing.sigv4 import EMPTY_SHA256, UNSIGNED_HEADERS, UNSIGNED_PAYLOAD, encode_key

CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
WITH_TOKEN = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "tok/en+=")
MOMENT = dt.datetime(2024, 5, 1, 12, 30, 45, tzinfo=dt.timezone.utc)
ENDPOINT = httpx.URL("https://acct.r2.cloudflarestorage.com")
TRAP_KEYS = [
    "a/../b",
    "../up",
    "./here/.",
    "100%",
    "%41",
    "a b+c",
    "\u00e9",  # NFC
    "e\u0301",  # NFD
    "//double",
    "trail/",
    "~tilde",
    "q?x=1#frag",
]


def fixed_auth(credentials: Credentials = CREDENTIALS, **kwargs: object) -> SigV4Auth:
    return SigV4Auth(credentials, clock=lambda: MOMENT, **kwargs)  # type: ignore[arg-type]


def signed_names(request: httpx.Request) -> list[str]:
    authorization = request.headers["authorization"]
    part = next(p for p in authorization.split(", ") if p.startswith("SignedHeaders="))
    return part.split("=", 1)[1].split(";")


def botocore_signature(
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: bytes,
    credentials: Credentials,
    amz_date: str,
    region: str = "auto",
) -> str:
    """botocore's S3 signature over exactly the given headers, URL and body."""
    aws = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        aws.headers[name] = value
    aws.context["timestamp"] = amz_date
    boto = BotoCredentials(
        credentials.access_key_id, credentials.secret_access_key, credentials.session_token
    )
    signer = S3SigV4Auth(boto, "s3", region)
    canonical = signer.canonical_request(aws)
    return str(signer.signature(signer.string_to_sign(aws, canonical), aws))


def assert_botocore_agrees(request: httpx.Request, credentials: Credentials = CREDENTIALS) -> None:
    names = signed_names(request)
    headers = [(k, v) for k, v in request.headers.multi_items() if k in names]
    body = request.content if request.headers["x-amz-content-sha256"] != UNSIGNED_PAYLOAD else b""
    expected = botocore_signature(
        request.method, str(request.url), headers, body, credentials, request.headers["x-amz-date"]
    )
    assert request.headers["authorization"].endswith(f"Signature={expected}")


# -- what sign() stamps ------------------------------------------------------------------


def test_sign_stamps_headers_for_an_in_memory_body() -> None:
    body = b"hello world"
    request = httpx.Request(
        "PUT",
        build_url(ENDPOINT, "/bucket/key"),
        content=body,
        headers={"Content-Type": "text/plain", "X-Amz-Meta-Owner": "alice", "cf-x": "1"},
    )
    fixed_auth().sign(request)
    assert request.headers["x-amz-date"] == "20240501T123045Z"
    assert request.headers["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest()
    assert "x-amz-security-token" not in request.headers
    assert request.headers["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/auto/s3/aws4_request, SignedHeaders="
    )
    assert signed_names(request) == [
        "cf-x",
        "content-length",
        "content-type",
        "host",
        "x-amz-content-sha256",
        "x-amz-date",
        "x-amz-meta-owner",
    ]
    assert_botocore_agrees(request)


def test_sign_empty_body_uses_the_empty_hash() -> None:
    request = httpx.Request("GET", build_url(ENDPOINT, "/bucket/key"))
    fixed_auth().sign(request)
    assert request.headers["x-amz-content-sha256"] == EMPTY_SHA256
    assert_botocore_agrees(request)


def test_sign_streaming_body_is_unsigned_payload() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"x"

    def sync_chunks() -> Iterator[bytes]:
        yield b"x"

    for content in (chunks(), sync_chunks()):
        request = httpx.Request("PUT", build_url(ENDPOINT, "/b/k"), content=content)
        fixed_auth().sign(request)
        assert request.headers["x-amz-content-sha256"] == UNSIGNED_PAYLOAD
        assert "x-amz-content-sha256" in signed_names(request)
        # Nothing was consumed: the stream is still there to send.
        assert not isinstance(request.stream, httpx.ByteStream)


@pytest.mark.parametrize("given", [UNSIGNED_PAYLOAD, hashlib.sha256(b"other").hexdigest()])
def test_sign_keeps_a_given_payload_hash(given: str) -> None:
    request = httpx.Request(
        "PUT",
        build_url(ENDPOINT, "/b/k"),
        content=b"body",
        headers={"X-Amz-Content-SHA256": given},
    )
    fixed_auth().sign(request)
    assert request.headers.get_list("x-amz-content-sha256") == [given]
    assert request.headers["authorization"] != ""
    # The given value is what the canonical request ends with.
    aws = AWSRequest(method="PUT", url=str(request.url), data=b"body")
    for name in signed_names(request):
        aws.headers[name] = request.headers[name]
    aws.context["timestamp"] = "20240501T123045Z"
    signer = S3SigV4Auth(
        BotoCredentials("AKIDEXAMPLE", CREDENTIALS.secret_access_key), "s3", "auto"
    )
    assert signer.canonical_request(aws).endswith("\n" + given)
    assert request.headers["authorization"].endswith(
        "Signature="
        + signer.signature(signer.string_to_sign(aws, signer.canonical_request(aws)), aws)
    )


def test_sign_with_session_token() -> None:
    request = httpx.Request(
        "GET", build_url(ENDPOINT, "/b/k"), headers={"x-amz-security-token": "old"}
    )
    fixed_auth(WITH_TOKEN).sign(request)
    assert request.headers.get_list("x-amz-security-token") == ["tok/en+="]
    assert "x-amz-security-token" in signed_names(request)
    assert_botocore_agrees(request, WITH_TOKEN)


def test_a_token_header_without_token_credentials_is_signed_as_sent() -> None:
    request = httpx.Request(
        "GET", build_url(ENDPOINT, "/b/k"), headers={"x-amz-security-token": "t"}
    )
    fixed_auth().sign(request)
    assert request.headers["x-amz-security-token"] == "t"
    assert "x-amz-security-token" in signed_names(request)


def test_headers_that_change_in_flight_are_not_signed() -> None:
    in_flight = {
        "User-Agent": "ua",
        "Accept": "*/*",
        "Accept-Encoding": "gzip",
        "Connection": "keep-alive",
        "Expect": "100-continue",
        "Keep-Alive": "timeout=5",
        "TE": "trailers",
        "Upgrade": "h2c",
        "Proxy-Authorization": "Basic x",
        "X-Amzn-Trace-Id": "Root=1",
        "traceparent": "00-1-2-01",
        "Max-Forwards": "3",
    }
    request = httpx.Request("GET", build_url(ENDPOINT, "/b/k"), headers=in_flight)
    fixed_auth().sign(request)
    assert signed_names(request) == ["host", "x-amz-content-sha256", "x-amz-date"]
    assert {name.lower() for name in in_flight} <= UNSIGNED_HEADERS
    # They are still sent, untouched.
    for name, value in in_flight.items():
        assert request.headers[name] == value


def test_transfer_encoding_of_a_stream_is_not_signed() -> None:
    def chunks() -> Iterator[bytes]:
        yield b"x"

    request = httpx.Request("PUT", build_url(ENDPOINT, "/b/k"), content=chunks())
    assert request.headers["transfer-encoding"] == "chunked"
    fixed_auth().sign(request)
    assert "transfer-encoding" not in signed_names(request)


def test_repeated_headers_are_joined_in_order() -> None:
    request = httpx.Request(
        "GET",
        build_url(ENDPOINT, "/b/k"),
        headers=[("X-Amz-Meta-A", "b  c"), ("x-amz-meta-a", " a "), ("X-AMZ-META-A", "z")],
    )
    fixed_auth().sign(request)
    assert signed_names(request).count("x-amz-meta-a") == 1
    assert_botocore_agrees(request)


def test_resigning_replaces_the_signature_headers() -> None:
    # A retry signs the same request again, later: fresh date, one of each header.
    moments = iter([MOMENT, MOMENT + dt.timedelta(days=1, seconds=5)])
    auth = SigV4Auth(WITH_TOKEN, clock=lambda: next(moments))
    request = httpx.Request("PUT", build_url(ENDPOINT, "/b/k"), content=b"x")
    auth.sign(request)
    first = request.headers["authorization"]
    count = len(request.headers.raw)
    auth.sign(request)
    assert len(request.headers.raw) == count
    for name in ("authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"):
        assert len(request.headers.get_list(name)) == 1, name
    assert request.headers["x-amz-date"] == "20240502T123050Z"
    assert "/20240502/auto/s3/aws4_request" in request.headers["authorization"]
    assert request.headers["authorization"] != first
    assert_botocore_agrees(request, WITH_TOKEN)


def test_request_without_host_signs_the_url_host() -> None:
    auth = fixed_auth()
    for host in ("one.example", "two.example:8443"):
        request = httpx.Request("GET", build_url(httpx.URL(f"https://{host}"), "/b/k"))
        del request.headers["host"]
        auth.sign(request)
        assert "host" in signed_names(request)
        aws_headers = [
            ("host", host),
            *((k, v) for k, v in request.headers.multi_items() if k.startswith("x-amz")),
        ]
        expected = botocore_signature(
            "GET", str(request.url), aws_headers, b"", CREDENTIALS, "20240501T123045Z"
        )
        assert request.headers["authorization"].endswith(f"Signature={expected}")


def test_non_utf8_header_value_is_refused() -> None:
    request = httpx.Request(
        "GET",
        build_url(ENDPOINT, "/b/k"),
        headers={"x-amz-meta-a": b"\xff\xfe"},  # type: ignore[arg-type]
    )
    with pytest.raises(ValueError, match="x-amz-meta-a"):
        fixed_auth().sign(request)


def test_header_caches_stay_bounded() -> None:
    auth = fixed_auth()
    for i in range(1500):
        request = httpx.Request(
            "GET", build_url(ENDPOINT, "/b/k"), headers={"x-amz-meta-n": str(i)}
        )
        auth.sign(request)
    assert 0 < len(auth._header_cache) <= 512
    assert 0 < len(auth._template_cache) <= 512
    assert_botocore_agrees(request)


def test_default_clock_is_current_utc_time() -> None:
    auth = SigV4Auth(CREDENTIALS)
    request = httpx.Request("GET", build_url(ENDPOINT, "/b/k"))
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    auth.sign(request)
    after = dt.datetime.now(dt.timezone.utc)
    stamped = dt.datetime.strptime(request.headers["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(
        tzinfo=dt.timezone.utc
    )
    assert before <= stamped <= after
    assert_botocore_agrees(request)


def test_fast_header_path_is_active_on_this_httpx() -> None:
    # Not a correctness requirement (the fallback is tested below), but losing it costs a
    # third of the signing time: notice when an httpx upgrade turns it off.
    assert _auth._headers_list_usable() is True
    assert _auth._FAST_HEADERS is True


def _requests_for_both_paths() -> list[httpx.Request]:
    url = build_url(ENDPOINT, "/b/a%20b", "uploads&x=1")
    return [
        httpx.Request(
            "PUT", url, content=b"data", headers={"Content-Type": "a/b", "x-amz-meta-q": " v  w "}
        ),
        httpx.Request("GET", url, headers=[("x-a", "1"), ("X-A", "2"), ("user-agent", "u")]),
        httpx.Request(
            "PUT", url, content=b"data", headers={"x-amz-content-sha256": UNSIGNED_PAYLOAD}
        ),
        httpx.Request(
            "GET", url, headers={"x-amz-security-token": "stale", "authorization": "stale"}
        ),
    ]


@pytest.mark.parametrize("credentials", [CREDENTIALS, WITH_TOKEN])
def test_public_api_fallback_signs_identically(credentials: Credentials) -> None:
    fast = fixed_auth(credentials)
    slow = fixed_auth(credentials)
    for fast_request, slow_request in zip(
        _requests_for_both_paths(), _requests_for_both_paths(), strict=True
    ):
        for _ in range(2):  # the second round re-signs (a retry) and hits the caches
            fast.sign(fast_request)
            with mock.patch.object(_auth, "_FAST_HEADERS", False):
                slow.sign(slow_request)
            # Same headers, same values; only the order of re-set ones may differ.
            assert sorted(fast_request.headers.raw) == sorted(slow_request.headers.raw)
        assert_botocore_agrees(fast_request, credentials)


def test_sync_client_sends_the_signed_request() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    transport = httpx.MockTransport(handler)
    with httpx.Client(transport=transport, auth=fixed_auth()) as client:
        client.put(build_url(ENDPOINT, "/b/" + encode_key("a/../b")), content=b"abc")
    (request,) = seen
    assert request.url.raw_path == b"/b/a/../b"
    assert_botocore_agrees(request)


async def test_async_client_sends_the_signed_request() -> None:
    seen: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    transport = httpx.MockTransport(handler)
    async with httpx.AsyncClient(transport=transport, auth=fixed_auth(WITH_TOKEN)) as client:
        await client.get(build_url(ENDPOINT, "/b/" + encode_key("100%")), params=None)
    (request,) = seen
    assert request.url.raw_path == b"/b/100%25"
    assert_botocore_agrees(request, WITH_TOKEN)


def test_sigv4auth_validation_and_repr() -> None:
    with pytest.raises(TypeError, match="Credentials"):
        SigV4Auth(("AK", "SK"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="region"):
        SigV4Auth(CREDENTIALS, region="")
    with pytest.raises(ValueError, match="region"):
        SigV4Auth(CREDENTIALS, region="us/east")
    with pytest.raises(ValueError, match="service"):
        SigV4Auth(CREDENTIALS, service="s 3")
    with pytest.raises(TypeError, match="service"):
        SigV4Auth(CREDENTIALS, service=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="clock"):
        SigV4Auth(CREDENTIALS, clock=MOMENT)  # type: ignore[arg-type]
    auth = SigV4Auth(WITH_TOKEN, region="eu-west-1")
    assert (auth.region, auth.service, auth.credentials) == ("eu-west-1", "s3", WITH_TOKEN)
    assert CREDENTIALS.secret_access_key not in repr(auth)
    assert "tok/en+=" not in repr(auth)
    assert "AKIDEXAMPLE" in repr(auth)


# -- build_url and the wire --------------------------------------------------------------


class WireServer:
    """A loopback HTTP/1.1 server that records each request's target and headers."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.port = self._socket.getsockname()[1]
        self.requests: list[tuple[bytes, dict[str, str]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data and len(data) < 65536:
                    chunk = connection.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                head = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
                target = head[0].split(b" ")[1]
                headers = {}
                for line in head[1:]:
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                self.requests.append((target, headers))
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()


@pytest.fixture
def wire_server() -> Iterator[WireServer]:
    server = WireServer()
    try:
        yield server
    finally:
        server.close()


def _check_wire(server: WireServer, expected_targets: list[bytes]) -> None:
    assert [target for target, _ in server.requests] == expected_targets
    for target, headers in server.requests:
        names = (
            next(p for p in headers["authorization"].split(", ") if p.startswith("SignedHeaders="))
            .split("=", 1)[1]
            .split(";")
        )
        signed = [(name, headers[name]) for name in names]
        expected = botocore_signature(
            "GET",
            f"http://127.0.0.1:{server.port}{target.decode()}",
            signed,
            b"",
            CREDENTIALS,
            headers["x-amz-date"],
        )
        assert headers["authorization"].endswith(f"Signature={expected}"), target


def test_trap_keys_reach_the_socket_as_encoded_sync(wire_server: WireServer) -> None:
    endpoint = httpx.URL(f"http://127.0.0.1:{wire_server.port}")
    expected = []
    with httpx.Client(auth=fixed_auth(), timeout=10) as client:
        for key in TRAP_KEYS:
            raw_path = "/bucket/" + encode_key(key)
            url = build_url(endpoint, raw_path, "x-id=GetObject")
            assert url.raw_path == f"{raw_path}?x-id=GetObject".encode()
            assert client.get(url).status_code == 200
            expected.append(url.raw_path)
    assert b"/bucket/a/../b?x-id=GetObject" in expected
    _check_wire(wire_server, expected)


async def test_trap_keys_reach_the_socket_as_encoded_async(wire_server: WireServer) -> None:
    endpoint = httpx.URL(f"http://127.0.0.1:{wire_server.port}")
    expected = []
    async with httpx.AsyncClient(auth=fixed_auth(), timeout=10) as client:
        for key in TRAP_KEYS:
            url = build_url(endpoint, "/bucket/" + encode_key(key))
            request = client.build_request("GET", url)
            assert request.url.raw_path == url.raw_path  # build_request keeps it
            assert (await client.send(request)).status_code == 200
            expected.append(url.raw_path)
    _check_wire(wire_server, expected)


def test_plain_httpx_would_lose_dot_segments() -> None:
    # Why build_url exists: the obvious ways drop "..", addressing another object.
    assert httpx.URL("https://h/bucket/a/../b").raw_path == b"/bucket/b"
    assert ENDPOINT.copy_with(raw_path=b"/bucket/a/../b").raw_path == b"/bucket/b"
    assert build_url(ENDPOINT, "/bucket/a/../b").raw_path == b"/bucket/a/../b"


def test_build_url_parts() -> None:
    url = build_url("https://Acct.Example.com:8443/prefix/?q=1#f", "/b/k", "a=1")
    assert url.raw_path == b"/prefix/b/k?a=1"
    assert (url.scheme, url.host, url.port, url.fragment) == ("https", "acct.example.com", 8443, "")
    assert build_url(ENDPOINT, "/").raw_path == b"/"
    assert build_url(ENDPOINT, "/b", "").raw_path == b"/b"
    assert str(build_url(ENDPOINT, "/b/./c/..")) == "https://acct.r2.cloudflarestorage.com/b/./c/.."
    # A request built on it keeps it too.
    assert httpx.Request("GET", build_url(ENDPOINT, "/b/..")).url.raw_path == b"/b/.."


@pytest.mark.parametrize(
    ("raw_path", "query", "error"),
    [
        ("b/k", "", ValueError),  # no leading "/"
        ("/b/a b", "", ValueError),
        ("/b/é", "", ValueError),
        ("/b/k?x", "", ValueError),
        ("/b/k#f", "", ValueError),
        ("/b/100%", "", ValueError),
        ("/b/k", "a=b c", ValueError),
        ("/b/k", "a=#", ValueError),
        (b"/b/k", "", TypeError),
    ],
)
def test_build_url_rejects_unencoded_input(
    raw_path: object, query: str, error: type[Exception]
) -> None:
    with pytest.raises(error, match="encode"):
        build_url(ENDPOINT, raw_path, query)  # type: ignore[arg-type]


def test_fast_url_path_is_active_and_agrees_with_httpx_parsing() -> None:
    assert _auth._url_reference_usable() is True
    assert _auth._FAST_URL is True
    cases = [
        ("https://acct.r2.cloudflarestorage.com", "/b/k", ""),
        ("http://127.0.0.1:8333/", "/b/a%20b/c~d", "uploadId=x%2Fy&partNumber=1"),
        ("https://h.example/prefix", "/b/k", "uploads"),
        ("https://h.example:443", "/b/k!$&'()*+,;=:@", "a=?/:@!$'()*+,;"),
    ]
    for endpoint, raw_path, query in cases:
        fast = build_url(endpoint, raw_path, query)
        with mock.patch.object(_auth, "_FAST_URL", False):
            slow = build_url(endpoint, raw_path, query)
        assert (str(fast), fast.raw_path, fast.netloc) == (str(slow), slow.raw_path, slow.netloc)
    # Without the fast path, a path httpx would rewrite is refused, never sent changed.
    with mock.patch.object(_auth, "_FAST_URL", False), pytest.raises(RuntimeError, match="httpx"):
        build_url(ENDPOINT, "/b/a/../c")


def test_build_url_rejects_a_bad_endpoint() -> None:
    with pytest.raises(TypeError, match="endpoint"):
        build_url(42, "/b")  # type: ignore[arg-type]


# -- presign_url -------------------------------------------------------------------------


def _presign(**overrides: object) -> str:
    arguments: dict[str, object] = {
        "method": "GET",
        "url": build_url(ENDPOINT, "/b/" + encode_key("a/../b c")),
        "credentials": CREDENTIALS,
        "expires_in": 3600,
        "now": MOMENT,
    }
    arguments.update(overrides)
    return presign_url(**arguments)  # type: ignore[arg-type]


def test_presign_url_shape() -> None:
    url = _presign(
        url=build_url(ENDPOINT, "/b/k", "partNumber=1&uploadId=u%2F1"),
        credentials=WITH_TOKEN,
        headers={"If-Match": '"etag"', "x-amz-meta-a": "v"},
        method="put",
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "acct.r2.cloudflarestorage.com",
        "/b/k",
    )
    assert parts.query.startswith("partNumber=1&uploadId=u%2F1&X-Amz-Algorithm=AWS4-HMAC-SHA256&")
    query = dict(parse_qsl(parts.query))
    assert query["X-Amz-Credential"] == "AKIDEXAMPLE/20240501/auto/s3/aws4_request"
    assert query["X-Amz-Date"] == "20240501T123045Z"
    assert query["X-Amz-Expires"] == "3600"
    assert query["X-Amz-SignedHeaders"] == "host;if-match;x-amz-meta-a"
    assert query["X-Amz-Security-Token"] == "tok/en+="
    assert len(query["X-Amz-Signature"]) == 64
    assert parts.query.endswith("&X-Amz-Signature=" + query["X-Amz-Signature"])


def test_presign_url_keeps_the_path_exactly() -> None:
    from_url = _presign()
    from_string = _presign(url="https://acct.r2.cloudflarestorage.com/b/a/../b%20c")
    assert from_url == from_string
    assert from_url.startswith("https://acct.r2.cloudflarestorage.com/b/a/../b%20c?X-Amz-")


def test_presign_url_encodes_a_raw_string_url_once() -> None:
    raw = _presign(url="https://acct.r2.cloudflarestorage.com/b/a b$?k=v w")
    assert raw.startswith("https://acct.r2.cloudflarestorage.com/b/a%20b%24?k=v%20w&X-Amz-")
    assert raw == _presign(url="https://acct.r2.cloudflarestorage.com/b/a%20b%24?k=v%20w")


def test_presign_url_default_time_is_now() -> None:
    url = _presign(now=None)
    stamped = dict(parse_qsl(urlsplit(url).query))["X-Amz-Date"]
    now = dt.datetime.now(dt.timezone.utc)
    moment = dt.datetime.strptime(stamped, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    assert abs((now - moment).total_seconds()) < 60


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"expires_in": 0}, ValueError, "expires_in"),
        ({"expires_in": 604801}, ValueError, "604800"),
        ({"expires_in": 60.0}, TypeError, "expires_in"),
        ({"method": ""}, ValueError, "method"),
        ({"method": "GET X"}, ValueError, "method"),
        ({"credentials": ("AK", "SK")}, TypeError, "Credentials"),
        ({"url": "ftp://h/b/k"}, ValueError, "http"),
        ({"url": "/b/k"}, ValueError, "absolute"),
        ({"url": "https://user:pw@h/b/k"}, ValueError, "user:password"),
        ({"url": "https://h/b/k#frag"}, ValueError, "fragment"),
        ({"url": 5}, TypeError, "url"),
        ({"url": "https://h/b/k?X-Amz-Signature=abc"}, ValueError, "already"),
        ({"url": "https://h/b/k?x-amz-credential=abc"}, ValueError, "already"),
        ({"headers": {"Host": "h"}}, ValueError, "set by the signer"),
        ({"headers": {"Authorization": "x"}}, ValueError, "set by the signer"),
        ({"headers": {"X-Amz-Date": "x"}}, ValueError, "set by the signer"),
        ({"headers": {"x-a": "1", "X-A": "2"}}, ValueError, "twice"),
        ({"headers": {"x-a": "line\r\nX-Evil: 1"}}, ValueError, "CR, LF"),
        ({"headers": {"x-a": "é"}}, ValueError, "ASCII"),
        ({"headers": {"bad name": "1"}}, ValueError, "token"),
        ({"headers": [("x-a", "1")]}, TypeError, "mapping"),
        ({"region": "a/b"}, ValueError, "region"),
        ({"now": "2024-01-01"}, TypeError, "now"),
    ],
)
def test_presign_url_rejects_bad_input(
    overrides: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as info:
        _presign(**overrides)
    assert CREDENTIALS.secret_access_key not in str(info.value)


def test_presign_url_signature_verifies_with_botocore() -> None:
    url = _presign(headers={"range": "bytes=0-9"}, credentials=WITH_TOKEN)
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    signature = dict(query)["X-Amz-Signature"]
    unsigned_query = "&".join(
        f"{k}={v}"
        for k, v in (p.split("=", 1) for p in parts.query.split("&"))
        if k != "X-Amz-Signature"
    )
    aws = AWSRequest(
        method="GET",
        url=f"{parts.scheme}://{parts.netloc}{parts.path}?{unsigned_query}",
        headers={"host": parts.netloc, "range": "bytes=0-9"},
    )
    aws.context["timestamp"] = "20240501T123045Z"
    signer = S3SigV4Auth(
        BotoCredentials("AKIDEXAMPLE", CREDENTIALS.secret_access_key), "s3", "auto"
    )
    canonical = signer.canonical_request(aws)
    # botocore's header signer computes the query-auth canonical request when handed the
    # X-Amz-* query and only the signed headers, except for the payload line.
    canonical = canonical.rsplit("\n", 1)[0] + "\n" + UNSIGNED_PAYLOAD
    assert signer.signature(signer.string_to_sign(aws, canonical), aws) == signature


# -- development-only oracles stay out of the package --------------------------------------


def test_importing_r2async_does_not_import_the_test_oracles() -> None:
    code = (
        "import sys, r2async, r2async._signing.auth, r2async._signing.sigv4\n"
        "import r2async._signing.credentials\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('botocore', 'boto3', 'aws_requests_auth', 'requests')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
