"""The client core: construction, options views, closing; every request goes through ``_send``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeVar

import httpx

from .._config import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, resolve
from .._headers import HeaderMap, check_headers, check_operation_headers
from .._options import (
    DEFAULT_DEADLINE,
    NOT_GIVEN,
    TimeoutTypes,
    check_retries,
    to_deadline,
    to_timeout,
)
from .._send import merged_headers, request_url, send
from .._session import Session, TransportChoice, check_transport
from .._signing.credentials import Credentials
from .._spec import RequestSpec

if TYPE_CHECKING:
    from .._signing.providers import CredentialsProvider

if TYPE_CHECKING:
    from typing_extensions import Self

_Self = TypeVar("_Self", bound="_ClientBase")

__all__ = ["NOT_GIVEN", "TimeoutTypes", "TransportChoice", "_ClientBase", "bind_annotation_names"]


def bind_annotation_names() -> None:
    """Make every name in R2Client's annotations resolvable (loads the deferred modules)."""
    from .._lazy import load_all

    load_all()
    # ``Self`` is imported for type checkers only (typing has it from 3.11 on).
    if "Self" not in globals():
        from typing_extensions import Self as _Self

        globals()["Self"] = _Self


class _ClientBase:
    """Shared machinery of ``R2Client``; the operation methods live in the mixins."""

    _shared: Session
    _headers: dict[str, str]
    _operation_headers: dict[str, dict[str, str]]
    _timeout: httpx.Timeout
    _max_retries: int
    _deadline: float | None

    # The one send path (see r2async._send), bound as a method: no extra frame per request.
    _send = send

    def __init__(
        self,
        *,
        account_id: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        jurisdiction: str | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        headers: HeaderMap | None = None,
        operation_headers: Mapping[str, HeaderMap] | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        deadline: float | None = DEFAULT_DEADLINE,
        http_client: httpx.AsyncClient | None = None,
        transport: TransportChoice | httpx.AsyncBaseTransport = "httpx",
        credentials: Credentials | CredentialsProvider | None = None,
        profile: str | None = None,
    ) -> None:
        """Create a client. Unset values come from ``R2_*`` environment variables.

        Args:
            account_id: Cloudflare account id (default ``R2_ACCOUNT_ID``).
            access_key_id: R2 access key id (default ``R2_ACCESS_KEY_ID``).
            secret_access_key: R2 secret access key (default ``R2_SECRET_ACCESS_KEY``).
            session_token: temporary-credential token (default ``R2_SESSION_TOKEN``, else none).
            jurisdiction: 'eu', 'fedramp' or 'us' (default ``R2_JURISDICTION``, else none).
            endpoint_url: any S3-compatible endpoint (default ``R2_ENDPOINT_URL``); overrides
                account_id and jurisdiction.
            region: the SigV4 signing region (default ``R2_REGION``, else "auto", which is
                what R2 expects): only for other S3-compatible endpoints that check it, such
                as moto or AWS S3 ("us-east-1").
            headers: headers sent (and signed) on every request.
            operation_headers: per S3 operation name, headers sent on every request of it,
                e.g. ``{"PutObject": {"cf-create-bucket-if-missing": "true"}}``.
            timeout: seconds for each phase, an ``httpx.Timeout``, or None (default 60 s,
                connect 10 s).
            max_retries: retries after the first attempt for retryable failures (default 3).
            deadline: seconds one call may take in all, whatever the server does: every
                attempt, the waits between them, and a ``stream_object`` body until it is
                closed (default 600; None for none); past it, ``DeadlineExceededError``.
            http_client: your own ``httpx.AsyncClient`` (never closed by r2async); by default
                r2async creates and owns one.
            transport: what r2async's own pool sends with (default "httpx": httpx's own
                transport and httpcore's connections, pooled by r2async in O(1) per request,
                under asyncio or trio); "aiohttp" for the fast transport (asyncio
                only, ``pip install 'r2async[fast]'``, about a third of the CPU per request);
                or an ``httpx.AsyncBaseTransport``, which r2async then closes. Not together
                with http_client.
            credentials: ``Credentials``, or a provider: a callable (sync or async)
                returning ``Credentials``, called again ahead of their ``expires_at``
                (default None: the key arguments, ``R2_*``, then AWS-style configuration).
            profile: an AWS profile in ``~/.aws/credentials`` / ``~/.aws/config`` for keys
                and ``endpoint_url`` (default ``AWS_PROFILE``, else the default profile,
                read only when ``R2_*`` and ``AWS_*`` variables do not answer).
        """
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise TypeError("http_client must be an httpx.AsyncClient")
        check_transport(transport, http_client)
        settings = resolve(
            account_id=account_id,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            session_token=session_token,
            jurisdiction=jurisdiction,
            endpoint_url=endpoint_url,
            credentials=credentials,
            profile=profile,
            region=region,
        )
        self._shared = Session(settings, http_client, transport)
        self._headers = check_headers(headers, where="headers")
        self._operation_headers = check_operation_headers(operation_headers)
        self._timeout = to_timeout(timeout)
        self._max_retries = check_retries(max_retries)
        self._deadline = to_deadline(deadline)

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        """The S3 endpoint this client talks to."""
        return str(self._shared.endpoint)

    def with_options(
        self: _Self,
        *,
        headers: HeaderMap | None = None,
        operation_headers: Mapping[str, HeaderMap] | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
        max_retries: int | None = None,
        deadline: float | None = NOT_GIVEN,
    ) -> _Self:
        """A cheap view of this client with other options, sharing its connection pool.

        This is also the per-call form: ``await r2.with_options(max_retries=0).put_object(...)``.

        Args:
            headers: headers added to (and overriding) this client's headers.
            operation_headers: per-operation headers added to this client's.
            timeout: a new timeout (default: keep this client's).
            max_retries: a new retry count (default: keep this client's).
            deadline: a new overall deadline per call, in seconds, or None for none
                (default: keep this client's).
        """
        view = object.__new__(type(self))
        view._shared = self._shared
        view._headers = {**self._headers, **check_headers(headers, where="headers")}
        ops = {op: dict(h) for op, h in self._operation_headers.items()}
        for op, h in check_operation_headers(operation_headers).items():
            ops[op] = {**ops.get(op, {}), **h}
        view._operation_headers = ops
        view._timeout = self._timeout if timeout is NOT_GIVEN else to_timeout(timeout)
        view._max_retries = self._max_retries if max_retries is None else check_retries(max_retries)
        view._deadline = self._deadline if deadline is NOT_GIVEN else to_deadline(deadline)
        return view

    async def aclose(self) -> None:
        """Close the connection pool (a user-supplied ``http_client`` is left open)."""
        shared = self._shared
        if shared.closed:
            return
        shared.closed = True
        if shared.owns_http:
            await shared.aclose()

    async def __aenter__(self) -> Self:
        # In a worker thread, not on the loop: the TLS context, the deferred modules and the
        # result models' validators (see Session.warm).
        await self._shared.warm()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        shared = self._shared
        if shared.refresher is not None:
            source = f"credentials={shared.refresher.name!r}"
        else:
            assert shared.settings.credentials is not None
            source = f"access_key_id={shared.settings.credentials.access_key_id!r}"
        return f"{type(self).__name__}(endpoint_url={self.endpoint_url!r}, {source})"

    async def refresh_credentials(self) -> None:
        """Fetch credentials from the provider now if due (before presigning, say).

        Does nothing for static credentials. Raises ``CredentialsError`` if the provider fails.
        """
        if self._shared.refresher is not None:
            await self._shared.signer()

    # -- helpers of the operation methods -----------------------------------------------------

    def _url(self, spec: RequestSpec) -> httpx.URL:
        return request_url(self._shared.endpoint, spec)

    def _merged_headers(self, spec: RequestSpec, call: HeaderMap | None) -> dict[str, str]:
        # Also called before any I/O, to refuse a conflicting typed argument and header early.
        return merged_headers(self, spec, call)
