"""Opt-in integrity checksums: Content-MD5 and ``x-amz-checksum-*`` values, as headers only.

Nothing here is on by default: a checksum is sent only when a call asks for one, always as a
request header (R2 refuses aws-chunked trailers).

Speed, measured with ``benchmarks/bench_checksums.py`` (2-core x86-64, 16 MiB buffer, MiB/s)::

    CRC32      zlib (stdlib)     2,100-4,000
    SHA1       hashlib           1,000-1,800
    SHA256     hashlib           1,100-1,700
    MD5        hashlib             700
    CRC32C     pure Python           6    google-crc32c 13,700  crc32c 12,800  awscrt 34,700
    CRC64NVME  pure Python           5    awscrt 52,500         anycrc 13,900

Pure-Python CRC32C/CRC64NVME are correct but ~2,000x slower than native code: 20 s of event-loop
time for 100 MiB. So a native backend is used whenever one is importable, resolved on first use:
CRC32C from ``google-crc32c`` (small, 4 ms import), else ``crc32c``, else ``awscrt``; CRC64NVME
from ``awscrt`` (AWS's own runtime, which botocore uses for CRC64NVME; 13 MB, ~140 ms import,
paid only when a CRC64NVME is first computed). ``pip install 'r2async[crc]'`` installs both.
Without them every algorithm still works, at pure-Python speed for those two (fine for small
bodies); ``backend(alg)`` tells which implementation is in use.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Callable, Iterable
from typing import Literal, Protocol

ChecksumAlgorithm = Literal["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"]
ChecksumType = Literal["COMPOSITE", "FULL_OBJECT"]
ALGORITHMS: tuple[str, ...] = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
CHECKSUM_TYPES: tuple[str, ...] = ("COMPOSITE", "FULL_OBJECT")
# Raw digest size in bytes, used to validate caller-supplied base64 values before any I/O.
DIGEST_SIZES: dict[str, int] = {
    "CRC32": 4,
    "CRC32C": 4,
    "CRC64NVME": 8,
    "SHA1": 20,
    "SHA256": 32,
    "MD5": 16,
}

_CrcFn = Callable[[bytes, int], int]


class Hasher(Protocol):
    """An incremental checksum."""

    def update(self, data: bytes, /) -> None:
        """Feed more data."""

    def digest(self) -> bytes:
        """The checksum of everything fed so far, as raw bytes."""


# -- CRC parameters (all reflected, init and xorout all ones) ---------------------------------

_CRC32_POLY = 0xEDB88320  # reversed 0x04C11DB7
_CRC32C_POLY = 0x82F63B78  # reversed 0x1EDC6F41 (Castagnoli)
_CRC64NVME_POLY = 0x9A6C9329AC4BC9B5  # reversed 0xAD93D23594C93659
_POLYS: dict[str, tuple[int, int]] = {
    "CRC32": (_CRC32_POLY, 32),
    "CRC32C": (_CRC32C_POLY, 32),
    "CRC64NVME": (_CRC64NVME_POLY, 64),
}


def _reflected_table(poly: int, width: int) -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc & ((1 << width) - 1))
    return table


_TABLES: dict[int, list[int]] = {}


def _table(poly: int, width: int) -> list[int]:
    table = _TABLES.get(poly)
    if table is None:
        table = _TABLES[poly] = _reflected_table(poly, width)
    return table


def _crc_py(data: bytes, crc: int, poly: int, width: int) -> int:
    # Byte-at-a-time table CRC. Slicing-by-8 was measured too (struct.iter_unpack over 8-byte
    # words, 8 tables): only ~20% faster in CPython, still ~1,000x slower than a native
    # backend, so the simple form stays and the native backends carry the speed.
    table = _table(poly, width)
    mask = (1 << width) - 1
    crc ^= mask
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ mask


def _crc32c_py(data: bytes, crc: int) -> int:
    """Pure-Python CRC32C (slow fallback), continuing from ``crc``."""
    return _crc_py(data, crc, _CRC32C_POLY, 32)


def _crc64nvme_py(data: bytes, crc: int) -> int:
    """Pure-Python CRC64NVME (slow fallback), continuing from ``crc``."""
    return _crc_py(data, crc, _CRC64NVME_POLY, 64)


def _zlib_crc32(data: bytes, crc: int) -> int:
    return zlib.crc32(data, crc)


_BACKENDS: dict[str, tuple[str, _CrcFn]] = {}


def _load_crc32c() -> tuple[str, _CrcFn]:
    try:
        import google_crc32c  # type: ignore[import-not-found,import-untyped,unused-ignore]

        # google-crc32c without its C extension falls back to pure Python: not worth it.
        if getattr(google_crc32c, "implementation", "c") == "c":

            def _google(data: bytes, crc: int) -> int:
                return int(google_crc32c.extend(crc, data))

            return "google-crc32c", _google
    except ImportError:
        pass
    try:
        import crc32c  # type: ignore[import-not-found,import-untyped,unused-ignore]

        def _icrar(data: bytes, crc: int) -> int:
            return int(crc32c.crc32c(data, crc))

        return "crc32c", _icrar
    except ImportError:
        pass
    try:
        from awscrt import checksums as crt  # type: ignore[import-not-found,import-untyped,unused-ignore]

        def _crt32c(data: bytes, crc: int) -> int:
            return int(crt.crc32c(data, crc))

        return "awscrt", _crt32c
    except ImportError:
        pass
    return "pure Python", _crc32c_py


def _load_crc64nvme() -> tuple[str, _CrcFn]:
    try:
        from awscrt import checksums as crt  # type: ignore[import-not-found,import-untyped,unused-ignore]

        def _crt64(data: bytes, crc: int) -> int:
            return int(crt.crc64nvme(data, crc))

        return "awscrt", _crt64
    except ImportError:
        return "pure Python", _crc64nvme_py


def _crc_backend(algorithm: str) -> tuple[str, _CrcFn]:
    # Resolved on first use, so importing r2async never imports an optional native library.
    found = _BACKENDS.get(algorithm)
    if found is None:
        if algorithm == "CRC32":
            found = ("zlib", _zlib_crc32)
        elif algorithm == "CRC32C":
            found = _load_crc32c()
        else:
            found = _load_crc64nvme()
        _BACKENDS[algorithm] = found
    return found


def backend(algorithm: str) -> str:
    """The name of the implementation used for ``algorithm`` (e.g. 'google-crc32c', 'pure Python').

    Args:
        algorithm: one of ALGORITHMS or 'MD5'.
    """
    alg = normalize_algorithm(algorithm) if algorithm.upper() != "MD5" else "MD5"
    if alg in _POLYS:
        return _crc_backend(alg)[0]
    return "hashlib"


class _CRC:
    __slots__ = ("_crc", "_fn", "_size")

    def __init__(self, fn: _CrcFn, width: int) -> None:
        self._fn = fn
        self._crc = 0
        self._size = width // 8

    def update(self, data: bytes, /) -> None:
        self._crc = self._fn(data, self._crc)

    def digest(self) -> bytes:
        return self._crc.to_bytes(self._size, "big")


def normalize_algorithm(algorithm: object, *, name: str = "checksum_algorithm") -> str:
    """The upper-case algorithm name, or ValueError naming the valid ones.

    Args:
        algorithm: 'CRC32', 'CRC32C', 'CRC64NVME', 'SHA1' or 'SHA256' (any case).
        name: the argument name, for the error message.
    """
    if not isinstance(algorithm, str):
        raise TypeError(f"{name} must be a str such as 'CRC32C', got {type(algorithm).__name__}")
    alg = algorithm.upper()
    if alg not in ALGORITHMS:
        raise ValueError(f"{name}={algorithm!r}; use one of {', '.join(ALGORITHMS)}")
    return alg


def new_hasher(algorithm: str) -> Hasher:
    """An incremental hasher for ``algorithm`` (one of ALGORITHMS, or 'MD5').

    Args:
        algorithm: 'CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256' or 'MD5' (any case).
    """
    alg = algorithm.upper() if isinstance(algorithm, str) else ""
    if alg in _POLYS:
        return _CRC(_crc_backend(alg)[1], _POLYS[alg][1])
    if alg == "SHA1":
        return hashlib.sha1()
    if alg == "SHA256":
        return hashlib.sha256()
    if alg == "MD5":
        return hashlib.md5()
    raise ValueError(
        f"unknown checksum algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}"
    )


def checksum_b64(algorithm: str, data: bytes) -> str:
    """The base64 checksum of ``data`` as S3 sends it in ``x-amz-checksum-*`` headers.

    Args:
        algorithm: one of ALGORITHMS (or 'MD5').
        data: the bytes to checksum.
    """
    h = new_hasher(algorithm)
    h.update(data)
    return base64.b64encode(h.digest()).decode()


def content_md5(data: bytes) -> str:
    """The base64 MD5 of ``data`` for a ``Content-MD5`` header."""
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def check_b64_digest(value: object, algorithm: str, *, name: str) -> str:
    """Validate a caller's base64 checksum: right type, valid base64, right digest size.

    A malformed value would only come back as a 400 InvalidDigest after the upload; this says
    what is wrong before any I/O.

    Args:
        value: the base64 text.
        algorithm: which digest it should be (one of ALGORITHMS or 'MD5').
        name: the argument name, for the error message.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be the base64-encoded {algorithm} as str")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{name}={value!r} is not valid base64") from None
    size = DIGEST_SIZES[algorithm]
    if len(raw) != size:
        raise ValueError(
            f"{name} decodes to {len(raw)} bytes but a {algorithm} is {size} bytes; "
            "pass base64 of the raw digest (not of its hex text)"
        )
    return value


