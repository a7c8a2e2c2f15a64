"""aiohttp's connection protocol: no reuse after unasked-for bytes, few 1xx answers, cheap timers.

aiohttp parses whatever arrives on an idle pooled connection as the answer to the next
request sent on it: a server (or a middlebox) that writes a response nobody asked for, or
part of one, while the connection sits in the pool has it returned as the next call's
answer (a framing desync). Here bytes that arrive after the last answer was complete and
before the next request is set up mark the connection unusable, and the connector's reuse
check (``is_connected``) then closes it instead of handing it out. Extra bytes arriving in
the same read as the end of an answer are queued by aiohttp as a message of their own,
which aiohttp's own ``should_close`` already refuses to reuse.

Like httpcore, aiohttp reads interim (1xx) responses in a loop without a limit, so a server
sending ``100 Continue`` forever holds a request until its deadline; here more than
``call_guard.MAX_INTERIM`` of them to one request fail it (a ``RemoteProtocolError`` through
the transport's error mapping) and close the connection.

Timers. aiohttp bounds a request's whole exchange with its ``total`` timeout (a timer
handle, a timer context entered around the request and around every wait for body bytes)
and the wait for each received chunk with ``sock_read`` (a timer handle cancelled and made
anew for every chunk received): three or more event-loop timers per small request, about
6% of its instructions. Here both are instants kept on the connection's protocol and
checked by one :class:`Watch` per connector, which wakes every ``TICK`` seconds while any
connection has something to watch: the read timeout's instant moves with each chunk (one
clock read), and the call's deadline (the ``r2async.deadline`` request extension, handed
over in :data:`DEADLINE`) is set when the request is set up on the connection and cleared
once its final answer is complete. A timer that expires fails the protocol and its body
reader as aiohttp's ``sock_read`` does (a ``SocketTimeoutError``), which ends the request
waiting for its answer or body (a request body is written by a task of aiohttp's own, which
the request's failure closes with its connection). Both fire at most ``TICK`` late. The
connect phase (waiting for a pooled connection, TCP and TLS) stays under aiohttp's
``connect`` timers, cut to the time left before the deadline by the transport.

What it relies on in aiohttp: the connector's ``_factory`` (the protocol class it builds),
and on ``ResponseHandler`` its ``set_response_params``, ``feed_data``, ``data_received``,
``_payload``, and the read-timeout hooks ``_reschedule_timeout``/``_drop_timeout``/
``_on_read_timeout``/``_read_timeout``. :func:`cheap_timers` says whether the hooks are
there (checked once); if not, the protocol keeps aiohttp's own timers and the transport
bounds the call with aiohttp's ``total`` timeout, as before. A missing ``_factory`` fails
loudly rather than run unguarded (tests/faults/test_framing_desync.py checks it).
aiohttp is imported on first use only.
"""

from __future__ import annotations

import contextvars
import functools
import time
from typing import Any

_PROTOCOL: Any = None
_CHEAP_TIMERS: bool | None = None
# Seconds between two looks at the watched connections: how late a timer may fire.
TICK = 0.05
# The call's deadline (a time.monotonic() instant) for the request being set up in this
# task: set by the transport around aiohttp's request, read when the request is set up on
# its connection (aiohttp does both in the calling task).
DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "r2async_aiohttp_deadline", default=None
)
_TIMER_HOOKS = ("_reschedule_timeout", "_drop_timeout", "_on_read_timeout", "set_response_params")
_monotonic = time.monotonic


def install(connector: Any) -> None:
    """Make ``connector`` (an ``aiohttp.TCPConnector``) open its connections with the guard."""
    # If aiohttp renames the attribute, fail loudly rather than run unguarded.
    if not hasattr(connector, "_factory"):
        raise RuntimeError("aiohttp's connector has no _factory: update aiohttp_protocol")
    watch = Watch(connector._loop) if cheap_timers(connector._loop) else None
    connector._factory = functools.partial(_protocol(), loop=connector._loop, watch=watch)


def cheap_timers(loop: Any) -> bool:
    """Whether this aiohttp's protocol has the hooks the :class:`Watch` replaces (checked once).

    Args:
        loop: the running event loop (a probe protocol is made on it, never connected).
    """
    global _CHEAP_TIMERS
    if _CHEAP_TIMERS is None:
        try:
            from aiohttp.client_proto import ResponseHandler

            _CHEAP_TIMERS = all(callable(getattr(ResponseHandler, n, None)) for n in _TIMER_HOOKS)
            if _CHEAP_TIMERS:
                # The read timeout must be kept where the hooks read it.
                probe = ResponseHandler(loop)
                probe.set_response_params(read_timeout=1.5)
                _CHEAP_TIMERS = getattr(probe, "_read_timeout", None) == 1.5
        except Exception:
            _CHEAP_TIMERS = False
    return _CHEAP_TIMERS


