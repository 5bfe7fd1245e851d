"""The production web server: gunicorn started with `config/gunicorn.py` serves the portal, logs one JSON line per
request without its query string, trusts X-Forwarded-Proto only when told it runs behind a proxy, and starts
without the metrics of an earlier run (but with those of the worker beside it)."""

import os
import runpy
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.servers import ROOT, access_records, gunicorn, production_env


def test_gunicorn_serves_the_portal_and_logs_requests_without_query_strings(tmp_path: Path) -> None:
    log = tmp_path / "gunicorn.log"
    with gunicorn(production_env(tmp_path, DJANGO_TRUSTED_PROXY_COUNT="1"), log) as origin:
        probe = requests.get(f"{origin}/healthz", allow_redirects=False, timeout=5)  # plain HTTP, from the host
        response = requests.get(
            f"{origin}/csp-report/?receipt=SECRET-RECEIPT",
            headers={"X-Forwarded-Proto": "https"},
            allow_redirects=False,
            timeout=5,
        )
        # The worker writes its access line after the answer has gone out: wait for it before stopping gunicorn.
        request_id = response.headers["X-Request-ID"]
        deadline = time.monotonic() + 10
        while not [r for r in access_records(log) if r["request_id"] == request_id] and time.monotonic() < deadline:
            time.sleep(0.1)
    assert probe.status_code == 200
    assert probe.json() == {"status": "ok"}
    # Served over "HTTPS" as the trusted proxy said (no redirect): the view's own answer to a GET.
    assert response.status_code == 405

    assert "SECRET-RECEIPT" not in log.read_text()
    assert "Control socket" not in log.read_text()  # no runtime control surface besides signals
    found = [r for r in access_records(log) if r["request_id"] == request_id]
    assert len(found) == 1, log.read_text()
    (record,) = found
    assert record["message"] == "request"
    assert record["method"] == "GET"
    assert record["path"] == "/csp-report/"
    assert record["status"] == 405
    assert isinstance(record["duration_ms"], float)


def test_gunicorn_ignores_forwarded_headers_when_no_proxy_is_trusted(tmp_path: Path) -> None:
    log = tmp_path / "gunicorn.log"
    with gunicorn(production_env(tmp_path, DJANGO_TRUSTED_PROXY_COUNT="0"), log) as origin:
        response = requests.get(f"{origin}/", headers={"X-Forwarded-Proto": "https"}, allow_redirects=False, timeout=5)
    # A client claiming HTTPS is still on plain HTTP: the portal redirects it.
    assert response.status_code == 301
    assert response.headers["Location"].startswith("https://")


def test_starting_drops_the_metrics_of_processes_gone_and_keeps_those_of_processes_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = subprocess.Popen(["true"])  # noqa: S607 - a process that has exited (its pid is free)
    gone.wait()
    directory = tmp_path / "metrics"
    directory.mkdir()
    earlier_run = directory / f"counter_{gone.pid}.db"
    running_worker = directory / f"histogram_{os.getpid()}.db"
    for path in (earlier_run, running_worker):
        path.write_bytes(b"")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))

    runpy.run_path(str(ROOT / "config" / "gunicorn.py"))["on_starting"](None)

    assert not earlier_run.exists()
    assert running_worker.exists()
