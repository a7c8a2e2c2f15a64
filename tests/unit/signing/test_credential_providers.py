"""Credentials from a provider: refreshed ahead of expiry, one refresh at a time, typed failures."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

import httpx
import pytest
import respx
from tests.support.r2_answers import object_headers
from tests.support.sigcheck import assert_signature_valid

from r2async import Credentials, CredentialsError, R2Client
from r2async._signing import providers

BASE = "https://acct.r2.cloudflarestorage.com"
NOW = 1_800_000_000.0


def _creds(n: int, *, ttl: float | None = 3600.0, now: float = NOW) -> Credentials:
    expires = None if ttl is None else dt.datetime.fromtimestamp(now + ttl, dt.timezone.utc)
    return Credentials(f"AKID{n}", f"SECRET-{n}-xyz", f"TOKEN-{n}-abc", expires_at=expires)


class Clock:
    """time.time for the providers module, moved by the test."""

    def __init__(self) -> None:
        self.now = NOW

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(providers, "time", c)
    return c


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    from r2async import _retry

    sleeps: list[float] = []

    async def fake_sleep(delay: float) -> None:
        sleeps.append(delay)

    monkeypatch.setattr(_retry, "sleep", fake_sleep)
    return sleeps


def _akid(request: httpx.Request) -> str:
    return request.headers["authorization"].split("Credential=")[1].split("/")[0]


async def test_static_credentials_argument_signs_with_them() -> None:
    creds = Credentials("AKIDSTATIC", "SECRETSTATIC", "TOKSTATIC")
    async with R2Client(account_id="acct", credentials=creds) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get("/bkt/k").respond(200, headers=object_headers(b"x"), content=b"x")
            await r2.get_object("bkt", "k")
    request = route.calls.last.request
    assert request.headers["x-amz-security-token"] == "TOKSTATIC"
    assert_signature_valid(
        request,
        access_key_id="AKIDSTATIC",
        secret_access_key="SECRETSTATIC",
        session_token="TOKSTATIC",
    )


async def test_one_refresh_serves_many_concurrent_requests(clock: Clock) -> None:
    calls = 0

    async def provider() -> Credentials:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)  # long enough for every request to queue behind it
        return _creds(calls)

    async with R2Client(account_id="acct", credentials=provider) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r"/bkt/k\d+").respond(
                200, headers=object_headers(b"x"), content=b"x"
            )
            await asyncio.gather(*(r2.get_object("bkt", f"k{i}") for i in range(50)))
    assert calls == 1
    assert route.call_count == 50
    assert {_akid(c.request) for c in route.calls} == {"AKID1"}
    assert_signature_valid(
        route.calls.last.request,
        access_key_id="AKID1",
        secret_access_key="SECRET-1-xyz",
        session_token="TOKEN-1-abc",
    )


async def test_credentials_are_refreshed_ahead_of_expiry(clock: Clock) -> None:
    issued: list[Credentials] = []

    def provider() -> Credentials:  # a sync provider: run in a worker thread
        issued.append(_creds(len(issued) + 1, ttl=3600, now=clock.now))
        return issued[-1]

    async with R2Client(account_id="acct", credentials=provider) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get("/bkt/k").respond(200, headers=object_headers(b"x"), content=b"x")
            await r2.get_object("bkt", "k")
            clock.now += 3600 - providers.DEFAULT_MARGIN - 1  # still outside the margin
            await r2.get_object("bkt", "k")
            clock.now += 2  # inside the margin, not expired: refreshed before sending
            await r2.get_object("bkt", "k")
    assert [_akid(c.request) for c in route.calls] == ["AKID1", "AKID1", "AKID2"]
    assert len(issued) == 2


async def test_a_failed_refresh_inside_the_margin_keeps_the_current_credentials(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    results: list[Any] = [_creds(1), RuntimeError("provider down SECRET-2-xyz")]

    def provider() -> Credentials:
        result = results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result

    async with R2Client(account_id="acct", credentials=provider) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get("/bkt/k").respond(200, headers=object_headers(b"x"), content=b"x")
            await r2.get_object("bkt", "k")
            clock.now += 3600 - 60  # a minute left: refresh is due, but optional
            with caplog.at_level(logging.WARNING, logger="r2async"):
                await r2.get_object("bkt", "k")
    assert [_akid(c.request) for c in route.calls] == ["AKID1", "AKID1"]
    assert "RuntimeError" in caplog.text and "SECRET" not in caplog.text


async def test_expired_credentials_and_a_failing_provider_send_nothing(
    clock: Clock, no_sleep: list[float]
) -> None:
    calls = 0

    async def provider() -> Credentials:
        nonlocal calls
        calls += 1
        if calls == 1:
            return _creds(1)
        raise ConnectionError("metadata service unreachable")

    async with R2Client(account_id="acct", credentials=provider, max_retries=2) as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.get("/bkt/k").respond(200, headers=object_headers(b"x"), content=b"x")
            await r2.get_object("bkt", "k")
            clock.now += 3600 + 1  # expired
            with pytest.raises(CredentialsError) as info:
                await r2.get_object("bkt", "k")
    assert route.call_count == 1  # nothing sent with stale credentials
    assert calls == 1 + 3  # retried like a connection failure, bounded by max_retries
    assert len(no_sleep) == 2
    assert info.value.provider.endswith("provider")
    assert isinstance(info.value.__cause__, ConnectionError)


async def test_a_provider_returning_the_wrong_type_is_not_retried(no_sleep: list[float]) -> None:
    async def provider() -> Any:
        return {"access_key_id": "AKID", "secret_access_key": "S"}

    async with R2Client(account_id="acct", credentials=provider) as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.get("/bkt/k").respond(200, headers=object_headers())
            with pytest.raises(CredentialsError, match=r"returned dict, not r2async\.Credentials"):
                await r2.get_object("bkt", "k")
    assert route.call_count == 0 and no_sleep == []


async def test_a_hanging_provider_times_out_with_a_typed_error(no_sleep: list[float]) -> None:
    async def provider() -> Credentials:
        await asyncio.sleep(60)
        raise AssertionError("unreachable")

    async with R2Client(account_id="acct", credentials=provider, max_retries=0) as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.get("/bkt/k").respond(200, headers=object_headers())
            with pytest.raises(CredentialsError, match=r"did not answer within 0.2 s"):
                await r2.get_object("bkt", "k", timeout=0.2)
    assert route.call_count == 0


async def test_already_expired_credentials_from_a_provider_are_refused(clock: Clock) -> None:
    def provider() -> Credentials:
        return _creds(1, ttl=-5)

    async with R2Client(account_id="acct", credentials=provider, max_retries=0) as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.get("/bkt/k").respond(200, headers=object_headers())
            with pytest.raises(CredentialsError, match="already"):
                await r2.get_object("bkt", "k")
    assert route.call_count == 0


async def test_presigning_uses_the_providers_credentials_and_respects_their_expiry(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from r2async._client import presign

    monkeypatch.setattr(
        presign, "_utcnow", lambda: dt.datetime.fromtimestamp(clock.now, dt.timezone.utc)
    )

    async def provider() -> Credentials:
        return _creds(7, ttl=900, now=clock.now)

    async with R2Client(account_id="acct", credentials=provider) as r2:
        with pytest.raises(CredentialsError, match="refresh_credentials"):
            r2.presign_get_object("bkt", "k")
        await r2.refresh_credentials()
        presigned = r2.presign_get_object("bkt", "k", expires_in=600)
        assert "AKID7" in presigned.url and "X-Amz-Security-Token=TOKEN-7-abc" in presigned.url
        with pytest.raises(ValueError, match="outlives the temporary credentials"):
            r2.presign_get_object("bkt", "k", expires_in=3600)

    def sync_provider() -> Credentials:
        return _creds(8, now=clock.now)

    async with R2Client(account_id="acct", credentials=sync_provider) as r2:
        assert "AKID8" in r2.presign_get_object("bkt", "k").url


def test_bad_credentials_arguments_fail_before_any_request() -> None:
    with pytest.raises(TypeError, match=r"credentials must be r2async\.Credentials or a callable"):
        R2Client(account_id="acct", credentials="AKID:SECRET")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="either credentials= or access_key_id="):
        R2Client(
            account_id="acct",
            credentials=Credentials("A", "S"),
            access_key_id="A",
            secret_access_key="S",
        )
    with pytest.raises(ValueError, match="timezone-aware"):
        Credentials("A", "S", expires_at=dt.datetime(2030, 1, 1))


async def test_no_secret_in_reprs_messages_or_logs(
    clock: Clock, caplog: pytest.LogCaptureFixture, no_sleep: list[float]
) -> None:
    creds = _creds(3)

    async def provider() -> Credentials:
        return creds

    r2 = R2Client(account_id="acct", credentials=provider, max_retries=0)
    shown = [repr(r2), repr(creds), str(creds), repr(r2._shared.refresher)]
    async with r2:
        with respx.mock(base_url=BASE) as mock, caplog.at_level(logging.DEBUG):
            mock.get("/bkt/k").respond(403, content=b"<Error><Code>AccessDenied</Code></Error>")
            with pytest.raises(Exception) as info:
                await r2.get_object("bkt", "k")
    shown += [str(info.value), repr(info.value), caplog.text]
    for text in shown:
        assert "SECRET-3-xyz" not in text and "TOKEN-3-abc" not in text
    assert "expires_at=" in repr(creds)
