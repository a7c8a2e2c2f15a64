"""`pip install 'r2async[testing]'` alone makes the documented test pass (docs/testing.md).

A new virtual environment gets only this checkout with the ``testing`` extra (pip's cache is
reused, so this takes about 30 s); the files the testing guide shows (``reports.py``,
``test_reports.py``, ``pytest.ini``, each a code block whose first line names the file) are
written to an empty folder, and pytest runs there in a subprocess. It failed with "requested
an async fixture 'r2_client', with no plugin or hook that handled it" while the extra brought
no async test runner.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.doc_blocks import named_files

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]


def _clean_env() -> dict[str, str]:
    # Nothing from this test run may leak in: not its plugins, paths or R2 settings.
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "PYTHON", "R2_", "VIRTUAL_ENV", "COV_"))
    }


def test_documented_test_passes_with_only_the_testing_extra(tmp_path: Path) -> None:
    files = named_files(ROOT / "docs" / "testing.md")
    assert {"reports.py", "test_reports.py", "pytest.ini"} <= set(files)
    project = tmp_path / "project"
    project.mkdir()
    for name, text in files.items():
        (project / name).write_text(text, encoding="utf-8")

    venv = tmp_path / "venv"
    env = _clean_env()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=60, env=env)
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"{ROOT}[testing]"],
        capture_output=True,
        text=True,
        timeout=150,
        env=env,
    )
    assert install.returncode == 0, install.stderr[-3000:]

    run = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "2 passed" in run.stdout