def checksum_request_headers(
    *,
    data: bytes | None,
    checksum_algorithm: str | None,
    checksum_value: str | None,
    content_md5_arg: bool | str | None,
) -> dict[str, str]:
    """Request headers for opt-in integrity checks on an upload (PutObject, UploadPart).

    Args:
        data: the in-memory body, or None for a streamed body (then values must be given).
        checksum_algorithm: one of ALGORITHMS, or None.
        checksum_value: a precomputed base64 checksum for ``checksum_algorithm``, or None to
            compute it from ``data``.
        content_md5_arg: True to compute Content-MD5 from ``data``, a base64 str to send as is,
            or None/False for none.
    """
    out: dict[str, str] = {}
    if checksum_value is not None and checksum_algorithm is None:
        raise ValueError("checksum= needs checksum_algorithm= to say which algorithm it is")
    if checksum_algorithm is not None:
        alg = normalize_algorithm(checksum_algorithm)
        if checksum_value is None:
            if data is None:
                raise ValueError(
                    "a streamed body cannot be checksummed up front: pass checksum= with the "
                    "precomputed base64 value, or send bytes"
                )
            checksum_value = checksum_b64(alg, data)
        else:
            check_b64_digest(checksum_value, alg, name="checksum")
        out["x-amz-checksum-" + alg.lower()] = checksum_value
    if content_md5_arg is True:
        if data is None:
            raise ValueError(
                "content_md5=True needs an in-memory body; for streams pass the base64 MD5 as "
                "content_md5='...'"
            )
        out["content-md5"] = content_md5(data)
    elif isinstance(content_md5_arg, str):
        out["content-md5"] = check_b64_digest(content_md5_arg, "MD5", name="content_md5")
    elif content_md5_arg not in (None, False):
        raise TypeError("content_md5 must be True, False, None or a base64 MD5 str")
    return out


