"""The retry policy's decisions, function by function (what scripts/mutate retry relies on)."""

from __future__ import annotations

import ssl

import httpx
import pytest

from r2async import _retry
from r2async._exceptions import APIConnectionError, APIStatusError
from r2async._retry import is_retryable_transport
from r2async._send import _retry_delay, conditional_write
from r2async._spec import RequestSpec


def _connect_error_caused_by(cause: BaseException) -> httpx.ConnectError:
    # `raise ... from cause` sets __cause__ only; __context__ stays None outside an except block.
    error = httpx.ConnectError("handshake failed")
    error.__cause__ = cause
    return error


def test_a_certificate_failure_given_as_the_cause_alone_is_not_retried() -> None:
    cert = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error = _connect_error_caused_by(cert)
    assert error.__context__ is None
    assert not is_retryable_transport(error, idempotent=True)


def test_a_certificate_failure_reached_through_context_only_is_not_retried() -> None:
    cert = ssl.SSLCertVerificationError(1, "certificate verify failed")
    middle = OSError("wrapped")
    middle.__context__ = cert
    error = httpx.ConnectError("handshake failed")
    error.__context__ = middle
    assert not is_retryable_transport(error, idempotent=True)


def test_a_looping_exception_chain_without_a_certificate_failure_is_retried() -> None:
    # A chain that refers back to itself ends the bounded walk without finding a certificate
    # failure: an ordinary connect failure, retried.
    first = OSError("reset")
    second = OSError("again")
    first.__context__ = second
    second.__context__ = first
    error = _connect_error_caused_by(first)
    assert is_retryable_transport(error, idempotent=False)


def test_connect_failures_are_retried_but_a_read_failure_only_when_repeatable() -> None:
    for early in (httpx.ConnectError("no"), httpx.ConnectTimeout("slow"), httpx.PoolTimeout("")):
        assert is_retryable_transport(early, idempotent=False)
    assert is_retryable_transport(httpx.ReadError("reset"), idempotent=True)
    assert not is_retryable_transport(httpx.ReadError("reset"), idempotent=False)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (429, None, True),
        (500, None, True),
        (502, None, True),
        (503, None, True),
        (504, None, True),
        (400, "RequestTimeout", True),
        (400, "SlowDown", True),
        (400, None, False),
        (404, "NoSuchKey", False),
        (412, None, False),
        (501, None, False),
        (500, "BadDigest", False),
        (503, "NotImplemented", False),
        (500, "PreconditionFailed", False),
    ],
)
def test_which_error_answers_are_retried(status: int, code: str | None, expected: bool) -> None:
    assert _retry.is_retryable(status, code) is expected


def test_sleep_waits_through_anyio_for_a_positive_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    import anyio

    waited: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(anyio, "sleep", fake_sleep)
    anyio.run(_retry.sleep, 0.5)
    assert waited == [0.5]


@pytest.mark.parametrize("seconds", [0.0, -1.0])
def test_sleep_returns_at_once_for_no_delay(
    monkeypatch: pytest.MonkeyPatch, seconds: float
) -> None:
    import anyio

    waited: list[float] = []

    async def fake_sleep(delay: float) -> None:
        waited.append(delay)

    async def main() -> None:
        monkeypatch.setattr(anyio, "sleep", fake_sleep)
        await _retry.sleep(seconds)

    anyio.run(main)
    assert waited == []


def _refused(status: int, code: str | None) -> APIStatusError:
    return APIStatusError("refused", status_code=status, code=code, operation="Op")


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_rate_limited_read_waits_only_the_plain_backoff(method: str) -> None:
    # The one-second floor is for R2's same-key write limit; reads are not held by it.
    spec = RequestSpec(operation="Op", method=method)
    for _ in range(20):
        delay = _retry_delay(spec, _refused(429, "SlowDown"), True, 0, 3, 429, {})
        assert delay is not None and delay <= _retry.BASE_DELAY


