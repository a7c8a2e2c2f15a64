"""Headers as first-class arguments: validation, the three layers, typed-argument mapping."""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import re
from collections.abc import Mapping
from email.header import decode_header, make_header
from typing import Literal

HeaderMap = Mapping[str, str]
DateLike = dt.datetime | str
StorageClass = Literal["STANDARD", "STANDARD_IA"]

# The signer stamps these; letting a caller set them would produce an invalid or forged signature.
SIGNER_OWNED = frozenset(
    {"authorization", "x-amz-date", "x-amz-content-sha256", "host", "x-amz-security-token"}
)

# Every S3 operation name r2async sends (for operation_headers=). Kept in step with the client.
OPERATIONS = frozenset(
    {
        "AbortMultipartUpload",
        "CompleteMultipartUpload",
        "CopyObject",
        "CreateBucket",
        "CreateMultipartUpload",
        "DeleteBucket",
        "DeleteBucketCors",
        "DeleteBucketLifecycle",
        "DeleteObject",
        "DeleteObjects",
        "GetBucketCors",
        "GetBucketEncryption",
        "GetBucketLifecycleConfiguration",
        "GetBucketLocation",
        "GetObject",
        "HeadBucket",
        "HeadObject",
        "ListBuckets",
        "ListMultipartUploads",
        "ListObjects",
        "ListObjectsV2",
        "ListParts",
        "PutBucketCors",
        "PutBucketLifecycleConfiguration",
        "PutObject",
        "UploadPart",
        "UploadPartCopy",
    }
)

# RFC 7230 token characters: what a header name may contain.
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# Visible ASCII, space and tab only: no CR/LF (header injection), no non-ASCII
# (undefined on the wire).
_VALUE = re.compile(r"^[\t\x20-\x7e]*$")

METADATA_LIMIT = 8192
MAX_KEY_BYTES = 1024
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


def check_header(name: object, value: object, *, where: str = "headers") -> tuple[str, str]:
    """Validate one header and return it as (lower-case name, value).

    Args:
        name: the header name; must be a non-empty RFC 7230 token.
        value: the header value; a str of printable ASCII (RFC 2047-encode non-ASCII first).
        where: which argument it came from, for the error message.
    """
    if not isinstance(name, str):
        raise TypeError(f"{where}: header names must be str, got {type(name).__name__}")
    if not isinstance(value, str):
        raise TypeError(
            f"{where}: the value of header {name!r} must be str, got {type(value).__name__}; "
            "convert it with str() first"
        )
    if not _TOKEN.fullmatch(name):
        raise ValueError(
            f"{where}: invalid header name {name!r}: use only letters, digits and !#$%&'*+-.^_`|~ "
            "(no spaces, colons, CR/LF or non-ASCII)"
        )
    if not _VALUE.fullmatch(value):
        raise ValueError(
            f"{where}: the value of header {name!r} contains CR/LF, a control character or "
            "non-ASCII text; remove line breaks, and for metadata pass non-ASCII through "
            "metadata= (r2async RFC 2047-encodes it)"
        )
    lname = name.lower()
    if lname in SIGNER_OWNED:
        raise ValueError(
            f"{where}: header {name!r} is set by the signer and cannot be overridden; "
            "pass credentials to R2Client instead"
        )
    return lname, value


def check_headers(headers: HeaderMap | None, *, where: str = "headers") -> dict[str, str]:
    """Validate a header mapping and return it with lower-case names.

    Args:
        headers: the mapping given by the caller, or None.
        where: which argument it came from, for error messages.
    """
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise TypeError(f"{where} must be a mapping of str to str, got {type(headers).__name__}")
    out: dict[str, str] = {}
    for name, value in headers.items():
        lname, v = check_header(name, value, where=where)
        if lname in out and out[lname] != v:
            raise ValueError(f"{where}: header {lname!r} is given twice with different values")
        out[lname] = v
    return out