def resolve_checksum_type(algorithm: str | None, checksum_type: str | None) -> str | None:
    """The multipart checksum type for ``algorithm``, enforcing R2's matrix (r2-s3-api §7.1).

    R2 supports CRC64NVME only as FULL_OBJECT, and CRC32, CRC32C, SHA1 and SHA256 only as
    COMPOSITE (AWS also allows FULL_OBJECT for CRC32/CRC32C; R2 does not).

    Args:
        algorithm: one of ALGORITHMS, or None for no checksum.
        checksum_type: 'COMPOSITE', 'FULL_OBJECT', or None for the only type R2 allows.
    """
    if algorithm is None:
        if checksum_type is not None:
            raise ValueError("checksum_type= needs checksum_algorithm= as well")
        return None
    alg = normalize_algorithm(algorithm)
    allowed = "FULL_OBJECT" if alg == "CRC64NVME" else "COMPOSITE"
    if checksum_type is None:
        return allowed
    if not isinstance(checksum_type, str) or checksum_type.upper() not in CHECKSUM_TYPES:
        raise ValueError(f"checksum_type={checksum_type!r}; use 'COMPOSITE' or 'FULL_OBJECT'")
    ctype = checksum_type.upper()
    if ctype != allowed:
        raise ValueError(
            f"R2 supports {alg} multipart checksums only as {allowed}, not {ctype}: "
            "use CRC64NVME for FULL_OBJECT, or CRC32/CRC32C/SHA1/SHA256 for COMPOSITE"
        )
    return ctype


