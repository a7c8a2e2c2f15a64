"""The stand-alone SigV4 functions refuse bad input naming its type and the fix; times are UTC."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from r2async._signing.sigv4 import check_expires, encode_key, format_amz_date, uri_encode


def _exactly(message: str) -> str:
    return "^" + re.escape(message) + "$"


def test_uri_encode_refuses_bytes_naming_the_type() -> None:
    with pytest.raises(
        TypeError, match=_exactly("value must be a str, got bytes; decode bytes first")
    ):
        uri_encode(b"a")  # type: ignore[arg-type]


def test_uri_encode_lists_the_characters_safe_may_hold() -> None:
    with pytest.raises(
        ValueError, match=_exactly('safe may only hold characters from "!$&\'()*+,/:;=@"')
    ):
        uri_encode("a", safe="é")


def test_uri_encode_refuses_a_lone_surrogate_asking_for_valid_unicode() -> None:
    with pytest.raises(
        ValueError,
        match=_exactly(
            "value holds a lone surrogate and cannot be encoded as UTF-8; pass valid Unicode"
        ),
    ):
        uri_encode("a\ud800")


def test_encode_key_refuses_bytes_naming_the_type() -> None:
    with pytest.raises(
        TypeError, match=_exactly("key must be a str, got bytes; decode bytes keys first")
    ):
        encode_key(b"k")  # type: ignore[arg-type]


def test_check_expires_refuses_a_float_naming_its_type() -> None:
    with pytest.raises(
        TypeError, match=_exactly("expires_in must be an int number of seconds, got float")
    ):
        check_expires(60.0)


def test_format_amz_date_refuses_a_date_naming_its_type() -> None:
    with pytest.raises(TypeError, match=_exactly("expected a datetime.datetime, got date")):
        format_amz_date(dt.date(2024, 1, 1))  # type: ignore[arg-type]


def test_format_amz_date_converts_an_aware_time_to_utc_whatever_the_local_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moment = dt.datetime(2024, 1, 1, 20, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        stamped = format_amz_date(moment)
        naive = format_amz_date(dt.datetime(2024, 1, 1, 18, 0, 5))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert stamped == naive == "20240101T180005Z"
