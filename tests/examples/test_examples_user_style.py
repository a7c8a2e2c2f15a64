"""The pytest plugin as a user meets it: a separate test project run in its own pytest process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

USER_PROJECT = Path(__file__).parent / "user_style"


def _env(**extra: str) -> dict[str, str]:
    # The child must not inherit this run's pytest options or any real R2 credentials.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "R2_", "COV_CORE_"))}
    env.update(extra)
    return env


def _pytest(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )


def _passed(output: str) -> int:
    match = re.search(r"(\d+) passed", output)
    return int(match.group(1)) if match else 0


def test_user_project_passes_with_the_plugin_from_its_entry_point() -> None:
    result = _pytest(USER_PROJECT)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert _passed(output) == 5, output
    assert "failed" not in output and "error" not in output.lower(), output


def test_user_project_passes_with_the_plugin_enabled_explicitly() -> None:
    # With autoloading off, `-p r2async` (the entry point's name) enables it; so do the other
    # plugins the user project relies on.
    result = _pytest(
        USER_PROJECT,
        "-p",
        "r2async",
        "-p",
        "asyncio",
        "-p",
        "timeout",
        "-k",
        "fresh_empty_bucket or synchronous",
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert _passed(output) == 2, output


def test_without_the_plugin_the_fixtures_do_not_exist() -> None:
    result = _pytest(
        USER_PROJECT,
        "-p",
        "asyncio",
        "-p",
        "timeout",
        "-k",
        "synchronous",
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
    )

    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "fixture 'r2_server' not found" in output, output


def test_the_plugin_is_inert_until_a_test_uses_its_fixtures(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_unrelated.py").write_text(
        "import sys\n"
        "\n"
        "def test_unrelated(request):\n"
        "    plugin = request.config.pluginmanager.get_plugin('r2async')\n"
        "    assert plugin is not None and plugin.__name__ == 'r2async.pytest_plugin'\n"
        "    # Nothing started, and the server machinery was never even imported.\n"
        "    assert 'r2async.testing' not in sys.modules\n"
        "    assert 'r2_server' not in request.fixturenames\n"
    )

    result = _pytest(tmp_path)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert _passed(output) == 1, output


def test_the_fixtures_are_listed_with_their_docs(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")

    result = _pytest(tmp_path, "--fixtures")

    output = result.stdout
    assert result.returncode == 0, output
    for name, doc in [
        ("r2_server [session scope]", "A local S3-compatible server (SeaweedFS)"),
        ("r2_bucket", "a new, empty bucket"),
        ("r2_client", "An ``R2Client`` connected to ``r2_server``"),
        ("r2_env", "Point ``R2Client()``"),
    ]:
        assert name in output and doc in output, output
