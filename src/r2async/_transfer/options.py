"""Transfer arguments: validated before any I/O into UploadOptions and DownloadOptions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from .._checksums import ALGORITHMS, ChecksumAlgorithm
from .._headers import HeaderMap, check_headers, validate_bucket, validate_key

# Limits and defaults live in a small module of their own, so that the client's method
# signatures can use them without importing this one.
from .._limits import (
    DEFAULT_PART_SIZE,
    MAX_CONCURRENCY,
    MAX_OBJECT_SIZE,
    MAX_PART_SIZE,
    MAX_PARTS,
    MAX_SINGLE_PUT,
    MIN_PART_SIZE,
    MiB,
)
from .._operations.objects import object_write_headers
from .files import IO_CHUNK
from .progress import ProgressCallback

if TYPE_CHECKING:
    from .._streaming import ObjectStream
    from .client import TransferClient

# Typed keyword arguments shared with put_object that describe the object to write.
WRITE_ARGS = (
    "content_type",
    "cache_control",
    "content_disposition",
    "content_encoding",
    "content_language",
    "expires",
    "metadata",
    "storage_class",
    "if_match",
    "if_none_match",
    "if_modified_since",
    "if_unmodified_since",
    "create_bucket_if_missing",
    "sse_customer_key",
)
CONDITIONS = ("if_match", "if_none_match", "if_modified_since", "if_unmodified_since")


def _int_arg(name: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name}={value} is out of range; use {low:,} to {high:,}")
    return value


def check_part_size(part_size: object) -> int:
    """Validate ``part_size=``: R2 needs 5 MiB to 5 GiB - 5 MiB."""
    return _int_arg("part_size", part_size, MIN_PART_SIZE, MAX_PART_SIZE)


def check_concurrency(concurrency: object) -> int:
    """Validate ``concurrency=``: 1 to 64 parallel requests (the connection pool size)."""
    return _int_arg("concurrency", concurrency, 1, MAX_CONCURRENCY)


def check_threshold(threshold: object) -> int:
    """Validate ``threshold=``: 0 to 5 GiB - 5 MiB (the largest single PutObject)."""
    return _int_arg("threshold", threshold, 0, MAX_SINGLE_PUT)


def check_progress(progress: object) -> ProgressCallback | None:
    """Validate ``progress=``: None or a callable taking (bytes_transferred, total)."""
    if progress is not None and not callable(progress):
        raise TypeError("progress must be a callable(bytes_transferred, total) or None")
    return progress


def part_size_for(size: int, part_size: int = DEFAULT_PART_SIZE) -> int:
    """The part size to upload ``size`` bytes: ``part_size``, raised so 10,000 parts suffice.

    Args:
        size: the object's total size in bytes.
        part_size: the preferred part size (default 8 MiB); raised (to a whole MiB) if
            ``size`` would need more than 10,000 parts.
    """
    if size > MAX_OBJECT_SIZE:
        raise ValueError(
            f"the object is {size:,} bytes; R2's largest object is {MAX_OBJECT_SIZE:,} bytes"
        )
    needed = -(-size // MAX_PARTS)
    if needed > part_size:
        part_size = -(-needed // MiB) * MiB
    return min(part_size, MAX_PART_SIZE)


def _checksum_arg(checksum_algorithm: object) -> ChecksumAlgorithm | None:
    if checksum_algorithm is None:
        return None
    alg = checksum_algorithm.upper() if isinstance(checksum_algorithm, str) else ""
    if alg not in ALGORITHMS:
        raise ValueError(
            f"checksum_algorithm={checksum_algorithm!r}; use one of {', '.join(ALGORITHMS)}"
        )
    return cast("ChecksumAlgorithm", alg)


@dataclass
class UploadOptions:
    """Everything about one upload that is not the data."""

    bucket: str
    key: str
    write_args: dict[str, Any]
    checksum_algorithm: ChecksumAlgorithm | None
    part_size: int
    threshold: int
    concurrency: int
    progress: ProgressCallback | None
    headers: HeaderMap | None
    timeout: Any
    what: str  # the public method name, for messages

    @classmethod
    def build(
        cls,
        what: str,
        bucket: str,
        key: str,
        *,
        write_args: Mapping[str, Any],
        checksum_algorithm: str | None,
        part_size: int,
        threshold: int,
        concurrency: int,
        progress: ProgressCallback | None,
        headers: HeaderMap | None,
        timeout: Any,
    ) -> UploadOptions:
        """Validate every argument before any I/O."""
        validate_bucket(bucket)
        validate_key(key)
        args = {k: v for k, v in write_args.items() if k in WRITE_ARGS}
        object_write_headers(**args)  # raises ValueError/TypeError on bad typed arguments
        check_headers(headers, where="headers")
        return cls(
            bucket=bucket,
            key=key,
            write_args=args,
            checksum_algorithm=_checksum_arg(checksum_algorithm),
            part_size=check_part_size(part_size),
            threshold=check_threshold(threshold),
            concurrency=check_concurrency(concurrency),
            progress=check_progress(progress),
            headers=headers,
            timeout=timeout,
            what=what,
        )

    @property
    def conditions(self) -> dict[str, Any]:
        """The conditional arguments, which also go on CompleteMultipartUpload."""
        return {k: self.write_args[k] for k in CONDITIONS if self.write_args.get(k) is not None}


@dataclass
class DownloadOptions:
    """Everything about one download that is not the destination."""

    bucket: str
    key: str
    read_args: dict[str, Any]  # conditions and sse_customer_key for the first request
    part_size: int
    concurrency: int
    progress: ProgressCallback | None
    headers: HeaderMap | None
    timeout: Any

    @classmethod
    def build(
        cls,
        bucket: str,
        key: str,
        *,
        read_args: Mapping[str, Any],
        part_size: int,
        concurrency: int,
        progress: ProgressCallback | None,
        headers: HeaderMap | None,
        timeout: Any,
    ) -> DownloadOptions:
        """Validate every argument before any I/O."""
        from .._operations.objects import read_headers

        validate_bucket(bucket)
        validate_key(key)
        args = {k: v for k, v in read_args.items() if v is not None}
        read_headers(**args)  # raises ValueError/TypeError on bad typed arguments
        check_headers(headers, where="headers")
        return cls(
            bucket=bucket,
            key=key,
            read_args=args,
            part_size=check_part_size(part_size),
            concurrency=check_concurrency(concurrency),
            progress=check_progress(progress),
            headers=headers,
            timeout=timeout,
        )

    def stream(
        self, client: TransferClient, span: tuple[int, int] | None, etag: str | None
    ) -> ObjectStream:
        """A ranged GET of ``span`` (inclusive), pinned to ``etag`` when given."""
        args = dict(self.read_args)
        if etag is not None:
            # The object is pinned now: the caller's own conditions were checked by the first
            # request, and If-Match alone makes every later range come from that same object.
            for name in CONDITIONS:
                args.pop(name, None)
            args["if_match"] = etag
        return client.stream_object(
            self.bucket,
            self.key,
            range=span,
            chunk_size=IO_CHUNK,
            headers=self.headers,
            timeout=self.timeout,
            **args,
        )
