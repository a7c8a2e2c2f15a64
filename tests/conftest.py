"""Shared fixtures: one local SeaweedFS S3 server per test session, a client, fresh buckets."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from r2async import R2Client
from r2async.testing import LocalR2Server, start_local_server

# A separate user-style project with its own pytest.ini, run in its own pytest process by
# tests/examples/test_examples_user_style.py (it must not see these fixtures).
collect_ignore = ["examples/user_style"]


@pytest.fixture(autouse=True)
def _no_aws_configuration(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Keep this machine's AWS configuration (variables, ~/.aws) out of every test."""
    for var in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
    ):
        monkeypatch.delenv(var, raising=False)
    empty = tmp_path_factory.getbasetemp() / "no-aws-config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))


@pytest.fixture(scope="session")
def s3_server() -> Iterator[LocalR2Server]:
    """A real S3-compatible server (SeaweedFS) that verifies SigV4 signatures."""
    server = start_local_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def r2(s3_server: LocalR2Server) -> AsyncIterator[R2Client]:
    """An R2Client pointed at the local server."""
    async with R2Client(**s3_server.client_kwargs) as client:
        yield client


def unique_bucket_name(prefix: str = "t") -> str:
    """A fresh, valid bucket name."""
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


@pytest.fixture
async def bucket(s3_server: LocalR2Server) -> str:
    """A new empty bucket on the local server."""
    name = unique_bucket_name()
    await s3_server.acreate_bucket(name)
    return name
