"""Checksums: known answers, every backend, combining, R2's type matrix, request headers.

Also: a bad checksum or Content-MD5 is a typed BadDigestError and is never retried.
"""

from __future__ import annotations

import base64
import builtins
import hashlib
import os
import sys
import types
import zlib
from typing import Any

import httpx
import pytest
import respx

from r2async import BadDigestError, R2Client, _checksums
from r2async._checksums import (
    checksum_b64,
    checksum_request_headers,
    composite_checksum,
    crc_combine,
    new_hasher,
    resolve_checksum_type,
)

CHECK = b"123456789"  # the standard CRC check input
# Known answers for "123456789" (the CRC catalogue's check values; SHA/MD5 from their specs).
KNOWN = {
    "CRC32": "cbf43926",
    "CRC32C": "e3069283",
    "CRC64NVME": "ae8b14860a799888",
    "SHA1": "f7c3bc1d808e04732adf679965ccc34ca7ae3441",
    "SHA256": "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225",
    "MD5": "25f9e794323b453885f5181f1b624d0b",
}
ACCOUNT = "0123456789abcdef0123456789abcdef"
BASE = f"https://{ACCOUNT}.r2.cloudflarestorage.com"


@pytest.mark.parametrize(("algorithm", "hexdigest"), sorted(KNOWN.items()))
def test_known_answers(algorithm: str, hexdigest: str) -> None:
    h = new_hasher(algorithm)
    h.update(CHECK)
    assert h.digest().hex() == hexdigest
    assert checksum_b64(algorithm, CHECK) == base64.b64encode(bytes.fromhex(hexdigest)).decode()


def test_pure_python_fallbacks_known_answers() -> None:
    assert _checksums._crc32c_py(CHECK, 0) == 0xE3069283
    assert _checksums._crc64nvme_py(CHECK, 0) == 0xAE8B14860A799888
    assert _checksums._crc32c_py(b"", 0) == 0
    # Incremental use continues from the previous value.
    assert _checksums._crc32c_py(CHECK[4:], _checksums._crc32c_py(CHECK[:4], 0)) == 0xE3069283


@pytest.mark.parametrize("algorithm", [*_checksums.ALGORITHMS, "MD5"])
def test_incremental_equals_one_shot(algorithm: str) -> None:
    data = os.urandom(10_000)
    h = new_hasher(algorithm)
    for i in range(0, len(data), 777):
        h.update(data[i : i + 777])
    one = new_hasher(algorithm)
    one.update(data)
    assert h.digest() == one.digest()
    assert len(h.digest()) == _checksums.DIGEST_SIZES[algorithm]


@pytest.mark.parametrize("algorithm", ["CRC32C", "CRC64NVME"])
def test_native_backend_agrees_with_pure_python(algorithm: str) -> None:
    data = os.urandom(4096)
    pure = {"CRC32C": _checksums._crc32c_py, "CRC64NVME": _checksums._crc64nvme_py}[algorithm]
    h = new_hasher(algorithm)
    h.update(data)
    assert int.from_bytes(h.digest(), "big") == pure(data, 0)


