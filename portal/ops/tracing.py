"""OpenTelemetry traces: a span per GraphQL operation and per SQL statement, sent over OTLP/HTTP.

On only when an endpoint is configured, with the standard variables (OTEL_EXPORTER_OTLP_ENDPOINT or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, and OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_HEADERS… as the SDK reads
them; OTEL_SDK_DISABLED=true turns it off). Otherwise nothing of OpenTelemetry is even imported.
Spans never carry the query text or field arguments: a password or token may be written in either.
"""
import logging
import os
from collections.abc import Generator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry import Schema

logger = logging.getLogger("portal.tracing")
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


def tracing_endpoint() -> str | None:
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    return next((os.environ[name] for name in ENDPOINT_VARIABLES if os.environ.get(name, "").strip()), None)


def enable_tracing(schema: Schema, engines: list[AsyncEngine]) -> bool:
    """Trace GraphQL operations and the engines' statements, if an OTLP endpoint is configured."""
    endpoint = tracing_endpoint()
    if endpoint is None:
        return False
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if not isinstance(trace.get_tracer_provider(), TracerProvider):  # once per process
        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "customer-portal")})
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
    # The instrumentor declares SQLAlchemy < 2.1, but only hooks the engine's documented events, as in 2.0.
    SQLAlchemyInstrumentor().instrument(engines=[engine.sync_engine for engine in engines], enable_commenter=False,
                                        skip_dep_check=True)
    extension = _operation_spans()
    if not any(getattr(existing, "__name__", None) == extension.__name__ for existing in schema.extensions):
        schema.extensions = (extension, *schema.extensions)
    logger.info("tracing to %s", endpoint)
    return True


def _operation_spans() -> type:
    from opentelemetry.trace import SpanKind, use_span
    from strawberry.extensions.tracing import OpenTelemetryExtension
    from strawberry.extensions.tracing.opentelemetry import LifecycleStep

    class PortalOperationSpans(OpenTelemetryExtension):
        """Strawberry's spans, without the query text (a password may be written in it) or any argument."""

        def __init__(self, **options: Any) -> None:
            super().__init__(arg_filter=lambda _arguments, _info: {}, **options)

        def on_operation(self) -> Generator[None, None, None]:
            context = self.execution_context
            span = self._tracer.start_span(f"GraphQL {context.operation_name or 'operation'}", kind=SpanKind.SERVER)
            span.set_attribute("component", "graphql")
            self._span_holder[LifecycleStep.OPERATION] = span
            try:
                with use_span(span, end_on_exit=False):  # the current span: SQL statements are its children
                    yield
            finally:
                if context.operation_type is not None:
                    span.set_attribute("graphql.operation.type", context.operation_type.value)
                if context.operation_name:
                    span.update_name(f"GraphQL {context.operation_name}")
                span.end()

    return PortalOperationSpans
