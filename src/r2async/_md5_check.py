"""Whether a whole-object read matches its ETag, and when an ETag may be compared at all.

The rule (``download_file``, ``download_stream`` and ``get_object``):

* Only a read of the **whole** object is compared (a ``range=`` or ``part_number=`` read has
  no MD5 to compare with), only without SSE-C (R2's ETag of an SSE-C object is not the MD5 of
  the plaintext), and only when the ETag is 32 hex digits (a multipart ETag ends in ``-<n>``).
* A mismatch is confirmed before it is raised: R2 multipart objects uploaded before
  2023-06-21 may have a 32-hex ETag that is not the MD5 of their body. One
  ``HEAD ?partNumber=1`` pinned to the ETag tells: an answer with ``x-amz-mp-parts-count``
  (S3 sends it only for a multipart object) or a part 1 shorter than the object means the
  object is multipart, so its ETag proves nothing and the read is accepted unverified. Only
  an object shown to be a single part raises :class:`IntegrityError`. A failed HEAD is raised
  as it is (with a note): it neither passes nor condemns the bytes.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any, Protocol

from ._exceptions import IntegrityError, R2Error
from ._headers import etag_unquoted

if TYPE_CHECKING:
    from ._headers import HeaderMap
    from ._models import HeadObjectResult

__all__ = [
    "INLINE_HASH",
    "Md5Probe",
    "comparable_md5",
    "confirm_md5",
    "md5_hex",
    "verify_body",
]

_MD5_ETAG = re.compile(r"[0-9a-fA-F]{32}")
# Bodies up to this size are hashed on the event loop (well under a millisecond); larger
# ones in a worker thread (hashlib releases the GIL), so the loop never waits on a big hash.
INLINE_HASH = 256 * 1024


class Md5Probe(Protocol):
    """The one client call a mismatch needs: HeadObject of part 1."""

    async def head_object(
        self,
        bucket: str,
        key: str,
        *,
        part_number: int | None = ...,
        if_match: str | None = ...,
        headers: HeaderMap | None = ...,
        timeout: Any = ...,
    ) -> HeadObjectResult:
        """HeadObject."""


def _note(exc: BaseException, note: str) -> None:
    """Attach ``note`` to ``exc`` (PEP 678; shown under the traceback, also on Python 3.10)."""
    exc.__notes__ = [*getattr(exc, "__notes__", ()), note]  # type: ignore[attr-defined]


def comparable_md5(etag: str | None, *, sse_c: bool) -> str | None:
    """The lower-case hex MD5 an ETag claims for the whole body, or None if it claims none.

    Args:
        etag: the ETag as received (quotes allowed).
        sse_c: whether the object was read with an SSE-C key (its ETag is then not compared).
    """
    if sse_c:
        return None
    plain = etag_unquoted(etag)
    if plain is None or _MD5_ETAG.fullmatch(plain) is None:
        return None
    return plain.lower()


def md5_hex(data: bytes) -> str:
    """The hex MD5 of ``data`` (blocking: callers run a large one in a worker thread)."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


async def confirm_md5(
    client: Md5Probe,
    bucket: str,
    key: str,
    *,
    etag: str,
    expected: str,
    digest: str,
    size: int,
    headers: HeaderMap | None,
    timeout: Any,
) -> bool:
    """True if ``digest`` is ``expected``; False if not but the object is multipart.

    Raises :class:`IntegrityError` when the digests differ and the object is a single part.

    Args:
        client: the client to send the HEAD with.
        bucket: the bucket name.
        key: the object key.
        etag: the ETag as received, pinned with ``If-Match`` on the HEAD.
        expected: the lower-case MD5 from ``comparable_md5``.
        digest: the hex MD5 of the bytes received.
        size: the object's size in bytes.
        headers: the caller's extra headers, sent with the HEAD too.
        timeout: the HEAD's timeout (as the read's).
    """
    if digest.lower() == expected:
        return True
    try:
        head = await client.head_object(
            bucket, key, part_number=1, if_match=etag, headers=headers, timeout=timeout
        )
    except R2Error as exc:
        _note(
            exc,
            f"while checking whether {key!r} is a multipart object, after the MD5 of its "
            f"bytes ({digest}) did not match its ETag {expected}",
        )
        raise
    if head.parts_count is not None or (
        head.content_length is not None and head.content_length < size
    ):
        # A multipart object (R2 before 2023-06-21): the ETag is not the body's MD5.
        return False
    raise IntegrityError(
        f"the MD5 of the {size:,} bytes received for {key!r} is {digest}, but its ETag (a "
        f"single-part object's MD5) is {expected}; nothing was kept"
    )


async def verify_body(
    client: Md5Probe,
    bucket: str,
    key: str,
    *,
    etag: str | None,
    body: bytes,
    headers: HeaderMap | None,
    timeout: Any,
) -> bool:
    """Compare a whole object read into memory with a plain-MD5 ETag (see the module rule).

    True if compared and equal, False if there was nothing to compare with (or the object is
    multipart); raises :class:`IntegrityError` on a mismatch of a single-part object.

    Args:
        client: the client to send the confirming HEAD with.
        bucket: the bucket name.
        key: the object key.
        etag: the ETag of the response (None: nothing to compare).
        body: the whole object (no range, no part number, no SSE-C).
        headers: the caller's extra headers, sent with the HEAD too.
        timeout: the HEAD's timeout (as the read's).
    """
    expected = comparable_md5(etag, sse_c=False)
    if expected is None or etag is None:
        return False
    if len(body) <= INLINE_HASH:
        digest = md5_hex(body)
    else:
        import anyio.to_thread  # loaded on the first large body only

        digest = await anyio.to_thread.run_sync(md5_hex, body)
    return await confirm_md5(
        client,
        bucket,
        key,
        etag=etag,
        expected=expected,
        digest=digest,
        size=len(body),
        headers=headers,
        timeout=timeout,
    )
