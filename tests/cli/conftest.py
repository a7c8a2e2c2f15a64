"""Fixtures for the command-line tests: the script with the local server's credentials."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import pytest
from tests.cli.runner import Cli, base_env

from r2async import R2Client
from r2async.testing import LocalR2Server

_T = TypeVar("_T")


@pytest.fixture(scope="session")
def cli(s3_server: LocalR2Server) -> Cli:
    """The ``r2async`` script pointed at the local server through R2_* variables."""
    return Cli({**base_env(), **s3_server.env})


@pytest.fixture(scope="module")
def shared_bucket(s3_server: LocalR2Server) -> str:
    """One bucket per test module (tests use distinct prefixes in it)."""
    name = f"cli-{uuid.uuid4().hex[:16]}"
    s3_server.create_bucket(name)
    return name


@pytest.fixture
def prefix() -> str:
    """A fresh key prefix, so tests sharing a bucket never see each other's objects."""
    return f"t{uuid.uuid4().hex[:10]}/"


@pytest.fixture
def call(s3_server: LocalR2Server) -> Iterator[Callable[[Callable[[R2Client], Awaitable[_T]]], _T]]:
    """Run ``fn(client)`` on a fresh client in its own event loop, from a sync test."""

    def run(fn: Callable[[R2Client], Awaitable[_T]]) -> _T:
        async def go() -> _T:
            async with R2Client(**s3_server.client_kwargs) as client:
                return await fn(client)

        return asyncio.run(go())

    yield run
