"""R2Client: one thin method per S3 operation, assembled from per-family mixins."""

from __future__ import annotations

from typing import Any

from .base import bind_annotation_names
from .buckets import BucketMethods
from .copy import CopyMethods
from .listing import ListingMethods
from .multipart import MultipartMethods
from .objects import ObjectMethods
from .presign import PresignMethods
from .transfer import TransferMethods


class _ResolvesHintsOnFirstLookup(type):
    """Loads the deferred modules on the first public attribute looked up on the class.

    The result models are named in R2Client's annotations but load with the first request
    (``r2async._lazy``). Tools that read the annotations (``typing.get_type_hints``, FastAPI,
    docs generators) look the method up on the class (``R2Client.put_object``), which passes
    through here, so the names exist by the time the annotations are evaluated. Calls on an
    instance (``r2.put_object``) never pass through a metaclass: no cost per request.
    """

    _hints_ready = False

    def __getattribute__(cls, name: str) -> Any:
        if not name.startswith("_") and not type.__getattribute__(cls, "_hints_ready"):
            type.__setattr__(_ResolvesHintsOnFirstLookup, "_hints_ready", True)
            bind_annotation_names()
        return type.__getattribute__(cls, name)


class R2Client(
    TransferMethods,
    PresignMethods,
    MultipartMethods,
    ListingMethods,
    BucketMethods,
    CopyMethods,
    ObjectMethods,
    metaclass=_ResolvesHintsOnFirstLookup,
):
    """An async client for Cloudflare R2 (or any S3-compatible endpoint).

    ``R2Client()`` reads ``R2_ACCOUNT_ID``, ``R2_ACCESS_KEY_ID``, ``R2_SECRET_ACCESS_KEY`` (and
    optionally ``R2_SESSION_TOKEN``, ``R2_JURISDICTION``, ``R2_ENDPOINT_URL``, ``R2_REGION``).
    Use it as ``async with R2Client() as r2:`` or call ``await r2.aclose()`` when done. Headers
    are plain arguments at three levels (client ``headers=``, ``operation_headers=``, per-call
    ``headers=``), all signed, later wins.
    """
