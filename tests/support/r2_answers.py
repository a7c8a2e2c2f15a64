"""What R2 always sends with an object, for mocks and loopback servers that stand in for it.

R2 answers every GetObject/HeadObject with ``ETag``, ``Content-Length`` and ``Last-Modified``,
every PutObject with ``ETag``, and lists every object with ``Key``, ``LastModified``, ``ETag``
and ``Size``; r2async's results declare these fields non-optional and refuse a response without
them (``ResponseParseError``). A mock that leaves them out tests a server R2 is not, so mocks
build their answers from here and drop a field only to test that refusal.

```python
route.respond(200, headers=object_headers(DATA), content=DATA)
route.respond(200, headers=object_headers(size=5, etag='"e"'))   # HEAD: no body
f"<ListBucketResult>{listing_entry('k', size=1)}</ListBucketResult>"
```
"""

from __future__ import annotations

import hashlib

__all__ = ["LAST_MODIFIED", "LAST_MODIFIED_ISO", "etag_of", "listing_entry", "object_headers"]

# One fixed time: answers stay deterministic, and tests may compare it.
LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"
LAST_MODIFIED_ISO = "2025-01-01T00:00:00.000Z"


def etag_of(data: bytes) -> str:
    """The quoted hex MD5 of ``data``: a single-PUT object's ETag on R2."""
    return '"' + hashlib.md5(data).hexdigest() + '"'


def object_headers(
    body: bytes = b"",
    *,
    size: int | None = None,
    etag: str | None = None,
    last_modified: str = LAST_MODIFIED,
    **extra: str,
) -> dict[str, str]:
    """Response headers of a GET/HEAD (or PUT) of an object, as R2 sends them.

    Args:
        body: the body the response carries (its length and MD5 fill the defaults).
        size: Content-Length (default ``len(body)``; a HEAD gives the object's size here).
        etag: ETag (default the quoted MD5 of ``body``).
        last_modified: Last-Modified (an HTTP date).
        extra: more headers, by name (``content_range="..."`` is sent as ``content-range``).
    """
    headers = {
        "Content-Length": str(len(body) if size is None else size),
        "ETag": etag if etag is not None else etag_of(body),
        "Last-Modified": last_modified,
    }
    headers.update({name.replace("_", "-"): value for name, value in extra.items()})
    return headers


def listing_entry(
    key: str,
    *,
    size: int = 1,
    etag: str = '"e"',
    last_modified: str = LAST_MODIFIED_ISO,
    more: str = "",
) -> str:
    """One ``<Contents>`` element of a listing, with what R2 always lists (``key`` as given).

    Args:
        key: the <Key> text, already escaped or URL-encoded as the test needs.
        size: <Size>.
        etag: <ETag> (quoted, as R2 lists it).
        last_modified: <LastModified> (ISO 8601).
        more: further child elements, inserted verbatim (e.g. '<StorageClass>..').
    """
    quoted = etag.replace('"', "&quot;")
    return (
        f"<Contents><Key>{key}</Key><LastModified>{last_modified}</LastModified>"
        f"<ETag>{quoted}</ETag><Size>{size}</Size>{more}</Contents>"
    )
