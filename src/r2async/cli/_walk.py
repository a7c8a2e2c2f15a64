"""Enumerating sources: local directory trees and R2 prefixes, with --include/--exclude.

Both sides yield entries keyed by their path relative to the root, with '/' separators,
so a local tree and a prefix can be matched name for name.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from r2async import R2Client


@dataclass(frozen=True)
class LocalEntry:
    """A regular file under a local root."""

    rel: str
    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class RemoteEntry:
    """An object under a prefix."""

    rel: str
    key: str
    size: int
    etag: str | None
    last_modified: dt.datetime | None


def included(rel: str, filters: Sequence[tuple[str, str]]) -> bool:
    """Apply --exclude/--include in order, as the AWS CLI does: the last match decides.

    Patterns are ``fnmatch`` globs on the relative path ('*' also matches '/').

    Args:
        rel: the path relative to the source root, '/'-separated.
        filters: ('exclude' | 'include', glob) pairs in command-line order.
    """
    keep = True
    for kind, pattern in filters:
        if fnmatch.fnmatchcase(rel, pattern):
            keep = kind == "include"
    return keep


def walk_local(root: str, filters: Sequence[tuple[str, str]]) -> list[LocalEntry]:
    """Every regular file under ``root`` (symlinks to files followed), sorted by relative path.

    Symlinked directories are not entered (no loops); special files are skipped.

    Args:
        root: the directory.
        filters: --exclude/--include pairs.
    """
    out: list[LocalEntry] = []
    stack = [("", root)]
    # Bounded by the tree's size: each directory is visited once (symlinked ones never).
    while stack:
        prefix, directory = stack.pop()
        with os.scandir(directory) as it:
            for entry in it:
                rel = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append((rel + "/", entry.path))
                    continue
                try:
                    st = entry.stat()
                except OSError:
                    continue  # a dangling symlink: nothing to copy
                if not stat.S_ISREG(st.st_mode) or not included(rel, filters):
                    continue
                out.append(LocalEntry(rel, entry.path, st.st_size, st.st_mtime_ns))
    out.sort(key=lambda e: e.rel)
    return out


async def walk_remote(
    client: R2Client, bucket: str, prefix: str, filters: Sequence[tuple[str, str]]
) -> list[RemoteEntry]:
    """Every object whose key starts with ``prefix``, in key order.

    Args:
        client: the client.
        bucket: the bucket.
        prefix: the key prefix ('' for the whole bucket).
        filters: --exclude/--include pairs, matched on the key minus the prefix.
    """
    out: list[RemoteEntry] = []
    async for obj in client.iter_objects(bucket, prefix=prefix or None):
        rel = obj.key[len(prefix) :]
        if rel and included(rel, filters):
            out.append(RemoteEntry(rel, obj.key, obj.size, obj.etag, obj.last_modified))
    return out


def is_plain_md5(etag: str | None) -> bool:
    """True when an ETag is the MD5 of the data (one PutObject, no SSE-C): 32 hex digits.

    Args:
        etag: the ETag as listed (quotes allowed).
    """
    if etag is None:
        return False
    value = etag.strip('"')
    return len(value) == 32 and all(c in "0123456789abcdefABCDEF" for c in value)
