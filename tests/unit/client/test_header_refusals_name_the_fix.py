"""Header arguments: each refusal names where the header came from and the fix; typed arguments
map to the exact headers R2 expects."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from r2async._headers import (
    check_header,
    check_headers,
    check_operation_headers,
    conditional_headers,
    etag_unquoted,
    http_date,
    merge_call_headers,
    range_header,
    request_id,
    sse_c_headers,
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


# -- header mappings ---------------------------------------------------------------------------


def test_a_header_mapping_comes_back_with_lower_case_names() -> None:
    assert check_headers(None) == {}
    assert check_headers({"X-A": "1", "x-b": "2"}) == {"x-a": "1", "x-b": "2"}
    # The same header twice with the same value is harmless.
    assert check_headers({"X-A": "1", "x-a": "1"}) == {"x-a": "1"}


def test_a_header_given_twice_with_different_values_is_refused() -> None:
    with pytest.raises(
        ValueError,
        match="^" + re.escape("extra: header 'x-a' is given twice with different values") + "$",
    ):
        check_headers({"X-A": "1", "x-a": "2"}, where="extra")


def test_headers_that_are_not_a_mapping_are_refused_naming_the_argument() -> None:
    with pytest.raises(
        TypeError, match="^" + re.escape("extra must be a mapping of str to str, got list") + "$"
    ):
        check_headers([("x-a", "1")], where="extra")  # type: ignore[arg-type]


def test_operation_headers_are_checked_per_operation() -> None:
    assert check_operation_headers(None) == {}
    assert check_operation_headers({"PutObject": {"CF-Create-Bucket-If-Missing": "true"}}) == {
        "PutObject": {"cf-create-bucket-if-missing": "true"}
    }
    with pytest.raises(
        ValueError,
        match="^"
        + re.escape("operation_headers['GetObject']: the value of header 'x-a' contains CR/LF"),
    ):
        check_operation_headers({"GetObject": {"x-a": "a\nb"}})


def test_an_unknown_operation_is_refused_listing_the_valid_names() -> None:
    with pytest.raises(
        ValueError,
        match="^"
        + re.escape(
            "operation_headers: unknown S3 operation 'PutObjekt'; valid names are: "
            "AbortMultipartUpload, CompleteMultipartUpload,"
        ),
    ):
        check_operation_headers({"PutObjekt": {}})
    with pytest.raises(
        TypeError, match=r"^operation_headers must map S3 operation names to header mappings$"
    ):
        check_operation_headers([("PutObject", {})])  # type: ignore[arg-type]


def test_a_call_header_may_repeat_a_typed_argument_but_not_contradict_it() -> None:
    typed = {"content-type": "text/plain"}
    assert merge_call_headers(typed, {"Content-Type": "text/plain", "x-a": "1"}) == {
        "content-type": "text/plain",
        "x-a": "1",
    }
    with pytest.raises(
        ValueError,
        match="^"
        + re.escape(
            "header 'content-type' is given both as a keyword argument ('text/plain') and in "
            "headers= ('text/html'); pass it one way only"
        )
        + "$",
    ):
        merge_call_headers(typed, {"Content-Type": "text/html"})


# -- Range ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "header"),
    [
        (None, None),
        ((0, 99), "bytes=0-99"),
        ((5, 5), "bytes=5-5"),
        ((100, None), "bytes=100-"),
        ("bytes=0-99", "bytes=0-99"),
        (" bytes=7-7 ", "bytes=7-7"),
        ("bytes=100-", "bytes=100-"),
        ("bytes=-500", "bytes=-500"),
    ],
)
def test_range_arguments_map_to_one_range_header(value: object, header: str | None) -> None:
    assert range_header(value) == ({} if header is None else {"range": header})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ((1, 2, 3), "range tuple must be (start, end) with end inclusive or None"),
        ((1,), "range tuple must be (start, end) with end inclusive or None"),
        ((-1, 5), "range start must be an int >= 0"),
        ((True, 5), "range start must be an int >= 0"),
        (("0", 5), "range start must be an int >= 0"),
        ((5, 4), "range end must be None or an int >= start (end is inclusive)"),
        ((0, False), "range end must be None or an int >= start (end is inclusive)"),
        ((0, 1.5), "range end must be None or an int >= start (end is inclusive)"),
        ("bytes=-", "range='bytes=-' is malformed; use 'bytes=START-END', 'bytes=START-' or"),
        ("bytes=0-1,5-6", "range='bytes=0-1,5-6' is malformed"),
        ("items=0-1", "range='items=0-1' is malformed"),
        ("bytes=9-3", "range='bytes=9-3': the end is before the start"),
    ],
)
def test_a_bad_range_is_refused_with_the_forms_accepted(value: object, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        range_header(value)  # type: ignore[arg-type]


def test_a_range_of_another_type_is_refused() -> None:
    with pytest.raises(
        TypeError, match=r"^range must be a 'bytes=\.\.\.' str or a \(start, end\) tuple$"
    ):
        range_header(5)  # type: ignore[arg-type]


# -- SSE-C and response headers -------------------------------------------------------------------

KEY = bytes(range(32))
KEY_B64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
KEY_MD5_B64 = "tP/LI3N87DFaSk0aoqYgzg=="


@pytest.mark.parametrize("key", [KEY, bytearray(KEY), memoryview(KEY)])
def test_sse_c_headers_carry_the_algorithm_the_key_and_its_md5(key: bytes) -> None:
    assert sse_c_headers(None) == {}
    assert sse_c_headers(key) == {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": KEY_B64,
        "x-amz-server-side-encryption-customer-key-md5": KEY_MD5_B64,
    }
    assert sse_c_headers(key, copy_source=True) == {
        "x-amz-copy-source-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-copy-source-server-side-encryption-customer-key": KEY_B64,
        "x-amz-copy-source-server-side-encryption-customer-key-md5": KEY_MD5_B64,
    }


@pytest.mark.parametrize("size", [0, 16, 31, 33])
def test_an_sse_c_key_of_another_size_is_refused_with_how_to_make_one(size: int) -> None:
    with pytest.raises(
        ValueError,
        match="^"
        + re.escape(
            f"sse_customer_key must be exactly 32 bytes (AES-256), got {size}; use os.urandom(32) "
            "and keep the key: R2 cannot recover data without it"
        ),
    ):
        sse_c_headers(bytes(size))


def test_an_sse_c_key_given_as_text_is_refused() -> None:
    with pytest.raises(
        TypeError,
        match="^"
        + re.escape("sse_customer_key must be the raw 32-byte key as bytes (not base64 text)"),
    ):
        sse_c_headers(KEY_B64)  # type: ignore[arg-type]


def test_the_request_id_is_r2s_or_else_cloudflares_ray() -> None:
    assert request_id({"x-amz-request-id": "r1", "cf-ray": "c1"}) == "r1"
    assert request_id({"cf-ray": "c1"}) == "c1"
    assert request_id({"x-amz-request-id": "", "cf-ray": "c1"}) == "c1"
    assert request_id({}) is None


@pytest.mark.parametrize(
    ("name", "fix"),
    [
        (
            "Content-Length",
            "r2async sets Content-Length from the body (pass content_length= for a stream)",
        ),
        ("Expect", "R2 does not support 100 Continue"),
    ],
)
def test_a_framing_header_is_refused_with_its_own_fix(name: str, fix: str) -> None:
    _refused(ValueError, f"headers: header {name!r} cannot be set: {fix}; remove it", name, "1")


def test_a_del_character_in_a_value_is_named_a_control_character() -> None:
    _refused(
        ValueError,
        "headers: the value of header 'x-a' contains a control character (tab, NUL, ESC...); "
        "remove it",
        "x-a",
        "a\x7fb",
    )


def test_conditions_map_to_their_headers_with_the_prefix_asked_for() -> None:
    assert conditional_headers(if_match='"a"', if_none_match="*") == {
        "if-match": '"a"',
        "if-none-match": "*",
    }
    assert conditional_headers(if_none_match="*", prefix="cf-copy-destination-") == {
        "cf-copy-destination-if-none-match": "*"
    }


def test_a_malformed_range_string_lists_every_accepted_form() -> None:
    with pytest.raises(
        ValueError,
        match="^"
        + re.escape(
            "range='bytes=-' is malformed; use 'bytes=START-END', 'bytes=START-' or "
            "'bytes=-SUFFIX' (one range only), or a (start, end) tuple"
        )
        + "$",
    ):
        range_header("bytes=-")


def test_date_conditions_map_to_http_dates() -> None:
    moment = dt.datetime(2024, 1, 1, 18, 0, tzinfo=dt.timezone.utc)
    assert conditional_headers(
        if_modified_since=moment, if_unmodified_since=GMT_1800, prefix="x-amz-copy-source-"
    ) == {
        "x-amz-copy-source-if-modified-since": GMT_1800,
        "x-amz-copy-source-if-unmodified-since": GMT_1800,
    }
    with pytest.raises(
        ValueError, match="^" + re.escape("if_unmodified_since='soon' is not an HTTP date")
    ):
        conditional_headers(if_unmodified_since="soon")


def test_a_bad_call_header_is_reported_as_coming_from_headers() -> None:
    with pytest.raises(ValueError, match="^" + re.escape("headers: invalid header name 'x a'")):
        merge_call_headers({}, {"x a": "1"})
