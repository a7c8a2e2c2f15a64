"""SigV4Auth's per-signer state: the clock (with its skew offset), and caches that stay bounded
and are actually reused; and the header values it refuses to sign."""

from __future__ import annotations

import time
from unittest import mock

import httpx
import pytest

from r2async._signing import auth as _auth
from r2async._signing.auth import SigV4Auth, build_url
from r2async._signing.credentials import Credentials

CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
ENDPOINT = httpx.URL("https://acct.r2.cloudflarestorage.com")
# 2024-05-01T12:30:45Z
NOW = 1714566645.0


def _request(**headers: str) -> httpx.Request:
    return httpx.Request("GET", build_url(ENDPOINT, "/b/k"), headers=headers)


def test_a_nul_in_a_header_value_is_refused_before_signing() -> None:
    request = _request(**{"x-amz-meta-a": "a\0b"})
    with pytest.raises(
        ValueError, match=r"^header 'x-amz-meta-a' has a NUL character in its value"
    ):
        SigV4Auth(CREDENTIALS).sign(request)
    assert "authorization" not in request.headers


def test_the_system_clock_is_read_as_utc_plus_the_skew_offset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    auth = SigV4Auth(CREDENTIALS)
    monkeypatch.setattr(_auth.time, "time", lambda: NOW)
    # A non-UTC local zone must not leak into x-amz-date.
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        stamps = []
        for _ in range(2):  # the second one comes from the per-second cache
            request = _request()
            auth.sign(request)
            stamps.append(request.headers["x-amz-date"])
        auth.clock_offset = 90.0  # the server's clock is 90 s ahead
        request = _request()
        auth.sign(request)
        stamps.append(request.headers["x-amz-date"])
    finally:
        monkeypatch.undo()
        time.tzset()
    assert stamps == ["20240501T123045Z", "20240501T123045Z", "20240501T123215Z"]


def test_a_header_seen_before_is_canonicalised_once() -> None:
    auth = SigV4Auth(CREDENTIALS)
    with mock.patch.object(_auth, "_header_entry", wraps=_auth._header_entry) as entry:
        for _ in range(3):
            auth.sign(_request(**{"x-amz-meta-a": "1"}))
    names = [call.args[0] for call in entry.call_args_list]
    assert names.count(b"x-amz-meta-a") == 1


def test_the_signing_key_is_derived_once_per_day(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [NOW]
    monkeypatch.setattr(_auth.time, "time", lambda: clock[0])
    auth = SigV4Auth(CREDENTIALS)
    with mock.patch.object(
        _auth, "prepared_signing_key", wraps=_auth.prepared_signing_key
    ) as derive:
        for _ in range(3):
            auth.sign(_request())
            clock[0] += 1.0
        assert derive.call_count == 1
        clock[0] += 86400.0  # the next day: a new key
        auth.sign(_request())
        assert derive.call_count == 2
    assert derive.call_args.args[1] == "20240502"


def test_the_header_and_template_caches_never_exceed_their_bound() -> None:
    auth = SigV4Auth(CREDENTIALS)
    bound = _auth._HEADER_CACHE_SIZE
    for i in range(bound + 50):
        auth.sign(_request(**{"x-amz-meta-n": str(i)}))
        assert len(auth._header_cache) <= bound
        assert len(auth._template_cache) <= bound


def test_a_request_shape_seen_before_reuses_its_canonical_template() -> None:
    auth = SigV4Auth(CREDENTIALS)
    with mock.patch.object(
        SigV4Auth, "_template", autospec=True, side_effect=SigV4Auth._template
    ) as template:
        for _ in range(3):
            auth.sign(_request(**{"x-amz-meta-a": "1"}))
    assert template.call_count == 1
