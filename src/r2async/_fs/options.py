"""Which constructor arguments build the R2Client, and which keywords are write options."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from typing import Any

__all__ = ["CLIENT_ARGS", "WRITE_OPTIONS", "client_kwargs", "write_kwargs"]

# R2Client's constructor arguments that fit in storage_options (plain, picklable values).
CLIENT_ARGS = (
    "account_id",
    "access_key_id",
    "secret_access_key",
    "session_token",
    "jurisdiction",
    "endpoint_url",
    "headers",
    "operation_headers",
    "timeout",
    "max_retries",
    "transport",
)

# R2's typed write options that pipe_file, put_file and open(..., "wb") accept as keywords;
# passed through to put_object / upload_file / create_multipart_upload unchanged.
WRITE_OPTIONS = (
    "content_type",
    "cache_control",
    "content_disposition",
    "content_encoding",
    "content_language",
    "expires",
    "metadata",
    "storage_class",
    "if_match",
    "if_none_match",
    "if_modified_since",
    "if_unmodified_since",
    "create_bucket_if_missing",
)


def client_kwargs(options: Mapping[str, Any]) -> dict[str, Any]:
    """The R2Client arguments among ``options`` (unset ones left to the ``R2_*`` variables).

    Args:
        options: the filesystem's or store's constructor arguments.
    """
    return {name: options[name] for name in CLIENT_ARGS if options.get(name) is not None}


def write_kwargs(
    kwargs: Mapping[str, Any], key: str, *, mode: str = "overwrite", what: str = "write"
) -> dict[str, Any]:
    """Check a write's keywords and return the R2 write options, Content-Type guessed.

    Args:
        kwargs: the caller's keywords (unknown names raise TypeError, before any request).
        key: the object key (its extension gives the default Content-Type).
        mode: fsspec's write mode, 'overwrite' or 'create' (create-only: ``If-None-Match: *``).
        what: the method name, for messages.
    """
    unknown = sorted(set(kwargs) - set(WRITE_OPTIONS))
    if unknown:
        raise TypeError(
            f"{what}() got unexpected keyword arguments {unknown}; R2 write options are "
            f"{', '.join(WRITE_OPTIONS)}"
        )
    if mode not in ("overwrite", "create"):
        raise ValueError(f"mode must be 'overwrite' or 'create', got {mode!r}")
    out = {name: value for name, value in kwargs.items() if value is not None}
    if mode == "create":
        if out.get("if_none_match", "*") != "*":
            raise ValueError("mode='create' already sends If-None-Match: *")
        out["if_none_match"] = "*"
    if "content_type" not in out:
        # As s3fs does: a browser or a CDN serving the object gets a useful type.
        guessed, _ = mimetypes.guess_type(key)
        if guessed:
            out["content_type"] = guessed
    return out
