"""The checksum module, pinned down: the pure-Python CRC fallbacks against the published check
values, and every refusal's exact message (each names the fix), raised before any I/O.
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from r2async._checksums import (
    _CRC,
    ALGORITHMS,
    _crc32c_py,
    _crc64nvme_py,
    _reflected_table,
    check_b64_digest,
    checksum_request_headers,
    composite_checksum,
    crc_combine,
    new_hasher,
    normalize_algorithm,
    resolve_checksum_type,
)

CHECK = b"123456789"  # the CRC catalogue's check input
USE = ", ".join(ALGORITHMS)


def test_pure_python_crcs_match_the_catalogue_check_values() -> None:
    assert _crc32c_py(CHECK, 0) == 0xE3069283
    assert _crc64nvme_py(CHECK, 0) == 0xAE8B14860A799888
    # Continuing from a previous value is the same as one pass.
    assert _crc32c_py(CHECK[4:], _crc32c_py(CHECK[:4], 0)) == 0xE3069283
    assert _crc64nvme_py(CHECK[4:], _crc64nvme_py(CHECK[:4], 0)) == 0xAE8B14860A799888


def test_reflected_table_entries() -> None:
    table = _reflected_table(0xEDB88320, 32)  # CRC32: the zlib table
    assert len(table) == 256
    assert (table[0], table[1], table[128], table[255]) == (
        0x00000000,
        0x77073096,
        0xEDB88320,
        0x2D02EF8D,
    )


def test_crc_digest_is_big_endian_of_its_width() -> None:
    crc = _CRC(lambda data, value: value + len(data), 32)
    crc.update(b"\x00" * 258)
    assert crc.digest() == (258).to_bytes(4, "big")
    wide = _CRC(lambda data, value: 1, 64)
    wide.update(b"x")
    assert wide.digest() == b"\x00" * 7 + b"\x01"


def test_crc_combine_is_big_endian() -> None:
    a, b = b"hello ", b"world"
    raw = [new_hasher("CRC64NVME") for _ in range(3)]
    raw[0].update(a)
    raw[1].update(b)
    raw[2].update(a + b)
    assert crc_combine("CRC64NVME", raw[0].digest(), raw[1].digest(), len(b)) == raw[2].digest()
    # A second part of zero bytes (whose CRC is 0) changes nothing.
    empty = new_hasher("CRC64NVME").digest()
    assert crc_combine("CRC64NVME", raw[0].digest(), empty, 0) == raw[0].digest()


@pytest.mark.parametrize("bad", [-1, True, 1.0, "3"])
def test_crc_combine_refuses_a_bad_length(bad: object) -> None:
    with pytest.raises(ValueError, match=r"^len2 must be an int >= 0$"):
        crc_combine("CRC32", b"\0" * 4, b"\0" * 4, bad)  # type: ignore[arg-type]


def test_normalize_algorithm_messages() -> None:
    assert normalize_algorithm("crc32c") == "CRC32C"
    with pytest.raises(TypeError) as type_error:
        normalize_algorithm(5, name="algo")
    assert str(type_error.value) == "algo must be a str such as 'CRC32C', got int"
    with pytest.raises(ValueError) as value_error:
        normalize_algorithm("md4")
    assert str(value_error.value) == f"checksum_algorithm='md4'; use one of {USE}"


def test_new_hasher_refuses_unknown_names() -> None:
    for bad in ("md4", 7):
        with pytest.raises(ValueError) as info:
            new_hasher(bad)  # type: ignore[arg-type]
        assert str(info.value) == f"unknown checksum algorithm {bad!r}; use one of {USE}"


def test_check_b64_digest_messages() -> None:
    md5 = base64.b64encode(hashlib.md5(b"x").digest()).decode()
    assert check_b64_digest(md5, "MD5", name="content_md5") == md5
    with pytest.raises(TypeError) as type_error:
        check_b64_digest(b"x", "MD5", name="content_md5")
    assert str(type_error.value) == "content_md5 must be the base64-encoded MD5 as str"
    # Not base64 at all: refused, never decoded leniently (validate=True).
    for bad in (md5[:-2] + "!!", "a" * 22 + "$$", md5 + "\n"):
        with pytest.raises(ValueError) as value_error:
            check_b64_digest(bad, "MD5", name="content_md5")
        assert str(value_error.value) == f"content_md5={bad!r} is not valid base64"
    hex_text = base64.b64encode(hashlib.md5(b"x").hexdigest().encode()).decode()
    with pytest.raises(ValueError) as size_error:
        check_b64_digest(hex_text, "MD5", name="content_md5")
    assert str(size_error.value) == (
        "content_md5 decodes to 32 bytes but a MD5 is 16 bytes; "
        "pass base64 of the raw digest (not of its hex text)"
    )


def headers(**kwargs: object) -> dict[str, str]:
    args: dict[str, object] = {
        "data": None,
        "checksum_algorithm": None,
        "checksum_value": None,
        "content_md5_arg": None,
    }
    args.update(kwargs)
    return checksum_request_headers(**args)  # type: ignore[arg-type]


def test_checksum_request_header_messages() -> None:
    cases: list[tuple[dict[str, object], type[Exception], str]] = [
        (
            {"checksum_value": "AAAAAA=="},
            ValueError,
            "checksum= needs checksum_algorithm= to say which algorithm it is",
        ),
        (
            {"checksum_algorithm": "CRC32"},
            ValueError,
            "a streamed body cannot be checksummed up front: pass checksum= with the "
            "precomputed base64 value, or send bytes",
        ),
        (
            {"checksum_algorithm": "CRC32", "checksum_value": "AAAA"},
            ValueError,
            "checksum decodes to 3 bytes but a CRC32 is 4 bytes; "
            "pass base64 of the raw digest (not of its hex text)",
        ),
        (
            {"content_md5_arg": True},
            ValueError,
            "content_md5=True needs an in-memory body; for streams pass the base64 MD5 as "
            "content_md5='...'",
        ),
        (
            {"content_md5_arg": "AAAA"},
            ValueError,
            "content_md5 decodes to 3 bytes but a MD5 is 16 bytes; "
            "pass base64 of the raw digest (not of its hex text)",
        ),
        (
            {"content_md5_arg": 1},
            TypeError,
            "content_md5 must be True, False, None or a base64 MD5 str",
        ),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error) as info:
            headers(**kwargs)
        assert str(info.value) == message, kwargs


def test_composite_checksum_messages() -> None:
    with pytest.raises(ValueError) as empty:
        composite_checksum("CRC32", [])
    assert str(empty.value) == ("part_checksums is empty; a multipart upload has at least one part")
    with pytest.raises(ValueError) as bad:
        composite_checksum("CRC32", ["AAAA"])
    assert str(bad.value).startswith("part checksum decodes to 3 bytes")


def test_resolve_checksum_type_messages() -> None:
    with pytest.raises(ValueError) as no_algorithm:
        resolve_checksum_type(None, "COMPOSITE")
    assert str(no_algorithm.value) == "checksum_type= needs checksum_algorithm= as well"
    with pytest.raises(ValueError) as wrong:
        resolve_checksum_type("CRC64NVME", "COMPOSITE")
    assert str(wrong.value).endswith(
        "use CRC64NVME for FULL_OBJECT, or CRC32/CRC32C/SHA1/SHA256 for COMPOSITE"
    )
