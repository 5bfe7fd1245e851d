"""gunicorn's configuration for the web process: `gunicorn -c config/gunicorn.py config.wsgi` (make serve, the image).

Everything tunable comes from the environment (README, "Configuration"); the defaults suit one container behind a
TLS proxy whose own timeouts are longer than ours, so the proxy never cuts a request gunicorn is still serving.
"""

import multiprocessing
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from gunicorn.glogging import Logger

from core.logging import scrub_log_text

bind = [os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")]  # every interface of the container; the proxy is in front
# Sync workers with threads: the MDES call blocks, threads keep a worker answering meanwhile.
workers = int(os.environ.get("GUNICORN_WORKERS") or multiprocessing.cpu_count() * 2 + 1)
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
worker_class = "gthread"
# A request may wait for MDES (connect 3 s + read 10 s, retried): 30 s is enough and below a proxy's usual 60 s.
timeout = int(os.environ.get("GUNICORN_TIMEOUT_SECONDS") or 30)
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT_SECONDS") or 25)  # SIGTERM: finish, then stop
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE_SECONDS") or 5)
# Recycling workers now and then bounds any slow leak; the jitter keeps them from restarting together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 2000)
max_requests_jitter = max_requests // 10
limit_request_line = 8190
# X-Forwarded-* only from the proxy, and only when the portal is told it runs behind one (DJANGO_TRUSTED_PROXY_COUNT).
forwarded_allow_ips = (
    os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
    if int(os.environ.get("DJANGO_TRUSTED_PROXY_COUNT") or 0)
    else ""
)
proxy_allow_ips = ""
# gunicorn's runtime control socket (`gunicornc`) is not how the orchestrator manages processes (signals are), and
# every gunicorn of a host sharing one HOME would claim the same path.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("PORTAL_LOG_LEVEL", "INFO").lower()
# One JSON object a line, like the portal's own records, card numbers and link tokens masked.
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_card_numbers": {"()": "core.logging.MaskCardNumbersFilter"}},
    "formatters": {
        "json": {
            "()": "core.logging.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "json_ensure_ascii": False,
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["mask_card_numbers"]},
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}


class JsonAccessLogger(Logger):
    """The access log without query strings or referrers: receipts, callback signatures and tokens travel there."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> None:
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        headers = dict((name.lower(), value) for name, value in resp.headers)
        self.access_log.info(
            "request",
            extra={
                "method": environ.get("REQUEST_METHOD", ""),
                "path": scrub_log_text(environ.get("PATH_INFO", "")),
                "status": int(status),
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "remote_addr": environ.get("REMOTE_ADDR", ""),
                "request_id": headers.get("x-request-id", ""),
                "user_agent": environ.get("HTTP_USER_AGENT", "")[:200],
            },
        )


logger_class = JsonAccessLogger


def on_starting(server: Any) -> None:
    """Prometheus' multi-process files of an earlier run would add their counts to this one's. Files of processes
    still running stay: `make serve` starts the Celery worker, which shares the directory, beside gunicorn."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    for path in Path(directory).glob("*.db"):  # <kind>_<pid>.db
        pid = path.stem.rsplit("_", 1)[-1]
        if not (pid.isdigit() and _running(int(pid))):
            path.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def child_exit(server: Any, worker: Any) -> None:
    """A recycled worker's live gauges must not be summed forever."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
