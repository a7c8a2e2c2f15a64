"""aiohttp's connection protocol: no reuse after unasked-for bytes, and few interim answers.

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

The protocol class is swapped in through the connector's ``_factory`` (a private name,
checked by tests/faults/test_framing_desync.py); aiohttp is imported on first use only.
"""

from __future__ import annotations

import functools
from typing import Any

_PROTOCOL: Any = None


def install(connector: Any) -> None:
    """Make ``connector`` (an ``aiohttp.TCPConnector``) open its connections with the guard."""
    # If aiohttp renames the attribute, fail loudly rather than run unguarded.
    if not hasattr(connector, "_factory"):
        raise RuntimeError("aiohttp's connector has no _factory: update aiohttp_protocol")
    connector._factory = functools.partial(_protocol(), loop=connector._loop)


def _protocol() -> Any:
    global _PROTOCOL
    if _PROTOCOL is None:
        from aiohttp.client_proto import ResponseHandler
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

            def set_response_params(self, **kwargs: Any) -> None:
                super().set_response_params(**kwargs)
                self._asked = True
                self._asked_after = self._payload
                self._interim = 0

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
                super().feed_data(data, size)

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

        _PROTOCOL = GuardedResponseHandler
    return _PROTOCOL
