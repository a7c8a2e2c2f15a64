"""Where presigned URLs can work, and the `us` jurisdiction's endpoint."""

from __future__ import annotations

import warnings

import pytest

from r2async import R2Client

KEYS = {"access_key_id": "AKID", "secret_access_key": "SECRET"}


@pytest.mark.parametrize(
    ("jurisdiction", "host"),
    [
        (None, "acct.r2.cloudflarestorage.com"),
        ("eu", "acct.eu.r2.cloudflarestorage.com"),
        ("fedramp", "acct.fedramp.r2.cloudflarestorage.com"),
        ("us", "acct.us.r2.cloudflarestorage.com"),
    ],
)
def test_each_jurisdiction_has_its_endpoint_and_presigns_without_warning(
    jurisdiction: str | None, host: str
) -> None:
    r2 = R2Client(account_id="acct", jurisdiction=jurisdiction, **KEYS)
    assert r2.endpoint_url == f"https://{host}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        url = r2.presign_get_object("bkt", "k").url
    assert url.startswith(f"https://{host}/bkt/k?")


def test_r2_dev_public_urls_are_refused() -> None:
    r2 = R2Client(endpoint_url="https://pub-0123.r2.dev", **KEYS)
    with pytest.raises(ValueError, match=r"r2\.dev URLs serve public buckets"):
        r2.presign_get_object("bkt", "k")


def test_a_custom_domain_gets_one_clear_warning_per_client() -> None:
    r2 = R2Client(endpoint_url="https://files.example.com", **KEYS)
    with pytest.warns(UserWarning, match="custom domain does not accept presigned URLs"):
        r2.presign_get_object("bkt", "k")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r2.presign_put_object("bkt", "k")  # said once is enough


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:9000", "http://localhost:9000"])
def test_local_servers_presign_quietly(endpoint: str) -> None:
    r2 = R2Client(endpoint_url=endpoint, **KEYS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert r2.presign_get_object("bkt", "k").url.startswith(endpoint)
