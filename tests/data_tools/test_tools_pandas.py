"""pandas on r2:// URLs (the docs' examples, then more)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from r2async.fs import R2FileSystem

from .docs_examples import run_example


def test_docs_pandas_examples(docs_env: str) -> None:
    names = run_example("pandas")
    assert names["back"].equals(names["df"])
    assert names["same"].equals(names["df"])
    assert len(run_example("storage-options")["df"]) == 3


def test_parquet_and_csv_roundtrip_with_storage_options(
    fs_options: dict[str, Any], base: str
) -> None:
    df = pd.DataFrame({"n": range(50_000), "s": [f"row {i}" for i in range(50_000)]})
    url = f"r2://{base}/frame.parquet"
    df.to_parquet(url, storage_options=fs_options, row_group_size=10_000)
    assert pd.read_parquet(url, storage_options=fs_options).equals(df)
    subset = pd.read_parquet(url, columns=["n"], storage_options=fs_options)
    assert list(subset.columns) == ["n"] and subset["n"].sum() == df["n"].sum()
    df.to_csv(f"r2://{base}/frame.csv.gz", index=False, storage_options=fs_options)
    back = pd.read_csv(f"r2://{base}/frame.csv.gz", storage_options=fs_options)
    assert back.equals(df)
    fs = R2FileSystem(**fs_options)
    assert (
        fs.info(f"{base}/frame.csv.gz")["size"] < 400_000
    )  # gzip-compressed on the way up (~1 MB raw)
