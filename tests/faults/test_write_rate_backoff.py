"""A write refused with 429/SlowDown waits out R2's same-key write rate (about one per second).

With 3 retries from a 0.25 s base and full jitter, the plain backoff waits 1.75 s at most and
about 0.9 s on average in total, so all three retries can land inside the one-second window
and fail again. Writes therefore wait at least a second (plus the jitter) after a 429/SlowDown,
unless the server's Retry-After says otherwise; reads keep the plain backoff.
"""

from __future__ import annotations

import httpx
import pytest
import respx
from tests.support.r2_answers import object_headers

from r2async import R2Client, RateLimitError, _retry

BASE = "https://acct.r2.cloudflarestorage.com"
SLOW_DOWN = b"<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>"


class FakeClock:
    """Records every wait instead of sleeping, and draws no randomness (jitter = its ceiling)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(_retry, "sleep", fake.sleep)
    # Full jitter drawn at its ceiling: the longest plain backoff, the worst case for the test.
    monkeypatch.setattr(_retry.random, "uniform", lambda lo, hi: hi)
    return fake


def _client() -> R2Client:
    return R2Client(account_id="acct", access_key_id="AKID", secret_access_key="SECRET")


@pytest.mark.parametrize(
    ("status", "code"), [(429, None), (503, "SlowDown"), (429, "TooManyRequests")]
)
async def test_a_rate_limited_write_waits_at_least_a_second_each_time(
    clock: FakeClock, status: int, code: str | None
) -> None:
    body = SLOW_DOWN.replace(b"SlowDown", code.encode()) if code else b""
    async with _client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.put("/bkt/k").mock(
                side_effect=[httpx.Response(status, content=body)] * 3
                + [httpx.Response(200, headers=object_headers())]
            )
            await r2.put_object("bkt", "k", b"v")
    assert len(clock.waits) == 3
    assert all(w >= _retry.WRITE_RATE_FLOOR for w in clock.waits)
    # Floor plus the jittered backoff (at its ceiling here): 1.25, 1.5, 2.0 s.
    assert clock.waits == [1.25, 1.5, 2.0]
    # The whole retry budget now outlasts several one-second windows.
    assert sum(clock.waits) > 3 * _retry.WRITE_RATE_FLOOR


async def test_retry_after_still_decides_for_a_rate_limited_write(clock: FakeClock) -> None:
    async with _client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.put("/bkt/k").mock(
                side_effect=[
                    httpx.Response(429, headers={"Retry-After": "0.2"}),
                    httpx.Response(200, headers=object_headers()),
                ]
            )
            await r2.put_object("bkt", "k", b"v")
    assert clock.waits == [0.2]


async def test_reads_and_server_faults_keep_the_plain_backoff(clock: FakeClock) -> None:
    async with _client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get("/bkt/k").mock(
                side_effect=[httpx.Response(429), httpx.Response(200, headers=object_headers())]
            )
            mock.put("/bkt/k").mock(
                side_effect=[httpx.Response(500), httpx.Response(200, headers=object_headers())]
            )
            await r2.get_object("bkt", "k")
            await r2.put_object("bkt", "k", b"v")
    assert clock.waits == [0.25, 0.25]


async def test_deletes_are_writes_too_and_the_error_is_typed_when_retries_run_out(
    clock: FakeClock,
) -> None:
    async with _client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.delete("/bkt/k").mock(return_value=httpx.Response(429))
            with pytest.raises(RateLimitError, match="gave up after 4 attempts"):
                await r2.delete_object("bkt", "k")
    assert clock.waits == [1.25, 1.5, 2.0]
