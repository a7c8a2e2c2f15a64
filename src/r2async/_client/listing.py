"""R2Client methods: listing (ListObjectsV2 and V1, page and object iterators) and DeleteObjects.

Naming: ``list_objects`` is one ListObjectsV2 request (one page). ``list_objects_pages``
yields every page (objects and common prefixes) by following continuation tokens;
``iter_objects`` yields every object across those pages. ``list_objects_v1`` is one ListObjects
V1 request. ``delete_objects`` deletes any number of keys in batches of 1,000.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING

from .._exceptions import ResponseParseError
from .._headers import HeaderMap, request_id, validate_bucket
from .._paging import PageGuard
from .._spec import RequestSpec
from .base import NOT_GIVEN, TimeoutTypes, _ClientBase

if TYPE_CHECKING:
    from .._operations import delete_objects as delete_ops
    from .._operations import listing as ops
    from .._operations.delete_objects import DeleteFailure, DeleteObjectsResult
    from .._operations.listing_models import ListObjectsResult, ListObjectsV1Result, ObjectInfo
else:
    from .._lazy import LazyModule

    # Builders, parsers and result models (pydantic) load on first use, not at import.
    ops = LazyModule("r2async._operations.listing", globals(), "ops")
    delete_ops = LazyModule("r2async._operations.delete_objects", globals(), "delete_ops")


class ListingMethods(_ClientBase):
    """Listing and batch deletion: list_objects (V2 and V1), iterators, delete_objects."""

    async def list_objects(
        self,
        bucket: str,
        *,
        prefix: str | None = None,
        delimiter: str | None = None,
        start_after: str | None = None,
        max_keys: int | None = None,
        continuation_token: str | None = None,
        fetch_owner: bool = False,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> ListObjectsResult:
        """List one page of objects (ListObjectsV2). To walk every page use ``list_objects_pages``.

        Keys come back exactly as stored: r2async asks for ``encoding-type=url`` and decodes.

        Args:
            bucket: the bucket name.
            prefix: only keys starting with this (default: all keys).
            delimiter: group keys sharing a prefix up to this string into ``common_prefixes``
                (typically '/'; default: no grouping).
            start_after: only keys sorting after this one (default: from the start).
            max_keys: page size, 1 to 1000 (default: the server's, 1000); a page holding more
                objects than this is refused (``ResponseParseError``), never trimmed.
            continuation_token: the previous page's ``next_continuation_token`` (default: first
                page).
            fetch_owner: include each object's owner (default False).
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = ops.build_list_objects(
            bucket,
            prefix=prefix,
            delimiter=delimiter,
            start_after=start_after,
            max_keys=max_keys,
            continuation_token=continuation_token,
            fetch_owner=fetch_owner,
        )
        response, body = await self._send(spec, headers=headers, timeout=timeout)
        return ops.parse_list_objects(body, response.headers, spec)

    def list_objects_pages(
        self,
        bucket: str,
        *,
        prefix: str | None = None,
        delimiter: str | None = None,
        start_after: str | None = None,
        max_keys: int | None = None,
        continuation_token: str | None = None,
        fetch_owner: bool = False,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> AsyncIterator[ListObjectsResult]:
        """Every page of a listing: ``async for page in r2.list_objects_pages(bucket): ...``.

        Follows ``next_continuation_token`` while ``is_truncated``. Arguments are checked now;
        requests are sent as you iterate, one page at a time. A server that claims more pages
        but sends no token, repeats one or cycles through a few, sends 1,000 empty pages in a
        row, or goes past 1,000,000 pages raises ``ResponseParseError`` instead of looping.

        Args:
            bucket: the bucket name.
            prefix: only keys starting with this (default: all keys).
            delimiter: group keys into ``common_prefixes`` up to this string (default: none).
            start_after: only keys sorting after this one (default: from the start).
            max_keys: page size, 1 to 1000 (default: the server's, 1000).
            continuation_token: resume from a saved ``next_continuation_token`` (default: start).
            fetch_owner: include each object's owner (default False).
            headers: extra headers for every request.
            timeout: each request's timeout (default: the client's).
        """

        def build(token: str | None) -> RequestSpec:
            # Every page repeats the caller's parameters, as botocore's paginator does.
            return ops.build_list_objects(
                bucket,
                prefix=prefix,
                delimiter=delimiter,
                start_after=start_after,
                max_keys=max_keys,
                continuation_token=token,
                fetch_owner=fetch_owner,
            )

        # Validate everything (call headers included) before the first request.
        first = build(continuation_token)
        self._merged_headers(first, headers)
        return self._pages(first, build, bucket, headers, timeout)

    async def _pages(
        self,
        first: RequestSpec,
        build: Callable[[str | None], RequestSpec],
        bucket: str,
        headers: HeaderMap | None,
        timeout: TimeoutTypes,
    ) -> AsyncIterator[ListObjectsResult]:
        spec = first
        guard = PageGuard(f"ListObjectsV2 (bucket={bucket!r})", "continuation token")
        # Bounded: ends when a page is not truncated, or raises when the server stops making
        # progress (a missing, repeated or cycling token, endless empty pages, MAX_PAGES).
        while True:
            response, body = await self._send(spec, headers=headers, timeout=timeout)
            page = ops.parse_list_objects(body, response.headers, spec)
            yield page
            if not page.is_truncated:
                return
            token = page.next_continuation_token
            if not token:
                raise ResponseParseError(
                    f"ListObjectsV2 (bucket={bucket!r}): the page is truncated but has no "
                    "NextContinuationToken, so the listing cannot continue"
                )
            guard.next(token, entries=len(page.objects) + len(page.common_prefixes))
            spec = build(token)

    def iter_objects(
        self,
        bucket: str,
        *,
        prefix: str | None = None,
        delimiter: str | None = None,
        start_after: str | None = None,
        max_keys: int | None = None,
        fetch_owner: bool = False,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> AsyncIterator[ObjectInfo]:
        """Every object of a listing, across pages: ``async for obj in r2.iter_objects(bucket)``.

        With a delimiter, only objects directly under the prefix are yielded (the common
        prefixes are on the pages of ``list_objects_pages``). Arguments are checked now.

        Args:
            bucket: the bucket name.
            prefix: only keys starting with this (default: all keys).
            delimiter: skip keys containing this after the prefix (default: none).
            start_after: only keys sorting after this one (default: from the start).
            max_keys: page size, 1 to 1000 (default: the server's, 1000).
            fetch_owner: include each object's owner (default False).
            headers: extra headers for every request.
            timeout: each request's timeout (default: the client's).
        """
        pages = self.list_objects_pages(
            bucket,
            prefix=prefix,
            delimiter=delimiter,
            start_after=start_after,
            max_keys=max_keys,
            fetch_owner=fetch_owner,
            headers=headers,
            timeout=timeout,
        )
        return _flatten(pages)

    async def list_objects_v1(
        self,
        bucket: str,
        *,
        prefix: str | None = None,
        delimiter: str | None = None,
        marker: str | None = None,
        max_keys: int | None = None,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> ListObjectsV1Result:
        """List one page with the older ListObjects V1 API (prefer ``list_objects``).

        Continue with ``marker=result.next_marker`` while ``result.is_truncated``: it is the
        server's ``NextMarker`` when sent, else the page's last key or common prefix.

        Args:
            bucket: the bucket name.
            prefix: only keys starting with this (default: all keys).
            delimiter: group keys into ``common_prefixes`` up to this string (default: none).
            marker: only keys sorting after this one (default: from the start).
            max_keys: page size, 1 to 1000 (default: the server's, 1000); a page holding more
                objects than this is refused (``ResponseParseError``), never trimmed.
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = ops.build_list_objects_v1(
            bucket, prefix=prefix, delimiter=delimiter, marker=marker, max_keys=max_keys
        )
        response, body = await self._send(spec, headers=headers, timeout=timeout)
        return ops.parse_list_objects_v1(body, response.headers, spec)

    async def delete_objects(
        self,
        bucket: str,
        keys: Iterable[str],
        *,
        quiet: bool = False,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> DeleteObjectsResult:
        """Delete many keys (DeleteObjects), 1,000 per request, one request after another.

        Per-key failures are returned in ``errors``, not raised; a failed request (e.g.
        NoSuchBucket) raises, and batches before it stay deleted (deleting again is harmless).
        Keys are sent exactly as given (spaces kept). All keys are checked before any request.

        Args:
            bucket: the bucket name.
            keys: the keys to delete, any number (an empty iterable sends nothing).
            quiet: ask the server to report only failures; ``deleted`` stays empty
                (default False).
            headers: extra headers for every request.
            timeout: each request's timeout (default: the client's).
        """
        validate_bucket(bucket)
        if not isinstance(quiet, bool):
            raise TypeError("quiet must be a bool")
        checked = delete_ops.check_delete_keys(keys)
        specs = [
            delete_ops.build_delete_objects(
                bucket, checked[i : i + delete_ops.DELETE_BATCH], quiet=quiet
            )
            for i in range(0, len(checked), delete_ops.DELETE_BATCH)
        ]
        # Check call headers now too, so bad input fails before any batch is sent.
        self._merged_headers(RequestSpec("DeleteObjects", "POST", bucket), headers)
        deleted: list[str] = []
        errors: list[DeleteFailure] = []
        request_ids: list[str] = []
        # Sequential on purpose: R2 rate-limits writes per bucket, and one request at a time
        # keeps a failure's blast radius to the batches already sent.
        for spec in specs:
            response, body = await self._send(spec, headers=headers, timeout=timeout)
            batch_deleted, batch_errors = delete_ops.parse_delete_objects(body)
            deleted.extend(batch_deleted)
            errors.extend(batch_errors)
            rid = request_id(response.headers)
            if rid:
                request_ids.append(rid)
        return delete_ops.DeleteObjectsResult(
            deleted=deleted, errors=errors, request_ids=request_ids
        )


async def _flatten(pages: AsyncIterator[ListObjectsResult]) -> AsyncIterator[ObjectInfo]:
    async for page in pages:
        for obj in page.objects:
            yield obj
