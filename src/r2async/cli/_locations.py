"""Command-line locations: ``r2://bucket/key`` URLs, local paths and ``-`` (stdin/stdout).

The key is everything after the bucket's slash, taken literally: no percent-decoding, so
``r2://b/100%.txt`` and ``r2://b/a b+c#1`` name exactly those keys. Standard library only.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .._headers import validate_bucket
from ._errors import UsageError

SCHEME = "r2://"
STDIO = "-"
_MAX_KEY_BYTES = 1024
_OTHER_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class Remote:
    """An ``r2://bucket/key`` location; ``key`` may be empty or end with '/' (a prefix)."""

    bucket: str
    key: str

    @property
    def is_prefix(self) -> bool:
        """True when the URL names a 'directory': no key, or a key ending with '/'."""
        return self.key == "" or self.key.endswith("/")

    def url(self, key: str | None = None) -> str:
        """The URL of ``key`` in this bucket (default: this location's own key).

        Args:
            key: another key in the same bucket (default: this location's key).
        """
        return f"{SCHEME}{self.bucket}/{self.key if key is None else key}"

    def as_directory(self) -> str:
        """The key prefix this location stands for in a recursive command ('' or ending '/')."""
        return self.key if self.is_prefix else self.key + "/"


@dataclass(frozen=True)
class Local:
    """A local path, or '-' for standard input/output."""

    path: str

    @property
    def is_stdio(self) -> bool:
        """True for '-' (standard input as a source, standard output as a destination)."""
        return self.path == STDIO


Location = Remote | Local


def parse_location(text: str, *, what: str) -> Location:
    """Read a command-line argument as an ``r2://`` URL or a local path.

    Args:
        text: the argument as typed.
        what: the argument's name in messages (e.g. 'SRC').
    """
    if not text:
        raise UsageError(f"{what} is empty; give a local path or an r2://bucket/key URL")
    if text[:5].lower() == SCHEME:
        return _parse_remote(text, what)
    match = _OTHER_SCHEME.match(text)
    if match:
        rest = text[match.end() :]
        raise UsageError(
            f"{what} {text!r}: unsupported scheme {match.group(0)!r}; write r2://{rest}"
        )
    return Local(text)


def parse_remote(text: str, *, what: str, need_key: bool = False) -> Remote:
    """Read an argument that must be an ``r2://`` URL.

    Args:
        text: the argument as typed.
        what: the argument's name in messages (e.g. 'URL').
        need_key: the URL must name an object (a key not ending with '/').
    """
    location = parse_location(text, what=what)
    if isinstance(location, Local):
        raise UsageError(f"{what} {text!r} is not an r2:// URL; write r2://BUCKET/KEY")
    if need_key and location.is_prefix:
        raise UsageError(
            f"{what} {text!r} names a bucket or prefix, not an object; write r2://BUCKET/KEY"
        )
    return location


def _parse_remote(text: str, what: str) -> Remote:
    rest = text[5:]
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise UsageError(f"{what} {text!r} has no bucket name; write r2://BUCKET/KEY")
    try:
        validate_bucket(bucket)  # the client's rule (R2's, stricter than S3's)
    except ValueError:
        raise UsageError(
            f"{what} {text!r}: {bucket!r} is not a valid bucket name (3-63 characters of "
            "a-z, 0-9 and '-', starting and ending with a letter or digit)"
        ) from None
    if len(key.encode("utf-8", "surrogateescape")) > _MAX_KEY_BYTES:
        raise UsageError(f"{what}: the key is longer than {_MAX_KEY_BYTES} UTF-8 bytes")
    return Remote(bucket, key)


def key_for_upload(dest: Remote, source_path: str) -> str:
    """The key a single file gets: the URL's key, or the file name under a prefix.

    ``cp a.txt r2://b/k`` writes ``k``; ``cp a.txt r2://b/p/`` (or ``r2://b``) writes
    ``p/a.txt``, as the AWS CLI and s5cmd do.

    Args:
        dest: the destination URL.
        source_path: the local file (or the source key, for R2-to-R2 copies).
    """
    if not dest.is_prefix:
        return dest.key
    name = source_path.replace(os.sep, "/").rstrip("/").rsplit("/", 1)[-1]
    return dest.key + name


def path_for_download(dest: str, key: str) -> str:
    """The local file a single object goes to: ``dest``, or the key's last segment inside it.

    Args:
        dest: the local destination as typed.
        key: the object key.
    """
    if dest.endswith(("/", os.sep)) or os.path.isdir(dest):
        return os.path.join(dest, key.rsplit("/", 1)[-1])
    return dest


def local_path_for_key(root: str, rel: str) -> str:
    """The file under ``root`` for the relative key ``rel``; refuses names that escape it.

    Args:
        root: the local destination directory.
        rel: the key relative to the source prefix ('/'-separated).
    """
    parts = rel.split("/")
    if any(part in ("", ".", "..") for part in parts) or "\0" in rel:
        raise ValueError(
            f"key part {rel!r} has an empty, '.' or '..' segment and cannot be a local file "
            "name safely; copy it by its full key instead"
        )
    if os.sep != "/" and any(os.sep in part for part in parts):
        raise ValueError(f"key part {rel!r} contains {os.sep!r} and cannot be a local name")
    return os.path.join(root, *parts)
