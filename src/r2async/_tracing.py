"""OpenTelemetry spans for operations and transfers, at no cost when tracing is off.

r2async never imports OpenTelemetry itself: tracing is on when the application has imported
``opentelemetry.trace`` and set a real tracer provider (``trace.set_tracer_provider(...)``);
otherwise :func:`tracer` answers None after a dictionary lookup and an ``isinstance``.

What a span carries (the semantic conventions for AWS S3 clients): name ``S3.<Operation>``,
kind CLIENT, ``rpc.system="aws-api"``, ``rpc.service="S3"``, ``rpc.method``,
``aws.s3.bucket``, ``aws.s3.key``, ``server.address``, ``server.port``, and when answered
``http.response.status_code`` and ``aws.request_id``; a failure sets the span's status to
ERROR with ``error.type`` (the exception's class name). Each retry is an event named ``retry``
on the operation's span (``r2async.attempt``, ``r2async.retry_in_s``, ``error.type``), not a
child span: one span per operation keeps traces readable when retries are rare. A transfer
(``upload_file``, ``download_file``, the streams) is one INTERNAL span whose operations
(``CreateMultipartUpload``, each ``UploadPart``, ...) are its children. No header, query string
or body is ever put in an attribute.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    import httpx

    from ._spec import RequestSpec

__all__ = ["retry_event", "traced", "tracer", "transfer", "transfer_span"]

_T = TypeVar("_T")
# (provider, tracer): the tracer of the provider seen last.
_CACHE: list[Any] = [None, None]


def tracer() -> Any:
    """The tracer to use, or None when no tracer provider is configured."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return None
    provider = trace.get_tracer_provider()
    if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
        return None
    if _CACHE[0] is not provider:
        from . import __version__

        _CACHE[1] = provider.get_tracer("r2async", __version__)
        _CACHE[0] = provider
    return _CACHE[1]


async def traced(
    active: Any,
    spec: RequestSpec,
    endpoint: httpx.URL,
    run: Callable[[Any], Awaitable[tuple[httpx.Response, _T]]],
) -> tuple[httpx.Response, _T]:
    """Run one operation (``run(span)``, all its attempts) inside a CLIENT span.

    Args:
        active: the tracer from :func:`tracer`.
        spec: the request (operation, bucket, key).
        endpoint: the endpoint (server address and port).
        run: the attempts; given the span, for retry events.
    """
    from opentelemetry.trace import SpanKind, Status, StatusCode

    attributes: dict[str, Any] = {
        "rpc.system": "aws-api",
        "rpc.service": "S3",
        "rpc.method": spec.operation,
        "server.address": endpoint.host,
    }
    if endpoint.port is not None:
        attributes["server.port"] = endpoint.port
    if spec.bucket is not None:
        attributes["aws.s3.bucket"] = spec.bucket
    if spec.key is not None:
        attributes["aws.s3.key"] = spec.key
    with active.start_as_current_span(
        f"S3.{spec.operation}",
        kind=SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            response, data = await run(span)
        except BaseException as exc:
            status = getattr(exc, "status_code", None)
            if isinstance(status, int):
                span.set_attribute("http.response.status_code", status)
            request_id = getattr(exc, "request_id", None)
            if isinstance(request_id, str):
                span.set_attribute("aws.request_id", request_id)
            span.set_attribute("error.type", type(exc).__name__)
            # The message names the operation, bucket and key only (no secrets); see _response.
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        span.set_attribute("http.response.status_code", response.status_code)
        from ._headers import request_id as find_request_id

        request_id = find_request_id(response.headers)
        if request_id:
            span.set_attribute("aws.request_id", request_id)
        return response, data


def retry_event(span: Any, attempt: int, delay: float, error: BaseException) -> None:
    """Record on ``span`` that attempt ``attempt`` failed and is retried after ``delay`` s."""
    span.add_event(
        "retry",
        {
            "r2async.attempt": attempt,
            "r2async.retry_in_s": delay,
            "error.type": type(error).__name__,
        },
    )


@contextmanager
def transfer_span(name: str, bucket: str, key: str) -> Iterator[Any]:
    """An INTERNAL span around a whole transfer (its operations become its children).

    Args:
        name: the transfer (``upload_file``, ``download_file``, ...).
        bucket: the bucket.
        key: the object key.
    """
    active = tracer()
    if active is None:
        yield None
        return
    from opentelemetry.trace import SpanKind, Status, StatusCode

    with active.start_as_current_span(
        f"r2async.{name}",
        kind=SpanKind.INTERNAL,
        attributes={
            "rpc.system": "aws-api",
            "rpc.service": "S3",
            "aws.s3.bucket": bucket,
            "aws.s3.key": key,
        },
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except BaseException as exc:
            span.set_attribute("error.type", type(exc).__name__)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


_P = ParamSpec("_P")
_R = TypeVar("_R")


def transfer(name: str) -> Callable[[Callable[_P, Awaitable[_R]]], Callable[_P, Awaitable[_R]]]:
    """Decorate a transfer method ``(self, bucket, key, ...)`` to run in a :func:`transfer_span`.

    Args:
        name: the span's name after ``r2async.`` (the method's name).
    """

    def decorate(method: Callable[_P, Awaitable[_R]]) -> Callable[_P, Awaitable[_R]]:
        @functools.wraps(method)
        async def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            if tracer() is None:
                return await method(*args, **kwargs)
            bucket = kwargs.get("bucket", args[1] if len(args) > 1 else "")
            key = kwargs.get("key", args[2] if len(args) > 2 else "")
            with transfer_span(name, str(bucket), str(key)):
                return await method(*args, **kwargs)

        return run

    return decorate
