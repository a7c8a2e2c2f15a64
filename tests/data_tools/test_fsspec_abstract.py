"""fsspec's own test suite (fsspec.tests.abstract) against R2FileSystem on SeaweedFS."""

from __future__ import annotations

import posixpath
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import fsspec.tests.abstract as abstract
import pytest

from r2async.fs import R2FileSystem


class R2Fixtures(abstract.AbstractFixtures):  # type: ignore[misc]
    @pytest.fixture
    def fs(self, fs_options: dict[str, Any]) -> R2FileSystem:
        return R2FileSystem(**fs_options, skip_instance_cache=True)

    @pytest.fixture
    def fs_join(self) -> Callable[..., str]:
        return posixpath.join

    @pytest.fixture
    def fs_path(self, fs: R2FileSystem, fs_bucket: str) -> Iterator[str]:
        path = f"{fs_bucket}/{uuid.uuid4().hex[:12]}"
        yield path
        if fs.exists(path):
            fs.rm(path, recursive=True)

    @pytest.fixture
    def supports_empty_directories(self) -> bool:
        # Object storage has no empty directories: a prefix exists while keys are under it.
        return False

    @pytest.fixture
    def fs_sanitize_path(self) -> Callable[[str], str]:
        return lambda path: path.rstrip("/")


class TestR2Copy(abstract.AbstractCopyTests, R2Fixtures):  # type: ignore[misc]
    pass


class TestR2Get(abstract.AbstractGetTests, R2Fixtures):  # type: ignore[misc]
    pass


class TestR2Put(abstract.AbstractPutTests, R2Fixtures):  # type: ignore[misc]
    pass


class TestR2Open(abstract.AbstractOpenTests, R2Fixtures):  # type: ignore[misc]
    pass


class TestR2Pipe(abstract.AbstractPipeTests, R2Fixtures):  # type: ignore[misc]
    pass
