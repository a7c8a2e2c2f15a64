"""Fixtures for the command-line tests: the script with the local server's credentials."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TypeVar

import pytest
from tests.cli.runner import Cli, Store, base_env

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


@pytest.fixture(scope="session")
def store(s3_server: LocalR2Server) -> Iterator[Store]:
    """Server-side checks without a subprocess."""
    checker = Store(s3_server)
    try:
        yield checker
    finally:
        checker.close()
