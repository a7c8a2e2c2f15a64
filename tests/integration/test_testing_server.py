"""r2async.testing: the embedded SeaweedFS server used by the integration tests and by users."""

from __future__ import annotations

import asyncio
import gc
import os
import re
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
import trio

from r2async import testing
from r2async._signing.auth import SigV4Auth
from r2async._signing.credentials import Credentials
from r2async.testing import LocalR2Server, LocalServerError, local_r2, start_local_server

_ENDPOINT = re.compile(r"^http://127\.0\.0\.1:(\d+)$")


def _signed_client(server: LocalR2Server, secret: str | None = None) -> httpx.Client:
    credentials = Credentials(server.access_key_id, secret or server.secret_access_key)
    return httpx.Client(auth=SigV4Auth(credentials, region="auto"), trust_env=False, timeout=10)


def _list_buckets(server: LocalR2Server) -> set[str]:
    with _signed_client(server) as client:
        response = client.get(server.endpoint_url + "/")
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.content)
    return {el.text or "" for el in root.iter() if el.tag.endswith("}Name") or el.tag == "Name"}


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _listening_sockets(pid: int) -> set[tuple[str, int]]:
    """(ip, port) of every TCP socket the process listens on, from /proc (Linux)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        lines = Path(table).read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:  # 0A = LISTEN
                continue
            hex_ip, hex_port = local.split(":")
            if width == 8:
                ip = ".".join(str(int(hex_ip[i : i + 2], 16)) for i in (6, 4, 2, 0))
            else:
                ip = hex_ip
            found.add((ip, int(hex_port, 16)))
    return found


@pytest.fixture(scope="module")
def server() -> Iterator[LocalR2Server]:
    srv = start_local_server(buckets=["alpha", "beta-2"])
    try:
        yield srv
    finally:
        srv.stop()


# -- input validation (no I/O) ------------------------------------------------------------------


def test_bucket_names_are_validated_before_anything_starts() -> None:
    with pytest.raises(TypeError, match=r"buckets=\['abc'\]"):
        LocalR2Server(buckets="abc")
    with pytest.raises(ValueError, match="3-63 lowercase"):
        LocalR2Server(buckets=["ab"])
    with pytest.raises(ValueError, match="3-63 lowercase"):
        LocalR2Server(buckets=["Upper"])
    with pytest.raises(ValueError, match="3-63 lowercase"):
        LocalR2Server(buckets=["-dash-first"])
    with pytest.raises(ValueError, match="twice"):
        LocalR2Server(buckets=["same", "same"])
    with pytest.raises(TypeError, match="str"):
        LocalR2Server(buckets=[b"bytes"])  # type: ignore[list-item]


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf")])
def test_startup_timeout_must_be_positive(bad: float) -> None:
    with pytest.raises(ValueError, match="startup_timeout"):
        LocalR2Server(startup_timeout=bad)


def test_not_started_server_says_so() -> None:
    srv = LocalR2Server()
    assert not srv.running
    with pytest.raises(LocalServerError, match="not running"):
        _ = srv.endpoint_url
    with pytest.raises(LocalServerError, match="not running"):
        _ = srv.client_kwargs
    assert "not started" in repr(srv)
    srv.stop()  # stopping a server that never started is harmless


def test_generated_credentials_are_random_and_r2_shaped() -> None:
    one, two = LocalR2Server(), LocalR2Server()
    assert re.fullmatch(r"[0-9a-f]{32}", one.access_key_id)
    assert re.fullmatch(r"[0-9a-f]{64}", one.secret_access_key)
    assert one.access_key_id != two.access_key_id
    assert one.secret_access_key != two.secret_access_key


def test_free_ports_leave_room_for_grpc_ports() -> None:
    ports = testing._free_port_pairs(5)
    assert len(set(ports)) == 5
    everything = set(ports) | {p + 10000 for p in ports}
    assert len(everything) == 10
    assert all(p + 10000 <= 65535 for p in ports)


# -- missing or broken binary -------------------------------------------------------------------


def test_missing_binary_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setattr(sys, "executable", str(empty / "python"))
    monkeypatch.setattr(sysconfig, "get_path", lambda name, *a, **k: str(empty))
    monkeypatch.setenv("PATH", str(empty))
    tempfile_dir = tmp_path / "tmp"
    tempfile_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tempfile_dir))
    with pytest.raises(RuntimeError, match=re.escape("pip install 'r2async[testing]'")):
        start_local_server()
    assert list(tempfile_dir.iterdir()) == []  # failed before creating anything


def test_binary_argument_must_be_executable(tmp_path: Path) -> None:
    with pytest.raises(LocalServerError, match="not an executable file"):
        start_local_server(binary=tmp_path / "nope")


def _fake_weed(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "weed"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_server_that_exits_reports_its_log_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tempfile_dir = tmp_path / "tmp"
    tempfile_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tempfile_dir))
    # The fake prints the identities file (which holds the secret) to check redaction.
    fake = _fake_weed(tmp_path, 'echo "boom: cannot start"; cat s3-identities.json; exit 3')
    srv = LocalR2Server(binary=fake)
    with pytest.raises(LocalServerError) as info:
        srv.start()
    message = str(info.value)
    assert "exited with status 3" in message
    assert "boom: cannot start" in message
    assert srv.secret_access_key not in message
    assert "[redacted]" in message
    assert not srv.running
    assert list(tempfile_dir.iterdir()) == []  # the data directory was removed


def test_server_that_never_answers_times_out_and_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    fake = _fake_weed(tmp_path, f'echo $$ > "{pid_file}"; echo "still waking up"; exec sleep 60')
    srv = LocalR2Server(binary=fake, startup_timeout=1.0)
    with pytest.raises(LocalServerError, match="did not answer a signed ListBuckets") as info:
        srv.start()
    assert "still waking up" in str(info.value)
    assert _process_gone(int(_wait_for_file(pid_file)))


async def test_cancelled_async_start_leaves_no_process(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    fake = _fake_weed(tmp_path, f'echo $$ > "{pid_file}"; exec sleep 60')
    srv = local_r2(binary=fake, startup_timeout=30.0)
    with anyio.move_on_after(1.0) as scope:
        async with srv:
            pytest.fail("a server that never answers cannot become ready")
    assert scope.cancelled_caught
    assert _process_gone(int(_wait_for_file(pid_file)))
    assert not srv.running


# -- a real server ------------------------------------------------------------------------------


@pytest.mark.integration
def test_requested_buckets_exist_and_signatures_are_checked(server: LocalR2Server) -> None:
    assert server.running
    assert _ENDPOINT.match(server.endpoint_url)
    assert {"alpha", "beta-2"} <= _list_buckets(server)
    with _signed_client(server, secret="0" * 64) as client:
        response = client.get(server.endpoint_url + "/")
    assert response.status_code == 403
    assert b"SignatureDoesNotMatch" in response.content


@pytest.mark.integration
def test_client_kwargs_and_env(server: LocalR2Server) -> None:
    assert server.client_kwargs == {
        "endpoint_url": server.endpoint_url,
        "access_key_id": server.access_key_id,
        "secret_access_key": server.secret_access_key,
    }
    assert server.env == {
        "R2_ENDPOINT_URL": server.endpoint_url,
        "R2_ACCESS_KEY_ID": server.access_key_id,
        "R2_SECRET_ACCESS_KEY": server.secret_access_key,
    }
    assert server.region == "auto"


@pytest.mark.integration
def test_secret_is_not_in_repr_or_str(server: LocalR2Server) -> None:
    for text in (repr(server), str(server)):
        assert server.secret_access_key not in text
        assert server.endpoint_url in text


@pytest.mark.integration
def test_create_bucket_sync_and_idempotent(server: LocalR2Server) -> None:
    server.create_bucket("made-sync")
    server.create_bucket("made-sync")  # already ours: not an error
    assert "made-sync" in _list_buckets(server)
    with pytest.raises(ValueError, match="3-63 lowercase"):
        server.create_bucket("Bad_Name")


@pytest.mark.integration
async def test_acreate_bucket(server: LocalR2Server) -> None:
    await server.acreate_bucket("made-async")
    assert "made-async" in await asyncio.to_thread(_list_buckets, server)


@pytest.mark.integration
def test_r2_semantics_flags(server: LocalR2Server) -> None:
    server.create_bucket("not-empty")
    with _signed_client(server) as client:
        # No auto-created bucket on upload, as on R2.
        missing = client.put(server.endpoint_url + "/no-such-bucket-here/k", content=b"x")
        assert missing.status_code == 404, missing.text
        assert b"NoSuchBucket" in missing.content
        put = client.put(server.endpoint_url + "/not-empty/k", content=b"x")
        assert put.status_code == 200, put.text
        # A non-empty bucket cannot be deleted, as on R2.
        delete = client.delete(server.endpoint_url + "/not-empty")
        assert delete.status_code == 409, delete.text
        assert b"BucketNotEmpty" in delete.content


@pytest.mark.integration
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_listens_only_on_its_own_loopback_ports(server: LocalR2Server) -> None:
    chosen = set(server._ports.values()) | {p + 10000 for p in server._ports.values()}
    # The server counts as started once S3 answers; weed's other components may take a
    # moment longer to open their (gRPC) ports. Wait for those, bounded, then compare.
    deadline = time.monotonic() + 15
    listening = _listening_sockets(server.pid)
    while not chosen <= {port for _, port in listening} and time.monotonic() < deadline:
        time.sleep(0.05)
        listening = _listening_sockets(server.pid)
    assert {port for _, port in listening} == chosen
    assert {ip for ip, _ in listening} == {"127.0.0.1"}


@pytest.mark.integration
def test_two_servers_at_once_then_clean_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    # Variables weed mini would turn into an extra identity and bucket: they must be ignored.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "leakedkey")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "leakedsecret")
    monkeypatch.setenv("S3_BUCKET", "leaked-bucket")
    # The second server asks for no bucket: that is when weed falls back to S3_BUCKET.
    with start_local_server(buckets=["one"]) as first, LocalR2Server() as second:
        assert first.endpoint_url != second.endpoint_url
        assert not set(first._ports.values()) & set(second._ports.values())
        assert _list_buckets(first) == {"one"}
        assert _list_buckets(second) == set()
        second.create_bucket("two")
        assert _list_buckets(second) == {"two"}
        leaked = Credentials("leakedkey", "leakedsecret")
        with httpx.Client(auth=SigV4Auth(leaked), trust_env=False, timeout=10) as client:
            assert client.get(second.endpoint_url + "/").status_code == 403
        # One server's credentials mean nothing to the other.
        intruder = Credentials(first.access_key_id, first.secret_access_key)
        with httpx.Client(auth=SigV4Auth(intruder), trust_env=False, timeout=10) as client:
            assert client.get(second.endpoint_url + "/").status_code == 403
        pids = (first.pid, second.pid)
        dirs = (first.data_dir, second.data_dir)
        ports = [*first._ports.values(), *second._ports.values()]
    for pid in pids:
        assert _process_gone(pid)
    for directory in dirs:
        assert not directory.exists()
    assert not first.running and not second.running
    leftovers = [
        path for port in ports for path in Path("/tmp").glob(f"seaweedfs-*-{port + 10000}.sock")
    ]
    assert leftovers == []


@pytest.mark.integration
async def test_local_r2_async_context_manager() -> None:
    async with local_r2(buckets=["async-one"]) as srv:
        assert "async-one" in await asyncio.to_thread(_list_buckets, srv)
        pid, directory = srv.pid, srv.data_dir
    assert _process_gone(pid)
    assert not directory.exists()


@pytest.mark.integration
def test_local_r2_under_trio() -> None:
    seen: dict[str, object] = {}

    async def main() -> None:
        async with local_r2(buckets=["trio-one"]) as srv:
            await srv.acreate_bucket("trio-two")
            seen["buckets"] = await trio.to_thread.run_sync(_list_buckets, srv)
            seen["pid"] = srv.pid

    trio.run(main)
    assert {"trio-one", "trio-two"} <= seen["buckets"]  # type: ignore[operator]
    assert _process_gone(seen["pid"])  # type: ignore[arg-type]


@pytest.mark.integration
def test_port_taken_by_another_program_is_retried_with_new_ports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = testing._free_port_pairs
    calls: list[list[int]] = []
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]

        def first_choice_clashes(count: int) -> list[int]:
            ports = real(count)
            if not calls:
                ports[testing._COMPONENTS.index("s3")] = busy
            calls.append(ports)
            return ports

        monkeypatch.setattr(testing, "_free_port_pairs", first_choice_clashes)
        with LocalR2Server(buckets=["retried"]) as srv:
            assert len(calls) == 2
            assert srv.endpoint_url != f"http://127.0.0.1:{busy}"
            assert _list_buckets(srv) == {"retried"}


@pytest.mark.integration
def test_cors_preflight_depends_on_the_bucket_rule_as_on_r2(server: LocalR2Server) -> None:
    server.create_bucket("cors-here")
    preflight = {"Origin": "http://app.example", "Access-Control-Request-Method": "PUT"}
    url = server.endpoint_url + "/cors-here/k"
    with httpx.Client(trust_env=False, timeout=10) as plain:
        assert plain.options(url, headers=preflight).status_code == 403  # no rule yet
    rule = (
        b"<CORSConfiguration><CORSRule><AllowedOrigin>http://app.example</AllowedOrigin>"
        b"<AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader></CORSRule>"
        b"</CORSConfiguration>"
    )
    with _signed_client(server) as client:
        put = client.put(server.endpoint_url + "/cors-here?cors", content=rule)
        assert put.status_code == 200, put.text
    with httpx.Client(trust_env=False, timeout=10) as plain:
        allowed = plain.options(url, headers=preflight)
        assert allowed.status_code == 200
        assert allowed.headers["Access-Control-Allow-Origin"] == "http://app.example"
        other = plain.options(url, headers={**preflight, "Origin": "http://evil.example"})
        assert other.status_code == 403


def test_extra_args_are_validated() -> None:
    with pytest.raises(TypeError, match="list of flags"):
        LocalR2Server(extra_args="-filer.maxMB=8")
    with pytest.raises(ValueError, match="not a flag"):
        LocalR2Server(extra_args=["filer.maxMB=8"])


@pytest.mark.integration
def test_extra_args_reach_weed() -> None:
    # The last flag wins in Go's flag package: switching auto-creation back on is observable.
    with start_local_server(extra_args=["-s3.autoCreateBucket=true"]) as srv:
        with _signed_client(srv) as client:
            put = client.put(srv.endpoint_url + "/auto-made/k", content=b"x")
        assert put.status_code == 200, put.text
        assert "auto-made" in _list_buckets(srv)


def test_server_dropped_while_running_warns_and_is_cleaned_up(tmp_path: Path) -> None:
    fake = _fake_weed(tmp_path, "exec sleep 60")
    srv = LocalR2Server(binary=fake)
    srv._launch()  # spawned, not waited for: enough to own a process and a directory
    pid, data_dir = srv.pid, srv.data_dir
    with pytest.warns(ResourceWarning, match="never stopped"):
        del srv
        gc.collect()
    assert _process_gone(pid)
    assert not data_dir.exists()


def test_servers_still_running_at_exit_are_stopped(tmp_path: Path) -> None:
    dir_file = tmp_path / "dir"
    fake = _fake_weed(tmp_path, "exec sleep 60")
    program = (
        "import sys\n"
        "from r2async.testing import LocalR2Server\n"
        f"srv = LocalR2Server(binary={str(fake)!r})\n"
        "srv._launch()\n"
        f"open({str(dir_file)!r}, 'w').write(f'{{srv.pid}} {{srv.data_dir}}')\n"
        "sys.exit(0)  # no stop(): the atexit hook must do it\n"
    )
    done = subprocess.run([sys.executable, "-c", program], timeout=60, capture_output=True)
    assert done.returncode == 0, done.stderr
    pid, data_dir = dir_file.read_text().split(" ", 1)
    assert _process_gone(int(pid))
    assert not Path(data_dir).exists()


def _wait_for_file(path: Path) -> str:
    """The content of a file a child process writes right after it starts."""
    for _ in range(100):  # bounded: 10 s
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.1)
    raise AssertionError(f"{path} was never written")