@pytest.mark.parametrize(("status", "code"), [(429, None), (503, "SlowDown")])
def test_a_write_refused_as_too_many_requests_waits_the_write_floor(
    status: int, code: str | None
) -> None:
    # A bare 429 (no S3 code) says "too many requests" as much as SlowDown does.
    spec = RequestSpec(operation="PutObject", method="PUT")
    delay = _retry_delay(spec, _refused(status, code), True, 0, 3, status, {})
    assert delay is not None
    assert _retry.WRITE_RATE_FLOOR <= delay <= _retry.WRITE_RATE_FLOOR + _retry.BASE_DELAY


def test_a_write_failing_with_a_server_fault_waits_only_the_plain_backoff() -> None:
    spec = RequestSpec(operation="PutObject", method="PUT")
    delay = _retry_delay(spec, _refused(500, "InternalError"), True, 0, 3, 500, {})
    assert delay is not None and delay <= _retry.BASE_DELAY


def _lost(spec: RequestSpec, condition: str | None) -> str:
    error = APIConnectionError("Op: connection failed (reset)", method=spec.method, url="u")
    assert _retry_delay(spec, error, False, 0, 3, None, None, condition) is None
    return str(error)


def test_a_conditional_write_whose_answer_may_be_lost_says_why_it_is_not_repeated() -> None:
    note = _lost(RequestSpec(operation="PutObject", method="PUT"), "If-None-Match")
    assert "conditional PutObject (If-None-Match) is not repeated" in note
    assert "it may have been applied, and a repeat would fail with 412 on its own write" in note
    assert "head_object" in note


def test_a_request_never_safe_to_repeat_says_so_even_when_conditional() -> None:
    spec = RequestSpec(operation="CompleteMultipartUpload", method="POST", idempotent=False)
    for condition in (None, "If-None-Match"):
        note = _lost(spec, condition)
        assert "not retried: CompleteMultipartUpload is not safe to repeat once sent" in note
        assert "412" not in note


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_conditional_read_is_not_a_conditional_write(method: str) -> None:
    assert conditional_write(method, {"if-none-match": '"abc"', "if-match": '"abc"'}) is None


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ("if-none-match", "If-None-Match"),
        ("if-match", "If-Match"),
        ("if-unmodified-since", "If-Unmodified-Since"),
        ("cf-copy-destination-if-none-match", "Cf-Copy-Destination-If-None-Match"),
    ],
)
@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_a_write_with_a_precondition_is_named_by_its_header(
    method: str, header: str, named: str
) -> None:
    assert conditional_write(method, {header: "*"}) == named
    assert conditional_write(method, {"x-amz-copy-source-if-match": '"a"'}) is None


# mutmut does not mutate module-level constants: every member of the tables is checked here.
@pytest.mark.parametrize(
    "code",
    [
        "SlowDown",
        "InternalError",
        "RequestTimeout",
        "TooMuchConcurrency",
        "TooManyRequests",
        "ServiceUnavailable",
    ],
)
def test_every_try_again_code_is_retried_whatever_its_status(code: str) -> None:
    assert _retry.is_retryable(400, code)


@pytest.mark.parametrize(
    "code",
    [
        "BadDigest",
        "InvalidDigest",
        "XAmzContentSHA256Mismatch",
        "PreconditionFailed",
        "NotImplemented",
    ],
)
def test_every_final_code_is_never_retried_even_with_a_retryable_status(code: str) -> None:
    for status in (429, 500, 503):
        assert not _retry.is_retryable(status, code)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (429, None, True),
        (503, "SlowDown", True),
        (400, "TooManyRequests", True),
        (503, "TooMuchConcurrency", True),
        (503, None, False),
        (500, "InternalError", False),
        (None, None, False),
    ],
)
def test_which_answers_mean_too_many_requests(
    status: int | None, code: str | None, expected: bool
) -> None:
    assert _retry.is_rate_limited(status, code) is expected


def test_the_policy_constants_are_those_documented() -> None:
    # The figures r2async._retry's docstring gives users (0.25 s base, 20 s cap, 60 s at most).
    assert (_retry.BASE_DELAY, _retry.MAX_DELAY, _retry.MAX_RETRY_AFTER) == (0.25, 20.0, 60.0)
    assert _retry.WRITE_RATE_FLOOR == 1.0
