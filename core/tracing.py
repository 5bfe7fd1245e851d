"""OpenTelemetry traces: off unless OTEL_EXPORTER_OTLP_ENDPOINT is set; then Django requests, outbound HTTP
(requests: the MDES calls), Celery tasks and PostgreSQL queries become spans sent over OTLP/HTTP.

Called once per process before it serves: `config/wsgi.py` (each gunicorn worker imports it after the fork) and
Celery's worker_init (the SDK's batch processor restarts its thread in forked pool children).
"""

from django.conf import settings
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_configured = False


def tracing_configure(*, process: str) -> bool:
    """Export spans if an endpoint is configured; True when tracing is on. `process`: web, worker or beat."""
    if not settings.OTEL_EXPORTER_OTLP_ENDPOINT:
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    # The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT (and _HEADERS, _TIMEOUT) from the environment itself.
    tracing_start(BatchSpanProcessor(OTLPSpanExporter()), process=process)
    return True


def tracing_start(processor: SpanProcessor, *, process: str) -> None:
    """Install a tracer provider with `processor` and instrument the libraries (once per process)."""
    global _configured  # instrumenting twice would wrap every call twice
    if _configured:
        return
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor

    resource = Resource.create({"service.name": settings.OTEL_SERVICE_NAME, "service.instance.role": process})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument()
    RequestsInstrumentor().instrument()
    CeleryInstrumentor().instrument()
    PsycopgInstrumentor().instrument(enable_commenter=False)
    _configured = True


def current_trace_id() -> str | None:
    """The current span's trace id (32 hex digits), None outside a trace."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
