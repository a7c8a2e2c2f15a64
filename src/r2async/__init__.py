"""r2async: a pure-async Python client for Cloudflare R2, the S3-compatible object store.

>>> async with R2Client() as r2:
...     await r2.put_object("bucket", "key", b"data", headers={"If-None-Match": "*"})
"""

# Not imported from typing: importing typing costs more than the rest of this module, and
# type checkers treat a module-level TYPE_CHECKING = False as typing.TYPE_CHECKING.
TYPE_CHECKING = False

# Everything is loaded on first use (PEP 562 __getattr__ below): `import r2async`, and so the
# pytest plugin every pytest run loads, costs next to nothing, and the first `from r2async
# import X` loads what X needs. To export a name: add it to __all__ (sorted), to _LAZY (name ->
# module) and to the TYPE_CHECKING imports (for type checkers);
# tests/unit/package/test_lazy_import.py checks the three agree.
if TYPE_CHECKING:
    from ._client.r2client import R2Client
    from ._exceptions import (
        APIConnectionError,
        APIStatusError,
        APITimeoutError,
        BadDigestError,
        BadRequestError,
        ConflictError,
        IntegrityError,
        InternalServerError,
        InvalidRangeError,
        NoSuchBucketError,
        NoSuchKeyError,
        NoSuchUploadError,
        NotFoundError,
        NotImplementedByR2Error,
        NotModifiedError,
        ObjectChangedError,
        PermissionDeniedError,
        PreconditionFailedError,
        R2Error,
        RateLimitError,
        ResponseParseError,
    )
    from ._models import (
        DeleteObjectResult,
        GetObjectResult,
        HeadObjectResult,
        ObjectMetadata,
        PresignedRequest,
        PutObjectResult,
        R2Model,
    )
    from ._models_multipart import (
        AbortMultipartUploadResult,
        CompletedPart,
        CompleteMultipartUploadResult,
        CreateMultipartUploadResult,
        ListMultipartUploadsResult,
        ListPartsResult,
        MultipartUpload,
        Part,
        UploadPartCopyResult,
        UploadPartResult,
    )
    from ._operations.bucket_config import (
        BucketEncryption,
        CORSRule,
        DeleteBucketCorsResult,
        DeleteBucketLifecycleResult,
        LifecycleRule,
        LifecycleTransition,
        PutBucketCorsResult,
        PutBucketLifecycleConfigurationResult,
    )
    from ._operations.buckets import (
        Bucket,
        CreateBucketResult,
        DeleteBucketResult,
        HeadBucketResult,
        ListBucketsResult,
        LocationHint,
    )
    from ._operations.copy import CopyObjectResult
    from ._operations.listing import (
        DeleteFailure,
        DeleteObjectsResult,
        ListObjectsResult,
        ListObjectsV1Result,
        ObjectInfo,
    )
    from ._signing.auth import SigV4Auth, presign_url
    from ._signing.credentials import Credentials
    from ._streaming import ObjectStream
    from ._transfer import DownloadResult, DownloadStream, ProgressCallback, UploadResult
    from ._transports.aiohttp_transport import AiohttpTransport
    from ._transports.pool import PoolTransport

__version__ = "0.1.0"

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AbortMultipartUploadResult",
    "AiohttpTransport",
    "BadDigestError",
    "BadRequestError",
    "Bucket",
    "BucketEncryption",
    "CORSRule",
    "CompleteMultipartUploadResult",
    "CompletedPart",
    "ConflictError",
    "CopyObjectResult",
    "CreateBucketResult",
    "CreateMultipartUploadResult",
    "Credentials",
    "DeleteBucketCorsResult",
    "DeleteBucketLifecycleResult",
    "DeleteBucketResult",
    "DeleteFailure",
    "DeleteObjectResult",
    "DeleteObjectsResult",
    "DownloadResult",
    "DownloadStream",
    "GetObjectResult",
    "HeadBucketResult",
    "HeadObjectResult",
    "IntegrityError",
    "InternalServerError",
    "InvalidRangeError",
    "LifecycleRule",
    "LifecycleTransition",
    "ListBucketsResult",
    "ListMultipartUploadsResult",
    "ListObjectsResult",
    "ListObjectsV1Result",
    "ListPartsResult",
    "LocationHint",
    "MultipartUpload",
    "NoSuchBucketError",
    "NoSuchKeyError",
    "NoSuchUploadError",
    "NotFoundError",
    "NotImplementedByR2Error",
    "NotModifiedError",
    "ObjectChangedError",
    "ObjectInfo",
    "ObjectMetadata",
    "ObjectStream",
    "Part",
    "PermissionDeniedError",
    "PoolTransport",
    "PreconditionFailedError",
    "PresignedRequest",
    "ProgressCallback",
    "PutBucketCorsResult",
    "PutBucketLifecycleConfigurationResult",
    "PutObjectResult",
    "R2Client",
    "R2Error",
    "R2Model",
    "RateLimitError",
    "ResponseParseError",
    "SigV4Auth",
    "UploadPartCopyResult",
    "UploadPartResult",
    "UploadResult",
    "presign_url",
]