def check_operation_headers(
    operation_headers: Mapping[str, HeaderMap] | None,
) -> dict[str, dict[str, str]]:
    """Validate ``operation_headers=``: S3 operation names mapped to header mappings.

    Args:
        operation_headers: e.g. ``{"PutObject": {"cf-create-bucket-if-missing": "true"}}``.
    """
    if operation_headers is None:
        return {}
    if not isinstance(operation_headers, Mapping):
        raise TypeError("operation_headers must map S3 operation names to header mappings")
    out: dict[str, dict[str, str]] = {}
    for op, headers in operation_headers.items():
        if op not in OPERATIONS:
            raise ValueError(
                f"operation_headers: unknown S3 operation {op!r}; valid names are: "
                + ", ".join(sorted(OPERATIONS))
            )
        out[op] = check_headers(headers, where=f"operation_headers[{op!r}]")
    return out


def merge_call_headers(typed: Mapping[str, str], call: HeaderMap) -> dict[str, str]:
    """Validate one call's ``headers=`` against the same call's typed-argument headers.

    The same header given both ways with different values is an error, not a silent override.
    Returns the call's headers, validated, with lower-case names.

    Args:
        typed: headers produced from typed keyword arguments (already valid, lower-case).
        call: the call's ``headers=`` mapping.
    """
    extra = check_headers(call)
    for name, value in extra.items():
        if name in typed and typed[name] != value:
            raise ValueError(
                f"header {name!r} is given both as a keyword argument ({typed[name]!r}) and in "
                f"headers= ({value!r}); pass it one way only"
            )
    return extra


# ---------------------------------------------------------------------------------------------
# Typed arguments -> headers


def http_date(value: DateLike, *, name: str) -> str:
    """An IMF-fixdate (RFC 7231) for a datetime; a str is validated as such a date.

    Args:
        value: an aware datetime (naive ones are taken as UTC) or an HTTP-date string.
        name: the argument name, for error messages.
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return email.utils.format_datetime(value.astimezone(dt.timezone.utc), usegmt=True)
    if isinstance(value, str):
        try:
            email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name}={value!r} is not an HTTP date; pass a datetime or a string like "
                "'Wed, 21 Oct 2015 07:28:00 GMT'"
            ) from None
        check_header(name, value, where=name)
        return value
    raise TypeError(f"{name} must be a datetime or an HTTP-date str, got {type(value).__name__}")


def _etag_arg(value: str, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"{name} must be a non-empty str (an ETag, a list of ETags, or '*')")
    check_header(name, value, where=name)
    return value


def conditional_headers(
    *,
    if_match: str | None = None,
    if_none_match: str | None = None,
    if_modified_since: DateLike | None = None,
    if_unmodified_since: DateLike | None = None,
    prefix: str = "",
) -> dict[str, str]:
    """Conditional request headers.

    Args:
        if_match: ETag(s) the target must match, or '*'.
        if_none_match: ETag(s) the target must not match; '*' means "only if absent".
        if_modified_since: only if changed after this time.
        if_unmodified_since: only if unchanged since this time.
        prefix: header prefix: '' (plain ``If-*``), 'x-amz-copy-source-' or 'cf-copy-destination-'.
    """
    out: dict[str, str] = {}
    if if_match is not None:
        out[f"{prefix}if-match"] = _etag_arg(if_match, "if_match")
    if if_none_match is not None:
        out[f"{prefix}if-none-match"] = _etag_arg(if_none_match, "if_none_match")
    if if_modified_since is not None:
        out[f"{prefix}if-modified-since"] = http_date(if_modified_since, name="if_modified_since")
    if if_unmodified_since is not None:
        out[f"{prefix}if-unmodified-since"] = http_date(
            if_unmodified_since, name="if_unmodified_since"
        )
    return out


# Metadata values sent as they are: printable ASCII without leading or trailing spaces (HTTP
# strips those) and without "=?" (which a reader would take for the start of an encoded-word).
_PLAIN_METADATA = re.compile(r"^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$")


def rfc2047_encode(value: str) -> str:
    """``value`` as sent in a header, read back identically by ``rfc2047_decode``.

    Plain values pass through. Any other (non-ASCII, control characters, leading or trailing
    spaces, or an ASCII value that looks like an encoded-word, such as ``"=?utf-8?b?aGk=?="``,
    which would otherwise read back as ``"hi"``) becomes UTF-8 base64 encoded-words.
    """
    if "=?" not in value and _PLAIN_METADATA.match(value):
        return value
    raw = value.encode()
    # Encoded-words are limited to 75 characters: 45 raw bytes -> 60 base64 chars + 12 overhead.
    words = []
    start = 0
    while start < len(raw):
        end = min(start + 45, len(raw))
        # Never split a multi-byte UTF-8 character across words.
        while end < len(raw) and (raw[end] & 0xC0) == 0x80:
            end -= 1
        words.append("=?UTF-8?B?" + base64.b64encode(raw[start:end]).decode() + "?=")
        start = end
    return " ".join(words)


def rfc2047_decode(value: str) -> str:
    """Decode RFC 2047 encoded-words (``=?charset?B|Q?...?=``); other values pass through.

    Never raises: a value that only looks encoded (bad base64 such as ``=?utf-8?b?a?=``, an
    unknown charset, bytes invalid in their charset) is returned as it was stored.
    """
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except Exception:
        # email raises HeaderParseError, CharsetError, LookupError, UnicodeDecodeError and
        # more for malformed words; whatever it raises, the stored text is the honest answer.
        return value


def metadata_headers(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """``x-amz-meta-*`` headers for user metadata, RFC 2047-encoding values that need it.

    Every value but those with CR/LF (refused) reads back identically (see ``rfc2047_encode``).

    Args:
        metadata: names (ASCII tokens, stored lower-case) to values (any text); at most 8 KiB
            in total, counted on names plus decoded values as R2 does.
    """
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise TypeError("metadata must be a mapping of str to str")
    out: dict[str, str] = {}
    size = 0
    for name, value in metadata.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError("metadata names and values must be str")
        if name.lower().startswith("x-amz-meta-"):
            name = name[len("x-amz-meta-") :]
        if not name or not _TOKEN.fullmatch(name):
            raise ValueError(
                f"metadata name {name!r} is not a valid header token: use ASCII letters, digits "
                "and -_. (R2 drops non-ASCII metadata names)"
            )
        if "\r" in value or "\n" in value:
            raise ValueError(f"metadata value for {name!r} contains CR/LF; remove line breaks")
        try:
            size += len(name.encode()) + len(value.encode())
        except UnicodeEncodeError:
            raise ValueError(
                f"metadata value for {name!r} contains a lone surrogate, which UTF-8 cannot "
                "encode; pass valid Unicode text"
            ) from None
        out["x-amz-meta-" + name.lower()] = rfc2047_encode(value)
    if size > METADATA_LIMIT:
        raise ValueError(
            f"metadata is {size} bytes; R2 allows at most {METADATA_LIMIT} bytes in total "
            "(names plus values): store large values in the object body instead"
        )
    return out


def read_metadata(headers: Mapping[str, str]) -> dict[str, str]:
    """User metadata from response headers (names lower-case, without the prefix, decoded)."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        lname = name.lower()
        if lname.startswith("x-amz-meta-"):
            out[lname[11:]] = rfc2047_decode(value)
    return out


