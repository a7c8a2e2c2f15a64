"""The download MD5 rule, unit by unit: which ETags are compared, and how a mismatch is judged.

Only a 32-hex ETag without SSE-C is compared; a mismatch raises IntegrityError only when
``HEAD ?partNumber=1`` (pinned to the ETag, with the caller's headers and timeout) shows a
single-part object; a multipart answer (a parts count, or a part 1 shorter than the object)
accepts the bytes unverified; a failed HEAD is raised with a note. A fake client, no sockets.
"""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

import anyio
import pytest

from r2async import IntegrityError, NoSuchKeyError
from r2async._md5_check import INLINE_HASH, comparable_md5, confirm_md5, md5_hex, verify_body
from r2async._models import HeadObjectResult


def head_result(**fields: Any) -> HeadObjectResult:
    """A HEAD answer with what R2 always sends; without ``content_length``, an unvalidated one."""
    always: dict[str, Any] = {
        "etag": '"' + "f" * 32 + '"',
        "last_modified": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
    }
    if "content_length" not in fields:
        return HeadObjectResult.model_construct(**always, content_length=None, **fields)
    return HeadObjectResult(**always, **fields)


MD5 = "0123456789abcdef0123456789abcdef"


class FakeHead:
    """Answers head_object with ``answer`` (or raises it), recording each call."""

    def __init__(self, answer: HeadObjectResult | Exception) -> None:
        self.answer = answer
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    async def head_object(self, bucket: str, key: str, **kwargs: Any) -> HeadObjectResult:
        self.calls.append((bucket, key, kwargs))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.parametrize(
    ("etag", "expected"),
    [
        (f'"{MD5}"', MD5),
        (MD5, MD5),
        (f'"{MD5.upper()}"', MD5),  # compared in lower case
        (f'W/"{MD5}"', MD5),
        (None, None),
        ('""', None),
        (f'"{MD5}-2"', None),  # multipart
        (f'"{MD5[:-1]}"', None),  # 31 digits
        (f'"{MD5}0"', None),  # 33 digits
        (f'"{MD5[:-1]}g"', None),  # not hex
        (f'"x{MD5}"', None),
        (f'"{MD5}\n"', None),
    ],
)
def test_only_a_32_hex_etag_is_comparable(etag: str | None, expected: str | None) -> None:
    assert comparable_md5(etag, sse_c=False) == expected


def test_an_sse_c_etag_is_never_comparable() -> None:
    assert comparable_md5(f'"{MD5}"', sse_c=True) is None


def test_md5_hex() -> None:
    assert md5_hex(b"abc") == hashlib.md5(b"abc").hexdigest()


def confirm(probe: FakeHead, digest: str, size: int = 100) -> bool:
    async def main() -> bool:
        return await confirm_md5(
            probe,
            "bkt",
            "k",
            etag=f'"{MD5}"',
            expected=MD5,
            digest=digest,
            size=size,
            headers={"x-extra": "1"},
            timeout=7.0,
        )

    return anyio.run(main)


def test_a_match_sends_nothing() -> None:
    probe = FakeHead(RuntimeError("no HEAD expected"))
    assert confirm(probe, MD5) is True
    assert confirm(probe, MD5.upper()) is True
    assert probe.calls == []


def test_a_mismatch_of_a_single_part_object_raises() -> None:
    probe = FakeHead(head_result(content_length=100))
    with pytest.raises(IntegrityError) as info:
        confirm(probe, "f" * 32)
    message = str(info.value)
    assert "f" * 32 in message and MD5 in message and "'k'" in message and "100" in message
    assert probe.calls == [
        (
            "bkt",
            "k",
            {"part_number": 1, "if_match": f'"{MD5}"', "headers": {"x-extra": "1"}, "timeout": 7.0},
        )
    ]


@pytest.mark.parametrize(
    "head",
    [
        head_result(content_length=99),  # part 1 is shorter: multipart
        head_result(content_length=100, parts_count=1),  # one part, still multipart
        head_result(content_length=100, parts_count=3),
        head_result(parts_count=2),
    ],
)
def test_a_mismatch_of_a_multipart_object_is_accepted_unverified(
    head: HeadObjectResult,
) -> None:
    assert confirm(FakeHead(head), "f" * 32) is False


@pytest.mark.parametrize(
    "head",
    [
        head_result(content_length=100),  # part 1 is the whole object
        head_result(content_length=101),  # impossible: not shown multipart
        head_result(),  # no length, no count: not shown multipart
    ],
)
def test_a_mismatch_not_shown_multipart_raises(head: HeadObjectResult) -> None:
    with pytest.raises(IntegrityError):
        confirm(FakeHead(head), "f" * 32)


def test_a_failed_head_is_raised_with_a_note() -> None:
    error = NoSuchKeyError("gone", status_code=404)
    vars(error)["__notes__"] = ["an earlier note"]  # kept: the new note comes after it
    with pytest.raises(NoSuchKeyError) as info:
        confirm(FakeHead(error), "f" * 32)
    assert info.value is error
    earlier, notes = vars(error)["__notes__"]
    assert earlier == "an earlier note"
    assert "multipart" in notes and "f" * 32 in notes and MD5 in notes and "'k'" in notes


def verify(probe: FakeHead, body: bytes, etag: str | None) -> bool:
    async def main() -> bool:
        return await verify_body(
            probe, "bkt", "k", etag=etag, body=body, headers={"x-h": "v"}, timeout=3.0
        )

    return anyio.run(main)


@pytest.mark.parametrize("size", [1, INLINE_HASH, INLINE_HASH + 1])
def test_verify_body_hashes_small_and_large_bodies(size: int) -> None:
    body = b"x" * size
    probe = FakeHead(head_result(content_length=size))
    etag = '"' + hashlib.md5(body).hexdigest() + '"'
    assert verify(probe, body, etag) is True
    assert probe.calls == []
    with pytest.raises(IntegrityError, match=f"{size:,} bytes"):
        verify(probe, b"y" + body[1:], etag)  # part 1 is the whole body: a single part
    assert probe.calls == [
        ("bkt", "k", {"part_number": 1, "if_match": etag, "headers": {"x-h": "v"}, "timeout": 3.0})
    ]


def test_verify_body_without_a_comparable_etag_is_not_verified() -> None:
    probe = FakeHead(RuntimeError("no HEAD expected"))
    assert verify(probe, b"abc", None) is False
    assert verify(probe, b"abc", f'"{MD5}-2"') is False


def test_verify_body_accepts_an_old_multipart_object() -> None:
    probe = FakeHead(head_result(content_length=2, parts_count=2))
    assert verify(probe, b"abc", f'"{MD5}"') is False


def test_verify_body_of_an_empty_object() -> None:
    probe = FakeHead(head_result(content_length=0))
    assert verify(probe, b"", '"d41d8cd98f00b204e9800998ecf8427e"') is True
    with pytest.raises(IntegrityError):
        verify(probe, b"", f'"{MD5}"')


def test_a_failed_head_without_earlier_notes_gets_one() -> None:
    error = NoSuchKeyError("gone", status_code=404)
    with pytest.raises(NoSuchKeyError):
        confirm(FakeHead(error), "f" * 32)
    (note,) = vars(error)["__notes__"]
    assert note.startswith("while checking whether 'k' is a multipart object")
