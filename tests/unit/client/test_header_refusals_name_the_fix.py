"""Header arguments: each refusal names where the header came from and the fix; typed arguments
map to the exact headers R2 expects."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from r2async._headers import (
    check_header,
    conditional_headers,
    etag_unquoted,
    http_date,
    storage_class_header,
    system_metadata_headers,
)


def _refused(error: type[Exception], message: str, name: object, value: object, **kw: str) -> None:
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        check_header(name, value, **kw)


def test_a_header_name_that_is_not_str_is_refused_naming_its_type() -> None:
    _refused(TypeError, "headers: header names must be str, got int", 1, "v")
    _refused(TypeError, "extra: header names must be str, got bytes", b"x", "v", where="extra")


def test_a_header_value_that_is_not_str_is_refused_with_the_fix() -> None:
    _refused(
        TypeError,
        "headers: the value of header 'x-a' must be str, got int; convert it with str() first",
        "x-a",
        1,
    )


def test_an_invalid_header_name_lists_what_a_name_may_hold() -> None:
    _refused(
        ValueError,
        "headers: invalid header name 'x a': use only letters, digits and !#$%&'*+-.^_`|~ "
        "(no spaces, colons, CR/LF or non-ASCII)",
        "x a",
        "v",
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("a\r\nb", "contains CR/LF; remove line breaks"),
        ("a\tb", "contains a control character (tab, NUL, ESC...); remove it"),
        (
            "café",
            "contains non-ASCII text; send ASCII, and for metadata pass non-ASCII through "
            "metadata= (r2async RFC 2047-encodes it)",
        ),
        (" a", "starts or ends with a space, which transports and servers strip; strip it first"),
    ],
)
def test_a_bad_header_value_says_what_is_wrong_and_the_fix(value: str, problem: str) -> None:
    _refused(ValueError, f"headers: the value of header 'x-a' {problem}", "x-a", value)


def test_a_signer_header_is_refused_pointing_to_the_credentials() -> None:
    _refused(
        ValueError,
        "headers: header 'X-Amz-Date' is set by the signer and cannot be overridden; "
        "pass credentials to R2Client instead",
        "X-Amz-Date",
        "20240101T000000Z",
    )


@pytest.mark.parametrize("name", ["Connection", "Upgrade", "Proxy-Authorization"])
def test_a_connection_header_is_refused_saying_the_transport_manages_it(name: str) -> None:
    _refused(
        ValueError,
        f"headers: header {name!r} cannot be set: it describes the connection, which "
        "r2async's transport manages; remove it",
        name,
        "x",
    )


# -- typed arguments -------------------------------------------------------------------------

GMT_1800 = "Mon, 01 Jan 2024 18:00:00 GMT"


def test_an_aware_datetime_in_another_zone_is_sent_as_gmt() -> None:
    moment = dt.datetime(2024, 1, 1, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert http_date(moment, name="expires") == GMT_1800


def test_a_naive_datetime_is_taken_as_utc_whatever_the_local_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        naive = http_date(dt.datetime(2024, 1, 1, 18, 0), name="expires")
        aware = http_date(
            dt.datetime(2024, 1, 1, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            name="expires",
        )
    finally:
        monkeypatch.undo()
        time.tzset()
    assert naive == aware == GMT_1800


def test_a_malformed_http_date_is_refused_with_an_example() -> None:
    with pytest.raises(
        ValueError,
        match="^"
        + re.escape(
            "if_modified_since='yesterday' is not an HTTP date; pass a datetime or a string "
            "like 'Wed, 21 Oct 2015 07:28:00 GMT'"
        ),
    ):
        conditional_headers(if_modified_since="yesterday")


def test_an_http_date_with_a_line_break_is_refused_naming_the_argument() -> None:
    with pytest.raises(ValueError, match="^" + re.escape("expires: the value of header 'expires'")):
        http_date(GMT_1800 + "\r\n", name="expires")


def test_a_date_argument_of_another_type_is_refused_naming_its_type() -> None:
    with pytest.raises(
        TypeError, match=r"^expires must be a datetime or an HTTP-date str, got int$"
    ):
        http_date(1700000000, name="expires")  # type: ignore[arg-type]


@pytest.mark.parametrize("argument", ["if_match", "if_none_match"])
@pytest.mark.parametrize("value", ["", None, 5])
def test_an_etag_condition_must_be_a_non_empty_str(argument: str, value: object) -> None:
    if value is None:
        assert conditional_headers(**{argument: value}) == {}  # type: ignore[arg-type]
        return
    with pytest.raises(
        TypeError,
        match="^"
        + re.escape(f"{argument} must be a non-empty str (an ETag, a list of ETags, or '*')"),
    ):
        conditional_headers(**{argument: value})  # type: ignore[arg-type]


def test_an_etag_condition_with_a_line_break_is_refused_naming_the_argument() -> None:
    with pytest.raises(ValueError, match="^" + re.escape("if_match: the value of header")):
        conditional_headers(if_match='"a"\r\nX-Evil: 1')


@pytest.mark.parametrize("storage_class", ["STANDARD", "STANDARD_IA"])
def test_both_r2_storage_classes_map_to_the_lower_case_header(storage_class: str) -> None:
    assert storage_class_header(storage_class) == {"x-amz-storage-class": storage_class}


@pytest.mark.parametrize("storage_class", ["standard", "GLACIER", ""])
def test_any_other_storage_class_is_refused(storage_class: str) -> None:
    with pytest.raises(ValueError, match="R2 supports only 'STANDARD' and 'STANDARD_IA'"):
        storage_class_header(storage_class)


@pytest.mark.parametrize(
    ("etag", "bare"),
    [
        ('"abc"', "abc"),
        ('W/"abc"', "abc"),
        ("abc", "abc"),
        ('" abc "', " abc "),
        ('w/"abc"', 'w/"abc'),  # only "W/" (upper case) marks a weak ETag
        ("W/abc", "abc"),
        ('"XabcX"', "XabcX"),
        (None, None),
    ],
)
def test_etag_unquoted_removes_the_quotes_and_a_weak_prefix(
    etag: str | None, bare: str | None
) -> None:
    assert etag_unquoted(etag) == bare


def test_system_metadata_maps_to_lower_case_headers() -> None:
    assert system_metadata_headers(
        content_type="text/plain",
        cache_control="no-cache",
        content_disposition="attachment",
        content_encoding="gzip",
        content_language="fr",
        expires=GMT_1800,
    ) == {
        "content-type": "text/plain",
        "cache-control": "no-cache",
        "content-disposition": "attachment",
        "content-encoding": "gzip",
        "content-language": "fr",
        "expires": GMT_1800,
    }


@pytest.mark.parametrize(
    "argument",
    [
        "content_type",
        "cache_control",
        "content_disposition",
        "content_encoding",
        "content_language",
    ],
)
def test_a_system_metadata_argument_is_refused_by_its_own_name(argument: str) -> None:
    with pytest.raises(TypeError, match=f"^{argument} must be str, got int$"):
        system_metadata_headers(**{argument: 1})  # type: ignore[arg-type]
    header = argument.replace("_", "-")
    with pytest.raises(
        ValueError, match="^" + re.escape(f"{argument}: the value of header '{header}' contains")
    ):
        system_metadata_headers(**{argument: "a\nb"})


def test_a_bad_expires_is_refused_by_its_argument_name() -> None:
    with pytest.raises(ValueError, match="^" + re.escape("expires='soon' is not an HTTP date")):
        system_metadata_headers(expires="soon")
