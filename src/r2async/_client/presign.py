"""R2Client methods: presigned URLs for GetObject, HeadObject, PutObject, DeleteObject, UploadPart.

A presigned URL is a built request signed in the query string instead of the headers: each
method runs the same ``build_*`` function as the operation (so validation, key encoding and
typed headers are identical), then signs with ``_auth.presign_url``. Signing is offline: no
request is sent, so these methods are synchronous.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._checksums import ChecksumAlgorithm
from .._headers import DateLike, HeaderMap, StorageClass, merge_call_headers
from .._signing.auth import presign_url
from .._signing.sigv4 import check_expires
from .._spec import RequestSpec
from .base import _ClientBase

if TYPE_CHECKING:
    from .. import _models
    from .._models import PresignedRequest
    from .._operations import multipart as mp_ops
    from .._operations import objects as obj_ops
    from .._session import Session
else:
    from .._lazy import LazyModule

    # Builders and the result model (pydantic) load on first use, not at import.
    _models = LazyModule("r2async._models", globals(), "_models")
    mp_ops = LazyModule("r2async._operations.multipart", globals(), "mp_ops")
    obj_ops = LazyModule("r2async._operations.objects", globals(), "obj_ops")

DEFAULT_EXPIRES_IN = 3600


def _utcnow() -> dt.datetime:
    # One place to read the clock, so tests can sign "in the past" deterministically.
    return dt.datetime.now(dt.timezone.utc)


def _no_computed(checksum_algorithm: str | None, checksum: str | None, content_md5: object) -> None:
    # A presigned URL is signed before the body exists: digests must be given, not computed.
    if checksum_algorithm is not None and checksum is None:
        raise ValueError(
            "a presigned upload is signed before its body exists: pass checksum= with the "
            "body's base64 checksum along with checksum_algorithm="
        )
    if content_md5 is not None and not isinstance(content_md5, str):
        raise TypeError(
            "content_md5 must be the body's base64 MD5 (a presigned upload is signed before "
            "its body exists, so True cannot be computed)"
        )


class PresignMethods(_ClientBase):
    """Presigned URLs for GetObject, HeadObject, PutObject, DeleteObject and UploadPart.

    Expiry is 1 to 604,800 s (7 days). Presigned URLs work only on the S3 endpoint
    (``<ACCOUNT_ID>[.<jurisdiction>].r2.cloudflarestorage.com``), or another S3-compatible
    server's endpoint; not on an R2 custom domain or an ``r2.dev`` public URL, which serve
    objects without S3 authentication. An ``r2.dev`` endpoint is refused with a
    ``ValueError``; any other host that is not R2's S3 endpoint (nor an IP address or
    ``localhost``) gets one ``UserWarning`` per client, since a custom domain would refuse the
    URL. Client-level ``headers=`` and ``operation_headers=`` are not applied:
    whoever uses the URL would have to send them; pass ``headers=`` to a presign call to sign
    extra headers into it.
    """

    def _presign(
        self, spec: RequestSpec, headers: HeaderMap | None, expires_in: int
    ) -> PresignedRequest:
        check_expires(expires_in)
        signed = dict(spec.headers)
        if headers:
            signed.update(merge_call_headers(spec.headers, headers))
        url = self._url(spec)
        shared = self._shared
        _check_presign_host(shared)
        # A clock corrected by a server's RequestTimeTooSkewed applies to URLs too.
        now = _utcnow() + dt.timedelta(seconds=shared.clock_offset)
        credentials = shared.credentials()
        if credentials.expires_at is not None:
            # A URL cannot outlive the temporary credentials it is signed with.
            left = int((credentials.expires_at - now).total_seconds())
            if expires_in > left:
                raise ValueError(
                    f"expires_in={expires_in} outlives the temporary credentials it is signed "
                    f"with ({max(left, 0)} s left); ask for at most that"
                )
        presigned = presign_url(
            method=spec.method,
            url=url,
            credentials=credentials,
            region=self._shared.settings.region,
            expires_in=expires_in,
            headers=signed,
            now=now,
        )
        return _models.PresignedRequest(
            method=spec.method,
            url=presigned,
            headers=signed,
            expires_at=now.replace(microsecond=0) + dt.timedelta(seconds=expires_in),
        )

    def presign_get_object(
        self,
        bucket: str,
        key: str,
        *,
        expires_in: int = DEFAULT_EXPIRES_IN,
        range: str | tuple[int, int | None] | None = None,
        part_number: int | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: DateLike | None = None,
        if_unmodified_since: DateLike | None = None,
        sse_customer_key: bytes | None = None,
        headers: HeaderMap | None = None,
    ) -> PresignedRequest:
        """A presigned GetObject: download ``key`` without credentials until it expires.

        Args:
            bucket: the bucket name.
            key: the object key.
            expires_in: seconds the URL stays valid, 1 to 604,800 (default 3,600).
            range: sign a Range the requester must send ('bytes=0-99' or (start, end|None)).
            part_number: download one part of a multipart object (1-10000), in the query.
            if_match: sign an If-Match the requester must send.
            if_none_match: sign an If-None-Match the requester must send.
            if_modified_since: sign an If-Modified-Since the requester must send.
            if_unmodified_since: sign an If-Unmodified-Since the requester must send.
            sse_customer_key: the object's 32-byte SSE-C key; its headers must be sent too.
            headers: extra headers to sign (the requester must send them).
        """
        spec = obj_ops.build_get_object(
            bucket,
            key,
            range=range,
            part_number=part_number,
            if_match=if_match,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
            if_unmodified_since=if_unmodified_since,
            sse_customer_key=sse_customer_key,
        )
        return self._presign(spec, headers, expires_in)

    def presign_head_object(
        self,
        bucket: str,
        key: str,
        *,
        expires_in: int = DEFAULT_EXPIRES_IN,
        part_number: int | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: DateLike | None = None,
        if_unmodified_since: DateLike | None = None,
        sse_customer_key: bytes | None = None,
        headers: HeaderMap | None = None,
    ) -> PresignedRequest:
        """A presigned HeadObject: read ``key``'s metadata without credentials.

        Args:
            bucket: the bucket name.
            key: the object key.
            expires_in: seconds the URL stays valid, 1 to 604,800 (default 3,600).
            part_number: describe one part of a multipart object (1-10000).
            if_match: sign an If-Match the requester must send.
            if_none_match: sign an If-None-Match the requester must send.
            if_modified_since: sign an If-Modified-Since the requester must send.
            if_unmodified_since: sign an If-Unmodified-Since the requester must send.
            sse_customer_key: the object's 32-byte SSE-C key; its headers must be sent too.
            headers: extra headers to sign (the requester must send them).
        """
        spec = obj_ops.build_head_object(
            bucket,
            key,
            part_number=part_number,
            if_match=if_match,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
            if_unmodified_since=if_unmodified_since,
            sse_customer_key=sse_customer_key,
        )
        return self._presign(spec, headers, expires_in)

    def presign_put_object(
        self,
        bucket: str,
        key: str,
        *,
        expires_in: int = DEFAULT_EXPIRES_IN,
        content_type: str | None = None,
        content_length: int | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        content_language: str | None = None,
        expires: DateLike | None = None,
        metadata: Mapping[str, str] | None = None,
        storage_class: StorageClass | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: DateLike | None = None,
        if_unmodified_since: DateLike | None = None,
        sse_customer_key: bytes | None = None,
        checksum_algorithm: ChecksumAlgorithm | None = None,
        checksum: str | None = None,
        content_md5: str | None = None,
        headers: HeaderMap | None = None,
    ) -> PresignedRequest:
        """A presigned PutObject: upload to ``key`` without credentials until it expires.

        Every typed argument becomes a signed header the uploader must send unchanged (they
        are in the result's ``headers``): a signed ``content_type`` fixes the stored type, a
        signed ``content_length`` the exact size, ``if_none_match='*'`` makes it create-only.

        Args:
            bucket: the bucket name.
            key: the object key.
            expires_in: seconds the URL stays valid, 1 to 604,800 (default 3,600).
            content_type: the Content-Type the uploader must send (default: not signed).
            content_length: the exact body size the uploader must send (default: any size).
            cache_control: the Cache-Control to store.
            content_disposition: the Content-Disposition to store.
            content_encoding: the Content-Encoding to store.
            content_language: the Content-Language to store.
            expires: the Expires to store.
            metadata: user metadata to store (signed ``x-amz-meta-*`` headers).
            storage_class: 'STANDARD' or 'STANDARD_IA'.
            if_match: write only if the current object's ETag matches.
            if_none_match: '*' writes only if the key is absent.
            if_modified_since: write only if the object changed since then.
            if_unmodified_since: write only if the object did not change since then.
            sse_customer_key: a 32-byte SSE-C key (its headers go in ``headers``: keep them
                secret).
            checksum_algorithm: with ``checksum``, an ``x-amz-checksum-*`` R2 will verify.
            checksum: the body's base64 checksum (required with ``checksum_algorithm``).
            content_md5: the body's base64 MD5 for R2 to verify (default none).
            headers: extra headers to sign (the requester must send them).
        """
        _no_computed(checksum_algorithm, checksum, content_md5)
        spec = obj_ops.build_put_object(
            bucket,
            key,
            b"",
            checksum_algorithm=checksum_algorithm,
            checksum=checksum,
            content_md5=content_md5,
            content_type=content_type,
            cache_control=cache_control,
            content_disposition=content_disposition,
            content_encoding=content_encoding,
            content_language=content_language,
            expires=expires,
            metadata=metadata,
            storage_class=storage_class,
            if_match=if_match,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
            if_unmodified_since=if_unmodified_since,
            sse_customer_key=sse_customer_key,
        )
        _sign_length(spec, content_length)
        return self._presign(spec, headers, expires_in)

    def presign_delete_object(
        self,
        bucket: str,
        key: str,
        *,
        expires_in: int = DEFAULT_EXPIRES_IN,
        headers: HeaderMap | None = None,
    ) -> PresignedRequest:
        """A presigned DeleteObject: delete ``key`` without credentials until it expires.

        Args:
            bucket: the bucket name.
            key: the object key.
            expires_in: seconds the URL stays valid, 1 to 604,800 (default 3,600).
            headers: extra headers to sign (the requester must send them).
        """
        spec = obj_ops.build_delete_object(bucket, key)
        return self._presign(spec, headers, expires_in)

    def presign_upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        *,
        expires_in: int = DEFAULT_EXPIRES_IN,
        content_length: int | None = None,
        content_md5: str | None = None,
        checksum_algorithm: ChecksumAlgorithm | None = None,
        checksum: str | None = None,
        sse_customer_key: bytes | None = None,
        headers: HeaderMap | None = None,
    ) -> PresignedRequest:
        """A presigned UploadPart, so a browser or worker can upload one part of your upload.

        Create and complete the upload yourself; the uploader returns the part's ``ETag``
        response header for ``complete_multipart_upload`` (with CORS, expose ``ETag``).

        Args:
            bucket: the bucket name.
            key: the object key.
            upload_id: ``create_multipart_upload(...).upload_id``.
            part_number: 1 to 10,000.
            expires_in: seconds the URL stays valid, 1 to 604,800 (default 3,600).
            content_length: the exact part size the uploader must send (default: any size).
            content_md5: the part's base64 MD5 for R2 to verify (default none).
            checksum_algorithm: with ``checksum``, an ``x-amz-checksum-*`` R2 will verify.
            checksum: the part's base64 checksum (required with ``checksum_algorithm``).
            sse_customer_key: the upload's 32-byte SSE-C key.
            headers: extra headers to sign (the requester must send them).
        """
        _no_computed(checksum_algorithm, checksum, content_md5)
        spec = mp_ops.build_upload_part(
            bucket,
            key,
            upload_id,
            part_number,
            b"",
            content_md5=content_md5,
            checksum_algorithm=checksum_algorithm,
            checksum=checksum,
            sse_customer_key=sse_customer_key,
        )
        _sign_length(spec, content_length)
        return self._presign(spec, headers, expires_in)


def _sign_length(spec: RequestSpec, content_length: int | None) -> None:
    spec.body = None
    if content_length is None:
        return
    if isinstance(content_length, bool) or not isinstance(content_length, int):
        raise TypeError("content_length must be an int number of bytes")
    if content_length < 0:
        raise ValueError("content_length must be >= 0")
    spec.headers["content-length"] = str(content_length)


_R2_S3_SUFFIX = ".r2.cloudflarestorage.com"


def _check_presign_host(shared: Session) -> None:
    # An R2 custom domain or r2.dev URL serves objects without S3 auth and refuses presigned
    # requests (R2 reference, section 1): refuse what is certainly wrong, warn once otherwise.
    host = shared.endpoint.host
    if host.endswith(".r2.dev"):
        raise ValueError(
            f"cannot presign for {host}: r2.dev URLs serve public buckets without S3 "
            "authentication; use endpoint_url='https://<ACCOUNT_ID>.r2.cloudflarestorage.com'"
        )
    if host.endswith(_R2_S3_SUFFIX) or shared.presign_host_checked:
        return
    shared.presign_host_checked = True
    import ipaddress

    try:
        ipaddress.ip_address(host)
        return  # a test server or an on-premises S3-compatible server
    except ValueError:
        pass
    if host == "localhost" or host.endswith(".localhost"):
        return
    import warnings

    warnings.warn(
        f"presigning for {host}, which is not R2's S3 endpoint: fine for another "
        "S3-compatible server, but an R2 custom domain does not accept presigned URLs "
        "(use https://<ACCOUNT_ID>.r2.cloudflarestorage.com)",
        UserWarning,
        stacklevel=4,
    )
