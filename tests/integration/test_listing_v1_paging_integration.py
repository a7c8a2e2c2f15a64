"""ListObjects V1 paging with a delimiter against SeaweedFS, which echoes EncodingType=url but
sends NextMarker unencoded: following next_marker lists every key and prefix once."""

from __future__ import annotations

import pytest

from r2async import R2Client

pytestmark = pytest.mark.integration

KEYS = sorted(
    [f"{d}/{i}" for d in ("a", "c", "e+f", "g h", "p%q") for i in range(3)]
    + ["b", "d", "d+", "f%g", "h i", "x+y", "é", "zz"]
)


@pytest.mark.parametrize("page_size", [1, 2, 3, 1000])
async def test_v1_paging_with_a_delimiter_lists_everything_once(
    r2: R2Client, bucket: str, page_size: int
) -> None:
    for key in KEYS:
        await r2.put_object(bucket, key, b"x")
    keys: list[str] = []
    prefixes: list[str] = []
    marker = None
    for _ in range(2 * len(KEYS) + 2):  # bounded: one page per entry at worst
        page = await r2.list_objects_v1(bucket, delimiter="/", marker=marker, max_keys=page_size)
        keys += [o.key for o in page.objects]
        prefixes += page.common_prefixes
        if not page.is_truncated:
            break
        marker = page.next_marker
    else:
        pytest.fail("the V1 listing did not end")
    assert keys == [k for k in KEYS if "/" not in k]
    assert sorted(set(prefixes)) == sorted({k.split("/")[0] + "/" for k in KEYS if "/" in k})