# -- combining checksums of parts --------------------------------------------------------------


def composite_checksum(algorithm: str, part_checksums: Iterable[str]) -> str:
    """The COMPOSITE checksum S3 reports for a multipart object: ``b64(H(raw1 + raw2 ...))-N``.

    Args:
        algorithm: CRC32, CRC32C, SHA1 or SHA256.
        part_checksums: each part's base64 checksum, in part-number order.
    """
    alg = normalize_algorithm(algorithm)
    raws = [
        base64.b64decode(check_b64_digest(c, alg, name="part checksum")) for c in part_checksums
    ]
    if not raws:
        raise ValueError("part_checksums is empty; a multipart upload has at least one part")
    return f"{checksum_b64(alg, b''.join(raws))}-{len(raws)}"


def _gf2_times(mat: list[int], vec: int) -> int:
    total = 0
    i = 0
    while vec:
        if vec & 1:
            total ^= mat[i]
        vec >>= 1
        i += 1
    return total


def _gf2_square(mat: list[int]) -> list[int]:
    return [_gf2_times(mat, row) for row in mat]


def crc_combine(algorithm: str, crc1: bytes, crc2: bytes, len2: int) -> bytes:
    """CRC of ``A + B`` from CRC(A), CRC(B) and len(B), without the data (zlib's method).

    This gives a FULL_OBJECT CRC of a multipart upload from its parts' CRCs, so parts can be
    checksummed in parallel. Costs O(log len2) small matrix products.

    Args:
        algorithm: CRC32, CRC32C or CRC64NVME.
        crc1: raw big-endian CRC of the first block.
        crc2: raw big-endian CRC of the second block.
        len2: length in bytes of the second block.
    """
    alg = normalize_algorithm(algorithm)
    if alg not in _POLYS:
        raise ValueError(f"crc_combine works on CRC32, CRC32C or CRC64NVME, not {alg}")
    if not isinstance(len2, int) or isinstance(len2, bool) or len2 < 0:
        raise ValueError("len2 must be an int >= 0")
    poly, width = _POLYS[alg]
    c1 = int.from_bytes(crc1, "big")
    c2 = int.from_bytes(crc2, "big")
    if len2 == 0:
        return crc1
    # The operator for one zero bit, then squared to two and four bits (as zlib does).
    odd = [poly] + [1 << i for i in range(width - 1)]
    even = _gf2_square(odd)
    odd = _gf2_square(even)
    # Apply len2 zero bytes to crc1: square the operator for each bit of len2.
    n = len2
    bounded = 0
    while True:
        even = _gf2_square(odd)
        if n & 1:
            c1 = _gf2_times(even, c1)
        n >>= 1
        if not n:
            break
        odd = _gf2_square(even)
        if n & 1:
            c1 = _gf2_times(odd, c1)
        n >>= 1
        if not n:
            break
        bounded += 1
        if bounded > 64:  # pragma: no cover - len2 < 2**128 always finishes first
            raise ValueError("len2 is too large")
    return (c1 ^ c2).to_bytes(width // 8, "big")
