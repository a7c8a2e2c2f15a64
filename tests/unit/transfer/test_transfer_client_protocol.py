"""Transfers reach the client only through the TransferClient Protocol, which R2Client fits."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import r2async
from r2async import R2Client
from r2async._transfer.client import TransferClient

PACKAGE = Path(r2async.__file__).resolve().parent / "_transfer"


def protocol_methods() -> list[str]:
    return [
        name
        for name, member in vars(TransferClient).items()
        if inspect.isfunction(member) and not name.startswith("_")
    ]


def test_r2client_accepts_every_argument_the_protocol_names() -> None:
    for name in protocol_methods():
        wanted = inspect.signature(getattr(TransferClient, name)).parameters
        actual = inspect.signature(getattr(R2Client, name)).parameters
        missing = [p for p in wanted if p not in actual]
        assert missing == [], f"R2Client.{name} lacks {missing}"
        assert inspect.iscoroutinefunction(getattr(R2Client, name)) == (
            inspect.iscoroutinefunction(getattr(TransferClient, name))
        ), name


def test_transfer_modules_never_import_the_client() -> None:
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert "_client" not in (node.module or ""), f"{path.name} imports {node.module}"
            elif isinstance(node, ast.Import):
                assert not any("_client" in a.name for a in node.names), path.name


def test_the_protocol_names_only_methods_transfers_call() -> None:
    source = "".join(p.read_text() for p in PACKAGE.glob("*.py") if p.name != "client.py")
    # Downloads hand the client to the shared MD5 check, which sends its HEAD.
    source += (PACKAGE.parent / "_md5_check.py").read_text()
    unused = [name for name in protocol_methods() if f".{name}(" not in source]
    assert unused == [], f"TransferClient names methods no transfer calls: {unused}"
