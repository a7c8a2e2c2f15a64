"""The r2async exception tree.

```
R2Error
├── APIConnectionError            transport failure after retries (cause chained)
│   └── APITimeoutError
├── APIStatusError                status_code, code, message, request_id, bucket, key
│   ├── NotModifiedError 304
│   ├── BadRequestError 400
│   │   └── BadDigestError        BadDigest / InvalidDigest: checksum or Content-MD5 mismatch
│   ├── PermissionDeniedError 401/403
│   ├── NotFoundError 404
│   │   ├── NoSuchBucketError
│   │   ├── NoSuchKeyError
│   │   └── NoSuchUploadError
│   ├── ConflictError 409
│   ├── PreconditionFailedError 412
│   │   └── ObjectChangedError    the object changed while its body was being read
│   ├── InvalidRangeError 416
│   ├── RateLimitError 429 / SlowDown / TooManyRequests / TooMuchConcurrency
│   ├── InternalServerError 5xx
│   └── NotImplementedByR2Error 501
├── IntegrityError                the data received does not match what was promised
└── ResponseParseError            the server answered something r2async cannot read
```

Input mistakes are not in this tree: they raise ``ValueError``/``TypeError`` before any I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "BadDigestError",
    "BadRequestError",
    "ConflictError",
    "IntegrityError",
    "InternalServerError",
    "InvalidRangeError",
    "NoSuchBucketError",
    "NoSuchKeyError",
    "NoSuchUploadError",
    "NotFoundError",
    "NotImplementedByR2Error",
    "NotModifiedError",
    "ObjectChangedError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "R2Error",
    "RateLimitError",
    "ResponseParseError",
]


class R2Error(Exception):
    """Base class of every error r2async raises for a failed request."""


class APIConnectionError(R2Error):
    """The request could not be completed at the transport level (after any retries).

    The underlying httpx exception is chained as ``__cause__``.
    """

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        # The URL without its query string: a presigned query would carry a signature.
        self.url = url


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or pool timeout)."""


class ResponseParseError(R2Error):
    """The server's response could not be parsed (malformed, unsafe or oversized XML)."""


class IntegrityError(R2Error):
    """Received data does not match its declared length, ETag or checksum."""


