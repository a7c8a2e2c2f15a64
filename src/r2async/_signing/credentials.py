"""Access credentials for signing requests; the secret parts never appear in ``repr``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["Credentials"]

_MASK = "***"


def _check_header_safe(name: str, value: object, *, how: str) -> str:
    """Return ``value`` if it is a usable credential string, else raise naming the fix.

    The value itself is never put in the message: it may be a secret.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}; {how}")
    if not value:
        raise ValueError(f"{name} is empty; {how}")
    if value != value.strip():
        # A trailing newline from a file or an env var is the usual cause.
        raise ValueError(f"{name} has leading or trailing whitespace; strip it")
    if not value.isascii() or not value.isprintable():
        # These strings end up in HTTP headers (Authorization, x-amz-security-token),
        # where control characters would break or inject headers.
        raise ValueError(f"{name} must be printable ASCII; check that the right value was copied")
    return value


@dataclass(frozen=True, slots=True, repr=False)
class Credentials:
    """An R2 (or any S3-compatible) access key pair, plus an optional session token.

    Args:
        access_key_id: the access key id (for R2, the API token's id).
        secret_access_key: the secret access key (for R2, the SHA-256 hex of the token value).
        session_token: the session token of temporary credentials; default None.
        expires_at: when temporary credentials stop working (a timezone-aware datetime);
            default None (they do not expire). A provider's credentials are refreshed ahead
            of this time.
    """

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    expires_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        _check_header_safe(
            "access_key_id", self.access_key_id, how="pass the access key id as a string"
        )
        if any(c in self.access_key_id for c in " /,="):
            # "/" and "," delimit the Credential field of the Authorization header.
            raise ValueError(
                "access_key_id must not contain spaces, '/', ',' or '='; "
                "check that the access key id (not the secret) was passed"
            )
        _check_header_safe(
            "secret_access_key",
            self.secret_access_key,
            how="pass the secret access key as a string",
        )
        if self.session_token is not None:
            _check_header_safe(
                "session_token",
                self.session_token,
                how="pass the session token as a string, or None for long-term keys",
            )
        if self.expires_at is not None:
            if not isinstance(self.expires_at, dt.datetime):
                raise TypeError(
                    f"expires_at must be a datetime or None, got {type(self.expires_at).__name__}"
                )
            if self.expires_at.utcoffset() is None:
                raise ValueError(
                    "expires_at must be timezone-aware, e.g. datetime.now(timezone.utc) + ttl"
                )

    def __repr__(self) -> str:
        token = "None" if self.session_token is None else repr(_MASK)
        expiry = "" if self.expires_at is None else f", expires_at={self.expires_at.isoformat()!r}"
        return (
            f"Credentials(access_key_id={self.access_key_id!r}, "
            f"secret_access_key={_MASK!r}, session_token={token}{expiry})"
        )

    __str__ = __repr__
