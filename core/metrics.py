"""The portal's Prometheus figures, and their exposition (`/metrics`, internal callers only).

Labels carry only bounded, non-personal values: a token requestor's TRID, an operation or job name, an outcome or
error code from a fixed list. Never a card number, receipt, code, address or anyone's id.

Under gunicorn each worker process writes its own files in PROMETHEUS_MULTIPROC_DIR (which must be set before this
module is first imported); the exposition sums them (prometheus-client's multi-process mode).
"""

import os
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # The first figure below opens its file there: a worker or beat container has no gunicorn to make the directory.
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

PUSHES = Counter(
    "portal_pushes",
    "Pushes by token requestor, step (started, pushed, failed, redirected, returned) and outcome",
    ["requestor", "step", "outcome"],
)
MDES_REQUEST_SECONDS = Histogram(
    "portal_mdes_request_duration_seconds",
    "MDES calls by operation and HTTP status (or the transport failure)",
    ["operation", "status"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 15, 30),
)
MDES_ERRORS = Counter(
    "portal_mdes_errors", "MDES refusals and failures by operation and reason code", ["operation", "code"]
)
RECEIPTS_EXPIRED = Counter("portal_receipts_expired", "Push receipts marked expired by the sweep")
JOB_RUNS = Counter("portal_job_runs", "Background job runs by job and final state", ["job", "state"])
JOB_RUN_SECONDS = Histogram(
    "portal_job_run_duration_seconds",
    "Background job run durations by job",
    ["job"],
    buckets=(0.1, 0.5, 1, 5, 15, 30, 60, 120, 300),
)
ONE_TIME_CODES = Counter(
    "portal_one_time_codes", "One-time codes by outcome (sent, or the reason it was refused)", ["outcome"]
)
ONE_TIME_CODE_CHECKS = Counter(
    "portal_one_time_code_checks",
    "One-time codes entered, by outcome (accepted, or refused: wrong, expired, too_many_attempts)",
    ["outcome"],
)
RATE_LIMIT_REFUSALS = Counter("portal_rate_limit_refusals", "Requests refused by a rate limit, by action", ["action"])
API_THROTTLED = Counter("portal_api_throttled", "API requests refused by DRF throttling, by throttle scope", ["scope"])
ISSUER_SERVICE_SECONDS = Histogram(
    "portal_issuer_service_duration_seconds",
    "MDES's calls to the issuer services by operation and HTTP status",
    ["operation", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5),
)
ISSUER_SERVICE_REFUSALS = Counter(
    "portal_issuer_service_refusals", "Issuer service calls refused, by operation and error code", ["operation", "code"]
)
CELERY_TASKS = Counter("portal_celery_tasks", "Celery task outcomes by task", ["task", "outcome"])
CELERY_QUEUE_LAG_SECONDS = Histogram(
    "portal_celery_queue_lag_seconds",
    "Time from a task's publication (or its ETA, if later) to the start of its run, by task",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 30, 60, 300, 900),
)
WEBHOOK_ATTEMPTS = Counter(
    "portal_webhook_attempts",
    "Webhook attempts to the issuer's app backend by event type and outcome (delivered, will_retry, failed)",
    ["event_type", "outcome"],
)


def metrics_exposition() -> tuple[bytes, str]:
    """The text exposition of every figure (summed over processes in multi-process mode) and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
