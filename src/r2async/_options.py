"""Client and per-call option values: the NOT_GIVEN marker, timeouts, retry counts."""

from __future__ import annotations

import math
from typing import Any

import httpx

TimeoutTypes = float | int | httpx.Timeout | None

# A call's overall deadline by default, in seconds: all attempts, the waits between them, and
# a streamed body until it is closed (see _deadline).
DEFAULT_DEADLINE = 600.0


class _Unset:
    def __repr__(self) -> str:
        return "NOT_GIVEN"


# "Argument not passed", where None already means something (timeout=None: no timeout).
NOT_GIVEN: Any = _Unset()


def to_timeout(value: TimeoutTypes, *, name: str = "timeout") -> httpx.Timeout:
    """Normalise a timeout argument: seconds (all phases), an ``httpx.Timeout``, or None (none).

    NaN, infinity, zero and negative values are refused here, before any I/O: each transport
    would otherwise fail on them in its own way, or wait forever.

    Args:
        value: seconds for every phase, an ``httpx.Timeout`` (each phase a positive finite
            number of seconds or None), or None for no timeout.
        name: the argument's name, for error messages; default "timeout".
    """
    if isinstance(value, httpx.Timeout):
        for phase, seconds in value.as_dict().items():
            if seconds is not None:
                _check_seconds(seconds, f"{name}.{phase}")
        return value
    if value is None:
        return httpx.Timeout(None)
    return httpx.Timeout(_check_seconds(value, name))


def _check_seconds(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be seconds (float), an httpx.Timeout, or None")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(
            f"{name}={value!r}: use a positive, finite number of seconds (or None for no timeout)"
        )
    return float(value)


def to_deadline(value: object) -> float | None:
    """``value`` as a deadline in seconds (None: no deadline), or a TypeError/ValueError."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("deadline must be seconds (float) or None for no deadline")
    if not math.isfinite(value) or value <= 0:
        raise ValueError("deadline must be a finite number of seconds > 0, or None for none")
    return float(value)


def check_retries(value: object) -> int:
    """``value`` as a retry count (0 to 100), or a TypeError/ValueError naming the fix."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("max_retries must be an int")
    if not 0 <= value <= 100:
        raise ValueError("max_retries must be between 0 and 100")
    return value
