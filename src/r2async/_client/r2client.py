"""R2Client: one thin method per S3 operation, assembled from per-family mixins."""

from __future__ import annotations

from .buckets import BucketMethods
from .copy import CopyMethods
from .listing import ListingMethods
from .multipart import MultipartMethods
from .objects import ObjectMethods
from .presign import PresignMethods
from .transfer import TransferMethods


class R2Client(
    TransferMethods,
    PresignMethods,
    MultipartMethods,
    ListingMethods,
    BucketMethods,
    CopyMethods,
    ObjectMethods,
):
    """An async client for Cloudflare R2 (or any S3-compatible endpoint).

    ``R2Client()`` reads ``R2_ACCOUNT_ID``, ``R2_ACCESS_KEY_ID``, ``R2_SECRET_ACCESS_KEY`` (and
    optionally ``R2_SESSION_TOKEN``, ``R2_JURISDICTION``, ``R2_ENDPOINT_URL``, ``R2_REGION``).
    Use it as ``async with R2Client() as r2:`` or call ``await r2.aclose()`` when done. Headers
    are plain arguments at three levels (client ``headers=``, ``operation_headers=``, per-call
    ``headers=``), all signed, later wins.
    """
