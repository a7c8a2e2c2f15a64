"""R2Client methods for buckets: list, create, delete, head, location, CORS, lifecycle, SSE."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from .._exceptions import NotFoundError, ResponseParseError
from .._headers import HeaderMap, request_id
from .base import NOT_GIVEN, TimeoutTypes, _ClientBase

if TYPE_CHECKING:
    from .._operations import bucket_config as cfg
    from .._operations import buckets as ops
    from .._operations.bucket_config import (
        BucketEncryption,
        CORSRule,
        DeleteBucketCorsResult,
        DeleteBucketLifecycleResult,
        LifecycleRule,
        PutBucketCorsResult,
        PutBucketLifecycleConfigurationResult,
    )
    from .._operations.buckets import (
        Bucket,
        CreateBucketResult,
        DeleteBucketResult,
        HeadBucketResult,
        ListBucketsResult,
        LocationHint,
    )
else:
    from .._lazy import LazyModule

    # Builders, parsers and result models (pydantic) load on first use, not at import.
    cfg = LazyModule("r2async._operations.bucket_config", globals(), "cfg")
    ops = LazyModule("r2async._operations.buckets", globals(), "ops")

# iter_buckets stops after this many pages whatever the server says: at R2's 1,000 buckets per
# page that is 100 million buckets, far above any account, so only a misbehaving server hits it.
_MAX_BUCKET_PAGES = 100_000


class BucketMethods(_ClientBase):
    """Bucket operations: list, create, delete, head, location, CORS, lifecycle, encryption."""

    # -- buckets -------------------------------------------------------------------------------

    async def list_buckets(
        self,
        *,
        prefix: str | None = None,
        start_after: str | None = None,
        continuation_token: str | None = None,
        max_keys: int | None = None,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> ListBucketsResult:
        """List one page of the account's buckets (ListBuckets). ``iter_buckets`` walks all pages.

        Paging uses R2's ``cf-prefix``, ``cf-start-after``, ``cf-continuation-token`` and
        ``cf-max-keys`` request headers; servers without them (AWS, SeaweedFS) ignore them and
        return every bucket in one page.

        Args:
            prefix: only buckets whose name starts with this (default: all).
            start_after: only buckets whose name sorts after this (default: from the start).
            continuation_token: ``next_continuation_token`` of the previous page (default none).
            max_keys: page size, 1-1000 (default: the server's, 1000 on R2).
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = ops.build_list_buckets(
            prefix=prefix,
            start_after=start_after,
            continuation_token=continuation_token,
            max_keys=max_keys,
        )
        response, body = await self._send(spec, headers=headers, timeout=timeout)
        return ops.parse_list_buckets(response.headers, body)

    async def iter_buckets(
        self,
        *,
        prefix: str | None = None,
        start_after: str | None = None,
        max_keys: int | None = None,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> AsyncIterator[Bucket]:
        """Yield every bucket, following R2's continuation tokens across pages.

        ``async for b in r2.iter_buckets(prefix="logs-"): ...``. Paging stops when a page is not
        truncated. A truncated page without a token continues after its last bucket name; a
        token the server already gave, or no progress, raises ``ResponseParseError`` rather
        than looping or silently returning a partial list.

        Args:
            prefix: only buckets whose name starts with this (default: all).
            start_after: start after this bucket name (default: from the start).
            max_keys: page size, 1-1000 (default: the server's, 1000 on R2).
            headers: extra headers for every page request.
            timeout: each page request's timeout (default: the client's).
        """
        token: str | None = None
        after = start_after
        seen: set[str] = set()
        for _ in range(_MAX_BUCKET_PAGES):
            page = await self.list_buckets(
                prefix=prefix,
                start_after=None if token is not None else after,
                continuation_token=token,
                max_keys=max_keys,
                headers=headers,
                timeout=timeout,
            )
            for bucket in page.buckets:
                yield bucket
            if not page.is_truncated:
                return
            next_token = page.next_continuation_token
            if next_token is not None:
                if next_token in seen:
                    raise ResponseParseError(
                        "ListBuckets: the server repeated a continuation token; stopping "
                        "instead of looping (the listing is incomplete)"
                    )
                seen.add(next_token)
                token = next_token
                continue
            # Truncated but no token: resume after the last name, if that is progress.
            last = page.buckets[-1].name if page.buckets else None
            if last is None or (after is not None and last <= after):
                raise ResponseParseError(
                    "ListBuckets: a truncated page had no continuation token and no new "
                    "buckets; stopping (the listing is incomplete)"
                )
            token, after = None, last
        raise ResponseParseError(
            f"ListBuckets: more than {_MAX_BUCKET_PAGES} pages; stopping (the listing is "
            "incomplete)"
        )

    async def create_bucket(
        self,
        bucket: str,
        *,
        location_hint: LocationHint | None = None,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> CreateBucketResult:
        """Create a bucket (CreateBucket).

        There is no ``jurisdiction`` argument: on the S3 API the endpoint host selects the
        jurisdiction, so the bucket is created in this client's (``R2Client(jurisdiction=
        "eu")``) and can only be reached through it afterwards. A location hint is best-effort
        and counts only the first time a name is created. An existing name raises
        ``ConflictError`` (R2 ``BucketConflict``, S3 ``BucketAlreadyOwnedByYou``).

        Args:
            bucket: the name: 3-63 characters of a-z, 0-9 and '-', alphanumeric at both ends.
            location_hint: 'wnam', 'enam', 'weur', 'eeur', 'apac' or 'oc', sent lower case as
                the ``LocationConstraint`` (default None: no body, R2 picks).
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = ops.build_create_bucket(bucket, location_hint=location_hint)
        response, _ = await self._send(spec, headers=headers, timeout=timeout)
        return ops.parse_create_bucket(response.headers)

    async def delete_bucket(
        self,
        bucket: str,
        *,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> DeleteBucketResult:
        """Delete an empty bucket (DeleteBucket); a non-empty one raises ``ConflictError``.

        Args:
            bucket: the bucket name.
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = ops.build_delete_bucket(bucket)
        response, _ = await self._send(spec, headers=headers, timeout=timeout)
        return ops.parse_delete_bucket(response.headers)

    async def head_bucket(
        self,
        bucket: str,
        *,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> HeadBucketResult:
        """Check that a bucket exists and is accessible (HeadBucket).

        A missing bucket raises ``NoSuchBucketError``; no access raises
        ``PermissionDeniedError`` (HEAD responses carry only a status).

        Args:
            bucket: the bucket name.
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = ops.build_head_bucket(bucket)
        response, _ = await self._send(spec, headers=headers, timeout=timeout)
        return ops.parse_head_bucket(response.headers)

    async def get_bucket_location(
        self,
        bucket: str,
        *,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> str:
        """The bucket's ``LocationConstraint`` (GetBucketLocation): always 'auto' on R2.

        Other servers may answer '' (their default region).

        Args:
            bucket: the bucket name.
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = ops.build_get_bucket_location(bucket)
        _, body = await self._send(spec, headers=headers, timeout=timeout)
        return ops.parse_get_bucket_location(body)

    # -- CORS ----------------------------------------------------------------------------------

    async def put_bucket_cors(
        self,
        bucket: str,
        rules: Sequence[CORSRule],
        *,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> PutBucketCorsResult:
        """Replace the bucket's CORS rules (PutBucketCors). Changes take up to 30 s on R2.

        For browser uploads allow ``Content-Type`` (and ``Authorization``) and expose ``ETag``.

        Args:
            bucket: the bucket name.
            rules: one or more ``CORSRule`` (or dicts of their fields); checked against R2's
                rules before sending. Use ``delete_bucket_cors`` to remove all rules.
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = cfg.build_put_bucket_cors(bucket, rules)
        response, _ = await self._send(spec, headers=headers, timeout=timeout)
        return cfg.PutBucketCorsResult(request_id=request_id(response.headers))

    async def get_bucket_cors(
        self,
        bucket: str,
        *,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> list[CORSRule]:
        """The bucket's CORS rules (GetBucketCors); ``[]`` when it has none.

        S3 servers answer 404 ``NoSuchCORSConfiguration`` for a bucket without rules; that is
        returned as an empty list. A missing bucket still raises ``NoSuchBucketError``.

        Args:
            bucket: the bucket name.
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = cfg.build_get_bucket_cors(bucket)
        try:
            _, body = await self._send(spec, headers=headers, timeout=timeout)
        except NotFoundError as exc:
            if exc.code == cfg.NO_CORS_CODE:
                return []
            raise
        return cfg.parse_cors_rules(body)

    async def delete_bucket_cors(
        self,
        bucket: str,
        *,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> DeleteBucketCorsResult:
        """Remove all of the bucket's CORS rules (DeleteBucketCors); succeeds if there were none.

        Args:
            bucket: the bucket name.
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = cfg.build_delete_bucket_cors(bucket)
        response, _ = await self._send(spec, headers=headers, timeout=timeout)
        return cfg.DeleteBucketCorsResult(request_id=request_id(response.headers))

    # -- lifecycle -----------------------------------------------------------------------------

    async def put_bucket_lifecycle_configuration(
        self,
        bucket: str,
        rules: Sequence[LifecycleRule],
        *,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> PutBucketLifecycleConfigurationResult:
        """Replace the bucket's lifecycle rules (PutBucketLifecycleConfiguration).

        The new set replaces R2's default rule (abort multipart uploads after 7 days) too:
        include an ``abort_incomplete_multipart_upload_days`` rule to keep that behaviour.

        Args:
            bucket: the bucket name.
            rules: 1-1000 ``LifecycleRule`` (or dicts of their fields), unique ids; checked
                against R2's rules before sending.
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = cfg.build_put_bucket_lifecycle_configuration(bucket, rules)
        response, _ = await self._send(spec, headers=headers, timeout=timeout)
        return cfg.PutBucketLifecycleConfigurationResult(request_id=request_id(response.headers))

    async def get_bucket_lifecycle_configuration(
        self,
        bucket: str,
        *,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> list[LifecycleRule]:
        """The bucket's lifecycle rules (GetBucketLifecycleConfiguration); ``[]`` when none.

        S3 servers answer 404 ``NoSuchLifecycleConfiguration`` for a bucket without rules;
        that is returned as an empty list. R2 buckets normally report their default 7-day
        multipart-abort rule. A missing bucket still raises ``NoSuchBucketError``.

        Args:
            bucket: the bucket name.
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = cfg.build_get_bucket_lifecycle_configuration(bucket)
        try:
            _, body = await self._send(spec, headers=headers, timeout=timeout)
        except NotFoundError as exc:
            if exc.code == cfg.NO_LIFECYCLE_CODE:
                return []
            raise
        return cfg.parse_lifecycle_rules(body)

    async def delete_bucket_lifecycle(
        self,
        bucket: str,
        *,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> DeleteBucketLifecycleResult:
        """Remove all of the bucket's lifecycle rules (DeleteBucketLifecycle).

        R2's compatibility table does not list this operation, although its lifecycle guide
        uses it; an R2 that refuses it raises ``NotImplementedByR2Error``.

        Args:
            bucket: the bucket name.
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = cfg.build_delete_bucket_lifecycle(bucket)
        response, _ = await self._send(spec, headers=headers, timeout=timeout)
        return cfg.DeleteBucketLifecycleResult(request_id=request_id(response.headers))

    # -- encryption ----------------------------------------------------------------------------

    async def get_bucket_encryption(
        self,
        bucket: str,
        *,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> BucketEncryption:
        """The bucket's default encryption (GetBucketEncryption): AES256 on R2.

        A server without an encryption configuration raises ``NotFoundError`` (code
        ``ServerSideEncryptionConfigurationNotFoundError``); R2 always has one.

        Args:
            bucket: the bucket name.
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = cfg.build_get_bucket_encryption(bucket)
        response, body = await self._send(spec, headers=headers, timeout=timeout)
        return cfg.parse_bucket_encryption(response.headers, body)
