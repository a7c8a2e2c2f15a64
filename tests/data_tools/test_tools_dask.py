"""Dask reading r2:// Parquet on a distributed LocalCluster with two worker processes."""

from __future__ import annotations

from .docs_examples import run_example


def test_docs_dask_example_on_two_worker_processes(docs_env: str) -> None:
    # The docs' example starts LocalCluster(n_workers=2) (processes): each worker unpickles
    # the filesystem and builds its own client from the R2_* variables it inherited.
    names = run_example("dask")
    assert names["by_region"].to_dict() == {"eu": 40, "us": 20}
    assert names["cluster"].processes  # the example's print checked 2 workers were up
