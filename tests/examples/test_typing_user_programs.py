"""mypy --strict on user-style programs: correct code passes, and each deliberate mistake is caught.

``typing_programs/good_*.py`` are small programs written against the public API, using its
exported aliases (``HeaderMap``, ``BodyLike``, ``ChecksumAlgorithm``, ...): no error allowed.
``typing_programs/mistakes.py`` marks each wrong line with ``# E: <mypy error code>``: each
must be reported with that code, and no unmarked line may be.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(240)

PROGRAMS = Path(__file__).parent / "typing_programs"
ROOT = Path(__file__).resolve().parents[2]
_ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")
_EXPECT = re.compile(r"#\s*E:\s*(?P<code>[a-z-]+)")


def test_mypy_strict_accepts_good_code_and_catches_every_mistake(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--show-error-codes",
            "--no-error-summary",
            str(PROGRAMS),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=220,
    )
    found: dict[tuple[str, int], set[str]] = {}
    for line in run.stdout.splitlines():
        match = _ERROR.match(line)
        if match:
            key = (Path(match["file"]).name, int(match["line"]))
            found.setdefault(key, set()).add(match["code"])
    assert run.returncode in (0, 1), run.stdout + run.stderr

    expected: dict[tuple[str, int], str] = {}
    for path in sorted(PROGRAMS.glob("*.py")):
        for number, text in enumerate(path.read_text().splitlines(), 1):
            match = _EXPECT.search(text)
            if match:
                expected[(path.name, number)] = match["code"]
    assert len(expected) >= 14

    missed = {k: v for k, v in expected.items() if v not in found.get(k, set())}
    assert not missed, f"mistakes mypy did not catch: {missed}\n{run.stdout}"
    unexpected = {k: v for k, v in found.items() if k not in expected}
    assert not unexpected, f"errors in code that should pass: {unexpected}\n{run.stdout}"
