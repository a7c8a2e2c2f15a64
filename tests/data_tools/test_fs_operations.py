"""R2FileSystem's operations through fsspec's sync API, against the local server."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from fsspec.callbacks import Callback

from r2async import NoSuchKeyError, PermissionDeniedError, R2Client
from r2async.fs import R2FileSystem
from r2async.testing import LocalR2Server


def test_cat_file_ranges(fs: R2FileSystem, base: str) -> None:
    data = bytes(range(256))
    fs.pipe_file(f"{base}/r", data)
    assert fs.cat_file(f"{base}/r") == data
    assert fs.cat_file(f"{base}/r", start=10, end=20) == data[10:20]
    assert fs.cat_file(f"{base}/r", start=250) == data[250:]
    assert fs.cat_file(f"{base}/r", start=-6) == data[-6:]
    assert fs.cat_file(f"{base}/r", start=10, end=-10) == data[10:-10]
    assert fs.cat_file(f"{base}/r", start=20, end=10) == b""
    assert fs.cat_file(f"{base}/r", start=300) == b""


def test_cat_many_paths(fs: R2FileSystem, base: str) -> None:
    fs.pipe({f"{base}/c/{i}": str(i).encode() for i in range(30)})
    out = fs.cat(f"{base}/c/*")
    assert out == {f"{base}/c/{i}": str(i).encode() for i in range(30)}
    assert fs.cat([f"{base}/c/1", f"{base}/c/2"]) == {f"{base}/c/1": b"1", f"{base}/c/2": b"2"}
    missing = fs.cat([f"{base}/c/1", f"{base}/nope"], on_error="return")
    assert isinstance(missing[f"{base}/nope"], FileNotFoundError)


def test_pipe_with_typed_options(fs: R2FileSystem, base: str) -> None:
    fs.pipe_file(
        f"{base}/o.json",
        b"{}",
        metadata={"owner": "ada"},
        cache_control="max-age=60",
    )
    info = fs.info(f"{base}/o.json")
    assert info["ContentType"] == "application/json"  # guessed from the extension
    assert info["metadata"] == {"owner": "ada"}
    fs.pipe_file(f"{base}/o.bin", b"x", content_type="application/x-thing")
    assert fs.info(f"{base}/o.bin")["ContentType"] == "application/x-thing"
    with pytest.raises(FileExistsError):
        fs.pipe_file(f"{base}/o.bin", b"y", if_none_match="*")
    with pytest.raises(TypeError, match="content_typo"):
        fs.pipe_file(f"{base}/o.bin", b"y", content_typo="text/plain")


def test_large_pipe_goes_multipart(fs: R2FileSystem, base: str) -> None:
    data = os.urandom(17 * 1024 * 1024)
    fs.pipe_file(f"{base}/big", data)
    info = fs.info(f"{base}/big")
    assert info["size"] == len(data)
    assert info["ETag"].strip('"').endswith("-3")  # 8 + 8 + 1 MiB: equal parts
    assert fs.cat_file(f"{base}/big", start=len(data) - 5) == data[-5:]


def test_put_get_with_callbacks(fs: R2FileSystem, base: str, tmp_path: Path) -> None:
    local = tmp_path / "up.bin"
    local.write_bytes(b"a" * 100_000)
    sizes: list[Any] = []

    class Recorder(Callback):  # type: ignore[misc]
        def call(self, *args: Any, **kwargs: Any) -> None:
            sizes.append((self.size, self.value))

    fs.put_file(str(local), f"{base}/up.bin", callback=Recorder())
    assert sizes and sizes[-1] == (100_000, 100_000)
    sizes.clear()
    fs.get_file(f"{base}/up.bin", str(tmp_path / "down.bin"), callback=Recorder())
    assert (tmp_path / "down.bin").read_bytes() == local.read_bytes()
    assert sizes[-1] == (100_000, 100_000)
    assert fs.info(f"{base}/up.bin")["ContentType"] == "application/octet-stream"


def test_ls_info_find_and_directories(fs: R2FileSystem, base: str) -> None:
    for key in ["a/1", "a/b/2", "a/b/c/3", "top"]:
        fs.pipe_file(f"{base}/{key}", b"xy")
    assert fs.ls(base, detail=False) == [f"{base}/a", f"{base}/top"]
    entries = {e["name"]: e for e in fs.ls(f"{base}/a")}
    assert entries[f"{base}/a/1"]["type"] == "file" and entries[f"{base}/a/1"]["size"] == 2
    assert entries[f"{base}/a/b"]["type"] == "directory"
    assert fs.ls(f"{base}/top", detail=False) == [f"{base}/top"]  # ls of a file
    assert fs.info(f"{base}/a/b")["type"] == "directory"
    assert fs.isdir(f"{base}/a") and fs.isfile(f"{base}/top") and not fs.isdir(f"{base}/top")
    assert fs.find(base) == [f"{base}/a/1", f"{base}/a/b/2", f"{base}/a/b/c/3", f"{base}/top"]
    assert fs.find(base, maxdepth=2) == [f"{base}/a/1", f"{base}/top"]
    assert fs.find(base, maxdepth=1, withdirs=True) == [base, f"{base}/a", f"{base}/top"]
    with_dirs = fs.find(f"{base}/a", withdirs=True, detail=True)
    assert with_dirs[f"{base}/a/b/c"]["type"] == "directory"
    assert with_dirs[f"{base}/a/1"]["size"] == 2
    assert fs.find(f"{base}/top") == [f"{base}/top"]
    assert fs.find(f"{base}/missing") == []
    assert fs.exists(f"{base}/a/b") and not fs.exists(f"{base}/a/bb")
    assert fs.du(base) == 8
    with pytest.raises(FileNotFoundError):
        fs.info(f"{base}/missing")
    with pytest.raises(FileNotFoundError):
        fs.ls(f"{base}/missing")


def test_directory_marker_objects(fs: R2FileSystem, base: str, fs_options: dict[str, Any]) -> None:
    # A "dir/" object, as the R2 dashboard's "create folder" makes (fsspec paths drop a
    # trailing slash, so the client writes it).
    bucket, prefix = base.split("/", 1)

    async def marker() -> None:
        async with R2Client(**fs_options) as r2:
            await r2.put_object(bucket, f"{prefix}/folder/", b"")

    asyncio.run(marker())
    assert fs.info(f"{base}/folder")["type"] == "directory"
    assert fs.ls(f"{base}/folder", detail=False) == []
    fs.pipe_file(f"{base}/folder/f", b"1")
    assert fs.ls(f"{base}/folder", detail=False) == [f"{base}/folder/f"]
    assert fs.find(base) == [f"{base}/folder/f"]
    fs.rm(f"{base}/folder", recursive=True)
    assert not fs.exists(f"{base}/folder")


def test_listing_cache_is_invalidated_by_writes(fs: R2FileSystem, base: str) -> None:
    fs.pipe_file(f"{base}/d/1", b"1")
    assert fs.ls(f"{base}/d", detail=False) == [f"{base}/d/1"]
    assert f"{base}/d" in fs.dircache
    fs.pipe_file(f"{base}/d/2", b"2")
    assert fs.ls(f"{base}/d", detail=False) == [f"{base}/d/1", f"{base}/d/2"]
    with fs.open(f"{base}/d/3", "wb") as f:
        f.write(b"3")
    assert len(fs.ls(f"{base}/d")) == 3
    fs.cp(f"{base}/d/3", f"{base}/d/4")
    assert len(fs.ls(f"{base}/d")) == 4
    fs.rm(f"{base}/d/1")
    assert fs.ls(f"{base}/d", detail=False) == [f"{base}/d/2", f"{base}/d/3", f"{base}/d/4"]
    fs.mv(f"{base}/d/2", f"{base}/d/5")
    assert fs.ls(f"{base}/d", detail=False) == [f"{base}/d/3", f"{base}/d/4", f"{base}/d/5"]


def test_rm_batches_over_1000_keys(fs: R2FileSystem, base: str) -> None:
    fs.pipe({f"{base}/many/{i:04d}": b"" for i in range(1001)})
    assert len(fs.find(f"{base}/many")) == 1001
    fs.rm(f"{base}/many", recursive=True)
    assert fs.find(f"{base}/many") == []
    assert not fs.exists(f"{base}/many")


def test_copy_keeps_content_and_missing_source_fails(fs: R2FileSystem, base: str) -> None:
    fs.pipe_file(f"{base}/src.txt", b"copy me", metadata={"k": "v"})
    fs.cp_file(f"{base}/src.txt", f"{base}/dst.txt")
    assert fs.cat_file(f"{base}/dst.txt") == b"copy me"
    assert fs.info(f"{base}/dst.txt")["metadata"] == {"k": "v"}
    with pytest.raises(FileNotFoundError):
        fs.cp_file(f"{base}/absent", f"{base}/dst2")


def test_buckets_are_directories(fs: R2FileSystem, s3_server: LocalR2Server) -> None:
    import uuid

    name = f"mk-{uuid.uuid4().hex[:12]}"
    fs.mkdir(name)
    assert fs.exists(name) and fs.isdir(name)
    assert name in fs.ls("", detail=False)
    with pytest.raises(FileExistsError):
        fs.mkdir(name)
    fs.makedirs(name, exist_ok=True)
    fs.mkdir(f"{name}/sub/dir")  # a prefix: nothing to create
    assert fs.ls(name) == []
    fs.pipe_file(f"{name}/k", b"1")
    with pytest.raises(OSError):
        fs.rmdir(name)  # not empty
    fs.rm(f"{name}/k")
    fs.rmdir(name)
    assert not fs.exists(name)
    other = f"mk-{uuid.uuid4().hex[:12]}"
    fs.makedirs(f"{other}/a/b")  # creates the bucket
    fs.pipe_file(f"{other}/a/b/c", b"1")
    fs.rm(other, recursive=True)  # objects and the bucket, as s3fs
    assert not fs.exists(other)


def test_missing_key_and_denied_map_to_oserrors(
    fs: R2FileSystem, base: str, fs_options: dict[str, Any]
) -> None:
    with pytest.raises(FileNotFoundError) as missing:
        fs.cat_file(f"{base}/nope")
    assert isinstance(missing.value.__cause__, NoSuchKeyError)
    with pytest.raises(FileNotFoundError):
        fs.open(f"{base}/nope", "rb")
    wrong = R2FileSystem(
        **{**fs_options, "secret_access_key": "wrong-secret-key-0000000000"},
        skip_instance_cache=True,
    )
    fs.pipe_file(f"{base}/exists", b"1")
    with pytest.raises(PermissionError) as denied:
        wrong.cat_file(f"{base}/exists")
    assert isinstance(denied.value.__cause__, PermissionDeniedError)
    assert "wrong-secret" not in str(denied.value) + repr(wrong)


def test_bad_input_raises_before_any_request() -> None:
    # Nothing listens on port 9: any request would be a connection error, not ValueError.
    fs = R2FileSystem(
        endpoint_url="http://127.0.0.1:9",
        access_key_id="AKIAEXAMPLE",
        secret_access_key="not-a-secret",
        skip_instance_cache=True,
    )
    for mode in ("a", "ab", "r+", "r+b", "w+b"):
        with pytest.raises(ValueError):
            fs.open("bucket-ok/key", mode)
    for no_bucket in ("", "r2://", "/"):
        with pytest.raises(ValueError, match="no bucket"):
            fs.cat_file(no_bucket)
    with pytest.raises(ValueError, match="invalid bucket"):
        fs.cat_file("r2://Not_A_Bucket/key")
    with pytest.raises(ValueError, match="invalid bucket"):
        fs.exists("ab/key")
    with pytest.raises(ValueError, match="names a bucket"):
        fs.pipe_file("bucket-ok", b"x")
    with pytest.raises(ValueError):
        fs.pipe_file("bucket-ok/k", b"x", mode="append")
    with pytest.raises(ValueError):
        R2FileSystem(block_size=1024, skip_instance_cache=True, endpoint_url="http://127.0.0.1:9")
