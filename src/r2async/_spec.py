"""RequestSpec: what a sans-IO builder hands to the client's send loop."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from ._body import Body
from ._exceptions import APIStatusError
from ._logging import redact_headers


@dataclass(slots=True, repr=False)
class RequestSpec:
    """One S3 request, before headers are layered, URLs built and signatures computed.

    Attributes:
        operation: the S3 operation name (``PutObject``...), which selects ``operation_headers``.
        method: the HTTP method.
        bucket: the bucket, or None for account-level requests (ListBuckets).
        key: the object key, or None for bucket-level requests.
        query: query parameters in order; a None value sends a bare flag such as ``?uploads``.
        headers: headers from typed arguments (lower-case names, already validated).
        body: the request body, or None for no body.
        idempotent: whether repeating the request after a lost response is harmless; the send
            loop also treats any write carrying a precondition (``If-None-Match``...) as not.
        error_in_200: whether a 200 response may carry an ``<Error>`` document.
        raw_body: read the response body exactly as sent (no content decoding): object data.
        not_found: the exception class for a bodiless 404 (HEAD).
        max_body: the most body bytes the caller accepts (raw bodies; None for no cap).
    """

    operation: str
    method: str
    bucket: str | None = None
    key: str | None = None
    query: list[tuple[str, str | None]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: Body | None = None
    idempotent: bool = True
    error_in_200: bool = False
    raw_body: bool = False
    not_found: type[APIStatusError] | None = None
    max_body: int | None = None

    def __repr__(self) -> str:
        # The headers may hold an SSE-C key: shown redacted, as in logs.
        parts = [
            f"{f.name}={redact_headers(self.headers)!r}"
            if f.name == "headers"
            else f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
        ]
        return f"RequestSpec({', '.join(parts)})"
