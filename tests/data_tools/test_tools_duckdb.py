"""DuckDB querying r2:// Parquet through register_filesystem."""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from r2async.fs import R2FileSystem

from .docs_examples import run_example


def test_docs_duckdb_example(docs_env: str) -> None:
    assert run_example("duckdb")["rows"] == [("Lima", 19.25), ("Lyon", 21.5)]


def test_globs_over_many_files(fs_options: dict[str, Any], base: str) -> None:
    fs = R2FileSystem(**fs_options, skip_instance_cache=True)
    for part in range(3):
        frame = pd.DataFrame({"part": [part] * 100, "v": range(100)})
        frame.to_parquet(f"r2://{base}/parts/p{part}.parquet", storage_options=fs_options)
    con = duckdb.connect()
    con.register_filesystem(fs)
    rows = con.sql(
        f"SELECT part, sum(v) FROM read_parquet('r2://{base}/parts/*.parquet') "
        "GROUP BY part ORDER BY part"
    ).fetchall()
    assert rows == [(0, 4950), (1, 4950), (2, 4950)]
