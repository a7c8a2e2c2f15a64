"""User metadata as headers: RFC 2047 words within the limits, the prefix, the refusals."""

from __future__ import annotations

import base64
import re

import pytest

from r2async._headers import (
    METADATA_LIMIT,
    metadata_headers,
    read_metadata,
    rfc2047_decode,
    rfc2047_encode,
)

WORD = re.compile(r"^=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=$")


@pytest.mark.parametrize(
    "value",
    [
        "x" * 200 + "é",  # ASCII with one non-ASCII character: long words
        "é" * 60,  # 2-byte characters: a 45-byte cut falls inside one
        "€" * 40,  # 3-byte characters
        "😀" * 30,  # 4-byte characters
        "a" + "€" * 40,  # shifted by one byte
    ],
)
def test_encoded_words_stay_within_75_characters_and_split_no_character(value: str) -> None:
    encoded = rfc2047_encode(value)
    words = encoded.split(" ")
    assert len(words) > 1
    for word in words:
        assert len(word) <= 75  # RFC 2047's limit for one encoded-word
        match = WORD.fullmatch(word)
        assert match is not None
        base64.b64decode(match.group(1)).decode("utf-8")  # whole characters in every word
    assert rfc2047_decode(encoded) == value


def test_the_x_amz_meta_prefix_given_in_any_case_is_not_doubled() -> None:
    assert metadata_headers({"X-Amz-Meta-Colour": "red", "x-amz-meta-size": "L"}) == {
        "x-amz-meta-colour": "red",
        "x-amz-meta-size": "L",
    }


@pytest.mark.parametrize("value", ["a\rb", "a\nb", "a\r\nb"])
def test_a_line_break_in_a_metadata_value_is_refused(value: str) -> None:
    with pytest.raises(
        ValueError,
        match="^" + re.escape("metadata value for 'k' contains CR/LF; remove line breaks"),
    ):
        metadata_headers({"k": value})


def test_metadata_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(TypeError, match=r"^metadata must be a mapping of str to str$"):
        metadata_headers([("k", "v")])  # type: ignore[arg-type]


@pytest.mark.parametrize("metadata", [{"k": 1}, {1: "v"}])
def test_metadata_names_and_values_must_be_str(metadata: dict[object, object]) -> None:
    with pytest.raises(TypeError, match=r"^metadata names and values must be str$"):
        metadata_headers(metadata)  # type: ignore[arg-type]


def test_a_metadata_name_that_is_not_a_token_is_refused_with_the_rule() -> None:
    with pytest.raises(
        ValueError,
        match="^"
        + re.escape(
            "metadata name 'naïve' is not a valid header token: use ASCII letters, digits and "
            "-_. (R2 drops non-ASCII metadata names)"
        ),
    ):
        metadata_headers({"naïve": "v"})


def test_a_lone_surrogate_is_refused_asking_for_valid_unicode() -> None:
    with pytest.raises(
        ValueError,
        match="^"
        + re.escape(
            "metadata value for 'k' contains a lone surrogate, which UTF-8 cannot encode; "
            "pass valid Unicode text"
        ),
    ):
        metadata_headers({"k": "a\ud800b"})


def test_names_differing_only_in_case_are_refused_with_the_fix() -> None:
    with pytest.raises(
        ValueError,
        match="^"
        + re.escape(
            "metadata names 'Colour' and 'colour' differ only in case; S3 stores names in lower "
            "case, so one would silently replace the other: merge them"
        ),
    ):
        metadata_headers({"Colour": "red", "colour": "blue"})


def test_metadata_of_exactly_8_kib_is_accepted_and_one_byte_more_refused() -> None:
    # Counted on names plus values (UTF-8 bytes), as R2 counts them.
    assert METADATA_LIMIT == 8192
    fits = {"k": "é" * 4095 + "v"}  # 1 + 8190 + 1 bytes
    assert metadata_headers(fits)["x-amz-meta-k"]
    with pytest.raises(
        ValueError,
        match="^"
        + re.escape(
            "metadata is 8193 bytes; R2 allows at most 8192 bytes in total (names plus values): "
            "store large values in the object body instead"
        ),
    ):
        metadata_headers({"k": "é" * 4095 + "vw"})


def test_read_metadata_keeps_only_user_metadata_lower_case_and_decoded() -> None:
    headers = {
        "X-Amz-Meta-Colour": "=?UTF-8?B?cm91Z2U=?=",
        "x-amz-meta-plain": "v",
        "x-amz-meta-": "empty name",
        "x-amz-request-id": "r",
        "content-type": "text/plain",
    }
    assert read_metadata(headers) == {"colour": "rouge", "plain": "v", "": "empty name"}


@pytest.mark.parametrize(
    "stored",
    ["=?utf-8?b?a?=", "=?no-such-charset?q?x?=", "a =? b", "=?utf-8?q?=FF?="],
)
def test_a_value_that_only_looks_encoded_reads_back_as_stored(stored: str) -> None:
    assert rfc2047_decode(stored) == stored


def test_quoted_printable_words_are_decoded_too() -> None:
    assert rfc2047_decode("=?utf-8?q?caf=C3=A9?=") == "café"
