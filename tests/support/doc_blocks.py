"""The fenced code blocks of the Markdown docs, for the tests that run them as written.

Conventions (stated for contributors in docs/contributing.md):

- a ```python block is a complete program, run as written against the local server (top-level
  ``await`` is allowed: it runs as the body of an async function);
- a block preceded by the line ``<!-- fragment -->`` is a fragment of a larger program (it
  uses names defined elsewhere, such as ``r2`` or ``request``): it is only compiled;
- a block whose first line is ``# <file name>`` (``# reports.py``) is a file of a small
  project shown across several blocks; such blocks are compiled here and written out and run
  together by the test of that page;
- shell commands go in ```sh or ```console blocks, never in ```python ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FRAGMENT_MARKER = "<!-- fragment -->"
_FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
_FILE_NAME = re.compile(r"^#\s*([\w.-]+\.(?:py|ini|toml|cfg))\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced code block."""

    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    fragment: bool

    @property
    def file_name(self) -> str | None:
        """The file this block shows (its first line is ``# name.py``), else None."""
        first = self.text.split("\n", 1)[0]
        match = _FILE_NAME.match(first)
        return match.group(1) if match else None

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """Every fenced block of ``path``, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):  # bounded: i only grows
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, lang = match.groups()
        start = i
        previous = next((ln.strip() for ln in reversed(lines[:start]) if ln.strip()), "")
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        found.append(
            Block(
                path=path,
                line=start + 1,
                lang=lang,
                text="\n".join(body) + "\n",
                fragment=previous == FRAGMENT_MARKER,
            )
        )
        i += 1
    return found


def named_files(path: Path) -> dict[str, str]:
    """The blocks of ``path`` that name their file (``# reports.py``), as name -> text."""
    return {b.file_name: b.text for b in blocks(path) if b.file_name is not None}