class APIStatusError(R2Error):
    """The server answered with an error status.

    Attributes: ``status_code``, ``code`` (the S3 error code, e.g. ``NoSuchKey``), ``message``,
    ``request_id``, ``host_id``, ``bucket``, ``key``, ``operation`` and ``headers``
    (the response headers).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        request_id: str | None = None,
        host_id: str | None = None,
        bucket: str | None = None,
        key: str | None = None,
        operation: str | None = None,
        headers: Mapping[str, str] | None = None,
        retry_note: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.request_id = request_id
        self.host_id = host_id
        self.bucket = bucket
        self.key = key
        self.operation = operation
        self.headers: dict[str, str] = dict(headers or {})
        self.retry_note = retry_note
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.bucket is not None:
            where = f" (bucket={self.bucket!r}" + (f", key={self.key!r})" if self.key else ")")
        op = f"{self.operation}: " if self.operation else ""
        code = self.code or "error"
        text = f"{op}{self.status_code} {code}: {self.message}{where}"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        if self.retry_note:
            text += f" ({self.retry_note})"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep exceptions picklable (e.g. across process pools) despite keyword-only arguments.
        return (
            _rebuild_status_error,
            (
                type(self),
                self.message,
                {
                    "status_code": self.status_code,
                    "code": self.code,
                    "request_id": self.request_id,
                    "host_id": self.host_id,
                    "bucket": self.bucket,
                    "key": self.key,
                    "operation": self.operation,
                    "headers": self.headers,
                    "retry_note": self.retry_note,
                },
            ),
        )


def _rebuild_status_error(
    cls: type[APIStatusError], message: str, kwargs: dict[str, Any]
) -> APIStatusError:
    return cls(message, **kwargs)


class NotModifiedError(APIStatusError):
    """304: a conditional GET/HEAD (``if_none_match``/``if_modified_since``) found no change."""


class BadRequestError(APIStatusError):
    """400: the request was malformed or invalid (``InvalidBucketName``, ``EntityTooSmall``...)."""


class BadDigestError(BadRequestError):
    """400 ``BadDigest``/``InvalidDigest``: a checksum or Content-MD5 did not match the data."""


class PermissionDeniedError(APIStatusError):
    """401/403: bad credentials or signature (``SignatureDoesNotMatch``) or ``AccessDenied``."""


class NotFoundError(APIStatusError):
    """404: the bucket, key or upload does not exist."""


class NoSuchBucketError(NotFoundError):
    """404 ``NoSuchBucket``."""


class NoSuchKeyError(NotFoundError):
    """404 ``NoSuchKey``."""


class NoSuchUploadError(NotFoundError):
    """404 ``NoSuchUpload``: the multipart upload was completed, aborted or has expired."""


class ConflictError(APIStatusError):
    """409: ``BucketNotEmpty``, ``BucketConflict``, ``BucketAlreadyExists`` and the like."""


class PreconditionFailedError(APIStatusError):
    """412 ``PreconditionFailed``: an ``If-*`` condition did not hold. Never retried."""


class ObjectChangedError(PreconditionFailedError):
    """The object changed while its body was being read, so its bytes cannot be completed.

    Raised when a read resumed after a cut (pinned to the first response's ETag with
    ``If-Match``) is refused with 412, or is answered with another ETag by a server that
    ignores ``If-Match``. No byte of the other version is delivered. A subclass of
    ``PreconditionFailedError``, so ``except PreconditionFailedError`` still catches it;
    ``status_code`` is the status of the refused or mismatching answer.
    """


class InvalidRangeError(APIStatusError):
    """416 ``InvalidRange``: the requested range cannot be satisfied."""


class RateLimitError(APIStatusError):
    """429 or ``SlowDown``/``TooManyRequests``/``TooMuchConcurrency``: retried with backoff."""


class InternalServerError(APIStatusError):
    """5xx other than 501: retried with backoff."""


class NotImplementedByR2Error(APIStatusError):
    """501 ``NotImplemented``: the backend does not support this operation or header value.

    Final: never retried.
    """


# S3 error code -> class. The code wins over the status, so e.g. a 503 SlowDown is a RateLimitError.
_CODE_CLASSES: dict[str, type[APIStatusError]] = {
    "NoSuchBucket": NoSuchBucketError,
    "NoSuchKey": NoSuchKeyError,
    "NoSuchUpload": NoSuchUploadError,
    "PreconditionFailed": PreconditionFailedError,
    "InvalidRange": InvalidRangeError,
    "NotImplemented": NotImplementedByR2Error,
    "SlowDown": RateLimitError,
    "TooManyRequests": RateLimitError,
    "TooMuchConcurrency": RateLimitError,
    "BadDigest": BadDigestError,
    "InvalidDigest": BadDigestError,
    "XAmzContentSHA256Mismatch": BadDigestError,
    "AccessDenied": PermissionDeniedError,
    "SignatureDoesNotMatch": PermissionDeniedError,
    "InvalidAccessKeyId": PermissionDeniedError,
    "Unauthorized": PermissionDeniedError,
    "BucketNotEmpty": ConflictError,
    "BucketConflict": ConflictError,
    "BucketAlreadyExists": ConflictError,
    "BucketAlreadyOwnedByYou": ConflictError,
    "InternalError": InternalServerError,
    "ServiceUnavailable": InternalServerError,
}

_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    304: NotModifiedError,
    400: BadRequestError,
    401: PermissionDeniedError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    416: InvalidRangeError,
    429: RateLimitError,
    501: NotImplementedByR2Error,
}

# Used when a response has no body to read a code from (HEAD, 304).
_STATUS_CODES: dict[int, str] = {
    304: "NotModified",
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    412: "PreconditionFailed",
    416: "InvalidRange",
    429: "TooManyRequests",
    500: "InternalError",
    501: "NotImplemented",
    503: "ServiceUnavailable",
}


def status_error_class(status_code: int, code: str | None) -> type[APIStatusError]:
    """Pick the exception class for an error response.

    Args:
        status_code: the HTTP status.
        code: the S3 error code from the body, or None when there was none.
    """
    if code is not None:
        cls = _CODE_CLASSES.get(code)
        if cls is not None:
            return cls
    cls = _STATUS_CLASSES.get(status_code)
    if cls is not None:
        return cls
    if status_code >= 500:
        return InternalServerError
    return APIStatusError


def default_code(status_code: int) -> str | None:
    """The S3-style code implied by a bare status (used for bodiless HEAD errors)."""
    return _STATUS_CODES.get(status_code)
