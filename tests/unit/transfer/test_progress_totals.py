"""ProgressTotals sums the cumulative progress of concurrent transfers for one progress bar."""

from __future__ import annotations

import anyio
import pytest

from r2async import ProgressTotals


def test_sums_cumulative_reports_of_several_transfers() -> None:
    seen: list[tuple[int, int | None]] = []
    totals = ProgressTotals(lambda done, total: seen.append((done, total)))
    a, b = totals.track(), totals.track()
    assert totals.total is None  # sizes not known yet
    a(0, 100)
    b(10, 50)
    a(60, 100)
    b(50, 50)
    a(100, 100)
    assert seen == [(0, None), (10, 150), (70, 150), (110, 150), (150, 150)]
    assert (totals.done, totals.total, totals.transfers) == (150, 150, 2)


def test_a_stream_of_unknown_size_keeps_total_unknown_until_it_ends() -> None:
    totals = ProgressTotals()
    file, stream = totals.track(), totals.track()
    file(10, 20)
    stream(5, None)
    assert (totals.done, totals.total) == (15, None)
    stream(30, 30)  # the final report of a stream gives its size
    file(20, 20)
    assert (totals.done, totals.total) == (50, 50)


def test_bad_callback_is_refused() -> None:
    with pytest.raises(TypeError, match="callable"):
        ProgressTotals(42)  # type: ignore[arg-type]


@pytest.mark.integration
async def test_tracks_concurrent_uploads_through_the_client(r2, bucket, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sizes = [3_000_000, 1_000_000, 7]
    totals = ProgressTotals()
    paths = []
    for i, size in enumerate(sizes):
        path = tmp_path / f"f{i}"
        path.write_bytes(b"x" * size)
        paths.append(path)
    async with anyio.create_task_group() as tg:
        for i, path in enumerate(paths):
            tg.start_soon(
                lambda i=i, p=path: r2.upload_file(bucket, f"k{i}", p, progress=totals.track())
            )
        await r2.upload_stream(bucket, "s", b"y" * 1234, progress=totals.track())
    assert (totals.done, totals.total) == (sum(sizes) + 1234, sum(sizes) + 1234)
