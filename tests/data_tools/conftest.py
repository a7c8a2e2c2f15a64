"""Fixtures for the data-tool tests: an R2FileSystem (sync and async) on the local server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from r2async.fs import R2FileSystem
from r2async.testing import LocalR2Server


@pytest.fixture(scope="session")
def fs_options(s3_server: LocalR2Server) -> dict[str, Any]:
    """The storage_options that point the filesystem at the local server."""
    return dict(s3_server.client_kwargs)


@pytest.fixture(scope="session")
def fs_bucket(s3_server: LocalR2Server) -> str:
    """One bucket for the session's filesystem tests (each test uses its own prefix)."""
    name = f"fs-{uuid.uuid4().hex[:16]}"
    s3_server.create_bucket(name)
    return name


@pytest.fixture
def fs(fs_options: dict[str, Any]) -> Iterator[R2FileSystem]:
    """A sync-API filesystem (fsspec's I/O thread), not shared with other tests."""
    yield R2FileSystem(**fs_options, skip_instance_cache=True)


@pytest.fixture
def base(fs_bucket: str) -> str:
    """A fresh directory (prefix) inside the session bucket."""
    return f"{fs_bucket}/{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def afs(fs_options: dict[str, Any]) -> AsyncIterator[R2FileSystem]:
    """An async filesystem on the test's own loop (closed at the end)."""
    async with R2FileSystem(**fs_options, asynchronous=True, skip_instance_cache=True) as fs:
        yield fs


@pytest.fixture
def docs_env(monkeypatch: pytest.MonkeyPatch, s3_server: LocalR2Server) -> str:
    """The R2_* variables point at the local server and 'my-bucket' exists (for the docs)."""
    kwargs = s3_server.client_kwargs
    monkeypatch.setenv("R2_ENDPOINT_URL", kwargs["endpoint_url"])
    monkeypatch.setenv("R2_ACCESS_KEY_ID", kwargs["access_key_id"])
    monkeypatch.setenv("R2_SECRET_ACCESS_KEY", kwargs["secret_access_key"])
    monkeypatch.delenv("R2_ACCOUNT_ID", raising=False)
    monkeypatch.delenv("R2_JURISDICTION", raising=False)
    s3_server.create_bucket("my-bucket")
    return "my-bucket"
