"""docs/data-tools.md: every example is tagged, run by a test, and prints what it says."""

from __future__ import annotations

import re

from .docs_examples import DOC, examples, run_example


def test_every_python_block_is_a_tagged_example() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert len(re.findall(r"```python\n", text)) == len(examples()) == 10


def test_filesystem_example(docs_env: str) -> None:
    names = run_example("filesystem")
    assert names["fs"].cat_file("my-bucket/notes/readme.txt") == b"hello"
    info = names["fs"].info("my-bucket/notes/readme.txt", refresh=True)
    assert info["metadata"] == {"owner": "data-team"}
    assert info["ContentType"] == "text/plain"


def test_async_example(docs_env: str) -> None:
    run_example("async")


def test_store_example(docs_env: str) -> None:
    names = run_example("store")
    assert names["store"].head("hello.txt")["size"] == len(b"hello, world")
