"""R2's equal-part-size rule is checked before CompleteMultipartUpload is sent."""

from __future__ import annotations

import httpx
import pytest
import respx

from r2async import InvalidPartError, R2Client, UploadPartResult
from r2async._operations.part_sizes import check_part_sizes

BASE = "https://acct.r2.cloudflarestorage.com"
MiB = 1024 * 1024
PART = 5 * MiB
COMPLETE_OK = (
    b"<CompleteMultipartUploadResult><Bucket>bkt</Bucket><Key>k</Key>"
    b'<ETag>"abc-3"</ETag></CompleteMultipartUploadResult>'
)


def _client() -> R2Client:
    return R2Client(account_id="acct", access_key_id="AKID", secret_access_key="SECRET")


@pytest.mark.parametrize(
    "sizes",
    [
        [(1, PART), (2, PART), (3, 1)],
        [(3, 10), (1, PART), (2, PART)],  # any order
        [(1, 7)],  # a single part may be any size
        [(1, PART), (2, None), (3, PART)],  # unknown sizes are not judged
        [(1, PART), (2, PART), (3, PART)],
    ],
)
def test_valid_layouts_pass(sizes: list[tuple[int, int | None]]) -> None:
    check_part_sizes(sizes)


@pytest.mark.parametrize(
    ("sizes", "match"),
    [
        ([(1, PART), (2, PART + 1), (3, 1)], "part 2 is 5242881 bytes .* but part 1 is"),
        ([(1, PART), (2, 2 * PART)], r"the last part \(2\) is 10485760 bytes .* larger"),
        ([(1, MiB), (2, MiB), (3, 1)], "part 1 is 1048576 bytes .* at least 5242880"),
    ],
)
def test_violations_name_the_offending_part(
    sizes: list[tuple[int, int | None]], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        check_part_sizes(sizes)


async def test_unequal_parts_from_upload_part_are_refused_before_complete() -> None:
    async with _client() as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            mock.put(url__regex=r"/bkt/k\?partNumber=\d+&uploadId=U").mock(
                side_effect=[httpx.Response(200, headers={"ETag": f'"e{i}"'}) for i in (1, 2, 3)]
            )
            complete = mock.post(url__regex=r"/bkt/k\?uploadId=U").respond(200)
            parts = [
                await r2.upload_part("bkt", "k", "U", 1, b"a" * PART),
                await r2.upload_part("bkt", "k", "U", 2, b"b" * (PART + 5)),
                await r2.upload_part("bkt", "k", "U", 3, b"c"),
            ]
            assert [p.size for p in parts] == [PART, PART + 5, 1]
            with pytest.raises(ValueError, match="upload part 2 again with 5242880 bytes"):
                await r2.complete_multipart_upload("bkt", "k", "U", parts)
    assert complete.call_count == 0


async def test_verify_part_sizes_asks_list_parts_for_parts_given_by_etag() -> None:
    listing = (
        "<ListPartsResult><Bucket>bkt</Bucket><Key>k</Key><UploadId>U</UploadId>"
        "<IsTruncated>false</IsTruncated>"
        + "".join(
            f'<Part><PartNumber>{n}</PartNumber><ETag>"e{n}"</ETag><Size>{size}</Size></Part>'
            for n, size in ((1, PART), (2, PART), (3, PART + 1))
        )
        + "</ListPartsResult>"
    ).encode()
    async with _client() as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            mock.get(url__regex=r"/bkt/k\?uploadId=U").respond(200, content=listing)
            complete = mock.post(url__regex=r"/bkt/k\?uploadId=U").respond(200, content=COMPLETE_OK)
            tuples = [(1, "e1"), (2, "e2"), (3, "e3")]
            # Without asking, sizes of (number, etag) pairs are unknown: sent as given.
            await r2.complete_multipart_upload("bkt", "k", "U", tuples)
            assert complete.call_count == 1
            with pytest.raises(ValueError, match=r"the last part \(3\)"):
                await r2.complete_multipart_upload("bkt", "k", "U", tuples, verify_part_sizes=True)
    assert complete.call_count == 1


async def test_r2s_invalid_part_answer_is_typed_and_explains_the_rule() -> None:
    body = (
        b"<Error><Code>InvalidPart</Code><Message>All non-trailing parts must have the same "
        b"length.</Message></Error>"
    )
    async with _client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.post(url__regex=r"/bkt/k\?uploadId=U").respond(400, content=body)
            with pytest.raises(InvalidPartError) as info:
                await r2.complete_multipart_upload("bkt", "k", "U", [(1, "e1"), (2, "e2")])
    assert info.value.status_code == 400 and info.value.code == "InvalidPart"
    assert "exactly the same size" in str(info.value)


async def test_upload_part_result_carries_its_size_and_bad_flags_fail_early() -> None:
    assert UploadPartResult(part_number=1, etag='"e"', size=3).size == 3
    async with _client() as r2:
        with pytest.raises(TypeError, match="verify_part_sizes must be True or False"):
            await r2.complete_multipart_upload(
                "bkt",
                "k",
                "U",
                [(1, "e")],
                verify_part_sizes=1,  # type: ignore[arg-type]
            )
