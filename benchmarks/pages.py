"""Benchmark: the wallet-choice page against a hello-world view, under wrk, on gunicorn with the production settings.

Signed in and stepped up (a real session row), DEBUG off, PostgreSQL, Redis, the sandbox's token requestors.
Rounds alternate hello and wallet page, so that load from others on the machine hits both alike; prints the
median requests per second of each, worker CPU per request, and the ratio (goal: at least 0.5).

    .venv/bin/python benchmarks/pages.py [--rounds 5 --seconds 10]

Needs wrk (`apt-get install wrk`), PostgreSQL and Redis. gunicorn runs with config/gunicorn.py, its workers
recycled never (GUNICORN_MAX_REQUESTS=0 unless set: see benchmarks/stack.py). It drops and recreates the tables
of BENCH_DATABASE_URL (default: the `portal_perf_bench` database). A full run takes about 2 minutes.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import stack

ENV = stack.bench_env()
os.environ.update(ENV)

import django  # noqa: E402

django.setup()

from cardholders.models import Card  # noqa: E402


def wrk(url: str, cookie: str, seconds: int) -> tuple[float, int]:
    """Requests per second and requests made (non-2xx answers make the run fail)."""
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "-H", f"Cookie: {cookie}", url]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in output:
        raise SystemExit(f"{url} answered with errors:\n{output}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if rate is None or total is None:
        raise SystemExit(f"wrk printed no figures:\n{output}")
    if int(total.group(1)) == 0:
        raise SystemExit(f"{url} answered no request within {seconds} s:\n{output}")
    return float(rate.group(1)), int(total.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=10, help="of each wrk run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    print(
        f"gunicorn -c config/gunicorn.py: {ENV.get('GUNICORN_WORKERS') or 'default'} workers, "
        f"{ENV.get('GUNICORN_THREADS') or 'default'} threads, max_requests {ENV['GUNICORN_MAX_REQUESTS']}",
        flush=True,
    )
    with stack.running_stack(ENV) as running:
        card = Card.objects.filter(cardholder__user__email="alice@demo.example").order_by("id").first()
        assert card is not None
        assert card.cardholder is not None
        session = stack.stepped_up_session(card.cardholder.user_id, [str(card.public_id)])
        cookie = f"sessionid={session}"
        urls = {
            "hello": f"{stack.PORTAL_URL}/__bench__/hello/",
            "wallet page": f"{stack.PORTAL_URL}/wallets/?card={card.public_id}",
        }
        for url in urls.values():  # warm up: connections, caches, imports
            wrk(url, cookie, 2)
        rates: dict[str, list[float]] = {name: [] for name in urls}
        cpu: dict[str, list[float]] = {name: [] for name in urls}
        for number in range(args.rounds):
            for name, url in urls.items():
                before, boots = stack.worker_cpu_seconds(running.gunicorn), stack.worker_boots(running)
                rate, requests = wrk(url, cookie, args.seconds)
                cpu[name].append((stack.worker_cpu_seconds(running.gunicorn) - before) / requests * 1000)
                rates[name].append(rate)
                restarts = stack.worker_boots(running) - boots
                print(
                    f"round {number + 1} {name}: {rate:,.0f} req/s, {cpu[name][-1]:.2f} ms worker CPU per request"
                    + (f" ({restarts} workers restarted meanwhile, their start-up included)" if restarts else "")
                )
    medians = {name: statistics.median(values) for name, values in rates.items()}
    for name in urls:
        print(f"[{name}] median {medians[name]:,.0f} req/s, {statistics.median(cpu[name]):.2f} ms CPU per request")
    print(f"wallet page / hello = {medians['wallet page'] / medians['hello']:.3f} (goal: at least 0.5)")


if __name__ == "__main__":
    main()