class Watch:
    """One connector's timers: its watched connections, looked at every ``TICK`` seconds.

    A connection is watched from the moment it has a read timeout or a deadline running
    until it has neither (or is closed); the periodic wake-up runs only while one is.
    """

    __slots__ = ("_handle", "_loop", "_watched")

    def __init__(self, loop: Any) -> None:
        self._loop = loop
        self._watched: set[Any] = set()
        self._handle: Any = None

    def add(self, protocol: Any) -> None:
        """Watch ``protocol`` (its ``_read_due`` and ``_deadline_at`` instants)."""
        self._watched.add(protocol)
        if self._handle is None:
            self._handle = self._loop.call_later(TICK, self._tick)

    def _tick(self) -> None:
        self._handle = None
        now = _monotonic()
        done = [p for p in self._watched if not p.check_timers(now)]
        self._watched.difference_update(done)
        if self._watched and not self._loop.is_closed():
            self._handle = self._loop.call_later(TICK, self._tick)


def _protocol() -> Any:
    global _PROTOCOL
    if _PROTOCOL is None:
        from aiohttp.client_exceptions import SocketTimeoutError
        from aiohttp.client_proto import ResponseHandler
        from aiohttp.helpers import set_exception
        from aiohttp.http_exceptions import HttpProcessingError

        from .call_guard import MAX_INTERIM

        class GuardedResponseHandler(ResponseHandler):
            """aiohttp's protocol; closed instead of reused after bytes nobody asked for."""

            # True from a request's set-up until its answer's body is complete.
            _asked = False
            # Bytes arrived while nothing was asked: never reuse this connection.
            _unsolicited = False
            # Interim responses to the current request.
            _interim = 0
            # The cheap timers (see Watch): instants, or None when not running.
            _read_due: float | None = None
            _deadline_at: float | None = None
            _watched = False
            # Counts requests set up on this connection: a late end-of-body callback of an
            # earlier one must not clear a later one's deadline.
            _generation = 0

            def __init__(self, loop: Any, watch: Watch | None = None) -> None:
                super().__init__(loop)
                self._watch = watch

            def set_response_params(self, **kwargs: Any) -> None:
                super().set_response_params(**kwargs)
                self._asked = True
                self._asked_after = self._payload
                self._interim = 0
                self._generation += 1
                if self._watch is not None:
                    deadline = DEADLINE.get()
                    self._deadline_at = deadline
                    if deadline is not None and not self._watched:
                        self._watched = True
                        self._watch.add(self)

            def feed_data(self, data: Any, size: int = 0) -> None:
                # One parsed response (message, payload); count the interim ones.
                code = data[0].code
                if 100 <= code < 200 and code != 101:
                    self._interim += 1
                    if self._interim > MAX_INTERIM:
                        if self._interim == MAX_INTERIM + 1:
                            self.set_exception(
                                HttpProcessingError(
                                    message=f"the server sent more than {MAX_INTERIM} "
                                    "interim (1xx) responses"
                                )
                            )
                        return
                elif self._deadline_at is not None:
                    # The final answer: the deadline holds until its body is complete.
                    data[1].on_eof(functools.partial(self._answered, self._generation))
                super().feed_data(data, size)

            def _answered(self, generation: int) -> None:
                if generation == self._generation:
                    self._deadline_at = None

            def data_received(self, data: bytes) -> None:
                if data and not self._asked:
                    self._unsolicited = True
                super().data_received(data)
                payload = self._payload
                if (
                    self._asked
                    and payload is not None
                    and payload is not self._asked_after
                    and payload.is_eof()
                ):
                    # This request's answer is complete: anything more is unasked-for.
                    self._asked = False

            def is_connected(self) -> bool:
                return not self._unsolicited and bool(super().is_connected())

            # The read timeout, kept as an instant for the Watch (without one: aiohttp's
            # own timer handles, as the base class does).
            def _reschedule_timeout(self) -> None:
                watch = self._watch
                if watch is None:
                    super()._reschedule_timeout()
                    return
                timeout = self._read_timeout
                if timeout:
                    self._read_due = _monotonic() + timeout
                    if not self._watched:
                        self._watched = True
                        watch.add(self)
                else:
                    self._read_due = None

            def _drop_timeout(self) -> None:
                if self._watch is None:
                    super()._drop_timeout()
                else:
                    self._read_due = None

            def check_timers(self, now: float) -> bool:
                """Fire what expired by ``now``; False once there is nothing left to watch."""
                if self.transport is None:
                    self._read_due = self._deadline_at = None
                else:
                    deadline = self._deadline_at
                    if deadline is not None and now >= deadline:
                        self._read_due = self._deadline_at = None
                        self._expire("the call's deadline passed")
                    due = self._read_due
                    if due is not None and now >= due:
                        self._read_due = None
                        self._on_read_timeout()
                if self._read_due is None and self._deadline_at is None:
                    self._watched = False
                    return False
                return True

            def _expire(self, message: str) -> None:
                exc = SocketTimeoutError(message)
                self.set_exception(exc)
                payload = self._payload
                if payload is not None:
                    set_exception(payload, exc)

        _PROTOCOL = GuardedResponseHandler
    return _PROTOCOL
