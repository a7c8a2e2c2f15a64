"""A user's tests for their own R2 code, using only the fixtures of r2async's pytest plugin.

No conftest.py and no r2async test helpers: ``r2_server``, ``r2_client``, ``r2_bucket`` and
``r2_env`` come from the plugin, registered by the ``pytest11`` entry point.
"""

from __future__ import annotations

import pytest
from reports import ReportExistsError, load_report, save_report, save_report_from_env

from r2async import NoSuchKeyError, R2Client
from r2async.testing import LocalR2Server

ROWS = [{"item": "apples", "count": "3"}, {"item": "pears, ripe", "count": "5"}]
CSV = b'item,count\r\napples,3\r\n"pears, ripe",5\r\n'


async def test_save_report_writes_a_csv_object(r2_client: R2Client, r2_bucket: str) -> None:
    key = await save_report(r2_client, r2_bucket, "2024-q1", ROWS)

    assert key == "reports/2024-q1.csv"
    stored = await r2_client.get_object(r2_bucket, key)
    assert stored.body == CSV
    assert stored.content_type == "text/csv"
    assert stored.metadata == {"rows": "2"}
    assert await load_report(r2_client, r2_bucket, "2024-q1") == ROWS


async def test_save_report_refuses_to_overwrite(r2_client: R2Client, r2_bucket: str) -> None:
    await save_report(r2_client, r2_bucket, "final", ROWS)

    with pytest.raises(ReportExistsError, match=r"reports/final\.csv"):
        await save_report(r2_client, r2_bucket, "final", [{"item": "changed", "count": "0"}])
    assert await load_report(r2_client, r2_bucket, "final") == ROWS


async def test_each_test_gets_a_fresh_empty_bucket(r2_client: R2Client, r2_bucket: str) -> None:
    # The two tests above wrote reports/final.csv and reports/2024-q1.csv to their own buckets.
    with pytest.raises(NoSuchKeyError):
        await r2_client.head_object(r2_bucket, "reports/final.csv")


async def test_code_that_reads_the_environment(
    r2_env: dict[str, str], r2_bucket: str, r2_server: LocalR2Server
) -> None:
    assert r2_env["R2_ENDPOINT_URL"] == r2_server.endpoint_url

    key = await save_report_from_env(r2_bucket, "from-env", ROWS)

    async with R2Client(**r2_server.client_kwargs) as r2:
        assert await load_report(r2, r2_bucket, "from-env") == ROWS
        assert (await r2.head_object(r2_bucket, key)).content_length == len(CSV)


def test_the_server_fixture_in_a_synchronous_test(r2_server: LocalR2Server, r2_bucket: str) -> None:
    assert r2_server.running
    assert r2_server.endpoint_url.startswith("http://127.0.0.1:")
    assert r2_bucket.startswith("test-")
