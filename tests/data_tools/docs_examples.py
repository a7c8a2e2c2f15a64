"""Run the examples of docs/data-tools.md and check what they print against their comments.

Each example is a ```python block preceded by ``<!-- example: NAME -->``. A ``print(...)``
line's trailing comment (``# ...``), or a comment line right after it, is the expected output.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-tools.md"
_BLOCK = re.compile(r"<!-- example: ([\w-]+) -->\n```python\n(.*?)```", re.DOTALL)
# Examples that read what another example wrote.
NEEDS = {
    "storage-options": ["pandas"],
    "polars": ["pandas"],
    "duckdb": ["pandas"],
    "dask": ["pyarrow"],
}


def examples() -> dict[str, str]:
    """Every tagged example of the page, by name."""
    return dict(_BLOCK.findall(DOC.read_text(encoding="utf-8")))


def expected_output(code: str) -> list[str]:
    """The outputs the example's comments promise, one per print() call."""
    lines = code.splitlines()
    out: list[str] = []
    for i, line in enumerate(lines):
        if not line.lstrip().startswith("print("):
            continue
        if "  # " in line:
            out.append(line.split("  # ", 1)[1])
        elif i + 1 < len(lines) and lines[i + 1].startswith("# "):
            out.append(lines[i + 1][2:])
        else:
            out.append("")  # printed, but nothing promised
    return out


def run_example(name: str) -> dict[str, Any]:
    """Run one example (after those it depends on); check its output; return its names.

    Args:
        name: the example's tag.
    """
    blocks = examples()
    for before in NEEDS.get(name, []):
        run_example(before)
    code = blocks[name]
    namespace: dict[str, Any] = {"__name__": f"docs_example_{name.replace('-', '_')}"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, f"{DOC}:{name}", "exec"), namespace)
    lines = printed.getvalue().splitlines()
    promised = expected_output(code)
    assert len(lines) >= len(promised), (name, lines, promised)
    for got, want in zip(lines[-len(promised) :] if promised else [], promised, strict=True):
        if want:
            assert got == want, f"example {name!r} printed {got!r}, its comment says {want!r}"
    return namespace
