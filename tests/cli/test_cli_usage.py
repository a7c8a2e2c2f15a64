"""Help, start-up imports and usage errors: exit 2 with a message naming the fix, no I/O."""

from __future__ import annotations

import subprocess
import sys

import pytest
from tests.cli.runner import SCRIPT, Cli, base_env

# An endpoint nothing listens on: a usage error must be reported before any connection.
_DEAD = {
    "R2_ENDPOINT_URL": "http://127.0.0.1:9",
    "R2_ACCESS_KEY_ID": "k",
    "R2_SECRET_ACCESS_KEY": "s",
}


@pytest.fixture(scope="module")
def offline() -> Cli:
    return Cli({**base_env(), **_DEAD})


def test_help_lists_every_command_and_the_variables(offline: Cli) -> None:
    out = offline.ok("--help").stdout.decode()
    for command in ("ls", "cp", "mv", "sync", "rm", "mb", "rb", "cat", "stat", "du", "presign"):
        assert f"    {command} " in out
    assert "R2_SECRET_ACCESS_KEY" in out and "exit status" in out


def test_command_help_shows_an_example_and_global_options(offline: Cli) -> None:
    out = offline.ok("sync", "--help").stdout.decode()
    assert "--delete" in out and "--exclude" in out and "r2async sync" in out
    assert "--concurrency" in out


def test_help_imports_neither_rich_nor_the_client() -> None:
    code = (
        "import sys\n"
        "from r2async.cli import main\n"
        "try:\n"
        "    main(['cp', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('rich', 'pydantic', 'httpx', 'anyio', 'asyncio')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy"
        " or m.startswith('r2async._')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=True, env=base_env()
    )
    assert proc.stdout.decode().strip().splitlines()[-1] == "[]"


def test_python_dash_m_runs_the_same_command() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "r2async", "--version"], capture_output=True, env=base_env()
    )
    assert proc.returncode == 0
    assert proc.stdout.decode().startswith("r2async ")


def test_no_command_prints_usage_and_exits_2(offline: Cli) -> None:
    proc = offline()
    assert proc.returncode == 2 and b"usage:" in proc.stderr


@pytest.mark.parametrize(
    ("args", "fix"),
    [
        (("ls", "s3://bucket/key"), "write r2://bucket/key"),
        (("ls", "r2://Bad_Bucket"), "not a valid bucket name"),
        (("cat", "r2://bucket"), "write r2://BUCKET/KEY"),
        (("cat", "r2:///key"), "no bucket name"),
        (("cp", "a", "b"), "must be an r2:// URL"),
        (("cp", "/no/such/file", "r2://bucket/k"), "does not exist"),
        (("cp", "-", "r2://bucket/dir/"), "needs an object URL"),
        (("cp", "r2://bucket/p/", "."), "add -r"),
        (("rm", "r2://bucket/p/"), "add -r"),
        (("rm", "r2://bucket"), "add -r"),
        (("mb", "r2://bucket/key"), "give only the bucket"),
        (("--part-size", "1MiB", "ls"), "5 MiB"),
        (("--part-size", "lots", "ls"), "is not a size"),
        (("--concurrency", "0", "ls"), "use 1 to"),
        (("--header", "no-colon", "ls"), "'Name: value'"),
        (("cp", "r2://bucket/k", "out", "--content-type", "text/plain"), "r2:// destinations"),
        (("cp", "--metadata", "novalue", "-", "r2://bucket/k"), "key=value"),
        (("sync", "-", "r2://bucket/p/"), "cannot be '-'"),
        (("presign", "--expires", "999999999", "r2://bucket/k"), "604800"),
    ],
)
def test_usage_errors_exit_2_and_name_the_fix(
    offline: Cli, args: tuple[str, ...], fix: str
) -> None:
    proc = offline(*args)
    assert proc.returncode == 2, proc.stderr
    assert fix in proc.stderr.decode()
    assert proc.stdout == b""


def test_a_directory_without_r_is_a_usage_error(offline: Cli, tmp_path: object) -> None:
    proc = offline("cp", str(tmp_path), "r2://bucket/p/")
    assert proc.returncode == 2 and b"add -r" in proc.stderr


@pytest.mark.parametrize("missing", ["R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY", "R2_ENDPOINT_URL"])
def test_missing_credentials_name_the_variables_to_set(missing: str) -> None:
    env = {**base_env(), **_DEAD}
    del env[missing]
    proc = Cli(env)("ls")
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "no R2 credentials" in err
    expected = "R2_ACCOUNT_ID" if missing == "R2_ENDPOINT_URL" else missing
    assert expected in err


def test_secret_never_printed_in_errors() -> None:
    env = {**base_env(), **_DEAD, "R2_SECRET_ACCESS_KEY": "sekrit-value-123"}
    proc = Cli(env)("--endpoint-url", "not a url", "ls", "r2://bucket")
    assert proc.returncode == 2
    assert b"sekrit" not in proc.stderr + proc.stdout


def test_console_script_is_installed() -> None:
    assert SCRIPT.exists()
