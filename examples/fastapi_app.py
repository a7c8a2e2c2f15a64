"""A FastAPI backend for R2: streaming uploads and downloads, presigned browser uploads, listing.

Run it against R2 (or any S3-compatible endpoint)::

    export R2_ACCOUNT_ID=... R2_ACCESS_KEY_ID=... R2_SECRET_ACCESS_KEY=...
    export APP_BUCKET=my-bucket APP_CORS_ORIGINS=http://127.0.0.1:8000
    uvicorn --app-dir examples fastapi_app:app

or against a local SeaweedFS server with ``python examples/fastapi_app.py`` (needs
``pip install 'r2async[testing]' fastapi uvicorn``), then open http://127.0.0.1:8000.

Endpoints (all under ``/api``):

- ``PUT /api/objects/{key}``: the request body is streamed to R2 as it arrives (never held
  whole): one PutObject when ``Content-Length`` is given, a multipart upload of bounded memory
  when the body is chunked. Objects are write-once: ``If-None-Match: *`` makes R2 refuse to
  replace an existing key, answered here as ``409 Conflict``.
- ``GET /api/objects/{key}``: the object streamed from R2 to the client.
- ``GET /api/objects?prefix=``: the stored objects (first 1,000).
- ``POST /api/presign``: a presigned PUT URL so a browser uploads directly to the bucket, with
  the content type, the exact size and ``If-None-Match: *`` signed into it.
- ``GET /``: a page that uploads a picked file through such a URL and lists the bucket.

The bucket's CORS rule (which origins may PUT with which headers) is set through r2async at
startup, so the browser's direct upload to the bucket is allowed for the page's origin only.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect

from r2async import (
    ConflictError,
    CORSRule,
    NoSuchKeyError,
    PreconditionFailedError,
    R2Client,
)

PAGE = Path(__file__).with_name("static") / "index.html"
# R2's largest single PutObject (5 GiB minus 5 MiB); larger declared bodies go multipart.
MAX_SINGLE_PUT = 5 * 1024**3 - 5 * 1024**2
# Chunked uploads buffer one part per worker: 2 x 8 MiB keeps a request's memory small while
# still overlapping network transfers.
STREAM_PART_SIZE = 8 * 1024 * 1024
STREAM_CONCURRENCY = 2
# Headers the browser sends on the presigned PUT; the bucket's CORS rule must allow them.
BROWSER_UPLOAD_HEADERS = ("content-type", "if-none-match")


@dataclass(frozen=True)
class Settings:
    """How the app reaches its bucket.

    Attributes:
        bucket: the bucket objects are stored in.
        cors_origins: origins allowed to upload directly with presigned URLs (the page's own
            origin, e.g. ``http://127.0.0.1:8000``); none: CORS is left as it is.
        client_kwargs: ``R2Client`` arguments; empty: ``R2Client()`` reads the ``R2_*``
            environment variables.
        presign_expires_in: seconds a presigned upload URL stays valid (default 600).
        max_upload_bytes: the largest upload accepted, through the API or presigned (default
            5 GiB).
    """

    bucket: str
    cors_origins: tuple[str, ...] = ()
    client_kwargs: Mapping[str, Any] = field(default_factory=dict, repr=False)
    presign_expires_in: int = 600
    max_upload_bytes: int = 5 * 1024**3

    @classmethod
    def from_env(cls) -> Settings:
        """Read ``APP_BUCKET`` (required) and ``APP_CORS_ORIGINS`` (comma-separated)."""
        bucket = os.environ.get("APP_BUCKET", "")
        if not bucket:
            raise RuntimeError("set APP_BUCKET to the bucket this app stores objects in")
        origins = os.environ.get("APP_CORS_ORIGINS", "")
        return cls(
            bucket=bucket,
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
        )


class PresignRequest(BaseModel):
    """What the browser asks for: where it wants to upload, what, and how big."""

    key: str
    content_type: str = Field(default="application/octet-stream", max_length=255)
    size: int = Field(ge=0)


class PresignResponse(BaseModel):
    """How the browser must upload: send ``method`` to ``url`` with exactly ``headers``."""

    key: str
    method: str
    url: str
    headers: dict[str, str]
    expires_at: str


class StoredObject(BaseModel):
    """One object of the listing."""

    key: str
    size: int
    etag: str | None
    last_modified: str | None


class ObjectList(BaseModel):
    """The listing: at most 1,000 objects, ``truncated`` when there are more."""

    objects: list[StoredObject]
    truncated: bool


class Uploaded(BaseModel):
    """The result of an upload through the API."""

    key: str
    size: int
    etag: str | None


def check_key(key: str) -> str:
    """Refuse keys that cannot round-trip through URLs; returns the key.

    Browsers, proxies and URL libraries resolve ``.`` and ``..`` path segments (even as
    ``%2E``) before a request leaves, so such a key would be written somewhere else.
    """
    if not key or len(key.encode()) > 1024:
        raise HTTPException(400, "the key must be 1 to 1,024 UTF-8 bytes")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
        raise HTTPException(400, "the key must not contain control characters")
    if key.startswith("/") or any(part in (".", "..") for part in key.split("/")):
        raise HTTPException(400, "the key must not start with '/' or have '.' or '..' segments")
    return key


def _exists(key: str) -> HTTPException:
    return HTTPException(409, f"an object named {key!r} already exists; objects are write-once")


def _too_large(settings: Settings) -> HTTPException:
    return HTTPException(413, f"uploads are limited to {settings.max_upload_bytes} bytes")


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    if not value.isdigit():
        raise HTTPException(400, "Content-Length must be a non-negative integer")
    return int(value)


class _TooLarge(Exception):
    """The streamed body went past the upload limit."""


async def _limited(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    """Pass ``chunks`` through, failing as soon as more than ``limit`` bytes have arrived."""
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise _TooLarge
        yield chunk


class _State:
    """What the lifespan opens for the handlers: the app's client and its settings."""

    r2: R2Client
    settings: Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; with no settings they are read from the environment at startup.

    Args:
        settings: the bucket, CORS origins and client arguments (default:
            ``Settings.from_env()`` and ``R2Client()`` from ``R2_*`` variables).
    """
    # Filled in by the lifespan; the handlers below run only while it is open.
    state = _State()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        current = settings or Settings.from_env()
        # One client for the app's life: it holds the connection pool every request reuses.
        async with R2Client(**current.client_kwargs) as client:
            if current.cors_origins:
                await client.put_bucket_cors(
                    current.bucket,
                    [
                        CORSRule(
                            allowed_origins=current.cors_origins,
                            allowed_methods=("PUT", "GET", "HEAD"),
                            allowed_headers=BROWSER_UPLOAD_HEADERS,
                            expose_headers=("ETag",),
                            max_age_seconds=600,
                        )
                    ],
                )
            state.r2, state.settings = client, current
            yield

    app = FastAPI(title="r2async FastAPI example", lifespan=lifespan)
    page = PAGE.read_text(encoding="utf-8")

    @app.get("/", response_class=HTMLResponse)
    async def index() -> str:
        return page

    @app.put("/api/objects/{key:path}", status_code=201)
    async def upload(key: str, request: Request) -> Uploaded:
        check_key(key)
        current = state.settings
        length = _declared_length(request)
        if length is not None and length > current.max_upload_bytes:
            raise _too_large(current)
        content_type = request.headers.get("content-type", "application/octet-stream")
        try:
            if length is not None and length <= MAX_SINGLE_PUT:
                # Known length: one PutObject that forwards each chunk as it arrives (r2async
                # fails it if the body is not exactly `length` bytes).
                put = await state.r2.put_object(
                    current.bucket,
                    key,
                    request.stream(),
                    content_length=length,
                    content_type=content_type,
                    if_none_match="*",
                )
                return Uploaded(key=key, size=length, etag=put.etag)
            # Unknown (chunked) or very large: multipart holding at most a few parts; a failed
            # upload is aborted by r2async, so nothing is stored.
            result = await state.r2.upload_stream(
                current.bucket,
                key,
                _limited(request.stream(), current.max_upload_bytes),
                content_length=length,
                part_size=STREAM_PART_SIZE,
                concurrency=STREAM_CONCURRENCY,
                content_type=content_type,
                if_none_match="*",
            )
        except (PreconditionFailedError, ConflictError) as exc:
            # 412: the key exists; 409: another conditional write to it is in progress.
            raise _exists(key) from exc
        except _TooLarge as exc:
            raise _too_large(current) from exc
        except ClientDisconnect as exc:
            # Nothing was stored: the PUT lacked bytes / the multipart upload was aborted.
            raise HTTPException(400, "the upload was interrupted") from exc
        return Uploaded(key=key, size=result.size, etag=result.etag)

    @app.get("/api/objects/{key:path}")
    async def download(key: str) -> StreamingResponse:
        check_key(key)
        try:
            # Opened here, before the response starts, so a missing key is a 404 and not a
            # broken 200 response. The body is not read yet.
            stream = await state.r2.open_object(state.settings.bucket, key)
        except NoSuchKeyError as exc:
            raise HTTPException(404, f"no object named {key!r}") from exc
        meta = stream.metadata
        # R2 always sends these (r2async's result fields are not Optional).
        headers = {"content-length": str(meta.content_length), "etag": meta.etag}
        return StreamingResponse(
            # The stream closes itself once read to the end (or on a read error).
            stream,
            media_type=meta.content_type or "application/octet-stream",
            headers=headers,
            # Also closes the R2 response when the client leaves before the body started.
            background=BackgroundTask(stream.aclose),
        )

    @app.get("/api/objects")
    async def list_objects(
        prefix: Annotated[str, Query(max_length=1024)] = "",
    ) -> ObjectList:
        page = await state.r2.list_objects(state.settings.bucket, prefix=prefix or None)
        return ObjectList(
            objects=[
                StoredObject(
                    key=obj.key,
                    size=obj.size,
                    etag=obj.etag,
                    last_modified=obj.last_modified.isoformat() if obj.last_modified else None,
                )
                for obj in page.objects
            ],
            truncated=page.is_truncated,
        )

    @app.post("/api/presign")
    async def presign(body: PresignRequest) -> PresignResponse:
        check_key(body.key)
        current = state.settings
        if body.size > min(current.max_upload_bytes, MAX_SINGLE_PUT):
            raise _too_large(current)
        try:
            await state.r2.head_object(current.bucket, body.key)
        except NoSuchKeyError:
            pass
        else:
            # Only a courtesy: the signed If-None-Match is what actually refuses an overwrite.
            raise _exists(body.key)
        signed = state.r2.presign_put_object(
            current.bucket,
            body.key,
            expires_in=current.presign_expires_in,
            content_type=body.content_type,
            content_length=body.size,
            if_none_match="*",
        )
        return PresignResponse(
            key=body.key,
            method=signed.method,
            url=signed.url,
            headers=signed.headers,
            expires_at=signed.expires_at.isoformat(),
        )

    return app


# For `uvicorn --app-dir examples fastapi_app:app`: settings are read from the environment when
# the app starts, not at import.
app = create_app()


def _serve_locally() -> None:  # pragma: no cover - an interactive demo
    import uvicorn

    from r2async.testing import start_local_server

    host, port = "127.0.0.1", 8000
    with start_local_server(buckets=["uploads"]) as server:
        settings = Settings(
            bucket="uploads",
            cors_origins=(f"http://{host}:{port}",),
            client_kwargs=server.client_kwargs,
        )
        print(f"local S3 server at {server.endpoint_url}; open http://{host}:{port}")
        uvicorn.run(create_app(settings), host=host, port=port)


if __name__ == "__main__":  # pragma: no cover
    _serve_locally()