_LAZY: dict[str, str] = {
    "APIConnectionError": "._exceptions",
    "APIStatusError": "._exceptions",
    "APITimeoutError": "._exceptions",
    "AbortMultipartUploadResult": "._models_multipart",
    "AiohttpTransport": "._transports.aiohttp_transport",
    "PoolTransport": "._transports.pool",
    "BadDigestError": "._exceptions",
    "BadRequestError": "._exceptions",
    "Bucket": "._operations.buckets",
    "BucketEncryption": "._operations.bucket_config",
    "CORSRule": "._operations.bucket_config",
    "CompleteMultipartUploadResult": "._models_multipart",
    "CompletedPart": "._models_multipart",
    "ConflictError": "._exceptions",
    "CopyObjectResult": "._operations.copy",
    "CreateBucketResult": "._operations.buckets",
    "CreateMultipartUploadResult": "._models_multipart",
    "Credentials": "._signing.credentials",
    "DeleteBucketCorsResult": "._operations.bucket_config",
    "DeleteBucketLifecycleResult": "._operations.bucket_config",
    "DeleteBucketResult": "._operations.buckets",
    "DeleteFailure": "._operations.listing",
    "DeleteObjectResult": "._models",
    "DeleteObjectsResult": "._operations.listing",
    "DownloadResult": "._transfer",
    "DownloadStream": "._transfer",
    "GetObjectResult": "._models",
    "HeadBucketResult": "._operations.buckets",
    "HeadObjectResult": "._models",
    "IntegrityError": "._exceptions",
    "InternalServerError": "._exceptions",
    "InvalidRangeError": "._exceptions",
    "LifecycleRule": "._operations.bucket_config",
    "LifecycleTransition": "._operations.bucket_config",
    "ListBucketsResult": "._operations.buckets",
    "ListMultipartUploadsResult": "._models_multipart",
    "ListObjectsResult": "._operations.listing",
    "ListObjectsV1Result": "._operations.listing",
    "ListPartsResult": "._models_multipart",
    "LocationHint": "._operations.buckets",
    "MultipartUpload": "._models_multipart",
    "NoSuchBucketError": "._exceptions",
    "NoSuchKeyError": "._exceptions",
    "NoSuchUploadError": "._exceptions",
    "NotFoundError": "._exceptions",
    "NotImplementedByR2Error": "._exceptions",
    "NotModifiedError": "._exceptions",
    "ObjectChangedError": "._exceptions",
    "ObjectInfo": "._operations.listing",
    "ObjectMetadata": "._models",
    "ObjectStream": "._streaming",
    "Part": "._models_multipart",
    "PermissionDeniedError": "._exceptions",
    "PreconditionFailedError": "._exceptions",
    "PresignedRequest": "._models",
    "ProgressCallback": "._transfer",
    "PutBucketCorsResult": "._operations.bucket_config",
    "PutBucketLifecycleConfigurationResult": "._operations.bucket_config",
    "PutObjectResult": "._models",
    "R2Client": "._client.r2client",
    "R2Error": "._exceptions",
    "R2Model": "._models",
    "RateLimitError": "._exceptions",
    "ResponseParseError": "._exceptions",
    "SigV4Auth": "._signing.auth",
    "UploadPartCopyResult": "._models_multipart",
    "UploadPartResult": "._models_multipart",
    "UploadResult": "._transfer",
    "presign_url": "._signing.auth",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'r2async' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    # Cached as a real module attribute: later lookups skip this function.
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
