"""Result models of transfers: UploadResult and DownloadResult."""

from __future__ import annotations

from typing import Any

from .._models import ObjectMetadata, _ChecksumFields


class UploadResult(_ChecksumFields):
    """Result of ``upload_file`` / ``upload_stream``.

    ``part_count`` is 0 when the object went out as one PutObject (then ``upload_id`` and
    ``part_size`` are None). ``etag`` is always set: PutObject's, or the multipart ETag.
    """

    bucket: str
    key: str
    size: int
    etag: str
    part_count: int = 0
    part_size: int | None = None
    upload_id: str | None = None
    version_id: str | None = None
    request_id: str | None = None


class DownloadResult(ObjectMetadata):
    """Result of ``download_file``: the object's metadata, where it was written, and checks made.

    ``content_length`` is the whole object's size; ``md5_verified`` says whether the file's MD5
    was compared with a single-part ETag (multipart and SSE-C ETags are not MD5s of the data).
    """

    path: str
    md5_verified: bool = False


def checksums_of(result: object) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _ChecksumFields.model_fields:
        value = getattr(result, name, None)
        if value is not None:
            out[name] = value
    return out