def sse_c_headers(key: bytes | None, *, copy_source: bool = False) -> dict[str, str]:
    """SSE-C headers for a caller's 32-byte key: algorithm, base64 key, base64 key MD5.

    Args:
        key: the raw 256-bit key (32 bytes), or None for no SSE-C.
        copy_source: produce the ``x-amz-copy-source-server-side-encryption-customer-*`` variant.
    """
    if key is None:
        return {}
    if not isinstance(key, (bytes, bytearray, memoryview)):
        raise TypeError("sse_customer_key must be the raw 32-byte key as bytes (not base64 text)")
    raw = bytes(key)
    if len(raw) != 32:
        raise ValueError(
            f"sse_customer_key must be exactly 32 bytes (AES-256), got {len(raw)}; "
            "use os.urandom(32) and keep the key: R2 cannot recover data without it"
        )
    prefix = (
        "x-amz-copy-source-server-side-encryption-customer-"
        if copy_source
        else ("x-amz-server-side-encryption-customer-")
    )
    return {
        prefix + "algorithm": "AES256",
        prefix + "key": base64.b64encode(raw).decode(),
        prefix + "key-md5": base64.b64encode(hashlib.md5(raw).digest()).decode(),
    }


def storage_class_header(storage_class: str | None) -> dict[str, str]:
    """``x-amz-storage-class`` for STANDARD or STANDARD_IA (the only classes R2 has)."""
    if storage_class is None:
        return {}
    if storage_class not in ("STANDARD", "STANDARD_IA"):
        raise ValueError(
            f"storage_class={storage_class!r}: R2 supports only 'STANDARD' and 'STANDARD_IA'"
        )
    return {"x-amz-storage-class": storage_class}


