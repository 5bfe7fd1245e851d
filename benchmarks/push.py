"""Benchmark: the push (POST /push/) at 16 concurrent cardholders, the portal's own time without the MDES call.

Gunicorn with the production settings, PostgreSQL, Redis, the sandbox as MDES. Each push's server time comes from
gunicorn's access log; the time of its pushMultipleAccounts call from the portal's own log line of that call
(same request id); the difference is the portal's time. Prints p50 and p99 of both (goal: portal time at most
10 / 30 ms). Commits and statements per push are pinned by tests/provisioning/test_push_flow.py.

    .venv/bin/python benchmarks/push.py [--pushes 320]

Needs PostgreSQL and Redis; gunicorn runs with config/gunicorn.py (see benchmarks/stack.py). It drops and
recreates the tables of BENCH_DATABASE_URL (default: the `portal_perf_bench` database). A full run takes about a
minute.
"""

import argparse
import math
import os
import secrets
import statistics
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import stack

ENV = stack.bench_env()
os.environ.update(ENV)

import django  # noqa: E402

django.setup()

import requests  # noqa: E402

from cardholders.models import Cardholder  # noqa: E402
from cardholders.services import card_create  # noqa: E402
from config import gunicorn as gunicorn_config  # noqa: E402 - the workers and threads the stack runs with
from provisioning.models import TokenRequestor  # noqa: E402
from provisioning.selectors import account_range_starts_active  # noqa: E402
from users.models import User  # noqa: E402

USERS_PER_THREAD = 3
PUSHES_PER_CARDHOLDER = 8  # under the 10 pushes per 10 minutes a cardholder may start
DEMOPAY = "50100000011"
CSRF = secrets.token_hex(16)  # 32 characters: a CSRF secret the cookie and the form both carry


def _luhn_completed(digits: str) -> str:
    total = 0
    for index, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return digits + str((10 - total % 10) % 10)


def _cardholders(count: int, first: int = 0) -> list[tuple[str, str]]:
    """(session key, card id) of `count` new cardholders, one card each, signed in and stepped up."""
    starts = account_range_starts_active()
    made = []
    for number in range(first, first + count):
        # No password (it would cost a PBKDF2 hash each): the sessions below are made signed in already.
        user = User.objects.create_user(email=f"bench-{number}@bench.example")
        holder = Cardholder.objects.create(user=user, preferred_locale="en_US")
        card = card_create(
            card_number=_luhn_completed(f"555555555{number:06d}"),
            account_range_starts=starts,
            expiry_month=12,
            expiry_year=2030,
            product_kind="debit",
            product_name="Bench Debit",
            cardholder=holder,
            program=None,
        )
        made.append((stack.stepped_up_session(user.pk, [str(card.public_id)]), str(card.public_id)))
    return made


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _push_concurrently(
    people: list[tuple[str, str]], requestor: TokenRequestor, per_thread: int, concurrent: int
) -> list[str]:
    """`concurrent` threads push `per_thread` times each, each for its own share of `people`; the pushes' request
    ids. Any push not sent on to the wallet ends the benchmark."""
    ids: list[str] = []
    failures: list[str] = []
    share = len(people) // concurrent

    def pushes(thread: int) -> None:
        with requests.Session() as http:
            for number in range(per_thread):
                person = thread * share + number % share
                session, card = people[person]
                answer = http.post(
                    f"{stack.PORTAL_URL}/push/",
                    data={
                        "csrfmiddlewaretoken": CSRF,
                        "card": card,
                        "token_requestor": requestor.pk,
                        "idempotency_key": secrets.token_urlsafe(16),
                    },
                    cookies={"sessionid": session, "csrftoken": CSRF},
                    headers={"X-Forwarded-For": f"198.51.100.{person + 1}"},  # one address per cardholder
                    allow_redirects=False,
                    timeout=60,
                )
                ids.append(answer.headers.get("X-Request-ID", ""))
                if answer.status_code != 302 or not answer.headers["Location"].startswith("http://127.0.0.1"):
                    failures.append(f"{answer.status_code} {answer.headers.get('Location', '')}")

    threads = [threading.Thread(target=pushes, args=(number,)) for number in range(concurrent)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{len(failures)} pushes failed, e.g. {failures[:3]}")
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pushes", type=int, default=320, help="measured, in all (a multiple of --concurrent)")
    parser.add_argument("--concurrent", type=int, default=16, help="cardholders pushing at once [16]")
    args = parser.parse_args()
    concurrent = args.concurrent
    if concurrent < 1 or args.pushes < concurrent:
        parser.error("--concurrent must be at least 1 and --pushes at least --concurrent")
    with stack.running_stack(ENV) as running:
        requestor = TokenRequestor.objects.get(trid=DEMOPAY)
        per_thread = args.pushes // concurrent
        # Enough cardholders that none is refused by the limit of pushes a cardholder may start in ten minutes.
        people = _cardholders(concurrent * max(USERS_PER_THREAD, math.ceil(per_thread / PUSHES_PER_CARDHOLDER)))
        # Unmeasured: each worker's first push opens the MDES keys and connections.
        _push_concurrently(_cardholders(concurrent, first=len(people)), requestor, 1, concurrent)
        cpu_before = stack.worker_cpu_seconds(running.gunicorn)
        measured = set(_push_concurrently(people, requestor, per_thread, concurrent))
        cpu_ms = (stack.worker_cpu_seconds(running.gunicorn) - cpu_before) * 1000 / len(measured)
    records = stack.log_records(running)  # once gunicorn has stopped: a worker logs a request after answering it
    # The server's time from gunicorn's access log, the MDES call's from the portal's own record of it.
    server_ms = {
        str(record["request_id"]): float(record["duration_ms"])
        for record in records
        if record.get("name") == "gunicorn.access" and record.get("path") == "/push/" and record.get("status") == 302
        if record.get("request_id") in measured
    }
    mdes_ms = {
        str(record["request_id"]): float(record["latency_ms"])
        for record in records
        if "pushMultipleAccounts" in str(record.get("message", "")) and "latency_ms" in record
    }
    portal_ms = [server_ms[key] - mdes_ms[key] for key in server_ms if key in mdes_ms]
    if not portal_ms:
        raise SystemExit(
            f"No push matched to its MDES call ({len(server_ms)} of {len(measured)} pushes in the access log, "
            f"{len(mdes_ms)} MDES calls in the portal's log): see {running.log}"
        )
    threads = gunicorn_config.threads
    workers = f"{gunicorn_config.workers} workers of {threads} thread{'' if threads == 1 else 's'}"
    print(
        f"{len(server_ms)} pushes at {concurrent} concurrent ({workers}), {len(portal_ms)} matched to their MDES"
        f" call; {cpu_ms:.1f} ms of worker CPU a push"
    )
    for name, values in (("server time", list(server_ms.values())), ("portal time without MDES", portal_ms)):
        p50, p99 = _percentile(values, 0.5), _percentile(values, 0.99)
        print(f"[{name}] p50 {p50:.1f} ms, p99 {p99:.1f} ms (mean {statistics.mean(values):.1f} ms)")
    print("goal: portal time p50 <= 10 ms, p99 <= 30 ms")


if __name__ == "__main__":
    main()
