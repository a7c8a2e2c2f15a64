"""The transfer names the client methods and the package use, gathered in one module.

``R2Client``'s transfer methods reach this module through a lazy import, so nothing here loads
before the first transfer.
"""

from __future__ import annotations

from .._limits import (
    DEFAULT_CONCURRENCY,
    DEFAULT_PART_SIZE,
    DEFAULT_THRESHOLD,
    MAX_OBJECT_SIZE,
    MAX_PART_SIZE,
    MAX_PARTS,
    MIN_PART_SIZE,
)
from .cleanup import run_shielded
from .download import download_file
from .options import WRITE_ARGS, DownloadOptions, UploadOptions, part_size_for
from .progress import ProgressCallback
from .readers import make_reader
from .results import DownloadResult, UploadResult
from .stream import DownloadStream
from .upload import Uploader

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_PART_SIZE",
    "DEFAULT_THRESHOLD",
    "MAX_OBJECT_SIZE",
    "MAX_PARTS",
    "MAX_PART_SIZE",
    "MIN_PART_SIZE",
    "WRITE_ARGS",
    "DownloadOptions",
    "DownloadResult",
    "DownloadStream",
    "ProgressCallback",
    "UploadOptions",
    "UploadResult",
    "Uploader",
    "download_file",
    "make_reader",
    "part_size_for",
    "run_shielded",
]
