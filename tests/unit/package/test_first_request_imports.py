"""What a fresh process's first request imports, and on which thread.

The XML parser is not imported with r2async (a 2xx GET/HEAD/PUT/DELETE never parses XML);
an error answer loads it in a worker thread before its ``<Error>`` document is parsed, so the
event loop does not wait for that import.
"""

from __future__ import annotations

import json
import subprocess
import sys

_RUN = """
import asyncio, json, sys, threading, httpx, respx

loaded_on = []

class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "xml.etree.ElementTree":
            loaded_on.append(threading.current_thread() is threading.main_thread())
        return None

sys.meta_path.insert(0, Watch())
from r2async import NoSuchKeyError, R2Client

def answer(request):
    if request.url.path.endswith("/missing"):
        return httpx.Response(404, content=b"<?xml version='1.0'?><Error><Code>NoSuchKey</Code>"
                              b"<Message>gone</Message><RequestId>r1</RequestId></Error>")
    return httpx.Response(200, content=b"x", headers={
        "etag": '"9dd4e461268c8034f5c8564e155c67a6"',
        "last-modified": "Wed, 21 Oct 2015 07:28:00 GMT"})

async def main():
    r2 = R2Client(endpoint_url="http://127.0.0.1:9", access_key_id="A", secret_access_key="S")
    out = []
    with respx.mock(base_url="http://127.0.0.1:9") as mock:
        mock.route().mock(side_effect=answer)
        for key in KEYS:
            try:
                out.append((await r2.get_object("bkt", key)).body.decode())
            except NoSuchKeyError as exc:
                out.append([exc.code, exc.message, exc.request_id])
            out.append("xml.etree.ElementTree" in sys.modules)
    await r2.aclose()
    return out

print(json.dumps([asyncio.run(main()), loaded_on]))
"""


def _run(keys: list[str]) -> list[object]:
    code = f"KEYS = {keys!r}\n" + _RUN
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    result: list[object] = json.loads(proc.stdout)
    return result


def test_a_first_answer_of_2xx_imports_no_xml_parser() -> None:
    out, loaded_on = _run(["k"])
    assert out == ["x", False]
    assert loaded_on in ([], [False])  # at most by the background loads, never on the loop


def test_a_first_error_answer_loads_the_parser_in_a_worker_thread() -> None:
    out, loaded_on = _run(["missing", "k"])
    assert out[:2] == [["NoSuchKey", "gone", "r1"], True]
    assert out[2] == "x"
    assert loaded_on == [False]
