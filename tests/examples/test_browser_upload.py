"""The example's page in a real headless browser: a direct upload through a presigned URL.

Debian's Chromium (/usr/bin/chromium, installed by scripts/test) is driven by Playwright; no
browser is ever downloaded. The browser talks to two loopback origins: the FastAPI app (served by
uvicorn in a subprocess) and SeaweedFS, so the upload only works if the bucket's CORS rule, set
by the app through r2async at startup, lets the page's origin PUT.

A screenshot of the page after the upload is saved to test-artifacts/browser-upload.png.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from example_app import ARTIFACTS, ServedApp

from r2async import CORSRule, NoSuchKeyError, R2Client
from r2async.testing import LocalR2Server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 60_000
_T = TypeVar("_T")


@pytest.fixture(scope="module")
def served(s3_server: LocalR2Server) -> Iterator[ServedApp]:
    bucket = f"browser-{uuid.uuid4().hex[:12]}"
    s3_server.create_bucket(bucket)
    with ServedApp(s3_server, bucket) as app:
        yield app


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(
            "the browser test needs Debian's Chromium at /usr/bin/chromium "
            "(apt-get install chromium; scripts/test installs it)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


def _run(main: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    # Playwright's sync API keeps an asyncio loop running in this thread: run r2async in another.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def _stored(server: LocalR2Server, bucket: str, key: str) -> bytes | None:
    async def read() -> bytes | None:
        async with R2Client(**server.client_kwargs) as r2:
            try:
                return (await r2.get_object(bucket, key)).body
            except NoSuchKeyError:
                return None

    return _run(read)


def _set_cors(server: LocalR2Server, bucket: str, origin: str) -> None:
    async def put() -> None:
        async with R2Client(**server.client_kwargs) as r2:
            await r2.put_bucket_cors(
                bucket,
                [
                    CORSRule(
                        allowed_origins=[origin],
                        allowed_methods=["PUT", "GET", "HEAD"],
                        allowed_headers=["content-type", "if-none-match"],
                        expose_headers=["ETag"],
                    )
                ],
            )

    _run(put)


def _upload(page: object, path: Path) -> str:
    """Pick ``path`` on the page, press Upload, and return the final status text."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    page.set_input_files("#file", str(path))
    page.click("#upload")
    page.wait_for_selector("#status[data-state=ok], #status[data-state=error]", timeout=TIMEOUT_MS)
    return page.inner_text("#status")


def test_browser_uploads_through_a_presigned_url(
    served: ServedApp, browser: object, s3_server: LocalR2Server, tmp_path: Path
) -> None:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    data = os.urandom(3 * 1024 * 1024 + 123)
    name = "holiday photo é.bin"
    path = tmp_path / name
    path.write_bytes(data)

    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.goto(served.url + "/", timeout=TIMEOUT_MS)
        status = _upload(page, path)
        # The listing is refreshed after the upload; wait for the new row.
        page.wait_for_selector(f"#objects a:text-is('{name}')", timeout=TIMEOUT_MS)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "browser-upload.png"), full_page=True)
        row = page.inner_text("#objects tr:has(a:text-is('" + name + "'))")
    finally:
        page.close()

    etag = f'"{hashlib.md5(data).hexdigest()}"'
    assert status == f"Uploaded {name} ({len(data)} bytes, ETag {etag})", status
    assert str(len(data)) in row
    # The bytes landed in the bucket unchanged, read back through r2async.
    assert _stored(s3_server, served.bucket, name) == data
    # The file went straight to SeaweedFS (the signed URL), not through the app.
    s3_puts = [u for u in requests if u.startswith(s3_server.endpoint_url)]
    assert len(s3_puts) == 1 and "X-Amz-Signature=" in s3_puts[0]
    assert (ARTIFACTS / "browser-upload.png").stat().st_size > 1000


def test_browser_upload_is_refused_when_cors_does_not_allow_the_page(
    served: ServedApp, browser: object, s3_server: LocalR2Server, tmp_path: Path
) -> None:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    path = tmp_path / "refused.txt"
    path.write_bytes(b"should never arrive")
    # Another origin only: the browser's preflight for the page's PUT is refused.
    _set_cors(s3_server, served.bucket, "http://127.0.0.1:9")
    page = browser.new_page()
    try:
        page.goto(served.url + "/", timeout=TIMEOUT_MS)
        status = _upload(page, path)
    finally:
        page.close()
        _set_cors(s3_server, served.bucket, served.url)

    assert status == "Upload failed: Failed to fetch", status
    assert _stored(s3_server, served.bucket, "refused.txt") is None


def test_browser_cannot_overwrite(
    served: ServedApp, browser: object, s3_server: LocalR2Server, tmp_path: Path
) -> None:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    first = tmp_path / "first" / "same-name.txt"
    second = tmp_path / "second" / "same-name.txt"
    first.parent.mkdir()
    second.parent.mkdir()
    first.write_bytes(b"the original")
    second.write_bytes(b"a replacement")

    page = browser.new_page()
    try:
        page.goto(served.url + "/", timeout=TIMEOUT_MS)
        assert _upload(page, first).startswith("Uploaded same-name.txt")
        status = _upload(page, second)
    finally:
        page.close()

    assert status == (
        "Upload failed: an object named 'same-name.txt' already exists; objects are write-once"
    )
    assert _stored(s3_server, served.bucket, "same-name.txt") == b"the original"