def _hide(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] in modules:
            raise ImportError(f"hidden: {name}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setattr(_checksums, "_BACKENDS", {})


def test_backends_fall_back_to_pure_python(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide(monkeypatch, "google_crc32c", "crc32c", "awscrt")
    assert _checksums.backend("CRC32C") == "pure Python"
    assert _checksums.backend("crc64nvme") == "pure Python"
    assert checksum_b64("CRC32C", CHECK) == base64.b64encode(bytes.fromhex("e3069283")).decode()
    assert (
        checksum_b64("CRC64NVME", CHECK)
        == base64.b64encode(bytes.fromhex("ae8b14860a799888")).decode()
    )


def _fake_backends(monkeypatch: pytest.MonkeyPatch, calls: list[str]) -> None:
    """Stand-ins for google-crc32c, crc32c and awscrt that record which one computed."""

    def pure32c(name: str) -> Any:
        def fn(*args: Any) -> int:
            calls.append(name)
            data, crc = (args[1], args[0]) if name == "google-crc32c" else (args[0], args[1])
            return _checksums._crc32c_py(bytes(data), crc)

        return fn

    google = types.ModuleType("google_crc32c")
    google.extend = pure32c("google-crc32c")  # type: ignore[attr-defined]
    google.implementation = "c"  # type: ignore[attr-defined]
    icrar = types.ModuleType("crc32c")
    icrar.crc32c = pure32c("crc32c")  # type: ignore[attr-defined]
    crt = types.ModuleType("awscrt.checksums")
    crt.crc32c = pure32c("awscrt")  # type: ignore[attr-defined]

    def crc64(data: bytes, crc: int = 0) -> int:
        calls.append("awscrt64")
        return _checksums._crc64nvme_py(data, crc)

    crt.crc64nvme = crc64  # type: ignore[attr-defined]
    awscrt = types.ModuleType("awscrt")
    awscrt.checksums = crt  # type: ignore[attr-defined]
    for name, module in [
        ("google_crc32c", google),
        ("crc32c", icrar),
        ("awscrt", awscrt),
        ("awscrt.checksums", crt),
    ]:
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(_checksums, "_BACKENDS", {})


@pytest.mark.parametrize(
    ("hidden", "expected"),
    [
        ((), "google-crc32c"),
        (("google_crc32c",), "crc32c"),
        (("google_crc32c", "crc32c"), "awscrt"),
        (("google_crc32c", "crc32c", "awscrt"), "pure Python"),
    ],
)
def test_crc32c_backend_order(
    monkeypatch: pytest.MonkeyPatch, hidden: tuple[str, ...], expected: str
) -> None:
    calls: list[str] = []
    _fake_backends(monkeypatch, calls)
    _hide(monkeypatch, *hidden)
    assert _checksums.backend("CRC32C") == expected
    h = new_hasher("CRC32C")
    h.update(CHECK[:4])
    h.update(CHECK[4:])
    assert h.digest().hex() == "e3069283"
    assert calls == ([] if expected == "pure Python" else [expected, expected])


def test_google_crc32c_without_its_c_extension_is_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    _fake_backends(monkeypatch, calls)
    monkeypatch.setattr(sys.modules["google_crc32c"], "implementation", "python")
    assert _checksums.backend("CRC32C") == "crc32c"


def test_crc64nvme_uses_awscrt(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    _fake_backends(monkeypatch, calls)
    assert _checksums.backend("CRC64NVME") == "awscrt"
    assert (
        checksum_b64("CRC64NVME", CHECK)
        == base64.b64encode(bytes.fromhex("ae8b14860a799888")).decode()
    )
    assert calls == ["awscrt64"]


def test_other_backends_are_fixed() -> None:
    assert _checksums.backend("CRC32") == "zlib"
    assert _checksums.backend("SHA256") == "hashlib"
    assert _checksums.backend("md5") == "hashlib"
    with pytest.raises(ValueError, match="use one of"):
        _checksums.backend("CRC16")


def test_unknown_algorithm() -> None:
    with pytest.raises(ValueError, match="use one of"):
        new_hasher("CRC16")


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME"])
@pytest.mark.parametrize(("len_a", "len_b"), [(0, 5), (5, 0), (1, 1), (1000, 777), (3, 65536)])
def test_crc_combine(algorithm: str, len_a: int, len_b: int) -> None:
    a, b = os.urandom(len_a), os.urandom(len_b)

    def raw(data: bytes) -> bytes:
        h = new_hasher(algorithm)
        h.update(data)
        return h.digest()

    assert crc_combine(algorithm, raw(a), raw(b), len(b)) == raw(a + b)


def test_crc_combine_matches_zlib_for_crc32() -> None:
    a, b = os.urandom(300), os.urandom(500)
    combined = crc_combine(
        "CRC32", zlib.crc32(a).to_bytes(4, "big"), zlib.crc32(b).to_bytes(4, "big"), len(b)
    )
    assert int.from_bytes(combined, "big") == zlib.crc32(a + b)


def test_crc_combine_rejects_non_crc_and_bad_length() -> None:
    with pytest.raises(ValueError, match="CRC32"):
        crc_combine("SHA256", b"", b"", 1)
    with pytest.raises(ValueError, match="len2"):
        crc_combine("CRC32", b"\0" * 4, b"\0" * 4, -1)


def test_composite_checksum() -> None:
    # S3's COMPOSITE value: the checksum of the parts' raw checksums, then "-<part count>".
    parts = [os.urandom(100), os.urandom(50)]
    b64s = [checksum_b64("CRC32C", p) for p in parts]
    raw = b"".join(base64.b64decode(x) for x in b64s)
    assert composite_checksum("CRC32C", b64s) == f"{checksum_b64('CRC32C', raw)}-2"
    with pytest.raises(ValueError, match="empty"):
        composite_checksum("CRC32C", [])
    with pytest.raises(ValueError, match="4 bytes"):
        composite_checksum("CRC32C", [checksum_b64("SHA1", b"x")])


@pytest.mark.parametrize(
    ("algorithm", "given", "expected"),
    [
        ("CRC64NVME", None, "FULL_OBJECT"),
        ("crc64nvme", "full_object", "FULL_OBJECT"),
        ("CRC32", None, "COMPOSITE"),
        ("CRC32C", "COMPOSITE", "COMPOSITE"),
        ("SHA1", None, "COMPOSITE"),
        ("SHA256", "COMPOSITE", "COMPOSITE"),
        (None, None, None),
    ],
)
def test_checksum_type_matrix_allowed(
    algorithm: str | None, given: str | None, expected: str | None
) -> None:
    assert resolve_checksum_type(algorithm, given) == expected


@pytest.mark.parametrize(
    ("algorithm", "given"),
    [
        ("CRC64NVME", "COMPOSITE"),
        ("CRC32", "FULL_OBJECT"),
        ("CRC32C", "FULL_OBJECT"),
        ("SHA1", "FULL_OBJECT"),
        ("SHA256", "FULL_OBJECT"),
        (None, "COMPOSITE"),
        ("CRC32", "OTHER"),
    ],
)
def test_checksum_type_matrix_refused(algorithm: str | None, given: str) -> None:
    with pytest.raises(ValueError):
        resolve_checksum_type(algorithm, given)


def test_request_headers_computed_and_given() -> None:
    data = b"hello"
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    assert checksum_request_headers(
        data=data, checksum_algorithm="sha256", checksum_value=None, content_md5_arg=True
    ) == {
        "x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(data).digest()).decode(),
        "content-md5": md5,
    }
    # Nothing unless asked: checksums are never on by default.
    assert (
        checksum_request_headers(
            data=data, checksum_algorithm=None, checksum_value=None, content_md5_arg=None
        )
        == {}
    )
    assert checksum_request_headers(
        data=None, checksum_algorithm="CRC32", checksum_value="AAAAAA==", content_md5_arg=md5
    ) == {"x-amz-checksum-crc32": "AAAAAA==", "content-md5": md5}


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"data": None, "checksum_algorithm": "CRC32"}, ValueError, "streamed body"),
        ({"data": None, "content_md5_arg": True}, ValueError, "in-memory"),
        ({"checksum_value": "AAAAAA=="}, ValueError, "checksum_algorithm"),
        ({"checksum_algorithm": "CRC32", "checksum_value": 5}, TypeError, "base64"),
        ({"checksum_algorithm": "CRC32", "checksum_value": "AAAA"}, ValueError, "3 bytes"),
        ({"checksum_algorithm": "CRC32", "checksum_value": "A A="}, ValueError, "base64"),
        ({"checksum_algorithm": 32}, TypeError, "str"),
        ({"content_md5_arg": "abc"}, ValueError, "base64"),
        ({"content_md5_arg": 1.0}, TypeError, "content_md5"),
    ],
)
def test_request_headers_bad_input(
    kwargs: dict[str, Any], exc: type[Exception], match: str
) -> None:
    args: dict[str, Any] = {
        "data": b"x",
        "checksum_algorithm": None,
        "checksum_value": None,
        "content_md5_arg": None,
        **kwargs,
    }
    with pytest.raises(exc, match=match):
        checksum_request_headers(**args)


