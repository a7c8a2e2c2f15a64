"""zarr v3 arrays written and read back through FsspecStore on the r2 protocol."""

from __future__ import annotations

from typing import Any

import numpy as np
import zarr
from zarr.storage import FsspecStore

from r2async.fs import R2FileSystem

from .docs_examples import run_example


def test_docs_zarr_example(docs_env: str) -> None:
    names = run_example("zarr")
    assert names["again"].shape == (400, 400)
    assert float(names["again"][399, 399]) == 159_999.0


def test_array_roundtrip_and_chunk_objects(fs_options: dict[str, Any], base: str) -> None:
    url = f"r2://{base}/cube.zarr"
    data = np.random.default_rng(0).random((64, 32, 16))
    store = FsspecStore.from_url(url, storage_options=fs_options)
    array = zarr.create_array(store, shape=data.shape, chunks=(16, 16, 16), dtype="f8")
    array[:] = data
    reopened = zarr.open_array(
        FsspecStore.from_url(url, storage_options=fs_options, read_only=True)
    )
    np.testing.assert_array_equal(reopened[:], data)
    np.testing.assert_array_equal(reopened[10:20, 5, ::2], data[10:20, 5, ::2])
    fs = R2FileSystem(**fs_options, skip_instance_cache=True)
    chunks = [p for p in fs.find(f"{base}/cube.zarr") if "/c/" in p]
    assert len(chunks) == 4 * 2 * 1
