"""OpenTelemetry spans against SeaweedFS, read back from the SDK's in-memory exporter."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from tests.support.r2_answers import object_headers

from r2async import NoSuchKeyError, R2Client, _retry, _tracing
from r2async.testing import LocalR2Server

MiB = 1024 * 1024


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """A configured tracer provider for one test, the process's globals restored after."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    # OpenTelemetry sets its global provider once per process; its own tests reset these two
    # globals the same way (opentelemetry.test.globals_test).
    saved = (trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE._done)
    trace._TRACER_PROVIDER_SET_ONCE._done = False
    trace.set_tracer_provider(provider)
    try:
        yield exporter
    finally:
        trace._TRACER_PROVIDER, trace._TRACER_PROVIDER_SET_ONCE._done = saved
        provider.shutdown()


@pytest.fixture(scope="module")
def trace_bucket(s3_server: LocalR2Server) -> str:
    name = f"trace-{uuid.uuid4().hex[:20]}"
    s3_server.create_bucket(name)
    return name


def _by_name(finished: tuple[ReadableSpan, ...]) -> dict[str, list[ReadableSpan]]:
    out: dict[str, list[ReadableSpan]] = {}
    for span in finished:
        out.setdefault(span.name, []).append(span)
    return out


def _no_secrets_or_wire_details(finished: tuple[ReadableSpan, ...], secret: str) -> None:
    for span in finished:
        for value in (span.attributes or {}).values():
            text = str(value)
            assert secret not in text and "X-Amz-" not in text and "AWS4-HMAC" not in text


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_each_operation_is_a_client_span_with_the_s3_conventions(
    s3_server: LocalR2Server, trace_bucket: str, transport: str, spans: InMemorySpanExporter
) -> None:
    key = f"{transport}/obj"
    async with R2Client(**s3_server.client_kwargs, transport=transport) as r2:  # type: ignore[arg-type]
        await r2.put_object(trace_bucket, key, b"traced")
        await r2.get_object(trace_bucket, key)
        await r2.head_object(trace_bucket, key)
        await r2.list_objects(trace_bucket, prefix=f"{transport}/")
        with pytest.raises(NoSuchKeyError):
            await r2.get_object(trace_bucket, f"{transport}/missing")
    finished = spans.get_finished_spans()
    names = [s.name for s in finished]
    assert names == [
        "S3.PutObject",
        "S3.GetObject",
        "S3.HeadObject",
        "S3.ListObjectsV2",
        "S3.GetObject",
    ]
    endpoint = httpx.URL(s3_server.endpoint_url)
    put = finished[0]
    assert put.kind is SpanKind.CLIENT
    attributes = dict(put.attributes or {})
    assert attributes["rpc.system"] == "aws-api"
    assert attributes["rpc.service"] == "S3"
    assert attributes["rpc.method"] == "PutObject"
    assert attributes["aws.s3.bucket"] == trace_bucket
    assert attributes["aws.s3.key"] == key
    assert attributes["server.address"] == endpoint.host
    assert attributes["server.port"] == endpoint.port
    assert attributes["http.response.status_code"] == 200
    assert isinstance(attributes["aws.request_id"], str) and attributes["aws.request_id"]
    assert put.status.status_code is StatusCode.UNSET
    listed = dict(finished[3].attributes or {})
    assert "aws.s3.key" not in listed and listed["aws.s3.bucket"] == trace_bucket
    failed = finished[4]
    assert failed.status.status_code is StatusCode.ERROR
    assert dict(failed.attributes or {})["error.type"] == "NoSuchKeyError"
    assert dict(failed.attributes or {})["http.response.status_code"] == 404
    _no_secrets_or_wire_details(finished, s3_server.client_kwargs["secret_access_key"])


async def test_a_multipart_transfer_is_one_parent_span_with_its_parts_as_children(
    s3_server: LocalR2Server, trace_bucket: str, spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(11 * MiB))
    async with R2Client(**s3_server.client_kwargs) as r2:
        await r2.upload_file(trace_bucket, "big.bin", source, part_size=5 * MiB, threshold=5 * MiB)
        await r2.download_file(trace_bucket, "big.bin", tmp_path / "copy.bin", part_size=5 * MiB)
    assert (tmp_path / "copy.bin").read_bytes() == source.read_bytes()
    by_name = _by_name(spans.get_finished_spans())
    (upload,) = by_name["r2async.upload_file"]
    (download,) = by_name["r2async.download_file"]
    assert upload.kind is SpanKind.INTERNAL
    assert dict(upload.attributes or {})["aws.s3.key"] == "big.bin"
    upload_id = upload.context.span_id
    children = {
        s.name
        for s in spans.get_finished_spans()
        if s.parent is not None and s.parent.span_id == upload_id
    }
    assert children == {
        "S3.CreateMultipartUpload",
        "S3.UploadPart",
        "S3.CompleteMultipartUpload",
    }
    assert (
        sum(1 for s in by_name["S3.UploadPart"] if s.parent and s.parent.span_id == upload_id) == 3
    )
    reads = [
        s
        for s in by_name["S3.GetObject"]
        if s.parent is not None and s.parent.span_id == download.context.span_id
    ]
    assert len(reads) == 3  # the first part, then the two others


async def test_each_retry_is_an_event_on_the_operations_span(
    spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_sleep(delay: float) -> None:
        return None

    monkeypatch.setattr(_retry, "sleep", no_sleep)
    base = "https://acct.r2.cloudflarestorage.com"
    async with R2Client(account_id="acct", access_key_id="AKID", secret_access_key="S") as r2:
        with respx.mock(base_url=base) as mock:
            mock.get("/bkt/k").mock(
                side_effect=[
                    httpx.Response(503),
                    httpx.Response(503),
                    httpx.Response(200, headers=object_headers()),
                ]
            )
            await r2.get_object("bkt", "k")
    (span,) = spans.get_finished_spans()
    assert [e.name for e in span.events] == ["retry", "retry"]
    assert [dict(e.attributes or {})["r2async.attempt"] for e in span.events] == [1, 2]
    assert dict(span.events[0].attributes or {})["error.type"] == "InternalServerError"
    assert dict(span.attributes or {})["http.response.status_code"] == 200


def test_without_a_configured_provider_nothing_is_traced() -> None:
    # The API is imported (by this module) but no provider is set: the proxy answers.
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)
    assert _tracing.tracer() is None
