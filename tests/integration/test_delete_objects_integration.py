"""delete_objects against a real S3 server (SeaweedFS). The 2,500-key run is in
test_listing_integration.py; per-key <Error> entries are covered by respx in
test_delete_objects.py (SeaweedFS reports every key, even a missing one, as deleted)."""

from __future__ import annotations

import pytest

from r2async import NoSuchBucketError, R2Client


async def _keys(r2: R2Client, bucket: str) -> list[str]:
    return [o.key async for o in r2.iter_objects(bucket)]


async def test_keys_are_deleted_exactly_as_given(r2: R2Client, bucket: str) -> None:
    # Leading/trailing spaces are part of the key: deleting "  lead" must not touch "lead".
    doomed = ["  lead", "trail ", "a&b<c>\"'", "cr\rkey", "nl\nkey", "tab\tkey", "é/日本", "x+y z%"]
    kept = ["lead", "trail", "crkey", "x y z%"]
    for key in doomed + kept:
        await r2.put_object(bucket, key, b"1")
    result = await r2.delete_objects(bucket, [*doomed, "never-existed"])
    assert sorted(result.deleted) == sorted([*doomed, "never-existed"])
    assert result.errors == []
    assert sorted(await _keys(r2, bucket)) == sorted(kept)


async def test_quiet_mode_reports_nothing_but_deletes(r2: R2Client, bucket: str) -> None:
    for i in range(5):
        await r2.put_object(bucket, f"q/{i}", b"1")
    result = await r2.delete_objects(bucket, [f"q/{i}" for i in range(5)], quiet=True)
    assert result.deleted == [] and result.errors == []
    assert len(result.request_ids) == 1
    assert await _keys(r2, bucket) == []


async def test_missing_bucket_raises(r2: R2Client) -> None:
    with pytest.raises(NoSuchBucketError) as info:
        await r2.delete_objects("no-such-bucket-r2async", ["a"])
    assert info.value.operation == "DeleteObjects"


async def test_keys_xml_cannot_carry_are_refused_and_delete_object_handles_them(
    r2: R2Client, bucket: str
) -> None:
    await r2.put_object(bucket, "ctl\x01", b"1")
    await r2.put_object(bucket, "fine", b"1")
    with pytest.raises(ValueError, match="delete_object"):
        await r2.delete_objects(bucket, ["fine", "ctl\x01"])
    # Nothing was sent: "fine" is still there.
    assert sorted(await _keys(r2, bucket)) == ["ctl\x01", "fine"]
    await r2.delete_object(bucket, "ctl\x01")
    assert await _keys(r2, bucket) == ["fine"]