# -- on the wire: BadDigest is typed and final ---------------------------------------------


def bad_digest(code: str = "BadDigest") -> httpx.Response:
    return httpx.Response(
        400,
        content=(
            f"<Error><Code>{code}</Code><Message>The Content-MD5 you specified did not match "
            "what was received.</Message><RequestId>REQ</RequestId></Error>"
        ).encode(),
    )


@pytest.mark.parametrize("code", ["BadDigest", "InvalidDigest"])
async def test_put_object_bad_digest_is_not_retried(code: str) -> None:
    async with R2Client(
        account_id=ACCOUNT, access_key_id="AKID", secret_access_key="SECRET", max_retries=3
    ) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").mock(return_value=bad_digest(code))
            with pytest.raises(BadDigestError) as info:
                await r2.put_object("my-bucket", "k", b"data", checksum_algorithm="CRC32C")
    assert route.call_count == 1
    assert info.value.code == code and info.value.request_id == "REQ"
    sent = route.calls.last.request.headers
    assert sent["x-amz-checksum-crc32c"] == checksum_b64("CRC32C", b"data")


@pytest.mark.parametrize("algorithm", _checksums.ALGORITHMS)
async def test_each_algorithm_goes_out_as_a_header(algorithm: str) -> None:
    async with R2Client(account_id=ACCOUNT, access_key_id="AKID", secret_access_key="SECRET") as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").respond(
                200,
                headers={
                    "ETag": '"e"',
                    f"x-amz-checksum-{algorithm.lower()}": checksum_b64(algorithm, b"data"),
                },
            )
            result = await r2.put_object("my-bucket", "k", b"data", checksum_algorithm=algorithm)
    request = route.calls.last.request
    expected = checksum_b64(algorithm, b"data")
    assert request.headers[f"x-amz-checksum-{algorithm.lower()}"] == expected
    # Headers only: never aws-chunked trailers.
    assert "x-amz-trailer" not in request.headers
    assert "content-encoding" not in request.headers
    assert request.content == b"data"
    assert getattr(result, f"checksum_{algorithm.lower()}") == expected