def system_metadata_headers(
    *,
    content_type: str | None = None,
    cache_control: str | None = None,
    content_disposition: str | None = None,
    content_encoding: str | None = None,
    content_language: str | None = None,
    expires: DateLike | None = None,
) -> dict[str, str]:
    """The system metadata headers that R2 stores with an object."""
    out: dict[str, str] = {}
    for name, value in (
        ("content-type", content_type),
        ("cache-control", cache_control),
        ("content-disposition", content_disposition),
        ("content-encoding", content_encoding),
        ("content-language", content_language),
    ):
        if value is not None:
            arg = name.replace("-", "_")
            if not isinstance(value, str):
                raise TypeError(f"{arg} must be str, got {type(value).__name__}")
            check_header(name, value, where=arg)
            out[name] = value
    if expires is not None:
        out["expires"] = http_date(expires, name="expires")
    return out


def range_header(value: str | tuple[int, int | None] | None) -> dict[str, str]:
    """A ``Range`` header from ``'bytes=0-99'``, ``'bytes=-500'``, or ``(start, end|None)``.

    Args:
        value: a bytes range string, or (first byte, last byte inclusive or None for "to the end").
    """
    if value is None:
        return {}
    if isinstance(value, tuple):
        if len(value) != 2:
            raise ValueError("range tuple must be (start, end) with end inclusive or None")
        start, end = value
        if not isinstance(start, int) or isinstance(start, bool) or start < 0:
            raise ValueError("range start must be an int >= 0")
        if end is not None and (not isinstance(end, int) or isinstance(end, bool) or end < start):
            raise ValueError("range end must be None or an int >= start (end is inclusive)")
        return {"range": f"bytes={start}-{'' if end is None else end}"}
    if isinstance(value, str):
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", value.strip())
        if not m or (not m.group(1) and not m.group(2)):
            raise ValueError(
                f"range={value!r} is malformed; use 'bytes=START-END', 'bytes=START-' or "
                "'bytes=-SUFFIX' (one range only), or a (start, end) tuple"
            )
        if m.group(1) and m.group(2) and int(m.group(2)) < int(m.group(1)):
            raise ValueError(f"range={value!r}: the end is before the start")
        return {"range": value.strip()}
    raise TypeError("range must be a 'bytes=...' str or a (start, end) tuple")


def validate_bucket(bucket: object) -> str:
    """Check an R2 bucket name: 3-63 chars of a-z, 0-9 and '-', alphanumeric at both ends."""
    if not isinstance(bucket, str):
        raise TypeError(f"bucket must be str, got {type(bucket).__name__}")
    if not _BUCKET.fullmatch(bucket):
        raise ValueError(
            f"invalid bucket name {bucket!r}: R2 bucket names are 3-63 characters of a-z, 0-9 "
            "and '-', starting and ending with a letter or digit (no dots, no upper case)"
        )
    return bucket


def validate_key(key: object) -> str:
    """Check an object key: a non-empty str of at most 1,024 UTF-8 bytes."""
    if not isinstance(key, str):
        raise TypeError(f"key must be str, got {type(key).__name__}")
    if not key:
        raise ValueError("key must not be empty")
    n = len(key.encode("utf-8", "surrogatepass"))
    if n > MAX_KEY_BYTES:
        raise ValueError(f"key is {n} bytes in UTF-8; R2 allows at most {MAX_KEY_BYTES}")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("key contains lone surrogates and is not valid Unicode") from None
    return key


def etag_unquoted(etag: str | None) -> str | None:
    """The ETag without surrounding quotes (or a W/ weak prefix)."""
    if etag is None:
        return None
    if etag.startswith("W/"):
        etag = etag[2:]
    return etag.strip('"')


def request_id(headers: Mapping[str, str]) -> str | None:
    """The request id a server put in its response headers (R2/S3 or other compatibles)."""
    return headers.get("x-amz-request-id") or headers.get("cf-ray")
