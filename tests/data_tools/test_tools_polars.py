"""polars reading and lazily scanning Parquet through R2FileSystem files."""

from __future__ import annotations

from typing import Any

import polars as pl

from r2async.fs import R2FileSystem

from .docs_examples import run_example


def test_docs_polars_example(docs_env: str) -> None:
    names = run_example("polars")
    assert names["frame"].shape == (3, 2)
    assert names["warm"]["city"].to_list() == ["Lima", "Lyon"]


def test_lazy_scan_and_read(fs_options: dict[str, Any], base: str) -> None:
    fs = R2FileSystem(**fs_options, skip_instance_cache=True)
    frame = pl.DataFrame({"k": range(200_000), "payload": ["x" * 40] * 200_000})
    with fs.open(f"{base}/wide.parquet", "wb") as f:
        frame.write_parquet(f, compression="uncompressed")
    with fs.open(f"{base}/wide.parquet", "rb") as f:
        lazy = pl.scan_parquet(f).filter(pl.col("k") % 2 == 0).select(pl.col("k").sum())
        assert lazy.collect().item() == sum(range(0, 200_000, 2))
    with fs.open(f"{base}/wide.parquet", "rb") as f:
        assert pl.read_parquet(f).equals(frame)
