"""Listing requests refuse a bad argument by its own name, before any I/O, and send GETs."""

from __future__ import annotations

import pytest

from r2async._operations.listing import build_list_objects, build_list_objects_v1


@pytest.mark.parametrize("name", ["prefix", "delimiter", "start_after", "continuation_token"])
def test_v2_names_the_argument_of_the_wrong_type(name: str) -> None:
    with pytest.raises(TypeError) as info:
        build_list_objects("bkt", **{name: 5})  # type: ignore[arg-type]
    assert str(info.value) == f"{name} must be a str or None, got int"


@pytest.mark.parametrize("name", ["prefix", "delimiter", "marker"])
def test_v1_names_the_argument_of_the_wrong_type(name: str) -> None:
    with pytest.raises(TypeError) as info:
        build_list_objects_v1("bkt", **{name: 5})  # type: ignore[arg-type]
    assert str(info.value) == f"{name} must be a str or None, got int"


def test_fetch_owner_and_max_keys() -> None:
    with pytest.raises(TypeError) as owner:
        build_list_objects("bkt", fetch_owner="yes")  # type: ignore[arg-type]
    assert str(owner.value) == "fetch_owner must be a bool"
    assert ("fetch-owner", "true") not in build_list_objects("bkt").query
    with pytest.raises(TypeError) as keys:
        build_list_objects("bkt", max_keys="5")  # type: ignore[arg-type]
    assert str(keys.value) == "max_keys must be an int from 1 to 1000, got str"
    assert ("max-keys", "1000") in build_list_objects("bkt", max_keys=1000).query


def test_listings_are_gets() -> None:
    assert build_list_objects("bkt").method == "GET"
    assert build_list_objects_v1("bkt").method == "GET"
