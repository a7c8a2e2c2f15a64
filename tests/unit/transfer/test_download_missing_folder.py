"""download_file into a folder that does not exist names the folder, before any request."""

from __future__ import annotations

from pathlib import Path

import pytest
import respx

from r2async import R2Client

BASE = "https://acct.r2.cloudflarestorage.com"


async def test_missing_folder_is_named_and_nothing_is_sent(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "folder" / "file.bin"
    async with R2Client(account_id="acct", access_key_id="AKID", secret_access_key="s") as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.route().respond(500)
            with pytest.raises(FileNotFoundError, match="no/such/folder' does not exist"):
                await r2.download_file("bucket", "key", target)
            with pytest.raises(FileNotFoundError, match="does not exist"):
                await r2.download_file("bucket", "key", str(target), resume=True)
    assert route.call_count == 0
    assert not (tmp_path / "no").exists()
