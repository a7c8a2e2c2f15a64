"""The FastAPI example streams: 200 MiB through uvicorn keep the server process's memory bounded.

uvicorn runs the example in a subprocess against the local SeaweedFS; the test reads the
process's resident memory from /proc/<pid>/status (VmRSS now, VmHWM the peak so far) before and
after each transfer. Holding the body would add at least 200 MiB; streaming adds a few MiB.
"""

from __future__ import annotations

import hashlib
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest
from example_app import ServedApp, read_status

from r2async.testing import LocalR2Server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/status"),
]

MiB = 1024 * 1024
SIZE = 200 * MiB
# Far below the 200 MiB a buffered body would cost; above the streaming buffers (for chunked
# uploads two 8 MiB parts in flight) plus allocator noise.
BOUND = 64 * MiB


def _body(size: int, sha: hashlib._Hash) -> Iterator[bytes]:
    """``size`` bytes of non-repeating data, 1 MiB at a time, hashed as they are produced."""
    block = hashlib.sha256(b"seed").digest() * (MiB // 32)
    for index in range(size // MiB):
        chunk = index.to_bytes(8, "big") + block[8:]
        sha.update(chunk)
        yield chunk


@pytest.fixture(scope="module")
def served(s3_server: LocalR2Server) -> Iterator[ServedApp]:
    bucket = f"memory-{uuid.uuid4().hex[:12]}"
    s3_server.create_bucket(bucket)
    with ServedApp(s3_server, bucket) as app:
        with httpx.Client(base_url=app.url, timeout=120.0, trust_env=False) as client:
            # Warm up: the first requests import and allocate what every later one reuses.
            assert client.put("/api/objects/warmup", content=b"w" * MiB).status_code == 201
            assert len(client.get("/api/objects/warmup").content) == MiB
        yield app


def _growth(app: ServedApp, before: dict[str, int]) -> int:
    after = read_status(app.pid)
    return after["VmHWM"] - before["VmRSS"]


def test_streaming_upload_with_content_length(served: ServedApp) -> None:
    sha = hashlib.sha256()
    before = read_status(served.pid)
    with httpx.Client(base_url=served.url, timeout=300.0, trust_env=False) as client:
        response = client.put(
            "/api/objects/big-declared.bin",
            content=_body(SIZE, sha),
            headers={"Content-Length": str(SIZE), "Content-Type": "application/octet-stream"},
        )
    growth = _growth(served, before)

    assert response.status_code == 201, response.text
    assert response.json()["size"] == SIZE
    assert growth < BOUND, f"peak RSS grew by {growth / MiB:.1f} MiB during a 200 MiB upload"

    # And it is all there: download it back through the streaming endpoint, also bounded.
    before = read_status(served.pid)
    received = hashlib.sha256()
    total = 0
    with (
        httpx.Client(base_url=served.url, timeout=300.0, trust_env=False) as client,
        client.stream("GET", "/api/objects/big-declared.bin") as download,
    ):
        assert download.status_code == 200
        assert download.headers["content-length"] == str(SIZE)
        for chunk in download.iter_raw():
            received.update(chunk)
            total += len(chunk)
    growth = _growth(served, before)

    assert total == SIZE
    assert received.hexdigest() == sha.hexdigest()
    assert growth < BOUND, f"peak RSS grew by {growth / MiB:.1f} MiB during a 200 MiB download"


def test_streaming_upload_of_unknown_length(served: ServedApp) -> None:
    sha = hashlib.sha256()
    before = read_status(served.pid)
    with httpx.Client(base_url=served.url, timeout=300.0, trust_env=False) as client:
        # A generator without Content-Length goes out chunked: the app uploads it multipart.
        response = client.put("/api/objects/big-chunked.bin", content=_body(SIZE, sha))
    growth = _growth(served, before)

    assert response.status_code == 201, response.text
    assert response.json()["size"] == SIZE
    assert response.json()["etag"].endswith('-25"')  # 25 parts of 8 MiB
    assert growth < BOUND, f"peak RSS grew by {growth / MiB:.1f} MiB during a 200 MiB upload"
