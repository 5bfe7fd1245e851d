"""Traces: a push is one trace from the view through the MDES call (and its HTTP request), and the request id in
the logs and the response is that trace's id."""

from collections.abc import Iterator

import pytest
from django.test import Client
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from core import tracing
from tests.provisioning.test_push_flow import DEMOPAY, _push

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for this module's tests (requested before `portal`, whose client then has the middleware)."""
    exporter = InMemorySpanExporter()
    tracing.tracing_start(SimpleSpanProcessor(exporter), process="test")
    yield exporter
    for instrumentor in (DjangoInstrumentor(), RequestsInstrumentor(), CeleryInstrumentor(), PsycopgInstrumentor()):
        instrumentor.uninstrument()
    tracing._configured = False


def test_a_push_is_one_trace_from_the_view_through_the_mdes_call(spans, portal: Client, card) -> None:
    spans.clear()

    response = _push(portal, [card], DEMOPAY)

    assert response.status_code == 302
    finished = spans.get_finished_spans()
    view = next(
        s for s in finished if s.kind == SpanKind.SERVER and s.attributes.get("http.route", "").startswith("push")
    )
    mdes = next(s for s in finished if s.name == "MDES pushMultipleAccounts")
    http = next(
        s for s in finished if s.kind == SpanKind.CLIENT and s.parent and s.parent.span_id == mdes.context.span_id
    )

    assert view.attributes["http.method"] == "POST"
    assert mdes.parent is not None
    assert mdes.attributes["mdes.operation"] == "pushMultipleAccounts"
    assert mdes.attributes["mdes.status"] == "200"
    assert mdes.context.trace_id == view.context.trace_id == http.context.trace_id
    assert mdes.end_time > mdes.start_time
    # The id the logs and audit events carry, and the response shows, is the trace's.
    assert response["X-Request-ID"] == format(view.context.trace_id, "032x")
