"""Every ```python block of README.md and docs/*.md works as written (docs/contributing.md).

Complete examples run, each in its own Python process (so a ``ResourceWarning`` or a leaked
loop cannot hide), against the session's local server with ``R2_ENDPOINT_URL`` and the
credentials in the environment; fragments (``<!-- fragment -->``) and project files
(``# name.py``) are compiled. Python blocks never hold shell commands.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.doc_blocks import Block, blocks

from r2async.testing import LocalR2Server

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PYTHON_BLOCKS = [b for page in PAGES for b in blocks(page) if b.lang == "python"]
# The buckets the pages' examples name (docs/contributing.md lists them).
DOC_BUCKETS = ("photos", "my-bucket", "bucket", "backups", "logs")

# Runs one block: top-level await is allowed, as in `python -m asyncio`.
_RUNNER = """
import ast, asyncio, inspect, sys, types, warnings
warnings.simplefilter("always", ResourceWarning)
source = sys.stdin.read()
code = compile(source, "<doc block>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
namespace = {"__name__": "__main__"}
if code.co_flags & inspect.CO_COROUTINE:
    asyncio.run(types.FunctionType(code, namespace)())
else:
    exec(code, namespace)
"""


def _compile(block: Block) -> None:
    try:
        compile(block.text, block.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError as exc:
        pytest.fail(f"{block.where}: not valid Python ({exc.msg}, block line {exc.lineno})")


def _runnable(block: Block) -> bool:
    return not block.fragment and block.file_name is None


def test_there_are_blocks_of_each_kind() -> None:
    assert sum(map(_runnable, PYTHON_BLOCKS)) >= 5
    assert sum(b.fragment for b in PYTHON_BLOCKS) >= 3
    assert sum(b.file_name is not None for b in PYTHON_BLOCKS) >= 2


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: b.where)
def test_block_compiles(block: Block) -> None:
    _compile(block)


@pytest.fixture(scope="module")
def doc_env(s3_server: LocalR2Server) -> dict[str, str]:
    for name in DOC_BUCKETS:
        s3_server.create_bucket(name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("R2_", "PYTEST_"))}
    env.update(s3_server.env)
    return env


@pytest.mark.parametrize("block", [b for b in PYTHON_BLOCKS if _runnable(b)], ids=lambda b: b.where)
def test_example_runs_against_the_local_server(block: Block, doc_env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-c", _RUNNER],
        input=block.text,
        env=doc_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"{block.where} failed:\n{done.stderr[-3000:]}"
    assert "ResourceWarning" not in done.stderr, f"{block.where} leaks:\n{done.stderr[-3000:]}"
