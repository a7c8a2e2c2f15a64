"""The signer refuses bad arguments with the exact argument at fault and the fix."""

from __future__ import annotations

import re
from unittest import mock

import httpx
import pytest

from r2async._signing import auth as _auth
from r2async._signing.auth import SigV4Auth, build_url
from r2async._signing.credentials import Credentials

CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
ENDPOINT = "https://acct.r2.cloudflarestorage.com"


def _exactly(message: str) -> str:
    return "^" + re.escape(message) + "$"


def test_credentials_of_another_type_are_refused_with_how_to_build_them() -> None:
    with pytest.raises(
        TypeError,
        match=_exactly(
            "credentials must be r2async.Credentials, got tuple; build one with "
            "Credentials(access_key_id, secret_access_key)"
        ),
    ):
        SigV4Auth(("AK", "SK"))  # type: ignore[arg-type]


@pytest.mark.parametrize("argument", ["region", "service"])
def test_a_bad_scope_part_is_refused_by_its_own_name(argument: str) -> None:
    with pytest.raises(TypeError, match=_exactly(f"{argument} must be a str, got int")):
        SigV4Auth(CREDENTIALS, **{argument: 5})  # type: ignore[arg-type]
    with pytest.raises(
        ValueError,
        match=_exactly(
            f"{argument} must be a non-empty token without spaces or '/', got 'a/b'; "
            "R2 uses region 'auto' and service 's3'"
        ),
    ):
        SigV4Auth(CREDENTIALS, **{argument: "a/b"})


def test_a_clock_that_is_not_callable_is_refused() -> None:
    with pytest.raises(
        TypeError, match=_exactly("clock must be a callable returning a datetime, or None")
    ):
        SigV4Auth(CREDENTIALS, clock=5)  # type: ignore[arg-type]


def test_build_url_refuses_an_endpoint_of_another_type_naming_it() -> None:
    with pytest.raises(TypeError, match=_exactly("endpoint must be an httpx.URL or str, got int")):
        build_url(5, "/b/k")  # type: ignore[arg-type]


@pytest.mark.parametrize(("raw_path", "query"), [(b"/b/k", ""), ("/b/k", b"a=1")])
def test_build_url_refuses_bytes_pointing_to_encode_key(raw_path: object, query: object) -> None:
    with pytest.raises(
        TypeError, match=_exactly("raw_path and query must be str; encode keys with encode_key()")
    ):
        build_url(ENDPOINT, raw_path, query)  # type: ignore[arg-type]


@pytest.mark.parametrize("raw_path", ["b/k", "/b/a b", "/b/%zz", "/b/é"])
def test_build_url_refuses_a_path_not_encoded_pointing_to_encode_key(raw_path: str) -> None:
    with pytest.raises(
        ValueError,
        match=_exactly(
            "raw_path must start with '/' and hold only URL-safe characters and %XX escapes; "
            "encode object keys with encode_key()"
        ),
    ):
        build_url(ENDPOINT, raw_path)


@pytest.mark.parametrize("query", ["a=b c", "a=%zz", "a=é", "a=1#f"])
def test_build_url_refuses_a_query_not_encoded_pointing_to_uri_encode(query: str) -> None:
    with pytest.raises(
        ValueError,
        match=_exactly(
            "query must hold only URL-safe characters and %XX escapes; "
            "encode names and values with uri_encode()"
        ),
    ):
        build_url(ENDPOINT, "/b/k", query)


def test_build_url_keeps_the_endpoint_path_prefix_and_drops_its_query() -> None:
    url = build_url(httpx.URL("https://h.example/prefix/?x=1#f"), "/b/a/../k", "p=1")
    assert url.raw_path == b"/prefix/b/a/../k?p=1"
    assert url.fragment == ""


@pytest.mark.parametrize(
    ("endpoint", "raw_path"),
    [
        ("https://h.example/prefix", b"/prefix/b/k"),
        ("https://h.example/prefix/", b"/prefix/b/k"),
        ("https://h.example/BOX/", b"/BOX/b/k"),
        ("https://h.example", b"/b/k"),
    ],
)
@pytest.mark.parametrize("fast", [True, False])
def test_build_url_puts_the_endpoint_path_in_front(
    endpoint: str, raw_path: bytes, fast: bool
) -> None:
    with mock.patch.object(_auth, "_FAST_URL", fast):
        url = build_url(httpx.URL(endpoint + "#frag"), "/b/k")
    assert url.raw_path == raw_path
    assert url.fragment == ""


def test_without_the_fast_path_a_path_httpx_would_rewrite_is_refused_asking_for_a_report() -> None:
    with (
        mock.patch.object(_auth, "_FAST_URL", False),
        pytest.raises(
            RuntimeError,
            match=_exactly(
                "this httpx version rewrites URL paths in a way r2async cannot undo; "
                "please report it with your httpx version"
            ),
        ),
    ):
        build_url(ENDPOINT, "/b/a/../c")
