"""Credentials that come from a provider and are refreshed ahead of their expiry.

A provider is any callable, sync or async, that returns :class:`Credentials`; credentials with
an ``expires_at`` are refreshed ``margin`` seconds before it. Rules:

- one refresh at a time, however many requests wait for it (they all get its result);
- inside the margin but before expiry, a failed refresh is logged and the current credentials
  stay in use (the next request tries again); at or after expiry (less than
  :data:`MANDATORY` seconds left), a failed refresh raises :class:`CredentialsError` and no
  request is signed with stale credentials;
- a sync provider runs in a worker thread (it may read a file or call an HTTP API), an async
  one on the event loop; either is bounded by ``timeout`` seconds;
- a provider that returns anything but ``Credentials`` is a ``CredentialsError`` that is not
  retried (it would do the same again).

Secrets never reach a log record or a message: only the provider's name and the error's type.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .._exceptions import CredentialsError
from .credentials import Credentials

__all__ = ["MANDATORY", "CredentialsProvider", "Refresher", "provider_name"]

CredentialsProvider = Callable[[], Credentials | Awaitable[Credentials]]

logger = logging.getLogger("r2async")

# Refresh this long before expires_at (AWS SDKs refresh 5-15 minutes ahead).
DEFAULT_MARGIN = 300.0
# With less than this left, the credentials are as good as expired: refreshing is mandatory.
MANDATORY = 10.0
DEFAULT_TIMEOUT = 30.0


def provider_name(provider: object) -> str:
    """A name for the provider in messages: its qualified name, never its arguments."""
    name = getattr(provider, "__qualname__", None) or type(provider).__qualname__
    return str(name)


def _remaining(credentials: Credentials, now: float) -> float:
    if credentials.expires_at is None:
        return float("inf")
    return credentials.expires_at.timestamp() - now


class Refresher:
    """The current credentials of one provider, refreshed ahead of expiry, one refresh at a time."""

    __slots__ = ("_current", "_is_async", "_lock", "_provider", "margin", "name", "timeout")

    def __init__(
        self,
        provider: CredentialsProvider,
        *,
        margin: float = DEFAULT_MARGIN,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Hold a provider; nothing is called until the first request.

        Args:
            provider: a callable (sync or async) returning ``Credentials``.
            margin: seconds before ``expires_at`` at which to refresh (default 300).
            timeout: seconds a provider call may take (default 30).
        """
        if not callable(provider):
            raise TypeError(
                "credentials must be Credentials or a callable (sync or async) returning them"
            )
        for label, value in (("margin", margin), ("timeout", timeout)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"credentials {label} must be seconds (a number)")
            if not 0 < value < float("inf"):
                raise ValueError(
                    f"credentials {label} must be a positive, finite number of seconds"
                )
        self._provider = provider
        # An async function, or an object whose __call__ is one: awaited on the loop.
        self._is_async = inspect.iscoroutinefunction(provider) or inspect.iscoroutinefunction(
            getattr(provider, "__call__", None)  # noqa: B004 - an object's async __call__
        )
        self.name = provider_name(provider)
        self.margin = float(margin)
        self.timeout = float(timeout)
        self._current: Credentials | None = None
        # Created inside the running event loop (asyncio or trio) on the first refresh.
        self._lock: Any = None

    def __repr__(self) -> str:
        return f"Refresher(provider={self.name!r})"

    def fresh(self) -> Credentials | None:
        """The current credentials if no refresh is due, else None (a cheap check)."""
        current = self._current
        if current is None or _remaining(current, time.time()) <= self.margin:
            return None
        return current

    def usable(self) -> Credentials | None:
        """The current credentials if they have not expired, due for refresh or not."""
        current = self._current
        if current is None or _remaining(current, time.time()) <= MANDATORY:
            return None
        return current

    async def get(self, timeout: float | None = None) -> Credentials:
        """The credentials to sign with now, refreshing first if due.

        Args:
            timeout: seconds the provider may take (default: this refresher's ``timeout``).
        """
        current = self.fresh()
        if current is not None:
            return current
        import anyio

        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            # Whoever held the lock may have refreshed already.
            current = self.fresh()
            if current is not None:
                return current
            try:
                new = await self._call(self.timeout if timeout is None else timeout)
            except CredentialsError as exc:
                usable = self.usable()
                if usable is None or not exc.retryable:
                    raise
                # Advisory refresh failed: the current credentials still work for a while.
                logger.warning(
                    "refreshing credentials from %s failed (%s); using the current ones, "
                    "which expire in %.0f s",
                    self.name,
                    type(exc.__cause__ or exc).__name__,
                    _remaining(usable, time.time()),
                )
                return usable
            self._current = new
            return new

    def get_sync(self) -> Credentials:
        """The credentials for a synchronous use (presigning): the current ones if usable.

        A sync provider is called here when needed; an async one must have been used by a
        request first (or ``await client.refresh_credentials()``).
        """
        current = self.fresh() or self.usable()
        if current is not None:
            return current
        if self._is_async:
            raise CredentialsError(
                f"no current credentials from the async provider {self.name}: presigning is "
                "synchronous, so await client.refresh_credentials() first",
                provider=self.name,
                retryable=False,
            )
        try:
            result = self._provider()
        except Exception as exc:
            raise CredentialsError(
                f"the credentials provider {self.name} raised {type(exc).__name__}",
                provider=self.name,
            ) from exc
        new = self._check(result)
        self._current = new
        return new

    async def _call(self, timeout: float) -> Credentials:
        import anyio
        from anyio import to_thread

        provider = self._provider
        try:
            with anyio.fail_after(timeout):
                if self._is_async:
                    result: Any = await provider()  # type: ignore[misc]
                else:
                    # Sync providers may block (files, HTTP): never on the event loop. If it
                    # hangs, the thread is abandoned at the timeout, not waited for.
                    result = await to_thread.run_sync(provider, abandon_on_cancel=True)
                    if inspect.isawaitable(result):
                        result = await result
        except TimeoutError:
            raise CredentialsError(
                f"the credentials provider {self.name} did not answer within {timeout:g} s",
                provider=self.name,
            ) from None
        except CredentialsError:
            raise
        except Exception as exc:
            raise CredentialsError(
                f"the credentials provider {self.name} raised {type(exc).__name__}",
                provider=self.name,
            ) from exc
        return self._check(result)

    def _check(self, result: object) -> Credentials:
        if not isinstance(result, Credentials):
            raise CredentialsError(
                f"the credentials provider {self.name} returned {type(result).__name__}, "
                "not r2async.Credentials",
                provider=self.name,
                retryable=False,
            )
        if _remaining(result, time.time()) <= MANDATORY:
            raise CredentialsError(
                f"the credentials provider {self.name} returned credentials that expire "
                f"at {result.expires_at.isoformat() if result.expires_at else '?'}, "
                "already (or nearly) expired; check the provider and this machine's clock",
                provider=self.name,
            )
        return result


def utc_now() -> dt.datetime:
    """The current time, timezone-aware (UTC)."""
    return dt.datetime.now(dt.timezone.utc)
