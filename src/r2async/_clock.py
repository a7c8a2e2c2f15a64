"""A clock that is off: the offset a server's answer implies, kept for later signatures.

A machine whose clock is off by more than the allowed skew gets ``403 RequestTimeTooSkewed`` on
every request. As aws-sdk-js keeps a ``systemClockOffset``, r2async takes the offset from the
answer's ``Date`` header, measured against the request's own ``x-amz-date`` (the clock the
signer used), keeps it on the session for later requests and presigned URLs, and logs it once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

import httpx

from ._logging import logger

if TYPE_CHECKING:
    from ._session import Session

__all__ = ["correct_clock"]

_CLOCK_WARNED = False


def correct_clock(session: Session, request: httpx.Request, headers: Mapping[str, str]) -> bool:
    """Set the session's clock offset from a RequestTimeTooSkewed answer; True if it changed.

    Args:
        session: the client's shared state (its clock offset is updated).
        request: the refused request (its ``x-amz-date``).
        headers: the answer's headers (its ``Date``).
    """
    # RequestTimeTooSkewed: take the offset from the answer's Date header (as aws-sdk-js
    # keeps a systemClockOffset), keep it for later requests and presigned URLs, log once.
    # Measured against the request's own x-amz-date: the clock the signer used.
    global _CLOCK_WARNED
    date = headers.get("date")
    signed = request.headers.get("x-amz-date")
    if not date or not signed:
        return False
    try:
        from email.utils import parsedate_to_datetime

        server = parsedate_to_datetime(date).timestamp()
        sent = dt.datetime.strptime(signed, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    skew = server - sent.timestamp()
    # Within a couple of seconds, the clock is not what is wrong (the answer took time).
    if abs(skew) < 2.0:
        return False
    offset = session.clock_offset + skew
    session.set_clock_offset(offset)
    if not _CLOCK_WARNED:
        _CLOCK_WARNED = True
        logger.warning(
            "this machine's clock is %.0f s %s the server's (RequestTimeTooSkewed): "
            "signing with the server's time from now on; fix the clock (NTP)",
            abs(offset),
            "behind" if offset > 0 else "ahead of",
        )
    return True
