"""R2's bucket-name and object-key rules, at their edges, with the message that names the fix."""

from __future__ import annotations

import re

import pytest

from r2async._headers import validate_bucket, validate_key


@pytest.mark.parametrize(
    "name",
    ["abc", "a" * 63, "a-b", "0bucket9", "my-bucket-2024", "a1-" + "b" * 59 + "c"],
)
def test_valid_bucket_names_are_returned_unchanged(name: str) -> None:
    assert validate_bucket(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "ab",  # too short
        "a" * 64,  # too long
        "-abc",  # must start with a letter or digit
        "abc-",  # and end with one
        "Abc",  # no upper case
        "a.bc",  # no dots
        "a_bc",
        "ab c",
        "",
        "abc\n",  # fullmatch: nothing after the name
    ],
)
def test_invalid_bucket_names_are_refused_with_the_rule(name: str) -> None:
    with pytest.raises(
        ValueError,
        match="^"
        + re.escape(
            f"invalid bucket name {name!r}: R2 bucket names are 3-63 characters of a-z, 0-9 and "
            "'-', starting and ending with a letter or digit (no dots, no upper case)"
        )
        + "$",
    ):
        validate_bucket(name)


@pytest.mark.parametrize(("value", "type_name"), [(b"abc", "bytes"), (None, "NoneType")])
def test_a_bucket_that_is_not_str_is_refused_naming_its_type(value: object, type_name: str) -> None:
    with pytest.raises(TypeError, match=f"^bucket must be str, got {type_name}$"):
        validate_bucket(value)


@pytest.mark.parametrize(
    "key",
    ["k", "a" * 1024, "é" * 512, "€" * 341 + "a", "a/../b", " ", "\x00"],
)
def test_keys_up_to_1024_utf8_bytes_are_accepted(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    ("key", "size"), [("a" * 1025, 1025), ("é" * 513, 1026), ("€" * 342, 1026)]
)
def test_a_key_over_1024_utf8_bytes_is_refused_with_its_size(key: str, size: int) -> None:
    with pytest.raises(ValueError, match=f"^key is {size} bytes in UTF-8; R2 allows at most 1024$"):
        validate_key(key)


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^key must not be empty$"):
        validate_key("")


def test_a_key_that_is_not_str_is_refused_naming_its_type() -> None:
    with pytest.raises(TypeError, match=r"^key must be str, got bytes$"):
        validate_key(b"k")


@pytest.mark.parametrize("key", ["a\ud800", "\udfff" * 3])
def test_a_key_with_a_lone_surrogate_is_refused(key: str) -> None:
    with pytest.raises(
        ValueError, match=r"^key contains lone surrogates and is not valid Unicode$"
    ):
        validate_key(key)


def test_a_long_key_of_lone_surrogates_is_refused_for_its_length_first() -> None:
    # Each lone surrogate counts as the 3 bytes it would take; the size is the first problem.
    with pytest.raises(ValueError, match=r"^key is 1026 bytes in UTF-8"):
        validate_key("\ud800" * 342)
