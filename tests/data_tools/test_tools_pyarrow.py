"""pyarrow datasets (hive partitioning) through PyFileSystem(FSSpecHandler(R2FileSystem))."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from pyarrow.fs import FSSpecHandler, PyFileSystem

from r2async.fs import R2FileSystem

from .docs_examples import run_example


def test_docs_pyarrow_example(docs_env: str) -> None:
    names = run_example("pyarrow")
    assert names["recent"].num_rows == 1
    assert names["recent"].column("amount").to_pylist() == [30]


def test_hive_dataset_partition_pruning(fs_options: dict[str, Any], base: str) -> None:
    fs = R2FileSystem(**fs_options, skip_instance_cache=True)
    filesystem = PyFileSystem(FSSpecHandler(fs))
    table = pa.table({"day": [d % 5 for d in range(1000)], "v": list(range(1000))})
    ds.write_dataset(
        table,
        f"{base}/events",
        format="parquet",
        partitioning=["day"],
        partitioning_flavor="hive",
        filesystem=filesystem,
    )
    assert sorted(fs.ls(f"{base}/events", detail=False)) == [
        f"{base}/events/day={d}" for d in range(5)
    ]
    dataset = ds.dataset(
        f"{base}/events", format="parquet", partitioning="hive", filesystem=filesystem
    )
    assert dataset.count_rows() == 1000
    day3 = dataset.to_table(filter=ds.field("day") == 3)
    assert day3.num_rows == 200 and set(day3.column("v").to_pylist()) == set(range(3, 1000, 5))
    # Plain pyarrow.parquet on the same filesystem.
    single = pq.read_table(f"{base}/events/day=0", filesystem=filesystem)
    assert single.num_rows == 200
